"""Several objectives: dominance, constrained dominance, non-dominated sorting and the
exact hypervolume, on loss vectors (every objective minimized, as strategies see them).

Plain Python on purpose: the fronts a study holds are small (tens to a few hundred
points), these run in the driver and in every strategy process, and a dependency (pymoo,
botorch, Optuna's private ``_hypervolume``) would be heavier than the 100 lines here. The
hypervolume is exact: a sweep in 2-D, a sweep over a kept 2-D staircase in 3-D (0.01 s for
2,000 points), and the slicing recursion ("HSO", While et al. 2006) above.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Point = Sequence[float]
T = TypeVar("T")


def violation(constraints: Sequence[float] | None) -> float:
    """Total constraint violation: the sum of the positive parts (0.0 when feasible, as
    in Optuna: a constraint value ``<= 0`` is satisfied)."""
    if not constraints:
        return 0.0
    return float(sum(c for c in constraints if c > 0))


def feasible(constraints: Sequence[float] | None) -> bool:
    return violation(constraints) == 0.0


def dominates(a: Point, b: Point) -> bool:
    """``a`` Pareto-dominates ``b``: no worse in every loss and better in one."""
    better = False
    for x, y in zip(a, b, strict=True):
        if x > y:
            return False
        if x < y:
            better = True
    return better


def constrained_dominates(a: Point, b: Point, ca: Sequence[float] | None,
                          cb: Sequence[float] | None) -> bool:
    """Deb's constrained domination: a feasible point dominates an infeasible one; of two
    infeasible points the smaller total violation dominates; two feasible points compare
    by :func:`dominates`."""
    va, vb = violation(ca), violation(cb)
    if va == 0.0 and vb == 0.0:
        return dominates(a, b)
    if va == 0.0:
        return True
    if vb == 0.0:
        return False
    return va < vb


def non_dominated(points: Sequence[Point]) -> list[int]:
    """Indices of the points no other point dominates (duplicates all kept), in order."""
    return [i for i, p in enumerate(points)
            if not any(dominates(q, p) for j, q in enumerate(points) if j != i)]


class KeptFront(Generic[T]):
    """The non-dominated items among those added so far, kept as they come: an item that
    a kept one dominates is dropped, else it removes the kept ones it dominates. Dominance
    is transitive, so what :attr:`items` holds (sorted by ``key``) is what
    :func:`non_dominated` gives over every item added, sorted by ``key`` (duplicates all
    kept), at a cost per item of the front's size, not of the items seen."""

    def __init__(self, losses: Callable[[T], Point], key: Callable[[T], int]) -> None:
        self._losses, self._key = losses, key
        self.items: list[T] = []
        self._points: list[tuple[float, ...]] = []  # the items' losses, read once each

    def add(self, item: T) -> bool:
        """Keep ``item`` if nothing kept dominates it; True when it was kept."""
        p = tuple(self._losses(item))
        if any(dominates(q, p) for q in self._points):
            return False
        kept = [i for i, q in enumerate(self._points) if not dominates(p, q)]
        if len(kept) < len(self._points):
            self.items = [self.items[i] for i in kept]
            self._points = [self._points[i] for i in kept]
        at = bisect.bisect_right(self.items, self._key(item), key=self._key)
        self.items.insert(at, item)
        self._points.insert(at, p)
        return True


def nondominated_sort(points: Sequence[Point],
                      constraints: Sequence[Sequence[float] | None] | None = None
                      ) -> list[list[int]]:
    """Fronts of indices, best first (Deb et al.'s fast non-dominated sort); with
    ``constraints`` (one sequence or None per point) by constrained domination."""
    n = len(points)
    cons = list(constraints) if constraints is not None else [None] * n

    def dom(i: int, j: int) -> bool:
        if constraints is None:
            return dominates(points[i], points[j])
        return constrained_dominates(points[i], points[j], cons[i], cons[j])

    beats: list[list[int]] = [[] for _ in range(n)]
    beaten = [0] * n
    for i in range(n):
        for j in range(i + 1, n):
            if dom(i, j):
                beats[i].append(j)
                beaten[j] += 1
            elif dom(j, i):
                beats[j].append(i)
                beaten[i] += 1
    fronts: list[list[int]] = []
    current = [i for i in range(n) if beaten[i] == 0]
    while current:
        fronts.append(current)
        following = []
        for i in current:
            for j in beats[i]:
                beaten[j] -= 1
                if beaten[j] == 0:
                    following.append(j)
        current = sorted(following)
    return fronts


def hypervolume(points: Sequence[Point], reference: Point) -> float:
    """The exact volume dominated by ``points`` and bounded by ``reference`` (all
    minimized). Points that do not dominate the reference strictly in every coordinate
    add nothing; no point gives 0.0."""
    ref = [float(r) for r in reference]
    kept = [[float(x) for x in p] for p in points
            if all(math.isfinite(x) and x < r for x, r in zip(p, ref, strict=True))]
    if not kept:
        return 0.0
    if len(ref) == 3:
        return _hv3(kept, ref)
    # the 2-D sweep skips dominated points itself; above 3-D the slicing wants the front
    return _hv(kept if len(ref) <= 2 else _front(kept), ref)


def _hv3(points: list[list[float]], ref: list[float]) -> float:
    """Exact 3-D hypervolume in O(n log n + n * front): sweep the points by the last loss,
    keeping the 2-D staircase of the first two (x ascending, y descending) and its area,
    updated by the terms an insertion changes."""
    import bisect

    rx, ry, rz = ref
    pts = sorted(points, key=lambda p: p[2])
    xs: list[float] = []
    ys: list[float] = []
    area = total = 0.0

    def term(i: int) -> float:
        right = xs[i + 1] if i + 1 < len(xs) else rx
        return (right - xs[i]) * (ry - ys[i])

    for n, (px, py, pz) in enumerate(pts):
        k = bisect.bisect_right(xs, px)
        if not (k and ys[k - 1] <= py):  # not dominated in the first two losses
            start = end = bisect.bisect_left(xs, px)
            while end < len(xs) and ys[end] >= py:
                end += 1
            if start:
                area -= term(start - 1)
            for i in range(start, end):
                area -= term(i)
            xs[start:end] = [px]
            ys[start:end] = [py]
            if start:
                area += term(start - 1)
            area += term(start)
        upper = pts[n + 1][2] if n + 1 < len(pts) else rz
        total += area * (upper - pz)
    return total


def _front(points: list[list[float]]) -> list[list[float]]:
    unique = [list(p) for p in {tuple(p) for p in points}]
    return [unique[i] for i in non_dominated(unique)]


def _hv(points: list[list[float]], ref: list[float]) -> float:
    d = len(ref)
    if d == 1:
        return ref[0] - min(p[0] for p in points)
    if d == 2:
        total, last_y = 0.0, ref[1]
        for x, y in sorted(points):
            if y < last_y:
                total += (ref[0] - x) * (last_y - y)
                last_y = y
        return total
    # slice along the last objective: between consecutive values, the points at or
    # below the slice dominate a (d-1)-dimensional region
    ordered = sorted(points, key=lambda p: p[-1])
    total = 0.0
    for k, p in enumerate(ordered):
        upper = ordered[k + 1][-1] if k + 1 < len(ordered) else ref[-1]
        depth = upper - p[-1]
        if depth <= 0:
            continue
        below = [q[:-1] for q in ordered[:k + 1]]
        if d > 3:  # the 2-D sweep skips dominated points itself
            below = _front(below)
        total += depth * _hv(below, ref[:-1])
    return total
