"""One way to write a value in a table cell or a line."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def fmt(value: Any) -> str:
    """A value for a table cell or a line: 4 significant digits, a mapping as k=v pairs."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"  # as stored (JSON) and written in a space file
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items())
    return str(value)


def header(column: str) -> str:
    """A column name for people: ``best_validation`` -> ``best validation``."""
    return column.replace("_", " ")
