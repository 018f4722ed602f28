"""How well a pruned trial's final value is predicted from the value it stopped at.

The bayes plugin tells its model a PRUNED trial's predicted final loss (``pruned=predicted``):
its loss at the step it stopped plus the median change, from that step to the end, of
the finished trials. This script checks that rule against the one it replaced in
development, a least-squares line through the finished trials' (value at the step,
final value), on real learning curves: the 10-epoch curves of every bayes-alone trial
stored by ``benchmarks/pruners.py`` (every trial trained all 10 epochs, so the truth is
known).

For each stored run and each step s, a pruner's selection is mimicked: the trials in the
top third at step s are the "finished" ones the rule learns from, the other two thirds
are "pruned" at s and predicted. Reported: the median (over runs) of the median absolute
error of the predicted final validation accuracy, and its rank correlation with the true
one.

    .venv/bin/python benchmarks/pruned_prediction.py
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
RUNS = [
    "pruners-mnist-like-40000-compiled-tuning-runs.json",
    "pruners-mnist-like-40000-compiled-confirmation-runs.json",
    "pruners-digits-compiled-runs.json",
]


def offset(at: list[float], final: list[float], value: float) -> float:
    return value + statistics.median(f - a for a, f in zip(at, final, strict=True))


def line(at: list[float], final: list[float], value: float) -> float:
    if len(at) < 3 or max(at) == min(at):
        return offset(at, final, value)
    slope = max(0.0, statistics.linear_regression(at, final).slope)
    return statistics.fmean(final) + slope * (value - statistics.fmean(at))


def evaluate(curves: list[list[float]], step: int, rule) -> tuple[float, float] | None:
    from scipy.stats import spearmanr

    at = [c[step - 1] for c in curves]
    cut = sorted(at)[int(len(at) * 2 / 3)]
    kept = [c for c in curves if c[step - 1] >= cut]
    pruned = [c for c in curves if c[step - 1] < cut]
    if len(kept) < 2 or len(pruned) < 3:
        return None
    guess = [rule([c[step - 1] for c in kept], [c[-1] for c in kept], c[step - 1])
             for c in pruned]
    truth = [c[-1] for c in pruned]
    error = statistics.median(abs(g - t) for g, t in zip(guess, truth, strict=True))
    # a constant prediction (a line of slope 0) ranks nothing: correlation 0
    rho = 0.0 if max(guess) == min(guess) else float(spearmanr(guess, truth)[0])
    return error, rho


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(RESULTS / "pruned-prediction.md"))
    args = parser.parse_args(argv)
    lines = ["# Predicting a pruned trial's final validation accuracy",
             "",
             "Written by `benchmarks/pruned_prediction.py` (the docstring says how). "
             "Median over runs of each run's median absolute error (and Spearman rank "
             "correlation) of the predicted final accuracy of the trials below the top "
             "third at the step; the top third is what each rule learns from. offset: "
             "the bayes plugin's rule (`pruned=offset`); line: least squares, slope at "
             "least 0.",
             "",
             "| curves | runs | step | offset: error | offset: rank corr. | line: error "
             "| line: rank corr. |",
             "|---|---|---|---|---|---|---|"]
    for name in RUNS:
        runs = json.loads((RESULTS / name).read_text(encoding="utf-8"))["bayes"]
        sets = [[t["curve"] for t in run["log"] if t["steps"] == 10] for run in runs]
        for step in (1, 2, 3, 5):
            cells = []
            for rule in (offset, line):
                got = [r for r in (evaluate(c, step, rule) for c in sets) if r is not None]
                cells += [f"{statistics.median(e for e, _ in got):.4f}",
                          f"{statistics.median(r for _, r in got):.2f}"]
            lines.append(f"| {name} (bayes alone) | {len(sets)} | {step} | "
                         + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
