"""What both boosting backends share: options, labels, per-round reports, scoring.

Each boosting round is one step: the library's own evaluation of the validation set
after the round (XGBoost's ``evals_log``, LightGBM's ``evaluation_result_list``) becomes
``report(round, {"val_loss": ..., "val_accuracy": ...})``, so the study's pruner can stop
the trial between two rounds (the report raises ``TrialPruned`` out of the library's
callback, which ends its training loop) or pause it with the booster as checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hpo_framework.contracts.backend import Backend, Report, scored
from hpo_framework.contracts.dataset import Dataset
from hpo_framework.contracts.metrics import Metric
from hpo_framework.contracts.user_model import call_model_function, load_model_function
from hpo_framework.errors import TrialPaused, TrialPruned
from hpo_framework.options import Option

#: the default patience of the library's early stopping, in rounds: a tenth of the default
#: spaces' 500-round cap (the ratio of Optuna's LightGBMTuner example, 100 of 1000); on
#: the issue-27 benchmark it gave a better best validation than no early stopping on 6 of
#: 6 library/dataset pairs with 43-58 % of the rounds (benchmarks/results/boosting-auto.md)
EARLY_STOPPING_ROUNDS = 50

#: how a library's validation metric becomes ours: as it is, 1 - error, RMSE squared
_SAME, _ONE_MINUS, _SQUARE = "same", "one_minus", "square"


@dataclass
class Boosted:
    """A trained booster with the labels its classes stand for, and its rounds."""

    estimator: Any
    classes: Any  # None for regression
    rounds: int
    best_round: int


def threads(given: int | None) -> int:
    """Threads for one trial: the option, else what the executor gave this process (the
    process executor sets OMP_NUM_THREADS to cores // n_jobs in each worker), else 1."""
    if given:
        return int(given)
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "1")))
    except ValueError:
        return 1


def to_index(classes: Any, y: Any) -> Any:
    """Labels -> 0..k-1 (what both libraries train on and what log_loss indexes by)."""
    import numpy as np

    return np.searchsorted(classes, np.asarray(y))


