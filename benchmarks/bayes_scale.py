"""Benchmark: what one ``bayes`` proposal costs as the history grows, and what bounding it
costs in sample efficiency.

``bayes`` fits its GP on at most ``max_history`` finished trials (default 300: the best
tenth, the latest quarter and a seeded random sample of the rest); ``max_history=0`` is
the unbounded path it had before (every finished trial, a fit cubic in them). Five
parts (``--parts``), each side by side in one run:

1. **cost**: CPU ms of one ``ask`` (the GP fit and the acquisition search) with a history
   of 100 / 300 / 1,000 / 3,000 finished trials (random configurations of the function,
   told through ``restore``), bounded (the default) and unbounded, beside Optuna's
   ``GPSampler`` given the same trials (``study.ask()``: its fit and acquisition), on a
   3-D (``mixed3``: float, log float, integer) and a 10-D (``rosen10``) function from
   ``overhead.py``. The unbounded path and GPSampler run up to ``--unbounded-max`` /
   ``--optuna-max`` trials (their cost is cubic: 1 ask of unbounded at 1,000 trials
   took ~5 s here); unbounded at 3,000 runs once, on the ``--unbounded-big`` problems
   (default mixed3; the stored run gave none: minutes per ask at a load of 27);
2. **same below the bound**: the proposals of a ``--same-trials`` ask/tell run with
   ``max_history`` set to that number and with ``max_history=0`` are compared one by one
   (the bound does not act up to it, so they must be identical);
3. **quality**: the best value reached by ask/tell runs of ``--quality-trials`` trials with
   ``max_history=--quality-bound`` against unbounded, on mixed3, rosen10 and ackley-5
   (``strategy_problems.py``), ``--seeds`` seeds; medians, and the CPU seconds each run
   took. The check at the default bound (300) and 1,000 trials needs hours of CPU for the
   unbounded runs (a fit of 1,000 points per proposal), so by default it is scaled down:
   a bound of 60 at 200 trials (the bound acts on 70 % of the proposals, as 300 does at
   1,000);
4. **curve**: the learning-curve model (``pruned=curve``) on a synthetic pruned study
   (:func:`asha_history`), the rule before its bound (600 values, then offset) against
   the bounded one (200 values, sampled): CPU ms per fit and the error of what the model
   is told for the pruned trials against their true final losses;
5. **asha**: the docs' 50-trial ``hpo-run --strategy bayes --pruner asha`` (sklearn on
   digits) with both curve rules and without a pruner, ``bayes``'s parts timed in CPU.

The stored results were written by::

    nice .venv/bin/python benchmarks/bayes_scale.py --parts cost same --unbounded-big
    nice .venv/bin/python benchmarks/bayes_scale.py --parts quality --quality-problems P \
        --out /tmp/q-P.md --runs benchmarks/results/bayes-scale-quality-runs.jsonl  # P: each
    nice .venv/bin/python benchmarks/bayes_scale.py --parts quality --report-only \
        --runs benchmarks/results/bayes-scale-quality-runs.jsonl \
        --out benchmarks/results/bayes-scale-quality.md
    nice .venv/bin/python benchmarks/bayes_scale.py --parts quality --quality-problems rosen10 \
        --quality-trials 300 --quality-bound 150 --seeds 1 \
        --out benchmarks/results/bayes-scale-quality150.md \
        --runs benchmarks/results/bayes-scale-quality150-runs.jsonl
    nice .venv/bin/python benchmarks/bayes_scale.py --parts curve asha \
        --out benchmarks/results/bayes-scale-pruner.md \
        --runs benchmarks/results/bayes-scale-pruner-runs.jsonl

BLAS runs on one thread (as ``bayes`` itself does; torch too): CPU time is then the
work done, whatever the neighbours on a shared machine do.
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


def problems() -> dict[str, tuple[Any, dict[str, Any]]]:
    """name -> (loss of params, space spec)."""
    from overhead import PROBLEMS
    from strategy_problems import problems as suite

    out = dict(PROBLEMS)
    ackley = next(p for p in suite() if p.name == "ackley-5")
    out["ackley-5"] = (ackley.loss, ackley.space)
    return out


def history(problem: str, n: int, seed: int = 0) -> tuple[Any, list[Any]]:
    """(space, ``n`` COMPLETE trials at random configurations)."""
    from hpo_framework import Space, Trial
    from hpo_framework.contracts.trial import TrialState

    loss, spec = problems()[problem]
    space = Space.from_dict(spec)
    rs = random.Random(seed)
    trials = []
    for i in range(n):
        params = space.decode([rs.random() for _ in space.searchable])
        v = float(loss(params))
        trials.append(Trial(number=i, params=params, state=TrialState.COMPLETE, value=v,
                            loss=v))
    return space, trials


def ask_ours(space: Any, trials: list[Any], options: dict[str, Any]) -> tuple[float, int]:
    """(CPU seconds of one ask after a restore, points the GP was fitted on)."""
    from hpo_bayes.strategy import BayesStrategy

    strategy = BayesStrategy(space, 0, **options)
    strategy.restore(trials)
    started = time.process_time()
    strategy.ask(1)
    seconds = time.process_time() - started
    fitted = strategy._gp_fit[1].X_train_.shape[0] if strategy._gp_fit else 0
    return seconds, fitted


def optuna_distributions(spec: dict[str, Any]) -> dict[str, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution

    out = {}
    for name, d in spec.items():
        cls = IntDistribution if d["type"] == "int" else FloatDistribution
        out[name] = cls(d["low"], d["high"], log=bool(d.get("log", False)))
    return out


def ask_optuna(spec: dict[str, Any], trials: list[Any]) -> float:
    """CPU seconds of GPSampler's proposal (``study.ask()`` samples every parameter)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    dists = optuna_distributions(spec)
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=0))
    study.add_trials([optuna.trial.create_trial(params=t.params, distributions=dists,
                                                value=t.loss) for t in trials])
    started = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.ask(dists)
    return time.process_time() - started


