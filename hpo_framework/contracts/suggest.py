"""Define-by-run: an objective that declares its parameters as it runs, as in Optuna::

    def objective(trial):
        x = trial.suggest_float("x", -10, 10)
        return (x - 2) ** 2

The driver proposes values for the dimensions the study has learned so far and sends
them with the trial (with their specs and the study seed, under :data:`PAYLOAD`); a
suggestion of a dimension not in the proposal gets a value drawn from (seed, trial
number, name) alone, uniform in the dimension's encoding, so a re-run or a resumed study
draws the same. What the objective suggested travels back in ``Outcome.suggested``; the
study then learns the new dimensions (:mod:`hpo_framework.study.learned`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import SpaceError
from ..space import Categorical, Constant, Dimension, Float, Int, dimension_from_spec
from .strategy import derived_seed

#: the key under which the driver sends a define-by-run trial its context
PAYLOAD = "__hpo_define_by_run__"
#: a step (or an int range) may give at most this many values
MAX_STEP_VALUES = 10_000


def _same(a: Dimension, b: Dimension) -> bool:
    """Two specs of one name agree (a declared condition does not count)."""
    def plain(d: Dimension) -> dict[str, Any]:
        return {k: v for k, v in d.to_dict().items() if k != "condition"}
    return plain(a) == plain(b)


def _nearest(dim: Dimension, value: Any) -> Any:
    """A proposal snapped onto a stepped dimension's values (a strategy may not honour them)."""
    values = getattr(dim, "values", None)
    if not values or value in values:
        return value
    return min(values, key=lambda v: (abs(v - value), v))


def _float_dim(name: str, low: float, high: float, step: float | None, log: bool) -> Dimension:
    if step is not None and log:
        raise SpaceError(f"parameter '{name}': suggest_float takes step or log=True, not both")
    if low == high:
        return Constant(name, float(low))
    if step is None:
        return Float(name, low, high, log=log)
    if isinstance(step, bool) or not isinstance(step, int | float) or not step > 0:
        raise SpaceError(f"parameter '{name}': step must be a number > 0, got {step!r}")
    count = math.floor((high - low) / step + 1e-9) + 1 if high > low else 1
    if count > MAX_STEP_VALUES:
        raise SpaceError(f"parameter '{name}': step {step} gives {count} values (at most "
                         f"{MAX_STEP_VALUES}); use a larger step, or none")
    values = [float(f"{low + i * step:.12g}") for i in range(count)]  # Optuna drops a ragged end
    return Float(name, low, high, values=values) if count > 1 else Constant(name, float(low))


