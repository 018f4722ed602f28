"""Benchmark: does a trial cost the same at trial 100,000 as at trial 1,000?

``random`` (ours) through ``hpo.optimize`` on a free 2-D objective, in memory and on
SQLite, at 1,000 / 10,000 / 100,000 trials, against Optuna's ``RandomSampler`` in memory
(``study.optimize``) in the same run. Reported per run: CPU ms per trial in the second
and in the last quarter (the first quarter holds the start-up) and their ratio (flat is
1.0), the whole run's CPU and wall seconds, and the peak resident memory of the process
after the run (``ru_maxrss``; each run is its own process, so peaks do not mix)::

    nice .venv/bin/python benchmarks/scale.py                  # 1k, 10k, 100k
    nice .venv/bin/python benchmarks/scale.py --trials 1000,10000 --write

CPU time is what a shared machine does not inflate; every library here runs on one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SPACE = {"x": {"type": "float", "low": -5.0, "high": 5.0},
         "y": {"type": "float", "low": -5.0, "high": 5.0}}


def one(method: str, trials: int) -> dict:
    """Run in a child process: one method, one budget."""
    import resource

    stamps: list[float] = []
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    if method == "optuna-memory":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

        def objective(trial):
            x, y = trial.suggest_float("x", -5, 5), trial.suggest_float("y", -5, 5)
            stamps.append(time.process_time())
            return x * x + y * y

        study.optimize(objective, n_trials=trials)
    else:
        import hpo_framework as hpo

        storage = None
        if method == "ours-sqlite":
            storage = os.path.join(tempfile.mkdtemp(), "scale.db")

        def cb(study, trial):
            stamps.append(time.process_time())

        hpo.optimize(lambda p: p["x"] ** 2 + p["y"] ** 2, SPACE, strategy="random",
                     n_trials=trials, seed=0, callbacks=[cb],
                     **({"storage": storage} if storage else {}))
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    q = len(stamps) // 4

    def per_trial(a: int, b: int) -> float:
        return 1000 * (stamps[b] - stamps[a]) / (b - a)

    second, last = per_trial(q, 2 * q), per_trial(3 * q, len(stamps) - 1)
    return {"method": method, "trials": trials, "second_quarter_ms": round(second, 4),
            "last_quarter_ms": round(last, 4), "ratio": round(last / second, 3),
            "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="1000,10000,100000")
    parser.add_argument("--methods", default="ours-memory,ours-sqlite,optuna-memory")
    parser.add_argument("--write", action="store_true", help="write results/scale.md")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    load = os.getloadavg()[0]
    header = (f"{platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
              f"{platform.python_version()}, load average {load:.1f} at the start")
    print(header, flush=True)
    rows = []
    for trials in [int(t) for t in args.trials.split(",")]:
        for method in args.methods.split(","):
            if method == "optuna-memory" and trials > 10000:
                continue  # the goal compares with Optuna at 10,000
            out = subprocess.run([sys.executable, __file__, "--one", method, str(trials)],
                                 capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = ["| trials | method | ms per trial, 2nd quarter (CPU) | last quarter | last / 2nd | "
             "run CPU s | run wall s | peak MB |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['trials']} | `{r['method']}` | {r['second_quarter_ms']} | "
                     f"{r['last_quarter_ms']} | {r['ratio']} | {r['cpu_s']} | {r['wall_s']} | "
                     f"{r['peak_mb']} |")
    print("\n".join(lines))
    if args.write:
        command = "nice .venv/bin/python benchmarks/scale.py " + " ".join(sys.argv[1:])
        (RESULTS / "scale.md").write_text(
            "# Per-trial cost as a study grows\n\n"
            f"Written by `{command.strip()}` ({time.strftime('%Y-%m-%d')}). Machine: {header}, "
            "no GPU.\n\n`random` through `optimize()` on a free objective (ours: in memory and "
            "SQLite) and Optuna's RandomSampler in memory, each run in its own process. "
            "CPU ms per trial in the second and the last quarter of the run.\n\n"
            + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
