"""Bayesian optimisation on scikit-optimize's ``Optimizer`` (ask/tell), resumable and batched.

The model works in the core's unit-cube encoding of the space, so integers, categoricals,
log scales and conditional parameters (inactive ones encode to 0.5) need nothing special.
Every proposal is a function of (seed, options, history): before each model fit the
optimizer's random state is derived from the seed and the number of points, and the
history is given in trial-number order, so a resumed study asks what the uninterrupted
one would have asked. One ``skopt.Optimizer`` stays alive; each ask refits it once, with
every finished trial told in one go (and "constant liar" values for asked-but-unfinished
configurations, which is how a batch for parallel trials is built).
"""

from __future__ import annotations

import hashlib
import statistics
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hpo_framework import Option, OptionError, SpaceError, Strategy, Trial, hookimpl

ESTIMATORS = ("GP", "RF", "ET", "GBRT")
ACQ_FUNCS = ("gp_hedge", "EI", "PI", "LCB")


def _gbrt_regressor(random_state: int) -> Any:
    """skopt's GBRT, usable with scikit-learn >= 1.6.

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


class BayesStrategy(Strategy):
    """Gaussian-process (or tree) Bayesian optimisation via scikit-optimize."""

    name = "bayes"
    options = {
        "base_estimator": Option("GP", str, choices=ESTIMATORS, nullable=False,
                                 help="surrogate model: Gaussian process, random forest, "
                                      "extra trees, gradient-boosted trees"),
        "acq_func": Option("EI", str, choices=ACQ_FUNCS, nullable=False,
                           help="acquisition function (gp_hedge: skopt's default mix)"),
        "kappa": Option(1.96, float, low=0.0, nullable=False,
                        help="LCB exploration weight (larger explores more)"),
        "xi": Option(0.01, float, low=0.0, nullable=False,
                     help="EI/PI minimum improvement (larger explores more)"),
        "n_initial_points": Option(10, int, low=1, nullable=False,
                                   help="space-filling points before the model is used"),
        "initial_point_generator": Option("sobol", str,
                                          choices=("random", "sobol", "lhs", "halton"),
                                          nullable=False, help="how the initial points are drawn"),
        "x0": Option(None, (list, dict),
                     help="configuration(s) evaluated first, e.g. the known defaults"),
        "acq_optimizer": Option("auto", str, choices=("auto", "lbfgs", "sampling"),
                                nullable=False,
                                help="auto: lbfgs for GP, sampling for trees"),
        "n_points": Option(1000, int, low=10, nullable=False,
                           help="random candidates scored per proposal"),
        "n_restarts_optimizer": Option(3, int, low=1, nullable=False,
                                       help="L-BFGS starts from the best candidates"),
        "kernel_restarts": Option(0, int, low=0, nullable=False,
                                  help="GP only: extra random starts of the kernel "
                                       "hyperparameter fit (skopt: 2)"),
        "liar": Option("cl_min", str, choices=("cl_min", "cl_mean", "cl_max"), nullable=False,
                       help="value assumed for trials still running when a batch is asked"),
    }

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Options alone (before a study is written); x0's values are checked on the space."""
        config = super().validate(given)
        x0 = config["x0"]
        if x0 is not None:
            for i, p in enumerate([x0] if isinstance(x0, dict) else x0):
                if not isinstance(p, dict):
                    raise OptionError(f"strategy 'bayes': x0[{i}] must be a mapping of "
                                      f"parameter to value, got {p!r}")
        if config["base_estimator"] != "GP" and config["acq_optimizer"] == "lbfgs":
            raise OptionError(f"strategy 'bayes': base_estimator={config['base_estimator']} "
                              "has no gradients: use acq_optimizer=sampling or auto")
        return config

    def __init__(self, space, seed=None, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self._dims = len(space.searchable)
        self._x0 = self._check_x0(self.config["x0"])
        self._n_init = len(self._x0) + self.config["n_initial_points"]
        self._initial = self._initial_points()
        self._seen: set[str] = set()  # every configuration handed out or in the history
        self._pending: dict[str, list[float]] = {}  # asked, not yet told: key -> encoding
        self._told: dict[int, tuple[list[float], float | None]] = {}  # number -> (u, loss)
        self._opt: Any = None
        self._fit_key: Any = None
        self.n_fits = 0
        self.seconds = 0.0

    # setup ------------------------------------------------------------------------
    def _check_x0(self, x0: Any) -> list[dict[str, Any]]:
        if x0 is None:
            return []
        points = [x0] if isinstance(x0, dict) else list(x0)
        out = []
        for i, p in enumerate(points):
            try:
                out.append(self.space.validate(p))
            except SpaceError as exc:
                raise OptionError(f"strategy 'bayes': x0[{i}]: {exc}") from None
        return out

    def _rng(self, *parts: Any) -> Any:
        import numpy as np

        digest = hashlib.sha256(repr((self.seed or 0, *parts)).encode()).digest()
        return np.random.RandomState(int.from_bytes(digest[:4], "little"))

    def _initial_points(self) -> list[list[float]]:
        n = self.config["n_initial_points"]
        if not self._dims:
            return []
        generator = self.config["initial_point_generator"]
        if generator == "random":
            return self._rng("initial").uniform(size=(n, self._dims)).tolist()
        from skopt.space import Real
        from skopt.utils import cook_initial_point_generator

        dims = [Real(0.0, 1.0) for _ in range(self._dims)]
        sampler = cook_initial_point_generator(generator)
        with warnings.catch_warnings():  # Sobol': "n should be a power of 2" (10 is fine)
            warnings.simplefilter("ignore", UserWarning)
            points = sampler.generate(dims, n,
                                      random_state=int(self._rng("initial").randint(2**31)))
        return [[float(v) for v in p] for p in points]

    def _optimizer(self) -> Any:
        if self._opt is None:
            from skopt import Optimizer
            from skopt.space import Real

            cfg = self.config
            estimator: Any = cfg["base_estimator"]
            if estimator == "GBRT":
                estimator = _gbrt_regressor(int(self._rng("estimator").randint(2**31)))
            acq_optimizer = cfg["acq_optimizer"]
            if cfg["base_estimator"] != "GP":
                acq_optimizer = "sampling"
            self._opt = Optimizer(
                [Real(0.0, 1.0) for _ in range(self._dims)],
                base_estimator=estimator, n_initial_points=0, acq_func=cfg["acq_func"],
                acq_optimizer=acq_optimizer, random_state=int(self._rng("opt").randint(2**31)),
                acq_func_kwargs={"xi": cfg["xi"], "kappa": cfg["kappa"]},
                acq_optimizer_kwargs={"n_points": cfg["n_points"],
                                      "n_restarts_optimizer": cfg["n_restarts_optimizer"]},
                model_queue_size=1,
            )
            if cfg["base_estimator"] == "GP":
                self._opt.base_estimator_.set_params(n_restarts_optimizer=cfg["kernel_restarts"])
        return self._opt

    # the model --------------------------------------------------------------------
    def _data(self, numbers: Sequence[int] | None = None) -> tuple[list, list]:
        """Finished trials in number order; failed ones get the worst loss seen."""
        numbers = sorted(self._told) if numbers is None else numbers
        losses = [self._told[k][1] for k in numbers if self._told[k][1] is not None]
        if not losses:
            return [], []
        worst = max(losses)
        xs = [self._told[k][0] for k in numbers]
        ys = [worst if self._told[k][1] is None else self._told[k][1] for k in numbers]
        return xs, ys

    def _n_complete(self, numbers: Sequence[int]) -> int:
        return sum(1 for k in numbers if self._told[k][1] is not None)

    def _fit(self, xs: list, ys: list) -> None:
        """Refit the live optimizer on exactly (xs, ys), randomness fixed by the data size."""
        key = (len(xs), hashlib.sha256(repr((xs, ys)).encode()).hexdigest())
        if key == self._fit_key:
            return
        from threadpoolctl import threadpool_limits

        started = time.perf_counter()
        opt = self._optimizer()
        opt.Xi, opt.yi = [], []
        opt._n_initial_points = 0
        opt.rng = self._rng("fit", len(xs))
        # matrices of a few hundred rows: BLAS threads only add contention (4x slower here)
        with threadpool_limits(limits=1, user_api="blas"):
            opt._tell([list(x) for x in xs], [float(y) for y in ys])
        self._fit_key = key
        self.n_fits += 1
        self.seconds += time.perf_counter() - started

    def _model_candidates(self) -> list[list[float]]:
        xs, ys = self._data()
        if self._n_complete(sorted(self._told)) < 2:
            return []
        pending = list(self._pending.values())
        if pending:
            liar = self.config["liar"]
            lie = (min(ys) if liar == "cl_min" else max(ys) if liar == "cl_max"
                   else statistics.fmean(ys))
            xs, ys = xs + pending, ys + [lie] * len(pending)
        self._fit(xs, ys)
        opt = self._opt
        out = [list(map(float, opt._next_x))]
        for x in getattr(opt, "next_xs_", []):  # gp_hedge's other proposals
            out.append([float(v) for v in opt.space.inverse_transform(x.reshape(1, -1))[0]])
        return out

    # the contract -----------------------------------------------------------------
    def _propose(self) -> dict[str, Any] | None:
        i = self.n_asked
        candidates: list[list[float]] = []
        fixed: dict[str, Any] | None = None
        if i < len(self._x0):
            fixed = self._x0[i]
        elif i < self._n_init and self._dims:
            candidates = [self._initial[i - len(self._x0)]]
        elif self._dims:
            candidates = self._model_candidates()
        if not self._dims:
            fixed = self.space.decode([])
        options = [fixed] if fixed is not None else [self.space.decode(u) for u in candidates]
        for params in options:
            if self.space.key(params) not in self._seen:
                return params
        if not self._dims:
            return None
        rng = self._rng("fill", i)  # a duplicate (or no model yet): an unseen random point
        for _ in range(200):
            params = self.space.decode(rng.uniform(size=self._dims).tolist())
            if self.space.key(params) not in self._seen:
                return params
        return None

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        out = []
        started = time.perf_counter()
        fit_seconds = self.seconds
        for _ in range(n):
            params = self._propose()
            if params is None:
                break
            self.n_asked += 1
            key = self.space.key(params)
            self._seen.add(key)
            self._pending[key] = self.space.encode(params)
            out.append(params)
        self.seconds = fit_seconds + (time.perf_counter() - started)
        return out

    def tell(self, trials: Sequence[Trial]) -> None:
        for t in trials:
            key = self.space.key(t.params)
            self._pending.pop(key, None)
            self._seen.add(key)
            loss = t.loss if t.loss is not None and t.state.value == "COMPLETE" else None
            self._told[t.number] = (self.space.encode(t.params), loss)

    def restore(self, trials: Sequence[Trial]) -> None:
        self.n_asked = len(trials)
        self._seen = {self.space.key(t.params) for t in trials}
        self._pending = {self.space.key(t.params): self.space.encode(t.params)
                         for t in trials if not t.state.finished}
        finished = [t for t in trials if t.state.finished]
        self.tell(finished)
        if self.config["acq_func"] == "gp_hedge" and self._dims:
            self._replay_hedge([t.number for t in finished])

    def _replay_hedge(self, numbers: list[int]) -> None:
        """gp_hedge's gains depend on every earlier fit: refit as a serial run did."""
        for i in range(self._n_init, len(numbers)):
            if self._n_complete(numbers[:i]) >= 2:
                self._fit(*self._data(numbers[:i]))

    @property
    def done(self) -> bool:
        return not self._dims and bool(self._seen)

    def stats(self) -> dict[str, Any]:
        return {"model_fits": self.n_fits, "strategy_seconds": round(self.seconds, 4)}


@hookimpl
def register_strategies(register):
    register("bayes", BayesStrategy, "Bayesian optimisation (scikit-optimize GP/RF/ET/GBRT)")
