"""Benchmark: does a trial cost the same at trial 100,000 as at trial 1,000?

``random`` (ours) through ``hpo.optimize`` on a free 2-D objective, in memory and on
SQLite, at 1,000 / 10,000 / 100,000 trials, against Optuna's ``RandomSampler`` in memory
(``study.optimize``, up to 10,000 trials) and on its RDB storage (SQLite, 1,000 trials)
in the same run. Reported per run: CPU ms per trial in the first, the second and the last
quarter of the trials (from the first trial's end: imports and setup are not in them) and
the last quarter against the first and the second (flat is 1.0), the whole run's CPU and
wall seconds, and the peak resident memory of the process after the run (``ru_maxrss``;
each run is its own process, so peaks do not mix)::

    .venv/bin/python benchmarks/scale.py                  # 1k, 10k, 100k
    .venv/bin/python benchmarks/scale.py --trials 1000,10000 --write

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
        study.optimize(objective_of(stamps), n_trials=trials)
    elif method == "optuna-sqlite":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "optuna.db")
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), storage=url)
        study.optimize(objective_of(stamps), n_trials=trials)
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

    first, second, last = per_trial(0, q), per_trial(q, 2 * q), per_trial(3 * q, len(stamps) - 1)
    return {"method": method, "trials": trials, "first_quarter_ms": round(first, 4),
            "second_quarter_ms": round(second, 4), "last_quarter_ms": round(last, 4),
            "last_vs_first": round(last / first, 3), "last_vs_second": round(last / second, 3),
            "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def objective_of(stamps: list[float]):
    """Optuna's objective: the same function, stamped when a trial's evaluation ends."""

    def objective(trial):
        x, y = trial.suggest_float("x", -5, 5), trial.suggest_float("y", -5, 5)
        stamps.append(time.process_time())
        return x * x + y * y

    return objective


def verdicts(rows: list[dict]) -> list[str]:
    """The goals, checked on this run's rows: flat (last quarter within 1.3x of the first)
    for ours, ours in memory at or below Optuna's in memory at 10,000 trials, and ours on
    SQLite against Optuna's RDB storage."""
    out = []
    for r in rows:
        if r["method"].startswith("ours"):
            flat = "flat" if r["last_vs_first"] <= 1.3 else "NOT flat"
            out.append(f"- {r['method']} at {r['trials']}: last quarter {r['last_vs_first']}x "
                       f"the first ({flat}, goal <= 1.3x)")
    by = {(r["method"], r["trials"]): r for r in rows}
    for n in sorted({r["trials"] for r in rows}):
        ours, optuna = by.get(("ours-memory", n)), by.get(("optuna-memory", n))
        if ours and optuna:
            ratio = ours["cpu_s"] / optuna["cpu_s"]
            out.append(f"- {n} trials in memory, whole run CPU: ours {ours['cpu_s']} s, Optuna "
                       f"{optuna['cpu_s']} s ({ratio:.2f}x); last quarter per trial: ours "
                       f"{ours['last_quarter_ms']} ms, Optuna {optuna['last_quarter_ms']} ms")
        ours, rdb = by.get(("ours-sqlite", n)), by.get(("optuna-sqlite", n))
        if ours and rdb:
            out.append(f"- {n} trials on SQLite, whole run CPU: ours {ours['cpu_s']} s, Optuna's "
                       f"RDB {rdb['cpu_s']} s ({rdb['cpu_s'] / ours['cpu_s']:.0f}x ours)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="1000,10000,100000")
    parser.add_argument("--methods",
                        default="ours-memory,ours-sqlite,optuna-memory,optuna-sqlite")
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
            if (method == "optuna-memory" and trials > 10000) or \
                    (method == "optuna-sqlite" and trials > 1000):
                continue  # the goal compares with Optuna at 10,000; its RDB takes ~20 ms
            out = subprocess.run([sys.executable, __file__, "--one", method, str(trials)],
                                 capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = ["| trials | method | CPU ms per trial, 1st quarter | 2nd quarter | last quarter | "
             "last / 1st | last / 2nd | run CPU s | run wall s | peak MB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['trials']} | `{r['method']}` | {r['first_quarter_ms']} | "
                     f"{r['second_quarter_ms']} | {r['last_quarter_ms']} | {r['last_vs_first']} | "
                     f"{r['last_vs_second']} | {r['cpu_s']} | {r['wall_s']} | {r['peak_mb']} |")
    lines += ["", *verdicts(rows)]
    print("\n".join(lines))
    if args.write:
        command = ".venv/bin/python benchmarks/scale.py " + " ".join(sys.argv[1:])
        (RESULTS / "scale.md").write_text(
            "# Per-trial cost as a study grows\n\n"
            f"Written by `{command.strip()}` ({time.strftime('%Y-%m-%d')}). Machine: {header}, "
            "no GPU.\n\n`random` through `optimize()` on a free objective (ours: in memory and "
            "SQLite) and Optuna's RandomSampler in memory and on its RDB storage (SQLite), "
            "each run in its own process. CPU ms per trial in the first, second and last "
            "quarter of the trials; peak MB is the process's peak resident memory.\n\n"
            + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
