"""The serial executor: evaluations run in the driver's process, one at a time."""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any

from ..executor import Executor
from ..hookspecs import hookimpl
from ..objective import evaluate
from ..trial import Outcome


class SerialExecutor(Executor):
    """Runs each trial in this process when it is submitted."""

    name = "serial"

    @property
    def slots(self) -> int:
        return 1

    def submit(self, number: int, params: dict[str, Any]) -> cf.Future[Outcome]:
        future: cf.Future[Outcome] = cf.Future()
        future.set_result(evaluate(self.objective, params))
        return future


@hookimpl
def register_executors(register):
    register("serial", SerialExecutor, "in-process, one trial at a time (the default)")
