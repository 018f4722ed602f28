"""A pruned trial's final loss, predicted from the learning curves the study has.

``pruned=curve``: one GP over (configuration, log step), fitted on every value every
trial reported; its mean at (the pruned configuration, the last step) is the
prediction. A slow starter stopped at epoch 1 is then judged by the curves of finished
trials near it in the space. ``pruned=offset`` (also the fallback): the loss where it
stopped plus the finished trials' median change from that step to their end.
``benchmarks/pruned_prediction.py`` compares the two on stored learning curves.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from . import gp as gp_model
from .seeds import digest as data_digest

#: most (trial, step) values the curve GP is fitted on (its fit is cubic in them)
CURVE_ROWS = 600


class CurveModel:
    """The ``pruned=curve`` GP; its last fit is kept, so the proposals of one batch (the
    same finished trials) fit it once."""

    def __init__(self) -> None:
        self._fit: tuple[Any, dict[int, float]] | None = None  # (key, predictions)

    def predict(self, history: Any, numbers: Sequence[int], complete: Sequence[int],
                features: Any, rng: Callable[..., Any]) -> dict[int, float]:
        """Predicted final losses of the pruned trials among ``numbers``.

        The GP has the main one's kernel and priors, its seed ``rng("curve", digest of its
        data)``, so a resumed study predicts the same. Past ``CURVE_ROWS`` reported
        values only the steps where trials stopped and the last one are used (at most
        6); ``{}`` (every pruned trial then told by :func:`offset`) when that is still
        too many, or when nothing was pruned or no finished trial reported a step.
        """
        import numpy as np

        curves = history.curves
        pruned = [k for k in numbers if k in history.pruned and curves.get(k)]
        steps = [max(curves[k]) for k in complete if curves.get(k)]
        if not pruned or not steps:
            return {}
        last = max(steps)
        kept: set[int] | None = None  # every step, while the GP stays small
        if sum(len(curves.get(k, {})) for k in numbers) > CURVE_ROWS:
            # a long study: the steps where trials were stopped and the last one, at
            # most 6 of them spread on a log scale; still too many rows: offset instead
            stops = sorted({max(curves[k]) for k in pruned} | {last})
            if len(stops) > 6:
                stops = [stops[round(i * (len(stops) - 1) / 5)] for i in range(6)]
            kept = set(stops)
        rows, values = [], []
        for k in numbers:
            for step, loss in sorted(curves.get(k, {}).items()):
                if 1 <= step <= last and (kept is None or step in kept):
                    rows.append((k, math.log(step) / math.log(last) if last > 1 else 1.0))
                    values.append(loss)
        if len(rows) > CURVE_ROWS:
            return {}
        digest = data_digest((rows, values))
        if self._fit is not None and self._fit[0] == (digest, tuple(pruned)):
            return self._fit[1]
        told = history.told
        feats = features(np.asarray([told[k][0] for k, _ in rows], dtype=float))
        X = np.hstack([feats, np.asarray([[t] for _, t in rows])])
        y = np.asarray(values, dtype=float)
        mean, sd = float(y.mean()), float(y.std()) or 1.0
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gp = gp_model.make(X.shape[1], 0, int(rng("curve", digest).randint(2**31)), True)
            gp.fit(X, (y - mean) / sd)
            at = np.hstack([features(np.asarray([told[k][0] for k in pruned], dtype=float)),
                            np.ones((len(pruned), 1))])
            guess = gp.posterior()(at)[0] * sd + mean
        out = {k: float(g) for k, g in zip(pruned, guess, strict=True)}
        self._fit = ((digest, tuple(pruned)), out)
        return out


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
