"""Benchmark: ``genetic`` at the budgets users run (40 and 50 evaluations) against ``random``
and the notebook's DEAP loop, side by side in one run, on the problems of
``benchmarks/strategy_problems.py``.

    nice .venv/bin/python benchmarks/genetic_small.py                 # cheap problems, 11 seeds
    nice .venv/bin/python benchmarks/genetic_small.py --problems all --seeds 5

The notebook's loop is its code, run here: ``eaSimpleWithElitism`` (population 7, hall
of fame 2, tournaments of 2, ``cxpb`` 0.8, ``mutpb`` 0.2, bounded SBX and polynomial
mutation with crowding factor 10, ``indpb`` 1/dimensions) over the space's unit-cube
encoding, decoded with the core's ``Space.decode`` (the notebook's ``floor`` trick). As
in the notebook, every child whose genes changed is evaluated, a repeat included, and each
evaluation counts toward the budget; the loop stops at the budget, mid-generation if
need be. Our strategies are driven by ask/tell one trial at a time (what ``optimize``
does with one worker, without the study's bookkeeping).

Every run is one sequence of ``--trials`` evaluations; the best at 40 is read from the same
run (no method here knows its budget). Reported per problem and budget: the median over
seeds of the best value found (for a noisy problem, the noiseless value of the
configuration with the best observed value), and the share of problems where the focus
method's median is better than each other method's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SKLEARN = ("mlp-digits", "svc-cancer", "knn-wine", "trees-cancer", "krr-diabetes",
           "gbr-diabetes", "logreg-wine")
NOTEBOOK = "notebook-deap"


def run_notebook(problem: Any, seed: int, trials: int, fn: Any) -> None:
    """The notebook's GA (its constants, DEAP's operators, ``eaSimpleWithElitism``)."""
    import random

    from deap import algorithms, base, creator, tools

    from hpo_framework import Space

    space = Space.from_dict(problem.space)
    dims = max(1, len(space.searchable))
    if not hasattr(creator, "NotebookFitnessMin"):
        creator.create("NotebookFitnessMin", base.Fitness, weights=(-1.0,))
        creator.create("NotebookIndividual", list, fitness=creator.NotebookFitnessMin)

    class Spent(Exception):
        pass

    def evaluate(ind: list[float]) -> tuple[float]:
        if len(fn.observed) >= trials:
            raise Spent
        params = space.active(space.decode(list(ind)))
        return (fn(params),)

    toolbox = base.Toolbox()
    toolbox.register("select", tools.selTournament, tournsize=2)
    toolbox.register("mate", tools.cxSimulatedBinaryBounded, low=0.0, up=1.0, eta=10.0)
    toolbox.register("mutate", tools.mutPolynomialBounded, low=0.0, up=1.0, eta=10.0,
                     indpb=1.0 / dims)
    state = random.getstate()
    random.seed(seed)
    fn.start()
    try:
        population = [creator.NotebookIndividual(random.random() for _ in range(dims))
                      for _ in range(7)]
        hof = tools.HallOfFame(2)
        for ind in population:
            ind.fitness.values = evaluate(ind)
        hof.update(population)
        while True:
            offspring = toolbox.select(population, len(population) - len(hof.items))
            offspring = algorithms.varAnd(offspring, toolbox, 0.8, 0.2)
            for ind in offspring:
                if not ind.fitness.valid:
                    ind.fitness.values = evaluate(ind)
            offspring.extend(hof.items)
            hof.update(offspring)
            population[:] = offspring
    except Spent:
        pass
    finally:
        random.setstate(state)


def run(spec: str, problem: Any, seed: int, trials: int) -> Any:
    from strategies import Timed, parse_method, run_batch

    fn = Timed(problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec == NOTEBOOK:
            run_notebook(problem, seed, trials, fn)
        else:
            name, options = parse_method(spec)
            run_batch(problem, name, seed, trials, fn, 1, **options)
    return fn


def report(problems: list[Any], methods: list[str], runs: dict, seeds: range,
           budgets: list[int], focus: str) -> str:
    from strategies import best_at, fmt, ranks

    def median(m: str, p: str, b: int) -> float:
        return statistics.median(best_at(runs[m, p, s], b) for s in seeds)

    med = {(b, p.name, m): median(m, p.name, b) for b in budgets for p in problems
           for m in methods}

    def superiority(m: str, other: str, b: int) -> float:
        """Over problems, the mean chance that a run of ``m`` beats one of ``other`` (a tie
        counts half): less noisy than the medians' wins."""
        out = []
        for p in problems:
            ours = [best_at(runs[m, p.name, s], b) for s in seeds]
            theirs = [best_at(runs[other, p.name, s], b) for s in seeds]
            out.append(statistics.fmean((x < y) + 0.5 * (x == y) for x in ours
                                        for y in theirs))
        return 100 * statistics.fmean(out)
    lines = [f"### {focus}: ahead / level / behind each method (median best per problem)\n",
             "| against | " + " | ".join(f"{b} evaluations" for b in budgets) + " | "
             + " | ".join(f"ahead at {b}" for b in budgets) + " | "
             + " | ".join(f"a run beats a run at {b}" for b in budgets) + " |",
             "|---|" + "---|" * (3 * len(budgets))]
    for other in methods:
        if other == focus:
            continue
        cells, shares = [], []
        for b in budgets:
            w = t = lo = 0
            for p in problems:
                r = ranks({focus: med[b, p.name, focus], other: med[b, p.name, other]})
                w, t, lo = (w + (r[focus] < r[other]), t + (r[focus] == r[other]),
                            lo + (r[focus] > r[other]))
            cells.append(f"{w} / {t} / {lo}")
            shares.append(f"{100 * w / len(problems):.0f} % ({100 * (w + t) / len(problems):.0f}"
                          " % no worse)")
        beats = [f"{superiority(focus, other, b):.0f} %" for b in budgets]
        lines.append(f"| {other} | " + " | ".join(cells + shares + beats) + " |")
    lines += [f"\n### Mean rank (1 = best; per problem, on the median best over {len(seeds)} "
              "seeds)\n", "| method | " + " | ".join(f"{b} evaluations" for b in budgets)
              + " |", "|---|" + "---|" * len(budgets)]
    for m in methods:
        cells = [f"{statistics.fmean(ranks({o: med[b, p.name, o] for o in methods})[m] for p in problems):.2f}"  # noqa: E501
                 for b in budgets]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    for b in budgets:
        lines += [f"\n### Median best at {b} evaluations ({len(seeds)} seeds; rank in brackets)\n",
                  "| problem | character | " + " | ".join(methods) + " |",
                  "|---|---|" + "---|" * len(methods)]
        for p in problems:
            r = ranks({m: med[b, p.name, m] for m in methods})
            cells = [f"{fmt(med[b, p.name, m])} ({r[m]:g})" for m in methods]
            lines.append(f"| {p.name} | {p.character} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="cheap",
                        help="comma-separated names, 'cheap' (all but the scikit-learn "
                             "ones, the default) or 'all'")
    parser.add_argument("--seeds", type=int, default=11)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first-seed .. first-seed + seeds - 1 (check a tuning on "
                             "seeds it was not tuned on)")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--budgets", default="40,50")
    parser.add_argument("--methods", default=f"genetic,random,{NOTEBOOK}",
                        help="comma-separated; options in brackets: genetic[population_size=6]")
    parser.add_argument("--focus", default="genetic")
    parser.add_argument("--reuse", default="", help="methods whose runs are read from --runs")
    parser.add_argument("--runs", default=str(RESULTS / "genetic-small-runs.jsonl"),
                        help="JSON lines: new runs are appended, --reuse reads them")
    parser.add_argument("--out", default=str(RESULTS / "genetic-small.md"))
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    sys.path.insert(0, str(HERE))
    from strategies import best_at, fmt, split_methods
    from strategy_problems import problems as all_problems

    problems = all_problems()
    if args.problems == "cheap":
        problems = [p for p in problems if p.name not in SKLEARN]
    elif args.problems != "all":
        by_name = {p.name: p for p in problems}
        problems = [by_name[n] for n in args.problems.split(",")]
    methods = split_methods(args.methods)
    reuse = set(split_methods(args.reuse))
    budgets = [int(b) for b in args.budgets.split(",")]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    runs_path = Path(args.runs)
    runs: dict[tuple[str, str, int], dict[str, Any]] = {}
    for line in runs_path.read_text().splitlines() if reuse and runs_path.exists() else []:
        r = json.loads(line)
        if r["method"] in reuse and len(r["observed"]) >= args.trials:
            runs[r["method"], r["problem"], r["seed"]] = r
    started = time.perf_counter()
    for p in problems:
        for m in methods:
            for seed in seeds:
                if (m, p.name, seed) in runs:
                    continue
                fn = run(m, p, seed, args.trials)
                record = {"method": m, "problem": p.name, "seed": seed,
                          "observed": fn.observed, "truth": fn.truth,
                          "time": time.strftime("%Y-%m-%d %H:%M:%S")}
                runs[m, p.name, seed] = record
                runs_path.parent.mkdir(parents=True, exist_ok=True)
                with runs_path.open("a") as fh:
                    fh.write(json.dumps(record) + "\n")
            print(f"{p.name:18s} {m:28s} median best@{args.trials} "
                  f"{fmt(statistics.median(best_at(runs[m, p.name, s], args.trials) for s in seeds))}",  # noqa: E501
                  file=sys.stderr, flush=True)
    command = "python benchmarks/genetic_small.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    header = (f"## genetic at small budgets\n\n`{command.strip()}`: {len(problems)} problems, "
              f"{args.seeds} seeds ({seeds.start}-{seeds.stop - 1}), {args.trials} evaluations per run; "
              f"{time.perf_counter() - started:.0f} s for the runs made here (reused: "
              f"{', '.join(sorted(reuse)) or 'none'}), {os.cpu_count()} CPUs shared with "
              "other jobs, BLAS on 1 thread.\n\n")
    text = header + report(problems, methods, runs, seeds, budgets, args.focus)
    print(text)
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
