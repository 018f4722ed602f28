"""The median stopping rule, after Optuna's MedianPruner.

After ``n_startup_trials`` trials finished (COMPLETE), a trial is stopped at a checked step
when its best value so far is worse than the median of the finished trials' values at that
same step. Steps before ``n_warmup_steps`` are never checked; after that every
``interval_steps``-th step is (a check whose step was not reported waits for the next
report).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from hpo_framework import Option, Pruner, Trial, TrialState

from .curves import value_at


def first_in_interval(step: int, steps: Sequence[int], warmup: int, interval: int) -> bool:
    """True when no earlier report fell on or after this interval's check step."""
    check = (step - warmup) // interval * interval + warmup
    earlier = [s for s in steps if s != step]
    return max(earlier, default=-1) < check


class MedianPruner(Pruner):
    """Stops a trial whose best so far is worse than the finished trials' median."""

    name = "median"
    options = {
        "n_startup_trials": Option(5, int, low=0, nullable=False,
                                   help="no pruning until this many trials finished"),
        "n_warmup_steps": Option(0, int, low=0, nullable=False,
                                 help="no pruning before this step"),
        "interval_steps": Option(1, int, low=1, nullable=False,
                                 help="check every this many steps after the warm-up"),
        "n_min_trials": Option(1, int, low=1, nullable=False,
                               help="finished trials that reported the step, at least"),
    }

    def prune(self, trial: Trial, history: Sequence[Trial]) -> bool:
        if not trial.curve:
            return False
        finished = [t for t in history if t.state is TrialState.COMPLETE]
        if not finished or len(finished) < self.config["n_startup_trials"]:
            return False
        step = trial.curve[-1][0]
        warmup = self.config["n_warmup_steps"]
        if step < warmup:
            return False
        if not first_in_interval(step, [s for s, _ in trial.curve], warmup,
                                 self.config["interval_steps"]):
            return False
        real = [loss for _, loss in trial.curve if not math.isnan(loss)]
        if not real:
            return True
        at_step = [v for t in finished if (v := value_at(t.curve, step)) is not None]
        at_step = [v for v in at_step if not math.isnan(v)]
        if len(at_step) < self.config["n_min_trials"] or not at_step:
            return False
        return min(real) > statistics.median(at_step)
