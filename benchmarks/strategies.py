"""Benchmark: ``bayes``, ``genetic`` and ``random`` against Optuna (GP, multivariate TPE) and raw
``skopt.gp_minimize`` on the problems of ``benchmarks/strategy_problems.py``.

Install the peers first (they stay out of the core's dependencies)::

    .venv/bin/pip install -c constraints.txt -r benchmarks/requirements.txt

Then::

    nice .venv/bin/python benchmarks/strategies.py --quick      # 10 problems, 3 seeds, 50 trials
    nice .venv/bin/python benchmarks/strategies.py              # 29 problems, 5 seeds, 100 trials

The full run is 145 runs of 100 trials per method: hours on a busy 2-core machine (Optuna's
GPSampler takes up to seconds per proposal on mixed spaces; gp_minimize about 0.5 s per
proposal at 100 trials even on an idle one, which is why it is not in the default list:
add it with ``--methods``). Runs are appended as they finish, so a long run can be split
over several invocations (``--reuse`` skips what is already there) and the report
rebuilt from the stored runs at no cost. ``--cut gp_minimize=3x50`` runs (and reports) a
method on fewer seeds or trials than the rest, when the whole does not fit: the report
names the cut, ranks that method in a table of its own and meets it head-to-head on the
seeds both have.

Every run is one sequence of ``--trials`` evaluations; the best at 50 trials is read from
the same run (no method here knows its budget: gp_minimize's ``n_calls`` only stops it, so
its first 50 proposals are the same as those of a 50-call run). Reported per problem and
budget: the median over seeds of the best value found (for a noisy problem the noiseless
value of the configuration with the best observed value); overall: the mean rank of each
method (ranked per problem on those medians, ties share a rank), wins/ties/losses of
``bayes`` and ``genetic`` against every other method, and each method's own time per
proposal (time between one evaluation's end and the next one's start: the proposal plus
the library's bookkeeping) averaged over proposals 41-50 and 91-100.

Method names take options: ``skopt[acq_func=EI,base_estimator=ET]`` runs the plugin with
them, ``bayes-batch4`` asks 4 configurations at a time (constant liar) and tells them
together, at the same number of evaluations. Each finished run is appended to
``--runs`` (JSON lines); ``--reuse`` takes a method's runs from there instead of running
it again (the peers do not change while ``bayes`` is tuned). BLAS and torch run on one
thread for every method: on a shared 2-core machine threads measure the machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT_METHODS = ("bayes", "genetic", "random", "optuna-gp", "optuna-tpe")


class Timed:
    """Wraps a loss: per evaluation its observed value, its truth and when it ran."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        self.observed: list[float] = []
        self.truth: list[float] = []
        self.own: list[float] = []  # seconds before each evaluation spent outside it
        self.last = time.perf_counter()

    def start(self) -> None:
        self.last = time.perf_counter()

    def __call__(self, params: dict[str, Any]) -> float:
        self.own.append(time.perf_counter() - self.last)
        try:
            value = float(self.problem.loss(params))
            truth = float(self.problem.truth(params)) if self.problem.truth else value
        finally:
            self.last = time.perf_counter()
        self.observed.append(value)
        self.truth.append(truth)
        return value


# the space, through each peer's API ------------------------------------------------------

def optuna_params(trial: Any, space: Any) -> dict[str, Any]:
    """Define-by-run: a conditional parameter is suggested only when its condition holds."""
    from hpo_framework.space import Categorical, Constant, Float, Int

    params: dict[str, Any] = {}
    for d in space.dimensions:
        if not d.is_active(params):
            continue
        if isinstance(d, Constant):
            params[d.name] = d.value
        elif isinstance(d, Categorical):
            params[d.name] = trial.suggest_categorical(d.name, d.choices)
        elif isinstance(d, Int):
            params[d.name] = trial.suggest_int(d.name, d.low, d.high, log=d.log)
        elif isinstance(d, Float):
            params[d.name] = trial.suggest_float(d.name, d.low, d.high, log=d.log)
    return params


