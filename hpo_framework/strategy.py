"""The strategy contract: ask / tell, state rebuilt from the trial history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from .options import Configurable
from .space import Space
from .trial import Trial


class Strategy(Configurable):
    """Proposes configurations. Sees losses to minimize; never touches storage.

    A strategy must be deterministic given (space, seed, options, history): after
    :meth:`restore` with the trials of an interrupted run it must give the same next
    :meth:`ask` as the run that was never interrupted.
    """

    kind: ClassVar[str] = "strategy"
    #: True when the strategy can run out (a grid): a study may then run without a budget.
    finite: ClassVar[bool] = False

    def __init__(self, space: Space, seed: int | None = None, **options: Any) -> None:
        self.space = space
        self.seed = seed
        self.config = self.validate(options)
        self.n_asked = 0

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        """Up to ``n`` new configurations (fewer, or none, when the strategy runs out)."""
        raise NotImplementedError

    def tell(self, trials: Sequence[Trial]) -> None:
        """Finished trials (COMPLETE with ``loss``, FAILED or PRUNED with ``loss`` None)."""

    @property
    def done(self) -> bool:
        """True when there is nothing left to propose (an exhausted grid)."""
        return False

    def restore(self, trials: Sequence[Trial]) -> None:
        """Rebuild state from a study's history, every trial in number order.

        The default counts every trial as asked and tells the finished ones; strategies
        whose state depends on the order of asks and tells override this.
        """
        self.n_asked = len(trials)
        finished = [t for t in trials if t.state.finished]
        if finished:
            self.tell(finished)

    def stats(self) -> dict[str, Any] | None:
        """Optional JSON-able state to store with the study (e.g. per-generation stats)."""
        return None
