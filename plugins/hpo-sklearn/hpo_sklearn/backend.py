"""The ``sklearn`` backend: the notebook's genetic-search MLP (MLPClassifier/MLPRegressor).

Training runs epoch by epoch (``partial_fit``) so that validation loss and accuracy (and
each metric the study records) are reported per epoch, the same way the Keras backend
reports them; a NaN or infinite loss fails the trial with "diverged: ...". ``score=best``
scores a trial by its best epoch's model (kept aside while training goes on).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

from hpo_framework.contracts.backend import Backend, BestEpoch, Report, epoch_scores, scored
from hpo_framework.contracts.dataset import Dataset
from hpo_framework.contracts.metrics import Metric
from hpo_framework.contracts.user_model import call_model_function, load_model_function
from hpo_framework.errors import OptionError
from hpo_framework.options import Option

MAX_LAYERS = 4

# every parameter this backend understands (a space may use any subset)
KNOWN_PARAMS = {
    "n_layers", "units", "hidden_layer_sizes", "learning_rate_init", "learning_rate", "solver",
    "optimizer", "activation", "alpha", "batch_size", "max_iter", "epochs", "momentum",
    "nesterovs_momentum", "num_dense_layers", "num_dense_nodes",
    *(f"units_{i}" for i in range(1, 17)),
}

#: the values scikit-learn's MLP takes (its parameter constraints; a layer's units from 1;
#: n_layers and num_dense_layers take any int: none or fewer layers is a linear model)
RANGES = {
    "learning_rate_init": "(0, inf)", "learning_rate": "(0, inf)", "alpha": "[0, inf)",
    "batch_size": "[1, inf)", "max_iter": "[1, inf)", "epochs": "[1, inf)",
    "momentum": "[0, 1]", "units": "[1, inf)", "num_dense_nodes": "[1, inf)",
    **{f"units_{i}": "[1, inf)" for i in range(1, 17)},
}


def flat(x: Any) -> Any:
    """scikit-learn wants 2-D input; images become rows of pixels."""
    import numpy as np

    x = np.asarray(x)
    return x.reshape(len(x), -1) if x.ndim != 2 else x


def hidden_layers(params: dict[str, Any], n_layers: int, units: int) -> tuple[int, ...]:
    """Hidden layer sizes from ``n_layers`` + ``units``/``units_i`` (the genetic encoding)
    or from the Bayesian names ``num_dense_layers`` (extra layers) + ``num_dense_nodes``."""
    if "hidden_layer_sizes" in params:
        sizes = params["hidden_layer_sizes"]
        return tuple(int(s) for s in (sizes if isinstance(sizes, list | tuple) else [sizes]))
    if "num_dense_layers" in params or "num_dense_nodes" in params:
        n = 1 + int(params.get("num_dense_layers", 0))
        return (int(params.get("num_dense_nodes", units)),) * n
    n = int(params.get("n_layers", n_layers))
    default = int(params.get("units", units))
    return tuple(int(params.get(f"units_{i}", default)) for i in range(1, n + 1))


class _ScaledRegressor:
    """An MLPRegressor trained on a standardized target; predicts on the original scale."""

    def __init__(self, model: Any, mean: float, std: float) -> None:
        self.model, self.mean, self.std = model, mean, std

    def predict(self, x: Any) -> Any:
        return self.model.predict(x) * self.std + self.mean


class SklearnBackend(Backend):
    """scikit-learn MLP; ``model=module:function`` trains any estimator instead."""

    name = "sklearn"
    options = {
        "max_iter": Option(10, int, low=1, help="epochs (the notebook's max_iter=10)"),
        "activation": Option("relu", str, choices=("identity", "logistic", "tanh", "relu")),
        "solver": Option("adam", str, choices=("sgd", "adam", "lbfgs"),
                         help="used when the space has no 'solver'"),
        "learning_rate_init": Option(0.001, float, low=0.0),
        "n_layers": Option(1, int, low=1, help="used when the space sets no layers"),
        "units": Option(15, int, low=1, help="units per layer when the space sets none"),
        "alpha": Option(1e-4, float, low=0.0, help="L2 penalty"),
        "batch_size": Option(32, int, low=1, help="minibatch size (like the keras backend)"),
        "momentum": Option(0.9, float, low=0.0, high=1.0, help="sgd only"),
        "nesterovs_momentum": Option(True, bool, help="sgd only"),
        "score": Option("last", str, choices=("last", "best"),
                        help="the MLP's epoch that scores a trial: the last, or the best on "
                             "the validation rows (recorded as score_epoch; the final "
                             "retrain then trains that many epochs)"),
        "model": Option(None, str, help="module:function or file.py:function returning an "
                                        "estimator"),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.config["score"] == "best" and self.config["model"]:
            raise OptionError("backend 'sklearn': score=best picks the best epoch of the "
                              "MLP's per-epoch training; a --model estimator trains in one "
                              "fit (use score=last)")
        if self.config["score"] == "best" and self.config["solver"] == "lbfgs":
            raise OptionError("backend 'sklearn': score=best picks the best epoch of the "
                              "MLP's per-epoch training; solver=lbfgs trains in one fit "
                              "(use solver=adam or sgd, or score=last)")
        if self.config["model"]:
            load_model_function(self.config["model"])  # fail now, not in every trial

    def default_space(self, dataset: Dataset) -> dict[str, Any]:
        """The notebook's genetic space: 1-4 layers of 5-15 units, log learning rate, solver."""
        space: dict[str, Any] = {"n_layers": {"type": "int", "low": 1, "high": MAX_LAYERS}}
        for i in range(1, MAX_LAYERS + 1):
            spec: dict[str, Any] = {"type": "int", "low": 5, "high": 15}
            if i > 1:
                spec["condition"] = {"n_layers": {"ge": i}}
            space[f"units_{i}"] = spec
        space["learning_rate_init"] = {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}
        space["solver"] = {"type": "categorical", "choices": ["sgd", "adam"]}
        return space

    def parameters(self) -> set[str] | None:
        return None if self.config["model"] else set(KNOWN_PARAMS)

    def parameter_ranges(self) -> dict[str, str]:
        return {} if self.config["model"] else dict(RANGES)

    @property
    def reports_intermediate(self) -> bool:  # the MLP reports per epoch; a user model not
        return not self.config["model"]

    @property
    def resumable(self) -> bool:  # a paused MLP's checkpoint is the estimator itself
        return not self.config["model"]

    # building ---------------------------------------------------------------------------
    def _value(self, params: dict[str, Any], *names: str) -> Any:
        for n in names:
            if n in params:
                return params[n]
        return self.config[names[0]]

    def build(self, params: dict[str, Any], dataset: Dataset) -> Any:
        """An unfitted estimator for ``params`` (the user's, or the MLP)."""
        import numpy as np

        if self.config["model"]:
            fn = load_model_function(self.config["model"])
            est = call_model_function(fn, params, input_shape=dataset.input_shape,
                                      n_classes=dataset.n_classes, task=dataset.task)
            if not hasattr(est, "fit") or not hasattr(est, "predict"):
                raise TypeError(f"--model {self.config['model']} returned "
                                f"{type(est).__name__}, not an estimator with fit/predict")
            if self.seed is not None and hasattr(est, "get_params"):
                if est.get_params().get("random_state", "absent") is None:
                    est.set_params(random_state=self.seed)
            return est
        unknown = sorted(set(params) - KNOWN_PARAMS)
        if unknown:
            raise ValueError(f"the sklearn backend has no parameter '{unknown[0]}' "
                             "(use --model for your own estimator)")
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        cls = MLPClassifier if dataset.task == "classification" else MLPRegressor
        batch = self._value(params, "batch_size")
        return cls(
            hidden_layer_sizes=hidden_layers(params, self.config["n_layers"],
                                             self.config["units"]),
            activation=str(self._value(params, "activation")),
            solver=str(self._value(params, "solver", "optimizer")).lower(),
            learning_rate_init=float(self._value(params, "learning_rate_init", "learning_rate")),
            alpha=float(self._value(params, "alpha")),
            batch_size="auto" if batch is None else int(batch),
            max_iter=int(self._value(params, "max_iter", "epochs")),
            momentum=float(self._value(params, "momentum")),
            nesterovs_momentum=bool(self._value(params, "nesterovs_momentum")),
            random_state=None if self.seed is None else np.random.RandomState(self.seed),
        )

    # training ---------------------------------------------------------------------------
    def fit(self, params: dict[str, Any], x: Any, y: Any, dataset: Dataset, *,
            validation: tuple[Any, Any] | None = None, report: Report | None = None,
            resume: Any = None) -> Any:
        """``resume``: a paused fit's checkpoint, ``{"epoch", "estimator"}`` (the
        estimator pickled with its random state: it goes on as if it never paused; with
        ``score=best`` also ``best``, the best epoch so far and its estimator)."""
        import copy

        import numpy as np
        from sklearn.exceptions import ConvergenceWarning

        from hpo_framework.errors import TrialPaused

        est = self.build(params, dataset) if resume is None else resume["estimator"]
        first = 1 if resume is None else int(resume["epoch"]) + 1
        x = flat(x)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # a diverging run is reported once, as the trial's error, not as numpy warnings
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.config["model"] or getattr(est, "solver", "lbfgs") == "lbfgs":
                est.fit(x, y)
                return est
            regression = dataset.task == "regression"
            mean = float(np.mean(y)) if regression else 0.0
            std = (float(np.std(y)) or 1.0) if regression else 1.0
            target = (np.asarray(y, dtype=float) - mean) / std if regression else y
            classes = None if regression else np.unique(dataset.y_train)
            wrapped = _ScaledRegressor(est, mean, std) if regression else est
            best = BestEpoch(report, self.config["score"] == "best" and validation is not None,
                             state=resume)
            for epoch in range(first, est.max_iter + 1):
                try:
                    if regression:
                        est.partial_fit(x, target)
                    else:
                        est.partial_fit(x, target, classes=classes)
                except ValueError as exc:
                    if "non-finite" in str(exc):
                        raise RuntimeError(f"diverged: weights became non-finite at epoch "
                                           f"{epoch}") from None
                    raise
                if not math.isfinite(est.loss_):
                    raise RuntimeError(f"diverged: loss became {est.loss_} at epoch {epoch}")
                if report is not None and validation is not None:
                    values = self._validation_values(wrapped, validation, dataset, report)
                    best.update(epoch, values, lambda: copy.deepcopy(est))
                    try:
                        report(epoch, values)
                    except TrialPaused as exc:
                        exc.checkpoint = {"epoch": epoch, "estimator": est, **best.state()}
                        raise
            if best.epoch is not None:  # score=best: the best epoch's model predicts
                est = best.kept
                wrapped = _ScaledRegressor(est, mean, std) if regression else est
                wrapped._hpo_score_epoch = best.epoch
            return wrapped

    def final_params(self, params: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
        """With ``score=best`` the final retrain trains as many epochs as the best
        trial's best epoch (``score_epoch``; its mean over k-fold's folds, rounded)."""
        if self.config["score"] != "best" or not metrics.get("score_epoch"):
            return params
        key = "epochs" if "epochs" in params and "max_iter" not in params else "max_iter"
        return {**params, key: max(1, int(round(float(metrics["score_epoch"]))))}

    def _validation_values(self, model: Any, validation: tuple[Any, Any],
                           dataset: Dataset, report: Report | None = None) -> dict[str, float]:
        """val_loss, val_accuracy and ``val_<name>`` of each metric the study records."""
        from hpo_framework.contracts.metrics import METRICS

        xv, yv = validation
        if dataset.task == "regression":
            pred = self.predict(model, xv)
            values = {"val_loss": METRICS["mse"].fn(yv, pred)}
            return {**values, **epoch_scores(report, yv, pred, None, have=values)}
        proba = self.predict_proba(model, xv)
        pred = model.classes_[proba.argmax(axis=1)]
        values = {"val_loss": METRICS["log_loss"].fn(_index(model, yv), None, proba),
                  "val_accuracy": METRICS["accuracy"].fn(yv, pred)}
        return {**values, **epoch_scores(report, yv, pred, proba, have=values,
                                         y_index=_index(model, yv))}

    def predict(self, model: Any, x: Any) -> Any:
        import numpy as np

        pred = np.asarray(model.predict(flat(x)))
        if np.issubdtype(pred.dtype, np.floating) and not np.all(np.isfinite(pred)):
            raise RuntimeError("the model predicts NaN or infinite values")
        return pred

    def predict_proba(self, model: Any, x: Any) -> Any | None:
        import numpy as np

        if not hasattr(model, "predict_proba"):
            return None
        proba = np.asarray(model.predict_proba(flat(x)))
        if not np.all(np.isfinite(proba)):
            raise RuntimeError("the model predicts NaN probabilities")
        return proba

    def score(self, model: Any, x: Any, y: Any, dataset: Dataset,
              metrics: Sequence[Metric] = ()) -> dict[str, float]:
        """Every metric of the task and each of ``metrics``; with ``score=best``, also
        ``score_epoch``: the epoch whose model this is."""
        from hpo_framework.contracts.metrics import score_all

        pred = self.predict(model, x)
        proba = self.predict_proba(model, x) if dataset.task == "classification" else None
        y_index = None
        if proba is not None and hasattr(model, "classes_"):
            # the probability metrics index columns by label: map labels to positions
            y_index = _index(model, y)
            scores = {**score_all(dataset.task, y, pred, None),
                      **{k: v for k, v in score_all(dataset.task, y_index, pred,
                                                    proba).items()
                         if k in ("log_loss", "roc_auc")}}
        else:
            scores = score_all(dataset.task, y, pred, proba)
        scores.update(scored(metrics, y, pred, proba, skip=scores, y_index=y_index))
        epoch = getattr(model, "_hpo_score_epoch", None)
        if epoch is not None:
            scores["score_epoch"] = float(epoch)
        return scores

    def n_params(self, model: Any) -> int | None:
        """The MLP's weights and biases (``coefs_``, ``intercepts_``); for a ``--model``
        estimator: a linear model's ``coef_`` and ``intercept_``, a tree's nodes (a
        forest's or a boosted ensemble's over its trees, as the boosting backends count),
        a pipeline's last step; None for others (nothing is recorded)."""
        return estimator_size(model.model if isinstance(model, _ScaledRegressor) else model)

    def save(self, model: Any, path: str) -> str:
        import joblib

        joblib.dump(model, path)
        return path


def estimator_size(est: Any) -> int | None:
    """Parameters of a fitted scikit-learn estimator (see ``SklearnBackend.n_params``)."""
    import numpy as np

    if hasattr(est, "steps"):  # a Pipeline: its final estimator
        return estimator_size(est.steps[-1][1])
    if hasattr(est, "coefs_"):
        return int(sum(np.size(w) for w in est.coefs_) +
                   sum(np.size(b) for b in est.intercepts_))
    if hasattr(est, "tree_"):
        return int(est.tree_.node_count)
    trees = getattr(est, "estimators_", None)
    if trees is not None:
        sizes = [estimator_size(t) for t in np.ravel(np.asarray(trees, dtype=object))]
        return None if not sizes or None in sizes else int(sum(sizes))
    if hasattr(est, "coef_"):
        return int(np.size(est.coef_) + np.size(getattr(est, "intercept_", 0)))
    return None


def _index(model: Any, y: Any) -> Any:
    """Labels -> column positions of ``predict_proba`` (labels need not be 0..k-1)."""
    import numpy as np

    classes = getattr(model, "classes_", None)
    if classes is None:
        return y
    return np.searchsorted(classes, np.asarray(y))
