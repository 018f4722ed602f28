"""Declared, validated options for plugins (``--strategy-option kappa=5``).

Also the one YAML reader of the framework (:func:`load_yaml`), shared with space files:
YAML 1.2 numbers (``1e-3`` is a float, as in JSON and TOML), no aliases (an alias bomb
cannot expand), no duplicate keys (a repeated key silently dropped the first value).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import OptionError

_MISSING = object()
INT64_MAX = 2**63 - 1  # what SQLite and numpy hold; larger ints are refused


@dataclass(frozen=True)
class Option:
    """One option: its default, type and allowed values, and a line of help.

    ``nullable`` (may the user give ``null``?) defaults to whether ``default`` is None: an
    option with a real default needs a real value.
    """

    default: Any = None
    type: type | tuple[type, ...] | None = None
    choices: Sequence[Any] | None = None
    low: float | None = None
    high: float | None = None
    help: str = ""
    nullable: bool | None = None

    def __post_init__(self) -> None:
        if self.nullable is None:
            object.__setattr__(self, "nullable", self.default is None)

    def describe(self) -> str:
        if self.choices is not None:
            return "|".join(str(c) for c in self.choices)
        if self.type is not None:
            return "|".join(t.__name__ for t in self._types())
        return "value"

    def _types(self) -> tuple[type, ...]:
        if self.type is None:
            return ()
        return self.type if isinstance(self.type, tuple) else (self.type,)


# --- YAML --------------------------------------------------------------------------------

_loader_cls: Any = None


def _yaml_loader() -> Any:
    """A safe loader (libyaml's when installed) without aliases and duplicate keys, with
    YAML 1.2 exponent floats."""
    global _loader_cls
    if _loader_cls is not None:
        return _loader_cls
    import yaml
    from yaml.constructor import ConstructorError

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_object(self, node: Any, deep: bool = False) -> Any:
            # a node met twice in a tree is an alias: refused, so no alias bomb expands
            if node in self.constructed_objects or node in self.recursive_objects:
                line = node.start_mark.line + 1 if node.start_mark else "?"
                raise ConstructorError(
                    None, None,
                    f"YAML aliases are not allowed (the value anchored at line {line} is "
                    "used again): write each value out",
                    node.start_mark,
                )
            return super().construct_object(node, deep)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise ConstructorError(
                            None, None, f"key '{key_node.value}' is given twice: keep one",
                            key_node.start_mark,
                        )
                    seen.add(key)
            return super().construct_mapping(node, deep)

    # PyYAML (YAML 1.1) reads 1e-3 and 1e29 as text; YAML 1.2, JSON and TOML as numbers
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )
    _loader_cls = Loader
    return Loader


def load_yaml(text: str) -> Any:
    """Parse YAML text with the framework's rules; raises ``yaml.YAMLError`` on bad text."""
    import yaml

    return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass


def yaml_error_line(exc: Exception) -> str:
    """One line for a YAML error: ``line L, column C: problem``."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or exc.context or type(exc).__name__
        return f"line {mark.line + 1}, column {mark.column + 1}: {_one_line(problem)}"
    return _one_line(str(exc)) or type(exc).__name__


# --- CLI text ----------------------------------------------------------------------------

def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(text: str) -> str:
    """User text as it may be printed in one line: escapes, no newlines, bounded."""
    return _clip(text.encode("unicode_escape", "backslashreplace").decode("ascii"))


def _int_text(value: int) -> str:
    """An int for a message; str() of a huge one is slow or refused (4300 digits)."""
    return str(value) if value.bit_length() <= 256 else f"an integer of {value.bit_length()} bits"


def parse_scalar(text: str) -> Any:
    """CLI text to a value: numbers, booleans, lists (YAML flow syntax), else the string.

    Raises OptionError for text that YAML refuses on purpose (an alias); text that is not
    YAML at all (``a: b: c``) stays a string.
    """
    import yaml

    if not text.strip():
        return text
    try:
        return load_yaml(text)
    except yaml.constructor.ConstructorError as exc:
        raise OptionError(yaml_error_line(exc)) from None
    except (yaml.YAMLError, ValueError, RecursionError):
        return text


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, Any]:
    """``["kappa=5", "acq_func=EI"]`` -> ``{"kappa": 5, "acq_func": "EI"}``; one-line errors."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise OptionError(f"{what} '{_show(pair)}' must look like NAME=VALUE")
        key, _, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not key:
            raise OptionError(f"{what} '{_show(pair)}' has no NAME: write NAME=VALUE")
        if key in out:
            raise OptionError(f"{what} '{_show(key)}' is given twice: give it once")
        try:
            out[key] = parse_scalar(text)
        except OptionError as exc:
            raise OptionError(f"{what} '{_show(key)}': {exc}") from None
    return out


# --- validation --------------------------------------------------------------------------

def non_finite(value: Any, depth: int = 0) -> float | None:
    """The first NaN or infinity in a value (numbers, lists, mappings), else None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else value
    if depth > 50:
        return None
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list | tuple):
        for item in value:
            found = non_finite(item, depth + 1)
            if found is not None:
                return found
    return None


def _check_value(owner: str, key: str, opt: Option, value: Any) -> Any:
    bad = non_finite(value)
    if bad is not None:
        what = "be a finite number" if isinstance(value, float) else "hold finite numbers only"
        raise OptionError(f"{owner}: option '{key}' must {what}, got {bad!r}")
    types = opt._types()
    if types:
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            try:
                value = float(value)
            except OverflowError:
                raise OptionError(
                    f"{owner}: option '{key}' is too large for a float, got {_int_text(value)}"
                ) from None
        if int in types and float not in types and isinstance(value, float):
            raise OptionError(
                f"{owner}: option '{key}' must be an integer, got {value!r}: write a whole "
                "number without '.' or an exponent"
            )
        if bool not in types and isinstance(value, bool) or not isinstance(value, types):
            raise OptionError(
                f"{owner}: option '{key}' must be {opt.describe()}, got {_clip(repr(value))}"
            )
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
        raise OptionError(
            f"{owner}: option '{key}' is too large ({_int_text(value)}): integers must fit "
            f"in 64 bits (at most {INT64_MAX})"
        )
    if opt.choices is not None and value not in opt.choices:
        raise OptionError(
            f"{owner}: option '{key}' must be one of {', '.join(map(str, opt.choices))}, "
            f"got {_clip(repr(value))}"
        )
    if opt.low is not None or opt.high is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OptionError(
                f"{owner}: option '{key}' must be a number, got {_clip(repr(value))}"
            )
        if opt.low is not None and value < opt.low:
            raise OptionError(f"{owner}: option '{key}' must be >= {opt.low}, got {value!r}")
        if opt.high is not None and value > opt.high:
            raise OptionError(f"{owner}: option '{key}' must be <= {opt.high}, got {value!r}")
    return value


def validate_options(
    owner: str, spec: Mapping[str, Option], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Fill defaults and check names, types, choices and bounds; one-line errors."""
    unknown = sorted(set(given) - set(spec), key=str)
    if unknown:
        accepted = ", ".join(f"{k} ({o.describe()})" for k, o in spec.items()) or "none"
        raise OptionError(
            f"{owner}: unknown option '{_show(str(unknown[0]))}' (accepted: {accepted})"
        )
    out: dict[str, Any] = {}
    for key, opt in spec.items():
        value = given.get(key, _MISSING)
        if value is _MISSING:
            out[key] = opt.default
            continue
        if value is None:
            if not opt.nullable:
                raise OptionError(
                    f"{owner}: option '{key}' needs a value ({opt.describe()}); "
                    f"leave it out for the default ({opt.default!r})"
                )
            out[key] = None
            continue
        out[key] = _check_value(owner, key, opt, value)
    return out


class Configurable:
    """Base of plugin classes that take validated keyword options."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "plugin"
    options: ClassVar[dict[str, Option]] = {}

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        return validate_options(f"{cls.kind} '{cls.name or cls.__name__}'", cls.options, given)
