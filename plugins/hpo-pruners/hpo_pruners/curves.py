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


def hopeless(curve: Curve, history: Sequence[Trial], after: int) -> bool:
    """True when the trial could not beat the best finished trial even if it improved
    from its newest step as much as the most any finished trial improved from that step.

    Judged once ``after`` trials finished (COMPLETE) beyond the newest step, on the last
    values of their curves; a step no finished trial went past is never judged.
    """
    if not curve or after < 1:
        return False
    step, loss = curve[-1]
    changes, finals = [], []
    for t in history:
        if t.state is not TrialState.COMPLETE or not t.curve or t.curve[-1][0] <= step:
            continue
        final = float(t.curve[-1][1])
        there = value_at(t.curve, step)
        if there is None or not math.isfinite(there) or not math.isfinite(final):
            continue
        changes.append(final - there)
        finals.append(final)
    if len(changes) < after:
        return False
    return finite_or_inf(loss) + min(changes) > min(finals)


def best_of_complete(history: Sequence[Trial]) -> float:
    """The least finite value any COMPLETE trial's curve reached (inf: none yet)."""
    best = math.inf
    for t in history:
        if t.state is TrialState.COMPLETE:
            best = min(best, least(t.curve))
    return best


def least(curve: Curve) -> float:
    """The least finite value of a curve (inf: none)."""
    return min((float(v) for _, v in curve if math.isfinite(v)), default=math.inf)


def short_of_trend(curve: Curve, window: int, horizon: int, best: float) -> bool:
    """True when the trial's best so far, improved on to ``horizon`` at the rate its best
    so far improved over its last ``window`` steps, is still worse than ``best``.

    A loss curve that falls ever more slowly (convex) improves less from here than its
    latest rate carried on, so this never stops a trial that could still get below
    ``best``; a slow learner still falling steeply is kept, whatever its value now.
    Judged once the curve holds ``window`` steps before its newest one.
    """
    if not curve or window < 1 or not math.isfinite(best):
        return False
    step = curve[-1][0]
    if step >= horizon:
        return False
    back = step - window
    then = now = math.inf  # the best up to `back`, and up to now (one pass)
    for s, v in curve:
        if math.isfinite(v):
            v = float(v)
            if v < now:
                now = v
            if s <= back and v < then:
                then = v
    if not math.isfinite(then):
        return False
    rate = (then - now) / window
    return now - rate * (horizon - step) > best
