"""Benchmark: what a proposal costs when the objective costs nothing.

``tpe``, ``random``, ``bayes`` and ``auto`` (ours, through ``create_study`` ask/tell, in memory)
against Optuna's TPESampler (its default, which in Optuna 5 is the multivariate TPE with
the constant liar) and its independent TPE (``multivariate=False``), also in memory
through ask/tell, side by side in one run, on two cheap analytic functions:

- ``mixed3``: 3-D, Optuna's quickstart parabola in ``x`` plus a log-scaled real and an
  integer, ``(x - 2)^2 + (log10(lr) + 3)^2 + (n - 4)^2 / 4`` (minimum 0);
- ``rosen10``: 10-D Rosenbrock on ``[-2, 2]^10`` (minimum 0 at all ones).

Reported per (function, trials, method), medians over seeds: total time of the run,
ms per ask in the last quarter of the trials (the proposal plus the library's own
bookkeeping: what a user waits for between two cheap trials), for our strategies the part
of it spent in the strategy's ``ask``, and the best value found. Times are wall clock and
CPU time of the process: on a shared machine the wall clock measures the neighbours too,
CPU time does not (every library here runs on one thread). ``bayes`` runs only up to
``--bayes-max`` trials (its GP refit grows with the history)::

    nice .venv/bin/python benchmarks/overhead.py                       # 200 and 1000 trials, 3 seeds
    nice .venv/bin/python benchmarks/overhead.py --trials 200 --seeds 1  # a quick look
    nice .venv/bin/python benchmarks/overhead.py --write                 # also writes results/overhead.md

Each run is appended to ``--runs`` (JSON lines). BLAS runs on one thread for every
method: on a shared 2-core machine threads measure the machine.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
OURS = ("tpe", "random", "bayes", "auto")
PEERS = ("optuna-tpe", "optuna-tpe-independent")


def mixed3(p: dict[str, Any]) -> float:
    return (p["x"] - 2) ** 2 + (math.log10(p["lr"]) + 3) ** 2 + (p["n"] - 4) ** 2 / 4


def rosen10(p: dict[str, Any]) -> float:
    x = [p[f"x{i}"] for i in range(10)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(9))


#: name -> (objective, our space); Optuna gets the same dimensions
PROBLEMS: dict[str, tuple[Callable[[dict[str, Any]], float], dict[str, Any]]] = {
    "mixed3": (mixed3, {"x": {"type": "float", "low": -10.0, "high": 10.0},
                        "lr": {"type": "float", "low": 1e-5, "high": 1e-1, "log": True},
                        "n": {"type": "int", "low": 1, "high": 10}}),
    "rosen10": (rosen10, {f"x{i}": {"type": "float", "low": -2.0, "high": 2.0}
                          for i in range(10)}),
}


def run_ours(method: str, problem: str, trials: int, seed: int) -> dict[str, Any]:
    import hpo_framework as hpo

    objective, space = PROBLEMS[problem]
    study = hpo.create_study(space, strategy=method, seed=seed, name=f"{method}-{problem}")
    strategy = study.strategy
    inner: list[float] = []
    ask = strategy.ask

    def timed_ask(n: int = 1) -> list[dict[str, Any]]:
        start = time.process_time()
        out = ask(n)
        inner.append(time.process_time() - start)
        return out

    strategy.ask = timed_ask
    out = _loop(study.ask, study.tell, objective, trials)
    study.close()
    return {**out, "strategy_cpu_ms": _last_quarter(inner)}


def run_optuna(method: str, problem: str, trials: int, seed: int) -> dict[str, Any]:
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objective, space = PROBLEMS[problem]
    dists = {name: (IntDistribution(s["low"], s["high"]) if s["type"] == "int"
                    else FloatDistribution(s["low"], s["high"], log=s.get("log", False)))
             for name, s in space.items()}
    options = {"multivariate": False} if method == "optuna-tpe-independent" else {}
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, **options))
    out = _loop(lambda: study.ask(fixed_distributions=dists), study.tell, objective, trials)
    return {**out, "strategy_cpu_ms": None}


def _loop(ask: Callable[[], Any], tell: Callable[[Any, float], Any],
          objective: Callable[[dict[str, Any]], float], trials: int) -> dict[str, Any]:
    """Ask, evaluate, tell ``trials`` times; wall and CPU time of the whole and of each ask
    (CPU time is what a shared machine does not inflate: every library here runs on one
    thread)."""
    walls, cpus, best = [], [], math.inf
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(trials):
        t0, c0 = time.perf_counter(), time.process_time()
        trial = ask()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        value = objective(trial.params)
        best = min(best, value)
        tell(trial, value)
    return {"total_s": time.perf_counter() - start, "total_cpu_s": time.process_time() - start_cpu,
            "ask_ms": _last_quarter(walls), "ask_cpu_ms": _last_quarter(cpus), "best": best}


def _last_quarter(seconds: list[float]) -> float:
    return 1000 * statistics.mean(seconds[len(seconds) - max(1, len(seconds) // 4):])


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
            f"{platform.python_version()}, load average {load:.1f} at the start, no GPU")


def table(runs: list[dict[str, Any]], methods: list[str]) -> list[str]:
    fields = ("total_s", "total_cpu_s", "ask_ms", "ask_cpu_ms", "strategy_cpu_ms", "best")
    lines = ["| function | trials | method | total s (wall) | total s (CPU) | ms per ask, last "
             "quarter (wall) | (CPU) | of which strategy (CPU) | best (median) | ask CPU vs "
             "optuna-tpe |", "|---|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["problem"], r["trials"]) for r in runs},
                  key=lambda k: (list(PROBLEMS).index(k[0]), k[1]))
    for problem, trials in keys:
        med: dict[str, dict[str, Any]] = {}
        for m in methods:
            rs = [r for r in runs if (r["problem"], r["trials"], r["method"]) ==
                  (problem, trials, m)]
            if rs:
                med[m] = {k: (statistics.median(r[k] for r in rs) if rs[0][k] is not None
                              else None) for k in fields}
        peer = med.get("optuna-tpe", {}).get("ask_cpu_ms")
        for m, v in med.items():
            inner = "" if v["strategy_cpu_ms"] is None else f"{v['strategy_cpu_ms']:.2f}"
            ratio = f"{v['ask_cpu_ms'] / peer:.2f}x" if peer else ""
            lines.append(f"| {problem} | {trials} | `{m}` | {v['total_s']:.2f} | "
                         f"{v['total_cpu_s']:.2f} | {v['ask_ms']:.2f} | {v['ask_cpu_ms']:.2f} | "
                         f"{inner} | {v['best']:.4g} | {ratio} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", default="200,1000", help="comma-separated budgets")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--methods", default=",".join(OURS + PEERS))
    parser.add_argument("--bayes-max", type=int, default=200,
                        help="largest budget bayes runs at (its refit grows with the history)")
    parser.add_argument("--runs", type=Path, default=RESULTS / "overhead-runs.jsonl")
    parser.add_argument("--write", action="store_true", help="write the markdown table (--out)")
    parser.add_argument("--out", type=Path, default=RESULTS / "overhead.md")
    args = parser.parse_args()
    methods = args.methods.split(",")
    budgets = [int(t) for t in args.trials.split(",")]
    runs = []
    header = machine()
    print(header, flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for problem in args.problems.split(","):
            for trials in budgets:
                for seed in range(args.seeds):
                    for method in methods:  # side by side: every method on each seed in turn
                        if method == "bayes" and trials > args.bayes_max:
                            continue
                        runner = run_optuna if method in PEERS else run_ours
                        out = runner(method, problem, trials, seed)
                        run = {"problem": problem, "trials": trials, "seed": seed,
                               "method": method, **out}
                        runs.append(run)
                        with args.runs.open("a") as f:
                            f.write(json.dumps(run) + "\n")
                        print(json.dumps(run), flush=True)
    lines = table(runs, methods)
    print("\n".join(lines))
    if args.write:
        command = "nice .venv/bin/python benchmarks/overhead.py " + " ".join(sys.argv[1:])
        args.out.write_text(
            "# Cheap-objective overhead: ours against Optuna's TPE\n\n"
            f"Written by `{command.strip()}` ({time.strftime('%Y-%m-%d')}).\n"
            f"Machine: {header}.\n\n"
            f"Medians over {args.seeds} seeds (0..{args.seeds - 1}); every method ran on each "
            "seed in turn, in one process. `ms per ask` is the time of `study.ask()` "
            "averaged over the last quarter of the trials (Optuna: `study.ask("
            "fixed_distributions=...)`, which samples every parameter), wall clock and CPU "
            "time of the process (the machine is shared: the wall clock also measures the "
            "neighbours, CPU time does not); `of which strategy` is the CPU time inside our "
            "strategy's `ask`; the last column divides `ms per ask (CPU)` by Optuna's default "
            "TPE's. Optuna 5's default TPESampler is the multivariate TPE.\n\n"
            + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
