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
            from .errors import DatasetError

            raise DatasetError(f"dataset '{self.name}': task must be classification or "
                               f"regression, got {self.task!r}")
        if self.task == "classification" and self.n_classes is None:
            self.n_classes = int(len(np.unique(np.concatenate([self.y_train, self.y_test]))))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])
