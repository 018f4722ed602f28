"""The study: a named, stored record of trials with ask-and-tell.

Every state change of a trial is committed to storage before the caller moves on. A
study is run by one driver at a time: opening it takes its lease in storage (see
:mod:`hpo_framework.study.storage`). A study reopened under the same name resumes: finished
trials are kept, trials a dead driver left RUNNING are re-queued (same number, same
params) once its lease was taken over, and the strategy is rebuilt from the history.

``ask()`` hands out the next trial (a re-queued one first), ``tell()`` records how it
ended; :mod:`hpo_framework.study.loop` runs ``ask -> evaluate -> tell`` through an executor.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..contracts.objective import (
    TrialHandle,
    decision,
    error_text,
    is_vector,
    not_a_number,
    vector_of,
)
from ..contracts.pareto import KeptFront
from ..contracts.pruner import History, Pruner, PrunerIndex
from ..contracts.strategy import Strategy
from ..contracts.trial import Outcome, Trial, TrialState
from ..errors import HPOError, OptionError, PluginError, SpaceError, StudyMismatchError
from ..space import Space
from .settings import check_seed
from .storage import Storage, StudyRecord, curve_of, now

Callback = Callable[["Study", Trial], None]
#: ``constraints(trial) -> [c1, c2, ...]``, feasible when every value is <= 0 (Optuna's
#: ``constraints_func``); called in the driver on each COMPLETE trial
Constraints = Callable[[Trial], Sequence[float]]
DIRECTIONS = ("minimize", "maximize")

#: study attr: False while a driver runs trials outside its process (then a trial cannot
#: be what killed it); trial user attr: how many drivers died while the trial ran in them
TRIALS_IN_DRIVER = "trials_run_in_driver"
DRIVER_DIED = "driver_died"

#: what makes a study the same study (the rest of the stored config may change)
IDENTITY_KEYS = ("strategy", "strategy_options", "directions", "direction", "constraints",
                 "space", "backend", "dataset",
                 "evaluator", "metric", "backend_options", "dataset_options",
                 "evaluator_options", "objective", "pruner", "pruner_options")


def _differs(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    for key in IDENTITY_KEYS:
        if old.get(key) != new.get(key):
            return key
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Study:
    """A named, stored optimisation run. Create with :func:`hpo_framework.create_study`
    or :meth:`open`; use :meth:`ask` and :meth:`tell`, or :meth:`optimize`."""

    def __init__(
        self,
        *,
        storage: Storage,
        record: StudyRecord,
        space: Space,
        strategy: Strategy,
        hooks: Any = None,
        pruner: Pruner | None = None,
        constraints: Constraints | None = None,
    ) -> None:
        self.storage = storage
        self.record = record
        self.space = space
        self.strategy = strategy
        self.hooks = hooks
        self.pruner = pruner
        self.interrupted = False
        self.stop_reason: str | None = None
        #: what opening said: a default name taken by another setup, so another one
        self.note: str | None = None
        self.closed = False
        self._lock = threading.RLock()
        self._running: dict[int, Trial] = {}
        #: the objectives' directions, in order (one study: ``[direction]``)
        self.directions: list[str] = directions_of(record.config, record.direction)
        #: the constraints function (a constrained study; None otherwise)
        self.constraints_func = constraints
        # the lease first: RUNNING trials are only re-queued once no live driver runs them
        self.took_over = storage.acquire_lease(record.study_id, record.name)
        self.trials: list[Trial] = storage.load_trials(record.study_id, self.directions)
        #: trials whose checkpoint storage keeps (PAUSED ones, and those resumed from one)
        self._checkpointed = storage.checkpointed(record.study_id)
        requeued = []
        # a trial that ran in the dead driver's own process may be what killed it: the
        # second time, it is FAILED instead of re-queued, so that no study loops on it
        in_driver = storage.get_study_attrs(record.study_id).get(TRIALS_IN_DRIVER, True)
        for t in self.trials:
            if t.state is TrialState.RUNNING and in_driver:
                t.user_attrs = {**t.user_attrs, DRIVER_DIED: t.user_attrs.get(DRIVER_DIED, 0) + 1}
            if t.state is TrialState.RUNNING and t.user_attrs.get(DRIVER_DIED, 0) >= 2:
                self._fail_killer(t)
            elif t.state is TrialState.RUNNING and t.number in self._checkpointed:
                # resumed from a checkpoint when the driver stopped: paused there again
                kept = storage.load_checkpoint(record.study_id, t.number) or {}
                t.intermediate = list(kept.get("intermediate") or t.intermediate)
                t.curve = curve_of(t.intermediate, record.direction)
                t.state = TrialState.PAUSED
                t.error = "paused: the driver stopped while it ran on from its checkpoint"
                storage.update_trial(record.study_id, t)
            elif t.state is TrialState.RUNNING:
                t.state = TrialState.WAITING
                t.error = "re-queued: the driver stopped while this trial ran"
                storage.update_trial(record.study_id, t)
                requeued.append(t)
        self.requeued = requeued
        #: the trials not finished yet (WAITING, RUNNING, PAUSED), by number: what ask,
        #: tell and the loop look at, so that their cost does not grow with the study (a
        #: finished state is final); ``self.trials`` is indexed up to ``_indexed``
        self._open: dict[int, Trial] = {}
        self._indexed = 0
        #: the finished trials and the COMPLETE ones, in the order they were seen to finish
        #: (``_unsorted``: not number order any more), and the best so far (one objective)
        self._finished: list[Trial] = []
        self._complete: list[Trial] = []
        self._unsorted = False
        self._best: Trial | None = None
        #: the Pareto front of the COMPLETE feasible trials (by losses), kept as they end
        self._front: KeptFront[Trial] = KeptFront(_losses, _number)
        #: the pruner's index of the finished trials (Pruner.index), made on its first
        #: decision by ``_index_of`` (the pruner object then in ``self.pruner``)
        self._index: PrunerIndex | None = None
        self._index_of: Pruner | None = None
        strategy.restore(_as_told(self.trials))

    def _fail_killer(self, trial: Trial) -> None:
        """Record FAILED a trial whose run in the driver's process ended with the driver
        dead twice (``os._exit``, a segfault in native code): re-run, it would again."""
        trial.state = TrialState.FAILED
        trial.error = "the driver died twice while this trial ran"
        trial.value = trial.loss = trial.values = trial.losses = None
        trial.datetime_complete = now()
        self.storage.update_trial(self.record.study_id, trial)
        if trial.number in self._checkpointed:
            self.storage.drop_checkpoint(self.record.study_id, trial.number)
            self._checkpointed.discard(trial.number)

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
        pruner: Pruner | None = None,
        name_given: bool = True,
        api: bool = False,
        directions: Sequence[str] | None = None,
        constraints: Constraints | None = None,
    ) -> Study:
        """Create the study, or resume it when one of that name exists with the same setup.

        A name the user did not give (``name_given`` False: a default) never makes two
        setups share a study: when a study of that name was run with another setup, the
        first of ``NAME-2``, ``NAME-3``, ... with this setup is resumed, or the first free
        one created, and :attr:`note` says so. ``api``: refusals name the Python arguments
        instead of the command line's flags. ``directions``: several objectives (then
        ``direction`` is ignored: the first is the headline); ``constraints``: a function
        of the finished trial (see :data:`Constraints`). Both are part of what the study
        is (a stored study resumes only with the same)."""
        directions = check_directions(directions if directions is not None else [direction])
        direction = directions[0]
        check_seed(seed, "seed")
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
        if len(directions) > 1:  # one objective stores none, as before version 4
            full["directions"] = directions
        if constraints is not None:
            full.setdefault("constraints", True)  # the CLI's are its --constraint texts
        else:
            full.pop("constraints", None)
        record = storage.get_study(name)
        note = None
        if record is not None and new_study:
            k = 2
            while storage.get_study(f"{name}-{k}") is not None:
                k += 1
            name, record = f"{name}-{k}", None
        elif record is not None and not name_given:
            why, default, k = _mismatch(record.config, full, seed), name, 2
            if why is not None:
                while record is not None and _mismatch(record.config, full, seed):
                    name, k = f"{default}-{k}", k + 1
                    record = storage.get_study(name)
                note = (f"study '{default}' in {storage.path} was run with {why}; this run is "
                        f"study '{name}' ({'name=' if api else '--study '}NAME chooses one)")
        if record is None:
            full["seed"] = seed if seed is not None else random.SystemRandom().randrange(2**31)
            # build the strategy first: its own checks (a bayes x0 outside the space) then
            # fail before a study record is written
            strategy = strategy_cls(space, seed=full["seed"], **strategy_options)
            record = storage.create_study(name, direction, full)
        else:
            cls._refuse_mismatch(storage, name, _mismatch(record.config, full, seed), api)
            strategy = strategy_cls(space, seed=record.config.get("seed"), **strategy_options)
        study = cls(storage=storage, record=record, space=space, strategy=strategy,
                    hooks=hooks, pruner=pruner, constraints=constraints)
        study.note = note
        return study

    @staticmethod
    def _refuse_mismatch(storage: Storage, name: str, why: str | None, api: bool) -> None:
        """A given name of a study run with another setup: refused, in the words of where
        the name came from."""
        if why is not None:
            other, new = ("study=NAME", "new_study=True") if api else ("--study NAME",
                                                                      "--new-study")
            seed_hint = ("drop seed=" if api else "drop --seed") + " to resume it, "
            raise StudyMismatchError(
                f"study '{name}' in {storage.path} was run with {why}; "
                f"{seed_hint if why.startswith('seed=') else ''}use another {other}, or "
                f"{new} to start a new one")

    def close(self) -> None:
        """Give the study's lease back (another driver may then run it at once); a closed
        study asks and tells nothing more."""
        self.closed = True
        self.storage.release_leases()

    def _check_open(self, what: str) -> None:
        if self.closed:
            raise HPOError(f"study '{self.name}' is closed (its lease was given back), so it "
                           f"cannot {what}: open it again with create_study(..., "
                           f"name='{self.name}') to go on")

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

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
        """The COMPLETE, FAILED and PRUNED trials, in number order (a copy of the kept
        list: no scan of the study)."""
        self._sync()
        return list(self._finished)

    @property
    def n_finished(self) -> int:
        """How many trials are COMPLETE, FAILED or PRUNED, without scanning them all."""
        self._sync()
        return len(self._finished)

    @property
    def complete_trials(self) -> list[Trial]:
        """The COMPLETE trials, in number order (a copy of the kept list)."""
        self._sync()
        return list(self._complete)

    def _sync(self) -> dict[int, Trial]:
        """Bring the index of open trials, the finished and COMPLETE lists and the best
        trial up to date; returns the open trials by number. Trials are only ever appended
        to ``self.trials`` and a finished state is final, so this takes the new tail and
        moves on what finished since: the work is that of the open trials, not of the
        study. Under the study's lock: a pruner reads the open trials from an executor's
        thread."""
        with self._lock:
            return self._sync_locked()

    def _sync_locked(self) -> dict[int, Trial]:
        if self._indexed < len(self.trials):
            for t in self.trials[self._indexed:]:
                if t.state.finished:
                    self._ended(t)
                else:
                    self._open[t.number] = t
            self._indexed = len(self.trials)
        ended = [n for n, t in self._open.items() if t.state.finished]
        for number in ended:
            self._ended(self._open.pop(number))
        if self._unsorted:  # trials ran at once and ended out of order: nearly sorted
            self._finished.sort(key=_number)
            self._complete.sort(key=_number)
            self._unsorted = False
        return self._open

    def _ended(self, trial: Trial) -> None:
        if self._finished and self._finished[-1].number > trial.number:
            self._unsorted = True
        self._finished.append(trial)
        if trial.state is not TrialState.COMPLETE:
            return
        self._complete.append(trial)
        if trial.loss is not None and trial.feasible:
            best = self._best
            if best is None or (trial.loss, trial.number) < (best.loss, best.number):
                self._best = trial
        if trial.losses is not None and trial.feasible:
            self._front.add(trial)

    @property
    def multi_objective(self) -> bool:
        return len(self.directions) > 1

    @property
    def best_trial(self) -> Trial | None:
        """The COMPLETE (and feasible) trial of the lowest loss; a study with several
        objectives has no one best: it refuses in one line (see :attr:`best_trials`)."""
        self._one_objective("best_trial")
        self._sync()
        return self._best

    @property
    def best_params(self) -> dict[str, Any] | None:
        self._one_objective("best_params")
        best = self.best_trial
        return None if best is None else dict(best.params)

    @property
    def best_value(self) -> float | None:
        self._one_objective("best_value")
        best = self.best_trial
        return None if best is None else best.value

    @property
    def best_trials(self) -> list[Trial]:
        """The Pareto front: the COMPLETE feasible trials no other one dominates (by their
        losses), in number order. One objective: the trials of the best value. Kept as
        trials end (what ``contracts.pareto.non_dominated`` of every such trial gives, without
        the scan)."""
        self._sync()
        return list(self._front.items)

    def _one_objective(self, what: str) -> None:
        if self.multi_objective:
            raise HPOError(f"study '{self.name}' has {len(self.directions)} objectives "
                           f"({', '.join(self.directions)}): {what} is for one objective; use "
                           "best_trials (the Pareto front)")

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
            if self.multi_objective:
                row.update({f"values_{i}": (t.values or [None] * len(self.directions))[i]
                            for i in range(len(self.directions))})
            if self.constraints_func is not None or t.constraints is not None:
                row["constraints"] = t.constraints
                row["feasible"] = t.feasible if t.constraints is not None else None
            row.update({f"params_{k}": v for k, v in t.params.items()})
            row.update({f"metrics_{k}": v for k, v in t.metrics.items()
                        if isinstance(v, int | float | str)})
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        best = None if self.multi_objective else self.best_trial
        out: dict[str, Any] = {
            "study": self.name,
            "storage": self.storage.path,
            "direction": self.direction,
            "best": None if best is None else {"number": best.number, "params": best.params,
                                               "value": best.value},
            "trials": [t.to_dict() for t in self.trials],
        }
        if self.multi_objective:
            out["directions"] = list(self.directions)
            out["pareto_front"] = [{"number": t.number, "values": list(t.values or []),
                                    "params": dict(t.params)} for t in self.best_trials]
        return out

    # ask and tell ---------------------------------------------------------------
    @property
    def waiting(self) -> list[Trial]:
        """Trials queued to run (re-queued after a driver stopped), in number order."""
        return [t for t in self._sync().values() if t.state is TrialState.WAITING]

    @property
    def paused(self) -> list[Trial]:
        """Trials a pausing pruner stopped with a checkpoint, in number order."""
        return [t for t in self._sync().values() if t.state is TrialState.PAUSED]

    @property
    def exhausted(self) -> bool:
        """True when nothing is queued and the strategy has nothing left to propose."""
        return not self.waiting and self.strategy.done

    def ask(self) -> Trial:
        """The next trial, recorded RUNNING: a re-queued one first, else a new one from
        the strategy. Train with ``trial.params``; then :meth:`tell` how it ended.
        Raises HPOError when the strategy has nothing left (an exhausted grid)."""
        trials = self.ask_many(1)
        if not trials:
            raise HPOError(f"study '{self.name}': strategy '{self.strategy.name}' has no more "
                           "configurations to propose")
        return trials[0]

    def ask_many(self, n: int) -> list[Trial]:
        """Up to ``n`` trials (fewer when the strategy runs out), each recorded RUNNING."""
        self._check_open("ask for trials")
        out: list[Trial] = []
        with self._lock:
            for trial in self.waiting[:n]:
                self._start(trial, new=False)
                out.append(trial)
            want = n - len(out)
            if want > 0 and not self.strategy.done:
                proposals = self._proposals(want)
                # what the strategy says of each proposal (which model made it), kept
                info = getattr(self.strategy, "proposal_attrs", None)
                for i, params in enumerate(proposals):
                    trial = Trial(number=self._next_number(), params=self.space.active(params))
                    if isinstance(info, Sequence) and i < len(info) and \
                            isinstance(info[i], Mapping):
                        trial.user_attrs = {**info[i]}
                    self.trials.append(trial)
                    self._start(trial, new=True)
                    out.append(trial)
        for trial in out:
            self._call_hook("trial_started", trial=trial)
        return out

    def _proposals(self, want: int) -> list[Mapping[str, Any]]:
        """What the strategy's ``ask`` returned, checked where it enters the core: a list
        of configurations inside the space, or one PluginError line and nothing recorded."""
        proposals = self.strategy.ask(want)
        where = f"strategy '{self.strategy.name}' ({type(self.strategy).__module__})"
        if not isinstance(proposals, list | tuple):
            raise PluginError(f"{where}: ask() returned {type(proposals).__name__}, not a list "
                              "of configurations; nothing was recorded (a bug in the plugin)")
        snapped = []
        for params in proposals[:want]:
            if not isinstance(params, Mapping):
                raise PluginError(f"{where}: ask() returned a {type(params).__name__} among its "
                                  "configurations, not a dict; nothing was recorded (a bug in "
                                  "the plugin)")
            try:
                params = self.space.snap(params)
                self.space.validate(params)
            except SpaceError as exc:
                raise PluginError(f"{where}: ask() proposed a configuration outside the space "
                                  f"({exc}); nothing was recorded (a bug in the plugin)") from None
            snapped.append(params)
        return snapped

    def tell(
        self,
        trial: Trial | int,
        value: float | Sequence[float] | Mapping[str, Any] | TrialState | Outcome | None = None,
        *,
        metrics: Mapping[str, Any] | None = None,
        error: str | None = None,
        duration: float | None = None,
    ) -> Trial:
        """Record how a trial from :meth:`ask` ended: a number (COMPLETE; NaN, inf and
        non-numbers become FAILED), a sequence of numbers (several objectives: one each,
        in the study's order; a wrong count is FAILED), ``{"values": [...], "metrics":
        {...}}``, ``TrialState.FAILED`` / ``TrialState.PRUNED``, or an :class:`Outcome`.
        The strategy learns it, hooks run; returns the trial."""
        trial = self._running_trial(trial)
        if isinstance(value, Outcome):
            outcome = value
        else:
            outcome = _outcome_of(value, metrics, error, trial)
        if duration is not None:
            outcome.duration = duration
        elif outcome.duration == 0.0 and trial.handle is not None:
            outcome.duration = trial.handle.elapsed()
        self.finish(trial, outcome)
        self._call_hook("trial_finished", trial=trial)
        return trial

    def requeue(self, trial: Trial, reason: str) -> None:
        """Put a RUNNING trial back in the queue (its run was cut short, not its fault);
        one that ran on from a checkpoint is PAUSED there again."""
        with self._lock:
            self._running.pop(trial.number, None)
            trial.handle = None
            trial.error = reason
            if trial.number in self._checkpointed:
                trial.state = TrialState.PAUSED
                trial.curve = curve_of(trial.intermediate, self.direction)
            else:
                trial.state = TrialState.WAITING
                trial.curve = []
            self._save(trial)

    def resume(self, trial: Trial | int) -> tuple[Trial, Any] | None:
        """A PAUSED trial RUNNING again, with its checkpoint (for the executor to hand the
        backend); None when its checkpoint cannot be read: it is then recorded PRUNED."""
        self._check_open("resume trials")
        number = trial if isinstance(trial, int) else trial.number
        with self._lock:
            found = self._sync().get(number)  # a paused trial is open
            if found is None or found.state is not TrialState.PAUSED:
                found = found or next((t for t in self.trials if t.number == number), None)
                state = "missing" if found is None else found.state.value
                raise HPOError(f"trial {number} of study '{self.name}' is {state}, not PAUSED: "
                               "only a paused trial is resumed")
            kept = self.storage.load_checkpoint(self.record.study_id, number)
            if kept is None:
                self._checkpointed.discard(number)
                self._running[number] = found
                self.finish(found, Outcome(TrialState.PRUNED, intermediate=found.intermediate,
                                           error=f"{found.error or 'paused'}; its checkpoint "
                                                 "could not be read, so it stops there"))
                return None
            # its intermediate values and curve are the checkpoint's already: paused here,
            # or loaded (a driver killed between the two writes: restored in __init__)
            found.state = TrialState.RUNNING
            found.handle = TrialHandle(number, dict(found.params), self.report,
                                       kept["checkpoint"])
            self._save(found)
            self._running[number] = found
            return found, kept["checkpoint"]

    def end_paused(self, reason: str) -> list[Trial]:
        """Record every PAUSED trial PRUNED (the study resumes none of them any more)."""
        out = []
        for trial in self.paused:
            with self._lock:
                self._running[trial.number] = trial
            self.finish(trial, Outcome(TrialState.PRUNED, intermediate=trial.intermediate,
                                       error=f"{trial.error or 'paused'}; {reason}"))
            out.append(trial)
        return out

    def _running_trial(self, trial: Trial | int) -> Trial:
        self._check_open("record trials")
        if isinstance(trial, bool) or not isinstance(trial, int | Trial):
            raise HPOError(f"tell() takes a trial from ask() (or its number), not "
                           f"{type(trial).__name__}")
        number = trial if isinstance(trial, int) else trial.number
        with self._lock:
            # a running trial is the study's own object: only a refusal looks further
            known = self._running.get(number)
            if known is None:
                known = next((t for t in self.trials if t.number == number), None)
        if isinstance(trial, Trial) and known is not trial:
            raise HPOError(f"trial {number} was not asked from study '{self.name}' (another "
                           "study, or another opening of this one, asked it): tell it to the "
                           "study that asked it")
        if known is None:
            raise HPOError(f"study '{self.name}' has no trial {number}")
        if known.number not in self._running:
            raise HPOError(f"trial {number} of study '{self.name}' is {known.state.value}, not "
                           "RUNNING: tell() takes a trial from ask(), once")
        return known

    # pruning ----------------------------------------------------------------------
    def report(self, number: int, step: int, value: float) -> bool:
        """One intermediate value of a running trial (from any executor's thread); True
        when the study's pruner says stop. Without a pruner it only records the value."""
        with self._lock:
            trial = self._running.get(number)
            if trial is None or not math.isfinite(value):
                return False
            trial.curve.append((int(step), self._loss(float(value))))
            if self.pruner is None:
                return False
            return decision(self.pruner.prune(trial, self._history(number)))

    def promotions(self, paused: Sequence[Trial], *, more: bool) -> list[int]:
        """What the study's pausing pruner says of the PAUSED trials: the numbers to resume
        now, in order (see :meth:`Pruner.promote`)."""
        if self.pruner is None:
            return []
        with self._lock:
            return list(self.pruner.promote(paused, self._history(None), more=more))

    def _history(self, skip: int | None) -> History:
        """Every trial but number ``skip``, as the pruner is handed them (no copy), with
        its index of the finished trials (made and told them on first use)."""
        pruner = self.pruner
        if pruner is not self._index_of:
            self._index_of, self._index = pruner, None
            index = self._guarded(pruner, "index()", pruner.index)
            if index is not None and index is not _FAILED:
                self._index = index
                for t in self.trials:
                    if t.state.finished:
                        self._tell_index(t)
        return History(self.trials, skip, index=self._index,
                       open_of=lambda: self._sync().values())

    def _tell_index(self, trial: Trial) -> None:
        index = self._index
        if index is not None and self._guarded(self._index_of, "its index's told()",
                                               index.told, trial) is _FAILED:
            self._index = None  # a broken index: the pruner scans the history from now on

    def _guarded(self, pruner: Any, what: str, call: Callable[..., Any], *args: Any) -> Any:
        """A pruner's optional index call; one that raises is named in one warning (the
        pruner then scans the history, as it does without an index)."""
        try:
            return call(*args)
        except Exception as exc:
            import warnings

            from ..registry import PluginWarning

            warnings.warn(f"pruner '{getattr(pruner, 'name', type(pruner).__name__)}': "
                          f"{what} raised {error_text(exc)}; it scans the study's trials "
                          "instead", PluginWarning, stacklevel=2)
            return _FAILED

    def submission(self, trial: Trial) -> dict[str, Any]:
        """What an executor is handed for a trial: its params (a study that learns its
        space adds what the trial's suggestions need, see :mod:`.learned`)."""
        return trial.params

    # recording ----------------------------------------------------------------------
    def _start(self, trial: Trial, new: bool) -> None:
        trial.state = TrialState.RUNNING
        trial.datetime_start = now()
        trial.datetime_complete = None
        trial.attempts += 1
        trial.curve = []
        trial.handle = TrialHandle(trial.number, dict(trial.params), self.report)
        self._save(trial, new=new)
        self._running[trial.number] = trial

    def finish(self, trial: Trial, outcome: Outcome) -> None:
        """Record an outcome, tell the strategy, store its stats. A PAUSED outcome keeps
        its checkpoint in storage and is told to the strategy as PRUNED (its curve so far);
        a trial that ran on from a checkpoint keeps the values it reported before it."""
        with self._lock:
            self._running.pop(trial.number, None)
            resumed = trial.number in self._checkpointed
            earlier = trial.intermediate if resumed else []
            trial.intermediate = _joined(earlier, list(outcome.intermediate))
            trial.curve = curve_of(trial.intermediate, self.direction) or trial.curve
            trial.duration = outcome.duration + ((trial.duration or 0.0) if resumed else 0.0)
            trial.error = outcome.error
            trial.user_attrs = {**trial.user_attrs, **outcome.user_attrs}
            trial.handle = None
            if outcome.state is TrialState.PAUSED:
                trial.value = trial.loss = trial.values = trial.losses = None
                trial.state = TrialState.PAUSED
                self.storage.save_checkpoint(self.record.study_id, trial, outcome.checkpoint)
                self._checkpointed.add(trial.number)
                self._save(trial)
                self.strategy.tell(_as_told([trial]))
            else:
                trial.metrics = dict(outcome.metrics)
                self._record_values(trial, outcome)
                trial.datetime_complete = now()
                self._save(trial)
                if self._index is not None and self._index_of is self.pruner:
                    self._tell_index(trial)
                if resumed:
                    self.storage.drop_checkpoint(self.record.study_id, trial.number)
                    self._checkpointed.discard(trial.number)
                self.strategy.tell([trial])
            stats = self.strategy.stats()
            if stats is not None:
                self.set_attr("strategy_stats", stats)

    def _record_values(self, trial: Trial, outcome: Outcome) -> None:
        """A finished outcome's state and values on the trial: one value per objective
        (a wrong count is FAILED), each as a loss, then the constraints of a COMPLETE
        trial (a constraints function that raises, or gives no numbers, FAILs it)."""
        trial.state, trial.constraints = outcome.state, None
        values = None
        if outcome.state is TrialState.COMPLETE:
            values = list(outcome.values) if outcome.values is not None else \
                None if outcome.value is None else [outcome.value]
            if values is not None and len(values) != len(self.directions):
                trial.state, trial.error = TrialState.FAILED, self._count_error(len(values))
                values = None
        trial.values = values
        trial.value = None if values is None else values[0]
        trial.losses = None if values is None else [
            v if d == "minimize" else -v for v, d in zip(values, self.directions, strict=True)]
        trial.loss = None if trial.losses is None else trial.losses[0]
        if trial.state is TrialState.COMPLETE and self.constraints_func is not None:
            constraints, why = self._constraints_of(trial)
            if why is not None:
                trial.state, trial.error = TrialState.FAILED, why
                trial.value = trial.loss = trial.values = trial.losses = None
            trial.constraints = constraints

    def _count_error(self, given: int) -> str:
        k = len(self.directions)
        said = "1 value" if given == 1 else f"{given} values"
        if k == 1:
            return (f"the objective gave {said}; this study has one objective "
                    f"({self.direction}): give directions=[...] (--direction a,b) for several")
        return (f"the objective gave {said}; this study has {k} objectives "
                f"({', '.join(self.directions)})")

    def _constraints_of(self, trial: Trial) -> tuple[list[float] | None, str | None]:
        """The constraints function's values for a finished trial, or why there are none."""
        try:
            got = self.constraints_func(trial)  # type: ignore[misc]
        except HPOError as exc:
            return None, str(exc)
        except Exception as exc:
            return None, f"constraints(trial) raised {error_text(exc)}"
        if not is_vector(got):
            if isinstance(got, int | float) and not isinstance(got, bool):
                got = [got]
            else:
                return None, (f"constraints(trial) returned {type(got).__name__}, not a "
                              "sequence of numbers (feasible when each is <= 0)")
        values, why = vector_of(got)
        if why is not None:
            return None, f"constraints(trial) returned {why}"
        return values, None

    def _save(self, trial: Trial, new: bool = False) -> None:
        if new:
            self.storage.add_trial(self.record.study_id, trial)
        else:
            self.storage.update_trial(self.record.study_id, trial)

    def _next_number(self) -> int:
        # trials are loaded in number order and only appended with the next number
        return self.trials[-1].number + 1 if self.trials else 0

    def _loss(self, value: float) -> float:
        return value if self.direction == "minimize" else -value

    def _call_hook(self, name: str, **kwargs: Any) -> None:
        if self.hooks is not None:
            getattr(self.hooks, name)(study=self, **kwargs)

    # the loop -------------------------------------------------------------------
    def optimize(self, objective: Any, *, n_trials: int | None = None,
                 timeout: float | None = None, executor: Any = None,
                 callbacks: Sequence[Callback] = (), retries: int = 0,
                 trial_timeout: float | None = None) -> Study:
        """Run ``ask -> objective -> tell`` until ``n_trials`` trials of the study have
        finished (counting earlier runs), ``timeout`` seconds passed, or the strategy has
        nothing left. See :func:`hpo_framework.study.loop.run`."""
        from .loop import run
        from .settings import RunSettings
        from .setup import plan_run

        plan = plan_run(RunSettings(n_trials=n_trials, timeout=timeout, retries=retries,
                                    trial_timeout=trial_timeout),
                        pruner=self.pruner, resumable=getattr(objective, "resumable", False),
                        finite=self.strategy.finite, strategy=self.strategy.name,
                        executor=executor)
        return run(self, objective, plan, callbacks=callbacks)


def _as_told(trials: Sequence[Trial]) -> list[Trial]:
    """What strategies are told: a PAUSED trial as PRUNED at the step it paused (when it
    is resumed, the strategy is told again how it ended)."""
    import dataclasses

    return [dataclasses.replace(t, state=TrialState.PRUNED, handle=None)
            if t.state is TrialState.PAUSED else t for t in trials]


def _joined(earlier: list[Any], later: list[Any]) -> list[Any]:
    """A resumed trial's per-step records: those from before its checkpoint, then the
    resumed run's (which start after it)."""
    steps = [r["step"] for r in later if isinstance(r, dict) and isinstance(r.get("step"), int)]
    if not steps:
        return [*earlier, *later]
    first = min(steps)
    return [*(r for r in earlier if not (isinstance(r, dict) and isinstance(r.get("step"), int)
                                         and r["step"] >= first)), *later]


def _number(trial: Trial) -> int:
    return trial.number


def _losses(trial: Trial) -> list[float]:
    return trial.losses  # type: ignore[return-value]  # the front holds trials with losses


#: what a guarded pruner call returns when it raised
_FAILED = object()


def check_directions(directions: Any) -> list[str]:
    """A study's directions as a list, or one line: each 'minimize' or 'maximize'."""
    if isinstance(directions, str) or not isinstance(directions, Sequence) or not directions:
        raise HPOError(f"directions takes a list such as ['maximize', 'minimize'], got "
                       f"{_short(directions)}")
    for d in directions:
        if d not in DIRECTIONS:
            raise HPOError(f"direction must be 'minimize' or 'maximize', got {d!r}")
    return list(directions)


def directions_of(config: Mapping[str, Any], direction: str) -> list[str]:
    """A stored study's directions: its list (several objectives), else ``[direction]``."""
    stored = config.get("directions")
    return [str(d) for d in stored] if isinstance(stored, list) and stored else [direction]


def _mismatch(stored: Mapping[str, Any], full: Mapping[str, Any], seed: int | None
              ) -> str | None:
    """How a stored study's setup differs from this run's (None: the same study)."""
    key = _differs(stored, full)
    if key is not None:
        return _difference(key, stored.get(key), full.get(key))
    stored_seed = stored.get("seed")
    if seed is not None and stored_seed is not None and seed != stored_seed:
        return f"seed={stored_seed}, this run has seed={seed}"
    return None


def _difference(key: str, old: Any, new: Any) -> str:
    if key == "constraints":
        def say(c: Any) -> str:
            return "no constraints" if c is None else \
                "constraints" if c is True else f"constraints {_short(c)}"
        return f"{say(old)}, this run has {say(new)}"
    if key == "directions":
        def one(d: Any) -> str:
            return "one objective" if d is None else f"directions={_short(d)}"
        return f"{one(old)}, this run has {one(new)}"
    if key == "space" and isinstance(old, Mapping) and isinstance(new, Mapping):
        try:
            # the stored dict may no longer build a Space: it is compared as a dict
            where = Space.from_dict(dict(new)).describe_difference(dict(old))
        except HPOError:
            where = None
        if where:
            return f"another space: {where}"
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for k in sorted(set(old) | set(new)):
            if old.get(k) != new.get(k):
                return (f"{key}.{k}={_short(old.get(k))}, this run has {key}.{k}="
                        f"{_short(new.get(k))}")
    return f"{key}={_short(old)}, this run has {key}={_short(new)}"


def _outcome_of(value: Any, metrics: Mapping[str, Any] | None, error: str | None,
                trial: Trial) -> Outcome:
    steps = list(trial.handle.intermediate) if trial.handle is not None else []
    if isinstance(value, Mapping):  # {"values": [...], "metrics": {...}} as an objective's
        metrics = {**dict(value.get("metrics") or {}), **dict(metrics or {})}
        value = value["values"] if "values" in value else value.get("value")
    if is_vector(value):
        values, why = vector_of(value)
        if why is not None:
            return Outcome(TrialState.FAILED, error=f"told {why}", intermediate=steps,
                           metrics=dict(metrics or {}))
        return Outcome(TrialState.COMPLETE, value=values[0], values=values,
                       metrics=dict(metrics or {}), intermediate=steps, error=error)
    if isinstance(value, TrialState):
        if value not in (TrialState.FAILED, TrialState.PRUNED, TrialState.COMPLETE):
            raise OptionError(f"tell() takes COMPLETE, FAILED or PRUNED, not {value.value}")
        if value is TrialState.COMPLETE:
            raise OptionError("tell(trial, TrialState.COMPLETE) needs the value: "
                              "tell(trial, 0.93)")
        return Outcome(value, error=error, metrics=dict(metrics or {}), intermediate=steps)
    if value is None:
        return Outcome(TrialState.FAILED, error=error or "no value was told",
                       metrics=dict(metrics or {}), intermediate=steps)
    try:
        if not_a_number(value):
            raise TypeError(type(value).__name__)
        number = float(value)
    except OverflowError:
        return Outcome(TrialState.FAILED, error="a number too large for a float was told",
                       intermediate=steps)
    except (TypeError, ValueError):
        return Outcome(TrialState.FAILED, error=f"{type(value).__name__} {_short(value)} was "
                                                "told, not a number",
                       intermediate=steps)
    if not math.isfinite(number):
        return Outcome(TrialState.FAILED, error=f"the value was {number}", intermediate=steps,
                       metrics=dict(metrics or {}))
    return Outcome(TrialState.COMPLETE, value=number, metrics=dict(metrics or {}),
                   intermediate=steps, error=error)
