"""One Parzen estimator: a weighted mixture of product kernels over a group of dimensions.

Each observation is one kernel; one more, the prior, sits in the middle of every range
with the whole range as its width. As in Optuna's ``_ParzenEstimator``:

- numbers live in their transformed space (the log of a log-scaled one) and get a
  truncated normal; an integer's kernel is the mass of its bin ``[x - 1/2, x + 1/2]``
  (in the log space too when it is log-scaled), so ranges widen by half a step;
- a kernel's width is the larger gap to its sorted neighbours (the range's ends count
  as neighbours, except that the outermost kernels look inward only), clipped to
  ``[range / min(100, n + 2), range]`` (the "magic clip");
- a categorical kernel puts ``1 + w / K`` on its own choice and ``w / K`` on every choice
  (``w`` the prior weight, ``K`` the number of kernels), normalised: an Aitchison-Aitken
  kernel whose smoothing shrinks as observations accumulate;
- observations weigh 1, except that beyond 25 the older ones ramp down linearly
  (the newest 25 weigh 1), and the prior weighs ``prior_weight``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .normal import log_inside, log_mass, truncated_draws

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class Dim:
    """One searchable dimension as TPE sees it: values in the original units (an index
    for a categorical); ``step`` 1 for integers, 0 for reals."""

    name: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    step: float = 0.0
    choices: int = 0  # > 0 for a categorical

    @property
    def bounds(self) -> tuple[float, float]:
        """The range in the transformed space, widened by half a step."""
        low, high = self.low - self.step / 2, self.high + self.step / 2
        return (math.log(low), math.log(high)) if self.log else (low, high)


def observation_weights(n: int, prior_weight: float) -> np.ndarray:
    """Mixture weights of ``n`` observations in number order, then the prior; sum 1."""
    w = np.ones(n + 1)
    if n > 25:
        w[: n - 25] = np.linspace(1.0 / n, 1.0, num=n - 25)
    w[-1] = prior_weight
    return w / w.sum()


class Parzen:
    """The estimator of one group of dimensions from observations ``x`` (rows, number
    order; columns as ``dims``)."""

    def __init__(self, dims: list[Dim], x: np.ndarray, prior_weight: float) -> None:
        self.dims = dims
        n = len(x)
        self.weights = observation_weights(n, prior_weight)
        self.num = [i for i, d in enumerate(dims) if not d.choices]
        self.cont = [i for i in self.num if not dims[i].step]
        self.disc = [i for i in self.num if dims[i].step]
        bounds = np.array([dims[i].bounds for i in self.num]).reshape(-1, 2)
        self.low, self.high = bounds[:, 0], bounds[:, 1]
        t = self._transform(x[:, self.num], self.num)
        self.mu = np.vstack([t, 0.5 * (self.low + self.high)])
        self.sigma = np.vstack([self._widths(t), self.high - self.low])
        self.log_z = log_inside((self.low - self.mu) / self.sigma,
                                (self.high - self.mu) / self.sigma)
        self.cat: dict[int, np.ndarray] = {}
        for i, d in enumerate(dims):
            if d.choices:
                p = np.full((n + 1, d.choices), prior_weight / (n + 1))
                p[np.arange(n), x[:, i].astype(int)] += 1.0
                self.cat[i] = p / p.sum(axis=1, keepdims=True)
        # what every kernel adds whatever the point: its weight, its truncation, and for
        # reals the density's normalisation; log_pdf adds the part that depends on the point
        c = [k for k, i in enumerate(self.num) if not dims[i].step]
        self._base = (np.log(self.weights) - self.log_z.sum(axis=1)
                      - (np.log(self.sigma[:, c]) + _LOG_SQRT_2PI).sum(axis=1))
        self._inv_sigma = 1.0 / self.sigma[:, c]
        self._log_cat = {i: np.log(p) for i, p in self.cat.items()}

    def _transform(self, values: np.ndarray, cols: list[int]) -> np.ndarray:
        logs = [k for k, i in enumerate(cols) if self.dims[i].log]
        if logs:
            values = values.copy()
            values[:, logs] = np.log(values[:, logs])
        return values

    def _widths(self, t: np.ndarray) -> np.ndarray:
        n = len(t)
        span = self.high - self.low
        if n == 0:
            return np.empty((0, len(self.num)))
        order = np.argsort(t, axis=0, kind="stable")
        padded = np.vstack([self.low, np.take_along_axis(t, order, axis=0), self.high])
        gaps = np.diff(padded, axis=0)
        sorted_sigma = np.maximum(gaps[:-1], gaps[1:])
        if n >= 2:  # the outermost kernels look inward only
            sorted_sigma[0], sorted_sigma[-1] = gaps[1], gaps[-2]
        sigma = np.empty_like(sorted_sigma)
        np.put_along_axis(sigma, order, sorted_sigma, axis=0)
        return np.clip(sigma, span / min(100.0, n + 2.0), span)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws from the mixture, in original units."""
        k = rng.choice(len(self.weights), p=self.weights, size=size)
        out = np.empty((size, len(self.dims)))
        for i, p in self.cat.items():
            cum = np.cumsum(p[k], axis=1)
            cum[:, -1] = 1.0
            out[:, i] = (cum < rng.random(size)[:, None]).sum(axis=1)
        if self.num:
            t = truncated_draws(rng, self.mu[k], self.sigma[k], self.low, self.high)
            for col, i in enumerate(self.num):
                d = self.dims[i]
                v = np.exp(t[:, col]) if d.log else t[:, col]
                if d.step:
                    v = d.low + np.round((v - d.low) / d.step) * d.step
                out[:, i] = np.clip(v, d.low, d.high)
        return out

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """The log density (log mass for integers and categoricals) of each row of ``x``."""
        total = np.broadcast_to(self._base, (len(x), len(self._base))).copy()
        for i, log_p in self._log_cat.items():
            total += log_p[:, x[:, i].astype(int)].T
        cols = {i: col for col, i in enumerate(self.num)}
        if self.cont:
            c = [cols[i] for i in self.cont]
            z = self._transform(x[:, self.cont], self.cont)[:, None, :] - self.mu[:, c]
            z *= self._inv_sigma
            total -= 0.5 * np.einsum("nkd,nkd->nk", z, z)
        for i in self.disc:
            d, col = self.dims[i], cols[i]
            values, back = np.unique(x[:, i], return_inverse=True)  # candidates repeat
            edges = np.stack([values - d.step / 2, values + d.step / 2], axis=1)
            if d.log:
                edges = np.log(edges)
            mu, sigma = self.mu[:, col], self.sigma[:, col]
            total += log_mass((edges[:, :1] - mu) / sigma, (edges[:, 1:] - mu) / sigma)[back.ravel()]
        top = total.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(total - top).sum(axis=1, keepdims=True)))[:, 0]
