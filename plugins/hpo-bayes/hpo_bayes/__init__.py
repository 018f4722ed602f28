"""hpo-framework strategy ``bayes``: Gaussian-process Bayesian optimisation with log-EI.

One idea per module, as Optuna's ``optuna/_gp/``:

- :mod:`.gp`: the GP (scikit-optimize's regressor) and the fit of its hyperparameters;
  :mod:`.prior`: the priors on them
- :mod:`.search_space`: the GP's inputs (unit cube, one-hot categoricals, snapping);
  :mod:`.transforms`: the losses as the GP sees them
- :mod:`.acqf`: log expected improvement; :mod:`.optim_mixed`: maximizing it
- :mod:`.multi`: several objectives (ParEGO, or exact log-EHVI) and constraints (the
  probability of feasibility)
- :mod:`.history`: what the model is told for failed and pruned trials;
  :mod:`.curve`: a pruned trial's final loss predicted from learning curves
- :mod:`.initial`: the initial design; :mod:`.seeds`: every random choice
- :mod:`.strategy`: the ``Strategy`` that wires them together

scikit-optimize's own ``Optimizer`` (EI/PI/LCB, tree models) is the ``skopt`` strategy
(distribution ``hpo-skopt``).
"""

from hpo_framework import hookimpl
from hpo_framework.contracts import lazy_getattr

__all__ = ["BayesStrategy", "register_strategies"]

#: the public names, imported on first use (hpo-run --help loads this module, not the
#: modules that define them)
__getattr__ = lazy_getattr(__name__, {"BayesStrategy": "strategy"})


@hookimpl
def register_strategies(register):
    from .strategy import BayesStrategy

    register("bayes", BayesStrategy, "Bayesian optimisation: a Gaussian process with log-EI",
             default=100)
