"""Benchmark: what one ``bayes`` proposal costs with several objectives and constraints as
the history grows, and what bounding it costs in hypervolume.

Past ``max_history`` (default 300) finished trials the GPs of several objectives and of
constraints are fitted on subsets (``plugins/hpo-bayes/hpo_bayes/bounded.py``: the
front, the latest quarter and a seeded sample; for a constraint also the values nearest
0) and EHVI's boxes hold at most ``max_history // 3`` front points; ``max_history=0``
is the unbounded path (every trial, one GP per objective and constraint, cubic). Three
parts (``--parts``), each side by side in one run:

1. **cost**: CPU ms of one ``ask`` after a ``restore`` of n random COMPLETE trials
   (300 / 1,000 / 3,000) on ZDT1 (2 objectives, 6 variables; ParEGO, the default, and
   EHVI), C2-DTLZ2 (2 objectives and 1 constraint; ParEGO) and DTLZ2 with 3 objectives
   (EHVI: more boxes, and the non-dominated sort in O(n^2)), and (``--cases``, stored
   apart) ZDT1 with EHVI on a history half of whose trials lie on the front (a front of
   hundreds of points: EHVI's boxes capped at ``max_history // 3`` front points), from
   ``mo_problems.py``: bounded, unbounded and Optuna's ``GPSampler`` given the same
   trials (``study.ask()``; Optuna 5's GPSampler takes several objectives, logEHVI, and
   constraints). Unbounded and GPSampler run up to ``--unbounded-max`` (cubic); past
   300 they run once;
2. **same**: the proposals of a ``--same-trials`` ask/tell run with ``max_history`` set
   to that number and with ``max_history=0``, compared one by one (the bound does not
   act up to it: they must be identical);
3. **quality**: hypervolume (the problem's reference point, feasible trials) after
   ``--quality-trials`` ask/tell trials with ``max_history=--quality-bound`` against
   unbounded, ``--seeds`` seeds; a scaled-down check (the bound acts on 70 % of the
   proposals, as 300 does at 1,000 trials).

The stored results were written by::

    nice -n 10 .venv/bin/python benchmarks/bayes_mo_scale.py --parts cost same
    nice -n 10 .venv/bin/python benchmarks/bayes_mo_scale.py --parts cost \
        --cases "zdt1 ehvi, half on the front" --out benchmarks/results/bayes-mo-scale-front.md \
        --runs benchmarks/results/bayes-mo-scale-front-runs.jsonl
    nice -n 10 .venv/bin/python benchmarks/bayes_mo_scale.py --parts quality \
        --out benchmarks/results/bayes-mo-scale-quality.md \
        --runs benchmarks/results/bayes-mo-scale-quality-runs.jsonl
    nice -n 10 .venv/bin/python benchmarks/bayes_mo_scale.py --parts quality \
        --quality-cases "zdt1 ehvi" --out benchmarks/results/bayes-mo-scale-quality-ehvi.md \
        --runs benchmarks/results/bayes-mo-scale-quality-ehvi-runs.jsonl
    nice -n 10 .venv/bin/python benchmarks/bayes_mo_scale.py --parts quality --bounded-only \
        --front-share 4 --quality-cases "zdt1 parego" "c2-dtlz2 parego" "zdt1 ehvi" \
        --out benchmarks/results/bayes-mo-scale-quality-front4.md \
        --runs benchmarks/results/bayes-mo-scale-quality-front4-runs.jsonl
    nice -n 10 .venv/bin/python benchmarks/bayes_mo_scale.py --parts quality --bounded-only \
        --front-share 4 --box-share 1 --quality-cases "zdt1 ehvi" \
        --out benchmarks/results/bayes-mo-scale-quality-front4-box1.md \
        --runs benchmarks/results/bayes-mo-scale-quality-front4-box1-runs.jsonl

BLAS and torch run on one thread: CPU time is then the work done, whatever the
neighbours on a shared machine do.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

#: (label, problem, bayes options)
CASES = {
    "zdt1 parego": ("zdt1", {}),
    "zdt1 ehvi": ("zdt1", {"multi_objective": "ehvi"}),
    "c2-dtlz2 parego": ("c2-dtlz2", {}),
    "dtlz2-3 ehvi": ("dtlz2-3", {"multi_objective": "ehvi"}),
    "zdt1 ehvi, half on the front": ("zdt1", {"multi_objective": "ehvi"}),
}
#: cases whose history has this share of its trials on the front (ZDT1: x1..x5 = 0), as
#: a long run that found it has: a front of hundreds of points (EHVI's boxes grow)
ON_FRONT = {"zdt1 ehvi, half on the front": 0.5}


def problem(name: str) -> Any:
    from mo_problems import by_name

    return by_name()[name]


def trial(number: int, params: dict[str, Any], prob: Any) -> Any:
    from hpo_framework import Trial, TrialState

    values, cons = prob.evaluate(params)
    losses = prob.losses(values)
    return Trial(number=number, params=params, state=TrialState.COMPLETE, value=values[0],
                 loss=losses[0], values=values, losses=losses, constraints=cons)


def history(name: str, n: int, seed: int = 0, on_front: float = 0.0
            ) -> tuple[Any, list[Any]]:
    """(space, ``n`` COMPLETE trials at random configurations; ``on_front``: that share
    of them with every variable but the first at 0, on ZDT's front)."""
    from hpo_framework import Space

    prob = problem(name)
    space = Space.from_dict(prob.space)
    rs = random.Random(seed)
    out = []
    for i in range(n):
        u = [rs.random() for _ in space.searchable]
        if on_front and rs.random() < on_front:
            u[1:] = [0.0] * (len(u) - 1)
        out.append(trial(i, space.decode(u), prob))
    return space, out


def ask_ours(space: Any, trials: list[Any], options: dict[str, Any]
             ) -> tuple[float, int, int | None]:
    """(CPU seconds of one ask after a restore, most points a GP was fitted on, EHVI's
    boxes at the last call or None)."""
    import hpo_bayes.strategy as strategy_module

    seen: list[int] = []
    inner = strategy_module.boxes

    def counted(points: Any, ref: Any) -> Any:
        out = inner(points, ref)
        seen.append(len(out[0]))
        return out

    strategy_module.boxes = counted
    try:
        strategy = strategy_module.BayesStrategy(space, 0, **options)
        strategy.restore(trials)
        started = time.process_time()
        strategy.ask(1)
        seconds = time.process_time() - started
    finally:
        strategy_module.boxes = inner
    fitted = max(gp.X_train_.shape[0] for gp, _ in strategy._fits.values())
    return seconds, fitted, (seen[-1] if seen else None)


def ask_optuna(prob: Any, trials: list[Any]) -> float:
    """CPU seconds of GPSampler's proposal (``study.ask()`` samples every parameter)."""
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    dists = {k: FloatDistribution(v["low"], v["high"]) for k, v in prob.space.items()}
    study = optuna.create_study(directions=prob.directions,
                                sampler=optuna.samplers.GPSampler(seed=0))
    study.add_trials([optuna.trial.create_trial(
        params=t.params, distributions=dists, values=t.values,
        system_attrs={} if t.constraints is None else {"constraints": list(t.constraints)})
        for t in trials])
    started = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.ask(dists)
    return time.process_time() - started


def part_cost(args: argparse.Namespace, log: Any) -> list[dict[str, Any]]:
    rows = []
    for label in args.cases:  # imports and first calls, not timed
        name, options = CASES[label]
        space, trials = history(name, 20)
        ask_ours(space, trials, options)
        ask_optuna(problem(name), trials)
    for label in args.cases:
        name, options = CASES[label]
        for n in args.sizes:
            space, trials = history(name, n, on_front=ON_FRONT.get(label, 0.0))
            methods = [("bayes (max_history=300)", options)]
            if n <= args.unbounded_max:
                methods.append(("bayes unbounded (max_history=0)",
                                {**options, "max_history": 0}))
            for method, opts in methods:
                once = opts.get("max_history") == 0 and n > 300
                got = [ask_ours(space, trials, opts) for _ in range(1 if once else args.repeats)]
                rows.append({"case": label, "n": n, "method": method,
                             "ms": 1000 * statistics.median(g[0] for g in got),
                             "fitted": got[-1][1], "boxes": got[-1][2]})
                log(rows[-1])
            if n <= args.unbounded_max and "optuna" not in args.skip:
                reps = 1 if n > 300 else args.repeats
                times = [ask_optuna(problem(name), trials) for _ in range(reps)]
                rows.append({"case": label, "n": n, "method": "Optuna GPSampler",
                             "ms": 1000 * statistics.median(times), "fitted": n,
                             "boxes": None})
                log(rows[-1])
    return rows


def run(label: str, trials: int, seed: int, extra: dict[str, Any]
        ) -> tuple[list[dict[str, Any]], list[tuple[list[float], Any]], float]:
    """An ask/tell run: (proposals, (losses, constraints) per trial, CPU seconds)."""
    from hpo_bayes.strategy import BayesStrategy

    from hpo_framework import Space

    name, options = CASES[label]
    prob = problem(name)
    space = Space.from_dict(prob.space)
    strategy = BayesStrategy(space, seed, **{**options, **extra})
    asked, outcomes = [], []
    started = time.process_time()
    for number in range(trials):
        (params,) = strategy.ask(1)
        t = trial(number, params, prob)
        asked.append(params)
        outcomes.append((t.losses, t.constraints))
        strategy.tell([t])
    return asked, outcomes, time.process_time() - started


def part_same(args: argparse.Namespace, log: Any) -> list[dict[str, Any]]:
    rows = []
    for label in args.cases:
        a, _, _ = run(label, args.same_trials, 0, {"max_history": args.same_trials})
        b, _, _ = run(label, args.same_trials, 0, {"max_history": 0})
        rows.append({"case": label, "trials": args.same_trials,
                     "identical": sum(x == y for x, y in zip(a, b, strict=True))})
        log(rows[-1])
    return rows


def part_quality(args: argparse.Namespace, log: Any) -> list[dict[str, Any]]:
    import hpo_bayes.bounded as bounded
    from mo_problems import hv_at

    bounded.FRONT_SHARE, bounded.BOX_SHARE = args.front_share, args.box_share
    variant = ("" if (args.front_share, args.box_share) == (10, 3) else
               f", front 1/{args.front_share}, boxes 1/{args.box_share}")
    methods = [(f"max_history={args.quality_bound}{variant}",
                {"max_history": args.quality_bound})]
    if not args.bounded_only:
        methods.append(("unbounded", {"max_history": 0}))
    rows = []
    for label in args.quality_cases:
        prob = problem(CASES[label][0])
        for seed in range(args.seeds):
            for method, extra in methods:
                _, outcomes, seconds = run(label, args.quality_trials, seed, extra)
                rows.append({"case": label, "seed": seed, "method": method,
                             "hv": hv_at(outcomes, args.quality_trials, prob.reference),
                             "hv_at_bound": hv_at(outcomes, args.quality_bound,
                                                  prob.reference),
                             "cpu_s": seconds})
                log(rows[-1])
    return rows


def report(args: argparse.Namespace, cost: list, same: list, quality: list,
           started: str) -> str:
    lines = ["# bayes at large budgets, several objectives and constraints: each GP fitted "
             "on at most `max_history` trials", "",
             f"Written by `benchmarks/bayes_mo_scale.py` "
             f"({' '.join(sys.argv[1:]) or 'defaults'}), {started} - "
             f"{time.strftime('%H:%M UTC', time.gmtime())}, "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared "
             "with other sessions; CPU time, BLAS and torch on one thread.", ""]
    if cost:
        sizes = sorted({r["n"] for r in cost})
        lines += ["## CPU ms per ask by finished trials in the history", "",
                  "One ask after a `restore` of n random COMPLETE trials (median of "
                  f"{args.repeats}; unbounded and Optuna past 300: one ask); `-`: not run "
                  "(cubic). Points fitted: the most any one GP was fitted on; boxes: "
                  "EHVI's box count.", "",
                  "| problem | method | " + " | ".join(f"{n:,}" for n in sizes)
                  + " | points fitted at the largest | boxes at the largest |",
                  "|---|---|" + "---|" * len(sizes) + "---|---|"]
        for case in dict.fromkeys(r["case"] for r in cost):
            for method in dict.fromkeys(r["method"] for r in cost):
                got = {r["n"]: r for r in cost if r["case"] == case and r["method"] == method}
                if not got:
                    continue
                cells = [f"{got[n]['ms']:.0f}" if n in got else "-" for n in sizes]
                top = got[max(got)]
                lines.append(f"| {case} | {method} | " + " | ".join(cells)
                             + f" | {top['fitted']:,} | "
                             + (f"{top['boxes']} |" if top["boxes"] is not None else "- |"))
        lines.append("")
    if same:
        lines += ["## Below the bound nothing changes", ""]
        lines += [f"- {r['case']}: {r['identical']} of {r['trials']} proposals identical "
                  f"between `max_history={r['trials']}` and `max_history=0`" for r in same]
        lines.append("")
    if quality:
        b = args.quality_bound
        lines += [f"## Hypervolume at {args.quality_trials} trials: `max_history={b}` "
                  "against unbounded", "",
                  f"{args.seeds} seeds; medians of the hypervolume of the feasible trials at "
                  "the problem's reference point (higher is better), at trial "
                  f"{args.quality_trials} and at trial {b} (before the bound acts), and of "
                  "each run's CPU seconds.", "",
                  f"| problem | method | median HV at {args.quality_trials} | per seed | "
                  f"median HV at {b} | CPU s per run |", "|---|---|---|---|---|---|"]
        for case in dict.fromkeys(r["case"] for r in quality):
            for method in dict.fromkeys(r["method"] for r in quality):
                got = [r for r in quality if r["case"] == case and r["method"] == method]
                if not got:
                    continue
                lines.append(
                    f"| {case} | {method} | {statistics.median(r['hv'] for r in got):.4f} | "
                    f"{', '.join(format(r['hv'], '.4f') for r in got)} | "
                    f"{statistics.median(r['hv_at_bound'] for r in got):.4f} | "
                    f"{statistics.median(r['cpu_s'] for r in got):.1f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=["cost", "same", "quality"],
                        choices=("cost", "same", "quality"))
    parser.add_argument("--cases", nargs="+", choices=list(CASES),
                        default=[c for c in CASES if c not in ON_FRONT])
    parser.add_argument("--sizes", nargs="+", type=int, default=[300, 1000, 3000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--unbounded-max", type=int, default=1000)
    parser.add_argument("--skip", nargs="*", default=[], choices=("optuna",))
    parser.add_argument("--same-trials", type=int, default=40)
    parser.add_argument("--quality-cases", nargs="+", default=["zdt1 parego", "c2-dtlz2 parego"],
                        choices=list(CASES))
    parser.add_argument("--quality-trials", type=int, default=200)
    parser.add_argument("--quality-bound", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--front-share", type=int, default=10,
                        help="quality: the subset keeps max_history // this front points")
    parser.add_argument("--box-share", type=int, default=3,
                        help="quality: EHVI's boxes on max_history // this front points")
    parser.add_argument("--bounded-only", action="store_true",
                        help="quality: no unbounded runs (a variant beside stored ones)")
    parser.add_argument("--out", default=str(RESULTS / "bayes-mo-scale.md"))
    parser.add_argument("--runs", default=str(RESULTS / "bayes-mo-scale-runs.jsonl"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--report-only", action="store_true",
                        help="write the report from the latest run stored in --runs")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    def log(row: dict[str, Any]) -> None:
        print(json.dumps(row), flush=True)
        if not args.no_write:
            with open(args.runs, "a") as fh:
                fh.write(json.dumps({"started": started, **row}) + "\n")

    if args.report_only:  # the rows of the latest run in --runs (one cut short too)
        with open(args.runs) as fh:
            stored = [json.loads(line) for line in fh if line.strip()]
        started = stored[-1]["started"]
        stored = [r for r in stored if r["started"] == started]
        cost = [r for r in stored if "ms" in r]
        same = [r for r in stored if "identical" in r]
        quality = [r for r in stored if "hv" in r]
    else:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            cost = part_cost(args, log) if "cost" in args.parts else []
            same = part_same(args, log) if "same" in args.parts else []
            quality = part_quality(args, log) if "quality" in args.parts else []
    text = report(args, cost, same, quality, started)
    print(text)
    if not args.no_write:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
