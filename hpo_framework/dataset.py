"""Datasets: arrays for training and testing, and what kind of target they have."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Dataset:
    """Train and test arrays. ``task`` is "classification" or "regression"."""

    name: str
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    task: str = "classification"
    n_classes: int | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import numpy as np

        self.x_train = np.asarray(self.x_train)
        self.x_test = np.asarray(self.x_test)
        self.y_train = np.asarray(self.y_train)
        self.y_test = np.asarray(self.y_test)
        if self.task not in ("classification", "regression"):
            raise ValueError(f"task must be classification or regression, got {self.task!r}")
        if self.task == "classification" and self.n_classes is None:
            self.n_classes = int(len(np.unique(np.concatenate([self.y_train, self.y_test]))))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "n_classes": self.n_classes,
            "input_shape": list(self.input_shape),
            "n_train": int(len(self.x_train)),
            "n_test": int(len(self.x_test)),
        }
