"""The losses as the GP sees them: standardized, or power-transformed first (HEBO).

A loss that spans orders of magnitude makes a standardized GP flat everywhere but near
the outliers; a power transform makes the losses close to normal first. Both keep the
order of the losses, and both return the log-Jacobian of the map, so that the GP's
evidence for the raw losses can be compared across them (:func:`.gp.fit`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

_LAMBDAS = [k / 10 for k in range(-30, 31)]  # -3 .. 3 by 0.1, then by 0.01 near the best


def power_fit(jac_terms: Any, transform: Callable[[Any], Any]) -> tuple[Any, float]:
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


def transform(ys: Any, how: str) -> tuple[Any, float]:
    """Losses as the GP sees them, and the log-Jacobian of the map (for model evidence).

    ``standardize``: zero mean, unit sd. ``power``: HEBO's recipe first, Box-Cox of
    loss / sd when every loss is positive, else Yeo-Johnson of the standardized losses,
    then standardized.
    """
    import numpy as np

    y = np.asarray(ys, dtype=float)
    n, sd = len(y), float(y.std()) or 1.0
    out, log_jac = (y - y.mean()) / sd, -n * math.log(sd)
    if how == "power" and n > 2 and y.std() > 0:
        with np.errstate(all="ignore"):
            if y.min() > 0:  # Box-Cox of loss / sd
                x = y / sd
                t, jac = power_fit(np.log(x), lambda lam: (np.expm1(lam * np.log(x)) / lam
                                                           if lam else np.log(x)))
            else:  # Yeo-Johnson of the standardized losses
                x = out
                pos = x >= 0
                g = np.where(pos, np.log1p(np.abs(x)), -np.log1p(np.abs(x)))

                def yj(lam: Any) -> Any:
                    m = np.log1p(np.abs(x))
                    a = np.expm1(lam * m) / lam if lam else m
                    b = -np.expm1((2 - lam) * m) / (2 - lam) if lam != 2 else -m
                    return np.where(pos, a, b)

                t, jac = power_fit(g, yj)
        t_sd = float(t.std())
        if np.all(np.isfinite(t)) and t_sd > 0 and np.isfinite(jac):
            out = (t - t.mean()) / t_sd
            log_jac += float(jac) - n * math.log(t_sd)
    return out, log_jac
