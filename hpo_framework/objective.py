"""Running one evaluation and turning whatever happened into an Outcome."""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from .errors import TrialPruned
from .trial import Outcome, TrialState

Objective = Callable[[dict[str, Any]], Any]


def error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def evaluate(objective: Objective, params: dict[str, Any]) -> Outcome:
    """Call the objective; exceptions, NaN and inf become FAILED outcomes, never raise.

    The objective returns a number, or a mapping with ``value`` and optional
    ``metrics`` (dict), ``intermediate`` (list) and ``user_attrs`` (dict).
    """
    start = time.perf_counter()
    try:
        result = objective(dict(params))
    except TrialPruned as exc:
        return Outcome(TrialState.PRUNED, error=str(exc) or None,
                       duration=time.perf_counter() - start)
    except Exception as exc:
        tb = traceback.format_exc(limit=-3)
        return Outcome(TrialState.FAILED, error=error_text(exc),
                       duration=time.perf_counter() - start, user_attrs={"traceback": tb})
    duration = time.perf_counter() - start
    metrics: dict[str, Any] = {}
    intermediate: list[Any] = []
    user_attrs: dict[str, Any] = {}
    if isinstance(result, Mapping):
        if "value" not in result:
            return Outcome(TrialState.FAILED, error="objective returned a mapping without 'value'",
                           duration=duration)
        metrics = dict(result.get("metrics") or {})
        intermediate = list(result.get("intermediate") or [])
        user_attrs = dict(result.get("user_attrs") or {})
        result = result["value"]
    try:
        value = float(result)
    except (TypeError, ValueError):
        return Outcome(TrialState.FAILED,
                       error=f"objective returned {type(result).__name__}, not a number",
                       duration=duration, metrics=metrics)
    if not math.isfinite(value):
        return Outcome(TrialState.FAILED, error=f"objective returned {value}", duration=duration,
                       metrics=metrics, intermediate=intermediate)
    return Outcome(TrialState.COMPLETE, value=value, metrics=metrics, intermediate=intermediate,
                   duration=duration, user_attrs=user_attrs)
