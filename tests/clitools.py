"""Helpers shared by the tests: run the real hpo-run in a subprocess."""

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


