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
