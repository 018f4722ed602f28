"""Helpers shared by the tests: run the real hpo-run in a subprocess, register a plugin."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_cli(*args, cwd=None, env=None, timeout=600, check=False):
    """Run the installed hpo-run console script in a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [str(BIN / "hpo-run"), *map(str, args)], cwd=cwd, env=full_env, capture_output=True,
        text=True, timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"hpo-run {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc




def modules_after(*args):
    """hpo-run ARGS run in a fresh interpreter (in-process, as the console script does):
    its output, and the set of modules it had imported by the end."""
    import textwrap

    code = textwrap.dedent(f"""
        import sys
        from hpo_framework.cli import cli
        try:
            cli.main({list(map(str, args))!r}, prog_name="hpo-run", standalone_mode=False)
        except SystemExit:
            pass
        print("MODULES=" + ",".join(sorted(sys.modules)))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    *out, last = proc.stdout.rstrip("\n").split("\n")
    assert last.startswith("MODULES="), proc.stdout
    return "\n".join(out), set(last.removeprefix("MODULES=").split(","))


def check_library_bounds(ranges, fitted, refused, step, past_taken=()):
    """Each interval of a backend's ``parameter_ranges()`` lies where its library draws the
    bound: ``fitted(param, value)`` takes a closed end and raises ``refused`` one ``step``
    past it; it raises ``refused`` at an open end and takes a value one ``step`` inside.
    ``step(param, end, kept)`` says how far one step is; ``past_taken``: parameters whose
    value past the bound the library takes (the backend refuses it itself)."""
    import math

    import pytest

    from hpo_framework.contracts.backend import parse_interval

    for param, text in ranges.items():
        low, high, low_kept, high_kept = parse_interval(text)
        for end, kept, inward in ((low, low_kept, 1), (high, high_kept, -1)):
            if not math.isfinite(end):
                continue
            s = step(param, end, kept)
            fitted(param, end if kept else end + inward * s)
            if param not in past_taken:
                with pytest.raises(refused):  # an open end itself, else just past it
                    fitted(param, end - inward * s if kept else end)


def assert_space_within(space, ranges, every=False):
    """Each parameter of ``space`` (the schema) with a range has its low and high in it;
    ``every``: every parameter of the space has one."""
    from hpo_framework.contracts.backend import in_interval, parse_interval

    if every:
        assert set(space) <= set(ranges), sorted(set(space) - set(ranges))
    for param, spec in space.items():
        if param in ranges:
            assert in_interval(spec["low"], parse_interval(ranges[param])), param
            assert in_interval(spec["high"], parse_interval(ranges[param])), param


def copy_storage(source, dest):
    """Copy a finished study's SQLite file (and any sidecar its driver left) to ``dest``:
    a test gets its own copy of a study a module ran once."""
    import shutil

    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{source}{suffix}")
        if part.exists():
            shutil.copyfile(part, Path(f"{dest}{suffix}"))
    return dest


def fake_distribution(tmp_path, dist, entry_points, modules):
    """A real installed-distribution layout (dist-info + modules) on a PYTHONPATH dir: the
    path a third-party plugin takes, without pip."""
    import textwrap

    site = tmp_path / "site"
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    info.joinpath("METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    info.joinpath("entry_points.txt").write_text(f"[hpo_framework]\n{lines}\n")
    for name, text in modules.items():
        site.joinpath(f"{name}.py").write_text(textwrap.dedent(text))
    return site


def alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie is dead for our purposes)."""
    from pathlib import Path

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(predicate, what, proc=None, limit=300.0):
    """Poll ``predicate()`` until it returns something true, and return that: tests wait
    for an event (a row recorded, a process gone), never for a fixed time. ``limit`` only
    bounds a test that would otherwise hang; ``proc``, a driver that must stay alive."""
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the driver exited while waiting for {what}: "
                                 f"{proc.stderr.read() if proc.stderr else ''}")
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"no {what} within {limit}s")


def popen_interruptible(args, **kwargs):
    """``subprocess.Popen`` of a driver that a test will Ctrl-C (SIGINT): the child gets
    SIGINT's default disposition even when this process was started with it ignored (a
    background job of a non-interactive shell, ``nohup``), which the child would inherit
    and so never see the signal."""
    import signal

    before = signal.getsignal(signal.SIGINT)
    if before == signal.SIG_IGN:  # a handler (not "ignore") is reset to the default by exec
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(args, **kwargs)
    finally:
        if before == signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def registered(strategy_cls):
    """A strategy registered by a plugin for the length of the block."""
    import hpo_framework as hpo

    class P:
        @hpo.hookimpl
        def register_strategies(self, register):
            register(strategy_cls)

    registry = hpo.get_registry()
    registry.register(P(), name=f"{strategy_cls.name}-plugin")
    try:
        yield
    finally:
        registry.unregister(f"{strategy_cls.name}-plugin")
