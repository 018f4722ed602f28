"""How well the bayes plugin predicts a pruned trial's final value from its partial curve.

The bayes plugin tells its model a PRUNED trial's predicted final loss (option
``pruned``): ``curve`` (the default: a GP over (configuration, log step) fitted on every
reported value), ``offset`` (the loss where it stopped plus the finished trials' median
change from there to their end). This script checks both, through the plugin itself
(``tell()`` then the values its model is fitted on), and a least-squares line through
the finished trials' (value at the step, final value), the rule tried first in
development, on real learning curves: the 10-epoch curves of every bayes-alone trial
stored by ``benchmarks/pruners.py`` (every trial trained all 10 epochs, so the truth is
known).

For each stored run and each step s, a pruner's selection is mimicked: the trials in the
top third at step s are told COMPLETE with their whole curves; the other two thirds are
told PRUNED with their curves up to s, and predicted. Reported: the median (over runs) of
each run's median absolute error of the predicted final validation accuracy, and of its
Spearman rank correlation with the true one (0 for a constant prediction).

    .venv/bin/python benchmarks/pruned_prediction.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
RUNS = [
    "pruners-mnist-like-40000-compiled-tuning-runs.json",
    "pruners-mnist-like-40000-compiled-confirmation-runs.json",
    "pruners-digits-compiled-runs.json",
]
# the keras backend's default space (the notebook's), which the stored runs searched
SPACE = {
    "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "num_dense_layers": {"type": "int", "low": 0, "high": 2},
    "num_dense_nodes": {"type": "int", "low": 5, "high": 15},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
}
RULES = ("curve", "offset", "line")


def line(at: list[float], final: list[float], value: float) -> float:
    if len(at) < 3 or max(at) == min(at):
        return value + statistics.median(f - a for a, f in zip(at, final, strict=True))
    slope = max(0.0, statistics.linear_regression(at, final).slope)
    return statistics.fmean(final) + slope * (value - statistics.fmean(at))


def predictions(log: list[dict], step: int, rule: str) -> tuple[list[float], list[float]]:
    """(predicted, true) final accuracies of the trials below the top third at ``step``."""
    from hpo_framework import Space, Trial, TrialState, get_registry

    at = [t["curve"][step - 1] for t in log]
    cut = sorted(at)[int(len(at) * 2 / 3)]
    kept = [i for i, a in enumerate(at) if a >= cut]
    pruned = [i for i, a in enumerate(at) if a < cut]
    truth = [log[i]["curve"][-1] for i in pruned]
    if rule == "line":
        guess = [line([at[i] for i in kept], [log[i]["curve"][-1] for i in kept], at[i])
                 for i in pruned]
        return guess, truth
    trials = []
    for i, t in enumerate(log):  # losses: the accuracy maximized, so its negative
        curve = [(s, -a) for s, a in enumerate(t["curve"], start=1)]
        if i in kept:
            trials.append(Trial(number=i, params=t["params"], state=TrialState.COMPLETE,
                                value=t["curve"][-1], loss=-t["curve"][-1], curve=curve))
        else:
            trials.append(Trial(number=i, params=t["params"], state=TrialState.PRUNED,
                                curve=curve[:step]))
    bayes = get_registry().get("strategy", "bayes")(Space.from_dict(SPACE), seed=0,
                                                    pruned=rule)
    bayes.tell(trials)
    ys = bayes._data()[1]
    return [-ys[i] for i in pruned], truth


def main(argv: list[str] | None = None) -> int:
    from scipy.stats import spearmanr

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(RESULTS / "pruned-prediction.md"))
    args = parser.parse_args(argv)
    lines = ["# Predicting a pruned trial's final validation accuracy",
             "",
             "Written by `benchmarks/pruned_prediction.py` (its docstring says how). Per "
             "rule: the median over runs of each run's median absolute error of the "
             "predicted final accuracy of the trials below the top third at the step "
             "(error), and of its rank correlation with the true one (rho). curve and "
             "offset: the bayes plugin's `pruned=curve` (the default) and "
             "`pruned=offset`, through the plugin; line: a least-squares line through "
             "the kept trials' (value at the step, final value), slope at least 0.",
             "",
             "| curves (bayes alone's trials) | runs | step | "
             + " | ".join(f"{r}: error | {r}: rho" for r in RULES) + " |",
             "|---|---|---|" + "---|---|" * len(RULES)]
    for name in RUNS:
        runs = json.loads((RESULTS / name).read_text(encoding="utf-8"))["bayes"]
        logs = [[t for t in run["log"] if t["steps"] == 10] for run in runs]
        for step in (1, 3, 5):
            cells = []
            for rule in RULES:
                errors, rhos = [], []
                for log in logs:
                    guess, truth = predictions(log, step, rule)
                    errors.append(statistics.median(abs(g - t) for g, t in
                                                    zip(guess, truth, strict=True)))
                    rhos.append(0.0 if max(guess) == min(guess)
                                else float(spearmanr(guess, truth)[0]))
                cells += [f"{statistics.median(errors):.4f}", f"{statistics.median(rhos):.2f}"]
            lines.append(f"| {name} | {len(logs)} | {step} | " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
