"""Priors on the GP's kernel hyperparameters: Optuna GPSampler's (``optuna/_gp/prior.py``).

theta is (log scale, log length scales..., log noise variance). On each inverse squared
length scale ``-(0.1/l + 0.1 l)``, which keeps a length scale from running to 0 or to
infinity on a few dozen points; Gamma(2, 1) on the kernel scale; Gamma(1.1, 30) on the
noise variance (small noise unless the data insist).
"""

from __future__ import annotations

from typing import Any


def log_prior(theta: Any) -> tuple[Any, Any]:
    """The log-prior density at ``theta`` (up to a constant) and its gradient."""
    import numpy as np

    t = theta
    value = (-(0.1 * np.exp(2 * t[1:-1]) + 0.1 * np.exp(-2 * t[1:-1])).sum()
             + t[0] - np.exp(t[0]) + 0.1 * t[-1] - 30.0 * np.exp(t[-1]))
    grad = np.concatenate([[1.0 - np.exp(t[0])],
                           -0.2 * np.exp(2 * t[1:-1]) + 0.2 * np.exp(-2 * t[1:-1]),
                           [0.1 - 30.0 * np.exp(t[-1])]])
    return value, grad
