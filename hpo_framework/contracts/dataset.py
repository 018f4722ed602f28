"""Datasets: arrays for training and testing, and what kind of target they have."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DatasetError
from ..options import Configurable


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
            raise DatasetError(f"dataset '{self.name}': task must be classification or "
                               f"regression, got {self.task!r}")
        if self.task == "classification" and self.n_classes is None:
            self.n_classes = int(len(np.unique(np.concatenate([self.y_train, self.y_test]))))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


class DatasetLoader(Configurable):
    """A dataset plugin: declared ``options`` (``-D key=value``, ``--data-path`` as
    ``path``), validated like every other kind's, and :meth:`load`.

    Raise :class:`hpo_framework.DatasetError` from ``load`` with a sentence that says what
    to do (a missing file: which file, where). A plain function ``loader(**options) ->
    Dataset`` is still accepted by ``register_datasets``, for plugins written before.
    """

    kind: ClassVar[str] = "dataset"

    def __init__(self, **options: Any) -> None:
        self.config = self.validate(options)

    def load(self) -> Dataset:
        raise NotImplementedError


ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def read_npz(path: Path, owner: str = "") -> dict[str, Any]:
    """The four arrays of a dataset ``.npz``; every problem is one DatasetError line."""
    import numpy as np

    prefix = f"dataset '{owner}': " if owner else ""
    if not path.is_file():
        raise DatasetError(f"{prefix}no such file: {path} (expected a .npz with "
                           f"{', '.join(ARRAYS)}, like Keras's mnist.npz)")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ARRAYS if k not in z]
            if missing:
                raise DatasetError(f"{prefix}{path}: missing array '{missing[0]}' "
                                   f"(need {', '.join(ARRAYS)})")
            return {k: z[k] for k in ARRAYS}
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"{prefix}{path}: not a readable .npz file "
                           f"({type(exc).__name__})") from None
