"""hpo-tpe: the ``tpe`` strategy, a multivariate tree-structured Parzen estimator.

Importing the plugin costs no numpy: the model's modules load on the first ask, so
``hpo-run --help`` stays fast.
"""

from hpo_framework import hookimpl
from hpo_framework.contracts import lazy_getattr

__all__ = ["TPEStrategy"]

#: the public names, imported on first use (hpo-run --help loads this module, not the
#: modules that define them)
__getattr__ = lazy_getattr(__name__, {"TPEStrategy": "strategy"})


@hookimpl
def register_strategies(register):
    from .strategy import TPEStrategy

    register("tpe", TPEStrategy,
             "tree-structured Parzen estimator (multivariate, grouped for conditional "
             "spaces): cheap proposals for cheap trials and large budgets")
