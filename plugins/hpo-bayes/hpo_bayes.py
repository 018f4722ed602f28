"""Bayesian optimisation on scikit-optimize's ``Optimizer`` (ask/tell), resumable and batched.

The model works in the core's unit-cube encoding of the space, so integers, categoricals,
log scales and conditional parameters (inactive ones encode to 0.5) need nothing special.
Every proposal is a function of (seed, options, history): before each model fit the
optimizer's random state is derived from the seed and the number of points, and the
history is given in trial-number order, so a resumed study asks what the uninterrupted
one would have asked. The default path (``acq_func=logEI``) fits its GP on the finished
trials and conditions it on a "constant liar" value at each asked-but-unfinished
configuration, which is how a batch for parallel trials is built (the GP is fitted once
per batch). On skopt's path one ``skopt.Optimizer`` stays alive; each ask refits it once,
with every finished trial and the liar values told in one go.
"""

from __future__ import annotations

import hashlib
import math
import statistics
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hpo_framework import Option, OptionError, SpaceError, Strategy, Trial, hookimpl

ESTIMATORS = ("GP", "RF", "ET", "GBRT")
_LBFGS_ITER = 100  # iterations of the stacked local search
ACQ_FUNCS = ("gp_hedge", "EI", "PI", "LCB", "logEI")


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



#: most (trial, step) values the ``pruned=curve`` GP is fitted on (its fit is cubic in them)
_CURVE_ROWS = 600