def part_cost(args: argparse.Namespace, log: Any) -> list[dict[str, Any]]:
    rows = []
    space, trials = history("mixed3", 20)  # imports and first calls, not timed
    ask_ours(space, trials, {})
    ask_optuna(problems()["mixed3"][1], trials)
    for problem in ("mixed3", "rosen10"):
        spec = problems()[problem][1]
        for n in args.sizes:
            space, trials = history(problem, n)
            methods = [("bayes (max_history=300)", {})]
            if n <= args.unbounded_max or (n <= args.unbounded_big_max
                                           and problem in args.unbounded_big):
                methods.append(("bayes unbounded (max_history=0)", {"max_history": 0}))
            for method, options in methods:
                times, fitted = [], 0
                big = options and n > args.unbounded_max
                for _ in range(1 if big else args.repeats):
                    seconds, fitted = ask_ours(space, trials, options)
                    times.append(seconds)
                rows.append({"problem": problem, "n": n, "method": method,
                             "ms": 1000 * statistics.median(times), "fitted": fitted})
                log(rows[-1])
            if n <= args.optuna_max:
                times = [ask_optuna(spec, trials) for _ in range(args.repeats)]
                rows.append({"problem": problem, "n": n, "method": "Optuna GPSampler",
                             "ms": 1000 * statistics.median(times), "fitted": n})
                log(rows[-1])
    return rows


def run(problem: str, trials: int, seed: int, options: dict[str, Any]
        ) -> tuple[list[dict[str, Any]], list[float], float]:
    """An ask/tell run: (proposals, losses, CPU seconds)."""
    from hpo_bayes.strategy import BayesStrategy

    from hpo_framework import Space, Trial
    from hpo_framework.contracts.trial import TrialState

    loss, spec = problems()[problem]
    strategy = BayesStrategy(Space.from_dict(spec), seed, **options)
    asked, values = [], []
    started = time.process_time()
    for number in range(trials):
        (params,) = strategy.ask(1)
        v = float(loss(params))
        asked.append(params)
        values.append(v)
        strategy.tell([Trial(number=number, params=params, state=TrialState.COMPLETE,
                             value=v, loss=v)])
    return asked, values, time.process_time() - started


def part_same(args: argparse.Namespace, log: Any) -> list[dict[str, Any]]:
    rows = []
    for problem in ("mixed3", "rosen10"):
        a, _, _ = run(problem, args.same_trials, 0, {"max_history": args.same_trials})
        b, _, _ = run(problem, args.same_trials, 0, {"max_history": 0})
        same = sum(x == y for x, y in zip(a, b, strict=True))
        rows.append({"problem": problem, "trials": args.same_trials, "identical": same})
        log(rows[-1])
    return rows


