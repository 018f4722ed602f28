"""Metrics: the built-in ones computed with numpy (so every backend is scored the same way
and fast), any scikit-learn scorer name, and a user's own function.

:func:`get_metric` resolves a name, in this order:

1. a built-in (:data:`METRICS`): accuracy, balanced_accuracy, precision, recall, f1 and
   their ``_macro`` / ``_weighted`` forms, roc_auc, log_loss; mse, rmse, mae, r2. Each
   equals scikit-learn's function of the same name on the same inputs (tested);
   ``precision``, ``recall`` and ``f1`` are scikit-learn's binary forms (the positive class
   is label 1) and are refused on more than two classes, as scikit-learn refuses them;
2. ``module:function`` or ``path/to/file.py:function``: a user's function
   ``fn(y_true, y_pred)`` (``fn(y_true, proba)`` when ``fn.needs_proba = True``), direction
   from ``fn.direction = "minimize"`` or ``fn.greater_is_better``, else ``--direction``
   (a ``make_scorer`` object there is computed as a scorer: its function and sign);
3. any scikit-learn scorer name (``sklearn.metrics.get_scorer_names()``), computed from the
   predictions or probabilities with the scorer's own function, keyword arguments and sign,
   so it is always maximized (``neg_mean_absolute_error``).

Every metric is picklable (a user's function travels by its import path and is imported
again in a worker). :func:`score_all` records the default metrics of the task
(:data:`RECORDED`) and every other metric this process resolved with :func:`get_metric`
that applies to the data (the CLI resolves each ``--metric`` in the driver and again in
each worker, so a trial records every metric asked for).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import HPOError, OptionError

DIRECTIONS = ("maximize", "minimize")


@dataclass(frozen=True)
class Metric:
    """``fn(y, pred, proba) -> float``. ``y`` holds labels for metrics of predictions and
    column positions of ``proba`` for ``needs_proba`` ones (labels 0..k-1 are both).
    ``binary``: defined for two classes only (scikit-learn's ``average="binary"``)."""

    name: str
    direction: str  # "maximize" or "minimize" (None: a user's, only recorded, says neither)
    task: str  # "classification" or "regression"
    needs_proba: bool
    fn: Callable[..., float]
    binary: bool = False
    source: str = "builtin"  # "builtin", "sklearn" or "custom"


# --- numpy metrics ---------------------------------------------------------------------

def _accuracy(y, pred, proba=None) -> float:
    import numpy as np

    return float(np.mean(np.asarray(y) == np.asarray(pred)))


def _log_loss(y, pred, proba) -> float:
    import numpy as np

    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 1:  # the positive class's probability
        proba = np.column_stack([1.0 - proba, proba])
    proba = proba / proba.sum(axis=1, keepdims=True)
    proba = np.clip(proba, np.finfo(proba.dtype).eps, 1.0 - np.finfo(proba.dtype).eps)
    y = np.asarray(y).astype(int)
    return float(-np.mean(np.log(proba[np.arange(len(y)), y])))


def _counts(y, pred) -> tuple[Any, Any, Any, Any]:
    """Per label of ``y`` and ``pred`` together (scikit-learn's ``unique_labels``): true
    positives, predicted count, true count, and the labels."""
    import numpy as np

    y, pred = np.ravel(y), np.ravel(pred)
    small = (y.dtype.kind in "iub" and pred.dtype.kind in "iub" and len(y) > 0
             and min(y.min(), pred.min()) >= 0 and max(y.max(), pred.max()) < 1 << 16)
    if small:  # class indices (the usual case): count without sorting
        yi, pi = y.astype(np.int64), pred.astype(np.int64)
        m = int(max(yi.max(), pi.max())) + 1
    else:
        labels, codes = np.unique(np.concatenate([y, pred]), return_inverse=True)
        codes = codes.ravel()
        yi, pi, m = codes[: len(y)], codes[len(y):], len(labels)
    tp = np.bincount(yi[yi == pi], minlength=m).astype(float)
    predicted = np.bincount(pi, minlength=m).astype(float)
    true = np.bincount(yi, minlength=m).astype(float)
    if small:  # only the labels that occur, as unique_labels
        seen = (true + predicted) > 0
        return tp[seen], predicted[seen], true[seen], np.flatnonzero(seen).astype(y.dtype)
    return tp, predicted, true, labels


def _ratio(num: Any, den: Any) -> Any:
    """num / den, 0 where den is 0 (scikit-learn's ``zero_division`` default)."""
    import numpy as np

    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _prf(kind: str, tp: Any, predicted: Any, true: Any) -> Any:
    if kind == "precision":
        return _ratio(tp, predicted)
    if kind == "recall":
        return _ratio(tp, true)
    return _ratio(2 * tp, predicted + true)  # f1 = 2tp / (2tp + fp + fn)


def _binary_labels(y, pred) -> None:
    import numpy as np

    labels = set(np.unique(np.concatenate([np.asarray(y), np.asarray(pred)])).tolist())
    if len(labels) > 2:
        raise HPOError(f"the labels have {len(labels)} classes; precision, recall and f1 are "
                       "binary (positive class 1): use their _macro or _weighted form")
    if len(labels) == 2 and 1 not in labels:
        raise HPOError(f"the labels are {sorted(labels, key=str)}: the binary precision, recall "
                       "and f1 score class 1, which is not one of them")


def _make_prf(kind: str, average: str) -> Callable[..., float]:
    def metric(y, pred, proba=None) -> float:
        import numpy as np

        tp, predicted, true, labels = _counts(y, pred)
        if average == "binary":
            _binary_labels(y, pred)
            pos = labels == 1
            if not pos.any():
                return 0.0
            return float(_prf(kind, tp[pos], predicted[pos], true[pos])[0])
        scores = _prf(kind, tp, predicted, true)
        if average == "macro":
            return float(np.mean(scores))
        return float(np.sum(scores * true) / np.sum(true)) if np.sum(true) > 0 else 0.0

    metric.__name__ = metric.__qualname__ = f"_{kind}_{average}"
    return metric


_precision = _make_prf("precision", "binary")
_precision_macro = _make_prf("precision", "macro")
_precision_weighted = _make_prf("precision", "weighted")
_recall = _make_prf("recall", "binary")
_recall_macro = _make_prf("recall", "macro")
_recall_weighted = _make_prf("recall", "weighted")
_f1 = _make_prf("f1", "binary")
_f1_macro = _make_prf("f1", "macro")
_f1_weighted = _make_prf("f1", "weighted")


def _balanced_accuracy(y, pred, proba=None) -> float:
    """Mean recall over the classes of ``y`` (a class only predicted does not count)."""
    import numpy as np

    tp, _, true, _ = _counts(y, pred)
    present = true > 0
    return float(np.mean(tp[present] / true[present]))


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
    ss_res = np.sum((y - pred) ** 2)
    ss_tot = np.sum((y - y.mean()) ** 2)
    if ss_tot > 0:
        return float(1.0 - ss_res / ss_tot)
    return 1.0 if ss_res == 0 else 0.0  # a constant target: scikit-learn's force_finite


def _m(name: str, direction: str, task: str, fn: Callable[..., float], proba: bool = False,
       binary: bool = False) -> Metric:
    return Metric(name, direction, task, proba, fn, binary)


METRICS: dict[str, Metric] = {m.name: m for m in (
    _m("accuracy", "maximize", "classification", _accuracy),
    _m("log_loss", "minimize", "classification", _log_loss, proba=True),
    _m("f1_macro", "maximize", "classification", _f1_macro),
    _m("roc_auc", "maximize", "classification", _roc_auc, proba=True),
    _m("balanced_accuracy", "maximize", "classification", _balanced_accuracy),
    _m("precision", "maximize", "classification", _precision, binary=True),
    _m("precision_macro", "maximize", "classification", _precision_macro),
    _m("precision_weighted", "maximize", "classification", _precision_weighted),
    _m("recall", "maximize", "classification", _recall, binary=True),
    _m("recall_macro", "maximize", "classification", _recall_macro),
    _m("recall_weighted", "maximize", "classification", _recall_weighted),
    _m("f1", "maximize", "classification", _f1, binary=True),
    _m("f1_weighted", "maximize", "classification", _f1_weighted),
    _m("mse", "minimize", "regression", _mse),
    _m("r2", "maximize", "regression", _r2),
    _m("rmse", "minimize", "regression", _rmse),
    _m("mae", "minimize", "regression", _mae),
)}
DEFAULT_METRIC = {"classification": "accuracy", "regression": "mse"}
#: what every trial records without being asked (the metrics a backend can always give)
RECORDED: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "log_loss", "f1_macro", "roc_auc"),
    "regression": ("mse", "r2", "rmse", "mae"),
}

