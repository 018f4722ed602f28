"""Statistics of studies: best so far, summaries, aggregates over seeds, trial rows."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..contracts.trial import TrialState
from .format import fmt
from .model import StudyView, as_view

SUMMARY_COLUMNS = ["strategy", "seed", "best_validation", "test_score", "best_config", "trials",
                   "failed", "pruned", "wall_time_s", "study"]
#: a comparison of studies with several objectives: the hypervolume decides
MO_SUMMARY_COLUMNS = ["strategy", "seed", "hypervolume", "pareto_size", "trials", "failed",
                      "pruned", "wall_time_s", "study"]
MO_REPEAT_COLUMNS = ["strategy", "runs", "hypervolume_median", "hypervolume_min",
                     "hypervolume_max", "trials", "failed", "pruned", "wall_time_s_median"]
REPEAT_COLUMNS = ["strategy", "runs", "best_validation_median", "best_validation_min",
                  "best_validation_max", "test_score_median", "test_score_min", "test_score_max",
                  "best_config", "trials", "failed", "pruned", "wall_time_s_median"]


def summary_columns(rows: Sequence[Mapping[str, Any]], repeated: bool = False) -> list[str]:
    """The columns of a comparison table: the hypervolume's for studies with several
    objectives (with feasible/infeasible counts for constrained ones), else the usual."""
    mo = bool(rows) and rows[0].get("decided_by") == "hypervolume"
    if repeated:
        return list(MO_REPEAT_COLUMNS if mo else REPEAT_COLUMNS)
    cols = list(MO_SUMMARY_COLUMNS if mo else SUMMARY_COLUMNS)
    if any("infeasible" in r for r in rows):
        cols[cols.index("trials") + 1:cols.index("trials") + 1] = ["feasible", "infeasible"]
    return cols


def median(values: Iterable[float]) -> float | None:
    """The median of the finite numbers among ``values`` (None when there is none)."""
    xs = sorted(v for v in values if isinstance(v, int | float) and math.isfinite(v))
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _stats(values: Iterable[float | None]) -> tuple[float | None, float | None, float | None]:
    xs = sorted(v for v in values if isinstance(v, int | float) and math.isfinite(v))
    if not xs:
        return None, None, None
    return median(xs), xs[0], xs[-1]


def parse_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def wall_time(view: StudyView) -> float | None:
    """Seconds the study took: measured by the comparison, else first start to last end."""
    measured = view.attrs.get("wall_time_s")
    if isinstance(measured, int | float):
        return float(measured)
    starts = [s for s in (parse_time(t.datetime_start) for t in view.trials) if s]
    ends = [e for e in (parse_time(t.datetime_complete) for t in view.trials) if e]
    if not starts or not ends:
        return None
    return max(0.0, (max(ends) - min(starts)).total_seconds())


def finished_in_order(view: StudyView) -> list[Any]:
    """Finished trials (COMPLETE, FAILED, PRUNED) in trial-number order."""
    return list(view._memo("finished", lambda: [t for t in view.by_number
                                                 if t.state.finished]))


def best_so_far(view: StudyView) -> list[float | None]:
    """The best value after each finished trial, in trial-number order (None before any)."""
    return list(view._memo("best_so_far", lambda: _best_so_far(view)))


def _best_so_far(view: StudyView) -> list[float | None]:
    best: float | None = None
    out: list[float | None] = []
    better = (lambda a, b: a < b) if view.direction == "minimize" else (lambda a, b: a > b)
    for t in finished_in_order(view):
        if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value) \
                and t.feasible:
            if best is None or better(t.value, best):
                best = t.value
        out.append(best)
    return out


def last_update(view: StudyView) -> str | None:
    """When a trial of the study last started or finished (ISO text), None before any."""
    stamps = [s for t in view.trials for s in (t.datetime_complete, t.datetime_start) if s]
    return max(stamps) if stamps else None


def state(view: StudyView) -> str:
    """``running`` while a trial is queued or running, ``finished`` after, ``empty`` before."""
    if not view.trials:
        return "empty"
    return "running" if any(not t.state.finished for t in view.trials) else "finished"


def summary(study: Any) -> dict[str, Any]:
    """One row of the comparison table for a study."""
    view = as_view(study)
    best = view.best_trial
    final = view.attrs.get("final_test") or {}
    states = [t.state for t in view.trials]
    out: dict[str, Any] = {
        "study": view.name,
        "strategy": view.strategy,
        "seed": view.seed,
        "metric": view.metric,
        "direction": view.direction,
        "best_validation": None if best is None else best.value,
        "test_score": final.get("test_score"),
        "best_config": None if best is None else dict(best.params),
        "best_trial": None if best is None else best.number,
        "trials": sum(1 for s in states if s.finished),
        "failed": states.count(TrialState.FAILED),
        "pruned": states.count(TrialState.PRUNED),
        "running": sum(1 for s in states if not s.finished),
        "paused": states.count(TrialState.PAUSED),
        "wall_time_s": wall_time(view),
    }
    if view.constrained:
        scored = view.scored_trials
        out["feasible"] = sum(1 for t in scored if t.feasible)
        out["infeasible"] = len(scored) - out["feasible"]
    if view.multi_objective:
        front = view.pareto_front
        reference = reference_point([view])
        out["directions"] = list(view.directions)
        out["objectives"] = view.objective_names
        out["pareto_size"] = len(front)
        out["hypervolume"] = None if reference is None else hypervolume_of(view, reference)
        out["reference_point"] = reference
        out["best_config"] = None
        out["decided_by"] = "hypervolume"
    return out


def trial_rows(study: Any, numbers: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Every trial as a flat row: number, each parameter, value, state, duration, error
    (a FAILED trial's) and detail (what a PRUNED, PAUSED or queued trial's state means:
    "pruned at step 1" is no error). ``numbers``: only those trials' rows (a table that
    shows 500 of 100,000 trials builds 500 rows)."""
    view = as_view(study)
    several, constrained = view.multi_objective, view.constrained
    front = {t.number for t in view.pareto_front} if several else set()
    objectives, constraints = view.objective_names, view.constraint_names
    params = view.param_names
    rows = []
    wanted = None if numbers is None else set(numbers)
    for t in view.by_number:
        if wanted is not None and t.number not in wanted:
            continue
        row: dict[str, Any] = {"number": t.number}
        for name in params:
            row[name] = t.params.get(name)
        if several:
            for i, name in enumerate(objectives):
                row[name] = t.values[i] if t.values and len(t.values) > i else None
        else:
            row[objectives[0]] = t.value
        if constrained:
            for i, name in enumerate(constraints):
                row[name] = t.constraints[i] if t.constraints and len(t.constraints) > i \
                    else None
            row["feasible"] = None if t.constraints is None else t.feasible
        if several:
            row["pareto"] = t.number in front
        row["state"] = t.state.value
        row["duration_s"] = None if t.duration is None else round(t.duration, 3)
        failed = t.state is TrialState.FAILED
        row["error"] = t.error if failed else None
        row["detail"] = None if failed else t.error
        rows.append(row)
    return rows


