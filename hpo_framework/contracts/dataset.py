"""Datasets: arrays for training and testing, and what kind of target they have."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DatasetError
from ..options import Configurable


@dataclass
class Dataset:
    """Train and test arrays. ``task`` is "classification" or "regression".

    No test set (``test_size=0``: every row is for the search, k-fold over all of them):
    pass ``x_test=None, y_test=None``; the test arrays are then empty, :attr:`has_test` is
    False and there is no final test (:func:`require_test`). Empty test arrays given as
    arrays are refused (a file that lost its test rows)."""

    name: str
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    task: str = "classification"
    n_classes: int | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    has_test: bool = True

    def __post_init__(self) -> None:
        import numpy as np

        if self.x_test is None and self.y_test is None:
            self.has_test = False
        self.x_train = np.asarray(self.x_train)
        self.y_train = np.asarray(self.y_train)
        if not self.has_test:  # no test set: empty arrays shaped as the training ones
            for part in ("x_test", "y_test"):
                given = getattr(self, part)
                if given is not None and len(given):
                    raise DatasetError(f"dataset '{self.name}': has_test=False but {part} has "
                                       f"{len(given)} rows")
            self.x_test = np.empty((0, *self.x_train.shape[1:]), dtype=self.x_train.dtype)
            self.y_test = np.empty((0, *self.y_train.shape[1:]), dtype=self.y_train.dtype)
        self.x_test = np.asarray(self.x_test)
        self.y_test = np.asarray(self.y_test)
        if self.task not in ("classification", "regression"):
            raise DatasetError(f"dataset '{self.name}': task must be classification or "
                               f"regression, got {self.task!r}")
        check_arrays(f"dataset '{self.name}'", self.x_train, self.y_train,
                     self.x_test if self.has_test else None,
                     self.y_test if self.has_test else None, self.task)
        if self.task == "classification" and self.n_classes is None:
            self.n_classes = int(len(np.unique(np.concatenate([self.y_train, self.y_test]))))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        """Values per row (the product of the row shape: 64 for 8x8 images)."""
        import math

        return int(math.prod(self.x_train.shape[1:]))

    def shape_values(self) -> dict[str, int]:
        """What a space file may refer to: ``n_features``, ``n_rows`` (training rows) and,
        for classification, ``n_classes``."""
        out = {"n_features": self.n_features, "n_rows": int(len(self.x_train))}
        if self.n_classes is not None:
            out["n_classes"] = int(self.n_classes)
        return out


def require_test(dataset: Dataset) -> None:
    """Refuse a final test on a dataset without test rows, in one line (before any trial)."""
    if not dataset.has_test:
        raise DatasetError(f"dataset '{dataset.name}' has no test rows (test_size=0), so "
                           "there is no final test: add --no-final-test")


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


def check_arrays(where: str, x_train: Any, y_train: Any, x_test: Any, y_test: Any,
                 task: str | None = None) -> None:
    """Refuse, in one line, arrays that would train or score on the wrong rows: checked
    when the data is loaded, before a study is written, not after every trial ran.
    ``x_test`` and ``y_test`` both None: there is no test set (``test_size=0``)."""
    import numpy as np

    if x_test is None and y_test is None:
        x_test, y_test = np.asarray(x_train)[:0], np.asarray(y_train)[:0]
        parts: tuple[str, ...] = ("train",)
    else:
        parts = ("train", "test")
    arrays = dict(zip(ARRAYS, map(np.asarray, (x_train, y_train, x_test, y_test)), strict=True))
    for key, a in arrays.items():
        if a.ndim == 0:
            raise DatasetError(f"{where}: {key} is a single value, not an array of rows")
    for part in parts:
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if len(x) == 0:
            raise DatasetError(f"{where}: x_{part} has no rows; the {part} set needs at least "
                               "one")
        if len(x) != len(y):
            raise DatasetError(f"{where}: x_{part} has {len(x)} rows but y_{part} has {len(y)}; "
                               "each row needs exactly one label")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DatasetError(f"{where}: x_train rows have shape {arrays['x_train'].shape[1:]} but "
                           f"x_test rows {arrays['x_test'].shape[1:]}; both need the same "
                           "features")
    if task == "classification" and arrays["y_train"].ndim == 1 and arrays["y_test"].ndim == 1:
        unseen = sorted(set(np.unique(arrays["y_test"]).tolist())
                        - set(np.unique(arrays["y_train"]).tolist()), key=str)
        if unseen:
            shown = ", ".join(map(repr, unseen[:5])) + (" ..." if len(unseen) > 5 else "")
            raise DatasetError(f"{where}: y_test has labels the training set never has "
                               f"({shown}); a model cannot learn them")


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
