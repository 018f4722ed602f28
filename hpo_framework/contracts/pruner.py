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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..options import Configurable
from .trial import PAUSE, Trial

__all__ = ["PAUSE", "Pruner"]


class Pruner(Configurable):
    """Answers keep (False) or stop (True) for a running trial.

    :meth:`prune` sees the running ``trial`` (its ``curve``: ``[(step, loss), ...]`` so
    far, the newest last; ``number``; ``params``) and ``history``: every other trial of
    the study, finished (COMPLETE, FAILED, PRUNED, with their whole curves) and running
    (their curves so far), in number order. Losses are minimized: the core flips the sign
    of maximized metrics, as for strategies.
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
