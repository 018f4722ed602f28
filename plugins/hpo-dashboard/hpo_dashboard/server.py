"""Run the app with uvicorn on a socket we bind ourselves, so ``--port 0`` can say which
port it got before the first request."""

from __future__ import annotations

import threading

import click

from hpo_framework.results import open_storage


def serve(storage: str, host: str, port: int) -> None:
    import socket  # here: hpo-run --help loads this module

    import uvicorn

    from .app import create_app

    open_storage(storage).close()  # a missing or foreign file: one line, before listening
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(64)
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    click.echo(f"dashboard: http://{shown}:{actual}/ (read only over {storage}; Ctrl-C stops "
               "it)", err=False)
    threading.Thread(target=_warm_up, daemon=True, name="warm-up").start()
    config = uvicorn.Config(create_app(storage), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])


def _warm_up() -> None:
    """Import what the first figures need (scikit-learn's forest for the importances takes
    seconds) while the server starts and the user opens a page, not on the first poll."""
    try:
        import numpy  # noqa: F401
        import sklearn.ensemble  # noqa: F401
        import sklearn.inspection  # noqa: F401

        import hpo_framework.results.importance  # noqa: F401
        import hpo_framework.results.interactive  # noqa: F401
    except ImportError:  # the importances say what is missing when asked
        pass
