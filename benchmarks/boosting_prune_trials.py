"""Per-trial look at a boosting study (helper HP's check of issue 27's pruning goal).

    .venv/bin/python benchmarks/boosting_prune_trials.py lightgbm diabetes 0 auto \
        auto+asha-promote:min_resource=55 --json benchmarks/results/boosting-prune-trials.json

Runs each method as ``benchmarks/boosting.py``'s ``run_ours`` does (same JobConfig) and
prints, per method: rounds, best validation, and per trial its state, learning rate and
last reported round; then a summary: median learning rate of the COMPLETE trials and of
all, how many trials ended (early stopping) before the first rung, mean rounds per trial.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def run(method: str, backend: str, dataset: str, seed: int, trials: int) -> dict:
    import boosting as b

    from hpo_framework.jobs.job import JobConfig, prepare, run_job

    strategy, _, pruner = method.partition("+")
    strategy, _, backend_given = strategy.partition("@")
    pruner, _, given = pruner.partition(":")
    options = dict(kv.split("=", 1) for kv in given.split("/") if kv)
    backend_options = dict(kv.split("=", 1) for kv in backend_given.split("/") if kv)
    config = JobConfig(strategy=strategy, backend=backend, dataset=dataset, n_trials=trials,
                       seed=seed, storage=":memory:", executor="serial",
                       pruner=pruner or None, metric=b.METRIC[dataset], final_test=False,
                       backend_options={"n_jobs": 1, **{k: int(v) for k, v in
                                                         backend_options.items()}},
                       new_study=True, pruner_options={k: int(v) for k, v in options.items()})
    prepared = prepare(config)
    start = time.process_time()
    try:
        study = run_job(prepared).study
        rows = []
        for t in study.trials:
            last = int(t.intermediate[-1]["step"]) if t.intermediate else 0
            rows.append({"number": t.number, "state": t.state.value, "value": t.value,
                         "lr": t.params.get("learning_rate"),
                         "n_estimators": t.params.get("n_estimators"), "last": last,
                         "best_round": (t.metrics or {}).get("best_round"),
                         "by": t.user_attrs.get("proposed_by")})
        return {"method": method, "seed": seed, "best": study.best_trial.value,
                "rounds": sum(r["last"] for r in rows), "cpu_s": time.process_time() - start,
                "trials": rows}
    finally:
        prepared.study.close()


def pruned_by_loss() -> None:
    """Patch hpo_tpe's History.split in this process: PRUNED rows after the COMPLETE ones,
    ranked by their last loss only (the shipped rule: the furthest step first)."""
    import numpy as np
    from hpo_tpe import history as h

    def split(self, n_below):
        n = self.size
        kind, loss, number = self.kind[:n], self.loss[:n], self.number[:n]
        done = np.flatnonzero(kind == h.COMPLETE)
        done = done[np.lexsort((number[done], loss[done]))]
        cut = np.flatnonzero(kind == h.PRUNED)
        cut = cut[np.lexsort((number[cut], loss[cut]))]
        ranked = np.concatenate([done, cut])
        below, above = ranked[:n_below], np.concatenate([ranked[n_below:],
                                                         np.flatnonzero(kind == h.FAILED)])
        return (below[np.argsort(number[below], kind="stable")],
                above[np.argsort(number[above], kind="stable")])
    h.History.split = split


def summary(r: dict, first_rung: int = 55) -> str:
    rows = r["trials"]
    done = [x for x in rows if x["state"] == "COMPLETE"]
    late = rows[11:]  # after the GP's trials: tpe's
    med = lambda xs: statistics.median(xs) if xs else float("nan")  # noqa: E731
    return (f"{r['method']:45s} seed {r['seed']} best {r['best']:.4f} rounds {r['rounds']} "
            f"({r['rounds'] / len(rows):.0f}/trial) cpu {r['cpu_s']:.1f}s | "
            f"states {dict((s, sum(x['state'] == s for x in rows)) for s in sorted({x['state'] for x in rows}))} | "
            f"lr median all {med([x['lr'] for x in rows]):.3f} tpe-phase {med([x['lr'] for x in late]):.3f} "
            f"complete {med([x['lr'] for x in done]):.3f} | ended<{first_rung} "
            f"{sum(x['last'] < first_rung for x in rows)} (complete {sum(x['last'] < first_rung for x in done)})"
            f" | last-20 lr median {med([x['lr'] for x in rows[-20:]]):.3f}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("backend")
    p.add_argument("dataset")
    p.add_argument("seeds", help="comma-separated")
    p.add_argument("methods", nargs="+")
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--json")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--tpe-pruned-by-loss", action="store_true",
                   help="an experiment, not the project's TPE: rank PRUNED trials in TPE's "
                        "split by their last loss alone (not furthest step first)")
    a = p.parse_args()
    if a.tpe_pruned_by_loss:
        pruned_by_loss()
    out = []
    for seed in [int(s) for s in a.seeds.split(",")]:
        for m in a.methods:
            r = run(m, a.backend, a.dataset, seed, a.trials)
            out.append({"backend": a.backend, "dataset": a.dataset, **r})
            print(summary(r), flush=True)
            if a.verbose:
                for x in r["trials"]:
                    print(f"  {x['number']:3d} {x['state']:9s} lr {x['lr']:.4f} last {x['last']:4d} "
                          f"best_round {x['best_round']} value {x['value']} {x['by']}")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