class _PriorGP:
    """skopt's GaussianProcessRegressor, its kernel hyperparameters fitted with log-priors.

    The kernel is ``C * Matern52(ARD) + White`` on standardized losses; theta is
    (log C, log length scales..., log noise). The priors are Optuna GPSampler's
    (``optuna/_gp/prior.py``): on each inverse squared length scale ``-(0.1/l + 0.1 l)``,
    which keeps a length scale from running to 0 or infinity on a few dozen points;
    Gamma(2, 1) on the kernel scale; Gamma(1.1, 30) on the noise variance (small noise
    unless the data insist). The maximum a posteriori theta is found by L-BFGS-B on a
    numpy log-likelihood with exact gradients (sklearn's kernel objects cost ~20x more
    per evaluation in Python overhead); skopt's regressor is then fitted with that theta
    fixed and does the predictions.
    """

    @staticmethod
    def make(n_features: int, restarts: int, random_state: int, prior: bool) -> Any:
        import numpy as np
        from skopt.learning import GaussianProcessRegressor
        from skopt.learning.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        log_bounds = np.log([(1e-3, 1e3)] + [(5e-3, 2e2)] * n_features + [(1e-6, 1e1)])

        def optimizer(obj_func: Any, initial_theta: Any, bounds: Any = None) -> tuple[Any, float]:
            return _PriorGP.map_theta(gp.X_fit_, gp.y_fit_, log_bounds, restarts,
                                      np.random.RandomState(random_state), prior)

        kernel = (ConstantKernel(1.0, (1e-3, 1e3))
                  * Matern(length_scale=np.ones(n_features), length_scale_bounds=(5e-3, 2e2),
                           nu=2.5)
                  + WhiteKernel(1e-2, (1e-6, 1e1)))

        class PriorGPR(GaussianProcessRegressor):
            def fit(self, X, y):
                self.X_fit_, self.y_fit_ = np.asarray(X, dtype=float), np.asarray(y, float)
                return super().fit(X, y)

        PriorGPR.__module__ = __name__
        PriorGPR.posterior = _PriorGP.posterior
        gp = PriorGPR(kernel=kernel, normalize_y=False, noise="gaussian", optimizer=optimizer)
        return gp

    @staticmethod
    def map_theta(X: Any, y: Any, bounds: Any, restarts: int, rng: Any,
                  prior: bool) -> tuple[Any, float]:
        import numpy as np
        from scipy.linalg.lapack import dpotrf as potrf
        from scipy.linalg.lapack import dpotri as potri
        from scipy.linalg.lapack import dpotrs as potrs
        from scipy.optimize import minimize

        n, dims = X.shape
        # squared differences per dimension, one row per pair: the scaled distances and
        # the length-scale gradient are then matrix-vector products (no (n, n, d) temporaries)
        sq = np.ascontiguousarray(((X[:, None, :] - X[None, :, :]) ** 2).reshape(n * n, dims).T)
        eye, diag = np.eye(n), np.diag_indices(n)

        def neg(theta: Any) -> tuple[float, Any]:
            c, inv_ls2, noise = np.exp(theta[0]), np.exp(-2 * theta[1:-1]), np.exp(theta[-1])
            r = np.sqrt(np.maximum(inv_ls2 @ sq, 0.0)).reshape(n, n)
            e = np.exp(-math.sqrt(5) * r)
            kf = c * (1 + math.sqrt(5) * r + 5.0 / 3.0 * r * r) * e
            K = kf + (noise + 1e-10) * eye
            # LAPACK directly: scipy.linalg's wrappers check their inputs at a cost above
            # the algebra's for matrices of a few hundred rows
            L, info = potrf(K, lower=1, clean=1)
            if info:
                return 1e25, np.zeros_like(theta)
            alpha = potrs(L, y, lower=1)[0]
            low = potri(L, lower=1)[0]  # K^-1's lower triangle (L's upper one is clean)
            inv = low + low.T
            inv[diag] -= low.diagonal()
            lml = -0.5 * y @ alpha - np.log(np.diag(L)).sum() - 0.5 * n * math.log(2 * math.pi)
            W = np.outer(alpha, alpha) - inv
            A = W * (5.0 / 3.0 * c * (1 + math.sqrt(5) * r) * e)
            grad = np.concatenate([[0.5 * (W * kf).sum()],
                                   0.5 * (sq @ A.ravel()) * inv_ls2,
                                   [0.5 * noise * np.trace(W)]])
            if prior:
                t = theta
                lml += (-(0.1 * np.exp(2 * t[1:-1]) + 0.1 * np.exp(-2 * t[1:-1])).sum()
                        + t[0] - np.exp(t[0]) + 0.1 * t[-1] - 30.0 * np.exp(t[-1]))
                grad += np.concatenate([[1.0 - np.exp(t[0])],
                                        -0.2 * np.exp(2 * t[1:-1]) + 0.2 * np.exp(-2 * t[1:-1]),
                                        [0.1 - 30.0 * np.exp(t[-1])]])
            return -float(lml), -grad

        starts = [np.concatenate([[0.0], np.zeros(dims), [math.log(1e-2)]])]
        starts += [rng.uniform(bounds[:, 0], bounds[:, 1]) for _ in range(restarts)]
        best: tuple[Any, float] | None = None
        for theta0 in starts:
            res = minimize(neg, theta0, jac=True, method="L-BFGS-B", bounds=bounds)
            if best is None or res.fun < best[1]:
                best = (res.x, float(res.fun))
        assert best is not None
        return best

    @staticmethod
    def posterior(gp: Any, believed: Any = None, values: Any = None
                  ) -> Callable[[Any], tuple[Any, Any]]:
        """The fitted GP's mean and sd of f (noise excluded) at many points, in numpy only.

        The same algebra as ``predict(return_std=True)`` without its input checks, which
        cost more than the algebra in the thousands of small calls of the acquisition search.
        ``believed`` (points of configurations still running): the GP conditioned, with
        its hyperparameters kept, on ``values`` there (a constant liar), or on its own mean
        (the kriging believer, which leaves the mean everywhere as it was). Either way
        the sd around them shrinks, so the next proposal of a batch goes elsewhere unless
        the model is sure.
        """
        import numpy as np
        from scipy.linalg import solve_triangular
        from scipy.linalg.lapack import dpotrf, dpotrs
        from scipy.spatial.distance import cdist

        scale = float(gp.kernel_.k1.k1.constant_value)
        ls = np.asarray(gp.kernel_.k1.k2.length_scale, dtype=float)
        train = gp.X_train_ / ls
        alpha, chol = np.ravel(gp.alpha_), gp.L_
        if believed is not None and len(believed):
            mean = _PriorGP.posterior(gp)(believed)[0] if values is None else values
            train = np.vstack([train, np.atleast_2d(believed) / ls])
            d = np.sqrt(5.0) * cdist(train, train)
            K = scale * (1.0 + d + d * d / 3.0) * np.exp(-d)
            # the trained points keep their noise; a believed one is f itself, without
            # noise (believed noisy, a point barely lowers the sd around it and the batch
            # would ask it again), up to a jitter
            n_train = len(gp.X_train_)
            K[np.diag_indices_from(K)] += np.where(np.arange(len(K)) < n_train,
                                                   float(gp.noise_ or 0.0) + gp.alpha,
                                                   gp.alpha)
            chol, info = dpotrf(K, lower=1, clean=1)
            if info:  # not positive definite (a believed point on a trained one): as it was
                return _PriorGP.posterior(gp)
            alpha = dpotrs(chol, np.concatenate([np.ravel(gp.y_train_), mean]), lower=1)[0]

        def predict(x: Any) -> tuple[Any, Any]:
            d = np.sqrt(5.0) * cdist(np.atleast_2d(x) / ls, train)
            k = scale * (1.0 + d + d * d / 3.0) * np.exp(-d)
            v = solve_triangular(chol, k.T, lower=True, check_finite=False)
            var = np.maximum(scale - np.einsum("ij,ij->j", v, v), 1e-18)
            return k @ alpha, np.sqrt(var)

        return predict


