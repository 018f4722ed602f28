"""The acquisition function: log expected improvement, stable far into the tail.

Late in a run plain EI underflows to 0 almost everywhere; its log (Ament et al. 2023,
"Unexpected improvements to expected improvement") still ranks the candidates.
"""

from __future__ import annotations

import math
from typing import Any


def log_h(z: Any) -> Any:
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


def log_ei(mean: Any, sd: Any, best: float) -> Any:
    """log E[max(best - f, 0)] for f ~ N(mean, sd^2): losses are minimized."""
    import numpy as np

    sd = np.maximum(sd, 1e-9)
    return log_h((best - mean) / sd) + np.log(sd)
