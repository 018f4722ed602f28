"""Several objectives and constraints at large budgets: which finished trials each GP is
fitted on past ``max_history`` (:meth:`.strategy.BayesStrategy._multi_acquisition`),
and the non-dominated sort in numpy.

The objectives' GPs (EHVI: one per objective; ParEGO or one constrained objective: one)
share one subset of ``limit`` trials (:func:`pick`):

- **the front** (``limit // 10``): the constrained non-dominated trials, then the next
  fronts while they fit; a front that does not fit keeps its most spread points
  (:func:`spread`, NSGA-II's crowding distance, one point dropped at a time), so the
  ends of the front and its gaps stay modelled. With one objective this is the best
  tenth of the single-objective rule (:func:`.strategy.subset`); with ParEGO the
  incumbent of the scalarized loss is kept too, so log-EI's best value is the true one;
- **the latest quarter** of the rest (where the search is now);
- **a sample** of the rest drawn from a seeded rng (a function of the seed and the
  data), the model's picture of the whole function (most of the subset: made mostly of
  the best points, the single-objective check measured the length scales shrink).

Each constraint's GP keeps (when more than ``limit`` trials have that value) the front
above (the feasible incumbents the acquisition climbs from), **the boundary** (the
``limit // 4`` values nearest 0, both sides: where the probability of feasibility is
neither 0 nor 1 and the acquisition's choice is decided), the latest quarter and a
seeded sample. Keeping every feasible trial is no bound (most trials of a study that
finds the feasible region are feasible); far infeasible values only say "bad there",
which the sample keeps.

EHVI's boxes past the bound: the non-dominated feasible trials of the whole history,
at most ``limit // 3`` of them (:func:`spread`), mapped into the GP's units
(:func:`units`) with the reference point of every feasible trial; the box count is then
at most ``limit // 3 + 1`` with two objectives, however long the front grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: rows of the dominance matrix computed together (bounds its temporaries)
_CHUNK = 512
#: past the bound, the objectives' subset keeps ``limit // FRONT_SHARE`` front points
#: and EHVI's boxes ``limit // BOX_SHARE`` (``benchmarks/bayes_mo_scale.py`` varies them)
FRONT_SHARE = 10
BOX_SHARE = 3


def _dominance(P: Any, rows: Any) -> Any:
    """``out[a, j]``: point ``rows[a]`` Pareto-dominates point ``j``."""
    import numpy as np

    A = P[rows]
    le = np.all(A[:, None, :] <= P[None, :, :], axis=2)
    return le & np.any(A[:, None, :] < P[None, :, :], axis=2)


def _first_front(P: Any, rows: Any) -> Any:
    """The rows of ``P`` among ``rows`` that none of them dominates: a sweep in
    lexicographic order (only an earlier point can dominate a later one), each point
    checked against the front so far."""
    import numpy as np

    sub = P[rows]
    kept: list[int] = []
    front = np.empty((0, P.shape[1]))
    for a in np.lexsort(sub.T[::-1]):
        q = sub[a]
        if len(kept) and np.any(np.all(front <= q, axis=1) & np.any(front < q, axis=1)):
            continue
        kept.append(int(a))
        front = np.vstack([front, q])
    return np.asarray(rows)[sorted(kept)]


def _pareto_ranks(P: Any, need: int | None = None) -> Any:
    """Each point's Pareto front (0: non-dominated; copies share a front). ``need``
    (three objectives or more): only the first fronts that hold ``need`` points are
    told apart, by peeling (:func:`_first_front`), and every other point gets the next
    rank."""
    import bisect

    import numpy as np

    n, m = P.shape
    if m == 1:
        return np.unique(P[:, 0], return_inverse=True)[1].reshape(n)
    rank = np.full(n, -1, dtype=np.int64)
    if m == 2:  # a sweep by f1: each front's last point has its least f2 so far
        low: list[float] = []  # front k's least f2 ...
        at: list[float] = []  # ... and that point's f1
        for i in np.lexsort((P[:, 1], P[:, 0])):
            f1, f2 = float(P[i, 0]), float(P[i, 1])
            k = bisect.bisect_right(low, f2)
            if k and low[k - 1] == f2 and at[k - 1] == f1:  # a copy of that point
                k -= 1
            if k == len(low):
                low.append(f2)
                at.append(f1)
            else:
                low[k], at[k] = f2, f1
            rank[i] = k
        return rank
    if need is not None:
        left, r = np.arange(n), 0
        while len(left) and n - len(left) < need:
            front = _first_front(P, left)
            rank[front] = r
            left, r = np.setdiff1d(left, front), r + 1
        rank[left] = r
        return rank
    beaten = np.zeros(n, dtype=np.int64)  # more objectives: the dominance matrix by rows
    for start in range(0, n, _CHUNK):
        beaten += _dominance(P, np.arange(start, min(n, start + _CHUNK))).sum(axis=0)
    current, r = np.flatnonzero(beaten == 0), 0
    while len(current):
        rank[current] = r
        for start in range(0, len(current), _CHUNK):
            beaten -= _dominance(P, current[start:start + _CHUNK]).sum(axis=0)
        beaten[rank >= 0] = -1
        current, r = np.flatnonzero(beaten == 0), r + 1
    return rank


def front_ranks(points: Sequence[Sequence[float]],
                constraints: Sequence[Sequence[float] | None] | None = None,
                need: int | None = None) -> Any:
    """Each point's front (0: non-dominated), as
    :func:`hpo_framework.contracts.pareto.nondominated_sort` sorts them (its pure-Python
    pairs cost seconds at a few thousand trials). With ``constraints``, Deb's constrained
    domination: the feasible points' Pareto fronts first, then one front per distinct
    total violation, smallest first (a smaller violation dominates, an equal one
    neither). Two objectives: a sweep, O(n log n); more: O(n^2 M) in numpy, or with
    ``need`` only the first fronts that hold ``need`` points told apart (the others
    share the next rank), O(n f) for fronts of f points."""
    import numpy as np

    from hpo_framework.contracts.pareto import violation

    P = np.asarray(points, dtype=float).reshape(len(points), -1)
    viol = np.asarray([0.0 if constraints is None else violation(c)
                       for c in (constraints or [None] * len(P))], dtype=float)
    ok = viol == 0.0
    rank = np.zeros(len(P), dtype=np.int64)
    rank[ok] = _pareto_ranks(P[ok], need) if ok.any() else []
    if not ok.all():
        base = int(rank[ok].max()) + 1 if ok.any() else 0
        rank[~ok] = base + np.unique(viol[~ok], return_inverse=True)[1].reshape(-1)
    return rank


def crowding(points: Any) -> Any:
    """NSGA-II's crowding distance of each point (rows) within its front: the ends of
    every objective infinite."""
    import numpy as np

    P = np.asarray(points, dtype=float)
    n, m = P.shape
    out = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(P[:, j], kind="stable")
        col = P[order, j]
        span = col[-1] - col[0]
        out[order[0]] = out[order[-1]] = np.inf
        if span > 0:
            out[order[1:-1]] += (col[2:] - col[:-2]) / span
    return out


def spread(points: Any, cap: int) -> list[int]:
    """Which ``cap`` of the rows of ``points`` (one front) to keep, in row order: the
    least crowded are dropped, a tenth of those left at a time at most (one at a time
    near the end; crowding recomputed each time; ties: the later row), so the front's
    ends stay and no gap opens where points were dense, in O(k log k) per step for a
    front of k points."""
    import numpy as np

    P = np.asarray(points, dtype=float)
    alive = np.arange(len(P))
    cap = max(cap, 0)
    while len(alive) > cap:
        c = crowding(P[alive])
        drop = min(len(alive) - cap, max(1, len(alive) // 10))
        order = np.lexsort((-np.arange(len(alive)), c))  # least crowded, later row first
        alive = np.delete(alive, order[:drop])
    return [int(i) for i in alive]


def best_rows(rank: Any, losses: Any, cap: int) -> list[int]:
    """Up to ``cap`` rows by front: whole fronts in order while they fit, the next one
    by :func:`spread` (rows with a negative rank are never kept)."""
    import numpy as np

    rank = np.asarray(rank)
    out: list[int] = []
    for r in range(int(rank.max(initial=-1)) + 1):
        rows = np.flatnonzero(rank == r)
        room = cap - len(out)
        if room <= 0:
            break
        if len(rows) > room:
            rows = rows[spread(np.asarray(losses)[rows], room)]
        out.extend(int(i) for i in rows)
    return sorted(out)


def pick(n: int, limit: int, first: Sequence[int], rng: Any) -> list[int]:
    """``limit`` of ``n`` rows, in order: ``first`` (distinct, at most ``limit``), the
    ``limit // 4`` latest of the rest, and a sample of the others drawn by ``rng``."""
    import numpy as np

    first = sorted(set(int(i) for i in first))[:limit]
    taken = np.zeros(n, dtype=bool)
    taken[first] = True
    rest = np.flatnonzero(~taken)
    n_recent = min(limit // 4, limit - len(first), len(rest))
    recent = rest[len(rest) - n_recent:]
    others = rest[:len(rest) - n_recent]
    size = min(limit - len(first) - n_recent, len(others))
    sample = rng.choice(others, size=size, replace=False) if size > 0 else []
    return sorted(int(i) for i in np.concatenate([first, recent, sample]))


def units(raw: Any, fitted: Any) -> Any:
    """The map of a loss into a GP's units, from the losses it was fitted on (``raw``) and
    its targets (``fitted``): linear between them, extended linearly past the ends (the
    output transforms keep the order; ``standardize`` is affine, and exactly this)."""
    import numpy as np

    raw, fitted = np.asarray(raw, dtype=float), np.asarray(fitted, dtype=float)
    order = np.argsort(raw, kind="stable")
    x, y = raw[order], fitted[order]
    x, index = np.unique(x, return_index=True)
    y = y[index]

    def apply(v: Any) -> Any:
        v = np.asarray(v, dtype=float)
        if len(x) < 2:
            return v - x[0] + y[0]
        out = np.interp(v, x, y)
        lo_slope = (y[1] - y[0]) / (x[1] - x[0])
        hi_slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
        out = np.where(v < x[0], y[0] + (v - x[0]) * lo_slope, out)
        return np.where(v > x[-1], y[-1] + (v - x[-1]) * hi_slope, out)

    return apply
