"""Wall time of `hpo-run --help` and `hpo-run --list-plugins` (goal: --help under 0.2 s).

    .venv/bin/python benchmarks/cli_startup.py [--runs 20]

Runs each command in a fresh process, prints min and median, and checks that no heavy
library was imported on the way. Bytecode caching is on, as in a user's install (the
sandbox this project is built in sets PYTHONDONTWRITEBYTECODE=1, which makes every start
compile ~50 modules from source: about 60 ms more); one untimed run warms the cache.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
HEAVY = ("tensorflow", "keras", "sklearn", "skopt", "deap", "dask", "distributed", "matplotlib")


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_command(args: list[str], runs: int) -> list[float]:
    subprocess.run([str(BIN / "hpo-run"), *args], capture_output=True, check=True, env=ENV)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(BIN / "hpo-run"), *args], capture_output=True, check=True,
                       env=ENV)
        times.append(time.perf_counter() - start)
    return times


def heavy_imports(args: list[str]) -> list[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", str(BIN / "hpo-run"), *args],
                          capture_output=True, text=True, check=True)
    found = set()
    for line in proc.stderr.splitlines():
        name = line.rsplit("|", 1)[-1].strip()
        if name.split(".")[0] in HEAVY:
            found.add(name.split(".")[0])
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print("| command | min s | median s | heavy imports |")
    print("|---|---|---|---|")
    for args in (["--help"], ["--list-plugins"]):
        times = time_command(args, runs)
        print(f"| hpo-run {' '.join(args)} | {min(times):.3f} | {statistics.median(times):.3f} "
              f"| {', '.join(heavy_imports(args)) or 'none'} |")


if __name__ == "__main__":
    main()