def _int_dim(name: str, low: int, high: int, step: int, log: bool) -> Dimension:
    for what, v in (("low", low), ("high", high), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise SpaceError(f"parameter '{name}': suggest_int's {what} must be an int, "
                             f"got {v!r}")
    if step < 1:
        raise SpaceError(f"parameter '{name}': step must be >= 1, got {step}")
    if log and step != 1:
        raise SpaceError(f"parameter '{name}': suggest_int takes step or log=True, not both")
    if low == high:
        return Constant(name, int(low))
    if step == 1:
        return Int(name, low, high, log=log)
    count = (high - low) // step + 1 if high > low else 1
    if count > MAX_STEP_VALUES:
        raise SpaceError(f"parameter '{name}': step {step} gives {count} values (at most "
                         f"{MAX_STEP_VALUES}); use a larger step")
    values = [low + i * step for i in range(count)]
    return Int(name, low, high, values=values) if count > 1 else Constant(name, int(low))


class SuggestTrial:
    """What a define-by-run objective gets: Optuna's ``suggest_*``, ``params``,
    ``number``, ``user_attrs``, ``report(value, step)`` and ``should_prune()``.

    ``handle``: the running trial's :class:`~hpo_framework.contracts.objective.TrialHandle`
    (the line to the pruner); ``proposal``: the values the strategy proposed; ``context``:
    the study's known dimensions (``space``: name -> spec) and ``seed``.
    """

    def __init__(self, handle: Any, proposal: Mapping[str, Any],
                 context: Mapping[str, Any]) -> None:
        self._handle = handle
        self._proposal = dict(proposal)
        self._known = {name: dimension_from_spec(name, spec)
                       for name, spec in dict(context.get("space") or {}).items()}
        self._seed = context.get("seed")
        self._dims: dict[str, Dimension] = {}
        self._params: dict[str, Any] = {}
        self.user_attrs: dict[str, Any] = {}

    # Optuna's trial ---------------------------------------------------------------------
    @property
    def number(self) -> int:
        return self._handle.number

    @property
    def params(self) -> dict[str, Any]:
        """The parameters suggested so far in this trial."""
        return dict(self._params)

    @property
    def distributions(self) -> dict[str, dict[str, Any]]:
        return {name: d.to_dict() for name, d in self._dims.items()}

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        """A real value in [low, high] (on a log scale, or on a grid of ``step``)."""
        self._check_range(name, low, high)
        return self._suggest(_float_dim(name, low, high, step, log))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int:
        """An integer in [low, high] (every ``step``-th from low, or on a log scale)."""
        self._check_range(name, low, high)
        return self._suggest(_int_dim(name, low, high, step, log))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices`` (None, bools, numbers or strings)."""
        if isinstance(choices, str | bytes) or not isinstance(choices, Sequence):
            raise SpaceError(f"parameter '{name}': suggest_categorical takes a list of "
                             f"choices, got {type(choices).__name__}")
        if len(choices) == 1:
            return self._suggest(Constant(name, choices[0]))
        return self._suggest(Categorical(name, list(choices)))

    def set_user_attr(self, key: str, value: Any) -> None:
        """Kept with the trial (``study.trials[i].user_attrs[key]``)."""
        self.user_attrs[str(key)] = value

    def report(self, value: float, step: int) -> None:
        """One intermediate value, Optuna's order: ``report(value, step)``."""
        self._handle.report(value, step)

    def should_prune(self) -> bool:
        return self._handle.should_prune()

    def __getitem__(self, name: str) -> Any:
        raise SpaceError(f"the objective reads trial[{name!r}] as if it were a params dict: "
                         "give optimize() a space (objective(params)), or call "
                         f"trial.suggest_*({name!r}, ...)")

    def __getattr__(self, name: str) -> Any:  # should_pause, resume, elapsed, intermediate
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._handle, name)

    # how a value is chosen ----------------------------------------------------------------
    @staticmethod
    def _check_range(name: str, low: Any, high: Any) -> None:
        try:
            wrong = low > high
        except TypeError:
            raise SpaceError(f"parameter '{name}': low and high must be numbers, got "
                             f"{low!r} and {high!r}") from None
        if wrong:
            raise SpaceError(f"parameter '{name}': low ({low}) must not be greater than "
                             f"high ({high})")

    def _suggest(self, dim: Dimension) -> Any:
        name = dim.name
        if name in self._dims:
            if not _same(self._dims[name], dim):
                raise SpaceError(f"parameter '{name}' was suggested twice in trial "
                                 f"{self.number} with different ranges ({_spec(self._dims[name])}"
                                 f", then {_spec(dim)}): a name keeps one range")
            return self._params[name]
        known = self._known.get(name)
        if known is not None and not _same(known, dim):
            raise SpaceError(f"parameter '{name}' is suggested as {_spec(dim)}, but the study "
                             f"knows it as {_spec(known)}: a name keeps one range (use another "
                             "name, or a new study)")
        if name in self._proposal and dim.contains(self._proposal[name]):
            value = _nearest(dim, self._proposal[name])
        else:  # a new dimension, or one the proposal leaves out: drawn from (seed, number)
            u = random.Random(derived_seed(self._seed, "define-by-run", self.number,
                                           name)).random()
            value = _nearest(dim, dim.decode(u))
        if isinstance(dim, Int):
            value = int(value)
        self._dims[name] = dim
        self._params[name] = value
        return value

    def record(self) -> dict[str, Any]:
        """What travels back to the driver (``Outcome.suggested``)."""
        return {"params": dict(self._params),
                "space": {name: d.to_dict() for name, d in self._dims.items()},
                "user_attrs": dict(self.user_attrs)}


def _spec(dim: Dimension) -> str:
    spec = {k: v for k, v in dim.to_dict().items() if k not in ("type", "condition")}
    if "values" in spec and len(spec["values"]) > 4:
        spec["values"] = f"{len(spec['values'])} values"
    return f"{dim.type_name} {spec}"


class DefineByRun:
    """An objective written ``objective(trial)`` (or ``objective(params, trial)`` beside
    a declared space), as the executors call it: ``(params, handle)``. Picklable when
    the objective is (the process executor sends it with cloudpickle)."""

    takes_trial = True

    def __init__(self, objective: Any, with_params: bool) -> None:
        self.objective = objective
        self.with_params = with_params
        self.__name__ = getattr(objective, "__name__", "objective")
        self.__qualname__ = getattr(objective, "__qualname__", type(objective).__name__)
        if callable(getattr(objective, "warm_up", None)):
            self.warm_up = objective.warm_up

    def __call__(self, params: dict[str, Any], handle: Any) -> Any:
        context = params.pop(PAYLOAD, None) or {}
        trial = SuggestTrial(handle, params, context)
        try:
            if self.with_params:
                declared = {k: v for k, v in params.items() if k in set(context.get("declared")
                                                                          or ())}
                return self.objective(declared, trial)
            return self.objective(trial)
        finally:
            handle.suggested = trial.record()
