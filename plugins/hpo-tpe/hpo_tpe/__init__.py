"""hpo-tpe: the ``tpe`` strategy, a multivariate tree-structured Parzen estimator.

Importing the plugin costs no numpy: the model's modules load on the first ask, so
``hpo-run --help`` stays fast.
"""

from hpo_framework import hookimpl

from .strategy import TPEStrategy

__all__ = ["TPEStrategy"]


@hookimpl
def register_strategies(register):
    register("tpe", TPEStrategy,
             "tree-structured Parzen estimator (multivariate, grouped for conditional "
             "spaces): cheap proposals for cheap trials and large budgets")
