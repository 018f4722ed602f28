"""Benchmark: several objectives and constraints. ``bayes``, ``genetic`` and ``random``
through the public API (``optimize(objective, space, directions=[...], constraints=...)``)
against Optuna's ``NSGAIISampler``, multi-objective ``TPESampler``, ``GPSampler`` (logEHVI;
with ``constraints_func`` on the constrained problem) and ``RandomSampler``, side by side in
one run, on the problems of ``benchmarks/mo_problems.py`` (ZDT1/2/3, DTLZ2 with 2 and 3
objectives, the constrained C2-DTLZ2, the keras MLP on digits: accuracy vs n_params).

Install the peers first (they stay out of the core's dependencies)::

    .venv/bin/pip install -c constraints.txt -r benchmarks/requirements.txt

Then::

    nice .venv/bin/python benchmarks/multiobjective.py --quick   # 3 problems, 3 seeds, 50 evals
    nice .venv/bin/python benchmarks/multiobjective.py           # 7 problems, 5 seeds, 100 evals

Measured per run (one sequence of ``--budget`` evaluations; the 50-evaluation figure is
the prefix of the 100-evaluation run, since no method here knows its budget):

- **hypervolume** (``contracts.pareto.hypervolume``, exact) of the losses (every objective
  minimized) of the *feasible* evaluations so far, at the problem's fixed reference point
  (stated in ``mo_problems.py`` and in the report). Computed by this script from what each
  method evaluated, the same way for every method.
- **CPU per proposal**: the process's CPU time (``time.process_time``, all threads) between
  the end of one evaluation and the start of the next: the proposal plus the library's
  bookkeeping (our Study's trial records; Optuna's in-memory storage), the objective's own
  time excluded. Reported as the median over runs of the mean over all proposals, and over
  proposals 41-50 and 91-100.
- **the library's front**: after the run, the method's own Pareto front
  (``study.best_trials`` for ours and Optuna's): how many trials it holds, whether one is
  infeasible, and whether it is exactly the non-dominated feasible set of the run.

Reported: per problem and budget the median and the interquartile range over seeds; the
mean rank of each method (ranked per problem on the median hypervolume, 1 = best, ties
share a rank) per budget; on the constrained problem the feasible hypervolume and the
infeasible evaluations; the issue's goals where the run has what they need.

The keras problem is expensive (a real 10-epoch training per evaluation, about a second
once its programs are compiled): it runs on ``--keras-seeds 5`` seeds of
``--keras-budget 50`` evaluations (the report says so), and only when named in
``--problems`` or with ``--keras``. Runs are appended as they finish
to ``--runs`` (JSON lines), so a long run can be split over several invocations (two at
once at most on a 2-core machine): ``--reuse`` takes a method's runs from there instead of
running it again, ``--report-only`` rebuilds the report at no cost. BLAS and torch run on one
thread for every method.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
OURS = ("bayes", "genetic", "random", "grid", "tpe", "skopt")
PEERS = {"optuna-gp": "GPSampler", "optuna-tpe": "TPESampler (multivariate)",
         "optuna-nsga2": "NSGAIISampler", "optuna-random": "RandomSampler"}
DEFAULT_METHODS = ("bayes", "genetic", "random", "optuna-gp", "optuna-tpe", "optuna-nsga2",
                   "optuna-random")
KERAS = "keras-mlp-digits"


class Recorder:
    """Wraps a problem: per evaluation its values, losses, constraints and the CPU and wall
    time spent outside the objective since the previous evaluation ended."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        self.values: list[list[float] | None] = []
        self.losses: list[list[float] | None] = []
        self.constraints: list[list[float] | None] = []
        self.own_cpu: list[float] = []
        self.own_wall: list[float] = []
        self.start()

    def start(self) -> None:
        self.last_cpu, self.last_wall = time.process_time(), time.perf_counter()

    def __call__(self, params: dict[str, Any]) -> tuple[list[float], list[float] | None]:
        self.own_cpu.append(time.process_time() - self.last_cpu)
        self.own_wall.append(time.perf_counter() - self.last_wall)
        values = cons = None
        try:
            values, cons = self.problem.evaluate(params)
        finally:  # a failed evaluation (a diverged training) counts toward the budget
            self.values.append(values)
            self.losses.append(None if values is None else self.problem.losses(values))
            self.constraints.append(cons)
            self.start()
        return values, cons


