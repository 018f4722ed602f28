"""The loop: ask, evaluate (through an executor), tell, within budgets.

Every state change of a trial is committed to storage before the loop moves on. A
study reopened under the same name resumes: finished trials are kept, trials a dead
driver left RUNNING are re-queued (same number, same params), and the strategy is
rebuilt from the history.
"""

from __future__ import annotations

import concurrent.futures as cf
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import HPOError, StudyMismatchError
from .executor import Executor
from .objective import Objective
from .space import Space
from .storage import Storage, StudyRecord, now
from .strategy import Strategy
from .trial import Outcome, Trial, TrialState

Callback = Callable[["Study", Trial], None]

# config keys that may change between runs of one study without making it another study
FREE_KEYS = {"n_trials", "timeout", "executor", "executor_options", "n_jobs", "verbose", "seed",
             "retries", "trial_timeout"}


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    for key in sorted(set(old) | set(new)):
        if key in FREE_KEYS:
            continue
        if old.get(key) != new.get(key):
            return key
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Study:
    """A named, stored optimisation run. Create with :meth:`open`."""

    def __init__(
        self,
        *,
        storage: Storage,
        record: StudyRecord,
        space: Space,
        strategy: Strategy,
        hooks: Any = None,
    ) -> None:
        self.storage = storage
        self.record = record
        self.space = space
        self.strategy = strategy
        self.hooks = hooks
        self.interrupted = False
        self.stop_reason: str | None = None
        self.trials: list[Trial] = storage.load_trials(record.study_id, record.direction)
        requeued = []
        for t in self.trials:
            if t.state is TrialState.RUNNING:
                t.state = TrialState.WAITING
                t.error = "re-queued: the driver stopped while this trial ran"
                storage.update_trial(record.study_id, t)
                requeued.append(t)
        self.requeued = requeued
        strategy.restore(self.trials)

    # opening ------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        *,
        storage: Storage,
        name: str,
        space: Space,
        strategy_cls: type[Strategy],
        strategy_options: Mapping[str, Any] | None = None,
        direction: str = "minimize",
        seed: int | None = None,
        config: Mapping[str, Any] | None = None,
        new_study: bool = False,
        hooks: Any = None,
    ) -> Study:
        """Create the study, or resume it when one of that name exists with the same setup."""
        if direction not in ("minimize", "maximize"):
            raise HPOError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        strategy_options = dict(strategy_options or {})
        # validate options before anything is written
        strategy_cls.validate(strategy_options)
        full = {
            **(config or {}),
            "strategy": strategy_cls.name,
            "strategy_options": strategy_options,
            "direction": direction,
            "space": space.to_dict(),
        }
        record = storage.get_study(name)
        if record is not None and new_study:
            k = 2
            while storage.get_study(f"{name}-{k}") is not None:
                k += 1
            name, record = f"{name}-{k}", None
        if record is None:
            full["seed"] = seed if seed is not None else random.SystemRandom().randrange(2**31)
            # build the strategy first: its own checks (a bayes x0 outside the space) then
            # fail before a study record is written
            strategy = strategy_cls(space, seed=full["seed"], **strategy_options)
            record = storage.create_study(name, direction, full)
            return cls(storage=storage, record=record, space=space, strategy=strategy,
                       hooks=hooks)
        else:
            key = _diff(record.config, full)
            if key is not None:
                raise StudyMismatchError(
                    f"study '{name}' in {storage.path} was run with {key}="
                    f"{_short(record.config.get(key))}, this run has {key}={_short(full.get(key))}; "
                    "use another --study name, or --new-study to start a new one"
                )
            stored_seed = record.config.get("seed")
            if seed is not None and stored_seed is not None and seed != stored_seed:
                raise StudyMismatchError(
                    f"study '{name}' in {storage.path} was run with seed={stored_seed}, this run "
                    f"has seed={seed}; use another --study name, or --new-study"
                )
        strategy = strategy_cls(space, seed=record.config.get("seed"), **strategy_options)
        return cls(storage=storage, record=record, space=space, strategy=strategy, hooks=hooks)

    # views ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.record.name

    @property
    def direction(self) -> str:
        return self.record.direction

    @property
    def config(self) -> dict[str, Any]:
        return self.record.config

    @property
    def seed(self) -> int | None:
        return self.record.config.get("seed")

    @property
    def finished_trials(self) -> list[Trial]:
        return [t for t in self.trials if t.state.finished]

    @property
    def complete_trials(self) -> list[Trial]:
        return [t for t in self.trials if t.state is TrialState.COMPLETE]

    @property
    def best_trial(self) -> Trial | None:
        done = self.complete_trials
        if not done:
            return None
        return min(done, key=lambda t: (t.loss, t.number))

    @property
    def best_params(self) -> dict[str, Any] | None:
        best = self.best_trial
        return None if best is None else dict(best.params)

    @property
    def best_value(self) -> float | None:
        best = self.best_trial
        return None if best is None else best.value

    @property
    def attrs(self) -> dict[str, Any]:
        return self.storage.get_study_attrs(self.record.study_id)

    def set_attr(self, key: str, value: Any) -> None:
        self.storage.set_study_attr(self.record.study_id, key, value)

    def to_dataframe(self) -> Any:
        """A pandas DataFrame of the trials, one column per parameter (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise HPOError("to_dataframe() needs pandas: pip install pandas") from None
        rows = []
        for t in self.trials:
            row = {"number": t.number, "state": t.state.value, "value": t.value,
                   "duration_s": t.duration, "error": t.error}
            row.update({f"params_{k}": v for k, v in t.params.items()})
            row.update({f"metrics_{k}": v for k, v in t.metrics.items()
                        if isinstance(v, int | float | str)})
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        best = self.best_trial
        return {
            "study": self.name,
            "storage": self.storage.path,
            "direction": self.direction,
            "best": None if best is None else {"number": best.number, "params": best.params,
                                               "value": best.value},
            "trials": [t.to_dict() for t in self.trials],
        }

    # the loop -------------------------------------------------------------------
    def _save(self, trial: Trial, new: bool = False) -> None:
        if new:
            self.storage.add_trial(self.record.study_id, trial)
        else:
            self.storage.update_trial(self.record.study_id, trial)

    def _next_number(self) -> int:
        return max((t.number for t in self.trials), default=-1) + 1

    def _loss(self, value: float) -> float:
        return value if self.direction == "minimize" else -value

    def _call_hook(self, name: str, **kwargs: Any) -> None:
        if self.hooks is not None:
            getattr(self.hooks, name)(study=self, **kwargs)

    def _launch(self, executor: Executor, trial: Trial, new: bool) -> cf.Future:
        trial.state = TrialState.RUNNING
        trial.datetime_start = now()
        trial.datetime_complete = None
        trial.attempts += 1
        self._save(trial, new=new)
        self._call_hook("trial_started", trial=trial)
        return executor.submit(trial.number, trial.params)

    def finish(self, trial: Trial, outcome: Outcome) -> None:
        """Record an outcome, tell the strategy, store its stats."""
        trial.state = outcome.state
        trial.value = outcome.value if outcome.state is TrialState.COMPLETE else None
        trial.loss = None if trial.value is None else self._loss(trial.value)
        trial.metrics = dict(outcome.metrics)
        trial.intermediate = list(outcome.intermediate)
        trial.error = outcome.error
        trial.duration = outcome.duration
        trial.user_attrs = {**trial.user_attrs, **outcome.user_attrs}
        trial.datetime_complete = now()
        self._save(trial)
        self.strategy.tell([trial])
        stats = self.strategy.stats()
        if stats is not None:
            self.set_attr("strategy_stats", stats)

    def run(
        self,
        objective: Objective,
        *,
        n_trials: int | None = None,
        timeout: float | None = None,
        executor: Executor | None = None,
        callbacks: Sequence[Callback] = (),
        retries: int = 0,
        trial_timeout: float | None = None,
    ) -> Study:
        """Run until ``n_trials`` trials of the study have finished (counting earlier runs),
        ``timeout`` seconds passed, or the strategy has nothing left to propose.

        A trial whose worker died is re-run up to ``retries`` times before it is recorded
        as FAILED; one that runs longer than ``trial_timeout`` seconds is stopped and
        recorded as FAILED (timeout). Both need an executor that runs trials outside the
        driver (``process``, ``dask``).
        """
        if n_trials is None and timeout is None and not self.strategy.finite:
            raise HPOError(f"strategy '{self.strategy.name}' never runs out: give n_trials or timeout")
        if retries < 0:
            raise HPOError(f"retries must be >= 0, got {retries}")
        if trial_timeout is not None and trial_timeout <= 0:
            raise HPOError(f"trial timeout must be > 0 seconds, got {trial_timeout:g}")
        if executor is None:
            from .builtin.serial import SerialExecutor

            executor = SerialExecutor()
        if trial_timeout is not None and not executor.isolated:
            raise HPOError(f"a trial timeout needs trials outside the driver; executor "
                           f"'{executor.name}' runs them inside it: use the process executor")
        executor.start(objective)
        started = time.monotonic()
        pending: dict[cf.Future, Trial] = {}
        launched: dict[cf.Future, float] = {}
        queue = [t for t in self.trials if t.state is TrialState.WAITING]
        self.stop_reason = None
        self.interrupted = False
        try:
            while True:
                out_of_time = timeout is not None and time.monotonic() - started >= timeout
                self._fill(executor, pending, queue, n_trials, out_of_time, launched)
                if not pending:
                    self.stop_reason = self._why_stopped(n_trials, out_of_time)
                    break
                clock = time.monotonic()
                limits = []
                if timeout is not None and not out_of_time:
                    limits.append(max(0.0, timeout - (clock - started)))
                if trial_timeout is not None:
                    first = min(self._began(executor, f, launched) for f in pending)
                    limits.append(max(0.0, first + trial_timeout - clock))
                done = executor.wait(pending, timeout=min(limits) if limits else None)
                for future in sorted(done, key=lambda f: pending[f].number):
                    trial = pending.pop(future)
                    launched.pop(future, None)
                    outcome = self._outcome(future)
                    if outcome is None and self._retry(trial, future, retries):
                        queue.insert(0, trial)
                        continue
                    self._finished(trial, outcome or self._lost(future), callbacks)
                if trial_timeout is not None:
                    clock = time.monotonic()
                    began = {f: self._began(executor, f, launched) for f in pending}
                    for future in [f for f, t0 in began.items() if clock - t0 >= trial_timeout]:
                        trial = pending.pop(future)
                        launched.pop(future)
                        elapsed = clock - began[future]
                        executor.cancel(future)
                        self._finished(trial, Outcome(
                            TrialState.FAILED, duration=elapsed,
                            error=f"timeout: stopped after {trial_timeout:g}s (--trial-timeout)",
                        ), callbacks)
        except KeyboardInterrupt:
            self.interrupted = True
            self.stop_reason = "interrupted"
            executor.shutdown(cancel=True)
            # pending trials, and one the serial executor was running in this process
            for trial in [t for t in self.trials if t.state is TrialState.RUNNING]:
                trial.state = TrialState.WAITING
                trial.error = "interrupted (Ctrl-C); it runs again when the study resumes"
                self._save(trial)
            raise
        finally:
            if not self.interrupted:
                executor.shutdown(cancel=self.stop_reason is None)
            self._call_hook("study_finished")
        return self

    @staticmethod
    def _began(executor: Executor, future: cf.Future, launched: dict[cf.Future, float]) -> float:
        started = executor.started_at(future)
        return launched[future] if started is None else started

    def _finished(self, trial: Trial, outcome: Outcome, callbacks: Sequence[Callback]) -> None:
        self.finish(trial, outcome)
        self._call_hook("trial_finished", trial=trial)
        for cb in callbacks:
            cb(self, trial)

    def _retry(self, trial: Trial, future: cf.Future, retries: int) -> bool:
        """Re-queue a trial whose worker died, while it has retries left."""
        lost = int(trial.user_attrs.get("worker_lost", 0)) + 1
        trial.user_attrs = {**trial.user_attrs, "worker_lost": lost}
        reason = self._lost(future).error
        if lost > retries:
            return False
        trial.state = TrialState.WAITING
        trial.error = f"{reason}; retry {lost} of {retries}"
        self._save(trial)
        return True

    @staticmethod
    def _lost(future: cf.Future) -> Outcome:
        return Outcome(TrialState.FAILED, error=f"worker died: {future.exception()}")

    @staticmethod
    def _outcome(future: cf.Future) -> Outcome | None:
        """The future's Outcome; None when its worker died (the trial may be retried)."""
        from .executor import WorkerLost
        from .objective import error_text

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

    def _fill(self, executor: Executor, pending: dict[cf.Future, Trial], queue: list[Trial],
              n_trials: int | None, out_of_time: bool, launched: dict[cf.Future, float]
              ) -> None:
        while not out_of_time and len(pending) < executor.slots:
            in_budget = None if n_trials is None else (
                n_trials - len(self.finished_trials) - len(pending)
            )
            if in_budget is not None and in_budget <= 0:
                return
            if queue:
                trial = queue.pop(0)
                future = self._launch(executor, trial, new=False)
                pending[future], launched[future] = trial, time.monotonic()
                continue
            if self.strategy.done:
                return
            want = executor.slots - len(pending)
            if in_budget is not None:
                want = min(want, in_budget)
            asked = self.strategy.ask(want)
            if not asked:
                return
            for params in asked[:want]:
                trial = Trial(number=self._next_number(), params=self.space.active(params))
                self.trials.append(trial)
                future = self._launch(executor, trial, new=True)
                pending[future], launched[future] = trial, time.monotonic()

    def _why_stopped(self, n_trials: int | None, out_of_time: bool) -> str:
        if n_trials is not None and len(self.finished_trials) >= n_trials:
            return "budget"
        if out_of_time:
            return "timeout"
        if self.strategy.done:
            return "strategy done"
        return "strategy gave no more configurations"

