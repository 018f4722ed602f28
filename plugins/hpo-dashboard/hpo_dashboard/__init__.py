"""hpo-framework plugin: ``hpo-run dashboard``, a live web view of a storage file.

Only click is imported here, so that ``hpo-run --help`` stays fast; Starlette and uvicorn
are imported when the command runs (plotly.js is a file in ``static/``).
"""

from __future__ import annotations

import click

from hpo_framework.contracts.hookspecs import hookimpl

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command("dashboard")
@click.option("--storage", default="hpo.db", show_default=True,
              help="SQLite file of the studies (read only, never written).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but localhost shows the studies to that "
                   "network.")
@click.option("--port", default=8080, show_default=True, type=int,
              help="Port to listen on (0: any free one, printed at start).")
def dashboard_command(storage: str, host: str, port: int) -> None:
    """Serve a live dashboard of the studies in --storage (read only; Ctrl-C stops it)."""
    from hpo_framework.errors import HPOError

    from .server import serve

    if not 0 <= port <= 65535:
        raise click.ClickException(f"--port must be from 0 to 65535 (0: any free port), got "
                                   f"{port}")
    if host not in LOCAL_HOSTS:
        click.echo(f"warning: listening on {host}: the studies in {storage} (parameters, scores, "
                   "errors) become visible to every machine that can reach it", err=True)
    try:
        serve(storage, host, port)
    except HPOError as exc:
        raise click.ClickException(str(exc)) from None


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(dashboard_command)