def constraint_values(problem: Any, params: dict[str, Any]) -> list[float] | None:
    return None if problem.constraints is None else problem.constraints(params)


def front_check(problem: Any, rec: Recorder, front_params: list[dict[str, Any]]
                ) -> dict[str, Any]:
    """The library's front against the run: size, infeasible members, and whether it is
    exactly the non-dominated feasible set of what was evaluated (as loss vectors)."""
    from hpo_framework.contracts.pareto import feasible, non_dominated

    ok = [i for i, ls in enumerate(rec.losses) if ls is not None
          and feasible(rec.constraints[i])]
    truth = sorted({tuple(rec.losses[ok[j]]) for j in non_dominated([rec.losses[i]
                                                                     for i in ok])})
    got, infeasible = [], 0
    for params in front_params:
        values = problem.objectives(params) if not problem.expensive else None
        cons = constraint_values(problem, params)
        infeasible += not feasible(cons)
        if values is not None:
            got.append(tuple(problem.losses(values)))
    exact = None if problem.expensive else sorted(set(got)) == truth
    return {"size": len(front_params), "infeasible": infeasible, "exact": exact}


# runners: each fills a Recorder with `budget` evaluations ----------------------------------

def run_ours(problem: Any, strategy: str, seed: int, budget: int, rec: Recorder,
             **options: Any) -> dict[str, Any]:
    from hpo_framework import optimize

    extra: dict[str, Any] = {}
    if problem.constraints is not None:
        extra["constraints"] = lambda trial: problem.constraints(trial.params)
    rec.start()
    study = optimize(lambda params: rec(params)[0], problem.space, strategy=strategy,
                     directions=problem.directions, n_trials=budget, seed=seed,
                     **extra, **options)
    return front_check(problem, rec, [t.params for t in study.best_trials])


def run_optuna(problem: Any, sampler: str, seed: int, budget: int, rec: Recorder
               ) -> dict[str, Any]:
    import optuna
    from strategies import optuna_params

    from hpo_framework import Space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = Space.from_dict(problem.space)
    cf = None
    if problem.constraints is not None:
        def cf(trial: Any) -> list[float]:
            return trial.user_attrs["constraints"]

    if sampler == "gp":
        made = optuna.samplers.GPSampler(seed=seed, constraints_func=cf)
    elif sampler == "tpe":
        made = optuna.samplers.TPESampler(seed=seed, multivariate=True, constraints_func=cf)
    elif sampler == "nsga2":
        made = optuna.samplers.NSGAIISampler(seed=seed, constraints_func=cf)
    else:
        made = optuna.samplers.RandomSampler(seed=seed)

    def objective(trial: Any) -> list[float]:
        values, cons = rec(optuna_params(trial, space))
        if cons is not None:
            trial.set_user_attr("constraints", cons)
        return values

    study = optuna.create_study(directions=problem.directions, sampler=made)
    rec.start()
    study.optimize(objective, n_trials=budget, catch=(Exception,))
    return front_check(problem, rec, [t.params for t in study.best_trials])


_CODE: dict[str, str | None] = {}


def code_version(method: str) -> str | None:
    """For ours: the digest of the strategy's and the study's source files as this process
    first ran them (it imports them once; the working tree may change after, and may
    hold changes not committed yet), to tell runs of one version from another's."""
    if method not in _CODE:
        _CODE[method] = _digest(method)
    return _CODE[method]