def _log_h(z: Any) -> Any:
    """log(z * Phi(z) + phi(z)), stable far into the tail (LogEI, Ament et al. 2023, eq. 9)."""
    import numpy as np
    from scipy.special import erfcx, ndtr

    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    near = z > -1.0
    zn = z[near]
    out[near] = np.log(zn * ndtr(zn) + np.exp(-0.5 * zn ** 2) / math.sqrt(2 * math.pi))
    zf = z[~near]
    x = np.log(erfcx(-zf / math.sqrt(2)) * np.abs(zf)) + 0.5 * math.log(math.pi / 2)
    log1mexp = np.where(x > -math.log(2), np.log(-np.expm1(np.minimum(x, -1e-300))),
                        np.log1p(-np.exp(x)))
    out[~near] = -0.5 * zf ** 2 - 0.5 * math.log(2 * math.pi) + log1mexp
    return out


class _Features:
    """The GP's inputs: the unit-cube coordinates, categoricals one-hot (or ordinal)."""

    def __init__(self, space: Any, onehot: bool) -> None:
        from hpo_framework.space import Categorical, Float, Int

        self.space = space
        self.conditional = any(d.condition for d in space.dimensions)
        self.kinds: list[tuple[str, Any]] = []
        for d in space.searchable:
            if isinstance(d, Categorical):
                self.kinds.append(("cat", d))
            elif isinstance(d, Int):
                self.kinds.append(("int", d))
            elif isinstance(d, Float):
                self.kinds.append(("float", d))
            else:
                self.kinds.append(("other", d))
        self.onehot = onehot
        self.continuous = [i for i, (k, _) in enumerate(self.kinds) if k in ("float", "int")]

    def snap(self, u: Any) -> Any:
        """Each point replaced by the encoding of the configuration it decodes to."""
        import numpy as np

        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.conditional or any(k == "other" for k, _ in self.kinds):
            return np.array([self.space.encode(self.space.decode(list(row))) for row in u])
        out = u.copy()
        for j, (kind, d) in enumerate(self.kinds):
            if kind == "cat":
                k = len(d.choices)
                out[:, j] = (np.minimum(np.floor(u[:, j] * k), k - 1) + 0.5) / k
            elif kind == "int" and not d.log:
                m = d.high - d.low + 1
                out[:, j] = (np.minimum(np.floor(u[:, j] * m), m - 1) + 0.5) / m
            elif kind == "int":
                lo, hi = math.log(d.low), math.log(d.high)
                v = np.clip(np.round(np.exp(lo + u[:, j] * (hi - lo))), d.low, d.high)
                out[:, j] = np.clip((np.log(v) - lo) / (hi - lo), 0.0, 1.0)
        return out

    def __call__(self, u: Any) -> Any:
        import numpy as np

        u = np.atleast_2d(np.asarray(u, dtype=float))
        if not self.onehot:
            return u
        cols = []
        for j, (kind, d) in enumerate(self.kinds):
            if kind != "cat" or len(d.choices) < 3:
                cols.append(u[:, j:j + 1])
                continue
            k = len(d.choices)
            idx = np.minimum(np.floor(u[:, j] * k), k - 1).astype(int)
            hot = np.zeros((len(u), k))
            hot[np.arange(len(u)), idx] = 1.0
            if k % 2 == 0:  # an inactive parameter encodes to 0.5, no category's position
                hot[np.abs(u[:, j] - 0.5) < 1e-12] = 0.5
            cols.append(hot)
        return np.hstack(cols)