class BoostingBackend(Backend):
    """Gradient-boosted trees; subclasses name the library and its callbacks."""

    reports_intermediate = True
    resumable = True
    resource_param = "n_estimators"  # asha/hyperband budget rounds up to its upper bound
    #: pruners judge from 22 % of the rounds on (asha's min_resource, median's warm-up: 110
    #: of the default spaces' 500): the first rounds rank learning rates, not models, and
    #: asha-promote judging from round 55 was 2-20 % worse than no pruning on five of six
    #: pairs (benchmarks/results/boosting-es.md); from 110 with the trend rule it trained
    #: 0.41-0.52 of the rounds over twenty seeds, within 2 % or the noise band on five
    #: of six pairs (boosting-final20.md)
    resource_grace = 0.22
    #: asha's trend rule: a trial is also stopped when its best so far, carried on to the
    #: last round at the rate it improved over its last 10 rounds, cannot reach the best
    #: finished trial's (fair to a slow learner, which the rungs are not)
    pruner_defaults = {"trend_window": 10}
    #: the library's metric names per task kind -> (our name, conversion)
    library_metrics: dict[str, dict[str, tuple[str, str]]] = {}
    known_params: set[str] = set()
    #: the values the built-in estimator's parameters may take (``parameter_ranges``)
    known_ranges: dict[str, str] = {}
    #: the library's parameters the built-in estimator gets unless the space sets them
    fixed_params: dict[str, Any] = {}
    options = {
        "n_estimators": Option(100, int, low=1,
                               help="boosting rounds when the space has no 'n_estimators'"),
        "early_stopping_rounds": Option(EARLY_STOPPING_ROUNDS, int, low=0,
                                        help="stop a trial whose validation loss has not "
                                             "improved for this many rounds and score it "
                                             "at its best round (0: off, every round "
                                             "trained, scored at the last)"),
        "n_jobs": Option(None, int, low=1,
                         help="threads per trial (default: OMP_NUM_THREADS, which --n-jobs "
                              "sets to cores // n_jobs in each worker, else 1)"),
        "model": Option(None, str, help="module:function or file.py:function returning an "
                                        "unfitted estimator of the library, configured "
                                        "your way"),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.config["model"]:
            load_model_function(self.config["model"])  # fail now, not in every trial

    def parameters(self) -> set[str] | None:
        """The estimator's parameter names; any for a ``--model`` estimator."""
        return None if self.config["model"] else set(self.known_params)

    def parameter_ranges(self) -> dict[str, str]:
        """The library's own bounds of the built-in estimator's parameters (a space that
        reaches past one is refused before the first trial); none for a ``--model``."""
        return {} if self.config["model"] else dict(self.known_ranges)

    def kind_of(self, dataset: Dataset, classes: Any) -> str:
        if dataset.task == "regression":
            return "regression"
        return "binary" if len(classes) <= 2 else "multiclass"

    def estimator_class(self, kind: str) -> Any:
        raise NotImplementedError

    def estimator_types(self) -> tuple[type, ...]:
        """What a ``--model`` function may return."""
        raise NotImplementedError

    def build(self, params: dict[str, Any], kind: str, dataset: Dataset) -> Any:
        """An unfitted estimator: the user's (``--model``) or the library's with ``params``;
        its threads from ``n_jobs``, its seed from the study's when it has none."""
        if self.config["model"]:
            fn = load_model_function(self.config["model"])
            est = call_model_function(fn, params, input_shape=dataset.input_shape,
                                      n_classes=dataset.n_classes, task=dataset.task)
            if not isinstance(est, self.estimator_types()):
                names = " or ".join(t.__name__ for t in self.estimator_types())
                raise TypeError(f"--model {self.config['model']} returned "
                                f"{type(est).__name__}, not an unfitted {names}")
            if "n_estimators" in params:  # the final retrain's best round (final_params)
                est.set_params(n_estimators=int(params["n_estimators"]))
        else:
            unknown = sorted(set(params) - self.known_params)
            if unknown:
                raise ValueError(f"the {self.name} backend has no parameter '{unknown[0]}' "
                                 f"(it knows {', '.join(sorted(self.known_params))}; use "
                                 "--model for your own estimator)")
            est = self.estimator_class(kind)(**{"n_estimators": self.config["n_estimators"],
                                                **self.fixed_params, **params})
            est.set_params(n_estimators=int(est.get_params()["n_estimators"]))
        if est.get_params().get("random_state") is None:
            est.set_params(random_state=self.seed or 0)
        return est.set_params(n_jobs=threads(self.config["n_jobs"]))

    # the per-round report ---------------------------------------------------------------
    def values(self, kind: str, results: dict[str, float], y_var: float) -> dict[str, float]:
        """The library's validation metrics of one round, in our names; val_loss is the
        log-loss (classification) or the MSE (regression), as the other backends report."""
        out: dict[str, float] = {}
        for lib_name, (ours, how) in self.library_metrics[kind].items():
            if lib_name not in results:
                continue
            v = float(results[lib_name])
            out[f"val_{ours}"] = 1.0 - v if how == _ONE_MINUS else v * v if how == _SQUARE else v
        if kind == "regression" and "val_mse" in out:
            out["val_rmse"] = out["val_mse"] ** 0.5
            if y_var > 0:
                out["val_r2"] = 1.0 - out["val_mse"] / y_var
            out["val_loss"] = out["val_mse"]
        elif "val_log_loss" in out:
            out["val_loss"] = out["val_log_loss"]
        return out

    def reporter(self, report: Report | None, kind: str, y_val: Any, total: int) -> Any:
        """``after_round(step, results, snapshot)``: reports one round; on a pause, the
        checkpoint is ``snapshot()`` (the booster so far) with the round. A pause or a stop
        after the last round is let go: the booster is finished (nothing is left to save,
        and LightGBM cannot go on for zero rounds), so the trial completes with it."""
        import numpy as np

        if report is None:
            return None
        y_var = float(np.var(np.asarray(y_val, dtype=float))) if kind == "regression" else 0.0

        def after_round(step: int, results: dict[str, float], snapshot: Any) -> None:
            after_round.last = step  # LightGBM keeps only the best rounds after stopping
            try:
                report(step, self.values(kind, results, y_var))
            except TrialPruned as exc:  # a stop, or a pause (TrialPaused is one)
                if step >= total:
                    return
                if isinstance(exc, TrialPaused):
                    exc.checkpoint = {"round": int(step), "booster": snapshot()}
                raise

        return after_round

    # training ---------------------------------------------------------------------------
    def fit(self, params: dict[str, Any], x: Any, y: Any, dataset: Dataset, *,
            validation: tuple[Any, Any] | None = None, report: Report | None = None,
            resume: Any = None) -> Boosted:
        """``resume``: a paused fit's checkpoint ``{"round", "booster"}``; training goes on
        from that booster for the rounds left."""
        import numpy as np

        x = flat(x)
        classes = np.unique(y) if dataset.task == "classification" else None
        kind = self.kind_of(dataset, classes if classes is not None else [])
        target = to_index(classes, y) if classes is not None else np.asarray(y, dtype=float)
        est = self.build(params, kind, dataset)
        given = est.get_params()["n_estimators"]  # None: the library's default
        total = int(self.config["n_estimators"] if given is None else given)
        if total < 1:
            raise ValueError(f"n_estimators is {total}: a booster needs at least 1 round")
        done = 0 if resume is None else int(resume["round"])
        est.set_params(n_estimators=total - done)
        val = None
        if validation is not None:
            xv, yv = validation
            val = (flat(xv), to_index(classes, yv) if classes is not None
                   else np.asarray(yv, dtype=float))
        after_round = self.reporter(report, kind, val[1] if val else None, total)
        if after_round is not None:
            after_round.offset = done  # the rounds before this call (a resumed trial's)
        self.train(est, kind, x, target, val, after_round,
                   None if resume is None else resume["booster"])
        rounds, best = self.rounds_of(est)
        rounds = max(rounds, getattr(after_round, "last", 0))
        return Boosted(est, classes, rounds, best)

    def train(self, est: Any, kind: str, x: Any, y: Any, validation: tuple[Any, Any] | None,
              after_round: Any, booster: Any) -> None:
        """Fit ``est``: the library's validation metrics of ``kind`` each round to
        ``after_round``, from ``booster`` (a checkpoint) when given."""
        raise NotImplementedError

    def rounds_of(self, est: Any) -> tuple[int, int]:
        """(rounds in the model, the round the model predicts with)."""
        raise NotImplementedError

    def final_params(self, params: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
        """The final retrain boosts as many rounds as the best trial's model predicted with
        (fewer than its ``n_estimators`` when early stopping stopped it)."""
        if self.config["early_stopping_rounds"] and metrics.get("best_round"):
            return {**params, "n_estimators": max(1, int(round(metrics["best_round"])))}
        return params

    def early_stopping(self, validation: Any) -> int | None:
        """The patience for this fit: none without validation rows (the final retrain
        boosts the best trial's best round instead) or when the option is 0."""
        return (self.config["early_stopping_rounds"] or None) if validation is not None \
            else None

    # predicting and scoring -------------------------------------------------------------
    def predict_proba(self, model: Boosted, x: Any) -> Any | None:
        import numpy as np

        if model.classes is None:
            return None
        proba = np.asarray(model.estimator.predict_proba(flat(x)), dtype=float)
        if not np.all(np.isfinite(proba)):
            raise RuntimeError("the model predicts NaN probabilities")
        return proba

    def predict(self, model: Boosted, x: Any) -> Any:
        import numpy as np

        if model.classes is None:
            pred = np.asarray(model.estimator.predict(flat(x)), dtype=float)
            if not np.all(np.isfinite(pred)):
                raise RuntimeError("the model predicts NaN or infinite values")
            return pred
        return model.classes[self.predict_proba(model, x).argmax(axis=1)]

    def score(self, model: Boosted, x: Any, y: Any, dataset: Dataset,
              metrics: Sequence[Metric] = ()) -> dict[str, float]:
        """Every metric of the task and each of ``metrics`` (labels as column positions,
        for log-loss and AUC), and ``rounds`` / ``best_round``: the rounds trained and
        the one predicting."""
        from hpo_framework.contracts.metrics import score_all

        if model.classes is None:
            pred, proba, target = self.predict(model, x), None, y
        else:
            proba = self.predict_proba(model, x)
            pred, target = proba.argmax(axis=1), to_index(model.classes, y)
        scores = score_all(dataset.task, target, pred, proba)
        scores.update(scored(metrics, target, pred, proba, skip=scores))
        return {**scores, "rounds": float(model.rounds), "best_round": float(model.best_round)}

    def n_params(self, model: Boosted) -> int | None:
        """The nodes (split nodes and leaves) of the trees the model predicts with (up to
        ``best_round``; every class's trees): a split holds a feature and a threshold, a
        leaf a value. None when the library's model cannot be read."""
        try:
            return self.tree_nodes(model)
        except Exception:  # an unusual booster (gblinear, say): nothing is recorded
            return None

    def tree_nodes(self, model: Boosted) -> int | None:
        raise NotImplementedError


def flat(x: Any) -> Any:
    """Trees want 2-D input; images become rows of pixels."""
    import numpy as np

    x = np.asarray(x)
    return x.reshape(len(x), -1) if x.ndim != 2 else x
