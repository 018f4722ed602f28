"""The process executor: N trials at once, each worker a spawned process.

Why our own small pool and not ``concurrent.futures.ProcessPoolExecutor``: when one
of its workers dies, the whole pool breaks and every running trial fails with it, and
it cannot stop one running task. Here each worker has its own pipe; a dead worker
fails only its own trial (:class:`WorkerLost`, so the study can retry it) and is
replaced; a trial past ``--trial-timeout`` is stopped by killing its worker.

With ``n_jobs=1`` it is the CLI's default: one worker kept for the whole run (imports
and data are loaded once), so a trial that segfaults or calls ``os._exit`` fails alone
and the next trial gets a fresh worker.

Workers are started with ``spawn`` (safe for TensorFlow, which breaks after fork),
cap their math libraries' thread pools so N workers do not oversubscribe the cores
(a single worker keeps the driver's settings, so it computes what the driver would),
receive the objective once (cloudpickle, so lambdas and closures from ``optimize()``
work) and ignore Ctrl-C: the driver alone decides what happens to running trials.
Only the driver writes storage; workers just compute and send back an Outcome.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from ..contracts.executor import Executor, WorkerLost
from ..contracts.hookspecs import hookimpl
from ..contracts.objective import Objective, decision, error_text, evaluate
from ..contracts.trial import Outcome, TrialState
from ..errors import HPOError, OptionError
from ..options import Option

if TYPE_CHECKING:  # imported where used: hpo-run --help loads this module
    import concurrent.futures as cf
    import multiprocessing as mp
    from multiprocessing.connection import Connection

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")
_ENV_LOCK = threading.Lock()
READY = "ready"


def _watch_parent(ppid: int) -> None:
    """Exit when the driver is gone (e.g. SIGKILLed), so no orphan keeps computing."""
    while True:
        time.sleep(0.5)
        if os.getppid() != ppid:
            os._exit(3)


def _worker_main(conn: Connection, payload: bytes, ppid: int) -> None:
    """A worker: load the objective once, then evaluate what the driver sends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(ppid,), daemon=True).start()
    # a broken plugin was already named by the driver, once: a worker loading the plugins
    # again does not say it again
    import warnings

    from ..registry import PluginWarning

    warnings.filterwarnings("ignore", category=PluginWarning)
    objective: Objective | None = None
    load_error = None
    try:
        import cloudpickle

        objective = cloudpickle.loads(payload)
    except Exception as exc:  # e.g. the objective's module is not importable here
        load_error = f"the objective could not be loaded in a worker: {error_text(exc)}"
    # a pipeline objective resolves its plugins and loads the dataset now, once, so that
    # neither the first trial's duration nor its --trial-timeout clock pays for it
    warm_up = getattr(objective, "warm_up", None)
    if callable(warm_up):
        try:
            warm_up()
        except Exception:
            pass  # the same error comes back with each trial, where it is recorded
    try:
        conn.send(READY)
    except (BrokenPipeError, OSError):
        return

    def remote(number: int, step: int, value: float) -> bool | str:
        """Send one intermediate value to the driver and wait for its pruner's answer."""
        conn.send(("report", number, step, value))
        answer = conn.recv()
        if answer is None:  # the driver is shutting down
            raise SystemExit(0)
        return decision(answer)

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        number, params, listen, resume = message
        if objective is None:
            outcome = Outcome(TrialState.FAILED, error=load_error)
        else:
            outcome = evaluate(objective, params, number=number,
                               reporter=remote if listen else None, resume=resume)
        try:
            conn.send(outcome)
        except (BrokenPipeError, OSError):
            return
        except Exception as exc:  # an unpicklable metric or attribute
            conn.send(Outcome(TrialState.FAILED, duration=outcome.duration,
                              error=f"the trial's result could not be sent back: "
                                    f"{error_text(exc)}"))


