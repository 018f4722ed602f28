"""scikit-learn's bundled datasets, split once into train and test (offline, seeded).

Every dataset here uses the same split: ``TEST_SIZE`` (20 %) of the rows go to the test
set, stratified by class for classification, shuffled with ``seed`` (default 0, so the
test set does not move when the study's seed changes). ``test_size=0`` keeps every row
for the search (k-fold over all of them; the run needs ``--no-final-test``).
"""

from __future__ import annotations

from typing import Any

from hpo_framework.contracts.dataset import Dataset, DatasetLoader
from hpo_framework.errors import DatasetError
from hpo_framework.options import Option

TEST_SIZE = 0.2

# name -> (sklearn loader function name, task, scaling, description)
_SPECS: dict[str, tuple[str, str, str, str]] = {
    "digits": ("load_digits", "classification", "sixteenth",
               "8x8 handwritten digits, 1797 rows, 10 classes (default; pixels / 16)"),
    "iris": ("load_iris", "classification", "standard", "iris flowers, 150 rows, 3 classes"),
    "wine": ("load_wine", "classification", "standard", "wine cultivars, 178 rows, 3 classes"),
    "breast_cancer": ("load_breast_cancer", "classification", "standard",
                      "breast cancer Wisconsin, 569 rows, 2 classes"),
    "diabetes": ("load_diabetes", "regression", "none",
                 "diabetes progression, 442 rows, regression target"),
}


def split(x: Any, y: Any, task: str, test_size: float, seed: int,
          name: str = "") -> tuple[Any, Any, Any, Any]:
    """Seeded train/test split, stratified for classification; ``test_size=0``: every row
    is training data and the test arrays are None (no test set)."""
    import numpy as np

    if test_size == 0:
        return x, None, y, None
    from sklearn.model_selection import train_test_split

    if task == "classification":
        n_classes = len(np.unique(y))
        n_test = int(np.ceil(test_size * len(y)))
        if n_test < n_classes:
            raise DatasetError(f"dataset '{name or 'data'}': test_size={test_size} holds out {n_test} of {len(y)} rows, "
                               f"fewer than the {n_classes} classes a stratified test set "
                               "needs; use 0 (no test set) or at least "
                               f"{n_classes / len(y):.3g}")
    return train_test_split(x, y, test_size=test_size, random_state=seed,
                            stratify=y if task == "classification" else None)


def load_bundled(name: str, test_size: float = TEST_SIZE, seed: int = 0) -> Dataset:
    """Load one of scikit-learn's bundled datasets as an hpo_framework Dataset (the
    registered :class:`BundledDataset` classes validate the options first)."""
    import numpy as np

    if name not in _SPECS:
        raise DatasetError(f"no bundled dataset '{name}' (there are {', '.join(_SPECS)})")
    import sklearn.datasets

    fn_name, task, scaling, description = _SPECS[name]
    bunch = getattr(sklearn.datasets, fn_name)()
    x = np.asarray(bunch.data, dtype=np.float32)
    y = np.asarray(bunch.target)
    y = y.astype(np.int64) if task == "classification" else y.astype(np.float64)
    x_tr, x_te, y_tr, y_te = split(x, y, task, float(test_size), seed, name)
    x_te = x_tr[:0] if x_te is None else x_te  # no test set: scaled as an empty array
    if scaling == "sixteenth":
        x_tr, x_te = x_tr / 16.0, x_te / 16.0
    elif scaling == "standard":  # statistics of the training rows only (all: test_size=0)
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        std[std == 0] = 1.0
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    x_te = x_te.astype(np.float32) if y_te is not None else None
    return Dataset(name, x_tr.astype(np.float32), y_tr, x_te, y_te,
                   task=task, description=description,
                   extra={"test_size": float(test_size), "split_seed": seed})


class BundledDataset(DatasetLoader):
    """One of scikit-learn's bundled datasets, split once (seeded) into train and test."""

    options = {
        "test_size": Option(TEST_SIZE, float, low=0.0, high=0.99,
                            help="the rows held out as the test set (0: none, with "
                                 "--no-final-test)"),
        "seed": Option(0, int, low=0, help="the train/test split (not the study's seed)"),
    }

    def load(self) -> Dataset:
        return load_bundled(self.name, **self.config)


def _loader(name: str) -> type[BundledDataset]:
    return type(f"{name.title().replace('_', '')}Dataset", (BundledDataset,),
                {"name": name, "__doc__": _SPECS[name][3]})


DATASETS: dict[str, tuple[type[BundledDataset], str]] = {
    name: (_loader(name), spec[3] + f"; {int(TEST_SIZE * 100)} % test split")
    for name, spec in _SPECS.items()
}
