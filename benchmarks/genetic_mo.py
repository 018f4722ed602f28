"""Benchmark: ``genetic`` with several objectives (NSGA-II) against Optuna's
``NSGAIISampler`` (its defaults: population 50, uniform crossover) and random search, at
50 and 100 evaluations, side by side in one run, on the problems of
``benchmarks/mo_problems.py`` (ZDT1/2/3 and DTLZ2 with 2 objectives, 6 variables; the
constrained C2-DTLZ2 with ``--constrained``).

    nice .venv/bin/python benchmarks/genetic_mo.py                   # 5 seeds
    nice .venv/bin/python benchmarks/genetic_mo.py --seeds 11 --constrained
    nice .venv/bin/python benchmarks/genetic_mo.py --variant '{"population_size": 16}'
    nice .venv/bin/python benchmarks/genetic_mo.py --methods genetic,optuna-nsga2-pop10

Hypervolume (``contracts.pareto.hypervolume``, exact) of the feasible COMPLETE trials'
losses at each problem's reference point as ``mo_problems.py`` states it: (11, 11) for
ZDT, (1.1, 1.1) for DTLZ2 and C2-DTLZ2. Every run is one sequence of evaluations; the
hypervolume at 50 is read from the same run as at 100 (no method knows its budget).
Ours is driven by ask/tell one trial at a time (what ``optimize`` does with one worker,
without the study's bookkeeping); Optuna by ``study.optimize``. Reported: the median over
seeds, the min and max, and the CPU seconds per method (``time.process_time``).
Results: ``benchmarks/results/genetic_mo.json`` (5 seeds, the default run),
``genetic_mo-21seeds.json`` (seeds 0-20, on which the several-objective operators were
chosen), ``genetic_mo-operators.json`` (fresh seeds 100-120: the chosen defaults, their
neighbours and the one-objective operators, against Optuna) and
``genetic_mo-small-populations.json`` (Optuna's NSGA-II with populations of 8 and 16, set
by hand: its default of 50 is a random search for the first 50 evaluations).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results"
PROBLEMS = ("zdt1", "zdt2", "zdt3", "dtlz2-2")  # --problems also takes dtlz2-3


def run_ours(problem: Any, seed: int, trials: int, strategy: str = "genetic",
             **options: Any) -> list[tuple[list[float], list[float] | None]]:
    from hpo_framework import Space, Trial, TrialState, get_registry

    space = Space.from_dict(problem.space)
    strat = get_registry().get("strategy", strategy)(space, seed=seed, **options)
    out = []
    while len(out) < trials:
        asked = strat.ask(1)
        if not asked:
            break
        values, cons = problem.evaluate(asked[0])
        losses = problem.losses(values)
        out.append((losses, cons))
        strat.tell([Trial(number=len(out) - 1, params=space.active(asked[0]),
                          state=TrialState.COMPLETE, value=values[0], loss=losses[0],
                          values=values, losses=losses, constraints=cons)])
    return out


def run_optuna(problem: Any, seed: int, trials: int, sampler: str = "nsga2",
               population: int = 50) -> list[tuple[list[float], list[float] | None]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cfunc = (lambda ft: ft.user_attrs["c"]) if problem.constraints else None
    if sampler == "nsga2":
        smp = optuna.samplers.NSGAIISampler(seed=seed, constraints_func=cfunc,
                                            population_size=population)
    else:
        smp = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(directions=problem.directions, sampler=smp)
    out = []

    def objective(trial: Any) -> list[float]:
        params = {name: trial.suggest_float(name, spec["low"], spec["high"])
                  for name, spec in problem.space.items()}
        values, cons = problem.evaluate(params)
        if cons is not None:
            trial.set_user_attr("c", cons)
        out.append((problem.losses(values), cons))
        return values

    study.optimize(objective, n_trials=trials)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds first-seed .. first-seed + seeds - 1 (fresh ones check a "
                         "setting chosen on others)")
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--constrained", action="store_true", help="add c2-dtlz2")
    ap.add_argument("--variant", action="append", default=[],
                    help="JSON options of genetic, run as a further method")
    ap.add_argument("--methods", default="genetic,optuna-nsga2,random")
    ap.add_argument("--out", default=str(RESULTS / "genetic_mo.json"))
    args = ap.parse_args()
    import mo_problems

    names = args.problems.split(",") + (["c2-dtlz2"] if args.constrained else [])
    problems = [mo_problems.by_name()[n] for n in names]
    methods: dict[str, Any] = {}
    for m in args.methods.split(","):
        if m == "genetic":
            methods[m] = lambda p, s, n: run_ours(p, s, n)
        elif m == "optuna-nsga2":
            methods[m] = lambda p, s, n: run_optuna(p, s, n, "nsga2")
        elif m.startswith("optuna-nsga2-pop"):  # a smaller population, tuned by hand
            pop = int(m[len("optuna-nsga2-pop"):])
            methods[m] = lambda p, s, n, pop=pop: run_optuna(p, s, n, "nsga2", pop)
        elif m == "random":
            methods[m] = lambda p, s, n: run_ours(p, s, n, strategy="random")
    for v in args.variant:
        opts = json.loads(v)
        methods[f"genetic{v}"] = lambda p, s, n, o=opts: run_ours(p, s, n, **o)
    budgets = sorted({50, args.trials} if args.trials > 50 else {args.trials})
    table: dict[str, Any] = {}
    for problem in problems:
        row: dict[str, Any] = {"reference": problem.reference}
        for name, fn in methods.items():
            hvs: dict[int, list[float]] = {b: [] for b in budgets}
            cpu = 0.0
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                t0 = time.process_time()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    run = fn(problem, seed, args.trials)
                cpu += time.process_time() - t0
                for b in budgets:
                    hvs[b].append(mo_problems.hv_at(run, b, problem.reference))
            row[name] = {str(b): {"median": statistics.median(v), "min": min(v),
                                  "max": max(v), "runs": v} for b, v in hvs.items()}
            row[name]["cpu_s_per_run"] = cpu / args.seeds
            print(f"{problem.name:9s} {name:32s} "
                  + "  ".join(f"hv@{b}={statistics.median(v):.4f}" for b, v in hvs.items())
                  + f"  cpu/run={cpu / args.seeds:.2f}s", flush=True)
        table[problem.name] = row
    focus = [m for m in methods if m.startswith("genetic")]
    summary = {}
    if "optuna-nsga2" in methods:
        for m in focus:
            summary[m] = {str(b): sum(table[p.name][m][str(b)]["median"]
                                      > table[p.name]["optuna-nsga2"][str(b)]["median"]
                                      for p in problems) for b in budgets}
            print(f"{m}: problems where its median beats optuna-nsga2's: {summary[m]} "
                  f"of {len(problems)}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}, "
                   "2 cores shared with other agents",
        "seeds": list(range(args.first_seed, args.first_seed + args.seeds)),
        "trials": args.trials, "problems": table,
        "wins_over_optuna_nsga2": summary, "argv": sys.argv[1:]}, indent=1) + "\n")


if __name__ == "__main__":
    main()
