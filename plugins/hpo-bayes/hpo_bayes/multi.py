"""Several objectives and constraints: ParEGO (the default), exact log expected
hypervolume improvement (EHVI, ``multi_objective=ehvi``) and the probability of
feasibility, on independent GPs.

**ParEGO** (Knowles 2006; ``strategy._parego``): each proposal draws weights ``w``
uniformly from the simplex (seeded by the data, so a resume asks the same), normalizes
every loss to [0, 1] over the COMPLETE trials and fits one GP to the augmented
Chebyshev scalarization ``max_j w_j f_j + 0.05 sum_j w_j f_j``; log-EI on it (times the
probability of feasibility) picks the point. It needs no reference point. Measured
(``benchmarks/bayes_mo.py``, 50 evaluations, 5 seeds) ahead of EHVI on ZDT1, DTLZ2 and
C2-DTLZ2, at about half its cost per proposal.

**EHVI, exactly.** One GP per objective. The region a new point can add to the front's
hypervolume (below the reference point, dominated by no front point) is cut into
disjoint boxes ``[l, u)`` (:func:`boxes`). A point ``y`` adds
``prod_j (u_j - max(y_j, l_j))^+`` in each box, a product of one function per objective;
with independent posteriors ``y_j ~ N(mu_j, s_j^2)`` its expectation is the product of
the expectations, ``E[(u - max(y, l))^+] = s (h((u - mu)/s) - h((l - mu)/s))`` with
``h(z) = z Phi(z) + phi(z)`` (:func:`.acqf.log_h`). So EHVI is a sum over boxes of
products, exact for any number of objectives and deterministic, with no Monte Carlo
(Optuna 5's ``LogEHVI`` averages 128 quasi-random samples of the same quantity). It is
computed in logs (:func:`log_ehvi`): late in a run it is tiny almost everywhere and its
log still ranks the candidates (as log-EI does).

**Boxes.** 2 objectives: a sweep, ``n + 1`` boxes for a front of ``n`` points. More:
slices along the last objective, each slice's region decomposed one dimension lower and
a box that the next slice keeps unchanged carried on (merged) instead of cut, which
leaves ``O(n)`` boxes for 3 objectives on the fronts a study has (121 for 60 points on
a sphere; 273 for 40 points with 4 objectives); at most ``(n + 1)^(M - 1)``.

**Outputs.** With several objectives ``output_transform=auto`` standardizes each loss
for EHVI: hypervolume improvement is invariant to an affine map of each loss (up to one
constant factor), not to a power transform, so EHVI then ranks candidates as on the raw
losses.

**Reference point** (EHVI; in each GP's standardized units): per objective, the worst
feasible observation plus 10% of the feasible observations' range (plus 1, one
standardized unit, where they are all equal). It decides how much the front's ends are
worth, and no automatic choice suits every benchmark reference: the front's nadir + 10%
(BoTorch's inference) measured ZDT1 (reference (11, 11)) 113.1 against 120.6 and DTLZ2
(reference (1.1, 1.1)) 0.348 against 0.182 (3 and 5 seeds at 50 evaluations). Far
reference points reward the ends of a front (DTLZ2's x0 = 0 corner with a large
distance g), near ones neglect them; ParEGO, which has none, did well on both.

**Constraints** (feasible when every value is ``<= 0``): each value's GP is fitted on
the standardized values, and the log probability of feasibility
``sum_i log Phi((t_i - mu_i) / s_i)``, ``t_i`` the standardized 0, is added to the
log acquisition (log-EI for one objective or ParEGO, log-EHVI). With no feasible trial
yet the acquisition is the log probability of feasibility alone.

**Cost per proposal** (n finished trials, d continuous dimensions, M objectives, C
constraint values): one GP fit per objective (ParEGO: one) and per constraint value,
each a MAP of the kernel hyperparameters by L-BFGS-B at O(n^3) per likelihood
evaluation (kept for the rest of a batch); then the acquisition at ``n_points``
candidates and along ``n_restarts_optimizer`` + up to 5 L-BFGS-B climbs of at most 100
iterations, d + 1 points per iteration; each point costs O(n) per GP plus, for EHVI,
O(B M) for B boxes. Measured at 50 trials with 2 objectives: the figures in
``benchmarks/results/bayes_mo.json`` (CPU seconds per proposal, ours and Optuna's).
Past ``max_history`` finished trials n is ``max_history`` for every GP and the front in
the boxes at most ``max_history // 3`` points (:mod:`.bounded`); what remains of the
history's size is linear, and the non-dominated sort, O(n^2 M) in numpy
(``benchmarks/results/bayes-mo-scale.md``).
"""

from __future__ import annotations

import math
from typing import Any

from .acqf import log_h

#: the reference point lies this share of the feasible range beyond the worst
REF_MARGIN = 0.1
#: candidates scored together (bounds the (candidates x boxes) temporaries)
_CHUNK_CELLS = 400_000
#: log-acquisition floor: a finite value keeps finite differences and argsort sane
_FLOOR = -1e6


