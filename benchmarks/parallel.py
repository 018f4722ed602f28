"""Speed-up of parallel trials (issue 6).

    .venv/bin/python benchmarks/parallel.py [--sklearn-trials 48] [--sleep-trials 48]
                                            [--repeats 2] [--write benchmarks/results/parallel.md]

1. CPU-bound scikit-learn trials: the sklearn backend (the notebook's MLP, trained for
   ``--max-iter`` 50 epochs instead of the notebook's 10, whose 0.2 s trials would
   measure process start-up rather than training) on digits with hold-out evaluation, the same seeded random configurations, run with
   ``--n-jobs 1`` (serial, in the driver) and ``--n-jobs 2`` (process executor). Goal on
   a 2-core machine: >= 1.7x.
2. Trials that sleep 1 s: 1 job versus 8 workers (``--n-jobs 8``). Goal: >= 6x.

Times are wall-clock seconds of the study loop (``run_job``, so worker start-up and
their warm-up count, Python start-up and the driver's own imports do not), the best of
``--repeats`` runs, the jobs interleaved so background load hits both alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def sleep_one_second(params: dict) -> float:
    time.sleep(1.0)
    return params["x"] ** 2


def time_sklearn(n_jobs: int, trials: int, max_iter: int, folder: Path) -> tuple[float, int]:
    from hpo_framework.jobs.job import JobConfig, prepare, run_job

    config = JobConfig(strategy="random", backend="sklearn", dataset="digits", n_trials=trials,
                       seed=0, n_jobs=n_jobs, final_test=False,
                       backend_options={"max_iter": max_iter},
                       storage=str(folder / f"sk-{n_jobs}-{time.monotonic_ns()}.db"))
    prepared = prepare(config)
    start = time.perf_counter()
    result = run_job(config, prepared=prepared)
    elapsed = time.perf_counter() - start
    return elapsed, len(result.study.complete_trials)


def time_sleep(n_jobs: int, trials: int) -> tuple[float, int]:
    from hpo_framework import optimize

    start = time.perf_counter()
    study = optimize(sleep_one_second, {"x": {"type": "float", "low": -1, "high": 1}},
                     strategy="random", n_trials=trials, n_jobs=n_jobs, seed=0)
    return time.perf_counter() - start, len(study.complete_trials)


def busy_seconds() -> float:
    """CPU seconds all processes on this machine have used (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    jiffies = [int(f) for f in fields]
    idle = jiffies[3] + jiffies[4]  # idle + iowait
    return (sum(jiffies[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sklearn-trials", type=int, default=48)
    parser.add_argument("--max-iter", type=int, default=50,
                        help="MLP epochs per trial (the notebook's 10 makes 0.2 s trials)")
    parser.add_argument("--sleep-trials", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--only", choices=("sklearn", "sleep"), default=None,
                        help="run one of the two workloads")
    parser.add_argument("--write", default=None, help="also write the results as Markdown")
    args = parser.parse_args()

    rows = []
    busy0, own0, wall0 = busy_seconds(), own_seconds(), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        sk_repeats = 0 if args.only == "sleep" else args.repeats
        sk = {1: [], 2: []}
        for _ in range(sk_repeats):
            for n_jobs in (1, 2):
                elapsed, done = time_sklearn(n_jobs, args.sklearn_trials, args.max_iter,
                                             Path(tmp))
                assert done == args.sklearn_trials, f"only {done} sklearn trials completed"
                sk[n_jobs].append(elapsed)
                print(f"sklearn n_jobs={n_jobs}: {elapsed:.2f} s", flush=True)
        if sk_repeats:
            rows.append((f"{args.sklearn_trials} sklearn MLP trials on digits, "
                         f"max_iter={args.max_iter}", "--n-jobs 1",
                         "--n-jobs 2", min(sk[1]), min(sk[2]), 1.7))
    sl = {1: [], 8: []}
    for repeat in range(0 if args.only == "sklearn" else args.repeats):
        for n_jobs in (1, 8) if repeat == 0 else (8,):  # 1 job is just sleep: once is enough
            elapsed, done = time_sleep(n_jobs, args.sleep_trials)
            assert done == args.sleep_trials, f"only {done} sleep trials completed"
            sl[n_jobs].append(elapsed)
            print(f"sleep n_jobs={n_jobs}: {elapsed:.2f} s", flush=True)
    if sl[1]:
        rows.append((f"{args.sleep_trials} trials sleeping 1 s", "--n-jobs 1", "--n-jobs 8",
                     min(sl[1]), min(sl[8]), 6.0))

    wall = time.perf_counter() - wall0
    others = max(0.0, (busy_seconds() - busy0) - (own_seconds() - own0))
    load = os.getloadavg()
    lines = [
        "| workload | baseline | parallel | baseline s | parallel s | speed-up | goal |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for name, base, par, t1, tn, goal in rows:
        lines.append(f"| {name} | {base} | {par} | {t1:.2f} | {tn:.2f} | {t1 / tn:.2f}x | "
                     f">= {goal:g}x |")
    header = (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
              f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"at the end, best of {args.repeats}; other processes used {others:.0f} CPU-s "
              f"of the {wall * (os.cpu_count() or 1):.0f} this machine had during the "
              f"{wall:.0f} s run")
    print(header)
    print("\n".join(lines))
    if args.write:
        Path(args.write).write_text(
            "# Parallel trials: speed-up\n\n"
            "Produced by `.venv/bin/python benchmarks/parallel.py --write "
            "benchmarks/results/parallel.md`.\n\n" + header + "\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
