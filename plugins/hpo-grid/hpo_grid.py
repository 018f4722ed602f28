"""Grid search: the full factorial of the space, handed out in order, resumable.

Explicit ``values`` lists, integer ranges (every ``step``-th value with a step), floats
with a ``step``, booleans and categoricals are taken whole; a float without ``values`` or
``step`` is split into ``points`` values on its own (linear or log) scale, so
``learning_rate: {low: 1e-3, high: 1e-1, log: true}`` gives 0.001, 0.01, 0.1. A
parameter whose condition does not hold does not multiply its branch of the grid.

The default order (``spread``) covers the space from the first trials on, so that a budget
smaller than the grid never explores one corner of it (the space's own order runs every
value of the last parameters before the first one moves: 54 trials of a 198-point grid
all had ``learning_rate=0.001``). It is a function of the space only, so a resumed study
walks the same order.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Sequence
from typing import Any

from hpo_framework import Option, Strategy, Trial, hookimpl


class GridSkippedWarning(UserWarning):
    """A study stopped (budget or timeout) before its grid was exhausted."""


class GridStrategy(Strategy):
    """Full factorial; runs out when every point was handed out (``finite``)."""

    name = "grid"
    finite = True
    multi_objective = True  # it ignores outcomes
    handles_constraints = True
    options = {
        "points": Option(3, int, low=1, nullable=False,
                         help="values per float dimension without a 'values' list or a 'step'"),
        "order": Option("spread", str, choices=("fixed", "shuffled", "spread"),
                        nullable=False,
                        help="spread: every prefix covers every parameter's values (the "
                             "default); fixed: the space's order; shuffled: a seeded "
                             "permutation"),
    }

    def __init__(self, space, seed=None, **options: Any) -> None:
        super().__init__(space, seed, **options)
        points = space.grid(self.config["points"])
        # a value repeated in a 'values' list is one point, not two
        lists = [getattr(d, "values", None) or [] for d in space]
        if any(len(set(map(_typed, v))) < len(v) for v in lists):
            unique: dict[tuple, dict[str, Any]] = {}
            for p in points:
                unique.setdefault(_key(p), p)
            points = list(unique.values())
        if self.config["order"] == "shuffled":
            random.Random(f"grid:{0 if seed is None else seed}").shuffle(points)
        elif self.config["order"] == "spread":
            points = spread(points)
        self.points: list[dict[str, Any]] = points
        self._seen: set[tuple] = set()  # configurations handed out (this run or the history)
        self.position = 0  # index of the next point to consider
        self._left = len(points)  # points from `position` on that were never handed out

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        out = []
        while len(out) < n and self.position < len(self.points):
            i = self.position
            self.position += 1
            key = _key(self.points[i])
            if key in self._seen:  # already in the history: never run it twice
                continue
            self._seen.add(key)
            self._left -= 1
            out.append(dict(self.points[i]))
        return out

    @property
    def done(self) -> bool:
        return self._left <= 0

    @property
    def remaining(self) -> int:
        """Points never handed out (the history counts as handed out)."""
        return self._left

    def restore(self, trials: Sequence[Trial]) -> None:
        self.n_asked = len(trials)
        self._seen = {_key(self.space.active(t.params)) for t in trials}
        self.position = 0
        self._left = sum(1 for p in self.points if _key(p) not in self._seen)

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {"grid_size": len(self.points),
                               "asked": len(self.points) - self._left, "remaining": self._left}
        note = self.skipped_message()
        if note:
            out["note"] = note
        return out

    def skipped_message(self) -> str | None:
        remaining = self.remaining
        if not remaining:
            return None
        return (f"grid: {remaining} of {len(self.points)} points were skipped (the study "
                "stopped first); raise --trials or run the same study again to continue")


def spread(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The points in an order whose every prefix spreads over every parameter.

    Each parameter's values are visited in van der Corput order (ends first, then
    midpoints: 0.001, 0.1, 0.01). The parameter with the most values steps by one position
    per trial; every other one, ``j``, sits at position ``(d_1 + d_j) mod n_j``, where
    ``d_j`` is its own digit of the trial's index in mixed radix. So each run of ``n_1``
    trials holds every value of every parameter, within one of equal counts, and the pairs
    differ from run to run; the map from digits to points is one to one, so every point
    comes once, in an order fixed by the space alone. A conditional space's branches (the
    points with the same active parameters: ``n_layers=2`` and its ``units_2``) are each
    ordered so, and taken in turn.
    """
    branches: dict[frozenset, list[dict[str, Any]]] = {}
    for p in points:
        branches.setdefault(frozenset(p), []).append(p)
    ordered = [_spread_product(b) for b in branches.values()]
    turns = sorted((i, b) for b, branch in enumerate(ordered) for i in range(len(branch)))
    return [ordered[b][i] for i, b in turns]


def _spread_product(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`spread` for points with the same parameters (part of one full factorial)."""
    rank: dict[str, dict[tuple, int]] = {}  # per parameter: value -> index, first seen first
    for p in points:
        for name, v in p.items():
            seen = rank.setdefault(name, {})
            seen.setdefault(_typed(v), len(seen))
    dims = sorted(rank, key=lambda n: -len(rank[n]))  # stable: ties keep the space's order
    position = {n: _van_der_corput_positions(len(rank[n])) for n in dims}

    def index(p: dict[str, Any]) -> int:
        k, scale, first = 0, 1, 0
        for j, n in enumerate(dims):
            pos, size = position[n][rank[n][_typed(p[n])]], len(rank[n])
            if j == 0:
                first = pos
            k += (pos if j == 0 else (pos - first) % size) * scale
            scale *= size
        return k

    return sorted(points, key=index)


def _van_der_corput_positions(n: int) -> list[int]:
    """position[i]: where index ``i`` of ``n`` comes in the bit-reversed order of 0..n-1."""
    bits = max(1, (n - 1).bit_length())
    order = [r for r in (int(f"{i:0{bits}b}"[::-1], 2) for i in range(1 << bits)) if r < n]
    out = [0] * n
    for pos, i in enumerate(order):
        out[i] = pos
    return out


def _typed(value: Any) -> tuple[str, Any]:
    return type(value).__name__, value


def _key(params: dict[str, Any]) -> tuple:
    """A cheap hashable key (grids can have millions of points); True and 1 stay apart."""
    return tuple(sorted((k, *_typed(v)) for k, v in params.items()))


@hookimpl
def register_strategies(register):
    register("grid", GridStrategy, "full factorial grid (floats split into `points` values)")


@hookimpl
def study_finished(study: Any) -> None:
    """Say how much of the grid a budget or timeout left out."""
    strategy = getattr(study, "strategy", None)
    if isinstance(strategy, GridStrategy) and not getattr(study, "interrupted", False):
        message = strategy.skipped_message()
        if message:
            # a clean one-liner on stderr ("hpo-grid:0: GridSkippedWarning: grid: ..."),
            # not a line of pluggy's internals
            warnings.warn_explicit(message, GridSkippedWarning, "hpo-grid", 0, module="hpo_grid")
