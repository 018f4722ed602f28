"""What the dashboard's JSON API returns: plain functions over a storage file.

Each call opens the file read-only (``hpo_framework.results.open_storage``), reads in one
read transaction (every part of an answer is the same moment of the study) and closes it:
the dashboard never writes, never holds a lock between requests, and a study that another
process is running goes on undisturbed (SQLite's WAL lets readers in).

A study is ``running`` while a live driver holds its lease, whatever its trials' states
at that instant (between two trials none is RUNNING); ``stopped`` when no driver runs it
and trials wait to be re-run (Ctrl-C, a killed driver); else ``finished`` or ``empty``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from hpo_framework.results import load_study, open_storage, summary
from hpo_framework.results.stats import (
    common_hypervolume,
    last_update,
    pareto_rows,
    trial_rows,
    winner,
)

_cache: dict[tuple, Any] = {}
_cache_lock = threading.Lock()
CACHE_SIZE = 64


@contextmanager
def _storage(path: str) -> Any:
    """The storage, read in one transaction: one snapshot for everything read from it."""
    storage = open_storage(path)
    try:
        storage.conn.execute("BEGIN")
        try:
            yield storage
        finally:
            storage.conn.execute("COMMIT")
    finally:
        storage.close()


def version(view: Any) -> str:
    """Changes whenever a trial is added or changes state: the page redraws only then."""
    marks = [(t.number, t.state.value, t.datetime_complete) for t in view.trials]
    return f"{len(marks)}:{hash(tuple(marks)) & 0xFFFFFFFF:x}"


def state(view: Any, alive: bool) -> str:
    """``running`` while a live driver holds the lease; see the module's docstring."""
    if alive:
        return "running"
    if not view.trials:
        return "empty"
    return "stopped" if any(not t.state.finished for t in view.trials) else "finished"


def _load(storage: Any, name: str) -> tuple[Any, bool]:
    """A study's view and whether a live driver runs it, from the same snapshot."""
    view = load_study(storage, name)
    record = storage.get_study(name)
    return view, storage.driver_alive(record.study_id)


def study_row(view: Any, alive: bool = False) -> dict[str, Any]:
    row = summary(view)
    out = {"name": view.name, "strategy": view.strategy,
           "backend": view.config.get("backend"), "dataset": view.config.get("dataset"),
           "metric": view.metric, "direction": view.direction, "state": state(view, alive),
           "trials": row["trials"], "failed": row["failed"], "pruned": row["pruned"],
           "running": row["running"], "best": row["best_validation"],
           "best_trial": row["best_trial"], "last_update": last_update(view),
           "created": view.created}
    if "infeasible" in row:  # a constrained study
        out.update(feasible=row["feasible"], infeasible=row["infeasible"])
    if view.multi_objective:  # several objectives: the front, not one best
        out.update(directions=row["directions"], objectives=row["objectives"],
                   pareto_size=row["pareto_size"], hypervolume=row["hypervolume"],
                   reference_point=row["reference_point"])
    return out


def studies(path: str) -> dict[str, Any]:
    """``GET /api/studies``: every study in the file, in the order they were created."""
    with _storage(path) as storage:
        loaded = [_load(storage, r.name) for r in storage.list_studies()]
    return {"storage": path, "studies": [study_row(v, alive) for v, alive in loaded]}


def _view(path: str, name: str) -> tuple[Any, bool]:
    with _storage(path) as storage:
        return _load(storage, name)


def trials(path: str, name: str) -> dict[str, Any]:
    """``GET /api/studies/{name}/trials``: the study's summary and every trial."""
    return _page(*_view(path, name))


def _page(view: Any, alive: bool) -> dict[str, Any]:
    rows = trial_rows(view)
    by_number = {t.number: t for t in view.trials}
    for row in rows:
        t = by_number[row["number"]]
        row["params"] = dict(t.params)
        row["value"] = t.value
        row["datetime_start"] = t.datetime_start
        row["datetime_complete"] = t.datetime_complete
        row["intermediate"] = list(t.intermediate)
        if view.multi_objective or view.constrained:
            row["values"] = t.values
            row["constraints"] = t.constraints
    out = {"study": study_row(view, alive), "setup": view.setup(),
           "params": view.param_names, "metric": view.metric,
           "version": f"{version(view)}:{state(view, alive)}", "trials": rows}
    if view.constrained:
        out["constraints"] = view.constraint_names
    if view.multi_objective:
        out["objectives"] = view.objective_names
        out["directions"] = list(view.directions)
        out["pareto_front"] = pareto_rows(view)
    return out


def _cached(key: tuple, make: Any) -> Any:
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    value = make()
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = value
    return value


def figures(path: str, name: str, x: str | None = None, y: str | None = None
            ) -> dict[str, Any]:
    """``GET /api/studies/{name}/figures``: the Plotly specs of every figure that applies
    (the same as the HTML report's), and the importances; ``x``/``y`` pick the contour.
    ``page`` is what ``/trials`` answers, read from the same snapshot as the figures: the
    study page draws its header, table and charts from it, all of one moment."""
    from hpo_framework.results.importance import importances
    from hpo_framework.results.interactive import contour_spec, study_figures

    view, alive = _view(path, name)
    page = _page(view, alive)
    key = (path, name, version(view))
    figs = dict(_cached(key + ("figures",), lambda: study_figures(view)))
    if x and y:
        spec = contour_spec(view, x, y)
        if spec is not None:
            figs["contour"] = spec
    return {"version": page["version"], "figures": figs, "page": page,
            "importances": _cached(key + ("importances",), lambda: importances(view))}


def compare(path: str, names: Sequence[str]) -> dict[str, Any]:
    """``GET /api/compare?studies=a,b``: summary rows (winner marked), setups, best so far.
    Studies with several objectives: each row's hypervolume against one reference point
    common to all of them, the largest wins, and ``hypervolume`` holds their curves."""
    from hpo_framework.results.interactive import best_so_far_spec, hypervolume_spec

    with _storage(path) as storage:
        views = [load_study(storage, n) for n in names]  # one snapshot
    rows = [summary(v) for v in views]
    common_hypervolume(rows, views)
    for row, view in zip(rows, views, strict=True):
        row["setup"] = view.setup()
    top = winner(rows)
    out = {"studies": rows, "winner": None if top is None else rows[top]["study"],
           "best_so_far": best_so_far_spec(views, by="study")}
    if rows and rows[0].get("decided_by") == "hypervolume":
        out["decided_by"] = "hypervolume"
        out["hypervolume"] = hypervolume_spec(views)
        out["best_so_far"] = None
    return out