_LAMBDAS = [k / 10 for k in range(-30, 31)]  # -3 .. 3 by 0.1, then by 0.01 near the best


def _power_fit(jac_terms: Any, transform: Callable[[Any], Any], _: Any) -> tuple[Any, float]:
    """The power lambda of largest profile likelihood on a grid (scipy's Brent search cost
    ~0.1 s per call, more than the GP fit); returns the transformed values and the
    log-Jacobian sum, ``(lambda - 1) * sum(jac_terms)``."""
    import numpy as np

    best: tuple[float, Any, float, float] | None = None
    n = len(jac_terms)
    total = float(np.sum(jac_terms))
    for grid in (_LAMBDAS, None):
        if grid is None:
            if best is None:
                break
            grid = [round(best[3] + k / 100, 2) for k in range(-9, 10) if k]
        for lam in grid:
            t = transform(lam)
            var = float(np.var(t))
            if not np.isfinite(var) or var <= 0:
                continue
            llf = (lam - 1) * total - 0.5 * n * math.log(var)
            if best is None or llf > best[0]:
                best = (llf, t, (lam - 1) * total, lam)
    if best is None:
        return np.full(n, np.nan), math.nan
    return best[1], best[2]


def _transform(ys: Any, how: str) -> tuple[Any, float]:
    """Losses as the GP sees them, and the log-Jacobian of the map (for model evidence).

    ``standardize``: zero mean, unit sd. ``power``: HEBO's recipe first, Box-Cox of
    loss / sd when every loss is positive, else Yeo-Johnson of the standardized losses,
    then standardized. Both keep the order of the losses.
    """
    import numpy as np

    y = np.asarray(ys, dtype=float)
    n, sd = len(y), float(y.std()) or 1.0
    out, log_jac = (y - y.mean()) / sd, -n * math.log(sd)
    if how == "power" and n > 2 and y.std() > 0:
        with np.errstate(all="ignore"):
            if y.min() > 0:  # Box-Cox of loss / sd
                x = y / sd
                t, jac = _power_fit(np.log(x), lambda lam: (np.expm1(lam * np.log(x)) / lam
                                                            if lam else np.log(x)), None)
            else:  # Yeo-Johnson of the standardized losses
                x = out
                pos = x >= 0
                g = np.where(pos, np.log1p(np.abs(x)), -np.log1p(np.abs(x)))

                def yj(lam: Any) -> Any:
                    m = np.log1p(np.abs(x))
                    a = np.expm1(lam * m) / lam if lam else m
                    b = -np.expm1((2 - lam) * m) / (2 - lam) if lam != 2 else -m
                    return np.where(pos, a, b)

                t, jac = _power_fit(g, yj, None)
        t_sd = float(t.std())
        if np.all(np.isfinite(t)) and t_sd > 0 and np.isfinite(jac):
            out = (t - t.mean()) / t_sd
            log_jac += float(jac) - n * math.log(t_sd)
    return out, log_jac


