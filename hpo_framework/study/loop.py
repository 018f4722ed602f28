"""The optimisation loop: ask the study for trials, run them through an executor, tell
the study how they ended; budgets, retries of lost workers, trial timeouts, Ctrl-C.

Only this thread writes storage. Intermediate values reach the study (and its pruner)
through the executor's reporter, from whichever thread or process runs the trial.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..contracts.executor import WorkerLost
from ..contracts.objective import Objective, error_text
from ..contracts.trial import Outcome, Trial, TrialState
from ..errors import HPOError, StorageError
from .core import TRIALS_IN_DRIVER
from .setup import RunPlan


@dataclass
class _Running:
    trial: Trial
    submitted: float  # time.monotonic()


def run(study: Any, objective: Objective, plan: RunPlan, *,
        callbacks: Sequence[Any] = ()) -> Any:
    """Run until ``plan.settings.n_trials`` trials of the study have finished (counting
    earlier runs), ``plan.settings.timeout`` seconds passed, or the strategy has nothing
    left. The plan was checked by :func:`hpo_framework.study.setup.plan_run`.

    A trial whose worker died is re-run up to ``settings.retries`` times before it is
    recorded FAILED; one that runs longer than ``settings.trial_timeout`` is stopped and
    recorded FAILED (timeout). Both need an executor that runs trials outside the driver.
    """
    return _Loop(study, objective, plan, callbacks).run()


class _Loop:
    def __init__(self, study: Any, objective: Objective, plan: RunPlan,
                 callbacks: Sequence[Any]) -> None:
        self.study, self.objective, self.settings = study, objective, plan.settings
        self.executor, self.callbacks = plan.executor, callbacks
        self.pending: dict[cf.Future, _Running] = {}

    # the loop ---------------------------------------------------------------------
    def run(self) -> Any:
        study, executor, settings = self.study, self.executor, self.settings
        executor.start(self.objective, study.report if study.pruner is not None else None)
        _note_where_trials_run(study, not executor.isolated)
        started = time.monotonic()
        study.stop_reason = None
        study.interrupted = False
        try:
            while True:
                out_of_time = settings.timeout is not None and \
                    time.monotonic() - started >= settings.timeout
                if not out_of_time:
                    self._fill()
                if not self.pending:
                    for trial in study.end_paused("not resumed: out of time" if out_of_time else
                                                  "not resumed"):
                        for cb in self.callbacks:
                            cb(study, trial)
                    study.stop_reason = self._why_stopped(out_of_time)
                    break
                if all(f.done() for f in self.pending):  # the serial executor's: no wait
                    done = set(self.pending)
                else:
                    done = executor.wait(self.pending,
                                         timeout=self._next_deadline(started, out_of_time))
                for future in sorted(done, key=lambda f: self.pending[f].trial.number):
                    running = self.pending.pop(future)
                    outcome = self._outcome(future)
                    if outcome is None and self._retry(running.trial, future):
                        continue
                    self._tell(running.trial, outcome or _lost(future))
                if settings.trial_timeout is not None:
                    self._stop_overdue()
                if study.storage.lease_lost:
                    raise StorageError(f"study '{study.name}': {study.storage.lease_lost}; this "
                                       "driver stops and writes nothing more")
        except KeyboardInterrupt:
            study.interrupted = True
            study.stop_reason = "interrupted"
            executor.shutdown(cancel=True)
            # pending trials, and one the serial executor was running in this process
            for trial in [t for t in study.trials if t.state is TrialState.RUNNING]:
                study.requeue(trial, "interrupted (Ctrl-C); it runs again when the study "
                                     "resumes")
            raise
        finally:
            if not study.interrupted:
                executor.shutdown(cancel=study.stop_reason is None)
            if executor.isolated:  # trials told by hand after this run run in this process
                with contextlib.suppress(HPOError):
                    _note_where_trials_run(study, True)
            study._call_hook("study_finished")
        return study

    def _fill(self) -> None:
        """Keep the executor's slots busy within the trial budget: paused trials the
        pruner promotes first, then new ones (a paused trial counts against the budget)."""
        study, n_trials = self.study, self.settings.n_trials
        while len(self.pending) < self.executor.slots:
            paused = study.paused
            left = None if n_trials is None else \
                n_trials - study.n_finished - len(self.pending) - len(paused)
            if paused and self._promote(paused, more=(left is None or left > 0)
                                        and not study.exhausted):
                continue
            want = self.executor.slots - len(self.pending)
            if left is not None:
                want = min(want, left)
            if want <= 0 or study.exhausted:
                return
            trials = study.ask_many(want)
            if not trials:
                return
            for trial in trials:
                future = self.executor.submit(trial.number, study.submission(trial))
                self.pending[future] = _Running(trial, time.monotonic())

    def _promote(self, paused: list[Trial], more: bool) -> bool:
        """Resume the paused trials the pruner promotes, as slots allow; True if any."""
        study = self.study
        if study.pruner is None or not study.pruner.pauses:
            return False
        free = self.executor.slots - len(self.pending)
        numbers = study.promotions(paused, more=more)[:free]
        resumed = False
        for number in numbers:
            got = study.resume(number)
            if got is None:  # its checkpoint could not be read: recorded PRUNED
                continue
            trial, checkpoint = got
            future = self.executor.submit(trial.number, study.submission(trial),
                                          resume=checkpoint)
            self.pending[future] = _Running(trial, time.monotonic())
            resumed = True
        return resumed or bool(numbers)

    def _next_deadline(self, started: float, out_of_time: bool) -> float | None:
        clock = time.monotonic()
        limits = []
        timeout, trial_timeout = self.settings.timeout, self.settings.trial_timeout
        if timeout is not None and not out_of_time:
            limits.append(max(0.0, timeout - (clock - started)))
        if trial_timeout is not None and self.pending:
            first = min(self._began(f) for f in self.pending)
            limits.append(max(0.0, first + trial_timeout - clock))
        return min(limits) if limits else None

    def _began(self, future: cf.Future) -> float:
        started = self.executor.started_at(future)
        return self.pending[future].submitted if started is None else started

    def _stop_overdue(self) -> None:
        limit = self.settings.trial_timeout
        clock = time.monotonic()
        began = {f: self._began(f) for f in self.pending}
        for future in [f for f, t0 in began.items() if clock - t0 >= limit]:
            running = self.pending.pop(future)
            self.executor.cancel(future)
            self._tell(running.trial, Outcome(
                TrialState.FAILED, duration=clock - began[future],
                error=f"timeout: stopped after {limit:g}s (--trial-timeout)"))

    def _tell(self, trial: Trial, outcome: Outcome) -> None:
        self.study.tell(trial, outcome)
        for cb in self.callbacks:
            cb(self.study, trial)

    def _retry(self, trial: Trial, future: cf.Future) -> bool:
        """Re-queue a trial whose worker died, while it has retries left."""
        retries = self.settings.retries
        lost = int(trial.user_attrs.get("worker_lost", 0)) + 1
        trial.user_attrs = {**trial.user_attrs, "worker_lost": lost}
        if lost > retries:
            return False
        self.study.requeue(trial, f"{_lost(future).error}; retry {lost} of {retries}")
        return True

    @staticmethod
    def _outcome(future: cf.Future) -> Outcome | None:
        """The future's Outcome; None when its worker died (the trial may be retried)."""
        try:
            return future.result()
        except WorkerLost:
            return None
        except HPOError:  # the executor cannot go on (workers die at start-up): stop the run
            raise
        except cf.CancelledError:
            return Outcome(TrialState.FAILED, error="executor error: the trial was cancelled")
        except Exception as exc:  # the executor itself failed
            return Outcome(TrialState.FAILED, error=f"executor error: {error_text(exc)}")

    def _why_stopped(self, out_of_time: bool) -> str:
        n_trials = self.settings.n_trials
        if n_trials is not None and self.study.n_finished >= n_trials:
            return "budget"
        if out_of_time:
            return "timeout"
        if self.study.strategy.done:
            return "strategy done"
        strategy = self.study.strategy
        raise HPOError(f"strategy '{strategy.name}' proposed nothing while no trial was "
                       "running and says it is not done: a strategy that runs out sets done "
                       "(see 'The contracts' in docs/plugins.md)")


def _note_where_trials_run(study: Any, in_driver: bool) -> None:
    """Store whether trials run in the driver's process, before the first one starts: if
    this driver dies, the next one counts the death against the trials it left RUNNING
    only when they ran in it (see Study), so a SIGKILLed driver never fails a trial."""
    if study.attrs.get(TRIALS_IN_DRIVER, True) != in_driver:
        study.set_attr(TRIALS_IN_DRIVER, in_driver)


def _lost(future: cf.Future) -> Outcome:
    return Outcome(TrialState.FAILED, error=f"worker died: {future.exception()}")
