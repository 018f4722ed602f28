"""Replay the pruners on bayes alone's stored learning curves: what pruning itself costs.

``benchmarks/pruners.py`` stores every trial's per-epoch validation accuracies. For bayes
alone every trial trained all 10 epochs, so its runs hold the whole curve of each
configuration bayes proposed. This script feeds those curves, trial by trial in their
order, to each pruner (the plugins themselves, with ``benchmarks/pruners.py``'s options)
as a serial study would, and reports what the pruner alone would have cost: the epochs
it would have trained and the best final accuracy among the trials it let finish,
against bayes alone's best. The proposals are held fixed (bayes alone's), so a gap here
is the pruner's; a gap in ``benchmarks/pruners.py`` beyond it comes from what the
strategy does with pruned trials.

    .venv/bin/python benchmarks/pruner_replay.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
RUNS = {
    "mnist-like-40000, seeds 0-19": ("pruners-mnist-like-40000-hopeless-runs.json", 0, 20),
    "mnist-like-40000, seeds 20-39": ("pruners-mnist-like-40000-hopeless-runs.json", 20, 40),
    "digits, seeds 0-79": ("pruners-digits-hopeless-runs.json", 0, 80),
    "digits, seeds 80-159": ("pruners-digits-hopeless-runs.json", 80, 160),
}


def replay(curves: list[list[float]], pruner: str, options: dict, seed: int) -> tuple[int, float]:
    """(epochs trained, best final accuracy of the finished trials) with that pruner."""
    from hpo_framework import Trial, TrialState, get_registry

    judge = get_registry().get("pruner", pruner)(seed=seed, **options)
    history: list[Trial] = []
    epochs, best = 0, None
    for number, curve in enumerate(curves):
        me = Trial(number=number, params={}, state=TrialState.RUNNING)
        stopped = False
        for step, acc in enumerate(curve, start=1):
            me.curve.append((step, -acc))
            epochs += 1
            if step < len(curve) and judge.prune(me, history):
                stopped = True
                break
        me.state = TrialState.PRUNED if stopped else TrialState.COMPLETE
        if not stopped:
            me.loss = -curve[-1]
            best = curve[-1] if best is None else max(best, curve[-1])
        history.append(me)
    return epochs, best


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from pruners import BASE_OPTIONS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(RESULTS / "pruner-replay.md"))
    args = parser.parse_args(argv)
    lines = ["# The pruners replayed on bayes alone's stored curves",
             "",
             "Written by `benchmarks/pruner_replay.py` (its docstring says how): the "
             "proposals fixed to bayes alone's, so the difference is what the pruner "
             "itself costs. Medians over seeds.",
             "",
             "| curves | pruner | epochs (of 200) | best val acc | bayes alone's | "
             "per-seed difference |",
             "|---|---|---|---|---|---|"]
    variants = [("asha", {}), ("asha", {"hopeless_after": 3}), ("asha", {"max_resource": 10}),
                ("asha", {"max_resource": 10, "hopeless_after": 3}),
                ("asha", {"max_resource": 10, "hopeless_after": 4}),
                ("asha", {"reduction_factor": 4}), ("median", {}),
                ("hyperband", {})]
    for label, (name, first, end) in RUNS.items():
        runs = [run for run in json.loads((RESULTS / name).read_text(encoding="utf-8"))["bayes"]
                if first <= run["seed"] < end]
        for pruner, extra in variants:
            got = [(replay([t["curve"] for t in run["log"]], pruner,
                           {**BASE_OPTIONS[pruner], **extra}, run["seed"]), run["best"])
                   for run in runs]
            shown = pruner + (" (" + ", ".join(f"{k}={v}" for k, v in extra.items()) + ")"
                              if extra else "")
            lines.append(
                f"| {label} | {shown} | {statistics.median(e for (e, _), _ in got):g} | "
                f"{statistics.median(b for (_, b), _ in got):.4f} | "
                f"{statistics.median(a for _, a in got):.4f} | "
                f"{round(statistics.median(b - a for (_, b), a in got), 4) + 0.0:+.4f} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
