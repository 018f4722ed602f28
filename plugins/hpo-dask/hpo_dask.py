"""The ``dask`` executor: trials run on a Dask cluster, or on a LocalCluster.

``hpo-run ... --executor dask --scheduler tcp://HOST:PORT`` sends trials to a running
scheduler; without an address a LocalCluster of worker processes is started (and
stopped) for the study. The objective, with the dataset the driver already loaded, is
sent once, as the result of one task every trial depends on: each worker fetches it
once and keeps it, and unlike scattered data the scheduler recomputes it when the
workers holding it die. Workers only compute: the driver alone writes the SQLite file.

A worker that dies mid-trial fails that trial with ``WorkerLost`` (the study's
``--retries`` decides whether it runs again). On a LocalCluster Dask's own silent
re-tries are turned off (``allowed-failures = 0``) so that ``--retries`` is the one
knob; an external scheduler applies its own ``distributed.scheduler.allowed-failures``
first. A trial past ``--trial-timeout`` is cancelled and the worker running it restarted
through its nanny (a Python thread cannot be stopped); the clock starts when a worker
begins the trial (a Dask event the task sends), not while it waits in the queue. ``distributed`` is imported inside functions: listing plugins
stays fast.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from hpo_framework.contracts.executor import Executor, WorkerLost
from hpo_framework.contracts.hookspecs import hookimpl
from hpo_framework.contracts.objective import Objective, decision, error_text, evaluate
from hpo_framework.contracts.pipeline import DatasetObjective
from hpo_framework.contracts.trial import Outcome
from hpo_framework.errors import OptionError
from hpo_framework.options import Option

if TYPE_CHECKING:  # imported where used: hpo-run --help loads this module
    import concurrent.futures as cf


class Shipped:
    """The objective plus (optionally) its dataset, as sent to each worker once.

    An objective that can carry its dataset (``DatasetObjective``) takes the driver's
    loaded copy along and is handed it on the worker before the first trial, so workers
    neither reload it nor need the data file.
    """

    def __init__(self, objective: Objective, dataset: Any = None) -> None:
        self.objective = objective
        self.dataset = dataset

    def prime(self) -> None:
        if self.dataset is not None:
            self.objective.use_dataset(self.dataset)


#: seconds a worker waits for the driver's pruning decision before it trains on
DECISION_WAIT_S = 60.0


def _remote_reporter(topic: str, key: str) -> Any:
    """A reporter for a trial on a worker: each intermediate value goes to the driver as a
    Dask event, and the pruner's answer comes back through a Dask queue of this trial."""
    from distributed import Queue, get_worker

    worker = get_worker()
    answers = Queue(f"{key}-decisions")

    def report(number: int, step: int, value: float) -> bool | str:
        worker.log_event(topic, {"key": key, "number": number, "step": step, "value": value})
        try:
            return decision(answers.get(timeout=DECISION_WAIT_S))
        except Exception:  # no answer in time (a driver far away, or gone): train on
            return False

    return report


def run_trial(shipped: Shipped, params: dict[str, Any], topic: str | None = None,
              key: str | None = None, number: int = -1, reports: str | None = None,
              resume: Any = None) -> Outcome:
    """What a worker runs: one trial, every failure folded into the Outcome. It first
    tells the driver (a Dask event on ``topic``) that the trial has begun, so that
    ``--trial-timeout`` does not count the time it waited in the scheduler's queue.
    With ``reports`` (a topic), intermediate values go live to the driver's pruner;
    ``resume``: a paused run's checkpoint to go on from."""
    if topic is not None:
        try:
            from distributed import get_worker

            get_worker().log_event(topic, key)
        except Exception:
            pass
    shipped.prime()
    reporter = _remote_reporter(reports, key) if reports and key else None
    return evaluate(shipped.objective, params, number=number, reporter=reporter,
                    resume=resume)


def _identity(value: Any) -> Any:
    return value


def ship(objective: Objective) -> Shipped:
    """Wrap the objective; one that can carry its dataset takes it along."""
    if isinstance(objective, DatasetObjective):
        return Shipped(objective, objective.dataset())
    return Shipped(objective)


SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")


