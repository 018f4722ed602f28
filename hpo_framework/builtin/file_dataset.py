"""The ``file`` dataset: an ``.npz`` (x_train, y_train, x_test, y_test) or a ``.csv``."""

from __future__ import annotations

from pathlib import Path

from ..contracts.dataset import ARRAYS, Dataset, DatasetLoader, check_arrays, read_npz
from ..contracts.hookspecs import hookimpl
from ..errors import DatasetError
from ..options import Option


class FileDataset(DatasetLoader):
    """Arrays from a local ``.npz`` (x_train, y_train, x_test, y_test) or ``.csv``."""

    name = "file"
    options = {
        "path": Option(None, str, help="the .npz or .csv file (--data-path)"),
        "target": Option(None, str, help="the .csv's target column (default: the last)"),
        "test_fraction": Option(0.2, float, low=0.01, high=0.99,
                                help="the .csv rows held out as the test set"),
        "task": Option(None, str, choices=("classification", "regression"),
                       help="default: from the target's values"),
        "seed": Option(0, int, low=0, help="the .csv's train/test shuffle"),
    }

    def load(self) -> Dataset:
        return load_file(**self.config)


def load_file(path: str | None = None, target: str | None = None, test_fraction: float = 0.2,
              task: str | None = None, seed: int = 0) -> Dataset:
    """Load arrays from ``path``; a CSV is split into train and test by ``test_fraction``."""
    import numpy as np

    if not path:
        raise DatasetError("dataset 'file' needs a path: --data-path FILE.npz or FILE.csv")
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"dataset file not found: {p}")
    if p.suffix == ".npz":
        arrays = read_npz(p)
    elif p.suffix == ".csv":
        import csv

        with p.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        if len(rows) < 3:
            raise DatasetError(f"{p}: needs a header row and at least two data rows")
        header, body = rows[0], rows[1:]
        target = target or header[-1]
        if target not in header:
            raise DatasetError(f"{p}: no column '{target}' (columns: {', '.join(header)})")
        t = header.index(target)
        try:
            x = np.array([[float(v) for j, v in enumerate(r) if j != t] for r in body])
        except ValueError as exc:
            raise DatasetError(f"{p}: feature columns must be numeric ({exc})") from None
        raw_y = [r[t] for r in body]
        try:
            y_num = np.array([float(v) for v in raw_y])
            is_int = np.all(y_num == np.round(y_num)) and len(np.unique(y_num)) <= 50
        except ValueError:
            y_num, is_int = None, True
        task = task or ("classification" if is_int else "regression")
        if task == "classification":
            classes = sorted(set(raw_y), key=lambda v: (y_num is None, v))
            y = np.array([classes.index(v) for v in raw_y])
        else:
            y = y_num
        rng = np.random.default_rng(seed)
        idx = rng.permutation(len(x))
        n_test = max(1, int(round(test_fraction * len(x))))
        te, tr = idx[:n_test], idx[n_test:]
        arrays = {"x_train": x[tr], "y_train": y[tr], "x_test": x[te], "y_test": y[te]}
    else:
        raise DatasetError(f"{p}: unsupported file type '{p.suffix}' (use .npz or .csv)")
    check_arrays(str(p), *(arrays[k] for k in ARRAYS))  # rows first: then the task
    if task is None:
        y_all = np.concatenate([arrays["y_train"], arrays["y_test"]])
        task = "classification" if np.issubdtype(y_all.dtype, np.integer) else "regression"
    check_arrays(str(p), *(arrays[k] for k in ARRAYS), task=task)
    return Dataset(p.stem, task=task, **arrays)


@hookimpl
def register_datasets(register):
    register("file", FileDataset, "arrays from a .npz (x_train, y_train, x_test, y_test) or a .csv")