class BayesStrategy(Strategy):
    """Gaussian-process (or tree) Bayesian optimisation via scikit-optimize."""

    name = "bayes"
    options = {
        "base_estimator": Option("GP", str, choices=ESTIMATORS, nullable=False,
                                 help="surrogate model: Gaussian process, random forest, "
                                      "extra trees, gradient-boosted trees"),
        "acq_func": Option("logEI", str, choices=ACQ_FUNCS, nullable=False,
                           help="acquisition function (logEI: log expected improvement on "
                                "this plugin's GP; the others run skopt's Optimizer; "
                                "gp_hedge: skopt's default mix)"),
        "output_transform": Option("auto", str, choices=("auto", "standardize", "power"),
                                   nullable=False,
                                   help="logEI: losses standardized, or power-transformed "
                                        "first (HEBO: Box-Cox or Yeo-Johnson; heavy tails); "
                                        "auto: whichever gives the GP more evidence"),
        "categorical_encoding": Option("onehot", str, choices=("onehot", "ordinal"),
                                       nullable=False,
                                       help="logEI: categoricals with 3+ choices one-hot, "
                                            "or by their position"),
        "length_scale_prior": Option(True, bool, nullable=False,
                                     help="logEI: priors on the kernel's length scales, "
                                          "scale and noise (Optuna's)"),
        "local_points": Option(0.25, float, low=0.0, high=0.9, nullable=False,
                               help="logEI: share of candidates drawn near the best "
                                    "points so far (a local trust region)"),
        "kappa": Option(1.96, float, low=0.0, nullable=False,
                        help="LCB exploration weight (larger explores more)"),
        "xi": Option(None, float, low=0.0,
                     help="EI/PI minimum improvement, larger explores more (default: 0.01 "
                          "for EI/PI, in loss units; 0 for logEI, in standardized units)"),
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
                                       help="L-BFGS starts from the best candidates "
                                            "(logEI: and from the best point so far)"),
        "kernel_restarts": Option(0, int, low=0, nullable=False,
                                  help="GP only: extra random starts of the kernel "
                                       "hyperparameter fit (skopt: 2)"),
        "liar": Option("cl_min", str, choices=("cl_min", "cl_mean", "cl_max", "kb"),
                       nullable=False,
                       help="value assumed for trials still running when a batch is asked "
                            "(kb: kriging believer, the GP's own mean; logEI only, skopt's "
                            "path takes cl_min for it)"),
        "pruned": Option("curve", str, choices=("curve", "offset", "worst"), nullable=False,
                         help="what the model is told for a PRUNED trial: a predicted final "
                              "loss, from a GP over (configuration, step) fitted on every "
                              "reported value (curve), or its loss at the step it stopped "
                              "plus the finished trials' median change from there to their "
                              "end (offset); or the worst loss seen, as a FAILED one (worst)"),
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
        self._curves: dict[int, dict[int, float]] = {}  # number -> {step: loss}, if reported
        self._pruned: set[int] = set()
        self._opt: Any = None
        self._fit_key: Any = None
        self._features: Any = None
        self._gp_fit: tuple[str, Any, Any] | None = None  # (data digest, GP, its targets)
        self._curve_fit: tuple[Any, dict[int, float]] | None = None  # (key, predictions)
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
                base_estimator=estimator, n_initial_points=0,
                # trees have no log-EI of their own: skopt's EI on their mean and spread
                acq_func="EI" if cfg["acq_func"] == "logEI" else cfg["acq_func"],
                acq_optimizer=acq_optimizer, random_state=int(self._rng("opt").randint(2**31)),
                acq_func_kwargs={"xi": 0.01 if cfg["xi"] is None else cfg["xi"],
                                 "kappa": cfg["kappa"]},
                acq_optimizer_kwargs={"n_points": cfg["n_points"],
                                      "n_restarts_optimizer": cfg["n_restarts_optimizer"]},
                model_queue_size=1,
            )
            if cfg["base_estimator"] == "GP":
                self._opt.base_estimator_.set_params(n_restarts_optimizer=cfg["kernel_restarts"])
        return self._opt

    # the model --------------------------------------------------------------------
    def _data(self, numbers: Sequence[int] | None = None) -> tuple[list, list]:
        """Finished trials in number order; failed ones get the worst loss seen, pruned
        ones a predicted final loss (:meth:`_curve_predictions`, :meth:`_predicted`)."""
        numbers = sorted(self._told) if numbers is None else numbers
        complete = [k for k in numbers if self._told[k][1] is not None]
        if not complete:
            return self._early_data(numbers)
        finals = [self._told[k][1] for k in complete]
        worst, best = max(finals), min(finals)
        xs = [self._told[k][0] for k in numbers]
        how = self.config["pruned"]
        curved = self._curve_predictions(numbers, complete) if how == "curve" else {}
        ys = []
        for k in numbers:
            loss = self._told[k][1]
            if loss is None and k in self._pruned and how != "worst":
                guess = curved[k] if k in curved else self._predicted(k, complete)
                # a pruned trial is not the incumbent: never better than the best final
                loss = None if guess is None else max(guess, best)
            ys.append(worst if loss is None else loss)
        return xs, ys

    def _early_data(self, numbers: Sequence[int]) -> tuple[list, list]:
        """No trial finished yet (a pausing pruner holds them all at a rung): the losses
        the trials reported at the latest step at least two of them reached, as BOHB
        models the largest budget with enough observations; ``[], []`` when none did."""
        curves = {k: self._curves.get(k, {}) for k in numbers}
        for step in sorted({s for c in curves.values() for s in c}, reverse=True):
            have = [k for k in numbers if step in curves[k]]
            if len(have) >= 2:
                return [self._told[k][0] for k in have], [curves[k][step] for k in have]
        return [], []

    def _curve_predictions(self, numbers: Sequence[int], complete: Sequence[int]
                           ) -> dict[int, float]:
        """``pruned=curve``: each pruned trial's final loss predicted by one GP over
        (configuration, log step), fitted on every value every finished trial reported.

        Its mean at (the pruned configuration, the last step of the finished trials)
        (:meth:`_data` keeps it no better than the best final loss). A slow starter stopped at epoch 1 is
        then judged by the curves of finished trials near it in the space, not by the
        study-wide change from epoch 1 (``offset``), which comes from the trials the
        pruner kept, the fast starters. The GP has the main one's kernel and priors
        (:class:`_PriorGP`), its randomness fixed by the data, so a resumed study
        predicts the same; the last fit is kept, so the proposals of one batch (the same
        finished trials) fit it once. Past ``_CURVE_ROWS`` reported values only the steps where
        trials stopped and the last one are used (at most 6); ``{}`` (every pruned trial
        then told by ``offset``) when that is still too many, or when nothing was pruned
        or no finished trial reported a step.
        """
        import numpy as np

        pruned = [k for k in numbers if k in self._pruned and self._curves.get(k)]
        steps = [max(self._curves[k]) for k in complete if self._curves.get(k)]
        if not pruned or not steps:
            return {}
        last = max(steps)
        if self._features is None:
            self._features = _Features(self.space, self.config["categorical_encoding"]
                                       == "onehot")
        kept: set[int] | None = None  # every step, while the GP stays small
        if sum(len(self._curves.get(k, {})) for k in numbers) > _CURVE_ROWS:
            # a long study: the steps where trials were stopped and the last one, at
            # most 6 of them spread on a log scale; still too many rows: offset instead
            stops = sorted({max(self._curves[k]) for k in pruned} | {last})
            if len(stops) > 6:
                stops = [stops[round(i * (len(stops) - 1) / 5)] for i in range(6)]
            kept = set(stops)
        rows, values = [], []
        for k in numbers:
            for step, loss in sorted(self._curves.get(k, {}).items()):
                if 1 <= step <= last and (kept is None or step in kept):
                    rows.append((k, math.log(step) / math.log(last) if last > 1 else 1.0))
                    values.append(loss)
        if len(rows) > _CURVE_ROWS:
            return {}
        digest = hashlib.sha256(repr((rows, values)).encode()).hexdigest()
        if self._curve_fit is not None and self._curve_fit[0] == (digest, tuple(pruned)):
            return self._curve_fit[1]
        feats = self._features(np.asarray([self._told[k][0] for k, _ in rows], dtype=float))
        X = np.hstack([feats, np.asarray([[t] for _, t in rows])])
        y = np.asarray(values, dtype=float)
        mean, sd = float(y.mean()), float(y.std()) or 1.0
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gp = _PriorGP.make(X.shape[1], 0, int(self._rng("curve", digest).randint(2**31)),
                               True)
            gp.fit(X, (y - mean) / sd)
            at = np.hstack([self._features(np.asarray([self._told[k][0] for k in pruned],
                                                      dtype=float)),
                            np.ones((len(pruned), 1))])
            guess = gp.posterior()(at)[0] * sd + mean
        out = {k: float(g) for k, g in zip(pruned, guess, strict=True)}
        self._curve_fit = ((digest, tuple(pruned)), out)
        return out

    def _predicted(self, number: int, complete: Sequence[int]) -> float | None:
        """A pruned trial's final loss, predicted from the loss it stopped at.

        At the step ``s`` it stopped, each finished trial that reported step ``s`` gives
        its change (final loss - loss at ``s``); the prediction is the pruned trial's
        loss at ``s`` plus their median (:meth:`_data` keeps it no better than the best
        final loss), free to be worse than the worst one.
        ``None`` (then: the worst loss) when it reported nothing or no finished trial
        reported step ``s``. A function of the finished trials alone, so a resumed study
        predicts the same. ``benchmarks/pruned_prediction.py`` compares this rule with a
        line through (loss at ``s``, final loss) on stored learning curves.
        """
        curve = self._curves.get(number)
        if not curve:
            return None
        step = max(curve)
        changes = [self._told[k][1] - self._curves[k][step] for k in complete
                   if step in self._curves.get(k, {})]
        if not changes:
            return None
        return curve[step] + statistics.median(changes)

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
        # a model needs two different values: two finished trials, or one and a pruned
        # trial predicted worse (a study whose first trial set a high bar at every rung
        # may finish no other for long; random proposals then would be a random search)
        if self._n_complete(sorted(self._told)) < 2 and len(set(ys)) < 2:
            return []
        pending = list(self._pending.values())
        if self.config["acq_func"] == "logEI" and self.config["base_estimator"] == "GP":
            return self._log_ei_candidates(xs, ys, pending)
        if pending:  # skopt's path: the lies are told like results, and the model refitted
            liar = self.config["liar"]
            lie = (max(ys) if liar == "cl_max" else statistics.fmean(ys) if liar == "cl_mean"
                   else min(ys))
            xs, ys = xs + pending, ys + [lie] * len(pending)
        self._fit(xs, ys)
        opt = self._opt
        out = [list(map(float, opt._next_x))]
        for x in getattr(opt, "next_xs_", []):  # gp_hedge's other proposals
            out.append([float(v) for v in opt.space.inverse_transform(x.reshape(1, -1))[0]])
        return out

    def _gp(self, xs: list, ys: list, digest: str, seed: int) -> tuple[Any, Any]:
        """The GP on exactly (xs, ys), its output transform chosen, and its targets; the
        last one is kept, so the proposals of one batch (the same finished trials, other
        running ones) fit it once."""
        import numpy as np

        if self._gp_fit is not None and self._gp_fit[0] == digest:
            return self._gp_fit[1], self._gp_fit[2]
        cfg, feats = self.config, self._features
        X = np.asarray(xs, dtype=float)
        fits = []
        how = cfg["output_transform"]
        for name in (("standardize", "power") if how == "auto" else (how,)):
            y, log_jac = _transform(ys, name)
            gp = _PriorGP.make(feats(X[:1]).shape[1], cfg["kernel_restarts"], seed,
                               cfg["length_scale_prior"])
            gp.fit(feats(X), y)
            # the evidence for the raw losses: the GP's on y plus the map's log-Jacobian
            fits.append((gp.log_marginal_likelihood_value_ + log_jac, gp, y))
        _, gp, y = max(fits, key=lambda f: f[0])
        self._gp_fit = (digest, gp, y)
        self.n_fits += 1
        return gp, y

    def _log_ei_candidates(self, xs: list, ys: list, pending: list) -> list[list[float]]:
        """Fit the GP, maximize log-EI; candidates best first (the caller skips seen ones).

        ``pending`` (configurations still running): the GP, fitted on the finished trials
        alone, is conditioned on a lie at each (``liar``: the best, mean or worst
        transformed loss; ``kb``, the kriging believer: its own mean there).
        Candidates are random points plus points near the best ones so far, all snapped to
        the configuration they decode to (the acquisition is scored where the trial will
        run); L-BFGS-B then climbs from the best candidates and from the incumbent.
        """
        import numpy as np
        from scipy.optimize import minimize
        from threadpoolctl import threadpool_limits

        started = time.perf_counter()
        cfg = self.config
        if self._features is None:
            self._features = _Features(self.space, cfg["categorical_encoding"] == "onehot")
        feats = self._features
        digest = hashlib.sha256(repr((xs, ys)).encode()).hexdigest()
        rng = self._rng("acq", len(xs), digest)
        seed = int(rng.randint(2**31))  # the GP's: a function of its data alone
        if pending:  # believed points: the batch's other candidates
            rng = self._rng("acq", len(xs), digest, pending)
        X = np.asarray(xs, dtype=float)
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gp, y = self._gp(xs, ys, digest, seed)
            best = float(y.min()) - (cfg["xi"] or 0.0)

            believed = lies = None
            if pending:  # conditioned on a lie there (kb: on the GP's own mean)
                liar = cfg["liar"]
                believed = feats(np.asarray(pending, dtype=float))
                if liar != "kb":
                    lies = np.full(len(pending), float(y.min() if liar == "cl_min" else
                                                       y.max() if liar == "cl_max" else y.mean()))
            predict = gp.posterior(believed, lies)

            def score(u: Any) -> Any:
                mu, sd = predict(feats(u))
                sd = np.maximum(sd, 1e-9)
                return _log_h((best - mu) / sd) + np.log(sd)

            n = cfg["n_points"]
            n_local = int(n * cfg["local_points"])
            cand = [rng.uniform(size=(n - n_local, self._dims))]
            if n_local:
                top = X[np.argsort(y, kind="stable")[:3]]
                centres = top[rng.randint(len(top), size=n_local)]
                scale = np.exp(rng.uniform(np.log(0.01), np.log(0.3), size=(n_local, 1)))
                cand.append(centres + scale * rng.standard_normal((n_local, self._dims)))
            cand_u = feats.snap(np.vstack(cand))
            values = score(cand_u)
            order = np.argsort(-values, kind="stable")
            starts = [cand_u[i] for i in order[:cfg["n_restarts_optimizer"]]]
            starts.append(X[int(np.argmin(y))])
            cont = feats.continuous
            found_u, found_v = [cand_u[order[:20]]], [values[order[:20]]]
            if cont:  # all starts climb together: one L-BFGS-B over their stacked coordinates
                base = np.array(starts, dtype=float)
                k, c, h = len(base), len(cont), 1e-6
                bump = np.zeros((c + 1, c))
                bump[1:] = h * np.eye(c)

                def neg(z: Any) -> tuple[float, Any]:
                    pts = np.repeat(base, c + 1, axis=0)
                    pts[:, cont] = (z.reshape(k, 1, c) + bump[None]).reshape(-1, c)
                    v = score(pts).reshape(k, c + 1)
                    return -float(v[:, 0].sum()), (-(v[:, 1:] - v[:, :1]) / h).ravel()

                res = minimize(neg, base[:, cont].ravel(), jac=True, method="L-BFGS-B",
                               bounds=[(0.0, 1.0 - 1e-6)] * (k * c),
                               options={"maxiter": _LBFGS_ITER})
                points = base.copy()
                points[:, cont] = res.x.reshape(k, c)
                points = feats.snap(points)
                found_u.append(points)
                found_v.append(score(points))
            all_u, all_v = np.vstack(found_u), np.concatenate(found_v)
            pick = np.argsort(-all_v, kind="stable")
        self.seconds += time.perf_counter() - started
        return [[float(v) for v in all_u[i]] for i in pick]

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
            curve = {int(step): float(v) for step, v in (t.curve or ())
                     if math.isfinite(float(v))}
            if curve:
                self._curves[t.number] = curve
            if t.state.value == "PRUNED":
                self._pruned.add(t.number)
            else:  # a paused trial, told PRUNED, that was resumed and ended
                self._pruned.discard(t.number)

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
    register("bayes", BayesStrategy, "Bayesian optimisation (scikit-optimize GP/RF/ET/GBRT)",
             default=100)