def _non_dominated(points: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    """The distinct points no other dominates (weakly: a copy is kept once)."""
    uniq = sorted(set(points))
    out: list[tuple[float, ...]] = []
    for p in uniq:  # lexicographic order: a dominator comes first
        if not any(all(q_ <= p_ for q_, p_ in zip(q, p, strict=True)) for q in out):
            out.append(p)
    return out


def _boxes(front: list[tuple[float, ...]], ref: tuple[float, ...]
           ) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    """Disjoint boxes (lower, upper) covering {z < ref: no point of ``front`` <= z};
    ``front`` is mutually non-dominated and strictly below ``ref``."""
    inf = -math.inf
    m = len(ref)
    if not front:
        return [((inf,) * m, ref)]
    if m == 1:
        return [((inf,), (min(p[0] for p in front),))]
    if m == 2:
        pts = sorted(front)  # f1 ascending, so f2 descending
        out = [((inf, inf), (pts[0][0], ref[1]))]
        for a, b in zip(pts, [*pts[1:], None], strict=True):
            out.append(((a[0], inf), (b[0] if b is not None else ref[0], a[1])))
        return [(lo, up) for lo, up in out if all(x < y for x, y in zip(lo, up, strict=True))]
    levels = sorted({p[-1] for p in front})
    bounds = [inf, *levels]
    opened: dict[tuple, float] = {}
    out: list[tuple[tuple[float, ...], tuple[float, ...]]] = []
    for s in bounds:
        active = _non_dominated([p[:-1] for p in front if p[-1] <= s])
        sub = set(_boxes(active, ref[:-1]))
        for box in [b for b in opened if b not in sub]:
            start = opened.pop(box)
            out.append((box[0] + (start,), box[1] + (s,)))
        for box in sub:
            opened.setdefault(box, s)
    for box, start in opened.items():
        out.append((box[0] + (start,), box[1] + (ref[-1],)))
    return [(lo, up) for lo, up in out if all(x < y for x, y in zip(lo, up, strict=True))]


def boxes(points: Any, ref: Any) -> tuple[Any, Any]:
    """(lower, upper), arrays of shape (boxes, objectives): disjoint boxes covering the
    region below ``ref`` that no point of ``points`` dominates (all minimized; points not
    strictly below ``ref`` in every objective add nothing)."""
    import numpy as np

    ref_t = tuple(float(r) for r in ref)
    kept = [tuple(float(x) for x in p) for p in np.asarray(points, dtype=float).reshape(-1, len(ref_t))
            if all(math.isfinite(x) and x < r for x, r in zip(p, ref_t, strict=True))]
    out = _boxes(_non_dominated(kept), ref_t)
    lower = np.array([lo for lo, _ in out], dtype=float).reshape(-1, len(ref_t))
    upper = np.array([up for _, up in out], dtype=float).reshape(-1, len(ref_t))
    return lower, upper


def reference_point(feasible: Any) -> Any:
    """The reference point (see the module's docstring) of the feasible observations
    (transformed), one row per trial."""
    import numpy as np

    feasible = np.asarray(feasible, dtype=float)
    worst = feasible.max(axis=0)
    span = worst - feasible.min(axis=0)
    return worst + REF_MARGIN * np.where(span > 0, span, 1.0)


def _log1mexp(x: Any) -> Any:
    """log(1 - exp(x)) for x <= 0 (-inf at 0)."""
    import numpy as np

    x = np.minimum(x, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(x > -math.log(2), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_ehvi(mean: Any, sd: Any, lower: Any, upper: Any) -> Any:
    """log EHVI at points with independent posteriors ``N(mean, sd^2)`` (arrays of shape
    (points, objectives)) over the boxes (``lower``, ``upper``) of :func:`boxes`."""
    import numpy as np
    from scipy.special import logsumexp

    mean = np.atleast_2d(np.asarray(mean, dtype=float))
    sd = np.maximum(np.atleast_2d(np.asarray(sd, dtype=float)), 1e-9)
    n, m = mean.shape
    b = len(lower)
    if not b:
        return np.full(n, _FLOOR)
    # each objective's bounds take few distinct values: log h once per (point, value)
    index_up, index_lo, values = [], [], []
    for j in range(m):
        finite = np.concatenate([upper[:, j], lower[:, j][np.isfinite(lower[:, j])]])
        vals = np.unique(finite)
        values.append(vals)
        index_up.append(np.searchsorted(vals, upper[:, j]))
        lo = np.searchsorted(vals, np.where(np.isfinite(lower[:, j]), lower[:, j], vals[0]))
        index_lo.append(np.where(np.isfinite(lower[:, j]), lo, -1))
    out = np.empty(n)
    step = max(1, _CHUNK_CELLS // (b * m))
    for start in range(0, n, step):
        mu, s = mean[start:start + step], sd[start:start + step]
        total = np.log(s).sum(axis=1)[:, None] + np.zeros((len(mu), b))
        for j in range(m):
            lh = log_h((values[j][None, :] - mu[:, j:j + 1]) / s[:, j:j + 1])
            hi = lh[:, index_up[j]]
            lo_idx = index_lo[j]
            lo = np.where(lo_idx[None, :] >= 0, lh[:, np.maximum(lo_idx, 0)], -np.inf)
            total += hi + _log1mexp(lo - hi)
        out[start:start + step] = logsumexp(total, axis=1)
    return np.maximum(np.nan_to_num(out, nan=_FLOOR, neginf=_FLOOR), _FLOOR)


def log_pof(mean: Any, sd: Any, threshold: float) -> Any:
    """log P(c <= threshold) for c ~ N(mean, sd^2): a constraint's log probability of
    feasibility in its GP's units."""
    import numpy as np
    from scipy.special import log_ndtr

    return log_ndtr((threshold - np.asarray(mean, dtype=float))
                    / np.maximum(np.asarray(sd, dtype=float), 1e-9))
