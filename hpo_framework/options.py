"""Declared, validated options for plugins (``--strategy-option kappa=5``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import OptionError

_MISSING = object()


@dataclass(frozen=True)
class Option:
    """One option: its default, type and allowed values, and a line of help."""

    default: Any = None
    type: type | tuple[type, ...] | None = None
    choices: Sequence[Any] | None = None
    low: float | None = None
    high: float | None = None
    help: str = ""
    nullable: bool = True

    def describe(self) -> str:
        if self.choices is not None:
            return "|".join(str(c) for c in self.choices)
        if self.type is not None:
            types = self.type if isinstance(self.type, tuple) else (self.type,)
            return "|".join(t.__name__ for t in types)
        return "value"


def parse_scalar(text: str) -> Any:
    """CLI text to a value: numbers, booleans, lists (YAML flow syntax), else the string."""
    import yaml

    try:
        return yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, Any]:
    """``["kappa=5", "acq_func=EI"]`` -> ``{"kappa": 5, "acq_func": "EI"}``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise OptionError(f"{what} '{pair}' must look like NAME=VALUE")
        key, _, text = pair.partition("=")
        out[key.strip().replace("-", "_")] = parse_scalar(text)
    return out


def validate_options(
    owner: str, spec: Mapping[str, Option], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Fill defaults and check names, types, choices and bounds; one-line errors."""
    unknown = sorted(set(given) - set(spec))
    if unknown:
        accepted = ", ".join(f"{k} ({o.describe()})" for k, o in spec.items()) or "none"
        raise OptionError(f"{owner}: unknown option '{unknown[0]}' (accepted: {accepted})")
    out: dict[str, Any] = {}
    for key, opt in spec.items():
        value = given.get(key, _MISSING)
        if value is _MISSING:
            out[key] = opt.default
            continue
        if value is None:
            if not opt.nullable:
                raise OptionError(f"{owner}: option '{key}' needs a value ({opt.describe()})")
            out[key] = None
            continue
        if opt.type is not None:
            types = opt.type if isinstance(opt.type, tuple) else (opt.type,)
            if float in types and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if bool not in types and isinstance(value, bool) or not isinstance(value, types):
                raise OptionError(
                    f"{owner}: option '{key}' must be {opt.describe()}, got {value!r}"
                )
        if opt.choices is not None and value not in opt.choices:
            raise OptionError(
                f"{owner}: option '{key}' must be one of {', '.join(map(str, opt.choices))}, "
                f"got {value!r}"
            )
        if opt.low is not None and value < opt.low:
            raise OptionError(f"{owner}: option '{key}' must be >= {opt.low}, got {value!r}")
        if opt.high is not None and value > opt.high:
            raise OptionError(f"{owner}: option '{key}' must be <= {opt.high}, got {value!r}")
        out[key] = value
    return out


class Configurable:
    """Base of plugin classes that take validated keyword options."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "plugin"
    options: ClassVar[dict[str, Option]] = {}

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        return validate_options(f"{cls.kind} '{cls.name or cls.__name__}'", cls.options, given)