#: metrics resolved in this process beyond RECORDED: score_all records them too
_REQUESTED: dict[str, Metric] = {}


# --- scikit-learn scorers --------------------------------------------------------------

class SklearnScorer:
    """A scikit-learn scorer computed from predictions or probabilities: the scorer's
    function, keyword arguments and sign (picklable: it holds the name only)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.name = state["name"]

    def _scorer(self) -> Any:
        from sklearn.metrics import get_scorer

        return get_scorer(self.name)

    def __call__(self, y, pred, proba=None) -> float:
        return apply_scorer(self._scorer(), y, pred, proba)

    def __repr__(self) -> str:
        return f"SklearnScorer({self.name!r})"


def is_sklearn_scorer(obj: Any) -> bool:
    """A scikit-learn scorer object (``get_scorer``, ``make_scorer``)."""
    return hasattr(obj, "_score_func") and hasattr(obj, "_sign")


def apply_scorer(scorer: Any, y, pred, proba=None) -> float:
    """A scikit-learn scorer's value from predictions or probabilities (its function,
    keyword arguments and sign), as it would score the estimator that made them; silent,
    as the built-ins are (zero division and the like)."""
    import inspect
    import warnings

    import numpy as np

    fn, kwargs = scorer._score_func, dict(getattr(scorer, "_kwargs", {}) or {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if _response_method(scorer) == "predict":
            return float(scorer._sign * fn(y, pred, **kwargs))
        proba = np.asarray(proba, dtype=np.float64)
        if proba.ndim == 2:  # rows summing to 1 in float64 (a float32 model's do not)
            proba = proba / proba.sum(axis=1, keepdims=True)
        k = proba.shape[1] if proba.ndim == 2 else 2
        if proba.ndim == 2 and k == 2:  # binary: the positive class's column, as sklearn
            proba = proba[:, 1]
        if "labels" not in kwargs and "labels" in inspect.signature(fn).parameters:
            kwargs["labels"] = np.arange(k)  # a fold without some class still scores
        return float(scorer._sign * fn(y, proba, **kwargs))


def _response_method(scorer: Any) -> str:
    method = getattr(scorer, "_response_method", "predict")
    return "predict" if method == "predict" else "proba"


def _scorer_names() -> list[str]:
    try:
        from sklearn.metrics import get_scorer_names
    except ImportError:
        return []
    return list(get_scorer_names())


def _sklearn_metric(name: str) -> Metric | None:
    if name not in _scorer_names():
        return None
    if name.endswith("_samples"):
        raise OptionError(f"metric '{name}' is scikit-learn's for multilabel targets, which "
                          "datasets here are not; use the _macro or _weighted form")
    scorer = SklearnScorer(name)._scorer()
    module = getattr(scorer._score_func, "__module__", "") or ""
    task = "regression" if module.startswith("sklearn.metrics._regression") else "classification"
    return Metric(name, "maximize", task, _response_method(scorer) == "proba",
                  SklearnScorer(name), source="sklearn")


# --- a user's function -----------------------------------------------------------------

_LOADED: dict[str, Callable[..., Any]] = {}


def load_metric_function(ref: str) -> Callable[..., Any]:
    """``module:function`` or ``path/to/file.py:function``; every problem is one line."""
    import hashlib
    import importlib
    import importlib.util
    import sys
    from pathlib import Path

    if ref in _LOADED:
        return _LOADED[ref]
    where, _, attr = ref.rpartition(":")
    if not where or not attr:
        raise OptionError(f"--metric '{ref}' must look like module:function or "
                          "path/to/file.py:function")
    if where.endswith(".py"):
        path = Path(where).expanduser().resolve()
        if not path.is_file():
            raise OptionError(f"--metric {ref}: no such file: {where}")
        name = "hpo_user_metric_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
        module = sys.modules.get(name)
        if module is None:
            from .user_model import import_file

            module = import_file(path, name, f"--metric {ref}", where)
    else:
        if where.startswith(".") or not all(p.isidentifier() for p in where.split(".")):
            raise OptionError(f"--metric {ref}: '{where}' is not a module name; give "
                              "module:function or path/to/file.py:function")
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise OptionError(f"--metric {ref}: cannot import module '{where}' ({exc})") from None
        except Exception as exc:
            raise OptionError(f"--metric {ref}: module '{where}' failed to import: "
                              f"{type(exc).__name__}: {exc}".splitlines()[0]) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise OptionError(f"--metric {ref}: '{where}' has no function '{attr}'")
    _LOADED[ref] = fn
    return fn


class CustomMetric:
    """A user's ``fn(y_true, y_pred)`` (or ``fn(y_true, proba)``), held by its reference and
    imported again where it is unpickled (a worker process)."""

    def __init__(self, ref: str, needs_proba: bool = False) -> None:
        self.ref = ref
        self.needs_proba = needs_proba

    def __getstate__(self) -> dict[str, Any]:
        return {"ref": self.ref, "needs_proba": self.needs_proba}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __call__(self, y, pred, proba=None) -> float:
        import numbers

        fn = load_metric_function(self.ref)
        if is_sklearn_scorer(fn):  # make_scorer(...): its function and sign
            return apply_scorer(fn, y, pred, proba)
        value = fn(y, proba if self.needs_proba else pred)
        if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
            value = value.item()  # a numpy scalar
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise HPOError(f"metric {self.ref} returned {type(value).__name__} "
                           f"{str(value)[:40]!r}, not a number")
        return float(value)

    def __repr__(self) -> str:
        return f"CustomMetric({self.ref!r})"


def declared_direction(fn: Any, ref: str) -> str | None:
    """``fn.direction`` ("maximize"/"minimize") or ``fn.greater_is_better``; None if neither."""
    direction = getattr(fn, "direction", None)
    greater = getattr(fn, "greater_is_better", None)
    if direction is not None and direction not in DIRECTIONS:
        raise OptionError(f"metric {ref}: direction = {direction!r}; use 'maximize' or "
                          "'minimize'")
    if greater is not None and not isinstance(greater, bool):
        raise OptionError(f"metric {ref}: greater_is_better = {greater!r}; use True or False")
    from_greater = None if greater is None else ("maximize" if greater else "minimize")
    if direction and from_greater and direction != from_greater:
        raise OptionError(f"metric {ref}: direction = {direction!r} but greater_is_better = "
                          f"{greater}; keep one")
    return direction or from_greater


def _custom_metric(ref: str, task: str, direction: str | None,
                   require_direction: bool = True) -> Metric:
    fn = load_metric_function(ref)
    if is_sklearn_scorer(fn):  # make_scorer(...): greater is better after its sign
        needs = _response_method(fn) == "proba"
        if needs and task != "classification":
            raise OptionError(f"metric {ref} needs probabilities, which a {task} model does "
                              "not give")
        return Metric(ref, "maximize", task, needs, CustomMetric(ref, needs), source="custom")
    declared = declared_direction(fn, ref)
    if declared is None and direction is None and require_direction:
        raise OptionError(f"metric {ref} does not say whether it is to be maximized or "
                          "minimized: add --direction maximize (or minimize), or set "
                          f"{fn.__name__}.direction in its file")
    needs_proba = getattr(fn, "needs_proba", False)
    if not isinstance(needs_proba, bool):
        raise OptionError(f"metric {ref}: needs_proba = {needs_proba!r}; use True or False")
    if needs_proba and task != "classification":
        raise OptionError(f"metric {ref} needs probabilities, which a {task} model does not "
                          "give")
    return Metric(ref, declared or direction, task, needs_proba,  # type: ignore[arg-type]
                  CustomMetric(ref, needs_proba), source="custom")


# --- resolution ------------------------------------------------------------------------

def is_custom(name: str) -> bool:
    """``module:function`` or ``file.py:function``."""
    return ":" in name


def known_names() -> list[str]:
    """Every name :func:`get_metric` accepts besides a user's function."""
    return [*METRICS, *(n for n in _scorer_names() if n not in METRICS)]


