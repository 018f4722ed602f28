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
REPEAT_COLUMNS = ["strategy", "runs", "best_validation_median", "best_validation_min",
                  "best_validation_max", "test_score_median", "test_score_min", "test_score_max",
                  "best_config", "trials", "failed", "pruned", "wall_time_s_median"]


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
    return [t for t in sorted(view.trials, key=lambda t: t.number) if t.state.finished]


def best_so_far(view: StudyView) -> list[float | None]:
    """The best value after each finished trial, in trial-number order (None before any)."""
    best: float | None = None
    out: list[float | None] = []
    better = (lambda a, b: a < b) if view.direction == "minimize" else (lambda a, b: a > b)
    for t in finished_in_order(view):
        if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value):
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
    return {
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


def trial_rows(study: Any) -> list[dict[str, Any]]:
    """Every trial as a flat row: number, each parameter, value, state, duration, error
    (a FAILED trial's) and detail (what a PRUNED, PAUSED or queued trial's state means:
    "pruned at step 1" is no error)."""
    view = as_view(study)
    rows = []
    for t in sorted(view.trials, key=lambda t: t.number):
        row: dict[str, Any] = {"number": t.number}
        for name in view.param_names:
            row[name] = t.params.get(name)
        row[view.metric] = t.value
        row["state"] = t.state.value
        row["duration_s"] = None if t.duration is None else round(t.duration, 3)
        failed = t.state is TrialState.FAILED
        row["error"] = t.error if failed else None
        row["detail"] = None if failed else t.error
        rows.append(row)
    return rows


def winner(rows: Sequence[Mapping[str, Any]]) -> int | None:
    """Index of the row with the best validation score (the first one on a tie)."""
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
    return out
