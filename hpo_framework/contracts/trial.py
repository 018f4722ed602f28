"""The trial record and its states."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

#: a pruner's (and a reporter's) answer that pauses a trial instead of stopping it
PAUSE = "pause"


class TrialState(enum.StrEnum):
    """WAITING: queued (or re-queued after a driver died); RUNNING: handed to an executor;
    PAUSED: stopped by a pausing pruner with a checkpoint stored, to be resumed (RUNNING
    again) or, when the study ends without resuming it, recorded PRUNED."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    PRUNED = "PRUNED"

    @property
    def finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.FAILED, TrialState.PRUNED)


#: one per-step report of a trial: ``{"step": 3, "value": 0.91, ...}``
Step = dict[str, Any]


@dataclass
class Trial:
    """One evaluation of one configuration.

    ``value`` is the objective as the user defined it; ``loss`` is what strategies see
    (``value`` for minimized objectives, ``-value`` for maximized ones, ``None`` unless
    COMPLETE). With several objectives ``values`` holds each objective as defined and
    ``losses`` each as a loss (minimized), in the study's order; ``value``/``loss`` are the
    first (the headline). A one-objective COMPLETE trial has ``values == [value]`` and
    ``losses == [loss]``. ``constraints`` (a constrained study only) holds the constraint
    values, feasible when every one is <= 0 (Optuna's convention). ``intermediate`` holds the per-step reports, e.g. per-epoch validation
    scores: ``{"step": int, "value": float, ...}`` (a backend may add more numbers, such as
    ``val_loss``, beside ``value``).
    """

    number: int
    params: dict[str, Any]
    state: TrialState = TrialState.WAITING
    value: float | None = None
    loss: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    intermediate: list[Step] = field(default_factory=list)
    error: str | None = None
    datetime_start: str | None = None
    datetime_complete: str | None = None
    duration: float | None = None
    attempts: int = 0
    user_attrs: dict[str, Any] = field(default_factory=dict)
    values: list[float] | None = None
    losses: list[float] | None = None
    constraints: list[float] | None = None
    #: losses per reported step, ``[(step, loss), ...]`` (what pruners see); derived from
    #: ``intermediate`` and the direction, never stored on its own
    curve: list[tuple[int, float]] = field(default_factory=list)
    #: while RUNNING in this driver: its line to the pruner (see :meth:`report`)
    handle: Any = field(default=None, repr=False, compare=False)

    @property
    def feasible(self) -> bool:
        """True unless a constraint value is > 0 (a study without constraints: always)."""
        return self.constraints is None or all(c <= 0 for c in self.constraints)

    def report(self, value: float, step: int) -> None:
        """Ask-and-tell: record an intermediate value of this running trial (Optuna's
        order: ``report(value, step)``)."""
        if self.handle is None:
            raise RuntimeError(f"trial {self.number} is not running in this driver")
        self.handle.report(value, step)

    def should_prune(self) -> bool:
        """Ask-and-tell: True when the study's pruner says stop after the last report."""
        return self.handle is not None and self.handle.should_prune()

    def set_user_attr(self, key: str, value: Any) -> None:
        """Ask-and-tell: kept with the trial when it is told."""
        self.user_attrs = {**self.user_attrs, str(key): value}

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        """Ask-and-tell in a study that learns its space (see ``contracts.suggest``)."""
        return self._suggester().suggest_float(name, low, high, step=step, log=log)

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int:
        return self._suggester().suggest_int(name, low, high, step=step, log=log)

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self._suggester().suggest_categorical(name, choices)

    def _suggester(self) -> Any:
        suggester = getattr(self.handle, "suggester", None)
        if suggester is None:
            from ..errors import HPOError

            raise HPOError(f"trial {self.number}: trial.suggest_* needs a running trial of a "
                           "study that learns its space: create_study() with no space")
        return suggester

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            "params": dict(self.params),
            "value": self.value,
            "state": self.state.value,
            "duration_s": None if self.duration is None else round(self.duration, 6),
        }
        if self.metrics:
            out["metrics"] = dict(self.metrics)
        if self.intermediate:
            out["intermediate"] = list(self.intermediate)
        if self.values is not None and len(self.values) > 1:
            out["values"] = list(self.values)
        if self.constraints is not None:
            out["constraints"] = list(self.constraints)
            out["feasible"] = self.feasible
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class Outcome:
    """What an evaluation sends back from wherever it ran (picklable; JSON-able but for a
    PAUSED one's ``checkpoint``, which storage pickles)."""

    state: TrialState
    value: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    intermediate: list[Step] = field(default_factory=list)
    error: str | None = None
    duration: float = 0.0
    user_attrs: dict[str, Any] = field(default_factory=dict)
    #: PAUSED only: what the backend needs to go on training (see ``TrialPaused``)
    checkpoint: Any = None
    #: define-by-run only: what the objective suggested (``params``, their ``space`` and
    #: ``user_attrs``; see :mod:`hpo_framework.contracts.suggest`)
    suggested: dict[str, Any] | None = None
    #: several objectives: every value, in the study's order (``value`` is the first);
    #: None when the objective gave one number
    values: list[float] | None = None