def get_metric(name: str | None, task: str, direction: str | None = None, *,
               n_classes: int | None = None, require_direction: bool = True) -> Metric:
    """The metric called ``name`` (default: accuracy or mse) for a ``task`` dataset.

    ``direction`` (``--direction``) is used for a user's function that declares none;
    with ``require_direction=False`` (a metric only recorded, not optimized) such a
    function gets ``direction=None`` instead of a refusal. ``n_classes`` (the dataset's),
    when given, refuses a binary metric on more classes before any trial runs. Every
    refusal is one OptionError line. The metric is recorded by :func:`score_all` in this
    process from now on."""
    name = (name or DEFAULT_METRIC[task]).strip()
    if direction is not None and direction not in DIRECTIONS:
        raise OptionError(f"direction {direction!r}: use maximize or minimize")
    if name in METRICS:
        metric = METRICS[name]
    elif is_custom(name):
        metric = _custom_metric(name, task, direction, require_direction)
    else:
        found = _sklearn_metric(name)
        if found is None:
            raise OptionError(_unknown(name))
        metric = found
    if metric.task != task:
        usable = ", ".join(m.name for m in METRICS.values() if m.task == task)
        raise OptionError(f"metric '{name}' is for {metric.task}; this dataset is {task} "
                          f"(use {usable})")
    if metric.binary and n_classes is not None and n_classes > 2:
        raise OptionError(f"metric '{name}' is binary (scikit-learn's average='binary', "
                          f"positive class 1); this dataset has {n_classes} classes: use "
                          f"{name}_macro or {name}_weighted")
    if metric.name not in RECORDED.get(task, ()):
        _REQUESTED[metric.name] = metric
    return metric


