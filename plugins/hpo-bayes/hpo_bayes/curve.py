"""A pruned trial's final loss, predicted from the learning curves the study has.

``pruned=curve``: one GP over (configuration, log step), fitted on every value every
trial reported; its mean at (the pruned configuration, the last step) is the
prediction. A slow starter stopped at epoch 1 is then judged by the curves of finished
trials near it in the space. ``pruned=offset`` (also the fallback): the loss where it
stopped plus the finished trials' median change from that step to their end.
``benchmarks/pruned_prediction.py`` compares the two on stored learning curves.
The curve GP is fitted on at most ``CURVE_ROWS`` values, so its cost stops growing with
the study (``benchmarks/bayes_scale.py --parts curve``).
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from . import gp as gp_model
from .seeds import digest as data_digest

#: most (trial, step) values the curve GP is fitted on (its fit is cubic in them: 600
#: values cost ~2 s per proposal on boosting curves, 200 about 70 ms)
CURVE_ROWS = 200
#: past this many values even after thinning, no curve GP: every pruned trial is told by
#: :func:`offset` (a study that long is told so cheaply, as before the bound)
OFFSET_ROWS = 600


class CurveModel:
    """The ``pruned=curve`` GP; its last fit is kept, so the proposals of one batch (the
    same finished trials) fit it once. ``max_rows`` bounds what it is fitted on;
    ``sample=False`` is the rule before the bound (past ``max_rows`` even after thinning,
    no fit: every pruned trial told by :func:`offset`), kept for the benchmark."""

    def __init__(self, max_rows: int = CURVE_ROWS, sample: bool = True) -> None:
        self.max_rows, self.sample = max_rows, sample
        self._fit: tuple[Any, dict[int, float]] | None = None  # (key, predictions)
        self.fitted_rows = 0  # values the last fit had

    def predict(self, history: Any, numbers: Sequence[int], complete: Sequence[int],
                features: Any, rng: Callable[..., Any]) -> dict[int, float]:
        """Predicted final losses of the pruned trials among ``numbers``.

        The GP has the main one's kernel and priors, its seed ``rng("curve", digest of its
        data)``, so a resumed study predicts the same. Past ``max_rows`` reported values
        only the steps where trials stopped and the last one are used (at most 6); still
        too many (up to ``OFFSET_ROWS``), a sample of the trials whose values fit in
        ``max_rows`` (drawn by ``rng``: the finished trials first, up to half of them,
        then the pruned ones), and the pruned trials left out are told by :func:`offset`.
        ``{}`` (every pruned trial then told by :func:`offset`) past ``OFFSET_ROWS``, or
        when nothing was pruned or no finished trial reported a step.
        """
        import numpy as np

        curves = history.curves
        pruned = [k for k in numbers if k in history.pruned and curves.get(k)]
        steps = [max(curves[k]) for k in complete if curves.get(k)]
        if not pruned or not steps:
            return {}
        last = max(steps)
        kept: set[int] | None = None  # every step, while the GP stays small
        if sum(len(curves.get(k, {})) for k in numbers) > self.max_rows:
            # a long study: the steps where trials were stopped and the last one, at
            # most 6 of them spread on a log scale
            stops = sorted({max(curves[k]) for k in pruned} | {last})
            if len(stops) > 6:
                stops = [stops[round(i * (len(stops) - 1) / 5)] for i in range(6)]
            kept = set(stops)
        per_trial: dict[int, list[tuple[float, float]]] = {}
        for k in numbers:
            got = [(math.log(step) / math.log(last) if last > 1 else 1.0, loss)
                   for step, loss in sorted(curves.get(k, {}).items())
                   if 1 <= step <= last and (kept is None or step in kept)]
            if got:
                per_trial[k] = got
        n_rows = sum(len(v) for v in per_trial.values())
        key = None
        sampled = n_rows > self.max_rows
        if sampled:
            if not self.sample or n_rows > OFFSET_ROWS:
                return {}
            key = (data_digest(sorted(per_trial.items())), tuple(pruned))
            if self._fit is not None and self._fit[0] == key:
                return self._fit[1]
            per_trial = _sample(per_trial, set(complete), self.max_rows,
                                rng("curve-sample", key[0]))
        rows = [(k, t) for k, got in per_trial.items() for t, _ in got]
        values = [loss for got in per_trial.values() for _, loss in got]
        digest = data_digest((rows, values))
        if key is None:
            key = (digest, tuple(pruned))
            if self._fit is not None and self._fit[0] == key:
                return self._fit[1]
        told = history.told
        feats = features(np.asarray([told[k][0] for k, _ in rows], dtype=float))
        X = np.hstack([feats, np.asarray([[t] for _, t in rows])])
        y = np.asarray(values, dtype=float)
        mean, sd = float(y.mean()), float(y.std()) or 1.0
        fitted = [k for k in pruned if k in per_trial] if sampled else pruned
        from threadpoolctl import threadpool_limits

        out: dict[int, float] = {}
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gp = gp_model.make(X.shape[1], 0, int(rng("curve", digest).randint(2**31)), True)
            gp.fit(X, (y - mean) / sd)
            self.fitted_rows = len(y)
            if fitted:
                at = np.hstack([features(np.asarray([told[k][0] for k in fitted],
                                                    dtype=float)),
                                np.ones((len(fitted), 1))])
                guess = gp.posterior()(at)[0] * sd + mean
                out = {k: float(g) for k, g in zip(fitted, guess, strict=True)}
        self._fit = (key, out)
        return out


def _sample(per_trial: dict[int, list], complete: set[int], limit: int,
            rng: Any) -> dict[int, list]:
    """Trials whose values fit in ``limit``, in number order: in a random order drawn by
    ``rng``, the finished ones while they fill at most half of it, then the pruned ones,
    then finished ones again."""
    numbers = list(per_trial)
    order = [numbers[i] for i in rng.permutation(len(numbers))]
    finished = [k for k in order if k in complete]
    stopped = [k for k in order if k not in complete]
    chosen: set[int] = set()
    total = 0
    for group, cap in ((finished, limit // 2), (stopped, limit), (finished, limit)):
        for k in group:
            size = len(per_trial[k])
            if k not in chosen and total + size <= cap:
                chosen.add(k)
                total += size
    return {k: per_trial[k] for k in numbers if k in chosen}


def offset(history: Any, number: int, complete: Sequence[int]) -> float | None:
    """A pruned trial's final loss: its loss at the step ``s`` it stopped plus the median
    change (final loss - loss at ``s``) of the finished trials that reported ``s``.

    ``None`` (then: the worst loss) when it reported nothing or no finished trial
    reported ``s``. A function of the finished trials alone, so a resumed study
    predicts the same.
    """
    curves = history.curves
    curve = curves.get(number)
    if not curve:
        return None
    step = max(curve)
    changes = [history.told[k][1] - curves[k][step] for k in complete
               if step in curves.get(k, {})]
    if not changes:
        return None
    return curve[step] + statistics.median(changes)
