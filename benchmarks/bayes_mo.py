"""Benchmark: ``bayes`` with several objectives (exact log-EHVI) and constraints (log
probability of feasibility) against Optuna 5's ``GPSampler`` (logEHVI by 128 quasi-random
samples, logCEHVI), side by side in one run, at 50 evaluations, on problems from
``benchmarks/mo_problems.py``: ZDT1 and DTLZ2 (2 objectives, 6 variables) and the
constrained C2-DTLZ2 (2 objectives, 1 constraint).

    nice .venv/bin/python benchmarks/bayes_mo.py                    # 5 seeds
    nice .venv/bin/python benchmarks/bayes_mo.py --seeds 3 --variant '{"output_transform": "standardize"}'

Hypervolume (``contracts.pareto.hypervolume``, exact) of the feasible COMPLETE trials'
losses at each problem's reference point as ``mo_problems.py`` states it ((11, 11) for
ZDT1, (1.1, 1.1) for DTLZ2 and C2-DTLZ2). Both start with 10 space-filling (ours, Sobol)
or random (Optuna) points. Ours is driven by ask/tell one trial at a time (what
``optimize`` does with one worker, without the study's bookkeeping), Optuna by
``study.optimize``. CPU time per proposal: ``time.process_time`` around each of our
``ask`` calls, and around each Optuna trial minus the objective's own time, averaged
over the model-based proposals (trials 11..50). Torch and BLAS are held to one thread
for both. Reported: the median over seeds, min and max, the ratios ours / Optuna, how
many seeds ours ended ahead, and the median's gap to the optimum hypervolume.
Results: ``benchmarks/results/bayes_mo.json``.
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
PROBLEMS = ("zdt1", "dtlz2-2", "c2-dtlz2")
N_INIT = 10

Run = tuple[list[tuple[list[float], list[float] | None]], list[float]]


def run_ours(problem: Any, seed: int, trials: int, **options: Any) -> Run:
    from hpo_framework import Space, Trial, TrialState, get_registry

    space = Space.from_dict(problem.space)
    strat = get_registry().get("strategy", "bayes")(space, seed=seed, **options)
    out: list[tuple[list[float], list[float] | None]] = []
    cpu: list[float] = []
    while len(out) < trials:
        t0 = time.process_time()
        asked = strat.ask(1)
        cpu.append(time.process_time() - t0)
        if not asked:
            break
        values, cons = problem.evaluate(asked[0])
        losses = problem.losses(values)
        out.append((losses, cons))
        strat.tell([Trial(number=len(out) - 1, params=space.active(asked[0]),
                          state=TrialState.COMPLETE, value=values[0], loss=losses[0],
                          values=values, losses=losses, constraints=cons)])
    return out, cpu[N_INIT:]


def run_optuna(problem: Any, seed: int, trials: int) -> Run:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=problem.directions,
                                sampler=optuna.samplers.GPSampler(seed=seed))
    out: list[tuple[list[float], list[float] | None]] = []
    cpu: list[float] = []
    inner = [0.0]

    def objective(trial: Any) -> list[float]:
        params = {name: trial.suggest_float(name, spec["low"], spec["high"])
                  for name, spec in problem.space.items()}
        t1 = time.process_time()  # suggest_float of the first parameter runs the sampler
        values, cons = problem.evaluate(params)
        if cons is not None:
            for i, c in enumerate(cons):
                trial.set_constraint(f"c{i}", c)
        out.append((problem.losses(values), cons))
        inner[0] = time.process_time() - t1
        return values

    for _ in range(trials):
        t0 = time.process_time()
        study.optimize(objective, n_trials=1)
        cpu.append(time.process_time() - t0 - inner[0])
    return out, cpu[N_INIT:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--methods", default="bayes,optuna-gp")
    ap.add_argument("--variant", action="append", default=[],
                    help="JSON options of bayes, run as a further method")
    ap.add_argument("--out", default=str(RESULTS / "bayes_mo.json"))
    args = ap.parse_args()
    import mo_problems
    from threadpoolctl import threadpool_limits

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # Optuna's GPSampler cannot run; ours still can
        pass
    problems = [mo_problems.by_name()[n] for n in args.problems.split(",")]
    methods: dict[str, Any] = {}
    for m in args.methods.split(","):
        if m == "bayes":
            methods[m] = lambda p, s, n: run_ours(p, s, n)
        elif m == "optuna-gp":
            methods[m] = run_optuna
    for v in args.variant:
        opts = json.loads(v)
        methods[f"bayes{v}"] = lambda p, s, n, o=opts: run_ours(p, s, n, **o)
    table: dict[str, Any] = {}
    for problem in problems:
        row: dict[str, Any] = {"reference": problem.reference,
                               "optimum_hv": mo_problems.best_hv(problem.name)}
        for name, fn in methods.items():
            hvs, per_proposal = [], []
            for seed in range(args.seeds):
                with warnings.catch_warnings(), threadpool_limits(1):
                    warnings.simplefilter("ignore")
                    run, cpu = fn(problem, seed, args.trials)
                hvs.append(mo_problems.hv_at(run, args.trials, problem.reference))
                per_proposal.append(statistics.mean(cpu) if cpu else 0.0)
            row[name] = {"hv": {"median": statistics.median(hvs), "min": min(hvs),
                                "max": max(hvs), "runs": hvs},
                         "cpu_s_per_proposal": {"median": statistics.median(per_proposal),
                                                "runs": per_proposal}}
            print(f"{problem.name:9s} {name:40s} hv@{args.trials} median="
                  f"{statistics.median(hvs):.4f} [{min(hvs):.4f}, {max(hvs):.4f}]  "
                  f"cpu/proposal={statistics.median(per_proposal):.3f}s", flush=True)
        if "optuna-gp" in row:
            peer = row["optuna-gp"]
            for name in methods:
                if name == "optuna-gp":
                    continue
                row[name]["hv_ratio_to_optuna"] = (row[name]["hv"]["median"]
                                                   / max(peer["hv"]["median"], 1e-300))
                row[name]["cpu_ratio_to_optuna"] = (
                    row[name]["cpu_s_per_proposal"]["median"]
                    / max(peer["cpu_s_per_proposal"]["median"], 1e-300))
                # the same seed gives both the same problem, not the same initial points
                row[name]["seeds_ahead_of_optuna"] = sum(
                    a > b for a, b in zip(row[name]["hv"]["runs"], peer["hv"]["runs"],
                                          strict=True))
                print(f"{'':9s} {name:40s} hv ratio={row[name]['hv_ratio_to_optuna']:.3f}  "
                      f"cpu ratio={row[name]['cpu_ratio_to_optuna']:.3f}  seeds ahead="
                      f"{row[name]['seeds_ahead_of_optuna']}/{args.seeds}", flush=True)
        if row["optimum_hv"] is not None:
            for name in methods:
                row[name]["hv_gap_to_optimum_median"] = (row["optimum_hv"]
                                                         - row[name]["hv"]["median"])
        table[problem.name] = row
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}, "
                   "2 cores shared with other agents (CPU time measured, one thread each)",
        "seeds": args.seeds, "trials": args.trials, "problems": table,
        "argv": sys.argv[1:]}, indent=1) + "\n")


if __name__ == "__main__":
    main()
