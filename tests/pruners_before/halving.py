"""Successive halving on the whole cohort: every trial pauses at each rung, and the best of
all the trials that reached it go on from their checkpoints (Jamieson and Talwalkar,
2016; KerasTuner's Hyperband runs each bracket so).

A pruner that decides when a trial arrives at a rung (``asha``) judges it against the
trials before it, a few in a short study; ``halving`` waits until every trial of the study
reached the rung (the trial budget is spent and nothing runs) and ranks them all at once,
so an early trial is neither kept on a low bar nor stopped by a lucky first one. Pausing
costs nothing in epochs: a resumed trial goes on from its checkpoint, and trains and ends
exactly as it would have had it never paused.

Rung ``k`` is at step ``steps[k]``; of the trials that reached it, the best
``max(1, round(keep[k] * n))`` go on (ties: the lower number), the rest stay paused and are
recorded PRUNED when the study ends. The defaults (steps 1 and 3, keeping a half, then
two fifths: 20 trials of 10 epochs train 68 epochs) come from ``benchmarks/pruner_replay.py``
(the cohort table of ``benchmarks/results/pruner-replay.md``). Nothing is stored: the
rungs are read from the curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hpo_framework import Option, OptionError, Pruner, Trial, TrialState
from hpo_framework.contracts.pruner import PAUSE

from .curves import value_at_or_after


def _numbers(owner: str, key: str, text: Any, kind: type) -> list[Any]:
    try:
        values = [kind(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise OptionError(f"{owner}: option '{key}' must be a comma-separated list of "
                          f"{'ints' if kind is int else 'numbers'}, got {text!r}")
    return values


class HalvingPruner(Pruner):
    """Pauses every trial at each rung; resumes the best of the whole cohort there."""

    name = "halving"
    pauses = True
    options = {
        "steps": Option("1,3", str, nullable=False,
                        help="the rungs' steps, comma-separated, increasing"),
        "keep": Option("0.5,0.4", str, nullable=False,
                       help="per rung, the fraction of the trials that reached it which go "
                            "on (comma-separated, in (0, 1])"),
    }

    def __init__(self, *, seed: int | None = None, **options: Any) -> None:
        super().__init__(seed=seed, **options)
        owner = "pruner 'halving'"
        self.steps = _numbers(owner, "steps", self.config["steps"], int)
        self.keep = _numbers(owner, "keep", self.config["keep"], float)
        if any(s < 1 for s in self.steps) or self.steps != sorted(set(self.steps)):
            raise OptionError(f"{owner}: option 'steps' must be increasing steps >= 1, got "
                              f"{self.config['steps']!r}")
        if len(self.keep) != len(self.steps) or not all(0 < k <= 1 for k in self.keep):
            raise OptionError(f"{owner}: option 'keep' needs one fraction in (0, 1] per step "
                              f"({len(self.steps)}), got {self.config['keep']!r}")

    def check_run(self, n_trials: int | None) -> None:
        if n_trials is None:
            raise OptionError("pruner 'halving' ranks the whole cohort once every trial has "
                              "reached a rung: give a trial budget (--trials N)")

    def prune(self, trial: Trial, history: Sequence[Trial]) -> bool | str:
        """PAUSE when this report reached a rung (a resumed trial's first report is past
        the rung it paused at)."""
        curve = trial.curve
        if not curve:
            return False
        step = curve[-1][0]
        previous = curve[-2][0] if len(curve) > 1 else 0
        return PAUSE if any(previous < at <= step for at in self.steps) else False

    def promote(self, paused: Sequence[Trial], history: Sequence[Trial], *, more: bool
                ) -> list[int]:
        """Once no trial will start or runs: at the lowest rung where some of the best are
        still paused there, those (in number order)."""
        if more or any(t.state is TrialState.RUNNING for t in history):
            return []
        waiting = {t.number for t in paused}
        for k, at in enumerate(self.steps):
            reached = [(v, t.number, t) for t in history
                       if (v := value_at_or_after(t.curve, at)) is not None]
            n = max(1, round(self.keep[k] * len(reached)))
            best = sorted(reached, key=lambda r: (r[0], r[1]))[:n]
            nxt = self.steps[k + 1] if k + 1 < len(self.steps) else None
            due = sorted(number for _, number, t in best if number in waiting
                         and (nxt is None or value_at_or_after(t.curve, nxt) is None))
            if due:
                return due
        return []