def winner(rows: Sequence[Mapping[str, Any]]) -> int | None:
    """Index of the row with the best validation score (the first one on a tie); rows of
    studies with several objectives: the largest hypervolume."""
    if rows and rows[0].get("decided_by") == "hypervolume":
        scored = [(i, r) for i, r in enumerate(rows) if r.get("hypervolume") is not None]
        if not scored:
            return None
        return min(scored, key=lambda ir: (-ir[1]["hypervolume"], ir[0]))[0]
    scored = [(i, r) for i, r in enumerate(rows) if r.get("best_validation") is not None]
    if not scored:
        return None
    sign = -1.0 if scored[0][1].get("direction", "maximize") == "maximize" else 1.0
    return min(scored, key=lambda ir: (sign * ir[1]["best_validation"], ir[0]))[0]


def _best_test(rows: Sequence[Mapping[str, Any]]) -> int | None:
    scored = [(i, r) for i, r in enumerate(rows) if isinstance(r.get("test_score"), int | float)
              and math.isfinite(r["test_score"])]
    if not scored:
        return None
    sign = -1.0 if scored[0][1].get("direction", "maximize") == "maximize" else 1.0
    return min(scored, key=lambda ir: (sign * ir[1]["test_score"], ir[0]))[0]


def verdict(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Which run wins, and on what. The best validation score decides: the test score is
    measured once, after the search, and a choice made on it would no longer be an
    unbiased estimate. The run with the best test score is named beside it when it is
    another one, so that a reader sees both."""
    top = winner(rows)
    if top is None:
        return None
    if rows[top].get("decided_by") == "hypervolume":
        row = rows[top]
        return {"study": row.get("study"), "strategy": row.get("strategy"),
                "decided_by": "hypervolume", "hypervolume": row.get("hypervolume"),
                "reference_point": row.get("reference_point"),
                "reference": row.get("reference", "own"),
                "objectives": row.get("objectives"), "directions": row.get("directions"),
                "index": top, "best_test": None}
    best_test = _best_test(rows)
    row = rows[top]
    out: dict[str, Any] = {
        "study": row.get("study"), "strategy": row.get("strategy"),
        "decided_by": "best_validation", "best_validation": row.get("best_validation"),
        "test_score": row.get("test_score"), "index": top, "best_test": None,
    }
    if best_test is not None and best_test != top:
        other = rows[best_test]
        out["best_test"] = {"study": other.get("study"), "strategy": other.get("strategy"),
                            "test_score": other.get("test_score"),
                            "best_validation": other.get("best_validation"),
                            "index": best_test}
    return out


def verdict_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The verdict in words: the winner with both scores, and what decided."""
    v = verdict(rows)
    if v is None:
        return []
    if v["decided_by"] == "hypervolume":
        named = ", ".join(f"{n} {fmt(r)}" for n, r in zip(v["objectives"] or [],
                                                          v["reference_point"] or [],
                                                          strict=False))
        whose = "common to every run: " if v["reference"] == "common" else ""
        return [f"winner: {v['study']} ({v['strategy']}), hypervolume "
                f"{fmt(v['hypervolume'])}; the largest hypervolume of the feasible Pareto "
                f"front decides, against the reference point {named} ({whose}the worst "
                "value of each objective over the feasible COMPLETE trials, plus 10% of its "
                "range)"]
    metric = rows[0].get("metric", "value")
    lines = [f"winner: {v['study']} ({v['strategy']}), best validation {metric} "
             f"{fmt(v['best_validation'])}, test {fmt(v['test_score'])}; the best validation "
             "score decides (the test set is scored once, after the search, and never chooses)"]
    other = v["best_test"]
    if other is not None:
        lines.append(f"best test {metric}: {other['study']} ({other['strategy']}), test "
                     f"{fmt(other['test_score'])}, best validation "
                     f"{fmt(other['best_validation'])}: not the winner, since choosing by the "
                     "test score would tune on the test set")
    return lines


def aggregate(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per strategy over seeds: median, min and max of the best validation and test scores."""
    out = []
    order: list[str] = []
    for r in rows:
        if r["strategy"] not in order:
            order.append(r["strategy"])
    for name in order:
        runs = [r for r in rows if r["strategy"] == name]
        top = winner(runs)
        val = _stats(r.get("best_validation") for r in runs)
        test = _stats(r.get("test_score") for r in runs)
        out.append({
            "strategy": name,
            "runs": len(runs),
            "best_validation_median": val[0], "best_validation_min": val[1],
            "best_validation_max": val[2],
            "test_score_median": test[0], "test_score_min": test[1], "test_score_max": test[2],
            "best_config": None if top is None else runs[top]["best_config"],
            "trials": sum(r["trials"] for r in runs),
            "failed": sum(r["failed"] for r in runs),
            "pruned": sum(r.get("pruned", 0) for r in runs),
            "wall_time_s_median": _stats(r.get("wall_time_s") for r in runs)[0],
        })
        if runs[0].get("decided_by") == "hypervolume":
            hv = _stats(r.get("hypervolume") for r in runs)
            out[-1].update({"hypervolume_median": hv[0], "hypervolume_min": hv[1],
                            "hypervolume_max": hv[2], "decided_by": "hypervolume"})
    return out


# several objectives: the front, the reference point, the hypervolume -------------------
#: how far past the worst feasible value the reference point sits, as a share of the range
REFERENCE_MARGIN = 0.1
#: the hypervolume curve is computed at about this many trials, whatever the study's size
HV_CHECKPOINTS = 60
REFERENCE_RULE = ("reference point: the worst value of each objective over the feasible "
                  "COMPLETE trials, plus 10% of its range")


def _signs(view: StudyView) -> list[float]:
    return [1.0 if d == "minimize" else -1.0 for d in view.directions]


def reference_losses(views: Sequence[StudyView]) -> list[float] | None:
    """The reference point as losses (every objective minimized): per objective the worst
    loss of the feasible COMPLETE trials of ``views``, plus :data:`REFERENCE_MARGIN` of
    its range (of its size, or 1, when every trial scored the same). None without any."""
    pools = [t.losses for v in views for t in v.feasible_trials]
    if not pools:
        return None
    out = []
    for k in range(len(pools[0])):
        xs = [p[k] for p in pools]
        worst, best = max(xs), min(xs)
        span = (worst - best) or abs(worst) or 1.0
        out.append(worst + REFERENCE_MARGIN * span)
    return out


def comparable_fronts(studies: Iterable[Any]) -> tuple[list[StudyView], list[float]] | None:
    """The studies with several objectives, when they share their directions, and one
    reference point for all of them (None: nothing to compare on one scale)."""
    views = [v for v in (as_view(s) for s in studies) if v.multi_objective]
    if not views or len({tuple(v.directions) for v in views}) > 1:
        return None
    reference = reference_point(views)
    return None if reference is None else (views, reference)


def reference_point(views: Sequence[StudyView]) -> list[float] | None:
    """:func:`reference_losses` in the objectives' own terms (a maximized one negated back)."""
    ref = reference_losses(views)
    if ref is None:
        return None
    return [s * r for s, r in zip(_signs(views[0]), ref, strict=True)]


def _as_losses(view: StudyView, reference: Sequence[float]) -> list[float]:
    return [s * r for s, r in zip(_signs(view), reference, strict=True)]


def hypervolume_of(view: StudyView, reference: Sequence[float]) -> float:
    """The hypervolume of the study's feasible front against ``reference`` (given in the
    objectives' own terms, as :func:`reference_point` returns it)."""
    from ..contracts.pareto import hypervolume

    return hypervolume([t.losses for t in view.pareto_front], _as_losses(view, reference))


def hypervolume_curve(view: StudyView, reference: Sequence[float] | None = None,
                      checkpoints: int = HV_CHECKPOINTS) -> tuple[list[int], list[float]]:
    """(trial number, hypervolume so far) at about ``checkpoints`` finished trials (every
    one for small studies, and always the last), in trial-number order.

    The front is kept incrementally (a new feasible point either is dominated and
    skipped, or joins and drops what it dominates) and the exact hypervolume is computed
    only at checkpoints where the front changed: 10,000 trials cost about 60 of them.
    With 3 or more objectives and a large front (the exact hypervolume grows with the
    front's size squared) fewer checkpoints are kept, so that the curve stays a matter
    of seconds; the last trial's value is always exact."""
    from ..contracts.pareto import dominates, hypervolume

    if reference is None:
        reference = reference_point([view])
    finished = finished_in_order(view)
    if reference is None or not finished:
        return [], []
    ref = _as_losses(view, reference)
    scored = {t.number for t in view.feasible_trials}
    every = max(1, math.ceil(len(finished) / checkpoints))
    front: list[list[float]] = []
    snaps: list[tuple[int, list[list[float]]]] = []
    for i, t in enumerate(finished):
        if t.number in scored:
            p = list(t.losses)
            if len(p) == 2:
                front = _join_2d(front, p)
            elif not any(dominates(q, p) or q == p for q in front):
                front = [q for q in front if not dominates(p, q)] + [p]
        if i % every == every - 1 or i == len(finished) - 1:
            snaps.append((t.number, front))  # front is replaced, never changed in place
    snaps = _affordable(snaps, len(ref))
    xs, ys, last, value = [], [], None, 0.0
    for number, snap in snaps:
        if snap is not last:
            value, last = hypervolume(snap, ref), snap
        xs.append(number)
        ys.append(value)
    return xs, ys


def _join_2d(front: list[list[float]], p: list[float]) -> list[list[float]]:
    """A 2-objective front kept sorted by the first loss (so the second decreases): the
    front with ``p`` joined (a new list), or the same list when ``p`` adds nothing. The
    one point that could dominate ``p`` is the last with a first loss <= p's, and the
    points ``p`` dominates follow it: a bisection instead of a scan of the front."""
    import bisect

    k = bisect.bisect_right(front, p[0], key=lambda q: q[0])
    if k and front[k - 1][1] <= p[1]:
        return front  # dominated by (or equal to) a point of the front
    start = end = bisect.bisect_left(front, p[0], key=lambda q: q[0])
    while end < len(front) and front[end][1] >= p[1]:
        end += 1  # first loss >= p's and second loss >= p's: p dominates them
    return front[:start] + [p] + front[end:]


#: about how many elementary steps the checkpoints of one hypervolume curve may cost
HV_BUDGET = 3_000_000


def _affordable(snaps: list[tuple[int, list[list[float]]]], d: int
                ) -> list[tuple[int, list[list[float]]]]:
    """Every other checkpoint dropped (the last always kept) until their exact
    hypervolumes fit :data:`HV_BUDGET` (a front of m points costs about m log m in 2-D,
    m**(d-1) above)."""
    def cost(kept: list[tuple[int, list[list[float]]]]) -> float:
        seen, total = set(), 0.0
        for _, f in kept:
            if id(f) not in seen:
                seen.add(id(f))
                m = max(1, len(f))
                total += m * math.log2(m + 1) if d <= 2 else m ** (d - 1)
        return total

    while len(snaps) > 2 and cost(snaps) > HV_BUDGET:
        snaps = snaps[-1::-2][::-1]  # every other one, counted back from the last
    return snaps


def trials_word(n: int) -> str:
    return f"{n} trial" + ("" if n == 1 else "s")


def pareto_rows(study: Any) -> list[dict[str, Any]]:
    """The Pareto front as rows: number, each objective (by name), each constraint and
    feasible (a constrained study), params; in the order of the first objective (best
    first)."""
    view = as_view(study)
    front = sorted(view.pareto_front, key=lambda t: (t.losses[0], t.number))
    rows = []
    for t in front:
        row: dict[str, Any] = {"number": t.number}
        for name, v in zip(view.objective_names, t.values or [], strict=False):
            row[name] = v
        if view.constrained:
            for name, c in zip(view.constraint_names, t.constraints or [], strict=False):
                row[name] = c
            row["feasible"] = t.feasible
        row["params"] = dict(t.params)
        rows.append(row)
    return rows


def pareto_front_json(study: Any) -> list[dict[str, Any]]:
    """The front for ``report --json``: number, values, params, constraints."""
    view = as_view(study)
    return [{"number": t.number, "values": list(t.values or []), "params": dict(t.params),
             "constraints": None if t.constraints is None else list(t.constraints)}
            for t in sorted(view.pareto_front, key=lambda t: (t.losses[0], t.number))]


def common_hypervolume(rows: Sequence[dict[str, Any]], views: Sequence[StudyView]) -> None:
    """Rows of studies with several objectives get the hypervolume against ONE reference
    point computed over all of them (so that the numbers compare), in place."""
    if not rows or not views or not all(v.multi_objective for v in views):
        return
    if len({tuple(v.directions) for v in views}) > 1:
        return  # different objectives: no common point; each keeps its own
    reference = reference_point(views)
    for row, view in zip(rows, views, strict=True):
        row["reference_point"] = reference
        row["reference"] = "common"
        row["hypervolume"] = None if reference is None else hypervolume_of(view, reference)
