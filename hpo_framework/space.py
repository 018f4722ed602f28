"""Search spaces: dimensions, conditions, sampling, grids, the unit-cube encoding, files.

One schema serves a Python dict and a YAML/JSON/TOML file::

    learning_rate: {type: float, low: 1e-3, high: 1e-1, log: true}
    n_layers: {type: int, low: 1, high: 4}
    units_3: {type: int, low: 5, high: 15, condition: {n_layers: {ge: 3}}}
    units: {type: int, low: 32, high: 512, step: 32}       # 32, 64, ..., 512
    dropout: {type: float, low: 0.1, high: 0.5, step: 0.1}  # 0.1, 0.2, ..., 0.5
    kernel: {type: int, values: [3, 5, 7]}                  # only these
    k: {type: int, low: 1, high: n_features}   # the data's shape (from_dict context=)
    use_bias: {type: bool}
    optimizer: [adam, sgd]          # shorthand for a categorical
    epochs: 10                      # shorthand for a constant

Strategies that work on real vectors use :meth:`Space.encode` / :meth:`Space.decode`,
which map the searchable (non-constant) dimensions to ``[0, 1]``; decoded values are
plain Python ``int``/``float``/``str``/``bool``, and parameters whose condition does not
hold are left out. A dimension with a ``step`` or a ``values`` list is discrete and
ordered: one equal bin per allowed value, so sampling is uniform over them and a grid
lists exactly them; :meth:`Space.snap` moves any proposal to the nearest allowed value
(the Study calls it on every proposal), so a strategy that reads only ``low``/``high``
honours them too.

Every bad input is a one-line :class:`SpaceError` that names the parameter: non-finite
numbers anywhere, int bounds beyond ±2**53 (the encoding is float), float ranges whose
width overflows, grids over :data:`MAX_GRID_SIZE` points (refused before they are built),
and files that are not small regular UTF-8 files of valid YAML/JSON/TOML (parse errors
give the line and column; YAML aliases are refused, so an alias bomb cannot expand).
"""

from __future__ import annotations

import bisect
import json
import math
import os
import random
import re
import stat
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpaceError
from .options import load_yaml, non_finite, yaml_error_line

MAX_INT_BOUND = 2**53  # every int up to this is exact in the float unit-cube encoding
MAX_GRID_SIZE = 1_000_000  # a grid is built in memory: about 0.3 KB a point (a few params)
MAX_SPACE_FILE_BYTES = 256 * 1024  # spaces are a few lines; this bounds time and memory

_OPS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
}


