"""Maximizing the acquisition over a mixed space: candidates, then a stacked L-BFGS-B.

Candidates are random points plus points near the best ones so far (a local trust
region, as TuRBO), all snapped to the configuration they decode to, so the acquisition
is scored where the trial will run. L-BFGS-B then climbs the continuous coordinates
from the best candidates and from the incumbent, all starts in one call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_LBFGS_ITER = 100  # iterations of the stacked local search


def candidates(rng: Any, features: Any, X: Any, y: Any, n_points: int,
               local_points: float) -> Any:
    """``n_points`` snapped points: uniform, and a ``local_points`` share drawn around the
    three best of ``X`` (by ``y``) with steps from 0.01 to 0.3 of each range."""
    import numpy as np

    dims = X.shape[1]
    n_local = int(n_points * local_points)
    cand = [rng.uniform(size=(n_points - n_local, dims))]
    if n_local:
        top = X[np.argsort(y, kind="stable")[:3]]
        centres = top[rng.randint(len(top), size=n_local)]
        scale = np.exp(rng.uniform(np.log(0.01), np.log(0.3), size=(n_local, 1)))
        cand.append(centres + scale * rng.standard_normal((n_local, dims)))
    return features.snap(np.vstack(cand))


def maximize(score: Callable[[Any], Any], rng: Any, features: Any, X: Any, y: Any,
             n_points: int, local_points: float, n_restarts: int,
             n_incumbents: int = 1) -> list[list[float]]:
    """Points of the unit cube, best ``score`` first: the 20 best candidates and where
    L-BFGS-B ended from the ``n_restarts`` best ones and from the ``n_incumbents`` best
    of ``X`` (several objectives: points of the front)."""
    import numpy as np
    from scipy.optimize import minimize

    cand_u = candidates(rng, features, X, y, n_points, local_points)
    values = score(cand_u)
    order = np.argsort(-values, kind="stable")
    starts = [cand_u[i] for i in order[:n_restarts]]
    starts.extend(X[i] for i in np.argsort(y, kind="stable")[:n_incumbents])
    cont = features.continuous
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
        points = features.snap(points)
        found_u.append(points)
        found_v.append(score(points))
    all_u, all_v = np.vstack(found_u), np.concatenate(found_v)
    pick = np.argsort(-all_v, kind="stable")
    return [[float(v) for v in all_u[i]] for i in pick]