def split_names(names: str | Sequence[str] | None) -> list[str]:
    """``"rmse,mae"`` (``--metric``) or a list -> the names, in order, without blanks."""
    if names is None:
        return []
    if isinstance(names, str):
        names = names.split(",")
    return [n.strip() for n in names if n and n.strip()]


def get_metrics(names: str | Sequence[str] | None, task: str,
                directions: str | Sequence[str] | None = None, *,
                n_classes: int | None = None) -> list[Metric]:
    """``--metric a,b,c`` with ``--direction d1,d2``: the first ``len(directions)`` metrics
    (at least one) are the objectives, the rest are recorded. An objective's given direction
    must agree with the metric's own; a user's function without one takes it. Every metric
    is resolved with :func:`get_metric` (so every trial records it)."""
    wanted = split_names(names) or [DEFAULT_METRIC[task]]
    given = split_names(directions)
    for d in given:
        if d not in DIRECTIONS:
            raise OptionError(f"--direction {d!r}: use maximize or minimize (a comma list "
                              "gives one per objective)")
    if len(given) > len(wanted):
        raise OptionError(f"--direction gives {len(given)} directions for {len(wanted)} "
                          f"metric{'s' if len(wanted) > 1 else ''}; give one per objective, "
                          "the first metrics in --metric order")
    dupes = sorted({n for n in wanted if wanted.count(n) > 1})
    if dupes:
        raise OptionError(f"--metric names '{dupes[0]}' twice")
    out = []
    for i, name in enumerate(wanted):
        objective = i < max(1, len(given))
        direction = given[i] if i < len(given) else None
        metric = get_metric(name, task, direction, n_classes=n_classes,
                            require_direction=objective)
        if direction is not None and metric.direction != direction:
            raise OptionError(f"metric '{metric.name}' is to be {metric.direction}d; drop "
                              "--direction or pick another --metric")
        out.append(metric)
    return out


