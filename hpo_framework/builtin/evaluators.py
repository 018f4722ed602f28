"""Hold-out and k-fold evaluators (numpy-only splits, stratified for classification)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..contracts.backend import Backend, Evaluator, fit_and_score
from ..contracts.dataset import Dataset
from ..contracts.hookspecs import hookimpl
from ..contracts.metrics import Metric
from ..options import Option


def _stratified_folds(y: Any, n_folds: int, seed: int | None, stratify: bool) -> list[Any]:
    """Index arrays of ``n_folds`` folds; each class is dealt round-robin after a shuffle."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(y)
    folds: list[list[int]] = [[] for _ in range(n_folds)]
    if stratify:
        offset = 0
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            rng.shuffle(idx)
            for i, j in enumerate(idx):
                folds[(offset + i) % n_folds].append(int(j))
            offset += len(idx)
    else:
        idx = rng.permutation(n)
        for i, j in enumerate(idx):
            folds[i % n_folds].append(int(j))
    return [np.sort(np.asarray(f, dtype=int)) for f in folds]


def holdout_split(y: Any, fraction: float, seed: int | None, stratify: bool) -> tuple[Any, Any]:
    """Train and validation indices; ``fraction`` of each class goes to validation."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(y)
    val: list[int] = []
    if stratify:
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            rng.shuffle(idx)
            k = max(1, int(round(fraction * len(idx)))) if len(idx) > 1 else 0
            val.extend(int(i) for i in idx[:k])
    else:
        idx = rng.permutation(n)
        val = [int(i) for i in idx[: max(1, int(round(fraction * n)))]]
    mask = np.zeros(n, dtype=bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


class Holdout(Evaluator):
    """Train on part of the training set, score on a held-out validation split."""

    name = "holdout"
    options = {
        "validation_split": Option(0.15, float, low=0.01, high=0.9,
                                   help="fraction of the training set held out"),
        "stratify": Option(True, bool, help="keep class proportions (classification)"),
    }

    def __init__(self, *, seed: int | None = None, **options: Any) -> None:
        super().__init__(seed=seed, **options)
        self._split: tuple[Any, tuple[Any, Any, Any, Any]] | None = None

    def arrays(self, dataset: Dataset) -> tuple[Any, Any, Any, Any]:
        """``(x_train, y_train, x_val, y_val)`` of the split, made once per dataset and
        kept: every trial of this process trains on the same array objects, so a backend
        may keep them on its device between trials (the vectorized executor's members)."""
        if self._split is not None and self._split[0] is dataset:
            return self._split[1]
        stratify = self.config["stratify"] and dataset.task == "classification"
        tr, va = holdout_split(dataset.y_train, self.config["validation_split"], self.seed, stratify)
        x, y = dataset.x_train, dataset.y_train
        arrays = (x[tr], y[tr], x[va], y[va])
        self._split = (dataset, arrays)
        return arrays

    def evaluate(self, backend: Backend, params: dict[str, Any], dataset: Dataset,
                 metric: Metric, *, metrics: Sequence[Metric] = ()) -> dict[str, Any]:
        """The metrics of the validation rows (``metric``, ``metrics``, the task's and
        the measured ones: ``fit_and_score``); the value is ``metric``'s."""
        scores, steps = fit_and_score(backend, params, dataset, *self.arrays(dataset), metric,
                                      metrics=metrics)
        return {"value": scores[metric.name], "metrics": scores, "intermediate": steps}


class KFold(Evaluator):
    """k-fold cross-validation; the value is the mean over folds, the std is kept too."""

    name = "kfold"
    options = {
        "folds": Option(5, int, low=2, help="number of folds"),
        "stratify": Option(True, bool, help="keep class proportions (classification)"),
    }

    def check(self, dataset: Dataset) -> None:
        import numpy as np

        from ..errors import OptionError

        folds, y = self.config["folds"], dataset.y_train
        if folds > len(y):
            raise OptionError(f"evaluator 'kfold': folds={folds} is more than the {len(y)} "
                              "training rows; use fewer folds")
        if self.config["stratify"] and dataset.task == "classification":
            smallest = int(np.unique(y, return_counts=True)[1].min())
            if folds > smallest:
                raise OptionError(f"evaluator 'kfold': folds={folds} is more than the "
                                  f"{smallest} rows of the smallest class; use at most "
                                  f"{smallest} folds, or -E stratify=false")

    def evaluate(self, backend: Backend, params: dict[str, Any], dataset: Dataset,
                 metric: Metric, *, metrics: Sequence[Metric] = ()) -> dict[str, Any]:
        """Each metric (``metric``, ``metrics``, the task's and the measured ones:
        ``fit_and_score``) is its mean over the folds, with its ``_std``; ``folds``
        holds ``metric`` per fold."""
        import numpy as np

        stratify = self.config["stratify"] and dataset.task == "classification"
        x, y = dataset.x_train, dataset.y_train
        folds = _stratified_folds(y, self.config["folds"], self.seed, stratify)
        per_fold: list[dict[str, float]] = []
        steps_all: list[list[dict[str, float]]] = []
        for k, va in enumerate(folds):
            tr = np.concatenate([f for j, f in enumerate(folds) if j != k])
            # the pruner follows the first fold's curve: later folds run to the end
            scores, steps = fit_and_score(backend, params, dataset, x[tr], y[tr], x[va], y[va],
                                          metric, prune=k == 0, metrics=metrics)
            per_fold.append(scores)
            steps_all.append(steps)
        out: dict[str, Any] = {}
        for key in per_fold[0]:  # those every fold recorded
            if not all(key in s for s in per_fold):
                continue
            vals = [s[key] for s in per_fold]
            out[key] = float(np.mean(vals))
            out[f"{key}_std"] = float(np.std(vals))
        out["folds"] = [s[metric.name] for s in per_fold]
        # per-step mean over folds, at the steps every fold reported (a trial resumed from
        # a checkpoint: fold 0 reports only the steps after it)
        intermediate = []
        if steps_all and all(steps_all):
            by_step = [{int(r["step"]): r for r in s} for s in steps_all]
            for step in sorted(set.intersection(*(set(f) for f in by_step))):
                records = [f[step] for f in by_step]
                keys = set.intersection(*(set(r) for r in records))
                intermediate.append({k: float(np.mean([r[k] for r in records]))
                                     for k in sorted(keys)})
        return {"value": out[metric.name], "metrics": out, "intermediate": intermediate}


@hookimpl
def register_evaluators(register):
    register("holdout", Holdout, "hold-out validation split (default 0.15, stratified, seeded)",
             default=100)
    register("kfold", KFold, "k-fold cross-validation (default 5 folds, stratified, shuffled)")
