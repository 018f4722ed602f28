"""The pruner contract: stop hopeless trials early.

While a trial runs, the training loop reports one value per step (an epoch, say). The
driver turns each report into a loss (minimized, like a strategy sees it), appends it to
``trial.curve`` and asks the study's pruner whether to stop. The decision travels back to
the training loop, which stops at the next step boundary; the trial is then recorded
PRUNED with every value it reported and the step it stopped at.

A pruner is deterministic given (seed, options, the trial's curve, the history): after a
driver was killed, the resumed study makes the same decisions for the same curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..options import Configurable
from .trial import Trial


class Pruner(Configurable):
    """Answers keep (False) or stop (True) for a running trial.

    :meth:`prune` sees the running ``trial`` (its ``curve``: ``[(step, loss), ...]`` so
    far, the newest last; ``number``; ``params``) and ``history``: every other trial of
    the study, finished (COMPLETE, FAILED, PRUNED, with their whole curves) and running
    (their curves so far), in number order. Losses are minimized: the core flips the sign
    of maximized metrics, as for strategies.
    """

    kind: ClassVar[str] = "pruner"

    def __init__(self, *, seed: int | None = None, **options: Any) -> None:
        self.seed = seed
        self.config = self.validate(options)

    def prune(self, trial: Trial, history: Sequence[Trial]) -> bool:
        """True to stop ``trial`` now (after its newest report)."""
        raise NotImplementedError