def part_quality(args: argparse.Namespace, log: Any) -> list[dict[str, Any]]:
    rows = []
    for problem in args.quality_problems:
        for seed in range(args.seeds):
            for label, options in ((f"max_history={args.quality_bound}",
                                    {"max_history": args.quality_bound}),
                                   ("unbounded", {"max_history": 0})):
                _, values, seconds = run(problem, args.quality_trials, seed, options)
                rows.append({"problem": problem, "seed": seed, "method": label,
                             "best": min(values), "cpu_s": seconds,
                             "best_at_bound": min(values[:args.quality_bound])})
                log(rows[-1])
    return rows


def asha_history(n: int, seed: int = 0) -> tuple[Any, list[Any], dict[int, float]]:
    """An epoch-curve study under an ASHA-like pruner: ``n`` trials on a 3-D space,
    10-step curves (loss = level(x) + 1 / sqrt(step) + noise), stopped at step 1, 3 or 9
    unless in the best half of the values seen at that step. Returns (space, trials, the
    final loss each pruned trial would have reached)."""
    import numpy as np

    from hpo_framework import Space, Trial
    from hpo_framework.contracts.trial import TrialState

    space = Space.from_dict({f"x{i}": {"type": "float", "low": 0.0, "high": 1.0}
                             for i in range(3)})
    rs = np.random.RandomState(seed)
    seen: dict[int, list[float]] = {r: [] for r in (1, 3, 9)}
    trials, truth = [], {}
    for number in range(n):
        x = rs.uniform(size=3)
        level = float(((x - 0.3) ** 2).sum())
        curve = [(s, level + 1.0 / s ** 0.5 + 0.01 * float(rs.standard_normal()))
                 for s in range(1, 11)]
        stop = None
        for rung in seen:
            value = curve[rung - 1][1]
            seen[rung].append(value)
            if value > float(np.median(seen[rung])) and len(seen[rung]) > 2:
                stop = rung
                break
        params = space.decode(x.tolist())
        if stop is None:
            trials.append(Trial(number=number, params=params, state=TrialState.COMPLETE,
                                value=curve[-1][1], loss=curve[-1][1], curve=curve))
        else:
            trials.append(Trial(number=number, params=params, state=TrialState.PRUNED,
                                curve=curve[:stop]))
            truth[number] = curve[-1][1]
    return space, trials, truth


def part_curve(args: argparse.Namespace, log: Any) -> list[dict[str, Any]]:
    """CPU ms of the curve model's fit for one proposal (a fresh model: no kept fit),
    the rule before the bound (600 values, then offset for all) and the bounded one."""
    from hpo_bayes.curve import CurveModel, offset
    from hpo_bayes.strategy import BayesStrategy

    space, trials, truth = asha_history(max(args.curve_sizes))
    rows = []
    for n in args.curve_sizes:
        strategy = BayesStrategy(space, 0)
        strategy.tell(trials[:n])
        history = strategy._history
        numbers = sorted(history.told)
        complete = [k for k in numbers if history.told[k][1] is not None]
        values = sum(len(history.curves.get(k, {})) for k in numbers)
        for label, make in (("before (600 values, then offset)",
                             lambda: CurveModel(max_rows=600, sample=False)),
                            ("bounded (200 values, sampled)", CurveModel)):
            times = []
            for _ in range(args.repeats):
                model = make()
                started = time.process_time()
                got = model.predict(history, numbers, complete, strategy._features,
                                    strategy._rng)
                times.append(time.process_time() - started)
            # what the model is told for each pruned trial (offset where the GP has
            # none) against the final loss it would have reached
            errors = []
            for k in history.pruned:
                told = got[k] if k in got else offset(history, k, complete)
                if told is not None:
                    errors.append(abs(told - truth[k]))
            rows.append({"n": n, "method": label, "ms": 1000 * statistics.median(times),
                         "error": statistics.median(errors) if errors else None,
                         "values": values, "fitted": model.fitted_rows if got else 0,
                         "complete": len(complete), "predicted": len(got),
                         "pruned": len(history.pruned)})
            log(rows[-1])
    return rows


