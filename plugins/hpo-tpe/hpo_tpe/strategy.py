"""The ``tpe`` strategy: random startup trials, then the best of 24 candidates by l(x)/g(x).

After ``n_startup_trials`` observed trials, each proposal splits the history into the
best ``min(ceil(n / 10), 25)`` trials and the rest, fits one Parzen estimator l(x) on the
good ones and one g(x) on the rest, draws ``n_ei_candidates`` from l and keeps the one
with the largest l(x)/g(x) (Bergstra et al. 2011; Optuna's ``TPESampler`` with
``multivariate=True, group=True``). Each group of dimensions that were active in exactly
the same trials gets its own joint estimators, so a conditional space is modelled without
inventing values for inactive parameters. Configurations asked and not finished yet,
and failed trials, join the bad group (the constant liar), so a batch spreads out.

Every random draw comes from a seed derived from (seed, number asked, attempt) and the
history is read in trial-number order, so a resumed study asks what an uninterrupted one
would have asked.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from hpo_framework import Categorical, Constant, Int, Option, Strategy, Trial, TrialState

#: attempts at drawing candidates before falling back on random configurations
_ATTEMPTS = 3
_RANDOM_RETRIES = 100


class TPEStrategy(Strategy):
    """A multivariate tree-structured Parzen estimator over the space's own dimensions."""

    name = "tpe"
    options = {
        "n_startup_trials": Option(10, int, low=0, nullable=False,
                                   help="random trials before the model is used"),
        "n_ei_candidates": Option(24, int, low=1, nullable=False,
                                  help="candidates drawn from l(x) per proposal"),
        "prior_weight": Option(1.0, float, low=1e-6, nullable=False,
                               help="weight of the prior kernel in both estimators"),
        "multivariate": Option(True, bool, nullable=False,
                               help="one joint estimator per group of dimensions that are "
                                    "active together; false: one per dimension"),
        "constant_liar": Option(True, bool, nullable=False,
                                help="count configurations still running as bad ones"),
    }

    def __init__(self, space, seed=None, **options: Any) -> None:
        super().__init__(space, seed, **options)
        from .history import History
        from .parzen import Dim

        self.dims: list[Dim] = []
        for d in space.searchable:
            if isinstance(d, Categorical):  # bool too: a choice of two
                self.dims.append(Dim(d.name, choices=len(d.choices)))
            elif _levels(d) is not None:  # a values list: its index, an ordered integer
                self.dims.append(Dim(d.name, 0.0, float(len(_levels(d)) - 1), False, 1.0))
            else:  # an int's step is 1 unless it has one; a float's 0 (a range) or its step
                step = getattr(d, "step", None)
                self.dims.append(Dim(d.name, float(d.low), float(d.high), d.log,
                                     float(step or (1 if isinstance(d, Int) else 0))))
        self.history = History(len(self.dims))
        self._seen: set[str] = set()

    # the contract ----------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            index = self.n_asked + len(out)
            if self.history.n_observed < self.config["n_startup_trials"]:
                params = self._random(index)
            else:
                params = self._propose(index)
            key = self.space.key(params)
            self._seen.add(key)
            self.history.pending[key] = self._values(params)
            out.append(params)
        return out

    def tell(self, trials: Sequence[Trial]) -> None:
        import numpy as np

        from .history import COMPLETE, FAILED, PRUNED

        for t in trials:
            key = self.space.key(t.params)
            self.history.pending.pop(key, None)
            self._seen.add(key)
            step, loss = -1.0, math.inf
            if t.state is TrialState.COMPLETE and t.loss is not None:
                kind, loss = COMPLETE, float(t.loss)
            elif t.state is TrialState.PRUNED:
                kind = PRUNED
                if t.curve:
                    step, loss = (float(v) for v in max(t.curve, key=lambda c: c[0]))
                else:
                    loss = 0.0
            else:
                kind = FAILED
            self.history.add(t.number, np.asarray(self._values(t.params)), kind, loss, step)

    def restore(self, trials: Sequence[Trial]) -> None:
        from .history import History

        self.n_asked = len(trials)
        self.history = History(len(self.dims))
        self._seen = {self.space.key(t.params) for t in trials}
        finished = [t for t in trials if t.state.finished]
        for t in trials:
            if not t.state.finished:
                self.history.pending[self.space.key(t.params)] = self._values(t.params)
        self.tell(finished)

    # proposals ---------------------------------------------------------------------------
    def _random(self, index: int) -> dict[str, Any]:
        """The ``random`` strategy's draw for this index: the startup trials match it."""
        base = 0 if self.seed is None else self.seed
        for attempt in range(_RANDOM_RETRIES + 1):
            params = self.space.sample(random.Random(f"{base}:{index}:{attempt}"))
            if self.space.key(params) not in self._seen:
                break
        return params

    def _propose(self, index: int) -> dict[str, Any]:
        first = None
        for attempt in range(_ATTEMPTS):
            for values in self._candidates(self._rng(index, attempt)):
                params = self._params(values)
                first = first or params
                if self.space.key(params) not in self._seen:
                    return params
        params = self._random(index)  # every candidate was tried already: a small space
        return first if self.space.key(params) in self._seen else params

    def _rng(self, index: int, attempt: int) -> Any:
        import hashlib

        import numpy as np

        blob = repr((self.seed, index, attempt)).encode()
        return np.random.default_rng(int.from_bytes(hashlib.sha256(blob).digest()[:8], "big"))

    def _candidates(self, rng: Any) -> list[list[float]]:
        """The candidates of every group, best first, combined rank by rank."""
        import numpy as np

        from .parzen import Parzen

        h = self.history
        n = h.n_observed
        below, above = h.split(min(math.ceil(0.1 * n), 25))
        x = h.x[: h.size]
        pending = list(h.pending.values()) if self.config["constant_liar"] else []
        bad = np.vstack([x[above], *pending]) if pending else x[above]
        size = self.config["n_ei_candidates"]
        combined = np.full((size, len(self.dims)), np.nan)
        for cols in h.groups(self.config["multivariate"]):
            good_g, bad_g = _rows(x[below], cols), _rows(bad, cols)
            dims = [self.dims[i] for i in cols]
            weight = self.config["prior_weight"]
            l_model, g_model = Parzen(dims, good_g, weight), Parzen(dims, bad_g, weight)
            drawn = l_model.sample(rng, size)
            score = l_model.log_pdf(drawn) - g_model.log_pdf(drawn)
            combined[:, cols] = drawn[np.argsort(-score, kind="stable")]
        return combined.tolist()

    # encoding ----------------------------------------------------------------------------
    def _values(self, params: dict[str, Any]) -> list[float]:
        """A configuration as TPE's row: original units, categorical index, NaN if absent."""
        out = []
        for d, dim in zip(self.space.searchable, self.dims, strict=True):
            if d.name not in params:
                out.append(math.nan)
            elif dim.choices:
                out.append(float(d.index(params[d.name])))
            elif _levels(d) is not None:
                out.append(float(_levels(d).index(d.nearest(params[d.name]))))
            else:
                out.append(min(max(float(params[d.name]), dim.low), dim.high))
        return out

    def _params(self, values: list[float]) -> dict[str, Any]:
        """A row back to a configuration; parameters whose condition fails are left out."""
        by_name = {dim.name: v for dim, v in zip(self.dims, values, strict=True)}
        params: dict[str, Any] = {}
        for d in self.space.dimensions:
            if not d.is_active(params):
                continue
            if isinstance(d, Constant):
                params[d.name] = d.value
            elif isinstance(d, Categorical):
                params[d.name] = d.choices[int(by_name[d.name])]
            elif _levels(d) is not None:
                levels = _levels(d)
                params[d.name] = levels[int(min(max(round(by_name[d.name]), 0),
                                                len(levels) - 1))]
            elif hasattr(d, "nearest"):  # onto the step (rounded to its decimals)
                params[d.name] = d.nearest(by_name[d.name])
            elif isinstance(d, Int):
                params[d.name] = int(min(max(round(by_name[d.name]), d.low), d.high))
            else:
                params[d.name] = float(min(max(by_name[d.name], d.low), d.high))
        return params


def _levels(d: Any) -> list | None:
    """An int or float dimension's ``values`` in order, once each (None without a list)."""
    return getattr(d, "levels", None)


def _rows(x: Any, cols: list[int]) -> Any:
    """The rows of ``x`` in which every column of ``cols`` is active, those columns only."""
    import numpy as np

    part = x[:, cols]
    return part[~np.isnan(part).any(axis=1)]
