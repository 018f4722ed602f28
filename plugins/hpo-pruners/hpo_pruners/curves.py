"""Reading curves: ``[(step, loss), ...]`` in the order reported, losses minimized."""

from __future__ import annotations

import math
from collections.abc import Sequence

from hpo_framework import Trial, TrialState

Curve = Sequence[tuple[int, float]]


def finite_or_inf(loss: float) -> float:
    """A NaN or infinite loss ranks below every real one."""
    return float(loss) if math.isfinite(loss) else math.inf


def value_at_or_after(curve: Curve, step: int) -> float | None:
    """The loss first reported at ``step`` or later (where a trial reached a rung)."""
    for s, loss in curve:
        if s >= step:
            return finite_or_inf(loss)
    return None


def value_at(curve: Curve, step: int) -> float | None:
    for s, loss in curve:
        if s == step:
            return float(loss)
    return None


def last_steps_of_complete(history: Sequence[Trial]) -> list[int]:
    """The last reported step of every COMPLETE trial that reported any."""
    return [t.curve[-1][0] for t in history if t.state is TrialState.COMPLETE and t.curve]
