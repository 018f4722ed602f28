"""The pruner contract: stop hopeless trials early.

While a trial runs, the training loop reports one value per step (an epoch, say). The
driver turns each report into a loss (minimized, like a strategy sees it), appends it to
``trial.curve`` and asks the study's pruner whether to stop. The decision travels back to
the training loop, which stops at the next step boundary; the trial is then recorded
PRUNED with every value it reported and the step it stopped at.

A pruner is deterministic given (seed, options, the trial's curve, the history): after a
driver was killed, the resumed study makes the same decisions for the same curves.

A *pausing* pruner (``pauses = True``) may answer ``PAUSE`` instead: the backend hands
back a checkpoint, the trial is recorded PAUSED with it, and :meth:`Pruner.promote` says
later which paused trials go on from their checkpoints (ranking trials against ones that
came after them, which a decision on arrival cannot). Paused trials that are never
resumed are recorded PRUNED when the study ends.

**Cost.** What a pruner is handed as ``history`` is a :class:`History`: a read-only view of
the study's trials (no copy is made for a report). A pruner that scans it costs time in
proportion to the study at every report; one that returns a :class:`PrunerIndex` from
:meth:`Pruner.index` is told each finished trial once, by the study, and reads what it
kept (``history.index``) plus the few trials not finished yet (``history.open``) instead.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, overload

from ..options import Configurable
from .trial import PAUSE, Trial

__all__ = ["PAUSE", "History", "Pruner", "PrunerIndex"]


class Pruner(Configurable):
    """Answers keep (False) or stop (True) for a running trial.

    :meth:`prune` sees the running ``trial`` (its ``curve``: ``[(step, loss), ...]`` so
    far, the newest last; ``number``; ``params``) and ``history``: every other trial of
    the study, finished (COMPLETE, FAILED, PRUNED, with their whole curves) and running
    (their curves so far), in number order: a :class:`History` when the study asks (any
    ``Sequence`` in tests). Losses are minimized: the core flips the sign of maximized
    metrics, as for strategies. :meth:`index` (optional) lets it read a kept index of the
    finished trials instead of scanning them.
    """

    kind: ClassVar[str] = "pruner"
    #: True when :meth:`prune` may answer ``PAUSE``: the study then needs an executor
    #: whose ``submit`` takes ``resume`` and an objective that resumes (``resumable``)
    pauses: ClassVar[bool] = False

    def __init__(self, *, seed: int | None = None, **options: Any) -> None:
        self.seed = seed
        self.config = self.validate(options)

    def prune(self, trial: Trial, history: Sequence[Trial]) -> bool | str:
        """True to stop ``trial`` now (after its newest report); a pausing pruner may
        answer ``PAUSE``."""
        raise NotImplementedError

    def promote(self, paused: Sequence[Trial], history: Sequence[Trial], *, more: bool
                ) -> list[int]:
        """Numbers of PAUSED trials to resume now, in order (a pausing pruner's other half).

        ``paused``: the PAUSED trials; ``history``: every trial of the study (RUNNING ones
        with their curves so far); ``more``: True while the study will still start new
        trials. Asked whenever the study has a free slot, before it starts a new trial;
        once ``more`` is False and no trial runs, the paused trials it does not resume
        are recorded PRUNED and the study ends."""
        return []

    def check_run(self, n_trials: int | None) -> None:
        """Refuse a run it cannot serve (raise OptionError), before the first trial."""

    def index(self) -> PrunerIndex | None:
        """Optional: a new, empty index of a study's finished trials (None, the default:
        the pruner scans ``history``).

        The study makes one when its pruner first decides, tells it every trial already
        finished (in number order: on a resumed study, those loaded), then each trial as it
        finishes (COMPLETE, FAILED or PRUNED, its curve and values final), in the order they
        finish; and hands it to :meth:`prune` and :meth:`promote` as ``history.index``. So
        what the index keeps must not depend on the order it was told the trials in (sorted
        lists, counts, minima): then a resumed study decides as an uninterrupted one. The
        pruner itself stays stateless: a pruner handed a plain list, or a history whose
        ``index`` it cannot read, scans the history and decides the same."""
        return None


class PrunerIndex:
    """What a pruner keeps of a study's finished trials, told to it one at a time (see
    :meth:`Pruner.index`). The study owns it (one per study and pruner object), so a
    rebuilt pruner or one shared by two studies never reads another study's trials."""

    def told(self, trial: Trial) -> None:
        """``trial`` finished (its state, curve and values are final): keep what the
        pruner will read of it. Called once per finished trial of the study."""
        raise NotImplementedError


class History(Sequence[Trial]):
    """The trials a pruner is handed: every trial of the study but the one judged, in
    number order, read-only and without a copy (built in constant time for every report).
    It reads the study's own list, so it is valid during the call it is handed to: copy it
    (``list(history)``) to keep it.

    ``index``: the :class:`PrunerIndex` the study's pruner made, told every finished trial
    of this history, or None. ``open``: the other trials not finished yet (WAITING, RUNNING,
    PAUSED), in number order, worked out when first read (they are few next to the
    finished ones, unless a pausing pruner holds many paused).
    """

    __slots__ = ("_trials", "_skip", "_pos", "_open_of", "_open", "index")

    def __init__(self, trials: Sequence[Trial], skip: int | None = None, *,
                 index: PrunerIndex | None = None,
                 open_of: Callable[[], Iterable[Trial]] | None = None) -> None:
        self._trials = trials
        self._skip = skip
        self._pos: int | None = None  # where the skipped trial is in ``trials`` (-1: not)
        self._open_of = open_of
        self._open: list[Trial] | None = None
        self.index = index

    def _where(self) -> int:
        if self._pos is None:
            if self._skip is None:
                self._pos = -1
            else:  # trials are in number order
                i = bisect.bisect_left(self._trials, self._skip, key=_number)
                found = i < len(self._trials) and self._trials[i].number == self._skip
                self._pos = i if found else -1
        return self._pos

    def __len__(self) -> int:
        return len(self._trials) - (self._where() >= 0)

    @overload
    def __getitem__(self, i: int) -> Trial: ...

    @overload
    def __getitem__(self, i: slice) -> list[Trial]: ...

    def __getitem__(self, i: int | slice) -> Trial | list[Trial]:
        if isinstance(i, slice):
            return list(self)[i]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("history index out of range")
        pos = self._where()
        return self._trials[i + 1 if 0 <= pos <= i else i]

    def __iter__(self) -> Iterator[Trial]:
        pos = self._where()
        if pos < 0:
            return iter(self._trials)
        return itertools.chain(itertools.islice(self._trials, pos),
                               itertools.islice(self._trials, pos + 1, None))

    def __repr__(self) -> str:
        return f"History({len(self)} trials)"

    @property
    def open(self) -> list[Trial]:
        """The other trials not finished (WAITING, RUNNING, PAUSED), in number order."""
        if self._open is None:
            source = self._open_of() if self._open_of is not None else self._trials
            self._open = [t for t in source if not t.state.finished and t.number != self._skip]
        return self._open


def _number(trial: Trial) -> int:
    return trial.number
