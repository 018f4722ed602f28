"""Benchmark: grid, random, bayes and genetic (through ``optimize()``) against Optuna's TPE
and raw ``skopt.gp_minimize`` on Branin and on the notebook's MLP-on-digits problem.

    .venv/bin/python benchmarks/strategies.py                 # both problems, the issue's sizes
    .venv/bin/python benchmarks/strategies.py --problem branin --seeds 3

Prints, and writes to benchmarks/results/strategies.md, the median (min, max) best value
per method, the median whole-run wall time, each method's own overhead (run time minus
time inside the objective) and how many evaluations repeated a configuration already
evaluated in the same run. BLAS runs single-threaded for every method (``--threads``,
set through the environment before numpy loads): on a shared 2-core machine
multi-threaded OpenBLAS made every GP method several times slower, which would measure
the machine, not the methods.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

BRANIN_OPT = 0.397887


def branin(x1: float, x2: float) -> float:
    a, b, c = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


class Timed:
    """Wraps an objective: time spent inside it and the configurations it saw."""

    def __init__(self, fn: Callable[[dict[str, Any]], float]) -> None:
        self.fn, self.seconds, self.keys = fn, 0.0, []

    def __call__(self, params: dict[str, Any]) -> float:
        self.keys.append(tuple(sorted(params.items())))
        start = time.perf_counter()
        try:
            return self.fn(params)
        finally:
            self.seconds += time.perf_counter() - start


# problems -------------------------------------------------------------------------------

def branin_problem() -> dict[str, Any]:
    return {
        "name": "branin", "direction": "minimize", "trials": 50, "seeds": 10,
        "space": {"x1": {"type": "float", "low": -5.0, "high": 10.0},
                  "x2": {"type": "float", "low": 0.0, "high": 15.0}},
        "grid": {"points": 7},  # 7 x 7 = 49 points within the 50-trial budget
        "objective": lambda p: branin(p["x1"], p["x2"]),
        "optuna": lambda trial: {"x1": trial.suggest_float("x1", -5.0, 10.0),
                                 "x2": trial.suggest_float("x2", 0.0, 15.0)},
        "skopt": (lambda: [_real(-5.0, 10.0), _real(0.0, 15.0)], ["x1", "x2"]),
        "reference": f"optimum {BRANIN_OPT}",
    }


def _real(low: float, high: float, prior: str = "uniform") -> Any:
    from skopt.space import Real

    return Real(low, high, prior=prior)


def digits_problem() -> dict[str, Any]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = x / 16.0

    def accuracy(p: dict[str, Any]) -> float:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import StratifiedKFold, cross_val_score
        from sklearn.neural_network import MLPClassifier

        model = MLPClassifier(hidden_layer_sizes=(p["units"],) * p["n_layers"],
                              solver=p["solver"], learning_rate_init=p["learning_rate_init"],
                              max_iter=10, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            cv = StratifiedKFold(3, shuffle=True, random_state=0)
            return float(cross_val_score(model, x, y, cv=cv).mean())

    def skopt_dims() -> list[Any]:
        from skopt.space import Categorical, Integer

        return [Integer(1, 3), Integer(5, 15), Categorical(["sgd", "adam"]),
                _real(1e-3, 1e-1, "log-uniform")]

    return {
        "name": "digits", "direction": "maximize", "trials": 30, "seeds": 5,
        "space": {"n_layers": {"type": "int", "low": 1, "high": 3},
                  "units": {"type": "int", "low": 5, "high": 15},
                  "solver": ["sgd", "adam"],
                  "learning_rate_init": {"type": "float", "low": 1e-3, "high": 1e-1,
                                         "log": True}},
        # the notebook's 54-point grid: 3 layer counts x 5/10/15 units x 2 solvers x 3 rates
        "grid_space": {"n_layers": {"type": "int", "low": 1, "high": 3},
                       "units": {"type": "int", "low": 5, "high": 15, "values": [5, 10, 15]},
                       "solver": ["sgd", "adam"],
                       "learning_rate_init": {"type": "float", "low": 1e-3, "high": 1e-1,
                                              "log": True}},
        "grid": {"points": 3},
        "objective": accuracy,
        "optuna": lambda trial: {
            "n_layers": trial.suggest_int("n_layers", 1, 3),
            "units": trial.suggest_int("units", 5, 15),
            "solver": trial.suggest_categorical("solver", ["sgd", "adam"]),
            "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-3, 1e-1,
                                                      log=True)},
        "skopt": (skopt_dims, ["n_layers", "units", "solver", "learning_rate_init"]),
        "reference": "mean 3-fold CV accuracy, maximized",
    }


# runners: each returns (best value, wall seconds, seconds inside the objective, repeats) --

def _repeats(keys: list) -> int:
    return len(keys) - len(set(keys))


def run_ours(problem: dict, strategy: str, seed: int, trials: int | None,
             **options: Any) -> tuple[float, float, float, int]:
    from hpo_framework import optimize

    space = problem.get("grid_space", problem["space"]) if strategy == "grid" else problem["space"]
    fn = Timed(problem["objective"])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optimize(fn, space, strategy=strategy, n_trials=trials, seed=seed,
                         direction=problem["direction"], **options)
    wall = time.perf_counter() - start
    return study.best_value, wall, fn.seconds, _repeats(fn.keys)


def run_tpe(problem: dict, seed: int, trials: int) -> tuple[float, float, float, int]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fn = Timed(problem["objective"])
    start = time.perf_counter()
    study = optuna.create_study(direction=problem["direction"],
                                sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(lambda trial: fn(problem["optuna"](trial)), n_trials=trials)
    wall = time.perf_counter() - start
    return study.best_value, wall, fn.seconds, _repeats(fn.keys)


def run_gp_minimize(problem: dict, seed: int, trials: int) -> tuple[float, float, float, int]:
    from skopt import gp_minimize

    make_dims, names = problem["skopt"]
    fn = Timed(problem["objective"])
    sign = -1.0 if problem["direction"] == "maximize" else 1.0

    def func(x: list) -> float:
        params = {n: (v.item() if hasattr(v, "item") else v) for n, v in zip(names, x,
                                                                               strict=True)}
        return sign * fn(params)

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = gp_minimize(func, make_dims(), n_calls=trials, random_state=seed)
    wall = time.perf_counter() - start
    return sign * float(result.fun), wall, fn.seconds, _repeats(fn.keys)


METHODS: dict[str, Callable[..., tuple[float, float, float, int]]] = {
    "random": lambda p, s, n: run_ours(p, "random", s, n),
    "bayes": lambda p, s, n: run_ours(p, "bayes", s, n),
    # the plugin with gp_minimize's acquisition settings: what the cheaper defaults cost
    "bayes (skopt settings)": lambda p, s, n: run_ours(
        p, "bayes", s, n, acq_func="gp_hedge", n_points=10000, n_restarts_optimizer=5,
        kernel_restarts=2),
    "genetic": lambda p, s, n: run_ours(p, "genetic", s, n),
    "optuna TPE": run_tpe,
    "skopt gp_minimize": run_gp_minimize,
}


def summarize(values: list[float]) -> str:
    return f"{statistics.median(values):.4f} ({min(values):.4f}, {max(values):.4f})"


def run_problem(problem: dict, seeds: int, trials: int, methods: list[str],
                log: Callable[[str], None]) -> list[dict[str, Any]]:
    rows = []
    grid_value, grid_wall, grid_inside, grid_rep = run_ours(problem, "grid", 0, None,
                                                            **problem["grid"])
    grid_trials = 49 if problem["name"] == "branin" else 54
    rows.append({"method": f"grid ({grid_trials} points, one run)", "best": [grid_value],
                 "wall": [grid_wall], "own": [grid_wall - grid_inside], "repeats": grid_rep,
                 "trials": grid_trials})
    log(f"{problem['name']:7s} grid: best {grid_value:.4f}, wall {grid_wall:.1f}s")
    for method in methods:
        row = {"method": method, "best": [], "wall": [], "own": [], "repeats": 0,
               "trials": trials}
        for seed in range(seeds):
            best, wall, inside, repeats = METHODS[method](problem, seed, trials)
            row["best"].append(best)
            row["wall"].append(wall)
            row["own"].append(wall - inside)
            row["repeats"] += repeats
            log(f"{problem['name']:7s} {method:18s} seed {seed}: best {best:.4f}, "
                f"wall {wall:6.2f}s, own {wall - inside:6.2f}s, repeats {repeats}")
        rows.append(row)
    return rows


def table(problem: dict, rows: list[dict[str, Any]], seeds: int, trials: int) -> str:
    best_word = "best (lowest)" if problem["direction"] == "minimize" else "best (highest)"
    lines = [
        f"### {problem['name']}: {trials} trials, {seeds} seeds ({problem['reference']})",
        "",
        f"| method | {best_word}: median (min, max) | wall s / run: median | "
        "own time s / run: median | own ms / trial | repeated configurations |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        own = statistics.median(r["own"])
        lines.append(
            f"| {r['method']} | {summarize(r['best'])} | {statistics.median(r['wall']):.2f} | "
            f"{own:.2f} | {1000 * own / r['trials']:.1f} | {r['repeats']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=("branin", "digits", "all"), default="all")
    parser.add_argument("--seeds", type=int, default=None, help="default: 10 Branin, 5 digits")
    parser.add_argument("--trials", type=int, default=None, help="default: 50 Branin, 30 digits")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated subset of: " + ", ".join(METHODS))
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (see above)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "strategies.md"))
    args = parser.parse_args(argv)
    # before numpy/scipy load: a later threadpool_limits() misses scipy's own OpenBLAS,
    # which skopt's L-BFGS-B then runs with spinning threads (2.3x slower here)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown method {unknown[0]!r}")
    problems = [branin_problem, digits_problem]
    if args.problem != "all":
        problems = [branin_problem if args.problem == "branin" else digits_problem]
    sections = []
    started = time.perf_counter()
    for make in problems:
        problem = make()
        seeds = args.seeds or problem["seeds"]
        trials = args.trials or problem["trials"]
        rows = run_problem(problem, seeds, trials, methods,
                           lambda line: print(line, file=sys.stderr, flush=True))
        sections.append(table(problem, rows, seeds, trials))
        print(sections[-1] + "\n", flush=True)
    text = ("## Strategy benchmark\n\n"
            f"`python benchmarks/strategies.py {' '.join(argv or sys.argv[1:])}`".rstrip()
            + f" — {time.perf_counter() - started:.0f} s in all, BLAS threads: {args.threads}, "
            f"{os.cpu_count()} CPUs. Own time = run wall time minus time inside the "
            "objective (the method's proposals plus the framework's bookkeeping).\n\n"
            + "\n\n".join(sections) + "\n")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
