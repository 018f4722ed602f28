"""The executor contract: where evaluations run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from ..options import Configurable
from .objective import Objective, Reporter
from .trial import Outcome

if TYPE_CHECKING:  # imported where used: hpo-run --help loads the executor plugins
    import concurrent.futures as cf


class WorkerLost(Exception):
    """The process (or Dask worker) running a trial died; the study may retry the trial."""


class Executor(Configurable):
    """Runs evaluations and hands back futures of :class:`Outcome`.

    ``submit`` must never raise for a failing objective: failures travel inside the
    Outcome (see :func:`hpo_framework.contracts.objective.evaluate`). Only the driver writes to
    storage; executors just compute.
    """

    kind: ClassVar[str] = "executor"
    #: True when trials run outside the driver, so :meth:`cancel` can stop a running one
    #: (``--trial-timeout``) and a dying trial cannot take the driver with it.
    isolated: ClassVar[bool] = False
    #: True when :meth:`submit` can hand a paused trial's checkpoint (``resume``) to the
    #: objective, which a pausing pruner needs
    resumes: ClassVar[bool] = True

    def __init__(self, n_jobs: int = 1, **options: Any) -> None:
        self.n_jobs = max(1, int(n_jobs))
        self.config = self.validate(options)
        self.reporter: Reporter | None = None

    @property
    def slots(self) -> int:
        """How many trials the study keeps running at once."""
        return self.n_jobs

    def start(self, objective: Objective, reporter: Reporter | None = None) -> None:
        """Called once before the first submit. ``reporter(number, step, value) -> bool``
        is the driver's ear for intermediate values (None: no pruner listens): an executor
        passes each report of a running trial to it, live, and the answer (True: stop)
        back to the trial (:func:`hpo_framework.contracts.objective.evaluate` takes it)."""
        self.objective = objective
        self.reporter = reporter

    def submit(self, number: int, params: dict[str, Any], resume: Any = None
               ) -> cf.Future[Outcome]:
        """Start one evaluation. ``resume``: the checkpoint of the trial's paused run (None:
        a fresh start), for :func:`hpo_framework.contracts.objective.evaluate` to hand the
        backend; only given to an executor that ``resumes``. The registry refuses an
        executor whose ``start`` or ``submit`` does not take these arguments."""
        raise NotImplementedError

    def wait(self, futures: Iterable[cf.Future], timeout: float | None = None) -> set[cf.Future]:
        import concurrent.futures as cf

        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def started_at(self, future: cf.Future) -> float | None:
        """``time.monotonic()`` when the evaluation began, for ``--trial-timeout``; None:
        unknown, the study then counts from submission."""
        return None

    def cancel(self, future: cf.Future) -> bool:
        """Stop one evaluation (it ran past ``--trial-timeout``); True when it was stopped."""
        return future.cancel()

    def shutdown(self, cancel: bool = False) -> None:
        """Stop workers; with ``cancel`` running evaluations are abandoned."""
