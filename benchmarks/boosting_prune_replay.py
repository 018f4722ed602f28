"""Replay asha's ``trend_window`` rule on the curves of unpruned ``auto`` studies (helper HP).

    .venv/bin/python benchmarks/boosting_prune_replay.py --seeds 0,1,2 --windows 5,10,25,50

Runs ``auto`` (as ``benchmarks/boosting.py``'s ``run_ours``: serial, early stopping on) per
library, dataset and seed, then applies the rule offline to each trial in trial order,
against the best COMPLETE value before it (no feedback to the strategy): the rounds it would
have trained over auto's, how many trials it would have stopped that went on to beat the best
so far ("lost"), and the best the study would then have reached over auto's.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins/hpo-pruners"))


def replay(study, window: int, horizon: int = 500) -> tuple[int, int, float]:
    from hpo_pruners.curves import short_of_trend

    best, rounds, lost, kept_best = math.inf, 0, 0, math.inf
    for t in study.trials:
        curve = list(t.curve)
        stop = next((i for i in range(len(curve))
                     if short_of_trend(curve[:i + 1], window, horizon, best)), None)
        seen = curve if stop is None else curve[:stop + 1]
        rounds += seen[-1][0]
        final = min(v for _, v in curve)
        reached = min(v for _, v in seen)
        if stop is not None and final < best:
            lost += 1
        kept_best = min(kept_best, reached)
        best = min(best, reached)  # what a COMPLETE or pruned trial would leave as the bar
    return rounds, lost, kept_best


def main() -> None:
    from boosting import METRIC

    from hpo_framework.jobs.job import JobConfig, prepare, run_job

    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--windows", default="5,10,25,50")
    p.add_argument("--pairs", default="lightgbm:diabetes,lightgbm:breast_cancer,"
                                      "xgboost:diabetes,xgboost:breast_cancer")
    a = p.parse_args()
    windows = [int(w) for w in a.windows.split(",")]
    for pair in a.pairs.split(","):
        backend, dataset = pair.split(":")
        for seed in [int(s) for s in a.seeds.split(",")]:
            config = JobConfig(strategy="auto", backend=backend, dataset=dataset, n_trials=50,
                               seed=seed, storage=":memory:", executor="serial",
                               metric=METRIC[dataset], final_test=False,
                               backend_options={"n_jobs": 1}, new_study=True)
            prepared = prepare(config)
            try:
                study = run_job(prepared).study
                total = sum(t.curve[-1][0] for t in study.trials if t.curve)
                best = min(min(v for _, v in t.curve) for t in study.trials if t.curve)
                cells = []
                for w in windows:
                    rounds, lost, kept = replay(study, w)
                    cells.append(f"w{w}: rounds {rounds / total:.2f} lost {lost} "
                                 f"best {kept / best:.3f}x")
                print(f"{backend} {dataset} seed {seed} auto rounds {total} | "
                      + " | ".join(cells), flush=True)
            finally:
                prepared.study.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
