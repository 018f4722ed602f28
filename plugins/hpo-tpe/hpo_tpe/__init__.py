"""hpo-tpe: the ``tpe`` strategy, a multivariate tree-structured Parzen estimator.

Importing the plugin costs no numpy: the model's modules load on the first ask, so
``hpo-run --help`` stays fast.
"""

from hpo_framework import hookimpl

__all__ = ["TPEStrategy"]

#: the public names, imported on first use: hpo-run --help loads this module, not
#: the strategy's module (and no __dir__: pluggy reads every name that dir() lists)
_WHERE = {"TPEStrategy": ".strategy"}


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


@hookimpl
def register_strategies(register):
    from .strategy import TPEStrategy

    register("tpe", TPEStrategy,
             "tree-structured Parzen estimator (multivariate, grouped for conditional "
             "spaces): cheap proposals for cheap trials and large budgets")
