"""Grid search: the full factorial of the space, handed out in order, resumable.

Explicit ``values`` lists, integer ranges and categoricals are taken whole; a float
without ``values`` is split into ``points`` values on its own (linear or log) scale, so
``learning_rate: {low: 1e-3, high: 1e-1, log: true}`` gives 0.001, 0.01, 0.1. A
parameter whose condition does not hold does not multiply its branch of the grid.
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
    options = {
        "points": Option(3, int, low=1, nullable=False,
                         help="values per float dimension without a 'values' list"),
        "order": Option("fixed", str, choices=("fixed", "shuffled"), nullable=False,
                        help="fixed: the space's order; shuffled: a seeded permutation"),
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
