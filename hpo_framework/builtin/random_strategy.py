"""Random search: independent uniform draws in the unit-cube encoding, seeded per trial."""

from __future__ import annotations

import random
from typing import Any

from ..contracts.hookspecs import hookimpl
from ..contracts.strategy import Strategy
from ..options import Option


class RandomStrategy(Strategy):
    """Uniform random draws; trial i's draw depends only on (seed, i), so resume is exact."""

    name = "random"
    multi_objective = True  # it ignores outcomes
    handles_constraints = True
    options = {
        "max_retries": Option(100, int, low=0,
                              help="redraws to avoid repeating a configuration already asked"),
    }

    def __init__(self, space, seed=None, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self._seen: set[str] = set()

    def _draw(self, index: int) -> dict[str, Any]:
        base = 0 if self.seed is None else self.seed
        for attempt in range(self.config["max_retries"] + 1):
            rng = random.Random(f"{base}:{index}:{attempt}")
            params = self.space.sample(rng)
            key = self.space.key(params)
            if key not in self._seen:
                break
        self._seen.add(key)
        return params

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            out.append(self._draw(self.n_asked + len(out)))
        return out

    def restore(self, trials) -> None:
        super().restore(trials)
        self._seen = {self.space.key(t.params) for t in trials}


@hookimpl
def register_strategies(register):
    register("random", RandomStrategy, "uniform random search (seeded)", default=0)