def skopt_dimensions(space: Any) -> list[Any]:
    """Every searchable parameter (skopt has no conditions: inactive values are dropped)."""
    from skopt.space import Categorical as SkCat
    from skopt.space import Integer, Real

    from hpo_framework.space import Categorical, Int

    out = []
    for d in space.searchable:
        prior = "log-uniform" if getattr(d, "log", False) else "uniform"
        if isinstance(d, Categorical):
            out.append(SkCat(d.choices, name=d.name))
        elif isinstance(d, Int):
            out.append(Integer(d.low, d.high, prior=prior, name=d.name))
        else:
            out.append(Real(d.low, d.high, prior=prior, name=d.name))
    return out


# runners: each fills a Timed with `trials` evaluations ------------------------------------

def split_methods(text: str) -> list[str]:
    """Comma-separated method names; commas inside brackets belong to the options."""
    out, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += ch
    out.append(current.strip())
    return [m for m in out if m]


def parse_method(spec: str) -> tuple[str, dict[str, Any]]:
    if "[" not in spec:
        return spec, {}
    import yaml

    name, rest = spec.split("[", 1)
    options = {}
    for item in rest.rstrip("]").split(","):
        key, value = item.split("=", 1)
        options[key.strip()] = yaml.safe_load(value)
    return name, options


def run_ours(problem: Any, strategy: str, seed: int, trials: int, fn: Timed,
             **options: Any) -> None:
    from hpo_framework import optimize

    fn.start()
    optimize(fn, problem.space, strategy=strategy, n_trials=trials, seed=seed, **options)


def run_batch(problem: Any, strategy: str, seed: int, trials: int, fn: Timed, batch: int,
              **options: Any) -> None:
    """Ask ``batch`` at a time and tell them together: synchronous parallel workers."""
    from hpo_framework import Space, Trial, TrialState, get_registry

    space = Space.from_dict(problem.space)
    strat = get_registry().get("strategy", strategy)(space, seed=seed, **options)
    history: list[Any] = []
    fn.start()
    while len(history) < trials:
        asked = strat.ask(min(batch, trials - len(history)))
        done = []
        for i, params in enumerate(asked):
            if i:  # the batch's proposals were all made before its first evaluation
                fn.last = time.perf_counter()
            loss = fn(params)
            done.append(Trial(number=len(history), params=space.active(params),
                              state=TrialState.COMPLETE, value=loss, loss=loss))
            history.append(done[-1])
        strat.tell(done)  # telling counts toward the next batch's own time


def run_optuna(problem: Any, sampler: str, seed: int, trials: int, fn: Timed) -> None:
    import optuna

    from hpo_framework import Space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = Space.from_dict(problem.space)
    if sampler == "gp":
        made = optuna.samplers.GPSampler(seed=seed)
    else:
        made = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ExperimentalWarning (multivariate, GPSampler)
        study = optuna.create_study(sampler=made)
        fn.start()
        study.optimize(lambda trial: fn(optuna_params(trial, space)), n_trials=trials)


def run_gp_minimize(problem: Any, seed: int, trials: int, fn: Timed) -> None:
    from skopt import gp_minimize

    from hpo_framework import Space

    space = Space.from_dict(problem.space)
    dims = skopt_dimensions(space)
    names = [d.name for d in dims]

    def func(x: list) -> float:
        params = {n: (v.item() if hasattr(v, "item") else v) for n, v in zip(names, x,
                                                                               strict=True)}
        return fn(space.active(params))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn.start()
        gp_minimize(func, dims, n_calls=trials, random_state=seed)


def run_method(spec: str, problem: Any, seed: int, trials: int) -> Timed:
    name, options = parse_method(spec)
    fn = Timed(problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name in ("bayes", "genetic", "random", "skopt", "tpe", "auto"):
            run_ours(problem, name, seed, trials, fn, **options)
        elif name.endswith("-batch4"):
            run_batch(problem, name.split("-")[0], seed, trials, fn, 4, **options)
        elif name == "optuna-gp":
            run_optuna(problem, "gp", seed, trials, fn)
        elif name == "optuna-tpe":
            run_optuna(problem, "tpe", seed, trials, fn)
        elif name == "gp_minimize":
            run_gp_minimize(problem, seed, trials, fn)
        else:
            raise SystemExit(f"unknown method {spec!r}")
    return fn


# statistics ----------------------------------------------------------------------------

def best_at(run: dict[str, Any], budget: int) -> float:
    """The truth at the best observed value among the first ``budget`` evaluations."""
    observed, truth = run["observed"][:budget], run["truth"][:budget]
    i = min(range(len(observed)), key=lambda k: (observed[k], k))
    return truth[i]


def own_ms(run: dict[str, Any], budget: int) -> float:
    window = run["own"][max(0, budget - 10):budget]
    return 1000 * statistics.fmean(window)


def ranks(values: dict[str, float]) -> dict[str, float]:
    """1 = best; equal values (to 9 significant digits) share the mean of their ranks."""
    key = {m: float(f"{v:.9g}") for m, v in values.items()}
    order = sorted(key, key=key.get)
    out: dict[str, float] = {}
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and key[order[j + 1]] == key[order[i]]:
            j += 1
        for m in order[i:j + 1]:
            out[m] = (i + j) / 2 + 1
        i = j + 1
    return out


def fmt(v: float) -> str:
    return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.3e}"


