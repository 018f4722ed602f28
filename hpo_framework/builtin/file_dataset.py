"""The ``file`` dataset: a user's own data, from an ``.npz`` (x_train, y_train, x_test,
y_test), a ``.csv`` or a ``.parquet`` table.

A table has a header; the target is the last column unless ``-D target=COLUMN`` names
another, every other column is a numeric feature (``-D drop=a,b`` leaves columns out). The
task follows from the target (text, or whole numbers with at most 50 distinct values:
classification; else regression) unless ``-D task=`` says. The rows are split into train
and test by ``-D test_size`` (stratified by class, seeded by ``-D seed``); ``test_size=0``
keeps every row for the search (k-fold over all of them, with ``--no-final-test``).

CSV is read with the standard library and numpy, so the core needs no pandas; Parquet is
read with pandas (and its Parquet engine, pyarrow) where they are installed.

A text feature column is refused in one line naming it, not one-hot encoded behind the
user's back: an ID, a date or a number written with a decimal comma would otherwise turn
into hundreds of silent indicator columns. Encode it, or leave it out with ``-D drop=``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..contracts.dataset import ARRAYS, Dataset, DatasetLoader, check_arrays, read_npz
from ..contracts.hookspecs import hookimpl
from ..errors import DatasetError
from ..options import Option

#: a whole-number target with at most this many distinct values is a classification
MAX_CLASSES = 50
TABLES = (".csv", ".parquet", ".pq")


class FileDataset(DatasetLoader):
    """Arrays from a local ``.npz`` (x_train, y_train, x_test, y_test), ``.csv`` or
    ``.parquet``."""

    name = "file"
    options = {
        "path": Option(None, str, help="the .npz, .csv or .parquet file (--data-path)"),
        "target": Option(None, str, help="the table's target column (default: the last)"),
        "test_size": Option(0.2, float, low=0.0, high=0.99,
                            help="the table's rows held out as the test set (0: none, "
                                 "with --no-final-test)"),
        "test_fraction": Option(None, float, low=0.0, high=0.99,
                                help="the former name of test_size"),
        "task": Option(None, str, choices=("classification", "regression"),
                       help="default: from the target's values"),
        "drop": Option(None, str, help="columns to leave out, comma-separated (an id, a date)"),
        "seed": Option(0, int, low=0, help="the table's train/test shuffle"),
    }

    def load(self) -> Dataset:
        return load_file(**self.config)


def load_file(path: str | None = None, target: str | None = None, test_size: float = 0.2,
              task: str | None = None, seed: int = 0, drop: str | None = None,
              test_fraction: float | None = None) -> Dataset:
    """Load arrays from ``path``; a table is split into train and test by ``test_size``."""
    import numpy as np

    if not path:
        raise DatasetError("dataset 'file' needs a path: --data-path FILE.csv, FILE.parquet "
                           "or FILE.npz")
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"dataset file not found: {p}")
    if test_fraction is not None:
        if test_size != 0.2 and test_size != test_fraction:
            raise DatasetError(f"{p}: test_size={test_size} and test_fraction={test_fraction}; "
                               "give one (test_fraction is test_size's former name)")
        test_size = test_fraction
    suffix = p.suffix.lower()
    extra: dict[str, Any] = {}
    if suffix == ".npz":
        given = [k for k, v, default in (("target", target, None), ("drop", drop, None),
                                         ("test_size", test_size, 0.2), ("seed", seed, 0))
                 if v != default]
        if given:
            raise DatasetError(f"{p}: -D {given[0]}= is for a .csv or .parquet table; an .npz "
                               "holds its own split (x_train, y_train, x_test, y_test)")
        arrays = read_npz(p)
    elif suffix in TABLES:
        header, columns = read_table(p)
        x, y, task, extra = table_arrays(p, header, columns, target, task, drop)
        arrays = split_rows(p, x, y, task, test_size, seed)
        extra.update(test_size=float(test_size), split_seed=seed, n_rows=int(len(x)))
    else:
        raise DatasetError(f"{p}: unsupported file type '{p.suffix}' (use .csv, .parquet or "
                           ".npz)")
    check_arrays(str(p), *(arrays[k] for k in ARRAYS))  # rows first: then the task
    if task is None:
        y_all = np.concatenate([arrays["y_train"], arrays["y_test"]])
        task = "classification" if np.issubdtype(y_all.dtype, np.integer) else "regression"
    check_arrays(str(p), *(arrays[k] for k in ARRAYS), task=task)
    return Dataset(p.stem, task=task, description=extra.pop("description", ""), extra=extra,
                   **arrays)


def read_table(p: Path) -> tuple[list[str], list[Any]]:
    """The header and one array of values per column (text for a CSV)."""
    if p.suffix.lower() == ".csv":
        return _read_csv(p)
    return _read_parquet(p)


def _read_csv(p: Path) -> tuple[list[str], list[Any]]:
    import csv

    import numpy as np

    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if any(v.strip() for v in r)]
    except UnicodeDecodeError:
        raise DatasetError(f"{p}: not UTF-8 text; save the CSV as UTF-8") from None
    except csv.Error as exc:
        raise DatasetError(f"{p}: not a readable CSV ({exc})") from None
    if len(rows) < 3:
        raise DatasetError(f"{p}: needs a header row and at least two data rows")
    header = [h.strip() for h in rows[0]]
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise DatasetError(f"{p}: line {i} has {len(r)} values but the header has "
                               f"{len(header)} columns")
    body = np.array(rows[1:], dtype=object)
    return header, [body[:, j] for j in range(len(header))]


def _read_parquet(p: Path) -> tuple[list[str], list[Any]]:
    try:
        import pandas as pd

        frame = pd.read_parquet(p)
    except ImportError as exc:
        raise DatasetError(f"{p}: reading Parquet needs pandas and pyarrow (pip install pandas "
                           f"pyarrow), or save the table as .csv ({exc})".splitlines()[0]) from None
    except Exception as exc:
        raise DatasetError(f"{p}: not a readable Parquet file ({type(exc).__name__}: "
                           f"{exc})".splitlines()[0]) from None
    if len(frame) < 2:
        raise DatasetError(f"{p}: needs at least two rows")
    return [str(c) for c in frame.columns], [frame[c].to_numpy() for c in frame.columns]


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(value != value)  # NaN
    except (TypeError, ValueError):
        return False


def _numbers(p: Path, column: str, values: Any, what: str) -> Any:
    """The column as floats; a missing or non-numeric value is one line naming it."""
    import numpy as np

    values = np.asarray(values)
    if values.dtype.kind in "biuf":
        out = values.astype(float)
        bad = np.flatnonzero(~np.isfinite(out))
        if len(bad):
            raise DatasetError(f"{p}: {what} '{column}' has a missing or infinite value in data "
                               f"row {bad[0] + 1}; fill or drop such rows")
        return out
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if _missing(v):
            raise DatasetError(f"{p}: {what} '{column}' is empty in data row {i + 1}; fill or "
                               "drop missing values" + (f" (or -D drop={column})"
                                                        if what == "feature column" else ""))
        try:
            out[i] = float(v.strip() if isinstance(v, str) else v)
        except (TypeError, ValueError):
            hint = (f"; encode it as numbers or leave it out with -D drop={column}"
                    if what == "feature column" else "")
            raise DatasetError(f"{p}: {what} '{column}' is not numeric (data row {i + 1}: "
                               f"{str(v)[:30]!r}){hint}") from None
        if not np.isfinite(out[i]):
            raise DatasetError(f"{p}: {what} '{column}' has a missing or infinite value in data "
                               f"row {i + 1}; fill or drop such rows")
    return out


def table_arrays(p: Path, header: list[str], columns: list[Any], target: str | None,
                 task: str | None, drop: str | None) -> tuple[Any, Any, str, dict[str, Any]]:
    """Features, encoded target, task and what was inferred, from a table's columns."""
    import numpy as np

    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DatasetError(f"{p}: column '{dup}' appears twice in the header; rename one")
    target = target or header[-1]
    if target not in header:
        raise DatasetError(f"{p}: no column '{target}' for -D target= (columns: "
                           f"{', '.join(header)})")
    dropped = [c.strip() for c in (drop or "").split(",") if c.strip()]
    for c in dropped:
        if c not in header:
            raise DatasetError(f"{p}: no column '{c}' to drop (columns: {', '.join(header)})")
        if c == target:
            raise DatasetError(f"{p}: -D drop names the target column '{c}'")
    features = [h for h in header if h != target and h not in dropped]
    if not features:
        raise DatasetError(f"{p}: no feature columns left besides the target '{target}'")
    x = np.column_stack([_numbers(p, h, columns[header.index(h)], "feature column")
                         for h in features]).astype(np.float32)
    raw = np.asarray(columns[header.index(target)])
    try:
        y_num: Any = _numbers(p, target, raw, "target column")
    except DatasetError:
        if task == "regression" or any(_missing(v) for v in raw):
            raise
        y_num = None
    if y_num is not None:
        distinct = np.unique(y_num)
        whole = bool(np.all(y_num == np.round(y_num)))
        inferred = "classification" if whole and len(distinct) <= MAX_CLASSES else "regression"
        why = (f"whole numbers, {len(distinct)} distinct" if whole else "fractional values")
    else:
        inferred, why = "classification", "text"
    task = task or inferred
    extra: dict[str, Any] = {"target": target, "features": features,
                             "task_inferred": f"{inferred} (target '{target}': {why})"}
    if task == "regression":
        extra["description"] = (f"{p.name}: {len(x)} rows, {len(features)} features, "
                                f"regression on '{target}'")
        return x, y_num.astype(np.float64), task, extra
    labels = y_num if y_num is not None else np.array([str(v).strip() for v in raw])
    classes, y = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise DatasetError(f"{p}: target '{target}' has one value only ({_show(classes[0])}); "
                           "a classification needs two classes or more")
    if len(classes) > len(y) / 2:
        raise DatasetError(f"{p}: target '{target}' has {len(classes)} distinct values in "
                           f"{len(y)} rows, too many to be classes; name the target with "
                           "-D target=COLUMN, or -D task=regression for a numeric one")
    extra["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
    extra["description"] = (f"{p.name}: {len(y)} rows, {len(features)} features, "
                            f"{len(classes)} classes of '{target}'")
    return x, y.astype(np.int64), task, extra


def _show(value: Any) -> str:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value)


