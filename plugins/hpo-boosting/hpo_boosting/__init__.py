"""hpo-boosting: the ``xgboost`` and ``lightgbm`` backends (gradient-boosted trees).

One distribution for both: they share the round-by-round reporting, the checkpoints, the
options, the scoring and the tests, so they stay in step (the price: installing it brings
both libraries).
Importing this module imports neither library: the registry loads it for ``--help``.
"""

from hpo_framework.contracts.hookspecs import hookimpl

__all__ = ["LightGBMBackend", "XGBoostBackend"]

#: the public names, imported on first use: hpo-run --help loads this module, not the
#: backends' modules (and no __dir__: pluggy reads every name that dir() lists)
_WHERE = {"LightGBMBackend": ".lgbm", "XGBoostBackend": ".xgb"}


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


@hookimpl
def register_backends(register):
    from .lgbm import LightGBMBackend
    from .xgb import XGBoostBackend

    register("xgboost", XGBoostBackend,
             "XGBoost trees (XGBClassifier/XGBRegressor), pruned by boosting round")
    register("lightgbm", LightGBMBackend,
             "LightGBM trees (LGBMClassifier/LGBMRegressor), pruned by boosting round")