def _unknown(name: str) -> str:
    import difflib

    names = known_names()
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    shown = [repr(c) for c in close]
    if len(shown) > 1:
        shown = [", ".join(shown[:-1]), shown[-1]]
    hint = f"did you mean {' or '.join(shown)}? " if shown else ""
    sklearn = "" if len(names) > len(METRICS) else " (scikit-learn is not installed, so its " \
        "scorer names are not available)"
    return (f"unknown metric '{name}'; {hint}built in: {', '.join(METRICS)}; or any "
            f"scikit-learn scorer name{sklearn}, or module:function / path/to/file.py:function")


def requested() -> list[str]:
    """The metrics beyond the defaults this process records (resolved by get_metric)."""
    return list(_REQUESTED)


def forget_requested() -> None:
    """Record only the defaults again (for a long-lived process running another job)."""
    _REQUESTED.clear()


def _n_labels(y: Any, pred: Any, proba: Any) -> int:
    import numpy as np

    if proba is not None and np.ndim(proba) == 2:
        return int(np.shape(proba)[1])
    return len(np.unique(np.concatenate([np.ravel(y), np.ravel(pred)])))


def score_all(task: str, y: Any, pred: Any, proba: Any = None, *,
              proba_y: Any = None) -> dict[str, float]:
    """Every metric of the task that can be computed from what the model gave: the
    defaults (:data:`RECORDED`) and those resolved in this process (:func:`get_metric`);
    a binary one only on two classes. ``proba_y``: the labels as column positions of
    ``proba``, for the metrics of probabilities, when they differ from ``y``."""
    out = {}
    if proba_y is None:
        proba_y = y
    labels: int | None = None
    names = [*RECORDED.get(task, ()), *(n for n in _REQUESTED if n not in RECORDED.get(task, ()))]
    for name in names:
        m = METRICS.get(name) or _REQUESTED[name]
        if m.task != task or (m.needs_proba and proba is None):
            continue
        if m.binary:
            if labels is None:
                labels = _n_labels(y, pred, proba)
            if labels > 2:
                continue
        out[m.name] = m.fn(proba_y if m.needs_proba else y, pred, proba)
    return out
