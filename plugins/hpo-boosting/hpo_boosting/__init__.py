"""hpo-boosting: the ``xgboost`` and ``lightgbm`` backends (gradient-boosted trees).

One distribution for both: they share the round-by-round reporting, the checkpoints, the
options, the scoring and the tests, so they stay in step (the price: installing it brings
both libraries).
Importing this module imports neither library: the registry loads it for ``--help``.
"""

from hpo_framework.contracts import lazy_getattr
from hpo_framework.contracts.hookspecs import hookimpl

__all__ = ["LightGBMBackend", "XGBoostBackend"]

#: the public names, imported on first use (hpo-run --help loads this module, not the
#: modules that define them)
__getattr__ = lazy_getattr(__name__, {"LightGBMBackend": "lgbm", "XGBoostBackend": "xgb"})


@hookimpl
def register_backends(register):
    from .lgbm import LightGBMBackend
    from .xgb import XGBoostBackend

    register("xgboost", XGBoostBackend,
             "XGBoost trees (XGBClassifier/XGBRegressor), pruned by boosting round")
    register("lightgbm", LightGBMBackend,
             "LightGBM trees (LGBMClassifier/LGBMRegressor), pruned by boosting round")
