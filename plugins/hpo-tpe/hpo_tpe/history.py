"""What TPE remembers of the study: one row per finished trial, the asked-but-unfinished
configurations, and which dimensions were active together.

Rows live in growing numpy buffers (values in original units, a categorical as its
index, NaN where a parameter was inactive), so an ask reads them without a pass in
Python over the history. A trial told twice (paused, then resumed) replaces its row.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

COMPLETE, PRUNED, FAILED = 0, 1, 2


class History:
    """Finished trials as arrays, plus the pending configurations of the constant liar."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.size = 0
        self.x = np.empty((64, width))
        self.loss = np.empty(64)
        self.kind = np.empty(64, dtype=np.int8)
        self.step = np.empty(64)  # a pruned trial's last step (-1: it reported none)
        self.number = np.empty(64, dtype=np.int64)
        self._row: dict[int, int] = {}
        #: active-dimension patterns of COMPLETE and PRUNED rows (the group decomposition)
        self.patterns: Counter[bytes] = Counter()
        #: key -> values of configurations asked and not finished yet, in ask order
        self.pending: dict[str, np.ndarray] = {}

    def add(self, number: int, values: np.ndarray, kind: int, loss: float, step: float) -> None:
        row = self._row.get(number)
        if row is None:
            row = self._row[number] = self.size
            self.size += 1
            if self.size > len(self.loss):
                self._grow()
        elif self.kind[row] != FAILED:
            self._count(row, -1)
        self.x[row], self.kind[row], self.number[row] = values, kind, number
        self.loss[row] = math.inf if math.isnan(loss) else loss
        self.step[row] = step
        if kind != FAILED:
            self._count(row, +1)

    def _count(self, row: int, by: int) -> None:
        key = (~np.isnan(self.x[row])).tobytes()
        self.patterns[key] += by
        if self.patterns[key] <= 0:
            del self.patterns[key]

    def _grow(self) -> None:
        for name in ("x", "loss", "kind", "step", "number"):
            old = getattr(self, name)
            new = np.empty((2 * len(old), *old.shape[1:]), dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    @property
    def n_observed(self) -> int:
        """COMPLETE and PRUNED trials: what the startup phase counts (FAILED ones teach
        nothing about where the good region is)."""
        return sum(self.patterns.values())

    def split(self, n_below: int) -> tuple[np.ndarray, np.ndarray]:
        """Row indices of the good group (the best ``n_below``) and the rest, each in
        trial-number order. Complete trials rank by loss; pruned ones after them, those
        that got further first, then by their last loss (Optuna's rule); failed trials
        are always in the rest."""
        n = self.size
        kind, loss, number = self.kind[:n], self.loss[:n], self.number[:n]
        done = np.flatnonzero(kind == COMPLETE)
        done = done[np.lexsort((number[done], loss[done]))]
        cut = np.flatnonzero(kind == PRUNED)
        cut = cut[np.lexsort((number[cut], loss[cut], -self.step[:n][cut]))]
        ranked = np.concatenate([done, cut])
        below, above = ranked[:n_below], np.concatenate([ranked[n_below:],
                                                         np.flatnonzero(kind == FAILED)])
        return (below[np.argsort(number[below], kind="stable")],
                above[np.argsort(number[above], kind="stable")])

    def groups(self, multivariate: bool) -> list[list[int]]:
        """Columns modelled jointly: those active in exactly the same observed trials
        (each group is then all there or all absent in every trial). Without
        ``multivariate`` every column is its own group."""
        if not multivariate:
            return [[i] for i in range(self.width)]
        patterns = [np.frombuffer(p, dtype=bool) for p in sorted(self.patterns)]
        by_signature: dict[Any, list[int]] = {}
        for i in range(self.width):
            by_signature.setdefault(tuple(bool(p[i]) for p in patterns), []).append(i)
        return list(by_signature.values())
