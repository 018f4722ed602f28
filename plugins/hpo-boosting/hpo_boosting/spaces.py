"""Default search spaces, from the literature.

XGBoost: Grinsztajn, Oyallon & Varoquaux (2022), "Why do tree-based models still
outperform deep learning on typical tabular data?" (NeurIPS Datasets and Benchmarks),
Appendix table of the XGBoost search space (itself from Gorishniy et al. 2021).
LightGBM: Optuna's ``LightGBMTuner`` ranges and its ``examples/lightgbm/lightgbm_simple.py``
(Akiba et al. 2019). Two changes for both: the number of rounds is capped at
``MAX_ROUNDS`` (the paper goes to 6000; small data needs far fewer, and pruning by round
is what shortens the long ones) and the learning rate starts at 5e-3: with at most 500
rounds, a rate times rounds under about 2.5 leaves the trees unfitted: none of the 156
best configurations (every method, seed and library-dataset pair of
``benchmarks/results/boosting-auto-runs.json``, the space from 1e-3) had a rate under
0.0055, and the range below 5e-3 was a quarter of the log range, so of a random start.
"""

from __future__ import annotations

from typing import Any

MIN_ROUNDS, MAX_ROUNDS = 50, 500


def _log(low: float, high: float) -> dict[str, Any]:
    return {"type": "float", "low": low, "high": high, "log": True}


def _uniform(low: float, high: float) -> dict[str, Any]:
    return {"type": "float", "low": low, "high": high}


def rounds() -> dict[str, Any]:
    return {"type": "int", "low": MIN_ROUNDS, "high": MAX_ROUNDS}


def xgboost_space() -> dict[str, Any]:
    """Grinsztajn et al. (2022): depth 1-11, min child weight log 1-100, subsample and
    column sampling 0.5-1, L1 log 1e-8-100, L2 log 1-4, gamma log 1e-8-7."""
    return {
        "n_estimators": rounds(),
        "learning_rate": _log(5e-3, 0.7),
        "max_depth": {"type": "int", "low": 1, "high": 11},
        "min_child_weight": _log(1.0, 100.0),
        "subsample": _uniform(0.5, 1.0),
        "colsample_bytree": _uniform(0.5, 1.0),
        "reg_alpha": _log(1e-8, 100.0),
        "reg_lambda": _log(1.0, 4.0),
        "gamma": _log(1e-8, 7.0),
    }


def lightgbm_space() -> dict[str, Any]:
    """Optuna's LightGBMTuner: leaves 2-256, min child samples 5-100, bagging and
    feature fraction 0.4-1, L1 and L2 log 1e-8-10 (bagging every round: subsample_freq=1).
    Leaves and min child samples on a log scale, as FLAML's LightGBM space has them
    (``LGBMEstimator.search_space`` in microsoft/FLAML ``flaml/automl/model.py``: both
    ``lograndint``; Wang et al. 2021, MLSys): uniform in 2-256 put three quarters of the
    trials above 64 leaves, which trees on a few hundred rows cannot grow (with 5 or more
    rows a leaf, 387 rows give at most 77 leaves), and the last run's best LightGBMTuner
    trees had 2-37 leaves."""
    return {
        "n_estimators": rounds(),
        "learning_rate": _log(5e-3, 0.7),
        "num_leaves": {"type": "int", "low": 2, "high": 256, "log": True},
        "min_child_samples": {"type": "int", "low": 5, "high": 100, "log": True},
        "subsample": _uniform(0.4, 1.0),
        "colsample_bytree": _uniform(0.4, 1.0),
        "reg_alpha": _log(1e-8, 10.0),
        "reg_lambda": _log(1e-8, 10.0),
    }