def _plain(value: Any) -> Any:
    """numpy scalars and other number-likes become plain Python values."""
    if isinstance(value, bool | str | int | float) or value is None:
        return value
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):  # an array of several values stays as it is
            return value
    return value


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any) -> str:
    """A value for a one-line message: a huge int or a long list is cut, never str()'d whole."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"an integer of {value.bit_length()} bits"
    try:
        return _clip(repr(value))
    except ValueError:  # int repr beyond sys.get_int_max_str_digits()
        return type(value).__name__


_PLAIN_TYPES = (str, int, float, bool, type(None))


def _check_plain(name: str, what: str, value: Any, depth: int = 0) -> None:
    """Refuse NaN/inf and values that cannot round-trip through JSON storage."""
    bad = non_finite(value)
    if bad is not None:
        raise SpaceError(f"parameter '{name}': {what} must be finite, got {bad!r}")
    if isinstance(value, _PLAIN_TYPES):
        return
    if depth < 20 and isinstance(value, list | tuple):
        for item in value:
            _check_plain(name, what, _plain(item), depth + 1)
        return
    if depth < 20 and isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        for item in value.values():
            _check_plain(name, what, _plain(item), depth + 1)
        return
    raise SpaceError(
        f"parameter '{name}': {what} must be a string, number, boolean, null or a list or "
        f"mapping of them, got {_show(value)} ({type(value).__name__}); quote it to make it text"
    )


@dataclass(frozen=True)
class Clause:
    """One test on a parent parameter: ``param op value``."""

    param: str
    op: str
    value: Any

    def holds(self, params: Mapping[str, Any]) -> bool:
        if self.param not in params:
            return False
        try:
            return bool(_OPS[self.op](params[self.param], self.value))
        except TypeError:
            return False

    def to_dict(self) -> dict:
        return {self.param: {self.op: self.value}}


class Dimension:
    """A named parameter. ``condition`` is a list of clauses that must all hold."""

    type_name = ""
    searchable = True

    def __init__(self, name: str, condition: Any = None) -> None:
        if not isinstance(name, str) or not name:
            raise SpaceError(f"parameter name must be a non-empty string, got {name!r}")
        self.name = name
        self.condition: tuple[Clause, ...] = _parse_condition(name, condition)

    # subclasses implement these
    def decode(self, u: float) -> Any:
        raise NotImplementedError

    def encode(self, value: Any) -> float:
        raise NotImplementedError

    def grid(self, points: int = 3) -> list[Any]:
        raise NotImplementedError

    def grid_size(self, points: int = 3) -> int:
        """len(self.grid(points)), without building it."""
        return len(self.grid(points))

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def _spec(self) -> dict:
        raise NotImplementedError

    def sample(self, rng: random.Random) -> Any:
        return self.decode(rng.random())

    def snap(self, value: Any) -> Any:
        """A proposed value moved onto what the dimension allows (identity here)."""
        return value

    def is_active(self, params: Mapping[str, Any]) -> bool:
        return all(clause.holds(params) for clause in self.condition)

    def to_dict(self) -> dict:
        spec = {"type": self.type_name, **self._spec()}
        if self.condition:
            cond: dict = {}
            for clause in self.condition:
                cond.setdefault(clause.param, {})[clause.op] = clause.value
            spec["condition"] = cond
        return spec

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self._spec()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dimension) and (self.name, self.to_dict()) == (
            other.name,
            other.to_dict(),
        )

    def __hash__(self) -> int:
        return hash((self.name, json.dumps(self.to_dict(), sort_keys=True, default=str)))


class SpaceWarning(UserWarning):
    """A space that was accepted with a change: a ``high`` off the ``step`` is lowered to
    the last value on it (Optuna's rule), and this says so."""


def _note(message: str) -> None:
    # one clean line on stderr ("hpo-space:0: SpaceWarning: ..."), not a source line
    warnings.warn_explicit(message, SpaceWarning, "hpo-space", 0, module="hpo_framework.space")


def _decimals(x: float) -> int:
    """Digits after the point of a float as written (0.1 -> 1, 0.25 -> 2, 1e-05 -> 5)."""
    from decimal import Decimal  # here: hpo-run --help imports this module

    exponent = Decimal(repr(float(x))).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class _Numeric(Dimension):
    """An int or float dimension: a range, or a discrete ordered set of values when it has
    a ``step`` (every step-th value from ``low``) or a ``values`` list. The encoding, the
    sampling and the grid of a discrete dimension see only its values: ``decode`` bins the
    unit interval into one equal bin per value, ``encode`` gives a value's bin centre."""

    kind: type = float

    def __init__(
        self,
        name: str,
        low: float | None = None,
        high: float | None = None,
        *,
        log: bool = False,
        values: Sequence[float] | None = None,
        step: float | None = None,
        condition: Any = None,
    ) -> None:
        super().__init__(name, condition)
        if values is not None:
            if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
                raise SpaceError(f"parameter '{name}': 'values' must be a non-empty list")
            if step is not None:
                raise SpaceError(f"parameter '{name}': give 'step' or 'values', not both")
            values = [self._coerce(v, "values") for v in values]
            low = min(values) if low is None else low
            high = max(values) if high is None else high
        if low is None or high is None:
            raise SpaceError(f"parameter '{name}': needs 'low' and 'high' (or a 'values' list)")
        low, high = self._coerce(low, "low"), self._coerce(high, "high")
        if not low < high:
            raise SpaceError(f"parameter '{name}': low ({low}) must be less than high ({high})")
        if not math.isfinite(high - low):
            raise SpaceError(
                f"parameter '{name}': the range {low}..{high} is too wide (high - low "
                "overflows a float); narrow it, or use log: true with low > 0"
            )
        if not isinstance(log, bool):
            raise SpaceError(f"parameter '{name}': 'log' must be true or false")
        if log and low <= 0:
            raise SpaceError(f"parameter '{name}': a log scale needs low > 0, got {low}")
        if values is not None and any(not low <= v <= high for v in values):
            raise SpaceError(f"parameter '{name}': every value must lie in [{low}, {high}]")
        self.low, self.high, self.log = low, high, log
        self.values = list(values) if values is not None else None
        # the discrete values in order (a 'values' list, once each), or None
        self.levels: list | None = sorted(set(self.values)) if self.values is not None else None
        self.step = self._check_step(step)
        self._places = 0
        if isinstance(self.step, float):
            if not (self.high - self.low) / self.step < MAX_INT_BOUND:
                raise SpaceError(f"parameter '{name}': 'step' ({self.step}) gives more than "
                                 f"2**53 values from {self.low} to {self.high}; use a larger "
                                 "step, or none")
            self._places = max(_decimals(self.low), _decimals(self.step))
            self._n = self._steps(self.high - self.low) + 1
            last = self._at(self._n - 1)
            if not math.isclose(last, self.high, rel_tol=1e-9, abs_tol=1e-12 * self.step):
                _note(f"parameter '{name}': high ({self.high}) is not on the step {self.step} "
                      f"from low ({self.low}); the last value is {last} (as in Optuna)")
            self.high = last
        elif self.step is not None:
            count, rest = divmod(self.high - self.low, self.step)
            self._n = count + 1
            if rest:
                last = self.low + count * self.step
                _note(f"parameter '{name}': high ({self.high}) is not on the step {self.step} "
                      f"from low ({self.low}); the last value is {last} (as in Optuna)")
                self.high = last

    def _check_step(self, step: Any) -> Any:
        """The step as given (an int for Int, a float for Float); Int's default is 1."""
        name = self.name
        if step is None:
            return 1 if self.kind is int and self.levels is None else None
        step = _plain(step)
        if isinstance(step, bool) or not isinstance(step, int | float) or not (
                math.isfinite(step) and step > 0):
            raise SpaceError(f"parameter '{name}': 'step' must be a number > 0, got {_show(step)}")
        if self.kind is int:
            if isinstance(step, float) and not step.is_integer():
                raise SpaceError(f"parameter '{name}': 'step' must be an integer, got {step!r}")
            step = int(step)
        else:
            step = float(step)
        if self.log and not (self.kind is int and step == 1):
            raise SpaceError(f"parameter '{name}': give 'step' or 'log: true', not both (a step "
                             "is even on a linear scale)")
        if step > self.high - self.low:
            raise SpaceError(f"parameter '{name}': 'step' ({step}) is larger than high - low "
                             f"({self.high - self.low}), which leaves one value; use a const")
        return step

    def _steps(self, width: float) -> int:
        """How many whole steps fit in ``width`` (a float step: allowing rounding)."""
        return int(math.floor(width / self.step + 1e-9))

    def _at(self, k: int) -> Any:
        """The k-th value on the step."""
        if self.kind is int:
            return self.low + k * self.step
        return float(round(self.low + k * self.step, self._places))

    @property
    def discrete(self) -> bool:
        """Whether the dimension is a list of values (int, a ``step`` or ``values``)."""
        return self.levels is not None or self.step is not None

    def count(self) -> int | None:
        """How many values the dimension holds (None for a float range without a step)."""
        if self.levels is not None:
            return len(self.levels)
        if self.step is None:
            return None
        return self._n

    def _index(self, value: float) -> int:
        """The index of the value nearest to ``value`` (on the log scale for log: true)."""
        if self.levels is not None:
            levels = self.levels
            i = bisect.bisect_left(levels, value)
            if i <= 0:
                return 0
            if i >= len(levels):
                return len(levels) - 1
            lo, hi = levels[i - 1], levels[i]
            if self.log:
                closer_low = math.log(value) - math.log(lo) <= math.log(hi) - math.log(value)
            else:
                closer_low = value - lo <= hi - value
            return i - 1 if closer_low else i
        k = (value - self.low) / self.step
        return int(min(max(math.floor(k + 0.5), 0), self._n - 1))

    def nearest(self, value: Any) -> Any:
        """The allowed value nearest to a number (the dimension's own type)."""
        value = _plain(value)
        if self.levels is not None:
            return self.levels[self._index(value)]
        if self.step is not None and not (self.kind is int and self.step == 1):
            return self._at(self._index(value))
        if self.kind is int:
            return int(min(max(round(value), self.low), self.high))
        return float(min(max(value, self.low), self.high))

    def snap(self, value: Any) -> Any:
        """A proposal moved onto the step or the values; anything else (not a number,
        outside low..high) is left for :meth:`Space.validate` to refuse."""
        plain = _plain(value)
        if not self.discrete or isinstance(plain, bool) or not isinstance(plain, int | float):
            return value
        if not (math.isfinite(plain) and self._within(plain)):
            return value
        if self.kind is int and self.step == 1 and self.levels is None:
            return value
        return self.nearest(plain)

    def _coerce(self, value: Any, what: str) -> Any:
        value = _plain(value)
        name = self.name
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpaceError(f"parameter '{name}': '{what}' must be a number, got {_show(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise SpaceError(f"parameter '{name}': '{what}' must be finite, got {value!r}")
        if self.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise SpaceError(
                    f"parameter '{name}': '{what}' must be an integer, got {value!r}"
                )
            if abs(value) > MAX_INT_BOUND:
                written = " (written as a float)" if isinstance(value, float) else ""
                raise SpaceError(
                    f"parameter '{name}': '{what}' is {_show(value)}{written}, beyond the "
                    f"int range of ±{MAX_INT_BOUND} (2**53); use smaller bounds, or a float "
                    "with log: true for a range that wide"
                )
            return int(value)
        try:
            return float(value)
        except OverflowError:
            raise SpaceError(
                f"parameter '{name}': '{what}' is {_show(value)}, too large for a float"
            ) from None

    def contains(self, value: Any) -> bool:
        value = _plain(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if isinstance(value, float) and not (math.isfinite(value) and (
                self.kind is float or value.is_integer())):
            return False
        if not self._within(value):
            return False
        if self.levels is not None or isinstance(self.step, float):
            near = self.nearest(value)
            return near == value or (self.kind is float and math.isclose(
                near, value, rel_tol=1e-9, abs_tol=1e-12 * (self.step or 1.0)))
        if self.step is not None and self.step != 1:
            return (int(value) - self.low) % self.step == 0
        return True

    def _within(self, value: float) -> bool:
        """low <= value <= high; for a float on a step or values, up to rounding (0.1 +
        0.8 is 0.9000000000000001, and 0.9 is meant)."""
        if self.low <= value <= self.high:
            return True
        if self.kind is int or not self.discrete:
            return False
        slack = 1e-9 * (self.step or (self.high - self.low))
        return self.low - slack <= value <= self.high + slack

    def _decode_discrete(self, u: float) -> Any:
        n = self.count()
        k = min(int(math.floor(min(max(float(u), 0.0), 1.0) * n)), n - 1)
        return self.levels[k] if self.levels is not None else self._at(k)

    def _encode_discrete(self, value: Any) -> float:
        return (self._index(float(_plain(value))) + 0.5) / self.count()

    def grid_size(self, points: int = 3) -> int:
        if self.values is not None:
            return len(self.values)
        n = self.count()
        return max(int(points), 1) if n is None else n

    def grid(self, points: int = 3) -> list:
        if self.values is not None:
            return list(self.values)
        return [self._at(k) for k in range(self.count())]

    def _spec(self) -> dict:
        spec: dict = {"low": self.low, "high": self.high}
        if self.log:
            spec["log"] = True
        if self.values is not None:
            spec["values"] = list(self.values)
        if self.step is not None and not (self.kind is int and self.step == 1):
            spec["step"] = self.step
        return spec


class Float(_Numeric):
    """A real parameter on a linear or log scale, or on a ``step`` or a ``values`` list."""

    type_name = "float"
    kind = float

    def decode(self, u: float) -> float:
        if self.discrete:
            return self._decode_discrete(u)
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            value = math.exp(lo + u * (hi - lo))
        else:
            value = self.low + u * (self.high - self.low)
        return float(min(max(value, self.low), self.high))

    def encode(self, value: Any) -> float:
        if self.discrete:
            return self._encode_discrete(value)
        value = float(_plain(value))
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            return min(max((math.log(value) - lo) / (hi - lo), 0.0), 1.0)
        return min(max((value - self.low) / (self.high - self.low), 0.0), 1.0)

    def grid(self, points: int = 3) -> list[float]:
        if self.discrete:
            return super().grid(points)
        if points < 2:
            return [self.decode(0.5)]
        out = []
        for i in range(points):
            u = i / (points - 1)
            value = self.decode(u)
            out.append(float(f"{value:.12g}"))  # 0.001, 0.01, 0.1 instead of 0.009999999
        return out


class Int(_Numeric):
    """An integer parameter; ``decode`` bins the unit interval (the notebook's floor trick),
    one bin per allowed value (every ``step``-th from ``low``, or the ``values``)."""

    type_name = "int"
    kind = int

    def decode(self, u: float) -> int:
        if not self.log or self.levels is not None:
            return int(self._decode_discrete(u))
        u = min(max(float(u), 0.0), 1.0)
        lo, hi = math.log(self.low), math.log(self.high)
        value = round(math.exp(lo + u * (hi - lo)))
        return int(min(max(value, self.low), self.high))

    def encode(self, value: Any) -> float:
        if not self.log or self.levels is not None:
            return self._encode_discrete(value)
        value = int(_plain(value))
        lo, hi = math.log(self.low), math.log(self.high)
        return min(max((math.log(value) - lo) / (hi - lo), 0.0), 1.0)

    def count(self) -> int:
        if self.levels is not None:
            return len(self.levels)
        return (self.high - self.low) // self.step + 1

    def grid(self, points: int = 3) -> list[int]:
        if self.values is not None:
            return list(self.values)
        return list(range(self.low, self.high + 1, self.step))


class Categorical(Dimension):
    """A choice among values (strings, numbers, booleans)."""

    type_name = "categorical"

    def __init__(self, name: str, choices: Sequence[Any], *, condition: Any = None) -> None:
        super().__init__(name, condition)
        if isinstance(choices, str | bytes) or not isinstance(choices, Sequence) or not choices:
            raise SpaceError(f"parameter '{name}': 'choices' must be a non-empty list")
        choices = [_plain(c) for c in choices]
        for c in choices:
            if not isinstance(c, str | int | float | bool) and c is not None:
                raise SpaceError(
                    f"parameter '{name}': choices must be strings, numbers or booleans, "
                    f"got {_show(c)}"
                )
            if isinstance(c, float) and not math.isfinite(c):
                raise SpaceError(f"parameter '{name}': choices must be finite, got {c!r}")
        if len({json.dumps(c) for c in choices}) != len(choices):
            raise SpaceError(f"parameter '{name}': choices must be distinct")
        self.choices = list(choices)

    def decode(self, u: float) -> Any:
        u = min(max(float(u), 0.0), 1.0)
        return self.choices[min(int(math.floor(u * len(self.choices))), len(self.choices) - 1)]

    def index(self, value: Any) -> int:
        value = _plain(value)
        for i, c in enumerate(self.choices):
            if c == value and type(c) is type(value) or (
                isinstance(c, int | float)
                and not isinstance(c, bool)
                and isinstance(value, int | float)
                and not isinstance(value, bool)
                and c == value
            ):
                return i
        raise SpaceError(f"parameter '{self.name}': {value!r} is not one of {self.choices}")

    def encode(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def grid(self, points: int = 3) -> list[Any]:
        return list(self.choices)

    def contains(self, value: Any) -> bool:
        try:
            self.index(value)
        except SpaceError:
            return False
        return True

    def _spec(self) -> dict:
        return {"choices": list(self.choices)}


class Bool(Categorical):
    """True or False (``{type: bool}``): a choice of two, stored as JSON true/false."""

    type_name = "bool"

    def __init__(self, name: str, *, condition: Any = None) -> None:
        super().__init__(name, [False, True], condition=condition)

    def _spec(self) -> dict:
        return {}


class Constant(Dimension):
    """A fixed value; not searched, but handed to the objective with every trial."""

    type_name = "const"
    searchable = False

    def __init__(self, name: str, value: Any, *, condition: Any = None) -> None:
        super().__init__(name, condition)
        self.value = _plain(value)
        _check_plain(name, "a const value", self.value)

    def decode(self, u: float) -> Any:
        return self.value

    def encode(self, value: Any) -> float:
        return 0.5

    def grid(self, points: int = 3) -> list[Any]:
        return [self.value]

    def contains(self, value: Any) -> bool:
        return _plain(value) == self.value

    def _spec(self) -> dict:
        return {"value": self.value}


def _parse_condition(name: str, condition: Any) -> tuple[Clause, ...]:
    if condition is None:
        return ()
    if isinstance(condition, Clause):
        return (condition,)
    if isinstance(condition, Sequence) and not isinstance(condition, str) and all(
        isinstance(c, Clause) for c in condition
    ):
        return tuple(condition)
    if not isinstance(condition, Mapping) or not condition:
        raise SpaceError(
            f"parameter '{name}': 'condition' must map a parameter to a value, a list of values "
            "or {op: value} with op in " + ", ".join(_OPS)
        )
    clauses = []
    for parent, test in condition.items():
        if isinstance(test, Mapping):
            if not test:
                raise SpaceError(f"parameter '{name}': empty condition on '{parent}'")
            for op, value in test.items():
                if op not in _OPS:
                    raise SpaceError(
                        f"parameter '{name}': unknown condition operator '{op}' "
                        f"(use one of: {', '.join(_OPS)})"
                    )
                if op in ("in", "not_in"):
                    if isinstance(value, str) or not isinstance(value, Sequence):
                        raise SpaceError(f"parameter '{name}': '{op}' needs a list")
                    value = [_plain(v) for v in value]
                clauses.append(Clause(str(parent), op, _plain(value)))
        elif isinstance(test, Sequence) and not isinstance(test, str):
            clauses.append(Clause(str(parent), "in", [_plain(v) for v in test]))
        else:
            clauses.append(Clause(str(parent), "eq", _plain(test)))
    for clause in clauses:
        _check_plain(name, f"the condition on '{clause.param}'", clause.value)
    return tuple(clauses)


_TYPE_ALIASES = {
    "int": "int",
    "integer": "int",
    "float": "float",
    "real": "float",
    "categorical": "categorical",
    "choice": "categorical",
    "const": "const",
    "constant": "const",
    "bool": "bool",
    "boolean": "bool",
}
_KEYS = {
    "int": {"type", "low", "high", "log", "step", "values", "condition"},
    "float": {"type", "low", "high", "log", "step", "values", "condition"},
    "categorical": {"type", "choices", "values", "condition"},
    "const": {"type", "value", "condition"},
    "bool": {"type", "condition"},
}


#: the names a space file may use for the data's shape (``Dataset.shape_values()``)
SHAPE_NAMES = ("n_features", "n_classes", "n_rows")
_MAX_EXPRESSION = 100
_ARITHMETIC = {"Add": lambda a, b: a + b, "Sub": lambda a, b: a - b,
               "Mult": lambda a, b: a * b, "Div": lambda a, b: a / b,
               "FloorDiv": lambda a, b: a // b}


def _resolve(name: str, what: str, value: Any, context: Mapping[str, Any] | None) -> Any:
    """A number field written as a name of the data's shape (``n_features``, or a little
    arithmetic on it: ``n_features // 2``) replaced by its value; other values unchanged."""
    if not isinstance(value, str) or len(value) > _MAX_EXPRESSION:
        return value
    import ast

    try:
        tree = ast.parse(value.strip(), mode="eval")
    except SyntaxError:
        return value
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
    known = dict(context or {})
    if not names or not known and not set(names) & set(SHAPE_NAMES):
        return value  # a quoted number, or a word: "'low' must be a number"
    for symbol in names:
        if symbol in known:
            continue
        if not known:
            raise SpaceError(
                f"parameter '{name}': '{what}' is {value!r}, and '{symbol}' is known only "
                "where hpo-run builds the space with its dataset; give a number, or "
                f"Space.from_dict(..., context={{'{symbol}': ...}})")
        import difflib

        close = difflib.get_close_matches(symbol, list(known), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise SpaceError(f"parameter '{name}': '{what}' refers to unknown name '{symbol}' "
                         f"({hint}known: {', '.join(sorted(known))})")

    def evaluate(node: Any) -> Any:
        if isinstance(node, ast.Expression):
            return evaluate(node.body)
        if isinstance(node, ast.Name):
            return _plain(known[node.id])
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and \
                not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = evaluate(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op).__name__ in _ARITHMETIC:
            return _ARITHMETIC[type(node.op).__name__](evaluate(node.left), evaluate(node.right))
        raise SpaceError(f"parameter '{name}': '{what}' is {value!r}: only a name of the data's "
                         "shape, numbers and + - * / // are allowed")

    try:
        result = evaluate(tree)
    except ZeroDivisionError:
        raise SpaceError(f"parameter '{name}': '{what}' is {value!r}, a division by zero "
                         "here") from None
    if isinstance(result, float) and result.is_integer():
        result = int(result)
    return result


def dimension_from_spec(name: str, spec: Any,
                        context: Mapping[str, Any] | None = None) -> Dimension:
    """Build one dimension from its schema entry (a mapping, a list, or a scalar).

    ``context`` maps the names an int or float's ``low``, ``high``, ``step`` and
    ``values`` may use (the data's shape: ``Dataset.shape_values()``) to numbers."""
    if isinstance(spec, Dimension):
        return spec
    if isinstance(spec, list | tuple):
        return Categorical(name, list(spec))
    if not isinstance(spec, Mapping):
        return Constant(name, spec)
    if "type" not in spec:
        raise SpaceError(
            f"parameter '{name}': missing 'type' (one of: int, float, bool, categorical, const)"
        )
    kind = _TYPE_ALIASES.get(str(spec["type"]).lower())
    if kind is None:
        raise SpaceError(
            f"parameter '{name}': unknown type '{spec['type']}' (use int, float, bool, "
            "categorical or const)"
        )
    unknown = sorted(set(spec) - _KEYS[kind])
    if unknown:
        raise SpaceError(
            f"parameter '{name}': unknown key '{unknown[0]}' for type {kind} "
            f"(accepted: {', '.join(sorted(_KEYS[kind]))})"
        )
    condition = spec.get("condition")
    if kind in ("int", "float"):
        fields = {key: _resolve(name, key, spec.get(key), context)
                  for key in ("low", "high", "step")}
        values = spec.get("values")
        if isinstance(values, Sequence) and not isinstance(values, str | bytes):
            values = [_resolve(name, "values", v, context) for v in values]
        cls = Int if kind == "int" else Float
        return cls(name, fields["low"], fields["high"], log=spec.get("log", False),
                   values=values, step=fields["step"], condition=condition)
    if kind == "bool":
        return Bool(name, condition=condition)
    if kind == "categorical":
        choices = spec.get("choices", spec.get("values"))
        return Categorical(name, choices, condition=condition)
    if "value" not in spec:
        raise SpaceError(f"parameter '{name}': a const needs 'value'")
    return Constant(name, spec["value"], condition=condition)


class Space:
    """An ordered set of dimensions; parents of a condition come before their children."""

    def __init__(self, dimensions: Sequence[Dimension]) -> None:
        dims = list(dimensions)
        if not dims:
            raise SpaceError("the search space is empty: give at least one parameter")
        names = [d.name for d in dims]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SpaceError(f"parameter '{dupes[0]}' is defined twice")
        by_name = {d.name: d for d in dims}
        for d in dims:
            for clause in d.condition:
                if clause.param not in by_name:
                    raise SpaceError(
                        f"parameter '{d.name}': condition on unknown parameter '{clause.param}'"
                    )
                if clause.param == d.name:
                    raise SpaceError(f"parameter '{d.name}': a condition cannot refer to itself")
        self.dimensions: list[Dimension] = _topological(dims)
        self._by_name = {d.name: d for d in self.dimensions}

    # construction -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, spec: Mapping[str, Any] | Space,
                  context: Mapping[str, Any] | None = None) -> Space:
        """A space from its schema. ``context``: the numbers that names in an int or
        float's bounds stand for (``{"n_features": 64}`` for ``high: n_features``;
        ``Dataset.shape_values()`` gives it for a dataset); a name it lacks is one line."""
        if isinstance(spec, Space):
            return spec
        if not isinstance(spec, Mapping):
            raise SpaceError(
                "a search space must be a mapping of parameter name to its definition"
            )
        return cls([dimension_from_spec(str(name), s, context) for name, s in spec.items()])

    @classmethod
    def from_file(cls, path: str | Path, context: Mapping[str, Any] | None = None) -> Space:
        """A space from a YAML, JSON or TOML file (``context`` as :meth:`from_dict`)."""
        path = Path(path)
        try:
            data = load_structured_file(path)
            if isinstance(data, Mapping) and set(data) == {"space"}:
                data = data["space"]
            return cls.from_dict(data, context)
        except SpaceError as exc:
            raise SpaceError(f"space file {path}: {exc}") from None

    # views --------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    @property
    def searchable(self) -> list[Dimension]:
        return [d for d in self.dimensions if d.searchable]

    def __getitem__(self, name: str) -> Dimension:
        return self._by_name[name]

    def __iter__(self) -> Iterator[Dimension]:
        return iter(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Space({self.dimensions!r})"

    def to_dict(self) -> dict:
        return {d.name: d.to_dict() for d in self.dimensions}

    def describe_difference(
        self, other: Space | Mapping[str, Any], *, this: str = "this run",
        that: str = "the stored space",
    ) -> str | None:
        """Where ``other`` differs from this space, in one line; None when they are equal.

        ``other`` may be a stored ``to_dict()`` that no longer builds a Space. Each
        difference names the parameter and the field and shows both values.
        """
        return describe_space_difference(other, self, old_label=that, new_label=this)

    # operations ---------------------------------------------------------------------
    def snap(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A strategy's proposal moved onto what each dimension allows (its ``step`` or
        ``values``), so every strategy honours them; the Study calls it on every proposal
        before checking it. Values already allowed are returned unchanged; a value that no
        nearest value can be found for (not a number, outside low..high) is left for
        :meth:`validate` to refuse."""
        out = dict(params)
        for name, value in params.items():
            d = self._by_name.get(name)
            if d is not None:
                out[name] = d.snap(value)
        return out

    def active(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Keep the parameters whose conditions hold, in space order."""
        out: dict[str, Any] = {}
        for d in self.dimensions:
            if d.name in params and d.is_active(out):
                out[d.name] = _plain(params[d.name])
        return out

    def sample(self, rng: random.Random | int | Any = None) -> dict[str, Any]:
        """One random configuration (uniform in the encoding), inactive parameters left out.

        ``rng``: a :class:`random.Random` (drawn from), an int seed or None, or a numpy
        ``Generator`` (a seed is drawn from it). Strategies may read each dimension's
        ``name``, ``type_name``, ``low``/``high``/``log``/``values``/``step`` (Float,
        Int; ``levels``: the values in order, once each, or None; ``count()``: how many
        values a discrete one has; ``nearest(x)``: the allowed value nearest to a number),
        ``choices`` (Categorical, and Bool: ``[False, True]``), ``value`` (Constant) and
        ``condition`` (the clauses that make it active: :meth:`Dimension.is_active`)."""
        if hasattr(rng, "integers") and not isinstance(rng, random.Random):  # numpy
            rng = random.Random(int(rng.integers(2**62)))
        elif not isinstance(rng, random.Random):
            rng = random.Random(rng)
        u = [rng.random() for _ in self.searchable]
        return self.decode(u)

    def decode(self, u: Sequence[float]) -> dict[str, Any]:
        """Map a point of the unit cube (one coordinate per searchable dimension) to params."""
        searchable = self.searchable
        if len(u) != len(searchable):
            raise SpaceError(f"expected {len(searchable)} coordinates, got {len(u)}")
        coords = {d.name: float(x) for d, x in zip(searchable, u, strict=True)}
        params: dict[str, Any] = {}
        for d in self.dimensions:
            if d.is_active(params):
                params[d.name] = d.decode(coords.get(d.name, 0.5))
        return params

    def encode(self, params: Mapping[str, Any]) -> list[float]:
        """The inverse of :meth:`decode`; inactive or missing parameters encode to 0.5."""
        return [
            d.encode(params[d.name]) if d.name in params else 0.5 for d in self.searchable
        ]

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a configuration (from a user, a file or a strategy); return its active part."""
        unknown = sorted(set(params) - set(self._by_name))
        if unknown:
            raise SpaceError(f"unknown parameter '{unknown[0]}' (space has: {', '.join(self.names)})")
        out: dict[str, Any] = {}
        for d in self.dimensions:
            if not d.is_active(out):
                continue
            if d.name not in params:
                if isinstance(d, Constant):
                    out[d.name] = d.value
                    continue
                raise SpaceError(f"parameter '{d.name}' is missing")
            value = _plain(params[d.name])
            if not d.contains(value):
                raise SpaceError(f"parameter '{d.name}': {_show(value)} is "
                                 f"{_off(d, value)}")
            out[d.name] = d.snap(int(value) if isinstance(d, Int) else value)
        return out

    def grid_size(self, points: int = 3, limit: int = MAX_GRID_SIZE) -> int:
        """How many points :meth:`grid` would build, counted without building them.

        Raises SpaceError (one line that says what to do) when it exceeds ``limit``.
        Only the values of condition parents are enumerated; other dimensions multiply.
        """
        parents = {clause.param for d in self.dimensions for clause in d.condition}
        branches: list[tuple[dict[str, Any], int]] = [({}, 1)]  # parents' values, points
        total = 1
        for d in self.dimensions:
            size = d.grid_size(points)
            if size > limit:
                raise SpaceError(_grid_too_large(limit, f"parameter '{d.name}' alone has "
                                                        f"{size} values"))
            active = [d.is_active(partial) for partial, _ in branches]
            total = sum(n * size if a else n for (_, n), a in zip(branches, active, strict=True))
            if total > limit:
                raise SpaceError(_grid_too_large(limit, f"{total} once parameter '{d.name}' "
                                                        "is added"))
            if d.name in parents:
                values = d.grid(points)
                branches = [
                    pair
                    for (partial, n), a in zip(branches, active, strict=True)
                    for pair in ([({**partial, d.name: v}, n) for v in values] if a
                                 else [(partial, n)])
                ]
            else:
                branches = [(partial, n * size if a else n)
                            for (partial, n), a in zip(branches, active, strict=True)]
        return total

    def grid(self, points: int = 3, limit: int = MAX_GRID_SIZE) -> list[dict[str, Any]]:
        """Full factorial; a dimension inactive in a branch does not multiply that branch.

        Raises SpaceError, before building anything, when the grid would have more than
        ``limit`` points (see :meth:`grid_size`).
        """
        self.grid_size(points, limit)
        branches: list[dict[str, Any]] = [{}]
        for d in self.dimensions:
            values = d.grid(points)
            nxt = []
            for partial in branches:
                if d.is_active(partial):
                    nxt.extend({**partial, d.name: v} for v in values)
                else:
                    nxt.append(partial)
            branches = nxt
        return branches

    def key(self, params: Mapping[str, Any]) -> str:
        """A canonical string of a configuration, to spot duplicates."""
        return json.dumps(self.active(params), sort_keys=True, default=str)


def _off(d: Dimension, value: Any) -> str:
    """Why a value is not in a dimension: off its step or values (and the nearest), or
    outside it."""
    if isinstance(d, _Numeric) and d.discrete and not (d.kind is int and d.step == 1):
        plain = _plain(value)
        if isinstance(plain, int | float) and not isinstance(plain, bool) and \
                math.isfinite(plain) and d.low <= plain <= d.high:
            where = (f"one of its values {_show(d.values)}" if d.levels is not None
                     else f"on its step {d.step} from {d.low}")
            return f"not {where} (nearest: {d.nearest(plain)})"
    if isinstance(d, Bool):
        return "not true or false"
    return f"outside {d._spec()}"


def _grid_too_large(limit: int, why: str) -> str:
    return (
        f"the grid would have more than {limit} points ({why}); give int and float "
        "parameters a 'values' list, use fewer grid points, or another strategy (random, bayes)"
    )


def describe_space_difference(
    old: Space | Mapping[str, Any], new: Space | Mapping[str, Any], *,
    old_label: str = "the stored space", new_label: str = "this run", most: int = 5,
) -> str | None:
    """Where two spaces (or their ``to_dict()``) differ, in one line; None when equal.

    ``"parameter 'lr': high is 0.1 in the stored space, 0.5 in this run; parameter 'x'
    is only in this run"``. Each value is shown on its own (cut at 60 characters), and
    for lists the choices added and dropped are named.
    """
    a = old.to_dict() if isinstance(old, Space) else dict(old)
    b = new.to_dict() if isinstance(new, Space) else dict(new)
    found: list[str] = []
    for name in [*a, *(n for n in b if n not in a)]:
        if name not in b:
            found.append(f"parameter '{name}' is only in {old_label}")
        elif name not in a:
            found.append(f"parameter '{name}' is only in {new_label}")
        elif a[name] != b[name]:
            found.append(f"parameter '{name}': " + _field_difference(a[name], b[name],
                                                                    old_label, new_label))
    if not found:
        return None
    more = len(found) - most
    return "; ".join(found[:most]) + (f"; and {more} more" if more > 0 else "")


def _field_difference(a: Any, b: Any, old_label: str, new_label: str) -> str:
    if not (isinstance(a, Mapping) and isinstance(b, Mapping)):
        return f"{_show(a)} in {old_label}, {_show(b)} in {new_label}"
    parts = []
    for key in [*a, *(k for k in b if k not in a)]:
        if key not in b:
            parts.append(f"{key} {_show(a[key])} only in {old_label}")
        elif key not in a:
            parts.append(f"{key} {_show(b[key])} only in {new_label}")
        elif a[key] != b[key]:
            x, y = a[key], b[key]
            if isinstance(x, list) and isinstance(y, list):
                dropped = [v for v in x if v not in y]
                added = [v for v in y if v not in x]
                if dropped or added:
                    change = ", ".join(
                        [*(f"adds {_show(v)}" for v in added[:3]),
                         *(f"drops {_show(v)}" for v in dropped[:3])])
                    parts.append(f"{key}: {new_label} {change}")
                    continue
                if len(x) == len(y):
                    parts.append(f"{key}: the same values in another order in {new_label}")
                    continue
            parts.append(f"{key} is {_show(x)} in {old_label}, {_show(y)} in {new_label}")
    return ", ".join(parts)


def _topological(dims: list[Dimension]) -> list[Dimension]:
    by_name = {d.name: d for d in dims}
    done: dict[str, Dimension] = {}
    visiting: set[str] = set()

    def visit(d: Dimension) -> None:
        if d.name in done:
            return
        if d.name in visiting:
            raise SpaceError(f"parameter '{d.name}': conditions form a cycle")
        visiting.add(d.name)
        for clause in d.condition:
            visit(by_name[clause.param])
        visiting.discard(d.name)
        done[d.name] = d

    for d in dims:
        visit(d)
    return list(done.values())


_KIND = {
    stat.S_IFDIR: "a directory", stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device", stat.S_IFIFO: "a pipe", stat.S_IFSOCK: "a socket",
}
_SUFFIXES = (".yaml", ".yml", ".json", ".toml")


def _regular_file(path: Path) -> os.stat_result:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SpaceError(f"no such file: {path}") from None
    except OSError as exc:
        raise SpaceError(f"cannot read it: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = _KIND.get(stat.S_IFMT(info.st_mode), "not a plain file")
        raise SpaceError(f"is {kind}, not a regular space file; give a .yaml, .json or .toml file")
    return info


def read_space_text(path: Path, limit: int = MAX_SPACE_FILE_BYTES) -> str:
    """A small regular UTF-8 file's text; anything else is a one-line SpaceError.

    Never opens a device or a pipe (``/dev/zero``, ``<(cmd)``), never reads more than
    ``limit`` bytes. Messages do not repeat the path: the caller names the file.
    """
    if _regular_file(path).st_size > limit:
        raise SpaceError(_too_big(limit))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since stat()
                raise SpaceError("is not a regular space file")
            data = handle.read(limit + 1)
    except OSError as exc:
        raise SpaceError(f"cannot read it: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise SpaceError(_too_big(limit))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpaceError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, column "
            f"{column}); save it as UTF-8"
        ) from None


def _too_big(limit: int) -> str:
    return (f"is larger than {limit // 1024} KiB, too large for a space file; give int and "
            "float ranges instead of long value lists")


_TOML_AT = re.compile(r"^(.*?)\s*\(at line (\d+), column (\d+)\)\s*$")


def load_structured_file(path: Path) -> Any:
    """Read a YAML, JSON or TOML file by its extension; errors become one-line SpaceErrors
    that do not repeat the path (:meth:`Space.from_file` puts it in front)."""
    path = Path(path)
    _regular_file(path)
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise SpaceError(f"unsupported file type '{suffix}' (use .yaml, .yml, .json or .toml)")
    text = read_space_text(path)
    where = f"cannot parse {path.name}"
    try:
        if suffix == ".json":
            return json.loads(text, object_pairs_hook=_json_object)
        if suffix == ".toml":
            import tomllib

            return tomllib.loads(text)
        return load_yaml(text)
    except json.JSONDecodeError as exc:
        raise SpaceError(f"{where}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise SpaceError(f"{where}: nested too deeply") from None
    except SpaceError as exc:
        raise SpaceError(f"{where}: {exc}") from None
    except Exception as exc:  # parse errors of three libraries, one message
        message = yaml_error_line(exc)
        if "integer string conversion" in message:
            message = "a number has more than 4300 digits"
        toml = _TOML_AT.match(message)
        if toml:
            message = f"line {toml.group(2)}, column {toml.group(3)}: {toml.group(1)}"
        raise SpaceError(f"{where}: {message}") from None


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SpaceError(f"key '{key}' is given twice: keep one")
        out[key] = value
    return out
