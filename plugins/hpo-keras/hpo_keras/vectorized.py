"""``--executor vectorized``: up to ``--n-jobs`` keras trials trained as one XLA program.

The study submits a batch of configurations; ``wait`` hands the batch to the executor's
coordinator thread, which runs each member's evaluator in a thread of its own until it
calls ``KerasBackend.fit`` (the backend hands the call to this executor, its
``batcher``), gathers those calls and trains them together: members of the built-in MLP
share one padded program (padded.py). Everything else (``--model``, dropout) trains one
at a time with the compiled trainer. Each member reports its own epochs, fails alone
(NaN) and stops alone (``TrialPruned``); evaluators (holdout, k-fold: fold k of every
member is one batch) and storage see ordinary trials.

Only one thread touches Keras at a time: the coordinator trains, and after a batch each
member scores and releases its model before the next one is woken. The executor owns its
programs (``padded``) and its counts; ``wait`` returns when a batch is done or its
timeout passes, as the executor contract says.
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
import threading
from typing import Any

from hpo_framework.contracts.executor import Executor
from hpo_framework.contracts.objective import current_trial, evaluate
from hpo_framework.contracts.pipeline import BackendObjective
from hpo_framework.contracts.trial import Outcome
from hpo_framework.errors import OptionError, TrialPruned

from .backend import KerasBackend
from .padded import PaddedMLP, Request, same_data


class _Member:
    def __init__(self, future: cf.Future, number: int, params: dict[str, Any]) -> None:
        self.future, self.number, self.params = future, number, params
        self.thread: threading.Thread | None = None
        self.request: Request | None = None
        self.outcome: Outcome | None = None


def _settle(future: cf.Future, outcome: Outcome | None = None,
            error: BaseException | None = None) -> None:
    if future.done():  # cancelled by the study
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(outcome)


class VectorizedExecutor(Executor):
    """Trains the trials of a batch together (keras backend); others one at a time."""

    name = "vectorized"
    #: a batch trains as one program: a paused member cannot go on alone
    resumes = False

    def __init__(self, n_jobs: int = 1, **options: Any) -> None:
        super().__init__(n_jobs, **options)
        self.padded = PaddedMLP()  # its programs: depth and width only grow over a study
        self.alone = 0  # configurations trained one at a time
        self._queued: list[_Member] = []
        self._members: dict[int, _Member] = {}  # the running batch's, by trial number
        self._said: set[str] = set()
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._coordinator: cf.ThreadPoolExecutor | None = None
        self._backend: KerasBackend | None = None
        self._keras = False

    @property
    def counts(self) -> dict[str, int]:
        """Programs compiled, batches trained, configurations trained alone."""
        return {**self.padded.counts, "alone": self.alone}

    def start(self, objective: Any, reporter: Any = None) -> None:
        if not isinstance(objective, BackendObjective):
            raise OptionError("executor 'vectorized' trains a backend's configurations "
                              "together; this objective is a plain function: use --executor "
                              "serial")
        self.objective, self.reporter = objective, reporter
        self._stopping.clear()
        self._keras = issubclass(objective.backend_class(), KerasBackend)
        if not self._keras:
            return
        asked = objective.backend_options.get("trainer")
        if asked not in (None, "compiled"):
            self._say(f"-B trainer={asked} is not used: this executor trains with "
                      "trainer=compiled (use --executor serial or process for "
                      f"trainer={asked})")
        if asked != "compiled":
            objective.set_backend_options(trainer="compiled")
        backend = objective.backend()
        backend.batcher = self
        self._backend = backend

    def _say(self, text: str) -> None:
        if text not in self._said:
            self._said.add(text)
            sys.stderr.write(f"vectorized: {text}\n")

    def submit(self, number: int, params: dict[str, Any], resume: Any = None
               ) -> cf.Future[Outcome]:
        future: cf.Future[Outcome] = cf.Future()
        self._queued.append(_Member(future, number, dict(params)))
        return future

    def wait(self, futures: Any, timeout: float | None = None) -> set[cf.Future]:
        """Start the queued batch (batches run one after another, on the coordinator
        thread), then wait until one of ``futures`` is done or ``timeout`` passes."""
        if self._queued:
            batch, self._queued = self._queued, []
            if self._coordinator is None:
                self._coordinator = cf.ThreadPoolExecutor(
                    1, thread_name_prefix="hpo-vectorized")
            self._coordinator.submit(self._run_batch, batch)
        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def shutdown(self, cancel: bool = False) -> None:
        """With ``cancel`` the running batch stops after its members' current epoch."""
        if cancel:
            self._stopping.set()
        if self._coordinator is not None:
            self._coordinator.shutdown(wait=True, cancel_futures=cancel)
            self._coordinator = None
        if self._backend is not None:
            self._backend.batcher = None
            self._backend = None

    # the rendezvous --------------------------------------------------------------------
    def fit(self, backend: Any, params: dict[str, Any], x: Any, y: Any, dataset: Any,
            validation: Any, report: Any) -> Any | None:
        """A member's ``fit`` call (``KerasBackend.fit`` hands it over): it waits until the
        coordinator has trained it with the rest of the batch. None when the calling trial
        is not a member of the running batch (the backend then trains it itself)."""
        trial = current_trial()
        m = self._members.get(trial.number) if trial is not None else None
        if m is None or m.thread is not threading.current_thread():
            return None
        req = Request(backend, params, x, y, dataset, validation, self._watched(report))
        with self._cond:
            m.request = req
            self._cond.notify_all()
        req.answered.wait()
        if req.error is not None:
            raise req.error
        return req.result

    def _watched(self, report: Any) -> Any:
        """``report``, stopping the member at its next epoch once the study is cancelled."""
        if report is None:
            return None

        def watched(step: int, values: dict[str, float]) -> None:
            if self._stopping.is_set():
                raise TrialPruned("the study was interrupted")
            report(step, values)

        # what the evaluation asks of each epoch (its metrics, score=best's) goes along
        watched.metric = getattr(report, "metric", None)  # type: ignore[attr-defined]
        watched.metrics = getattr(report, "metrics", ())  # type: ignore[attr-defined]
        return watched

    def _run_batch(self, batch: list[_Member]) -> None:
        """The coordinator: train one batch; every member's future gets its outcome."""
        try:
            if self._keras:
                self._run(batch)
                return
            self._say("this backend cannot train configurations together; they run one "
                      "at a time")
            for m in batch:
                _settle(m.future, evaluate(self.objective, m.params, number=m.number,
                                           reporter=self.reporter))
        except BaseException as exc:  # a bug here: the batch's trials fail, not the study
            for m in batch:
                _settle(m.future, error=exc)
            raise

    def _run(self, batch: list[_Member]) -> None:
        cond = self._cond
        self._members = {m.number: m for m in batch}

        def member_main(m: _Member) -> None:
            outcome = evaluate(self.objective, m.params, number=m.number,
                               reporter=self.reporter)
            with cond:
                m.outcome = outcome
                cond.notify_all()

        def settled(ms: list[_Member]) -> bool:
            return all(m.outcome is not None or m.request is not None for m in ms)

        threads = []
        for m in batch:  # one at a time up to its fit call: Keras is touched by one thread
            m.thread = threading.Thread(target=member_main, args=(m,), daemon=True,
                                        name=f"hpo-vectorized-{m.number}")
            m.thread.start()
            threads.append(m.thread)
            with cond:
                cond.wait_for(lambda m=m: settled([m]))
        try:
            while True:
                with cond:
                    cond.wait_for(lambda: settled(batch))
                    waiting = [m for m in batch if m.outcome is None and m.request is not None]
                if not waiting:
                    break
                if self._stopping.is_set():
                    raise RuntimeError("the study was interrupted")
                self._train([m.request for m in waiting])
                for m in waiting:  # wake each member; it scores, then fits again or ends
                    req = m.request
                    with cond:
                        m.request = None
                    req.answered.set()
                    with cond:
                        cond.wait_for(lambda m=m: settled([m]))
        except BaseException as exc:
            for m in batch:
                if m.request is not None:
                    m.request.answer(error=exc)
                    m.request.answered.set()
            self._members = {}
            raise
        for t in threads:
            t.join()
        self._members = {}
        for m in batch:
            _settle(m.future, m.outcome)

    def _train(self, requests: list[Request]) -> None:
        """Answer every request: one program per group of compatible MLP members, the
        compiled trainer for the rest."""
        groups: list[tuple[Any, list[Request]]] = []
        alone: list[Request] = []
        for req in requests:
            key = self.padded.group_key(req)
            if key is None:
                alone.append(req)
                continue
            for gkey, members in groups:
                if gkey == key and same_data(members[0], req):
                    members.append(req)
                    break
            else:
                groups.append((key, [req]))
        for _, members in groups:
            try:
                self.padded.train(members, self.n_jobs)
            except Exception as exc:  # a bug or an XLA error: these members fail, not the study
                for req in members:
                    if req.result is None and req.error is None:
                        req.answer(error=exc)
        if alone:
            reasons = sorted({self.padded.why_alone(r) for r in alone})
            self._say(f"{'; '.join(reasons)}: such configurations train one at a time "
                      "(compiled)")
        for req in alone:
            self.alone += 1
            try:
                req.answer(result=req.backend.fit_one(req.params, req.x, req.y, req.dataset,
                                                      validation=req.validation,
                                                      report=req.report))
            except Exception as exc:
                req.answer(error=exc)
