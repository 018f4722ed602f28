"""The Gaussian process: scikit-optimize's regressor, its hyperparameters fitted with priors.

The kernel is ``C * Matern52(ARD) + White`` on transformed losses (:mod:`.transforms`).
The maximum a posteriori theta under :mod:`.prior` is found by L-BFGS-B on a numpy
log-likelihood with exact gradients (sklearn's kernel objects cost ~20x more per
evaluation in Python overhead); skopt's regressor is then fitted with that theta fixed.
:func:`posterior` predicts with the same algebra, without ``predict``'s input checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .prior import log_prior
from .transforms import transform


def make(n_features: int, restarts: int, random_state: int, prior: bool) -> Any:
    """An unfitted regressor whose ``fit`` finds the MAP theta (``restarts`` extra random
    starts) and which has ``posterior()``."""
    import numpy as np
    from skopt.learning import GaussianProcessRegressor
    from skopt.learning.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    log_bounds = np.log([(1e-3, 1e3)] + [(5e-3, 2e2)] * n_features + [(1e-6, 1e1)])

    def optimizer(obj_func: Any, initial_theta: Any, bounds: Any = None) -> tuple[Any, float]:
        return map_theta(gp.X_fit_, gp.y_fit_, log_bounds, restarts,
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
    PriorGPR.posterior = posterior
    gp = PriorGPR(kernel=kernel, normalize_y=False, noise="gaussian", optimizer=optimizer)
    return gp


def fit(X: Any, ys: Any, how: str, restarts: int, seed: int, prior: bool) -> tuple[Any, Any]:
    """The GP on features ``X`` and losses ``ys``, and its targets. ``how``: the output
    transform (:func:`.transforms.transform`); ``auto`` fits both and keeps the one with
    more evidence for the raw losses (the GP's on y plus the map's log-Jacobian)."""
    fits = []
    for name in (("standardize", "power") if how == "auto" else (how,)):
        y, log_jac = transform(ys, name)
        gp = make(X.shape[1], restarts, seed, prior)
        gp.fit(X, y)
        fits.append((gp.log_marginal_likelihood_value_ + log_jac, gp, y))
    _, gp, y = max(fits, key=lambda f: f[0])
    return gp, y


def map_theta(X: Any, y: Any, bounds: Any, restarts: int, rng: Any,
              prior: bool) -> tuple[Any, float]:
    """The maximum a posteriori theta (or likelihood, ``prior=False``) and its objective."""
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
            value, prior_grad = log_prior(theta)
            lml += value
            grad += prior_grad
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
        mean = posterior(gp)(believed)[0] if values is None else values
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
            return posterior(gp)
        alpha = dpotrs(chol, np.concatenate([np.ravel(gp.y_train_), mean]), lower=1)[0]

    def predict(x: Any) -> tuple[Any, Any]:
        d = np.sqrt(5.0) * cdist(np.atleast_2d(x) / ls, train)
        k = scale * (1.0 + d + d * d / 3.0) * np.exp(-d)
        v = solve_triangular(chol, k.T, lower=True, check_finite=False)
        var = np.maximum(scale - np.einsum("ij,ij->j", v, v), 1e-18)
        return k @ alpha, np.sqrt(var)

    return predict