def _digest(method: str) -> str | None:
    import hashlib

    root = HERE.parent
    files = {"bayes": sorted((root / "plugins/hpo-bayes/hpo_bayes").glob("*.py")),
             "genetic": [root / "plugins/hpo-genetic/hpo_genetic.py"],
             "random": [root / "hpo_framework/builtin/random_strategy.py"]}.get(method)
    if not files:
        return None
    core = sorted((root / "hpo_framework/study").glob("*.py")) + [root / "hpo_framework/api.py"]
    digest = hashlib.sha256()
    for f in [*files, *core]:
        digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def run_method(spec: str, problem: Any, seed: int, budget: int) -> tuple[Recorder, dict]:
    from strategies import parse_method

    name, options = parse_method(spec)
    rec = Recorder(problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ExperimentalWarning (GPSampler, multivariate TPE)
        if name in OURS:
            front = run_ours(problem, name, seed, budget, rec, **options)
        elif name.startswith("optuna-"):
            front = run_optuna(problem, name.split("-", 1)[1], seed, budget, rec)
        else:
            raise SystemExit(f"unknown method {spec!r}")
    return rec, front


# statistics ------------------------------------------------------------------------------

def hv_at(problem: Any, run: dict[str, Any], budget: int) -> float:
    """The hypervolume of the feasible evaluations among the first ``budget``."""
    from hpo_framework.contracts.pareto import feasible, hypervolume

    pts = [ls for ls, c in zip(run["losses"][:budget], run["constraints"][:budget],
                               strict=True) if ls is not None and feasible(c)]
    return hypervolume(pts, problem.reference)


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


def ranks(values: dict[str, float]) -> dict[str, float]:
    """1 = the largest; equal values (to 9 significant digits) share the mean rank:
    ``strategies.py``'s ranks (1 = the smallest) of the negated values."""
    from strategies import ranks as smallest_first

    return smallest_first({m: -v for m, v in values.items()})


def fmt(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.5g}" if abs(v) < 1e5 else f"{v:.4e}"


def summarize(problems: list[Any], methods: list[str], runs: dict, plan: dict) -> dict:
    """Per (problem, method, budget): the hypervolumes of every seed and their quartiles;
    per (problem, budget): the ranks on the medians; per budget: mean ranks."""
    from hpo_framework.contracts.pareto import feasible

    out: dict[str, Any] = {"problems": {}, "mean_rank": {}, "cpu_ms": {}, "fronts": {}}
    all_budgets = sorted({b for p in problems for b in plan[p.name]["budgets"]})
    for p in problems:
        seeds, budgets = plan[p.name]["seeds"], plan[p.name]["budgets"]
        entry: dict[str, Any] = {"reference": p.reference, "directions": p.directions,
                                 "seeds": seeds, "budgets": budgets, "hv": {}, "ranks": {},
                                 "infeasible": {}}
        for b in budgets:
            med = {}
            for m in methods:
                got = [runs[m, p.name, s] for s in range(seeds) if (m, p.name, s) in runs
                       and len(runs[m, p.name, s]["losses"]) >= b]
                if len(got) < seeds:
                    continue
                hvs = [hv_at(p, r, b) for r in got]
                q1, q2, q3 = quartiles(hvs)
                entry["hv"].setdefault(str(b), {})[m] = {"median": q2, "q1": q1, "q3": q3,
                                                         "runs": hvs}
                med[m] = q2
                if p.constraints is not None:
                    entry["infeasible"].setdefault(str(b), {})[m] = statistics.median(
                        sum(not feasible(c) for c in r["constraints"][:b]) for r in got)
            entry["ranks"][str(b)] = ranks(med) if med else {}
        out["problems"][p.name] = entry
    for b in all_budgets:
        out["mean_rank"][str(b)] = {}
        having = [p.name for p in problems if b in plan[p.name]["budgets"]]
        for m in methods:
            rs = [out["problems"][n]["ranks"][str(b)].get(m) for n in having]
            if rs and all(r is not None for r in rs):
                out["mean_rank"][str(b)][m] = {"mean": statistics.fmean(rs),
                                               "problems": len(rs)}
    for m in methods:
        per: dict[str, list[float]] = {"all": [], "41-50": [], "91-100": []}
        fronts = {"runs": 0, "infeasible": 0, "not_exact": 0}
        for p in problems:
            for s in range(plan[p.name]["seeds"]):
                r = runs.get((m, p.name, s))
                if r is None:
                    continue
                cpu = r["own_cpu"]
                per["all"].append(1000 * statistics.fmean(cpu[1:] or cpu))
                for key, lo, hi in (("41-50", 40, 50), ("91-100", 90, 100)):
                    if len(cpu) >= hi:
                        per[key].append(1000 * statistics.fmean(cpu[lo:hi]))
                fronts["runs"] += 1
                fronts["infeasible"] += r["front"]["infeasible"] > 0
                fronts["not_exact"] += r["front"]["exact"] is False
        out["cpu_ms"][m] = {k: (statistics.median(v) if v else None) for k, v in per.items()}
        out["fronts"][m] = fronts
    return out


def report(problems: list[Any], methods: list[str], summary: dict, plan: dict) -> str:
    from mo_problems import best_hv

    budgets = sorted({b for p in problems for b in plan[p.name]["budgets"]})
    lines = ["### Mean rank of hypervolume (1 = best; per problem on the median over seeds)\n",
             "| method | " + " | ".join(f"{b} evals" for b in budgets)
             + " | CPU ms / proposal (all) | at 41-50 | at 91-100 |",
             "|---|" + "---|" * (len(budgets) + 3)]
    for m in methods:
        cells = []
        for b in budgets:
            got = summary["mean_rank"][str(b)].get(m)
            cells.append(f"{got['mean']:.2f} ({got['problems']} problems)" if got else "-")
        cpu = summary["cpu_ms"][m]
        cells += [f"{cpu[k]:.1f}" if cpu[k] is not None else "-"
                  for k in ("all", "41-50", "91-100")]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines.append("\nCPU per proposal: median over runs (every problem) of the mean CPU time "
                 "between evaluations (proposal + bookkeeping), ms.")
    if "optuna-nsga2" in methods:
        lines.append("Optuna's NSGAIISampler samples its first generation (its population, 50 "
                     "by default) at random: up to 50 evaluations it is RandomSampler with "
                     "the same seed.")
    lines += goals(problems, methods, summary, plan)
    for b in budgets:
        shown = [p for p in problems if b in plan[p.name]["budgets"]]
        lines += [f"\n### Hypervolume at {b} evaluations: median [Q1, Q3] (rank)\n",
                  "| problem | reference | optimum | seeds | " + " | ".join(methods) + " |",
                  "|---|---|---|---|" + "---|" * len(methods)]
        for p in shown:
            entry = summary["problems"][p.name]
            hv, rk = entry["hv"].get(str(b), {}), entry["ranks"].get(str(b), {})
            cells = [(f"{fmt(hv[m]['median'])} [{fmt(hv[m]['q1'])}, {fmt(hv[m]['q3'])}] "
                      f"({rk[m]:g})") if m in hv else "-" for m in methods]
            best = best_hv(p.name)
            ref = ", ".join(fmt(r) for r in p.reference)
            lines.append(f"| {p.name} | ({ref}) | {fmt(best) if best else '?'} | "
                         f"{entry['seeds']} | " + " | ".join(cells) + " |")
    constrained = [p for p in problems if p.constraints is not None]
    for p in constrained:
        entry = summary["problems"][p.name]
        lines += [f"\n### {p.name}: feasible hypervolume and infeasible evaluations "
                  "(median over seeds)\n",
                  "| method | " + " | ".join(f"feasible HV at {b}" for b in budgets)
                  + " | " + " | ".join(f"infeasible of {b}" for b in budgets) + " |",
                  "|---|" + "---|" * (2 * len(budgets))]
        for m in methods:
            cells = [fmt(entry["hv"].get(str(b), {}).get(m, {}).get("median", math.nan))
                     for b in budgets]
            cells += [f"{entry['infeasible'].get(str(b), {}).get(m, math.nan):g}"
                      for b in budgets]
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["\n### The library's own front (`study.best_trials`) against the run\n",
              "| method | runs | with an infeasible trial on the front | front not exactly "
              "the non-dominated feasible set |", "|---|---|---|---|"]
    for m in methods:
        f = summary["fronts"][m]
        lines.append(f"| {m} | {f['runs']} | {f['infeasible']} | {f['not_exact']} |")
    lines.append("\n(the keras problem's front is checked for infeasible members only: "
                 "its objectives are not evaluated again.)")
    return "\n".join(lines)


def goals(problems: list[Any], methods: list[str], summary: dict, plan: dict) -> list[str]:
    """Issue 25's checks, where the run has the methods they need."""
    budgets = sorted({b for p in problems for b in plan[p.name]["budgets"]})
    out = ["\n### Goals (issue 25)\n", "| check | " + " | ".join(f"{b} evals" for b in budgets)
           + " |", "|---|" + "---|" * len(budgets)]

    def mean_rank(b: int, m: str) -> float | None:
        got = summary["mean_rank"][str(b)].get(m)
        return got["mean"] if got else None

    def head_to_head(a: str, o: str, b: int) -> tuple[int, int, int]:
        w = t = n = 0
        for p in problems:
            hv = summary["problems"][p.name]["hv"].get(str(b), {})
            if a in hv and o in hv:
                x, y = float(f"{hv[a]['median']:.9g}"), float(f"{hv[o]['median']:.9g}")
                w, t, n = w + (x > y), t + (x == y), n + 1
        return w, t, n

    if "bayes" in methods:
        cells = []
        for b in budgets:
            ranked = {m: mean_rank(b, m) for m in methods if mean_rank(b, m) is not None}
            if "bayes" not in ranked:
                cells.append("-")
                continue
            best = min(ranked.values())
            cells.append(f"{ranked['bayes']:.2f} vs best other "
                         f"{min([v for m, v in ranked.items() if m != 'bayes'] or [math.nan]):.2f}"
                         f": {'met' if ranked['bayes'] <= best else 'NOT met'}")
        out.append("| bayes: best mean rank of all | " + " | ".join(cells) + " |")
    for a, o, need, label in (("bayes", "optuna-gp", 2 / 3, "bayes no worse than optuna-gp on "
                               ">= 2/3 of problems"),
                              ("genetic", "optuna-nsga2", 0.5 + 1e-9, "genetic ahead of "
                               "optuna-nsga2 on most problems")):
        if a not in methods or o not in methods:
            continue
        cells = []
        for b in budgets:
            w, t, n = head_to_head(a, o, b)
            if not n:
                cells.append("-")
                continue
            share = (w + t) / n if a == "bayes" else w / n
            what = "no worse" if a == "bayes" else "ahead"
            cells.append(f"{what} on {w + t if a == 'bayes' else w} of {n}: "
                         f"{'met' if share >= need else 'NOT met'}")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    if "bayes" in methods and "optuna-gp" in methods:
        ours, theirs = summary["cpu_ms"]["bayes"], summary["cpu_ms"]["optuna-gp"]
        cells = []
        for b in budgets:
            key = "41-50" if b == 50 else "91-100" if b == 100 else "all"
            if ours[key] is None or theirs[key] is None:
                cells.append("-")
                continue
            ratio = ours[key] / theirs[key]
            cells.append(f"{ours[key]:.0f} vs {theirs[key]:.0f} ms ({ratio:.2f}x): "
                         f"{'met' if ratio <= 1 else 'NOT met'}")
        out.append("| bayes CPU per proposal <= optuna-gp's (proposals before the budget) | "
                   + " | ".join(cells) + " |")
    for p in problems:
        if p.constraints is None:
            continue
        cells = []
        for b in budgets:
            hv = summary["problems"][p.name]["hv"].get(str(b), {})
            ours = [m for m in ("bayes", "genetic") if m in hv]
            if not ours or len(hv) < 2:
                cells.append("-")
                continue
            top = max(v["median"] for v in hv.values())
            cells.append(", ".join(f"{m} {fmt(hv[m]['median'])} vs best "
                                   f"{fmt(top)}: {'met' if hv[m]['median'] >= top else 'NOT met'}"
                                   for m in ours))
        out.append(f"| {p.name}: best feasible HV of all | " + " | ".join(cells) + " |")
    ours = [m for m in methods if m in OURS]
    bad = sum(summary["fronts"][m]["infeasible"] for m in ours)
    runs = sum(summary["fronts"][m]["runs"] for m in ours)
    out.append(f"| no infeasible trial on our fronts | {bad} of {runs} runs had one"
               + (": met" if runs and not bad else "") + " |" + " |" * (len(budgets) - 1))
    return out


# main ----------------------------------------------------------------------------------

def load_runs(paths: list[Path], reuse: set[str]) -> dict[tuple[str, str, int], dict]:
    runs: dict[tuple[str, str, int], dict] = {}
    for path in reversed(paths):  # the first file's run wins (new runs go there)
        for line in path.read_text().splitlines() if path.exists() else []:
            r = json.loads(line)
            if r["method"] in reuse:
                runs[r["method"], r["problem"], r["seed"]] = r
    return runs


def append_run(path: Path, record: dict[str, Any]) -> None:
    """One write with O_APPEND: two invocations may append to the same file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(record) + "\n").encode())
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the problems marked quick, 3 seeds, 50 evaluations")
    parser.add_argument("--problems", default=None,
                        help="comma-separated names (default: all but the keras one; add it "
                             "with --keras)")
    parser.add_argument("--keras", action="store_true", help="the keras problem too")
    parser.add_argument("--seeds", type=int, default=None, help="default 5 (quick: 3)")
    parser.add_argument("--budget", type=int, default=None,
                        help="evaluations per run, default 100 (quick: 50); reported at 50 "
                             "and at the budget")
    parser.add_argument("--seed-from", type=int, default=0,
                        help="run seeds from this one on (the report still needs all): "
                             "two invocations can share the seeds of one method")
    parser.add_argument("--keras-seeds", type=int, default=5)
    parser.add_argument("--keras-budget", type=int, default=50)
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help="comma-separated: " + ", ".join(OURS) + " (ours, options in "
                             "brackets: genetic[population_size=16]), " + ", ".join(PEERS))
    parser.add_argument("--reuse", default="",
                        help="methods whose runs are taken from --runs where there ('all': "
                             "every method)")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: the report from the stored runs (every method)")
    parser.add_argument("--runs", default=str(RESULTS / "multiobjective-runs.jsonl"),
                        help="JSON lines of runs: new runs are appended to the first file, "
                             "--reuse reads all (comma-separated; a run in an earlier file "
                             "wins over the same run in a later one)")
    parser.add_argument("--out", default=None,
                        help="report prefix (default results/multiobjective, quick: "
                             "results/multiobjective-quick): .md and .json")
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"  # before numpy loads
    sys.path.insert(0, str(HERE))
    from mo_problems import problems as all_problems
    from strategies import split_methods

    problems = all_problems()
    if args.problems:
        by_name = {p.name: p for p in problems}
        unknown = [n for n in args.problems.split(",") if n not in by_name]
        if unknown:
            raise SystemExit(f"unknown problem {unknown[0]!r}; known: {', '.join(by_name)}")
        problems = [by_name[n] for n in args.problems.split(",")]
    elif args.quick:
        problems = [p for p in problems if p.quick]
    elif not args.keras:
        problems = [p for p in problems if p.name != KERAS]
    seeds = args.seeds or (3 if args.quick else 5)
    budget = args.budget or (50 if args.quick else 100)
    plan = {p.name: {"seeds": seeds, "budget": budget} for p in problems}
    for p in problems:
        if p.name == KERAS:
            plan[p.name] = {"seeds": min(seeds, args.keras_seeds),
                            "budget": min(budget, args.keras_budget)}
    for p in plan.values():
        p["budgets"] = sorted({b for b in (50, p["budget"]) if b <= p["budget"]})
    methods = split_methods(args.methods)
    reuse = set(methods) if args.reuse == "all" or args.report_only else set(
        split_methods(args.reuse))
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    paths = [Path(p) for p in args.runs.split(",")]
    runs = load_runs(paths, reuse)
    started, wall = time.process_time(), time.perf_counter()
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    failed: list[str] = []
    order = [(seed, p, m) for seed in range(args.seed_from,
                                            max(q["seeds"] for q in plan.values()))
             for p in problems if seed < plan[p.name]["seeds"] for m in methods]
    for seed, p, m in order:  # seed-major: a run cut short has every problem's first seeds
        have = runs.get((m, p.name, seed))
        if args.report_only or (have and len(have["losses"]) >= plan[p.name]["budget"]):
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        code = code_version(m.split("[")[0])
        try:
            rec, front = run_method(m, p, seed, plan[p.name]["budget"])
        except Exception as exc:  # noqa: BLE001 - one method's failure is reported
            failed.append(f"{m} on {p.name} seed {seed}: {type(exc).__name__}: {exc}")
            log(f"FAILED {failed[-1]}")
            continue
        record = {"method": m, "problem": p.name, "seed": seed,
                  "budget": plan[p.name]["budget"], "values": rec.values,
                  "losses": rec.losses, "constraints": rec.constraints,
                  "own_cpu": rec.own_cpu, "own_wall": rec.own_wall, "front": front,
                  "cpu_s": time.process_time() - c0,
                  "wall_s": time.perf_counter() - t0,
                  "code": code, "time": time.strftime("%Y-%m-%d %H:%M:%S")}
        runs[m, p.name, seed] = record
        append_run(paths[0], record)
        log(f"{p.name:17s} {m:14s} seed {seed}: HV@{record['budget']} "
            f"{fmt(hv_at(p, record, record['budget']))}  front {front}  "
            f"{record['wall_s']:6.1f}s wall {record['cpu_s']:6.1f}s CPU")
    summary = summarize(problems, methods, runs, plan)
    text = report(problems, methods, summary, plan)
    command = "python benchmarks/multiobjective.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    cut = [f"{n} on {q['seeds']} seeds of {q['budget']} evaluations" for n, q in plan.items()
           if (q["seeds"], q["budget"]) != (seeds, budget)]
    peers = [f"{m} = Optuna {PEERS[m]}" for m in methods if m in PEERS]
    header = (f"## Multi-objective benchmark\n\n`{command.strip()}`: {len(problems)} problems, "
              f"{seeds} seeds, {budget} evaluations per run"
              + "".join(f"; {c}" for c in cut)
              + f". Runs made here: {time.perf_counter() - wall:.0f} s wall, "
              f"{time.process_time() - started:.0f} s CPU (reused: "
              f"{', '.join(sorted(reuse)) or 'none'}). Machine: {platform.machine()}, "
              f"{os.cpu_count()} CPUs shared with other work, Python "
              f"{platform.python_version()}, BLAS on 1 thread."
              + (" Peers: " + ", ".join(peers) + " (Optuna's defaults, the seed, "
                 "constraints_func where constrained; RandomSampler takes none)." if peers
                 else "") + "\n\n")
    used = [r for (m, n, seed), r in runs.items() if m in methods and n in plan
            and seed < plan[n]["seeds"]]
    if used:
        times = sorted(r["time"] for r in used)
        codes = {m: sorted({r.get("code") for r in used if r["method"] == m} - {None})
                 for m in methods}
        header += (f"The runs reported were made from {times[0]} to {times[-1]} (local time)"
                   + "".join(f"; {m} at source digest {', '.join(c)}" for m, c in
                             codes.items() if c)
                   + " (`code_version`: the strategy's and the study's files).\n\n")
    if failed:
        header += "Failed runs (not in the tables):\n\n" + "".join(f"- {f}\n" for f in failed)
        header += "\n"
    print(header + text)
    prefix = Path(args.out) if args.out else RESULTS / ("multiobjective-quick" if args.quick
                                                        else "multiobjective")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{prefix}.md").write_text(header + text + "\n", encoding="utf-8")
    Path(f"{prefix}.json").write_text(json.dumps(
        {"command": command.strip(), "plan": plan, "methods": methods, "failed": failed,
         "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, **summary},
        indent=1) + "\n", encoding="utf-8")
    log(f"written to {prefix}.md and {prefix}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
