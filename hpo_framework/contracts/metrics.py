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


def _rmse(y, pred, proba=None) -> float:
    return _mse(y, pred) ** 0.5


def _mae(y, pred, proba=None) -> float:
    import numpy as np

    return float(np.mean(np.abs(np.asarray(y, dtype=float) - np.asarray(pred, dtype=float))))


def _binary_auc(positive, score) -> float:
    """Area under the ROC curve: the Mann-Whitney U statistic, tied scores counted half."""
    import numpy as np

    n_pos = int(np.sum(positive))
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return 0.5  # one class only: no ranking to judge
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=float)
    sorted_scores = np.asarray(score)[order]
    # average ranks over ties (1-based)
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _roc_auc(y, pred, proba) -> float:
    """Binary: AUC of the second column's probability; more classes: the macro average of
    one-vs-rest AUCs (scikit-learn's ``roc_auc_score(multi_class="ovr")``). ``y`` holds
    column positions, as for log_loss."""
    import numpy as np

    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y).astype(int)
    if proba.ndim == 1 or proba.shape[1] == 1:
        return _binary_auc(y == 1, proba.reshape(len(proba)))
    if proba.shape[1] == 2:
        return _binary_auc(y == 1, proba[:, 1])
    present = [c for c in range(proba.shape[1]) if np.any(y == c)]
    return float(np.mean([_binary_auc(y == c, proba[:, c]) for c in present]))


def _r2(y, pred, proba=None) -> float:
    import numpy as np

    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    ss_tot = np.sum((y - y.mean()) ** 2)
    return float(1.0 - np.sum((y - pred) ** 2) / ss_tot) if ss_tot > 0 else 0.0


METRICS: dict[str, Metric] = {
    "accuracy": Metric("accuracy", "maximize", "classification", False, _accuracy),
    "log_loss": Metric("log_loss", "minimize", "classification", True, _log_loss),
    "f1_macro": Metric("f1_macro", "maximize", "classification", False, _f1_macro),
    "roc_auc": Metric("roc_auc", "maximize", "classification", True, _roc_auc),
    "mse": Metric("mse", "minimize", "regression", False, _mse),
    "r2": Metric("r2", "maximize", "regression", False, _r2),
    "rmse": Metric("rmse", "minimize", "regression", False, _rmse),
    "mae": Metric("mae", "minimize", "regression", False, _mae),
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
