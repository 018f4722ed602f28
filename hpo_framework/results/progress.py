"""How far a running study is, told truthfully: the CLI's display and the API's
``show_progress`` both read it.

A trial counts when it is *decided* (COMPLETE, FAILED or PRUNED). One that a pausing pruner
paused is not decided yet: it counts when it is resumed to its end or ended PRUNED, so
the count never runs ahead of the study. The total is what will run: the trial budget,
or fewer when the strategy has fewer configurations left to give (a grid knows its size).
The ETA is the time per decided trial times the trials that remain; with a pausing pruner
it is a lower bound (``eta >Ns``): the time to start the trials still to come, before
the paused ones are resumed or ended.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from ..contracts.trial import Trial, TrialState
from ..study.storage import now
from .format import fmt


class ProgressCount:
    """Decided trials of the total, paused ones, elapsed time and ETA of one run."""

    def __init__(self, budget: int | None, study: Any = None) -> None:
        self.budget = budget
        self.started = time.monotonic()
        self._since = now()  # trials that started before this are an earlier run's
        self._decided: set[int] = set()
        self._decided_before: int | None = None
        self._started_before = 0
        if study is not None:
            self.begin(study)

    def begin(self, study: Any) -> None:
        """What the study held before this run (a resumed study has decided trials)."""
        self._decided_before = len(study.finished_trials)
        self._started_before = _started(study)

    def restart_clock(self) -> None:
        """Start the clock now (after a warm-up that no trial should pay for)."""
        self.started = time.monotonic()

    def update(self, study: Any, trial: Trial) -> None:
        """One trial event (decided, or paused) from the study's loop."""
        if self._decided_before is None:  # not begun: this event is the run's first
            before = len(study.finished_trials) - (1 if trial.state.finished else 0)
            self._decided_before = before
            self._started_before = sum(1 for t in study.trials if t.state is not
                                       TrialState.WAITING and (t.datetime_start or "") <
                                       self._since)
        if trial.state.finished:
            self._decided.add(trial.number)

    @property
    def decided(self) -> int:
        return (self._decided_before or 0) + len(self._decided)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def total(self, study: Any) -> int | None:
        """The budget, or what the strategy can still give when that is fewer."""
        strategy = study.strategy
        left = 0 if strategy.done else getattr(strategy, "remaining", None)
        if not getattr(strategy, "finite", False) or not isinstance(left, int):
            return self.budget
        can = len(study.trials) + left  # every trial in the study will be decided
        return can if self.budget is None else min(self.budget, can)

    def eta(self, study: Any) -> str:
        """`` eta Ns`` (``eta >Ns`` with a pausing pruner), or "" when unknown or done."""
        total = self.total(study)
        if total is None or self.decided >= total:
            return ""
        if getattr(study.pruner, "pauses", False):
            started = _started(study)
            new, to_start = started - self._started_before, total - started
            if new <= 0 or to_start <= 0:
                return ""
            return f" eta >{self.elapsed / new * to_start:.0f}s"
        ran = len(self._decided)
        if ran <= 0:
            return ""
        return f" eta {self.elapsed / ran * (total - self.decided):.0f}s"

    def paused(self, study: Any) -> int:
        """Paused trials as the lines so far tell it: when the study ends the paused ones
        all at once, each stays paused until its own line says it ended."""
        waiting = sum(1 for t in study.trials if t.state is TrialState.PAUSED)
        return waiting + max(0, len(study.finished_trials) - self.decided)

    def counts(self, study: Any) -> str:
        """``5/20``, with the paused trials when there are some: ``5/20, 7 paused``."""
        total = self.total(study)
        paused = self.paused(study)
        text = f"{self.decided}" + ("" if total is None else f"/{total}")
        return text + (f", {paused} paused" if paused else "")

    def line(self, study: Any, trial: Trial) -> str:
        """The plain line for one trial event (a log, a pipe, the API). Several
        objectives: the trial's values and the size of the Pareto front so far."""
        complete = trial.state is TrialState.COMPLETE
        several = len(getattr(study, "directions", None) or [None]) > 1
        if complete and several and trial.values is not None:
            value = "(" + ", ".join(fmt(v) for v in trial.values) + ")"
        else:
            value = fmt(trial.value) if complete else trial.state.value
        if complete and not trial.feasible:
            value += " infeasible"
        extra = f" ({trial.error})" if trial.error and not complete else ""
        best = f"front {self.front_size(study)}" if several else \
            f"best {fmt(study.best_value)}"
        return (f"trial {trial.number} [{self.counts(study)}] {value}{extra} {best} "
                f"elapsed {self.elapsed:.0f}s{self.eta(study)}")

    def front_size(self, study: Any) -> int:
        """How many feasible COMPLETE trials are on the Pareto front, kept incrementally
        (each trial looked at once: a line per trial stays cheap at 10,000 trials)."""
        from ..contracts.pareto import dominates

        if not hasattr(self, "_front"):
            self._front: dict[tuple[float, ...], int] = {}
            self._looked: set[int] = set()
        for t in study.trials:
            if t.number in self._looked or not t.state.finished:
                continue
            self._looked.add(t.number)
            if t.state is not TrialState.COMPLETE or t.losses is None or not t.feasible:
                continue
            p = tuple(t.losses)
            if p in self._front:
                self._front[p] += 1
            elif not any(dominates(q, p) for q in self._front):
                self._front = {q: n for q, n in self._front.items() if not dominates(p, q)}
                self._front[p] = 1
        return sum(self._front.values())


class ProgressLines:
    """A study callback that prints :meth:`ProgressCount.line` for every trial event
    (``optimize(..., show_progress=True)``; the CLI's display off a terminal)."""

    def __init__(self, budget: int | None, study: Any = None,
                 stream: TextIO | None = None) -> None:
        self.count = ProgressCount(budget, study)
        self.stream = stream or sys.stderr

    def __call__(self, study: Any, trial: Trial) -> None:
        self.count.update(study, trial)
        print(self.count.line(study, trial), file=self.stream, flush=True)


def _started(study: Any) -> int:
    """Trials that have run at least once (every one but those queued to run)."""
    return sum(1 for t in study.trials if t.state is not TrialState.WAITING)
