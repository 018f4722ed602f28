"""The ``xgboost`` backend: XGBClassifier / XGBRegressor, one report per boosting round.

Rounds are reported through an ``xgboost.callback.TrainingCallback``; a paused trial's
checkpoint is the booster's raw model (UBJSON bytes), and a resumed trial trains the
rounds left on top of it (``xgb_model=``).
"""

from __future__ import annotations

import re
from typing import Any

from hpo_framework.contracts.dataset import Dataset

from .common import _ONE_MINUS, _SAME, _SQUARE, BoostingBackend
from .spaces import xgboost_space

_CALLBACK: Any = None
#: up to this many cells (rows x columns of the training set) a fit reads its data through a
#: plain ``DMatrix``, beyond it through XGBoost's memory-saving ``QuantileDMatrix`` (what the
#: scikit-learn estimators pick for ``hist``). Same trees, same predictions; the quantile
#: one has a fixed cost of tens of milliseconds a matrix, most of a trial's fit on small
#: data (``benchmarks/xgb_dmatrix.py``), while above this size the raw copy a plain DMatrix
#: keeps beside its histogram index is 40 MB (float32) and more. On a GPU (``device``
#: other than cpu) the quantile one is kept
PLAIN_DMATRIX_CELLS = 10_000_000
#: a tree's node count in the booster's JSON model
_NUM_NODES = re.compile(rb'"num_nodes":"(\d+)"')


def _round_callback() -> Any:
    """The callback class, made once (xgboost is imported lazily)."""
    global _CALLBACK
    if _CALLBACK is None:
        import xgboost

        class RoundReport(xgboost.callback.TrainingCallback):
            """After each round: the validation set's metrics to the trial's report."""

            def __init__(self, after_round: Any) -> None:
                super().__init__()
                self.after_round = after_round

            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                results = {k: v[-1] for k, v in evals_log.get("validation_0", {}).items()}
                # the booster's own count: a resumed booster goes on from its rounds
                self.after_round(model.num_boosted_rounds(), results,
                                 lambda: bytes(model.save_raw("ubj")))
                return False

        _CALLBACK = RoundReport
    return _CALLBACK


def _plain_dmatrix(est: Any) -> Any:
    """What ``XGBModel._create_dmatrix`` makes, as a plain ``DMatrix`` with the estimator's
    threads (``hist`` builds the same histogram index from it, once per matrix)."""
    import xgboost

    def create(ref: Any = None, **kwargs: Any) -> Any:
        return xgboost.DMatrix(**kwargs, nthread=est.get_params().get("n_jobs"))

    return create


class XGBoostBackend(BoostingBackend):
    """XGBoost's scikit-learn estimators; the space's names are theirs."""

    name = "xgboost"
    # the last metric is the one early stopping watches: the loss
    eval_metrics = {"binary": ["error", "auc", "logloss"], "multiclass": ["merror", "mlogloss"],
                    "regression": ["mae", "rmse"]}
    library_metrics = {
        "binary": {"error": ("accuracy", _ONE_MINUS), "auc": ("roc_auc", _SAME),
                   "logloss": ("log_loss", _SAME)},
        "multiclass": {"merror": ("accuracy", _ONE_MINUS), "mlogloss": ("log_loss", _SAME)},
        "regression": {"mae": ("mae", _SAME), "rmse": ("mse", _SQUARE)},
    }
    known_params = {
        "n_estimators", "learning_rate", "max_depth", "max_leaves", "min_child_weight",
        "subsample", "colsample_bytree", "colsample_bylevel", "colsample_bynode", "reg_alpha",
        "reg_lambda", "gamma", "max_delta_step", "max_bin", "grow_policy", "scale_pos_weight",
        "tree_method", "booster",
    }
    #: XGBoost's own checks (its parameter bounds), and at least one round
    known_ranges = {
        "n_estimators": "[1, inf)", "learning_rate": "[0, inf)", "max_depth": "[0, inf)",
        "max_leaves": "[0, inf)", "min_child_weight": "[0, inf)", "subsample": "[0, 1]",
        "colsample_bytree": "[0, 1]", "colsample_bylevel": "[0, 1]",
        "colsample_bynode": "[0, 1]", "reg_alpha": "[0, inf)", "reg_lambda": "[0, inf)",
        "gamma": "[0, inf)", "max_delta_step": "[0, inf)", "max_bin": "[2, inf)",
        "scale_pos_weight": "[0, inf)",
    }

    def default_space(self, dataset: Dataset) -> dict[str, Any]:
        """Grinsztajn et al. (2022), rounds capped at 500 (see spaces.py)."""
        return xgboost_space()

    def warm_up(self) -> None:
        import xgboost  # noqa: F401

    def estimator_class(self, kind: str) -> Any:
        import xgboost

        return xgboost.XGBRegressor if kind == "regression" else xgboost.XGBClassifier

    def estimator_types(self) -> tuple[type, ...]:
        import xgboost

        return (xgboost.XGBClassifier, xgboost.XGBRegressor)

    def train(self, est: Any, kind: str, x: Any, y: Any, validation: tuple[Any, Any] | None,
              after_round: Any, booster: Any) -> None:
        import xgboost

        callbacks = list(est.get_params().get("callbacks") or [])
        if after_round and validation:
            callbacks.append(_round_callback()(after_round))
        est.set_params(callbacks=callbacks or None, eval_metric=self.eval_metrics[kind],
                       verbosity=1 if self.verbose else 0)
        if validation is None or est.get_params().get("early_stopping_rounds") is None:
            # a --model estimator's own early_stopping_rounds wins over the option's
            est.set_params(early_stopping_rounds=self.early_stopping(validation))
        init = None
        if booster is not None:
            init = xgboost.Booster()
            init.load_model(bytearray(booster))
        plain = getattr(x, "size", PLAIN_DMATRIX_CELLS + 1) <= PLAIN_DMATRIX_CELLS \
            and hasattr(est, "_create_dmatrix") \
            and str(est.get_params().get("device") or "cpu").startswith("cpu")
        if plain:  # the estimator's own factory (a method) is back after the fit
            est._create_dmatrix = _plain_dmatrix(est)
        try:
            est.fit(x, y, eval_set=[validation] if validation else None, xgb_model=init,
                    verbose=False)
        finally:
            if plain:
                del est._create_dmatrix  # the estimator as the library made it

    def rounds_of(self, est: Any) -> tuple[int, int]:
        rounds = int(est.get_booster().num_boosted_rounds())
        best = getattr(est, "best_iteration", None)
        return rounds, rounds if best is None else int(best) + 1

    def tree_nodes(self, model: Any) -> int | None:
        """Nodes of the first ``best_round`` rounds' trees, from the booster's JSON model
        (``num_nodes`` of each tree); a linear booster (gblinear): its weights."""
        import json

        booster = model.estimator.get_booster()
        raw = bytes(booster.save_raw("json"))
        if b'"gblinear"' in raw:
            gb = json.loads(raw)["learner"]["gradient_booster"]
            return len(gb["model"]["weights"])
        # each tree's "num_nodes", in tree order: read from the text, as parsing the whole
        # model's JSON took 2-4x as long as writing it
        trees = [int(n) for n in _NUM_NODES.findall(raw)]
        per_round = len(trees) // max(1, int(model.rounds))
        used = trees[:per_round * int(model.best_round)] if per_round else trees
        return int(sum(used))

    def save(self, model: Any, path: str) -> str:
        if not path.endswith((".json", ".ubj")):
            path += ".json"
        model.estimator.save_model(path)
        return path