def child(argv: list[str]) -> None:
    """Run ``hpo-run argv`` in this process with ``bayes``'s parts timed (CPU seconds
    and calls): prints one JSON line. ``--old-curve`` first: the curve rule before the
    bound."""
    import tempfile
    from collections import defaultdict

    import hpo_bayes.curve as curve
    import hpo_bayes.optim_mixed as optim
    import hpo_bayes.strategy as strategy

    if argv[:1] == ["--old-curve"]:
        argv = argv[1:]
        strategy.CurveModel = lambda: curve.CurveModel(max_rows=600, sample=False)
    total: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)

    def timed(owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def wrapper(*a: Any, **k: Any) -> Any:
            started = time.process_time()
            try:
                return inner(*a, **k)
            finally:
                total[label] += time.process_time() - started
                calls[label] += 1

        setattr(owner, name, wrapper)

    timed(strategy.BayesStrategy, "ask", "ask")
    timed(curve.CurveModel, "predict", "curve model")
    timed(strategy.gp_model, "fit", "main GP fit")
    timed(optim, "candidates", "candidates (snapped)")
    timed(strategy, "maximize", "acquisition search")
    from hpo_framework.cli import main as hpo_run

    sys.argv = ["hpo-run", *argv]
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            hpo_run()
        except SystemExit:
            pass
    print("PARTS " + json.dumps({"wall_s": time.perf_counter() - wall,
                                 "cpu_s": time.process_time() - cpu,
                                 **{k: [total[k], calls[k]] for k in total}}), flush=True)


ASHA = ["--strategy", "bayes", "--trials", "50", "--no-final-test", "--seed", "0"]


def part_asha(args: argparse.Namespace, log: Any) -> list[dict[str, Any]]:
    """The docs' 50-trial ``bayes`` + ``asha`` on digits (sklearn), with the curve rule
    before the bound, with the bounded one, and without a pruner: where the strategy's
    CPU goes (trials run in the executor's processes: not counted)."""
    import subprocess

    rows = []
    for label, extra in (("asha, curve rule before the bound", ["--old-curve"]),
                         ("asha, bounded curve model", []),
                         ("no pruner", None)):
        argv = ([] if not extra else extra) + ASHA + ([] if extra is None
                                                      else ["--pruner", "asha"])
        done = subprocess.run([sys.executable, __file__, "--child", *argv],
                              capture_output=True, text=True, check=False)
        line = next((x for x in done.stdout.splitlines() if x.startswith("PARTS ")), None)
        if line is None:
            raise SystemExit(f"child failed: {done.stderr[-2000:]}")
        rows.append({"run": label, **json.loads(line[6:])})
        log(rows[-1])
    return rows


def report(args: argparse.Namespace, cost: list, same: list, quality: list,
           started: str, curve: list | None = None, asha: list | None = None) -> str:
    lines = ["# bayes at large budgets: the GP fitted on at most `max_history` trials", "",
             f"Written by `benchmarks/bayes_scale.py` ({' '.join(sys.argv[1:]) or 'defaults'}),"
             f" {started} - {time.strftime('%H:%M UTC', time.gmtime())}, "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared "
             "with other sessions; CPU time, BLAS on one thread.", ""]
    if cost:
        sizes = sorted({r["n"] for r in cost})
        lines += ["## CPU ms per ask by finished trials in the history", "",
                  "One ask after a `restore` of n random COMPLETE trials (median of "
                  f"{args.repeats}; unbounded past {args.unbounded_max}: one ask); `-`: not run "
                  "(cubic: see the header).", "",
                  "| function | method | " + " | ".join(f"{n:,}" for n in sizes)
                  + " | points fitted at the largest |",
                  "|---|---|" + "---|" * len(sizes) + "---|"]
        for problem in dict.fromkeys(r["problem"] for r in cost):
            for method in dict.fromkeys(r["method"] for r in cost):
                got = {r["n"]: r for r in cost if r["problem"] == problem
                       and r["method"] == method}
                if not got:
                    continue
                cells = [f"{got[n]['ms']:.0f}" if n in got else "-" for n in sizes]
                lines.append(f"| {problem} | {method} | " + " | ".join(cells)
                             + f" | {got[max(got)]['fitted']:,} |")
        lines.append("")
    if same:
        lines += ["## Below the bound nothing changes", ""]
        lines += [f"- {r['problem']}: {r['identical']} of {r['trials']} proposals identical "
                  f"between `max_history={r['trials']}` and `max_history=0`" for r in same]
        lines.append("")
    if quality:
        b = args.quality_bound
        lines += [f"## Best value at {args.quality_trials} trials: `max_history={b}` "
                  "against unbounded", "",
                  f"{args.seeds} seeds; medians of the best loss (lower is better), of the "
                  f"best at trial {b} (before the bound acts), and of each run's CPU "
                  "seconds.", "",
                  f"| function | method | median best at {args.quality_trials} | per seed | "
                  f"median best at {b} | CPU s per run |", "|---|---|---|---|---|---|"]
        for problem in dict.fromkeys(r["problem"] for r in quality):
            for method in dict.fromkeys(r["method"] for r in quality):
                got = [r for r in quality if r["problem"] == problem and r["method"] == method]
                if not got:
                    continue
                lines.append(
                    f"| {problem} | {method} | {statistics.median(r['best'] for r in got):.4g}"
                    f" | {', '.join(format(r['best'], '.4g') for r in got)} | "
                    f"{statistics.median(r['best_at_bound'] for r in got):.4g} | "
                    f"{statistics.median(r['cpu_s'] for r in got):.1f} |")
        lines.append("")
    if asha:
        parts = ["ask", "curve model", "main GP fit", "acquisition search",
                 "candidates (snapped)"]
        lines += ["## The docs' 50-trial `bayes` + `asha` (sklearn on digits)", "",
                  f"`hpo-run {' '.join(ASHA)} [--pruner asha]`, in-process CPU seconds of "
                  "`bayes`'s parts (total, calls) and of the driver; wall seconds measure the "
                  "machine's load and the trials (which run in the executor's processes).",
                  "", "| run | " + " | ".join(parts) + " | driver CPU s | wall s |",
                  "|---|" + "---|" * (len(parts) + 2)]
        for r in asha:
            cells = [f"{r[p][0]:.2f} ({r[p][1]})" if p in r else "-" for p in parts]
            lines.append(f"| {r['run']} | " + " | ".join(cells)
                         + f" | {r['cpu_s']:.2f} | {r['wall_s']:.0f} |")
        lines.append("")
    if curve:
        lines += ["## The learning-curve model (`pruned=curve`) on a long pruned study", "",
                  "An epoch-curve study (`asha_history`: 10-step curves, stopped at step 1, 3 "
                  "or 9 unless in the best half); CPU ms of one curve-model fit (a "
                  f"fresh model, median of {args.repeats}), values it was fitted on (0: "
                  "none, offset for every pruned trial), pruned trials it predicted, and the "
                  "median absolute error of what the model is told for the pruned trials "
                  "(the GP's prediction, else offset) against the final loss each would "
                  "have reached.", "",
                  "| trials | finished / pruned | values reported | method | ms | values "
                  "fitted | predicted by the GP | error |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in curve:
            lines.append(f"| {r['n']} | {r['complete']} / {r['pruned']} | {r['values']:,} | "
                         f"{r['method']} | {r['ms']:.0f} | {r['fitted']} | {r['predicted']} | "
                         + (f"{r['error']:.4f} |" if r["error"] is not None else "- |"))
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=["cost", "same", "quality"],
                        choices=("cost", "same", "quality", "curve", "asha"))
    parser.add_argument("--curve-sizes", nargs="+", type=int, default=[50, 100, 200, 400])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100, 300, 1000, 3000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--unbounded-max", type=int, default=1000)
    parser.add_argument("--unbounded-big", nargs="*", default=["mixed3"],
                        help="problems whose unbounded path also runs past --unbounded-max, "
                             "up to --unbounded-big-max, one ask each")
    parser.add_argument("--unbounded-big-max", type=int, default=3000)
    parser.add_argument("--optuna-max", type=int, default=1000)
    parser.add_argument("--same-trials", type=int, default=60)
    parser.add_argument("--quality-trials", type=int, default=200)
    parser.add_argument("--quality-bound", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quality-problems", nargs="+",
                        default=["mixed3", "rosen10", "ackley-5"])
    parser.add_argument("--out", default=str(RESULTS / "bayes-scale.md"))
    parser.add_argument("--runs", default=str(RESULTS / "bayes-scale-runs.jsonl"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--report-only", action="store_true",
                        help="write the report from the latest run stored in --runs")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())

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
        cost = [r for r in stored if "ms" in r and "problem" in r]
        same = [r for r in stored if "identical" in r]
        quality = [r for r in stored if "best" in r]
        curve = [r for r in stored if "values" in r]
        asha = [r for r in stored if "run" in r]
    else:
        cost = part_cost(args, log) if "cost" in args.parts else []
        same = part_same(args, log) if "same" in args.parts else []
        quality = part_quality(args, log) if "quality" in args.parts else []
        curve = part_curve(args, log) if "curve" in args.parts else []
        asha = part_asha(args, log) if "asha" in args.parts else []
    text = report(args, cost, same, quality, started, curve, asha)
    print(text)
    if not args.no_write:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