class _Worker:
    def __init__(self, process: mp.process.BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.future: cf.Future[Outcome] | None = None
        self.dead = False
        self.ready = False
        self.started = 0.0  # time.monotonic() when its current trial was sent


class ProcessExecutor(Executor):
    """Keeps ``n_jobs`` trials running in spawned worker processes."""

    name = "process"
    isolated = True
    options = {
        "threads": Option(None, int, low=1,
                          help="threads each worker's math libraries may use "
                               "(default: cores // n_jobs, at least 1)"),
        "start_method": Option("spawn", str, choices=("spawn", "forkserver"),
                               help="how workers start; never fork (TensorFlow breaks)"),
    }

    def __init__(self, n_jobs: int = 1, **options: Any) -> None:
        super().__init__(n_jobs, **options)
        self._lock = threading.RLock()
        self._workers: list[_Worker] = []
        self._backlog: deque[tuple[int, dict[str, Any], Any, cf.Future[Outcome]]] = deque()
        self._monitor: threading.Thread | None = None
        self._closing = False
        self._false_starts = 0  # workers in a row that exited before they were ready
        self._killed_starts = 0  # ... that a signal killed before they were ready
        self._broken: str | None = None
        self._wake_r: Connection | None = None
        self._wake_w: Connection | None = None
        self._payload = b""

    # set-up ---------------------------------------------------------------------
    @property
    def threads(self) -> int:
        given = self.config["threads"]
        return given if given else max(1, (os.cpu_count() or 1) // self.n_jobs)

    def start(self, objective: Objective, reporter: Any = None) -> None:
        import cloudpickle

        self.objective = objective
        self.reporter = reporter
        try:
            self._payload = cloudpickle.dumps(objective)
        except Exception as exc:
            raise OptionError(f"executor 'process': the objective cannot be sent to worker "
                              f"processes: {error_text(exc)}") from None
        import multiprocessing as mp

        self._ctx = mp.get_context(self.config["start_method"])
        self._closing = False
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        with self._lock:
            self._workers = [self._spawn() for _ in range(self.n_jobs)]
        self._monitor = threading.Thread(target=self._watch, name="hpo-process-executor",
                                         daemon=True)
        self._monitor.start()

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=_worker_main, args=(child, self._payload, os.getpid()),
                                    daemon=True, name="hpo-worker")
        limits: dict[str, str] = {}
        if self.n_jobs > 1 or self.config["threads"]:
            limits = {var: str(self.threads) for var in THREAD_VARS}
            limits["TF_NUM_INTEROP_THREADS"] = "1"
        # a spawned child inherits the environment at start(): set the limits just for it.
        # It also re-runs the driver's __main__ script unless told not to; the objective
        # travels by cloudpickle, so hide __main__ (a script without an
        # ``if __name__ == "__main__"`` guard would otherwise start workers recursively).
        main = sys.modules.get("__main__")
        with _ENV_LOCK:
            saved = {k: os.environ.get(k) for k in limits}
            hidden = {k: main.__dict__.pop(k) for k in ("__file__",)
                      if main is not None and k in main.__dict__}
            spec = getattr(main, "__spec__", None)
            os.environ.update(limits)
            try:
                if spec is not None:
                    main.__spec__ = None
                process.start()
            finally:
                if main is not None:
                    main.__dict__.update(hidden)
                    if spec is not None:
                        main.__spec__ = spec
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        child.close()
        return _Worker(process, parent)

    # running --------------------------------------------------------------------
    def submit(self, number: int, params: dict[str, Any], resume: Any = None
               ) -> cf.Future[Outcome]:
        """Queue a trial (``resume``: a paused run's checkpoint to go on from)."""
        if self._broken:
            raise HPOError(self._broken)
        import concurrent.futures as cf

        future: cf.Future[Outcome] = cf.Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            self._backlog.append((number, dict(params), resume, future))
            self._dispatch()
        return future

    def _dispatch(self) -> None:
        """Hand queued trials to idle workers (called with the lock held)."""
        for worker in self._workers:
            if not self._backlog:
                return
            if worker.future is not None or worker.dead or not worker.ready:
                continue
            number, params, resume, future = self._backlog.popleft()
            worker.future = future
            worker.started = time.monotonic()
            try:
                worker.conn.send((number, params, self.reporter is not None, resume))
            except (BrokenPipeError, OSError):
                pass  # the monitor sees the death and fails this trial
            except Exception as exc:  # unpicklable params
                worker.future = None
                future.set_result(Outcome(TrialState.FAILED,
                                          error=f"params cannot be sent: {error_text(exc)}"))
        self._poke()

    def _poke(self) -> None:
        if self._wake_w is not None:
            try:
                self._wake_w.send_bytes(b"x")
            except OSError:
                pass

    def _watch(self) -> None:
        """Monitor thread: collect results and notice dead workers."""
        from multiprocessing.connection import wait

        while True:
            with self._lock:
                if self._closing:
                    return
                watched: dict[Any, tuple[_Worker, str]] = {}
                for w in self._workers:
                    if w.dead:
                        continue
                    watched[w.process.sentinel] = (w, "died")
                    watched[w.conn] = (w, "result")
            ready = wait([self._wake_r, *watched], timeout=1.0)
            for obj in ready:
                if obj is self._wake_r:
                    try:
                        while self._wake_r.poll():
                            self._wake_r.recv_bytes()
                    except (EOFError, OSError):
                        return
                    continue
                worker, what = watched[obj]
                if what == "result":
                    self._collect(worker)
            for obj in ready:
                if obj in watched and watched[obj][1] == "died":
                    self._bury(watched[obj][0])

    def _collect(self, worker: _Worker) -> None:
        try:
            outcome = worker.conn.recv()
        except (EOFError, OSError):
            self._bury(worker)
            return
        if outcome == READY:
            with self._lock:
                worker.ready = True
                self._dispatch()
            return
        if isinstance(outcome, tuple) and outcome[:1] == ("report",):
            _, number, step, value = outcome
            try:
                answer = decision(self.reporter(number, step, value)) if self.reporter \
                    else False
            except Exception:
                answer = False  # a failing pruner never stops a trial
            try:
                worker.conn.send(None if self._closing else answer)
            except (BrokenPipeError, OSError):
                pass
            return
        with self._lock:
            future, worker.future = worker.future, None
            self._dispatch()
        if future is not None and not future.done():
            future.set_result(outcome)

    def _bury(self, worker: _Worker, reason: str | None = None) -> None:
        """A worker died (or was killed): fail its trial and start a replacement."""
        stranded: list[cf.Future] = []
        with self._lock:
            if worker.dead:
                return
            worker.dead = True
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            how = f"killed by signal {-code}" if code is not None and code < 0 \
                else f"exit code {code}"
            future, worker.future = worker.future, None
            worker.conn.close()
            self._workers.remove(worker)
            # a worker killed by a signal while it started (the OOM killer, a user's kill)
            # says nothing about the next one: only workers that exit on their own count
            killed = code is not None and code < 0
            if worker.ready:
                self._false_starts = self._killed_starts = 0
            elif killed:
                self._killed_starts += 1
            else:
                self._false_starts += 1
            if self._killed_starts >= 20:
                self._broken = (f"executor 'process': 20 worker processes in a row were killed "
                                f"while starting ({how}); something on this machine stops them "
                                "(out of memory?)")
            if self._false_starts >= 3:  # never respawn in a loop: give up, loudly
                self._broken = (f"executor 'process': worker processes exit before they are "
                                f"ready ({how}); any error they printed is on stderr above, "
                                "else the objective's module exits when it is imported or "
                                "unpickled")
            if self._broken:
                stranded = [f for *_, f in self._backlog]
                self._backlog.clear()
            elif not self._closing:
                self._workers.append(self._spawn())
                self._dispatch()
        for lost in stranded:
            if not lost.done():
                lost.set_exception(HPOError(self._broken))
        if future is not None and not future.done():
            if reason is None:
                reason = f"worker process {worker.process.pid} died ({how})"
            future.set_exception(WorkerLost(reason))

    def started_at(self, future: cf.Future) -> float | None:
        """When the trial reached a worker; now while it still waits for one to be ready."""
        with self._lock:
            for w in self._workers:
                if w.future is future:
                    return w.started
        return time.monotonic()

    def cancel(self, future: cf.Future) -> bool:
        """Kill the worker running ``future`` (a replacement starts); True if it was running."""
        with self._lock:
            for queued in list(self._backlog):
                if queued[-1] is future:
                    self._backlog.remove(queued)
                    future.set_exception(WorkerLost("cancelled before it started"))
                    return True
            worker = next((w for w in self._workers if w.future is future), None)
            if worker is None:
                return False
            worker.process.kill()
        self._bury(worker, reason="stopped by the driver")
        return True

    def shutdown(self, cancel: bool = False) -> None:
        with self._lock:
            self._closing = True
            workers = list(self._workers)
            backlog, self._backlog = list(self._backlog), deque()
        self._poke()
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        for w in workers:
            if cancel:
                w.process.kill()
            else:
                try:
                    w.conn.send(None)
                except (OSError, ValueError):
                    w.process.kill()
        deadline = time.monotonic() + 10
        for w in workers:
            w.process.join(timeout=max(0.1, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=5)
            if w.future is not None and not w.future.done():
                w.future.set_exception(WorkerLost("the executor shut down"))
            w.conn.close()
        for *_, future in backlog:
            if not future.done():
                future.set_exception(WorkerLost("the executor shut down"))
        for conn in (self._wake_r, self._wake_w):
            if conn is not None:
                conn.close()
        self._wake_r = self._wake_w = None
        with self._lock:
            self._workers = []


@hookimpl
def register_executors(register):
    register("process", ProcessExecutor,
             "N trials at once in spawned worker processes (--n-jobs N picks it)")