def _probe_scheduler(address: str, timeout: float) -> None:
    """A scheduler that nothing answers for is refused when the executor is built, before
    a study is written (not when it starts, leaving an empty study behind)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls"):
        return
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise OptionError(f"executor 'dask': scheduler address '{address}' needs a host and a "
                          "port, like tcp://HOST:8786")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise OptionError(f"executor 'dask': no workers at {address}: no scheduler answers "
                          f"there ({exc.strerror or exc}); nothing was written") from None


class DaskExecutor(Executor):
    """Runs trials as Dask tasks; keeps as many running as the cluster has threads."""

    name = "dask"
    isolated = True
    options = {
        "scheduler": Option(None, str, help="tcp://HOST:PORT of a running scheduler; "
                                            "none: start a LocalCluster"),
        "n_workers": Option(None, int, low=1, help="LocalCluster workers (default: n_jobs "
                                                   "if > 1, else the number of cores)"),
        "threads_per_worker": Option(1, int, low=1, help="LocalCluster threads per worker"),
        "connect_timeout": Option(30.0, float, low=0.1,
                                  help="seconds to wait for the scheduler and a first worker"),
    }

    def __init__(self, n_jobs: int = 1, **options: Any) -> None:
        super().__init__(n_jobs, **options)
        address = self.config["scheduler"]
        if address is not None:
            scheme, sep, rest = address.partition("://")
            if (sep and scheme not in SCHEMES) or (not sep and ":" not in address) \
                    or (sep and not rest):
                raise OptionError(f"executor 'dask': scheduler address '{address}' must look "
                                  "like tcp://HOST:PORT (or tls://, inproc://, ucx://)")
            _probe_scheduler(address, self.config["connect_timeout"])
        self.client: Any = None
        self.cluster: Any = None
        # study future -> (dask future, trial number, params, resends)
        self._running: dict[cf.Future, tuple[Any, int, dict[str, Any], int]] = {}
        self._restarted: set[str] = set()
        self._restarts: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._slots = self.n_jobs
        self._slots_at = 0.0
        import uuid

        self._topic = f"hpo-started-{uuid.uuid4().hex[:8]}"
        self._reports = f"hpo-reports-{uuid.uuid4().hex[:8]}"
        self._deciders: cf.ThreadPoolExecutor | None = None
        self._began: dict[str, float] = {}  # task key -> time.monotonic() it began
        self._unseen = 0

    # set-up ---------------------------------------------------------------------
    def start(self, objective: Objective, reporter: Any = None) -> None:
        import concurrent.futures as cf
        import uuid

        import dask
        from distributed import Client, LocalCluster

        self.objective = objective
        self.reporter = reporter
        timeout = self.config["connect_timeout"]
        address = self.config["scheduler"]
        try:
            if address is None:
                n = self.config["n_workers"] or (self.n_jobs if self.n_jobs > 1
                                                  else os.cpu_count() or 1)
                tpw = self.config["threads_per_worker"]
                with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                    self.cluster = LocalCluster(
                        n_workers=n, threads_per_worker=tpw, processes=True,
                        dashboard_address=":0", host="127.0.0.1",  # any free port
                        env={"TF_NUM_INTRAOP_THREADS": str(tpw), "TF_NUM_INTEROP_THREADS": "1"},
                    )
                self.client = Client(self.cluster, timeout=timeout)
            else:
                self.client = Client(address, timeout=timeout)
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            self.shutdown()
            where = address or "a LocalCluster"
            raise OptionError(f"executor 'dask': no workers at {where} within {timeout:g}s "
                              f"({error_text(exc)})") from None
        try:
            # a task whose result is the objective, not scattered data: the scheduler keeps
            # the task and recomputes it when the workers holding it die or restart
            self._shipped = self.client.submit(_identity, ship(objective), pure=False,
                                               key=f"hpo-objective-{uuid.uuid4().hex[:8]}")
            # a copy on every worker now, so that trials are not all placed on the one
            # worker that holds it (Dask prefers data locality); later workers fetch it
            self._shipped.result(timeout=timeout)
            self.client.replicate([self._shipped])
        except Exception as exc:
            self.shutdown()
            raise OptionError(f"executor 'dask': the objective cannot be sent to the workers: "
                              f"{error_text(exc)}") from None
        self._slots_at = 0.0
        self.client.subscribe_topic(self._topic, self._on_started)
        if reporter is not None:
            # the client's event loop must not block: decisions are made on a thread
            self._deciders = cf.ThreadPoolExecutor(1, thread_name_prefix="hpo-dask-pruner")
            self.client.subscribe_topic(self._reports, self._on_report)

    def _on_report(self, event: tuple[float, Any]) -> None:
        report = event[1]
        if isinstance(report, dict) and self._deciders is not None:
            self._deciders.submit(self._decide, report)

    def _decide(self, report: dict[str, Any]) -> None:
        from distributed import Queue

        try:
            answer = decision(self.reporter(report["number"], report["step"],
                                            report["value"]))
        except Exception:
            answer = False  # a failing pruner never stops a trial
        try:
            Queue(f"{report['key']}-decisions", client=self.client).put(answer)
        except Exception:
            pass  # the trial ended or the client closed: nothing waits for it

    def _on_started(self, event: tuple[float, Any]) -> None:
        with self._lock:
            if isinstance(event[1], str):
                self._began[event[1]] = time.monotonic()

    def started_at(self, future: cf.Future) -> float | None:
        """When a worker began the trial; now while it waits in the queue. None (count
        from submission) when this cluster's start events do not arrive."""
        with self._lock:
            entry = self._running.get(future)
            if entry is None or (self._unseen >= 3 and not self._began):
                return None
            return self._began.get(entry[0].key, time.monotonic())

    @property
    def slots(self) -> int:
        """``n_jobs`` when given, else every thread of the cluster (re-read every few s)."""
        if self.n_jobs > 1 or self.client is None:
            return self.n_jobs
        if time.monotonic() - self._slots_at > 5:
            try:
                self._slots = max(1, sum(self.client.nthreads().values()))
            except Exception:
                pass
            self._slots_at = time.monotonic()
        return self._slots

    # running --------------------------------------------------------------------
    def submit(self, number: int, params: dict[str, Any], resume: Any = None
               ) -> cf.Future[Outcome]:
        """Send a trial to the cluster (``resume``: a paused run's checkpoint)."""
        import concurrent.futures as cf

        result: cf.Future[Outcome] = cf.Future()
        result.set_running_or_notify_cancel()
        self._send(result, number, dict(params), resume=resume)
        return result

    def _send(self, result: cf.Future, number: int, params: dict[str, Any], tries: int = 0,
              resume: Any = None) -> None:
        import uuid

        key = f"hpo-trial-{number}-{uuid.uuid4().hex[:8]}"
        reports = self._reports if self.reporter is not None else None
        task = self.client.submit(run_trial, self._shipped, params, self._topic, key, number,
                                  reports, resume, key=key, pure=False)
        with self._lock:
            self._running[result] = (task, number, params, tries, resume)
        task.add_done_callback(lambda t: self._settle(result, t))

    def _settle(self, result: cf.Future, task: Any) -> None:
        """Dask callback thread: pass the task's end on to the study's future."""
        from distributed import KilledWorker

        with self._lock:
            entry = self._running.get(result)
            if entry is None or entry[0] is not task:  # cancelled by the study, or resent
                return
            _, number, params, tries, resume = entry
            if self._began.pop(task.key, None) is None:
                self._unseen += 1  # finished, but its start event never came
        error: BaseException | None = None
        lost = task.status == "cancelled"
        worker = None
        if not lost:
            try:
                outcome = task.result()
            except KilledWorker as exc:
                lost, worker = True, getattr(exc.last_worker, "address", exc.last_worker)
            except Exception as exc:
                error = exc
        if lost and tries < 3 and (worker in self._restarted or
                                   (worker is None and self._restarted)):
            # it died with a worker we restarted to stop another (timed-out) trial:
            # not this trial's fault, so it runs again
            self._send(result, number, params, tries + 1, resume=resume)
            return
        with self._lock:
            self._running.pop(result, None)
        if result.done():
            return
        if lost:
            where = f" {worker}" if worker else ""
            result.set_exception(WorkerLost(f"the Dask worker{where} running it died"
                                            if worker else "Dask cancelled it"))
        elif error is not None:
            result.set_exception(error)
        else:
            result.set_result(outcome)

    def cancel(self, future: cf.Future) -> bool:
        """Cancel the task; a worker still running it is restarted (when it has a nanny)."""
        with self._lock:
            entry = self._running.pop(future, None)
        if entry is None:
            return False
        task = entry[0]
        busy: list[str] = []
        try:
            busy = [w for w, keys in self.client.processing().items() if task.key in keys]
        except Exception:
            pass
        task.cancel()
        if busy:  # a running Python thread cannot be stopped: restart its worker
            self._restarted.update(busy)
            thread = threading.Thread(target=self._restart, args=(busy,), daemon=True)
            self._restarts.append(thread)
            thread.start()
        return True

    def _restart(self, workers: list[str]) -> None:
        try:
            self.client.restart_workers(workers, timeout=60, raise_for_error=False)
        except Exception:
            pass

    def shutdown(self, cancel: bool = False) -> None:
        with self._lock:
            tasks = [entry[0] for entry in self._running.values()]
            self._running.clear()
        if self._deciders is not None:
            self._deciders.shutdown(wait=False, cancel_futures=True)
            self._deciders = None
        for thread in self._restarts:
            thread.join(timeout=60)
        self._restarts = []
        if self.client is not None:
            if cancel and tasks:
                try:
                    self.client.cancel(tasks, force=True)
                except Exception:
                    pass
            try:
                self.client.close(timeout=10)
            except Exception:
                pass
            self.client = None
        if self.cluster is not None:
            try:
                self.cluster.close(timeout=20)
            except Exception:
                pass
            self.cluster = None


@hookimpl
def register_run_options(register):
    """``hpo-run --scheduler tcp://HOST:PORT``: this plugin's own option (it implies
    ``--executor dask``)."""
    register("--scheduler", executor="dask", option="scheduler", metavar="tcp://HOST:PORT",
             help="A running Dask scheduler to send trials to (implies --executor dask; from "
                  "the hpo-dask plugin).")


@hookimpl
def register_executors(register):
    register("dask", DaskExecutor, "trials on a Dask cluster (--scheduler tcp://HOST:PORT) "
                                   "or a LocalCluster")
