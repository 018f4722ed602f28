"""Asynchronous successive halving (Li et al., 2020), after Optuna's SuccessiveHalvingPruner.

Rung ``k`` is reached at step ``min_resource * reduction_factor ** (min_early_stopping_rate
+ k)``. A trial that reaches a rung goes on only if its value there is among the best
``1 / reduction_factor`` of every trial that reached that rung so far (finished or still
running, pruned ones included); while fewer than ``reduction_factor`` trials reached it, it
must be the best of them. Nothing is stored: a trial's value at a rung is the first value
it reported at or after the rung's step, read from its curve, so the rungs are rebuilt from
the history on every call.

``max_resource`` (unset: Optuna's behaviour) is a whole trial's length: the rungs judged are
those whose next rung still lies within it (with 10 steps and the defaults: 1 and 3, not 9,
where a stop would save one step of ten and judge on a noisy one).

``hopeless_after`` (0: off, Optuna's behaviour) adds one rule, at every step: once that
many trials finished past the step, a trial whose value there, improved by as much as the
most any of them improved from there to their end, is still worse than the best of their
ends is stopped (``curves.hopeless``). It saves the epochs between rungs. No step before the first rung's
(``min_resource``) is judged by it: at a boosting trial's first rounds, a trial that
improves fastest is the one with the highest learning rate, and every slower one looked
hopeless from round 1 on (most trials of ``benchmarks/results/boosting-prune.md``'s
``asha-promote`` studies ended at round 1 or 2 before that).

``trend_window`` (0: off) is a rule fair to slow learners, judged at every step once the
trial has reported that many steps before its newest: the trial is stopped when its best
so far, improved on to ``max_resource`` (unset: the longest finished trial's last step) at
the rate its best so far improved over its last ``trend_window`` steps, is still worse
than the best value any COMPLETE trial's curve reached (``curves.short_of_trend``). A
loss curve that falls ever more slowly improves less than its latest rate carried on, so
no trial that could still beat the best is stopped, however bad its value now; a trial
that stopped improving (one the library's early stopping would run on for its patience)
goes after ``trend_window`` steps.

``pause`` (off: Optuna's behaviour) is Li et al.'s ASHA with promotions: a trial goes on
past a rung only while it is among the best ``len // reduction_factor`` of the trials that
reached it (none while fewer than ``reduction_factor`` did); else it is paused, not
stopped, and resumed from its checkpoint as soon as later trials rank it there (the study
asks :meth:`ASHAPruner.promote` before each new trial; once no trial runs or will start,
the best at each rung goes on). A study's first trials are then no longer judged for good
against the few before them.

With the study's index (:meth:`ASHAPruner.index`) a decision reads each rung's sorted values
of the finished trials (a rank: O(log n)) and scans only the trials not finished; a plain
list of trials is scanned whole, with the same decisions.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

from hpo_framework import Option, OptionError, Pruner, Trial, TrialState
from hpo_framework.contracts.pruner import PAUSE

from .curves import Curve, finite_or_inf, hopeless, short_of_trend, value_at_or_after
from .index import Finished, best_complete, index_of, longest_complete, open_of

#: ``rank(at, value) -> (n_less, n)``: of the other trials that reached the rung at step
#: ``at``, how many have a value there below ``value``, and how many there are
Rank = Callable[[int, float], tuple[int, int]]


def check_resource(owner: str, key: str, value: Any) -> None:
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return
    raise OptionError(f"{owner}: option '{key}' must be an int >= 1 or 'auto', got {value!r}")


def rung_step(min_resource: int, reduction_factor: int, rate: int, rung: int) -> int:
    return min_resource * reduction_factor ** (rate + rung)


def promotable(value: float, competing: list[float], reduction_factor: int,
               strict: bool = False) -> bool:
    """Among the best ``len(competing) // reduction_factor`` (at least the best one;
    ``strict``: none while fewer than ``reduction_factor`` competed, as Li et al. promote);
    ``competing`` includes ``value``."""
    keep = len(competing) // reduction_factor
    if strict and keep < 1:
        return False
    return value <= sorted(competing)[max(keep - 1, 0)]


def promotable_rank(n_less: int, n: int, reduction_factor: int, strict: bool = False) -> bool:
    """:func:`promotable` from ranks: ``n`` values compete (the trial's own included) and
    ``n_less`` of them are below the trial's. (A value is <= the k-th smallest exactly when
    at most k values lie below it: no NaN competes, ``finite_or_inf`` saw to that.)"""
    keep = n // reduction_factor
    if strict and keep < 1:
        return False
    return n_less <= max(keep - 1, 0)


def scan_rank(others: Sequence[Curve]) -> Rank:
    """The rank among ``others``' curves, read by scanning them."""
    def rank(at: int, value: float) -> tuple[int, int]:
        there = [v for c in others if (v := value_at_or_after(c, at)) is not None]
        return sum(v < value for v in there), len(there)
    return rank


