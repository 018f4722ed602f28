"""Metrics computed with numpy only, so every backend is scored the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError


@dataclass(frozen=True)
class Metric:
    name: str
    direction: str  # "maximize" or "minimize"
    task: str  # "classification" or "regression"
    needs_proba: bool
    fn: Callable[..., float]


def _accuracy(y, pred, proba=None) -> float:
    import numpy as np

    return float(np.mean(np.asarray(y) == np.asarray(pred)))


def _log_loss(y, pred, proba) -> float:
    import numpy as np

    proba = np.clip(np.asarray(proba, dtype=float), 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    y = np.asarray(y).astype(int)
    return float(-np.mean(np.log(proba[np.arange(len(y)), y])))


def _f1_macro(y, pred, proba=None) -> float:
    import numpy as np

    y, pred = np.asarray(y), np.asarray(pred)
    scores = []
    for c in np.unique(np.concatenate([y, pred])):
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        denom = 2 * tp + fp + fn
        scores.append(0.0 if denom == 0 else 2 * tp / denom)
    return float(np.mean(scores))


def _mse(y, pred, proba=None) -> float:
    import numpy as np

    return float(np.mean((np.asarray(y, dtype=float) - np.asarray(pred, dtype=float)) ** 2))


def _r2(y, pred, proba=None) -> float:
    import numpy as np

    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    ss_tot = np.sum((y - y.mean()) ** 2)
    return float(1.0 - np.sum((y - pred) ** 2) / ss_tot) if ss_tot > 0 else 0.0


METRICS: dict[str, Metric] = {
    "accuracy": Metric("accuracy", "maximize", "classification", False, _accuracy),
    "log_loss": Metric("log_loss", "minimize", "classification", True, _log_loss),
    "f1_macro": Metric("f1_macro", "maximize", "classification", False, _f1_macro),
    "mse": Metric("mse", "minimize", "regression", False, _mse),
    "r2": Metric("r2", "maximize", "regression", False, _r2),
}
DEFAULT_METRIC = {"classification": "accuracy", "regression": "mse"}


def get_metric(name: str | None, task: str) -> Metric:
    name = name or DEFAULT_METRIC[task]
    if name not in METRICS:
        raise OptionError(f"unknown metric '{name}' (use one of: {', '.join(METRICS)})")
    metric = METRICS[name]
    if metric.task != task:
        usable = ", ".join(m.name for m in METRICS.values() if m.task == task)
        raise OptionError(f"metric '{name}' is for {metric.task}; this dataset is {task} (use {usable})")
    return metric


def score_all(task: str, y: Any, pred: Any, proba: Any = None) -> dict[str, float]:
    """Every metric of the task that can be computed from what the model gave."""
    out = {}
    for m in METRICS.values():
        if m.task != task or (m.needs_proba and proba is None):
            continue
        out[m.name] = m.fn(y, pred, proba)
    return out