def split_rows(p: Path, x: Any, y: Any, task: str, test_size: float, seed: int
               ) -> dict[str, Any]:
    """Seeded train/test split; ``test_size=0``: no test rows. As scikit-learn's
    ``train_test_split``: ceil(test_size * rows) test rows, shared among the classes in
    proportion (largest remainders) for classification."""
    import math

    import numpy as np

    n = len(y)
    if test_size == 0:
        return {"x_train": x, "y_train": y, "x_test": None, "y_test": None}  # no test set
    n_test = math.ceil(test_size * n)
    if n_test >= n:
        raise DatasetError(f"{p}: test_size={test_size} leaves no training rows")
    rng = np.random.default_rng(seed)
    if task != "classification":
        test = rng.permutation(n)[:n_test]
    else:
        classes, counts = np.unique(y, return_counts=True)
        share = counts * n_test / n
        take = np.floor(share).astype(int)
        for i in np.argsort(-(share - take), kind="stable")[: n_test - take.sum()]:
            take[i] += 1
        test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:k]
                               for c, k in zip(classes, take, strict=True)])
    mask = np.zeros(n, dtype=bool)
    mask[test] = True
    return {"x_train": x[~mask], "y_train": y[~mask], "x_test": x[mask], "y_test": y[mask]}


@hookimpl
def register_datasets(register):
    register("file", FileDataset, "your own data: a .csv or .parquet table (-D target=COLUMN, "
             "-D test_size=0.2) or a .npz (x_train, y_train, x_test, y_test)")