def index_rank(index: Finished, open_trials: Sequence[Trial], key: Callable[[int], object],
               keep: Callable[[Trial], bool] | None = None) -> Rank:
    """The rank among the finished trials (``index``, each rung's values under ``key(at)``,
    of the trials ``keep`` takes) and the open ones (scanned: they are few)."""
    def rank(at: int, value: float) -> tuple[int, int]:
        def value_of(t: Trial) -> float | None:
            return value_at_or_after(t.curve, at) if keep is None or keep(t) else None

        n_less, n = index.ranks(key(at), value_of).rank(value)
        for t in open_trials:
            if (keep is None or keep(t)) and (v := value_at_or_after(t.curve, at)) is not None:
                n, n_less = n + 1, n_less + (v < value)
        return n_less, n
    return rank


def rungs_judged(min_resource: int, reduction_factor: int, rate: int,
                 max_resource: int | None, last: int) -> list[int]:
    """The steps of the rungs judged up to step ``last`` (see :func:`successive_halving`)."""
    out, rung = [], 0
    while (at := rung_step(min_resource, reduction_factor, rate, rung)) <= last:
        if max_resource is not None and at * reduction_factor > max_resource:
            break
        out.append(at)
        rung += 1
    return out


def successive_halving(curve: Curve, others: Sequence[Curve], min_resource: int,
                       reduction_factor: int, rate: int, max_resource: int | None = None,
                       strict: bool = False) -> bool:
    """True to stop the trial of ``curve`` after its newest report.

    Only the rungs that this report reached are judged: a rung passed at an earlier report
    was judged then, with the history of then, and is never judged again. With
    ``max_resource``, a rung whose next one would lie past it (``step * reduction_factor >
    max_resource``) is not judged: it is the top rung, the trials that reach it finish.
    """
    return halving_stops(curve, scan_rank(others), min_resource, reduction_factor, rate,
                         max_resource, strict)


def halving_stops(curve: Curve, rank: Rank, min_resource: int, reduction_factor: int,
                  rate: int, max_resource: int | None = None, strict: bool = False) -> bool:
    """:func:`successive_halving` with the other trials' values at a rung read by ``rank``."""
    if not curve:
        return False
    step, loss = curve[-1]
    previous = curve[-2][0] if len(curve) > 1 else -math.inf
    for at in rungs_judged(min_resource, reduction_factor, rate, max_resource, step):
        if previous < at:  # this report reached the rung at `at`
            if not math.isfinite(loss):
                return True
            n_less, n = rank(at, finite_or_inf(loss))
            if not promotable_rank(n_less, n + 1, reduction_factor, strict):
                return True
    return False


