"""hpo-framework strategy ``skopt``: scikit-optimize's ``Optimizer``, rebuilt before each ask.

skopt keeps its state in memory, so a resumed study could not continue it: the core's
``RebuildingStrategy`` hands :meth:`SkoptStrategy.propose` the history and a seed
derived from (study seed, number asked), and a fresh ``Optimizer`` is told the history
in one call (one model fit per ask). Its acquisition functions (EI, PI, LCB) and its
surrogates (GP, random forest, extra trees, gradient-boosted trees) are the point of
this strategy; ``bayes`` runs its own GP with log-EI. ``gp_hedge`` is not offered: its
bandit learns from every earlier fit, which a rebuilt optimizer does not have (it would
pick one of EI, PI, LCB uniformly at random on each ask).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hpo_framework import Option, OptionError, Trial, hookimpl
from hpo_framework.contracts.strategy import RebuildingStrategy, derived_seed

ESTIMATORS = ("GP", "RF", "ET", "GBRT")


def gbrt_regressor(random_state: int) -> Any:
    """skopt's GBRT, usable with scikit-learn >= 1.6 and numpy >= 2.4.

    skopt declares ``GradientBoostingQuantileRegressor(BaseEstimator, RegressorMixin)``;
    since scikit-learn 1.6 estimator tags follow the MRO, so that order makes
    ``is_regressor`` false and ``Optimizer`` rejects it ("has to be a regressor").
    Setting the regressor tag restores it. Its ``predict(return_std=True)`` also calls
    ``np.in1d``, removed in numpy 2.4; the override below is the same computation.
    """
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.utils import RegressorTags
    from skopt.learning import GradientBoostingQuantileRegressor

    class GBRTRegressor(GradientBoostingQuantileRegressor):
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
            return tags

        def predict(self, X, return_std=False, return_quantiles=False):
            if not return_std or return_quantiles:
                return super().predict(X, return_std=False, return_quantiles=return_quantiles)
            by_q = dict(zip(self.quantiles, self.regressors_, strict=True))
            low, mean, high = (by_q[q].predict(X) for q in (0.16, 0.5, 0.84))
            return mean, (high - low) / 2.0

    GBRTRegressor.__module__ = __name__
    return GBRTRegressor(base_estimator=GradientBoostingRegressor(n_estimators=30,
                                                                  loss="quantile"),
                         random_state=random_state)


class SkoptStrategy(RebuildingStrategy):
    """scikit-optimize's ``Optimizer`` (EI/PI/LCB on a GP or a tree ensemble)."""

    name = "skopt"
    options = {
        "base_estimator": Option("GP", str, choices=ESTIMATORS, nullable=False,
                                 help="surrogate model: Gaussian process, random forest, "
                                      "extra trees, gradient-boosted trees"),
        "acq_func": Option("EI", str, choices=("EI", "PI", "LCB"), nullable=False,
                           help="acquisition function: expected improvement, probability "
                                "of improvement, lower confidence bound"),
        "xi": Option(0.01, float, low=0.0, nullable=False,
                     help="EI/PI: minimum improvement, in loss units; larger explores more"),
        "kappa": Option(1.96, float, low=0.0, nullable=False,
                        help="LCB: weight of the uncertainty; larger explores more"),
        "n_initial_points": Option(10, int, low=1, nullable=False,
                                   help="space-filling points before the model is used"),
        "initial_point_generator": Option("sobol", str,
                                          choices=("random", "sobol", "lhs", "halton"),
                                          nullable=False, help="how the initial points are drawn"),
        "acq_optimizer": Option("auto", str, choices=("auto", "lbfgs", "sampling"),
                                nullable=False,
                                help="lbfgs (GP only) or sampling; auto: lbfgs for GP, "
                                     "sampling for trees"),
        "n_points": Option(1000, int, low=10, nullable=False,
                           help="random candidates scored per proposal (skopt: 10000)"),
        "n_restarts_optimizer": Option(3, int, low=1, nullable=False,
                                       help="lbfgs: starts from the best candidates (skopt: 5)"),
        "kernel_restarts": Option(0, int, low=0, nullable=False,
                                  help="GP: extra random starts of the kernel "
                                       "hyperparameter fit (skopt: 2)"),
        "liar": Option("cl_min", str, choices=("cl_min", "cl_mean", "cl_max"), nullable=False,
                       help="loss told for configurations still running when more are "
                            "asked: the best, mean or worst so far"),
    }

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """An option that the chosen model or acquisition would ignore is refused."""
        config = super().validate(given)
        tree = config["base_estimator"] != "GP"
        sampling = tree or config["acq_optimizer"] == "sampling"
        ignored = {"kappa": config["acq_func"] != "LCB", "xi": config["acq_func"] == "LCB",
                   "kernel_restarts": tree, "n_restarts_optimizer": sampling}
        for key, unused in ignored.items():  # its default, given, changes nothing either
            if unused and key in given and given[key] != cls.options[key].default:
                raise OptionError(f"strategy 'skopt': option '{key}' has no effect with "
                                  f"base_estimator={config['base_estimator']}, "
                                  f"acq_func={config['acq_func']}, "
                                  f"acq_optimizer={config['acq_optimizer']}: leave it out")
        if tree and config["acq_optimizer"] == "lbfgs":
            raise OptionError(f"strategy 'skopt': base_estimator={config['base_estimator']} "
                              "has no gradients: use acq_optimizer=sampling or auto")
        return config

    def __init__(self, space, seed=None, **options: Any) -> None:
        super().__init__(space, seed=seed, **options)
        self._dims = len(space.searchable)
        self._initial = self._initial_points() if self._dims else []

    def _initial_points(self) -> list[list[float]]:
        """The initial design, fixed by the study seed alone (every rebuild shares it)."""
        import numpy as np

        n, generator = self.config["n_initial_points"], self.config["initial_point_generator"]
        seed = derived_seed(self.seed, "initial")
        if generator == "random":
            return np.random.RandomState(seed).uniform(size=(n, self._dims)).tolist()
        from skopt.space import Real
        from skopt.utils import cook_initial_point_generator

        with warnings.catch_warnings():  # Sobol': "n should be a power of 2"
            warnings.simplefilter("ignore", UserWarning)
            points = cook_initial_point_generator(generator).generate(
                [Real(0.0, 1.0) for _ in range(self._dims)], n, random_state=seed)
        return [[float(v) for v in p] for p in points]

    def _optimizer(self, seed: int) -> Any:
        from skopt import Optimizer
        from skopt.space import Real

        cfg = self.config
        estimator: Any = cfg["base_estimator"]
        if estimator == "GBRT":
            estimator = gbrt_regressor(seed)
        acq_optimizer = cfg["acq_optimizer"]
        if acq_optimizer == "auto":
            acq_optimizer = "lbfgs" if estimator == "GP" else "sampling"
        opt = Optimizer([Real(0.0, 1.0) for _ in range(self._dims)], base_estimator=estimator,
                        n_initial_points=0, acq_func=cfg["acq_func"],
                        acq_optimizer=acq_optimizer, random_state=seed,
                        acq_func_kwargs={"xi": cfg["xi"], "kappa": cfg["kappa"]},
                        acq_optimizer_kwargs={"n_points": cfg["n_points"],
                                              "n_restarts_optimizer": cfg["n_restarts_optimizer"]},
                        model_queue_size=1)
        if estimator == "GP":
            opt.base_estimator_.set_params(n_restarts_optimizer=cfg["kernel_restarts"])
        return opt

    def propose(self, history: Sequence[Trial], pending: Sequence[dict[str, Any]], n: int,
                seed: int) -> list[dict[str, Any]]:
        """The initial design's next points, then the model's: the finished trials told
        (failed and pruned ones as the worst loss seen), the running ones as ``liar``."""
        if not self._dims:
            return [self.space.decode([])]
        start = len(history) + len(pending)  # how many configurations were asked before
        out = [self.space.decode(u) for u in self._initial[start:start + n]]
        losses = [t.loss for t in history if t.loss is not None and t.state.value == "COMPLETE"]
        if len(out) == n or len(set(losses)) < 2:  # no model yet: the rest filled at random
            return out
        worst = max(losses)
        xs = [self.space.encode(t.params) for t in history]
        ys = [t.loss if t.loss is not None and t.state.value == "COMPLETE" else worst
              for t in history]
        running = [self.space.encode(p) for p in [*pending, *out]]
        if running:
            liar = self.config["liar"]
            lie = min(ys) if liar == "cl_min" else max(ys) if liar == "cl_max" else sum(ys) / len(ys)
            xs, ys = xs + running, ys + [lie] * len(running)
        from threadpoolctl import threadpool_limits

        # matrices of a few hundred rows: BLAS threads only add contention
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "evaluated at this point before" (binned ints)
            opt = self._optimizer(seed)
            opt.tell(xs, ys)
            asked = opt.ask(n - len(out), strategy=self.config["liar"])
        return out + [self.space.decode([float(v) for v in u]) for u in asked]

    @property
    def done(self) -> bool:
        return not self._dims and bool(self.history or self._pending)


@hookimpl
def register_strategies(register):
    register("skopt", SkoptStrategy,
             "scikit-optimize's Optimizer: EI/PI/LCB on a GP, RF, ET or GBRT")
