"""The GP's inputs: the core's unit-cube encoding of the space, categoricals one-hot.

Integers and categoricals are bins of the unit interval, log scales are uniform there,
and an inactive conditional parameter encodes to 0.5 (the core's encoding), so nothing
else needs special handling. :meth:`Features.snap` moves a point to the encoding of the
configuration it decodes to, so the acquisition is scored where a trial would run.
"""

from __future__ import annotations

import math
from typing import Any


class Features:
    """The GP's inputs: the unit-cube coordinates, categoricals one-hot (or ordinal)."""

    def __init__(self, space: Any, onehot: bool) -> None:
        from hpo_framework import Categorical, Float, Int

        self.space = space
        self.conditional = any(d.condition for d in space.dimensions)
        self.kinds: list[tuple[str, Any]] = []
        for d in space.searchable:
            if isinstance(d, Categorical):
                self.kinds.append(("cat", d))
            elif isinstance(d, Int):
                self.kinds.append(("int", d))
            elif isinstance(d, Float):
                self.kinds.append(("float", d))
            else:
                self.kinds.append(("other", d))
        self.onehot = onehot
        self.continuous = [i for i, (k, _) in enumerate(self.kinds) if k in ("float", "int")]

    def snap(self, u: Any) -> Any:
        """Each point replaced by the encoding of the configuration it decodes to."""
        import numpy as np

        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.conditional or any(k == "other" for k, _ in self.kinds):
            return np.array([self.space.encode(self.space.decode(list(row))) for row in u])
        out = u.copy()
        for j, (kind, d) in enumerate(self.kinds):
            if kind == "cat":
                k = len(d.choices)
                out[:, j] = (np.minimum(np.floor(u[:, j] * k), k - 1) + 0.5) / k
            elif kind == "int" and not d.log:
                m = d.high - d.low + 1
                out[:, j] = (np.minimum(np.floor(u[:, j] * m), m - 1) + 0.5) / m
            elif kind == "int":
                lo, hi = math.log(d.low), math.log(d.high)
                v = np.clip(np.round(np.exp(lo + u[:, j] * (hi - lo))), d.low, d.high)
                out[:, j] = np.clip((np.log(v) - lo) / (hi - lo), 0.0, 1.0)
        return out

    def __call__(self, u: Any) -> Any:
        import numpy as np

        u = np.atleast_2d(np.asarray(u, dtype=float))
        if not self.onehot:
            return u
        cols = []
        for j, (kind, d) in enumerate(self.kinds):
            if kind != "cat" or len(d.choices) < 3:
                cols.append(u[:, j:j + 1])
                continue
            k = len(d.choices)
            idx = np.minimum(np.floor(u[:, j] * k), k - 1).astype(int)
            hot = np.zeros((len(u), k))
            hot[np.arange(len(u)), idx] = 1.0
            if k % 2 == 0:  # an inactive parameter encodes to 0.5, no category's position
                hot[np.abs(u[:, j] - 0.5) < 1e-12] = 0.5
            cols.append(hot)
        return np.hstack(cols)
