"""What the shipped pruners keep of a study's finished trials (``Pruner.index``).

The study tells the index each finished trial once (those loaded on a resume first, in
number order; then each as it finishes); a decision then reads sorted values, counts and
minima instead of scanning every trial. Everything kept is a function of the set of
finished trials, never of the order they were told in, so a resumed study decides as an
uninterrupted one, and a decision read here is the one a scan of the history makes
(``tests/test_pruner_index.py`` replays studies through both and compares every decision).

- median: per step, the COMPLETE trials' values there in a running median (two heaps:
  O(log n) to add, O(1) to read);
- asha, hyperband: per rung (and bracket), the finished trials' values there in a sorted
  list of buckets (:class:`SortedFloats`: a rank in O(log n + n / 512)), FAILED ones apart;
  built on the rung's first use, so a rung that moves (``min_resource='auto'``) is found;
- the hopeless rule: per step, the count, the least change to the end and the least end
  of the COMPLETE trials that went past it;
- the COMPLETE trials' count and their longest curve's last step (``'auto'`` resources);
- the least value any COMPLETE trial's curve reached (asha's ``trend_window`` rule).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Iterable, Sequence

from hpo_framework import Trial, TrialState
from hpo_framework.contracts.pruner import History, PrunerIndex

from .curves import best_of_complete, last_steps_of_complete, least

#: a trial's value where a decision reads it (None: it has none there)
ValueOf = Callable[[Trial], "float | None"]


class SortedFloats:
    """Floats kept sorted in buckets of 512 to 1,024 (a small SortedList): adding one
    moves at most a bucket, not the whole list."""

    LOAD = 512
    __slots__ = ("_lists", "_maxes", "_len")

    def __init__(self) -> None:
        self._lists: list[list[float]] = []
        self._maxes: list[float] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def add(self, x: float) -> None:
        lists, maxes = self._lists, self._maxes
        self._len += 1
        if not lists:
            lists.append([x])
            maxes.append(x)
            return
        i = bisect.bisect_left(maxes, x)
        if i == len(maxes):
            i -= 1
            lists[i].append(x)
            maxes[i] = x
        else:
            bisect.insort(lists[i], x)
        bucket = lists[i]
        if len(bucket) > 2 * self.LOAD:
            half = bucket[self.LOAD:]
            del bucket[self.LOAD:]
            maxes[i] = bucket[-1]
            lists.insert(i + 1, half)
            maxes.insert(i + 1, half[-1])

    def count_less(self, x: float) -> int:
        """How many kept values are < ``x``."""
        i = bisect.bisect_left(self._maxes, x)  # every bucket before i lies below x
        n = sum(map(len, self._lists[:i]))
        if i < len(self._lists):
            n += bisect.bisect_left(self._lists[i], x)
        return n


class RunningMedian:
    """The median of the values added (statistics.median's, exactly): the lower half in
    a max-heap, the upper half in a min-heap."""

    __slots__ = ("_low", "_high")

    def __init__(self) -> None:
        self._low: list[float] = []  # negated
        self._high: list[float] = []

    def __len__(self) -> int:
        return len(self._low) + len(self._high)

    def add(self, x: float) -> None:
        low, high = self._low, self._high
        if not low or x <= -low[0]:
            heapq.heappush(low, -x)
        else:
            heapq.heappush(high, x)
        if len(low) > len(high) + 1:
            heapq.heappush(high, -heapq.heappop(low))
        elif len(high) > len(low):
            heapq.heappush(low, -heapq.heappop(high))

    def median(self) -> float:
        """The middle value; with an even count, the mean of the two middle ones."""
        if len(self._low) > len(self._high):
            return -self._low[0]
        return (-self._low[0] + self._high[0]) / 2


class Ranks:
    """One rung's values of the finished trials, FAILED ones apart."""

    __slots__ = ("ok", "failed")

    def __init__(self) -> None:
        self.ok, self.failed = SortedFloats(), SortedFloats()

    def add(self, value: float, failed: bool) -> None:
        (self.failed if failed else self.ok).add(value)

    def rank(self, value: float, failed: bool = True) -> tuple[int, int]:
        """(how many are < ``value``, how many there are), FAILED ones counted or not."""
        less, n = self.ok.count_less(value), len(self.ok)
        if failed:
            less, n = less + self.failed.count_less(value), n + len(self.failed)
        return less, n


class Hopeless:
    """At one step: the COMPLETE trials that went past it with finite values there and at
    their end; their count, least change from there to the end, and least end."""

    __slots__ = ("count", "change", "final")

    def __init__(self) -> None:
        self.count, self.change, self.final = 0, math.inf, math.inf

    def add(self, change: float, final: float) -> None:
        self.count += 1
        if change < self.change:
            self.change = change
        if final < self.final:
            self.final = final


class Finished(PrunerIndex):
    """The finished trials of a study, as the shipped pruners read them."""

    def __init__(self, *, medians: bool = False, hopeless: bool = False) -> None:
        self.medians, self.hopeless = medians, hopeless
        self.trials: list[Trial] = []
        self.n_complete = 0
        #: the last reported step of the longest COMPLETE trial that reported any
        self.max_last_step: int | None = None
        #: the least finite value any COMPLETE trial's curve reached (the trend rule's bar)
        self.best_complete = math.inf
        self._median: dict[int, RunningMedian] = {}
        self._hopeless: dict[int, Hopeless] = {}
        self._rungs: dict[object, tuple[ValueOf, Ranks]] = {}

    def told(self, trial: Trial) -> None:
        self.trials.append(trial)
        failed = trial.state is TrialState.FAILED
        for value_of, ranks in self._rungs.values():
            value = value_of(trial)
            if value is not None:
                ranks.add(value, failed)
        if trial.state is not TrialState.COMPLETE:
            return
        self.n_complete += 1
        curve = trial.curve
        if not curve:
            return
        last = curve[-1][0]
        self.best_complete = min(self.best_complete, least(curve))
        if self.max_last_step is None or last > self.max_last_step:
            self.max_last_step = last
        if self.medians:
            for step, value in _first_per_step(curve):
                if not math.isnan(value):
                    self._median.setdefault(step, RunningMedian()).add(value)
        final = float(curve[-1][1])
        if self.hopeless and math.isfinite(final):
            for step, there in _first_per_step(curve):
                if step < last and math.isfinite(there):
                    self._hopeless.setdefault(step, Hopeless()).add(final - there, final)

    def median_at(self, step: int) -> RunningMedian | None:
        """The COMPLETE trials' values (first reported there, NaN left out) at ``step``."""
        return self._median.get(step)

    def hopeless_at(self, step: int) -> Hopeless | None:
        return self._hopeless.get(step)

    def ranks(self, key: object, value_of: ValueOf) -> Ranks:
        """The finished trials' ``value_of`` (where not None), sorted, under ``key`` (one
        key, one ``value_of``): built from every trial told so far on first use, then
        kept as trials are told."""
        got = self._rungs.get(key)
        if got is None:
            ranks = Ranks()
            for t in self.trials:
                value = value_of(t)
                if value is not None:
                    ranks.add(value, t.state is TrialState.FAILED)
            got = self._rungs[key] = (value_of, ranks)
        return got[1]


def _first_per_step(curve: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    """Each step's first value (what ``curves.value_at`` reads), as floats."""
    seen: set[int] = set()
    out = []
    for step, loss in curve:
        if step not in seen:
            seen.add(step)
            out.append((step, float(loss)))
    return out


def index_of(history: object, medians: bool = False, hopeless: bool = False
             ) -> Finished | None:
    """The history's index when it is one of ours keeping what is asked, else None (a
    plain list, a study without an index: the pruner scans)."""
    index = history.index if isinstance(history, History) else None
    if not isinstance(index, Finished) or (medians and not index.medians) or \
            (hopeless and not index.hopeless):
        return None
    return index


def longest_complete(history: Sequence[Trial]) -> int | None:
    """The last reported step of the longest COMPLETE trial that reported any (None: none
    yet): kept by the study's index, else found by a scan."""
    index = index_of(history)
    if index is not None:
        return index.max_last_step
    steps = last_steps_of_complete(history)
    return max(steps) if steps else None


def best_complete(history: Sequence[Trial]) -> float:
    """The least finite value any COMPLETE trial's curve reached (inf: none yet): kept
    by the study's index, else found by a scan."""
    index = index_of(history)
    return index.best_complete if index is not None else best_of_complete(history)


def open_of(history: object) -> list[Trial] | None:
    """The other trials not finished, when the history says (a study's); else None."""
    return history.open if isinstance(history, History) else None
