"""Benchmark: per-trial cost with a pruner, and with two objectives, as a study grows.

Two runs a study does every trial of, on a free objective in memory with ``random``:

- ``median``: the median pruner, 5 reports per trial, each judged (``trial.report`` and
  ``should_prune`` after each; the objective reports all 5 and then stops if the pruner
  said so at any of them, so every trial costs 5 decisions: the per-report cost is what
  is measured, not how early trials stop);
- ``mo``: two objectives, the Pareto front read after every trial (``best_trials``, as
  ``hpo-run``'s progress line does).

Each is run by this code (``ours``), by the code before the pruner index and the kept
front (``before``: a checkout of commit eb0fe2b first on ``PYTHONPATH``, made with
``git worktree add /tmp/h1-base eb0fe2b``), and by Optuna (``MedianPruner`` with its
``RandomSampler``; ``RandomSampler`` with two directions and ``study.best_trials`` in a
callback) in the same run, each in its own process. Reported: CPU ms per trial in the
first and last quarter (from the first trial's end), last / first, the run's CPU and wall
seconds, the process's peak memory and how many trials were pruned (the same for ours and
before: the same decisions)::

    nice -n 10 .venv/bin/python benchmarks/scale_pruner.py --trials 1000,10000 --write

A ``before`` or Optuna run that would take longer than ``--limit`` CPU seconds stops there:
its row says how many trials it reached, and its last quarter is that of the trials done.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SPACE = {"x": {"type": "float", "low": -5.0, "high": 5.0},
         "y": {"type": "float", "low": -5.0, "high": 5.0}}
STEPS = 5


def curve_value(x: float, y: float, step: int) -> float:
    return x * x + y * y + 10.0 / (step + 1)


def one(method: str, trials: int, limit: float | None) -> dict:
    """Run in a child process: one method, one budget."""
    import resource

    stamps: list[float] = []
    pruned = [0]
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    where = None
    if method.startswith("optuna"):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        where = f"optuna {optuna.__version__}"

        def enough(study, trial):
            if limit is not None and time.process_time() - start_cpu > limit:
                study.stop()
        if method == "optuna-median":
            study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0),
                                        pruner=optuna.pruners.MedianPruner())

            def objective(trial):
                x, y = trial.suggest_float("x", -5, 5), trial.suggest_float("y", -5, 5)
                stop = False
                for step in range(STEPS):
                    trial.report(curve_value(x, y, step), step)
                    stop = trial.should_prune() or stop
                stamps.append(time.process_time())
                if stop:
                    pruned[0] += 1
                    raise optuna.TrialPruned()
                return curve_value(x, y, STEPS - 1)

            study.optimize(objective, n_trials=trials, callbacks=[enough])
        else:
            study = optuna.create_study(directions=["minimize", "minimize"],
                                        sampler=optuna.samplers.RandomSampler(seed=0))

            def objective(trial):
                x, y = trial.suggest_float("x", -5, 5), trial.suggest_float("y", -5, 5)
                return x * x + y * y, (x - 1) ** 2 + y * y

            def front(study, trial):
                len(study.best_trials)
                stamps.append(time.process_time())
                enough(study, trial)

            study.optimize(objective, n_trials=trials, callbacks=[front])
    else:
        import hpo_pruners

        import hpo_framework as hpo
        from hpo_framework.errors import TrialPruned

        where = f"{Path(hpo.__file__).parent.parent}, {Path(hpo_pruners.__file__).parent}"

        class Enough(Exception):
            pass

        def stamp(study, trial):
            if trial.state.name == "PRUNED":
                pruned[0] += 1
            if method.endswith("mo"):
                len(study.best_trials)
            stamps.append(time.process_time())
            if limit is not None and stamps[-1] - start_cpu > limit:
                raise Enough

        try:
            if method.endswith("median"):
                def objective(params, trial):
                    x, y = params["x"], params["y"]
                    stop = False
                    for step in range(STEPS):
                        trial.report(curve_value(x, y, step), step)
                        stop = trial.should_prune() or stop
                    if stop:
                        raise TrialPruned()
                    return curve_value(x, y, STEPS - 1)

                hpo.optimize(objective, SPACE, strategy="random", n_trials=trials, seed=0,
                             pruner="median", callbacks=[stamp])
            else:
                hpo.optimize(lambda p: [p["x"] ** 2 + p["y"] ** 2,
                                        (p["x"] - 1) ** 2 + p["y"] ** 2],
                             SPACE, strategy="random", n_trials=trials, seed=0,
                             directions=["minimize", "minimize"], callbacks=[stamp])
        except Enough:
            pass
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    q = len(stamps) // 4

    def per_trial(a: int, b: int) -> float:
        return 1000 * (stamps[b] - stamps[a]) / (b - a)

    first, last = per_trial(0, q), per_trial(3 * q, len(stamps) - 1)
    return {"method": method, "trials": trials, "done": len(stamps),
            "first_quarter_ms": round(first, 4), "last_quarter_ms": round(last, 4),
            "last_vs_first": round(last / first, 2), "cpu_s": round(cpu, 2),
            "wall_s": round(wall, 2), "pruned": pruned[0],
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "code": where}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="1000,10000")
    parser.add_argument("--runs", default="median,mo")
    parser.add_argument("--base", default="/tmp/h1-base",
                        help="a checkout of the code before (git worktree add PATH eb0fe2b)")
    parser.add_argument("--limit", type=float, default=240.0,
                        help="CPU seconds a 'before' or Optuna run may take before it stops")
    parser.add_argument("--write", action="store_true",
                        help="write results/scale-pruner.md (and -runs.jsonl)")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        limit = None if args.one[2] == "none" else float(args.one[2])
        print(json.dumps(one(args.one[0], int(args.one[1]), limit)))
        return
    load = os.getloadavg()[0]
    header = (f"{platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
              f"{platform.python_version()}, load average {load:.1f} at the start")
    print(header, flush=True)
    rows = []
    for trials in [int(t) for t in args.trials.split(",")]:
        for run in args.runs.split(","):
            for who in ("ours", "before", "optuna"):
                if who != "ours" and trials > 10000:
                    continue  # the code before and Optuna grow linearly: 10,000 shows it
                env = dict(os.environ)
                limit = "none"
                if who == "before":
                    base = Path(args.base)
                    if not (base / "hpo_framework").is_dir():
                        sys.exit(f"no checkout at {base}: git worktree add {base} eb0fe2b")
                    env["PYTHONPATH"] = os.pathsep.join(
                        [str(base), str(base / "plugins" / "hpo-pruners")])
                if who != "ours":
                    limit = str(args.limit)
                method = f"{'ours' if who == 'before' else who}-{run}"
                out = subprocess.run([sys.executable, __file__, "--one", method, str(trials),
                                      limit], capture_output=True, text=True, check=True,
                                     env=env)
                row = {**json.loads(out.stdout.strip().splitlines()[-1]), "who": who}
                rows.append(row)
                print(json.dumps(row), flush=True)
    lines = ["| trials | run | code | trials done | CPU ms per trial, 1st quarter | last "
             "quarter | last / 1st | run CPU s | run wall s | pruned | peak MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['trials']} | {r['method'].split('-')[1]} | {r['who']} | "
                     f"{r['done']} | {r['first_quarter_ms']} | {r['last_quarter_ms']} | "
                     f"{r['last_vs_first']} | {r['cpu_s']} | {r['wall_s']} | {r['pruned']} | "
                     f"{r['peak_mb']} |")
    by = {(r["who"], r["method"].split("-")[1], r["trials"]): r for r in rows}
    notes = []
    for (who, run, n), r in sorted(by.items()):
        if who != "ours":
            continue
        for other in ("before", "optuna"):
            o = by.get((other, run, n))
            if o:
                notes.append(f"- {run} at {n}: last quarter ours {r['last_quarter_ms']} ms "
                             f"per trial, {other} {o['last_quarter_ms']} ms "
                             f"({o['last_quarter_ms'] / r['last_quarter_ms']:.1f}x ours)"
                             + ("" if o["done"] == n else f" ({other} stopped at "
                                                          f"{o['done']} trials)"))
    print("\n".join(lines + [""] + notes))
    if args.write:
        command = "nice -n 10 .venv/bin/python benchmarks/scale_pruner.py " + \
            " ".join(sys.argv[1:])
        with open(RESULTS / "scale-pruner-runs.jsonl", "a") as f:
            for r in rows:
                f.write(json.dumps({**r, "date": time.strftime("%Y-%m-%d %H:%M")}) + "\n")
        (RESULTS / "scale-pruner.md").write_text(
            "# Per-trial cost with a pruner and with two objectives\n\n"
            f"Written by `{command.strip()}` ({time.strftime('%Y-%m-%d')}). Machine: "
            f"{header}, no GPU.\n\n`random` on a free objective in memory: `median` is the "
            f"median pruner with {STEPS} reports per trial, `mo` two objectives with the "
            "Pareto front read after every trial. `ours`: this code; `before`: commit "
            "eb0fe2b (the pruner scanned every trial at every report, the front was "
            "recomputed from every trial); `optuna`: Optuna's MedianPruner / two-direction "
            "study with `best_trials` in a callback, RandomSampler. Each run in its own "
            "process; CPU ms per trial in the first and last quarter of the trials done.\n\n"
            + "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n")


if __name__ == "__main__":
    main()
