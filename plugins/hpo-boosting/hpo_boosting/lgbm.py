"""The ``lightgbm`` backend: LGBMClassifier / LGBMRegressor, one report per boosting round.

Rounds are reported through a LightGBM callback (a function of ``env``); a paused trial's
checkpoint is the booster's model text, and a resumed trial trains the rounds left on top
of it (``init_model=``).
"""

from __future__ import annotations

import re
from typing import Any

from hpo_framework.contracts.dataset import Dataset

from .common import _ONE_MINUS, _SAME, BoostingBackend
from .spaces import lightgbm_space

#: a tree's leaf count in LightGBM's model text (one ``num_leaves=`` line per tree)
_LEAVES = re.compile(r"^num_leaves=(\d+)$", re.MULTILINE)


def _round_callback(after_round: Any) -> Any:
    """After each round: the validation set's metrics to the trial's report."""

    def report_round(env: Any) -> None:
        results = {name: value for _, name, value, _ in (env.evaluation_result_list or [])}
        # rounds of this call after the checkpoint's: env.iteration starts at the init
        # model's tree count, which is short of its rounds when a round could not split
        # (a resumed trial would report old steps again and be paused there forever)
        step = getattr(after_round, "offset", 0) + env.iteration - env.begin_iteration + 1
        after_round(step, results, lambda: env.model.model_to_string(num_iteration=-1))

    report_round.order = 25  # before LightGBM's early stopping (30): every round is reported
    return report_round


def _eval_set(validation: tuple[Any, Any] | None) -> dict[str, Any]:
    """LightGBM 4.7 takes ``eval_X``/``eval_y`` (``eval_set`` is deprecated); 4.0-4.6
    only ``eval_set``."""
    import inspect

    import lightgbm

    if validation is None:
        return {}
    if "eval_X" in inspect.signature(lightgbm.LGBMModel.fit).parameters:
        return {"eval_X": (validation[0],), "eval_y": (validation[1],)}
    return {"eval_set": [validation]}


class LightGBMBackend(BoostingBackend):
    """LightGBM's scikit-learn estimators; the space's names are theirs."""

    name = "lightgbm"
    # the first metric is the one early stopping watches (first_metric_only): the loss
    lgb_metrics = {"binary": ["binary_logloss", "binary_error", "auc"],
                   "multiclass": ["multi_logloss", "multi_error"], "regression": ["l2", "l1"]}
    library_metrics = {
        "binary": {"binary_error": ("accuracy", _ONE_MINUS), "auc": ("roc_auc", _SAME),
                   "binary_logloss": ("log_loss", _SAME)},
        "multiclass": {"multi_error": ("accuracy", _ONE_MINUS),
                       "multi_logloss": ("log_loss", _SAME)},
        "regression": {"l1": ("mae", _SAME), "l2": ("mse", _SAME)},
    }
    fixed_params = {"subsample_freq": 1}  # bagging every round, as Optuna's tuner does
    known_params = {
        "n_estimators", "learning_rate", "num_leaves", "max_depth", "min_child_samples",
        "min_child_weight", "min_split_gain", "subsample", "subsample_freq",
        "colsample_bytree", "reg_alpha", "reg_lambda", "max_bin", "boosting_type",
    }
    #: LightGBM's own checks (its "constraints"), and at least one round
    known_ranges = {
        "n_estimators": "[1, inf)", "learning_rate": "(0, inf)", "num_leaves": "[2, 131072]",
        "min_child_samples": "[0, inf)", "min_child_weight": "[0, inf)",
        "min_split_gain": "[0, inf)", "subsample": "(0, 1]", "colsample_bytree": "(0, 1]",
        "reg_alpha": "[0, inf)", "reg_lambda": "[0, inf)", "max_bin": "[2, inf)",
    }

    def default_space(self, dataset: Dataset) -> dict[str, Any]:
        """Optuna's LightGBMTuner ranges, rounds capped at 500 (see spaces.py)."""
        return lightgbm_space()

    def warm_up(self) -> None:
        import lightgbm  # noqa: F401

    def estimator_class(self, kind: str) -> Any:
        import lightgbm

        return lightgbm.LGBMRegressor if kind == "regression" else lightgbm.LGBMClassifier

    def estimator_types(self) -> tuple[type, ...]:
        import lightgbm

        return (lightgbm.LGBMClassifier, lightgbm.LGBMRegressor)

    def train(self, est: Any, kind: str, x: Any, y: Any, validation: tuple[Any, Any] | None,
              after_round: Any, booster: Any) -> None:
        import lightgbm

        est.set_params(metric=self.lgb_metrics[kind], verbose=1 if self.verbose else -1)
        callbacks = []
        patience = self.early_stopping(validation)
        if patience:
            callbacks.append(lightgbm.early_stopping(patience, first_metric_only=True,
                                                     verbose=self.verbose))
        if after_round and validation:
            callbacks.append(_round_callback(after_round))
        init = None if booster is None else lightgbm.Booster(model_str=booster)
        est.fit(x, y, **_eval_set(validation), callbacks=callbacks, init_model=init)

    def rounds_of(self, est: Any) -> tuple[int, int]:
        rounds = int(est.booster_.current_iteration())
        best = int(getattr(est, "best_iteration_", 0) or 0)
        return rounds, best if best > 0 else rounds

    def tree_nodes(self, model: Any) -> int | None:
        """Nodes of the trees of the first ``best_round`` rounds: a tree of ``n`` leaves
        has ``n - 1`` splits (each tree's ``num_leaves=`` line in the booster's model text:
        8-10x cheaper than ``dump_model``'s JSON, which took as long as the fit itself on
        the benchmark's small sets)."""
        text = model.estimator.booster_.model_to_string(num_iteration=int(model.best_round))
        return int(sum(2 * int(n) - 1 for n in _LEAVES.findall(text)))

    def save(self, model: Any, path: str) -> str:
        if not path.endswith(".txt"):
            path += ".txt"
        model.estimator.booster_.save_model(path)
        return path