def parse_cuts(text: str, methods: list[str], seeds: int, trials: int) -> dict[str, tuple]:
    """``gp_minimize=3x50,...``: that method runs (and is reported) on 3 seeds of 50 trials."""
    cuts = {m: (seeds, trials) for m in methods}
    for item in split_methods(text):
        name, _, size = item.rpartition("=")
        k, _, t = size.partition("x")
        if name not in cuts or not k.isdigit() or not t.isdigit():
            raise SystemExit(f"--cut {item!r}: expected METHOD=SEEDSxTRIALS for a method "
                             "of --methods")
        cuts[name] = (min(int(k), seeds), min(int(t), trials))
    return cuts


def report(problems: list[Any], methods: list[str], runs: dict, seeds: int,
           budgets: list[int], focus: list[str],
           cuts: dict[str, tuple[int, int]] | None = None) -> str:
    """Ranks among the methods run on every problem at a budget with every seed; a method
    cut to fewer seeds is ranked in a table of its own and met head-to-head on the seeds
    both have."""
    cuts = cuts or {}
    k_of = {m: cuts.get(m, (seeds, budgets[-1]))[0] for m in methods}
    t_of = {m: cuts.get(m, (seeds, budgets[-1]))[1] for m in methods}

    def have(m: str, p: str, b: int, k: int) -> bool:
        return b <= t_of[m] and all(len(runs.get((m, p, s), {}).get("observed", ())) >= b
                                    for s in range(k))

    def median(m: str, p: str, b: int, k: int) -> float:
        return statistics.median(best_at(runs[m, p, s], b) for s in range(k))

    med = {(b, p.name, m): median(m, p.name, b, k_of[m])
           for b in budgets for p in problems for m in methods if have(m, p.name, b, k_of[m])}
    complete = {b: [m for m in methods if all((b, p.name, m) in med for p in problems)]
                for b in budgets}
    full = {b: [m for m in complete[b] if k_of[m] == seeds] for b in budgets}
    rank_by = {(b, p.name): ranks({m: med[b, p.name, m] for m in full[b]})
               for b in budgets for p in problems}

    def mean_rank(b: int, m: str, among: list[str]) -> float:
        return statistics.fmean(ranks({o: med[b, p.name, o] for o in among})[m]
                                for p in problems)

    def own(m: str, b: int) -> str:
        vals = [own_ms(runs[m, p.name, s], b) for p in problems for s in range(k_of[m])
                if have(m, p.name, b, k_of[m])]
        return f"{statistics.fmean(vals):.1f}" if vals else "-"

    def label(m: str) -> str:
        k, t = k_of[m], t_of[m]
        cut = [f"{k} seeds"] * (k < seeds) + [f"{t} trials only"] * (t < budgets[-1])
        return m + (f" ({', '.join(cut)})" if cut else "")

    lines = [f"### Mean rank (1 = best; per problem, on the median best over {seeds} seeds)\n",
             "| method | " + " | ".join(f"{b} trials" for b in budgets) + " | "
             + " | ".join(f"own ms / proposal at {b}" for b in budgets) + " |",
             "|---|" + "---|" * (2 * len(budgets))]
    for m in methods:
        cells = [f"{mean_rank(b, m, full[b]):.2f}" if m in full[b]
                 else "cut" if m in complete[b] else "not run on all" for b in budgets]
        lines.append(f"| {label(m)} | " + " | ".join(cells + [own(m, b) for b in budgets])
                     + " |")
    for b in budgets:
        extra = [m for m in complete[b] if m not in full[b]]
        if extra:
            among = complete[b]
            lines += [f"\n### Mean rank at {b} trials with {', '.join(map(label, extra))} "
                      "ranked too (its median over fewer seeds)\n",
                      "| method | mean rank |", "|---|---|"]
            lines += [f"| {label(m)} | {mean_rank(b, m, among):.2f} |" for m in among]
    wins: dict[tuple[str, str, int], tuple[int, int, int, int]] = {}
    for f in focus:
        lines += [f"\n### {f}: wins / ties / losses against each method (median best per "
                  "problem; no worse = wins + ties; against a cut method on the seeds both "
                  "have)\n",
                  "| against | " + " | ".join(f"{b} trials" for b in budgets) + " | "
                  + " | ".join(f"no worse at {b}" for b in budgets) + " |",
                  "|---|" + "---|" * (2 * len(budgets))]
        for other in methods:
            if other == f:
                continue
            cells, noworse = [], []
            k = min(k_of[f], k_of[other])
            for b in budgets:
                both = [p.name for p in problems if have(f, p.name, b, k)
                        and have(other, p.name, b, k)]
                if not both:
                    cells.append("-")
                    noworse.append("-")
                    continue
                w = t = lo = 0
                for p in both:
                    r = ranks({f: median(f, p, b, k), other: median(other, p, b, k)})
                    w, t, lo = (w + (r[f] < r[other]), t + (r[f] == r[other]),
                                lo + (r[f] > r[other]))
                wins[f, other, b] = (w, t, lo, len(both))
                of = "" if len(both) == len(problems) else f" (of {len(both)})"
                cells.append(f"{w} / {t} / {lo}{of}")
                noworse.append(f"{100 * (w + t) / len(both):.0f} %")
            lines.append(f"| {label(other)} | " + " | ".join(cells + noworse) + " |")
    lines += goals(problems, budgets, full, mean_rank, wins, own)
    for b in budgets:
        shown = [m for m in methods if b <= t_of[m]]
        lines += [f"\n### Median best at {b} trials ({seeds} seeds unless marked; rank in "
                  "brackets)\n",
                  "| problem | character | " + " | ".join(map(label, shown)) + " |",
                  "|---|---|" + "---|" * len(shown)]
        for p in problems:
            r = rank_by[b, p.name]
            cells = [(f"{fmt(med[b, p.name, m])}" + (f" ({r[m]:g})" if m in r else ""))
                     if (b, p.name, m) in med else "-" for m in shown]
            lines.append(f"| {p.name} | {p.character} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def goals(problems: list[Any], budgets: list[int], full: dict, mean_rank: Callable,
          wins: dict, own: Callable) -> list[str]:
    """The issue's checks for ``bayes`` against Optuna, where the run has what they need."""
    peers = ("optuna-gp", "optuna-tpe")
    if not all("bayes" in full[b] and all(q in full[b] for q in peers) for b in budgets):
        return []
    out = ["\n### Goals (bayes against Optuna)\n", "| check | " + " | ".join(
        f"{b} trials" for b in budgets) + " |", "|---|" + "---|" * len(budgets)]
    for q in peers:
        cells = []
        for b in budgets:
            ours, theirs = mean_rank(b, "bayes", full[b]), mean_rank(b, q, full[b])
            cells.append(f"{ours:.2f} vs {theirs:.2f}: {'met' if ours < theirs else 'NOT met'}")
        out.append(f"| mean rank better than {q} | " + " | ".join(cells) + " |")
    cells = []
    for b in budgets:
        w, t, _, n = wins.get(("bayes", "optuna-gp", b), (0, 0, 0, 0))
        share = 100 * (w + t) / n if n else math.nan
        cells.append(f"{share:.0f} % of {n}: {'met' if share >= 60 else 'NOT met'}" if n
                     else "-")
    out.append("| median best no worse than optuna-gp on >= 60 % | " + " | ".join(cells) + " |")
    cells = []
    for b in budgets:
        ours, theirs = own("bayes", b), own("optuna-gp", b)
        ratio = float(ours) / float(theirs) if "-" not in (ours, theirs) else math.nan
        cells.append(f"{ours} vs {theirs} ms: {ratio:.2f}x")
    out.append("| own time per proposal, bayes vs optuna-gp (goal at 100: <= 1x) | "
               + " | ".join(cells) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the problems marked quick, 3 seeds, 50 trials")
    parser.add_argument("--problems", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--seeds", type=int, default=None, help="default 5 (quick: 3)")
    parser.add_argument("--trials", type=int, default=None, help="default 100 (quick: 50)")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help="comma-separated; options in brackets: skopt[acq_func=EI]")
    parser.add_argument("--focus", default="bayes,genetic",
                        help="methods whose wins against every other are tabled")
    parser.add_argument("--reuse", default="",
                        help="methods whose runs are taken from --runs where there (the "
                             "missing ones are run)")
    parser.add_argument("--cut", default="",
                        help="METHOD=SEEDSxTRIALS,...: run and report that method on fewer "
                             "seeds or trials (say so in the report): gp_minimize=3x50")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: the report from the stored runs of --reuse")
    parser.add_argument("--runs", default=str(RESULTS / "strategies-runs.jsonl"),
                        help="JSON lines of runs: new runs are appended to the first file, "
                             "--reuse reads all (comma-separated)")
    parser.add_argument("--out", default=None, help="markdown report (default: "
                        "results/strategies.md, quick: results/strategies-quick.md)")
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"  # before numpy loads (see the docstring)
    sys.path.insert(0, str(HERE))
    from strategy_problems import problems as all_problems

    problems = all_problems()
    if args.problems:
        by_name = {p.name: p for p in problems}
        problems = [by_name[n] for n in args.problems.split(",")]  # in the order given
    elif args.quick:
        problems = [p for p in problems if p.quick]
    seeds = args.seeds or (3 if args.quick else 5)
    trials = args.trials or (50 if args.quick else 100)
    budgets = sorted({b for b in (50, trials) if b <= trials})
    methods = split_methods(args.methods)
    reuse = set(split_methods(args.reuse))
    cuts = parse_cuts(args.cut, methods, seeds, trials)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    paths = [Path(p) for p in args.runs.split(",")]
    runs_path = paths[0]
    runs: dict[tuple[str, str, int], dict[str, Any]] = {}
    for path in paths if reuse else []:  # the last file's run wins
        for line in path.read_text().splitlines() if path.exists() else []:
            r = json.loads(line)
            if r["method"] in reuse:  # a shorter run counts for the budgets it reached
                runs[r["method"], r["problem"], r["seed"]] = r
    started = time.perf_counter()
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    for p in problems:
        for m in methods:
            for seed in range(cuts[m][0]):
                if (m, p.name, seed) in runs or args.report_only:
                    continue
                t0 = time.perf_counter()
                fn = run_method(m, p, seed, cuts[m][1])
                record = {"method": m, "problem": p.name, "seed": seed, "trials": cuts[m][1],
                          "observed": fn.observed, "truth": fn.truth, "own": fn.own,
                          "time": time.strftime("%Y-%m-%d %H:%M:%S")}
                runs[m, p.name, seed] = record
                runs_path.parent.mkdir(parents=True, exist_ok=True)
                with runs_path.open("a") as fh:
                    fh.write(json.dumps(record) + "\n")
                log(f"{p.name:18s} {m:24s} seed {seed}: best@{cuts[m][1]} "
                    f"{fmt(best_at(record, cuts[m][1]))}  {time.perf_counter() - t0:6.1f}s")
    focus = [f for f in split_methods(args.focus) if f in methods]
    text = report(problems, methods, runs, seeds, budgets, focus, cuts)
    command = "python benchmarks/strategies.py " + " ".join(argv if argv is not None
                                                             else sys.argv[1:])
    header = (f"## Strategy benchmark\n\n`{command.strip()}`: {len(problems)} problems, "
              f"{seeds} seeds, {trials} trials per run"
              + "".join(f"; {m} on {k} seeds of {t} trials" for m, (k, t) in cuts.items()
                        if (k, t) != (seeds, trials))
              + f"; {time.perf_counter() - started:.0f} s "
              f"for the runs made here (reused: {', '.join(sorted(reuse)) or 'none'}), "
              f"{os.cpu_count()} CPUs, BLAS on 1 thread.\n\n")
    print(header + text)
    out = Path(args.out) if args.out else RESULTS / ("strategies-quick.md" if args.quick
                                                     else "strategies.md")
    out.write_text(header + text + "\n", encoding="utf-8")
    log(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
