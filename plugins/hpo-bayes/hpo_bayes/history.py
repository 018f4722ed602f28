"""What the model is told: every finished trial, in number order, with a loss.

A failed trial gets the worst loss seen, so the model avoids its region without a
missing value; a pruned one a predicted final loss (:mod:`.curve`), never its early
value as if it were final, and never better than the best final loss (a pruned trial is
not the incumbent). Before any trial finished (a pausing pruner holds them all at a
rung) the model sees the losses at the latest step that two trials reached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .curve import offset


class History:
    """Finished trials as the model sees them: encodings, final losses, learning curves."""

    def __init__(self) -> None:
        self.told: dict[int, tuple[list[float], float | None]] = {}  # number -> (u, loss)
        self.curves: dict[int, dict[int, float]] = {}  # number -> {step: loss}, if reported
        self.pruned: set[int] = set()

    def record(self, trial: Any, u: list[float]) -> None:
        """A finished trial (told again later: the later telling replaces it)."""
        done = trial.state.value == "COMPLETE"
        self.told[trial.number] = (u, trial.loss if trial.loss is not None and done else None)
        curve = {int(step): float(v) for step, v in (trial.curve or ())
                 if math.isfinite(float(v))}
        if curve:
            self.curves[trial.number] = curve
        if trial.state.value == "PRUNED":
            self.pruned.add(trial.number)
        else:  # a paused trial, told PRUNED, that was resumed and ended
            self.pruned.discard(trial.number)

    def n_complete(self, numbers: Sequence[int]) -> int:
        return sum(1 for k in numbers if self.told[k][1] is not None)

    def data(self, how: str, curve_predictions: Callable[[list[int], list[int]], dict],
             numbers: Sequence[int] | None = None) -> tuple[list, list]:
        """(encodings, losses) of the finished trials in number order. ``how`` (the
        ``pruned`` option): ``curve`` asks ``curve_predictions(numbers, complete)`` first
        and falls back to :func:`.curve.offset`; ``offset`` that alone; ``worst`` tells
        a pruned trial as a failed one."""
        numbers = sorted(self.told) if numbers is None else list(numbers)
        complete = [k for k in numbers if self.told[k][1] is not None]
        if not complete:
            return self.early_data(numbers)
        finals = [self.told[k][1] for k in complete]
        worst, best = max(finals), min(finals)
        xs = [self.told[k][0] for k in numbers]
        curved = curve_predictions(numbers, complete) if how == "curve" else {}
        ys = []
        for k in numbers:
            loss = self.told[k][1]
            if loss is None and k in self.pruned and how != "worst":
                guess = curved[k] if k in curved else offset(self, k, complete)
                loss = None if guess is None else max(guess, best)
            ys.append(worst if loss is None else loss)
        return xs, ys

    def early_data(self, numbers: Sequence[int]) -> tuple[list, list]:
        """No trial finished yet: the losses the trials reported at the latest step at
        least two of them reached, as BOHB models the largest budget with enough
        observations; ``[], []`` when none did."""
        curves = {k: self.curves.get(k, {}) for k in numbers}
        for step in sorted({s for c in curves.values() for s in c}, reverse=True):
            have = [k for k in numbers if step in curves[k]]
            if len(have) >= 2:
                return [self.told[k][0] for k in have], [curves[k][step] for k in have]
        return [], []
