"""Parameter importances: random-forest permutation importance over the complete trials.

Why this and not fANOVA: both start from a random forest fitted to (configuration ->
score). fANOVA (Optuna's default) then splits the forest's variance into per-parameter
parts by walking each tree's partition; scikit-learn has no such routine, so it would
mean our own tree-walking code or a dependency on optuna or fanova. Permutation
importance needs only scikit-learn's public ``permutation_importance``: how much worse
the forest predicts the score when one parameter's column is shuffled. It treats every
kind of parameter the same way (a log parameter in its log scale, a categorical by its
index, a conditional one inactive as its own value), and with fixed seeds it gives the
same numbers every time. The importances are clipped at 0 and scaled to sum to 1.

Large studies (more than :data:`FOREST_TRIALS` complete trials) get the **correlation
ratio** instead: for each parameter, the share of the score's variance that the means
of its own cells explain (its categories, its values when it has at most
:data:`CELLS`, else :data:`CELLS` equal cells of its range in its own scale; inactive
is a cell of its own), the first-order effect that fANOVA also measures, estimated
directly from the trials. With thousands of trials every cell holds enough of them that
no model is needed, and it costs milliseconds where the forest (and importing
scikit-learn, about 1.5 s) would cost seconds; the note names the method used.
"""

from __future__ import annotations

import math
from typing import Any

from .model import StudyView, as_view

METHOD = "random-forest permutation importance"
LARGE_METHOD = "correlation ratio"
MIN_TRIALS = 4
#: above this many complete trials the correlation ratio replaces the forest
FOREST_TRIALS = 500
#: cells of a numeric parameter for the correlation ratio
CELLS = 10
#: the encoded value of a parameter that is inactive in a trial (codes are in 0..1)
INACTIVE_CODE = -1.0


def _encode(dim: Any, value: Any) -> float:
    if value is None:
        return INACTIVE_CODE
    try:
        return float(dim.encode(value))
    except Exception:  # a value outside the stored space
        return INACTIVE_CODE


def importances(study: Any, seed: int = 0) -> dict[str, Any]:
    """``{"method", "trials", "importances": {name: share}, "note"}``, largest first.

    Empty importances (with a note that says why) below MIN_TRIALS complete trials, for
    a study without a stored space, or when the score never varied. Computed once per
    view and seed (the contour, the bars and the table of one report share it)."""
    view = as_view(study)
    cache = view.__dict__.setdefault("_importances", {})
    if seed not in cache:
        cache[seed] = _compute(view, seed)
    found = cache[seed]
    return {**found, "importances": dict(found["importances"])}


def _compute(view: StudyView, seed: int) -> dict[str, Any]:
    space = view.space
    trials = view.complete_trials
    out: dict[str, Any] = {"method": METHOD, "trials": len(trials), "importances": {}}
    dims = [] if space is None else list(space.searchable)
    if not dims:
        out["note"] = "the study has no searchable parameters stored"
        return out
    if len(trials) < MIN_TRIALS:
        out["note"] = f"needs at least {MIN_TRIALS} complete trials, has {len(trials)}"
        return out
    y = [float(t.value) for t in trials]
    if max(y) == min(y):
        out["note"] = "every complete trial has the same score"
        out["importances"] = {d.name: 0.0 for d in dims}
        return out
    if len(trials) > FOREST_TRIALS:
        return _correlation_ratio(view, dims, trials, out)
    x = [[_encode(d, t.params.get(d.name)) for d in dims] for t in trials]
    import numpy as np

    try:
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.inspection import permutation_importance
    except ImportError:
        out["note"] = "importances need scikit-learn: pip install scikit-learn"
        return out

    xa, ya = np.asarray(x), np.asarray(y)
    forest = RandomForestRegressor(n_estimators=64, min_samples_leaf=1, random_state=seed,
                                   n_jobs=1).fit(xa, ya)
    result = permutation_importance(forest, xa, ya, n_repeats=8, random_state=seed, n_jobs=1)
    raw = np.clip(result.importances_mean, 0.0, None)
    total = float(raw.sum())
    shares = [float(v) / total if total > 0 else 0.0 for v in raw]
    ranked = sorted(zip((d.name for d in dims), shares, strict=True), key=lambda kv: -kv[1])
    out["importances"] = {name: round(share, 4) for name, share in ranked}
    out["note"] = (f"{METHOD} of a 64-tree forest fitted to {len(trials)} complete trials; "
                   "shares sum to 1")
    if view.multi_objective:
        out["note"] += f" (for the first objective, {view.objective_names[0]})"
    return out


def _cells(dim: Any, values: list[Any]) -> list[Any]:
    """Each value's cell: inactive (None) its own; a categorical's category, a parameter
    with at most CELLS values its value, else one of CELLS equal cells of its range (in
    log scale if log)."""
    distinct: set[str] = set()
    for v in values:  # stops at CELLS + 1 distinct values: a float's costs a dozen
        distinct.add(repr(v))
        if len(distinct) > CELLS:
            break
    if getattr(dim, "choices", None) is not None or len(distinct) <= CELLS:
        return [None if v is None else repr(v) for v in values]
    low, high = float(dim.low), float(dim.high)
    log = bool(getattr(dim, "log", False)) and low > 0
    if log:
        low, high = math.log(low), math.log(high)
    span = (high - low) or 1.0
    out: list[Any] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            u = ((math.log(v) if log else float(v)) - low) / span
        except (TypeError, ValueError):
            out.append("outside")
            continue
        out.append(min(CELLS - 1, max(0, int(u * CELLS))))
    return out


def _correlation_ratio(view: StudyView, dims: list[Any], trials: list[Any],
                       out: dict[str, Any]) -> dict[str, Any]:
    """Each parameter's share of the score's variance explained by its cells' means."""
    y = [float(t.value) for t in trials]
    n = len(y)
    mean = sum(y) / n
    total = sum((v - mean) ** 2 for v in y)
    raw = []
    for dim in dims:
        sums: dict[Any, list[float]] = {}
        for cell, v in zip(_cells(dim, [t.params.get(dim.name) for t in trials]), y,
                           strict=True):
            acc = sums.get(cell)
            if acc is None:
                sums[cell] = [v, 1]
            else:
                acc[0] += v
                acc[1] += 1
        between = sum(c * (s / c - mean) ** 2 for s, c in sums.values())
        raw.append(between / total if total > 0 else 0.0)
    whole = sum(raw)
    shares = [r / whole if whole > 0 else 0.0 for r in raw]
    ranked = sorted(zip((d.name for d in dims), shares, strict=True), key=lambda kv: -kv[1])
    out["method"] = LARGE_METHOD
    out["importances"] = {name: round(share, 4) for name, share in ranked}
    out["note"] = (f"{LARGE_METHOD} (the share of the score's variance each parameter's own "
                   f"cells explain, first-order) over {n:,} complete trials, used above "
                   f"{FOREST_TRIALS} where the {METHOD} would cost seconds; shares sum to 1")
    if view.multi_objective:
        out["note"] += f" (for the first objective, {view.objective_names[0]})"
    return out
