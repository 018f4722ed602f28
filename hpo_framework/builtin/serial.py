"""The serial executor: evaluations run in the driver's process, one at a time.

The default of ``optimize()`` with one job, and ``--executor serial`` on the CLI (whose
default is one kept worker process, see :mod:`.process`): nothing is sent anywhere, but a
trial that kills its process (``os._exit``, a segfault) kills the driver with it. The next
driver re-queues that trial once; if the driver dies again, the trial is FAILED.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Any

from ..contracts.executor import Executor
from ..contracts.hookspecs import hookimpl
from ..contracts.objective import evaluate
from ..contracts.trial import Outcome

if TYPE_CHECKING:  # imported where used: hpo-run --help loads this module
    import concurrent.futures as cf


class SerialExecutor(Executor):
    """Runs each trial in this process when it is submitted."""

    name = "serial"

    @property
    def slots(self) -> int:
        return 1

    def submit(self, number: int, params: dict[str, Any], resume: Any = None
               ) -> cf.Future[Outcome]:
        """Run the trial now (``resume``: a paused run's checkpoint). A Ctrl-C during it always stops the study, even when the
        library that was training swallowed the KeyboardInterrupt (scikit-learn's
        ``partial_fit`` does, and Keras can lose it in a weakref callback): the
        outcome of a cut-short trial is never recorded."""
        interrupted: list[int] = []
        previous = None
        if threading.current_thread() is threading.main_thread():
            def on_sigint(signum: int, frame: Any) -> None:
                interrupted.append(signum)
                raise KeyboardInterrupt

            previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            outcome = evaluate(self.objective, params, number=number,
                               reporter=getattr(self, "reporter", None), resume=resume)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if interrupted:
            raise KeyboardInterrupt
        import concurrent.futures as cf

        future: cf.Future[Outcome] = cf.Future()
        future.set_result(outcome)
        return future


@hookimpl
def register_executors(register):
    register("serial", SerialExecutor, "in the driver's process, one trial at a time (the "
             "default of optimize(); the CLI's default is one kept worker process)",
             default=100)