def auto_min_resource(history: Sequence[Trial]) -> int | None:
    """Optuna's heuristic: a hundredth of the longest finished trial, at least 1 step."""
    longest = longest_complete(history)
    return None if longest is None else max(longest // 100, 1)


class ASHAPruner(Pruner):
    """Keeps the top ``1 / reduction_factor`` at each rung; stops the rest there."""

    name = "asha"
    options = {
        "min_resource": Option(1, (int, str), nullable=False,
                               help="step of the first rung, or 'auto' (1/100 of the "
                                    "longest finished trial, at least 1)"),
        "reduction_factor": Option(3, int, low=2, nullable=False,
                                   help="keep 1/reduction_factor at each rung; rungs are "
                                        "this factor apart"),
        "min_early_stopping_rate": Option(0, int, low=0, nullable=False,
                                          help="skip this many rungs: the first rung is at "
                                               "min_resource * reduction_factor ** rate"),
        "max_resource": Option(None, int, low=1,
                               help="a whole trial's steps: rungs whose next rung would lie "
                                    "past it are not judged (the trials that reach them "
                                    "finish); unset: every rung is judged, as Optuna does"),
        "hopeless_after": Option(0, int, low=0, nullable=False,
                                 help="once this many trials finished, also stop at any "
                                      "step a trial that could not beat the best of them "
                                      "even improving as much as the most any of them did "
                                      "from that step (0: off)"),
        "trend_window": Option(0, int, low=0, nullable=False,
                               help="at any step, also stop a trial whose best so "
                                    "far, improving on to max_resource at the rate it "
                                    "improved over its last this many steps, would still be "
                                    "worse than the best any finished trial reached (0: "
                                    "off)"),
        "pause": Option(False, bool, nullable=False,
                        help="pause a trial below a rung's bar instead of stopping it, and "
                             "resume it from its checkpoint once the trials after it rank "
                             "it among the best (Li et al.'s promotions; needs a backend "
                             "that checkpoints)"),
    }

    def __init__(self, *, seed: int | None = None, **options: Any) -> None:
        super().__init__(seed=seed, **options)
        check_resource("pruner 'asha'", "min_resource", self.config["min_resource"])
        self.pauses = bool(self.config["pause"])

    def index(self) -> Finished:
        return Finished(hopeless=self.config["hopeless_after"] > 0)

    def _index(self, history: Sequence[Trial]) -> Finished | None:
        return index_of(history, hopeless=self.config["hopeless_after"] > 0)

    def _min_resource(self, history: Sequence[Trial]) -> int | None:
        min_resource = self.config["min_resource"]
        return auto_min_resource(history) if min_resource == "auto" else min_resource

    def prune(self, trial: Trial, history: Sequence[Trial]) -> bool | str:
        index = self._index(history)
        min_resource = self._min_resource(history)
        if min_resource is None:
            return False
        after = self.config["hopeless_after"]
        # the hopeless rule judges no step before the first rung's: a boosting trial's
        # first rounds rank learning rates, not models (the trend rule is fair to slow
        # learners: it judges from its window on)
        judged = bool(trial.curve) and trial.curve[-1][0] >= min_resource
        if index is not None:
            stop = judged and hopeless_indexed(trial.curve, index, after)
            rank = index_rank(index, open_of(history) or [], _asha_key)
        else:
            stop = judged and hopeless(trial.curve, history, after)
            rank = scan_rank([t.curve for t in history])
        if stop or self._short_of_trend(trial, history):
            return True
        below = halving_stops(trial.curve, rank, min_resource, self.config["reduction_factor"],
                              self.config["min_early_stopping_rate"],
                              self.config["max_resource"], strict=self.pauses)
        if below and self.pauses and math.isfinite(trial.curve[-1][1]):
            return PAUSE
        return below

    def _short_of_trend(self, trial: Trial, history: Sequence[Trial]) -> bool:
        window = self.config["trend_window"]
        if not window:
            return False
        horizon = self.config["max_resource"] or longest_complete(history)
        return horizon is not None and short_of_trend(trial.curve, window, horizon,
                                                      best_complete(history))

    def promote(self, paused: Sequence[Trial], history: Sequence[Trial], *, more: bool
                ) -> list[int]:
        """The paused trials now among the best ``1 / reduction_factor`` of every trial
        that reached the rung they paused at (FAILED ones aside: a diverged run's early
        values rank no paused trial out): the highest rung first, then by value."""
        index = self._index(history)
        min_resource = self._min_resource(history)
        if min_resource is None or not self.pauses:
            return []
        rf = self.config["reduction_factor"]
        # nothing runs and nothing will start: no later trial can rank a paused one, so
        # the best at each rung goes on even where fewer than reduction_factor reached it
        open_trials = open_of(history)
        last_call = not more and not any(t.state is TrialState.RUNNING for t in
                                         (history if open_trials is None else open_trials))
        if index is not None and open_trials is not None:
            return self._promote_indexed(paused, index, open_trials, min_resource, last_call)
        due = []
        for trial in paused:
            if (paused_at := self._paused_at(trial, min_resource)) is None:
                continue
            at, value = paused_at
            competing = [v for t in history if t.number != trial.number
                         and t.state is not TrialState.FAILED
                         and (v := value_at_or_after(t.curve, at)) is not None]
            if value is not None and promotable(value, [*competing, value], rf,
                                                strict=not last_call):
                due.append((-at, value, trial.number))
        return [number for *_, number in sorted(due)]

    def _paused_at(self, trial: Trial, min_resource: int) -> tuple[int, float | None] | None:
        """The rung a paused trial paused at and its value there (None: it reached none)."""
        if not trial.curve:
            return None
        rungs = rungs_judged(min_resource, self.config["reduction_factor"],
                             self.config["min_early_stopping_rate"],
                             self.config["max_resource"], trial.curve[-1][0])
        if not rungs:
            return None
        return rungs[-1], value_at_or_after(trial.curve, rungs[-1])

    def _promote_indexed(self, paused: Sequence[Trial], index: Finished,
                         open_trials: Sequence[Trial], min_resource: int, last_call: bool
                         ) -> list[int]:
        """:meth:`promote` read from the index: per rung, the finished trials' values but
        FAILED ones (sorted) and the open trials' (sorted once per call; a paused trial's
        own value is among them, and is below nothing of its own)."""
        rf = self.config["reduction_factor"]
        at_open: dict[int, list[float]] = {}
        due = []
        for trial in paused:
            if (paused_at := self._paused_at(trial, min_resource)) is None:
                continue
            at, value = paused_at
            if value is None:
                continue
            there = at_open.get(at)
            if there is None:
                there = at_open[at] = sorted(
                    v for t in open_trials if (v := value_at_or_after(t.curve, at)) is not None)
            n_less, n = index.ranks(_asha_key(at), _value_at_or_after(at)).rank(value,
                                                                               failed=False)
            n_less, n = n_less + bisect.bisect_left(there, value), n + len(there)
            if promotable_rank(n_less, n, rf, strict=not last_call):
                due.append((-at, value, trial.number))
        return [number for *_, number in sorted(due)]


def _asha_key(at: int) -> tuple[str, int]:
    return ("asha", at)


def _value_at_or_after(at: int) -> Callable[[Trial], float | None]:
    def value_of(t: Trial) -> float | None:
        return value_at_or_after(t.curve, at)
    return value_of


def hopeless_indexed(curve: Curve, index: Finished, after: int) -> bool:
    """:func:`curves.hopeless` read from the index (which kept it: ``hopeless=True``)."""
    if not curve or after < 1:
        return False
    step, loss = curve[-1]
    kept = index.hopeless_at(step)
    if kept is None or kept.count < after:
        return False
    return finite_or_inf(loss) + kept.change > kept.final
