"""Measured ("deployment") metrics: what every backend's evaluation records beside the
scores, so that any study can optimize or constrain them (issue 25).

They are not scorer metrics (``contracts.metrics.get_metric`` does not resolve them):
the evaluation measures them while it trains and predicts, the same way for every trial.
"""

from __future__ import annotations

#: name -> (direction, what it is)
MEASURED: dict[str, tuple[str, str]] = {
    "n_params": ("minimize", "trainable parameters of the model"),
    "latency_ms": ("minimize", "mean prediction time per validation row, in milliseconds"),
    "train_s": ("minimize", "fit time in seconds"),
}


def is_measured(name: str) -> bool:
    return name in MEASURED


def measured_direction(name: str) -> str | None:
    """The direction of a measured metric (None: not a measured one)."""
    found = MEASURED.get(name)
    return None if found is None else found[0]


def _measured_not_scored(*args: object, **kwargs: object) -> float:
    raise TypeError("a measured metric is measured by the evaluation, not scored")


def measured_metric(name: str):  # -> Metric
    """The :class:`~hpo_framework.contracts.metrics.Metric` that asks an evaluation for a
    measured metric (``metrics=[measured_metric("latency_ms")]``): ``train_s`` and
    ``n_params`` cost nothing and are always recorded; ``latency_ms`` times extra
    predictions (a third of a 0.06 s keras trial), so it is measured only when asked."""
    from .metrics import Metric

    direction, _ = MEASURED[name]
    return Metric(name, direction, "any", False, _measured_not_scored, source="measured")
