"""What the dashboard's JSON API returns: plain functions over a storage file.

Each call opens the file read-only (``hpo_framework.results.open_storage``), reads in one
read transaction (every part of an answer is the same moment of the study) and closes it:
the dashboard never writes, never holds a lock between requests, and a study that another
process is running goes on undisturbed (SQLite's WAL lets readers in).

A study is ``running`` while a live driver holds its lease, whatever its trials' states
at that instant (between two trials none is RUNNING); ``stopped`` when no driver runs it
and trials wait to be re-run (Ctrl-C, a killed driver); else ``finished`` or ``empty``.

**Cheap polls.** Every request first reads the study's *fingerprint*: one aggregate query
over its trial rows (how many in each state, their attempts, the latest start and end)
and its attributes, which changes whenever a trial is added, changes state or is re-run
(9 ms at 10,000 trials); and not even that while the file and its WAL are as they were
at the last request (size, times: every commit changes them). The study's trials are loaded, and its table
rows, figures and importances computed, only when the fingerprint is new: they are kept
per study *version* (:class:`Snapshot`), shared by every page and client. The answers
carry an ``etag`` of what they hold, so a page that asks again with ``If-None-Match``
gets ``304`` and no body while nothing changed.

**Reading what changed.** A new version is read from the one held
(``load_study(previous=)``): its finished trials are kept, only its others and the trials
numbered after its last are read. The merged trials' aggregate must equal the
fingerprint's (a finished trial re-run, or a row changed behind the study's back, shows
there), else the study is read again in full. A version that costs much (reading it and
what was made of it) is followed by the next at most every COST_FACTOR times that cost.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from hpo_framework.errors import OptionError
from hpo_framework.results import load_study, open_storage, summary
from hpo_framework.results.format import fmt
from hpo_framework.results.stats import (
    common_hypervolume,
    last_update,
    pareto_rows,
    trial_rows,
    winner,
)

#: studies whose latest version is kept in memory (a 100,000-trial view is large)
KEEP_STUDIES = 4
#: seconds a figures answer waits for the importances before it goes without them (they
#: follow in a later poll: ``pending``); the first ones of a server import scikit-learn
IMPORTANCE_WAIT_S = 1.0
#: the figures a page's first request gets (the others follow at once, see
#: ``Snapshot.figures``): the one drawn with the header and the table
HEADLINE = ("best_so_far", "pareto", "hypervolume")
#: rows of the trial table a page asks for at a time
PAGE_ROWS = 100
#: a figure costing more than this is recomputed at most every COST_FACTOR times its cost
#: while the study keeps changing (the last one is served, marked "as of N trials")
SLOW_S = 0.25
COST_FACTOR = 4.0


def _signature(path: str) -> tuple:
    """The file and its WAL as the filesystem sees them: every commit changes one of them
    (a running driver's lease heartbeat too, every few seconds)."""
    import os

    out = []
    for name in (path, f"{path}-wal"):
        try:
            st = os.stat(name)
        except OSError:
            out.append(None)
            continue
        out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(out)


@contextmanager
def _storage(path: str) -> Any:
    """The storage, read in one transaction: one snapshot for everything read from it.
    ``storage.signature`` is the files' state taken before it was opened, so anything
    written after it changes the signature the next request sees."""
    signature = _signature(path)
    storage = open_storage(path)
    storage.signature = signature
    try:
        storage.conn.execute("BEGIN")
        try:
            yield storage
        finally:
            storage.conn.execute("COMMIT")
    finally:
        storage.close()


def encode(obj: Any) -> str:
    """Compact JSON; NaN and infinity as the strings ``"nan"``, ``"inf"``, as in storage."""
    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str)
    except ValueError:
        return json.dumps(_finite(obj), separators=(",", ":"), allow_nan=False, default=str)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, Mapping):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _tag(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def fingerprint(storage: Any, study_id: int) -> tuple:
    """What changes whenever a trial is added, changes state or runs again, or a study
    attribute is set: one aggregate over the study's rows (its index), no trial parsed."""
    trials = storage.conn.execute(
        "SELECT state, count(*), total(attempts), max(datetime_start), "
        "max(datetime_complete) FROM trials WHERE study_id = ? GROUP BY state ORDER BY state",
        (study_id,)).fetchall()
    attrs = storage.conn.execute(
        "SELECT key, value FROM study_attrs WHERE study_id = ? ORDER BY key",
        (study_id,)).fetchall()
    return (tuple(trials), _tag(attrs))


def aggregate(trials: Sequence[Any]) -> tuple:
    """What :func:`fingerprint` reads of the trial rows, from trial objects: per state (in
    order) the count, total attempts, latest start and latest end."""
    per: dict[str, list[Any]] = {}
    for t in trials:
        got = per.get(t.state.value)
        if got is None:
            got = per[t.state.value] = [0, 0.0, None, None]
        got[0] += 1
        got[1] += t.attempts or 0
        start, end = t.datetime_start, t.datetime_complete
        if start is not None and (got[2] is None or start > got[2]):
            got[2] = start
        if end is not None and (got[3] is None or end > got[3]):
            got[3] = end
    return tuple((state, n, float(attempts), start, end)
                 for state, (n, attempts, start, end) in sorted(per.items()))


def state(view: Any, alive: bool) -> str:
    """``running`` while a live driver holds the lease; see the module's docstring."""
    if alive:
        return "running"
    if not view.trials:
        return "empty"
    return "stopped" if any(not t.state.finished for t in view.trials) else "finished"


def version(view: Any) -> str:
    """A study view's version from its trials (the API's versions come from
    :func:`fingerprint`, read without loading the trials)."""
    marks = [(t.number, t.state.value, t.datetime_complete) for t in view.trials]
    return f"{len(marks)}:{_tag(marks)}"


class Snapshot:
    """One version of one study: its view and what was computed from it, kept while the
    study does not change. ``alive`` is the lease's state at the last request."""

    def __init__(self, path: str, name: str, fp: tuple, view: Any, alive: bool,
                 previous: Snapshot | None = None) -> None:
        self.path, self.name, self.fingerprint, self.view = path, name, fp, view
        self.alive = alive
        self.version = f"{len(view.trials)}-{_tag(fp)}"
        self.loaded_at = time.monotonic()
        #: seconds it took to read the study's trials (and check them)
        self.load_s = 0.0
        #: seconds spent since on what was made of this version (its rows, its figures;
        #: not the importances, which have their own throttle): with ``load_s``, what the
        #: version cost
        self.spent = 0.0
        #: how the trials were read: "full", "incremental", or "fallback" (incremental,
        #: whose check failed: then in full)
        self.read = "full"
        self._unfinished: bool | None = None
        self._best: tuple[Any] | None = None
        self._numbers: list[int] = []
        self._row_of: dict[int, dict[str, Any]] = {}
        self.lock = threading.RLock()
        self._rows: list[dict[str, Any]] | None = None
        self._by_number: dict[int, Any] | None = None
        self._row: tuple[bool, dict[str, Any]] | None = None
        #: each figure's JSON (None: it does not apply), the trial count of the earlier
        #: version it was made from (None: this one), and when to make it afresh then
        self._figures: dict[tuple, tuple[str | None, int | None, float]] = {}
        #: the figures answer per (x, y, pending): (tag, json text, valid until)
        self._composed: dict[tuple, tuple[str, str, float]] = {}
        self._importances: dict[str, Any] | None = None
        self._imp_done = threading.Event()
        self._imp_started = False
        #: kind -> (seconds it cost, monotonic time it was made, trials then, spec)
        self.made: dict[str, tuple[float, float, int, Any]] = {}
        #: the previous version's importances when they may be served again (slow ones)
        self._previous_importances: dict[str, Any] | None = None
        if previous is not None:
            self.made = dict(previous.made)
            if previous._imp_done.is_set():
                self._previous_importances = previous._importances

    def fresh_enough(self) -> bool:
        """A version that cost long (reading it, and the table and figures made of it:
        100,000 trials, seconds) is followed by the next at most every COST_FACTOR times
        that cost while the study keeps changing: until then its polls get this version
        (header, table and figures of one moment, a few seconds old)."""
        cost = self.load_s + self.spent
        return cost > SLOW_S and time.monotonic() - self.loaded_at < COST_FACTOR * cost

    def _spend(self, seconds: float) -> None:
        with self.lock:
            self.spent += seconds

    @property
    def state(self) -> str:
        if self.alive:
            return "running"
        if self._unfinished is None:  # once per version: every poll asks
            self._unfinished = any(not t.state.finished for t in self.view.trials)
        return "empty" if not self.view.trials else "stopped" if self._unfinished \
            else "finished"

    @property
    def full_version(self) -> str:
        return f"{self.version}:{self.state}"

    # the table ------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """Every trial as a table row (``trial_rows`` and the raw trial), once per version."""
        with self.lock:
            if self._rows is None:
                start = time.perf_counter()
                view = self.view
                rows = trial_rows(view)
                by_number = {t.number: t for t in view.trials}
                several = view.multi_objective or view.constrained
                for row in rows:  # the trial's own objects: read only, never copied
                    t = by_number[row["number"]]
                    row["params"] = t.params
                    row["value"] = t.value
                    row["datetime_start"] = t.datetime_start
                    row["datetime_complete"] = t.datetime_complete
                    row["intermediate"] = t.intermediate
                    if several:
                        row["values"] = t.values
                        row["constraints"] = t.constraints
                self._rows, self._by_number = rows, by_number
                self._numbers = sorted(by_number)
                self._row_of = {row["number"]: row for row in rows}
                self._spend(time.perf_counter() - start)
            return self._rows

    def columns(self) -> list[str]:
        """The table's columns, as the page shows them."""
        view = self.view
        scores = view.objective_names if view.multi_objective else ["value"]
        cons = [*view.constraint_names, "feasible"] if view.constrained else []
        return ["number", *view.param_names, *scores, *cons, "state", "detail", "duration_s",
                "error"]

    def study_row(self) -> dict[str, Any]:
        with self.lock:
            if self._row is None or self._row[0] != self.alive:
                self._row = (self.alive, study_row(self.view, self.alive))
            return dict(self._row[1])

    def head(self) -> dict[str, Any]:
        """The page's header: the study's row, setup, columns and version."""
        view = self.view
        out = {"study": self.study_row(), "setup": view.setup(), "params": view.param_names,
               "metric": view.metric, "version": self.full_version, "columns": self.columns()}
        if view.constrained:
            out["constraints"] = view.constraint_names
        if view.multi_objective:
            out["objectives"] = view.objective_names
            out["directions"] = list(view.directions)
            out["pareto_front"] = pareto_rows(view)
        return out

    # importances and figures ------------------------------------------------------------
    def importances(self, wait: float | None) -> dict[str, Any] | None:
        """The importances, computed once per version in a thread; None when not done
        within ``wait`` seconds (None: wait until done)."""
        from hpo_framework.results.importance import importances

        with self.lock:
            if not self._imp_started:
                self._imp_started = True
                old = self.made.get("importances-data")
                if old is not None and self._previous_importances is not None and \
                        self._fresh_enough(old):  # slow, and made a moment ago: again
                    self._importances = self._previous_importances
                    # the figure's own call finds them (results.importance keeps them per
                    # view and seed there); if that ever moves, it computes them afresh
                    self.view.__dict__.setdefault("_importances", {})[0] = self._importances
                    self._imp_done.set()
                    return self._importances

                def work() -> None:
                    start = time.perf_counter()
                    try:
                        self._importances = importances(self.view)
                    except Exception as exc:  # shown as the note, the page goes on
                        self._importances = {"method": "", "trials": 0, "importances": {},
                                             "note": f"importances failed: {exc}"}
                    self.made["importances-data"] = (time.perf_counter() - start,
                                                time.monotonic(), len(self.view.trials), None)
                    self._imp_done.set()

                threading.Thread(target=work, daemon=True, name="importances").start()
        self._imp_done.wait(wait)
        return self._importances if self._imp_done.is_set() else None

    def _fresh_enough(self, made: tuple[float, float, int, Any]) -> bool:
        """A slow figure made a moment ago (within COST_FACTOR times its cost) is served
        again while the study keeps changing, so a busy study costs a bounded share."""
        cost, at, _, _ = made
        return cost > SLOW_S and time.monotonic() - at < COST_FACTOR * cost

    def _spec(self, kind: str, make: Any) -> tuple[Any, int | None]:
        """A figure's spec and, when an earlier version's is served, its trial count."""
        old = self.made.get(kind)
        if old is not None and old[2] != len(self.view.trials) and self._fresh_enough(old):
            return old[3], old[2]
        start = time.perf_counter()
        spec = make()
        self.made[kind] = (time.perf_counter() - start, time.monotonic(),
                           len(self.view.trials), spec)
        return spec, None

    def figures(self, x: str | None, y: str | None, wait: float | None,
                headline: bool = False) -> tuple[str, str]:
        """``(tag, json text)`` of ``{"figures", "importances", "pending", "as_of"}`` for
        this version and contour pair; the tag changes when what it holds does.
        ``headline``: only the HEADLINE figures, the others ``pending`` (a page's first
        request: its first chart does not wait for the others, nor for the importances,
        which start computing meanwhile)."""
        from hpo_framework.results import interactive as ia

        imp = self.importances(0.0 if headline else wait)
        pending = imp is None
        with self.lock:
            done = self._composed.get((x, y, pending, headline))
            if done is not None and time.monotonic() < done[2]:
                return done[0], done[1]
            view = self.view
            makers = {"best_so_far": lambda: ia.best_so_far_spec([view]),
                      "importances": lambda: ia.importances_spec(view),
                      "slices": lambda: ia.slices_spec(view),
                      "parallel": lambda: ia.parallel_spec(view),
                      "contour": lambda: self._contour(x, y, imp),
                      "learning_curves": lambda: ia.learning_curves_spec(view),
                      "timeline": lambda: ia.timeline_spec(view),
                      "generations": lambda: ia.generations_spec(view),
                      "heatmap": lambda: ia.heatmap_spec(view)}
            if view.multi_objective:
                makers = {"pareto": lambda: ia.pareto_spec(view),
                          "hypervolume": lambda: ia.hypervolume_spec([view]),
                          **{k: m for k, m in makers.items() if k != "best_so_far"}}
            parts: list[str] = []
            as_of: dict[str, int] = {}
            later = []
            now = time.monotonic()
            for kind, make in makers.items():
                if (pending and kind in ("importances", "contour")) or \
                        (headline and kind not in HEADLINE):
                    later.append(kind)
                    continue
                key = (kind, x, y) if kind == "contour" else (kind,)
                known = self._figures.get(key)
                if known is None or (known[1] is not None and now >= known[2]):
                    # each figure made and encoded once per version (and contour pair)
                    start = time.perf_counter()
                    spec, old = self._spec(kind, make) if key != ("contour", x, y) or \
                        (x, y) == (None, None) else (make(), None)
                    redo = now + COST_FACTOR * self.made[kind][0] if old is not None \
                        else math.inf
                    known = (None if spec is None else encode(spec), old, redo)
                    self._spend(time.perf_counter() - start)
                    if kind == "contour" and len(self._figures) > 24:
                        self._figures = {k: v for k, v in self._figures.items()
                                         if k[0] != "contour"}
                    self._figures[key] = known
                if known[0] is not None:
                    parts.append(f"{encode(kind)}:{known[0]}")
                    if known[1] is not None:
                        as_of[kind] = known[1]
            tag = _tag(self.version, x, y, pending, headline, sorted(as_of.items()))
            text = (f'{{"figures":{{{",".join(parts)}}},"importances":{encode(imp)},'
                    f'"pending":{encode(later)},"as_of":{encode(as_of)}}}')
            until = min((v[2] for v in self._figures.values() if v[1] is not None),
                        default=math.inf)
            if len(self._composed) > 8:
                self._composed.clear()
            self._composed[(x, y, pending, headline)] = (tag, text, until)
            return tag, text

    def _contour(self, x: str | None, y: str | None, imp: dict[str, Any] | None) -> Any:
        from hpo_framework.results.interactive import contour_pairs, contour_spec

        if x is None or y is None:  # the two most important, from the importances above
            names = contour_pairs(self.view)
            if len(names) < 2:
                return None
            ranked = [n for n in (imp or {}).get("importances", {}) if n in names]
            ranked += [n for n in names if n not in ranked]
            x, y = ranked[0], ranked[1]
        return contour_spec(self.view, x, y)

    # one trial ----------------------------------------------------------------------------
    def trial(self, number: int) -> dict[str, Any]:
        self.rows()
        assert self._by_number is not None
        t = self._by_number.get(number)
        if t is None:
            numbers = sorted(self._by_number)
            have = f"trials {numbers[0]} to {numbers[-1]}" if numbers else "no trial yet"
            raise OptionError(f"study '{self.name}' has no trial {number} ({have})")
        with self.lock:
            if self._best is None:
                self._best = (self.view.best_trial,)
        return trial_detail(self.view, t, self._row_of[number], self._numbers, self._best[0])


def trial_detail(view: Any, t: Any, row: Mapping[str, Any], numbers: Sequence[int],
                 best: Any = None) -> dict[str, Any]:
    """Everything about one trial: what its table row says (``row``), and its curve,
    metrics, error, user attributes (``proposed_by``, ``proposal_s``, ...), times and
    neighbours among the study's trial ``numbers`` (sorted)."""
    import bisect

    i = bisect.bisect_left(numbers, t.number)
    out: dict[str, Any] = {
        "study": view.name, "number": t.number, "state": t.state.value,
        "metric": view.metric, "direction": view.direction, "value": t.value,
        "params": {n: t.params[n] for n in [*view.param_names, *t.params]
                   if n in t.params},
        "inactive": [n for n in view.param_names if n not in t.params],
        "intermediate": list(t.intermediate), "metrics": dict(t.metrics),
        "error": row.get("error"), "detail": row.get("detail"),
        "user_attrs": {k: v for k, v in t.user_attrs.items() if k != "traceback"},
        "traceback": t.user_attrs.get("traceback"), "datetime_start": t.datetime_start,
        "datetime_complete": t.datetime_complete,
        "duration_s": None if t.duration is None else round(t.duration, 3),
        "attempts": t.attempts,
        "best": best is not None and best.number == t.number,
        "best_trial": None if best is None else best.number,
        "previous": numbers[i - 1] if i > 0 else None,
        "next": numbers[i + 1] if i + 1 < len(numbers) else None,
    }
    if view.multi_objective:
        out["objectives"] = dict(zip(view.objective_names, t.values or [], strict=False))
        out["pareto"] = bool(row.get("pareto"))
    if t.constraints is not None:
        out["constraints"] = dict(zip(view.constraint_names, t.constraints, strict=False))
        out["feasible"] = t.feasible
    out["curve"] = curve_spec(view, t, None if best is None or best.number == t.number
                              else best)
    return out


def _series(t: Any) -> dict[str, tuple[list[Any], list[float]]]:
    """Each number a trial reported per step, as (steps, values)."""
    out: dict[str, tuple[list[Any], list[float]]] = {}
    for i, item in enumerate(t.intermediate or []):
        if isinstance(item, int | float):
            item = {"step": i, "value": item}
        if not isinstance(item, Mapping):
            continue
        step = item.get("step", item.get("epoch", i))
        for key, v in item.items():
            if key in ("step", "epoch") or isinstance(v, bool) or \
                    not isinstance(v, int | float) or not math.isfinite(v):
                continue
            xs, ys = out.setdefault(str(key), ([], []))
            xs.append(step)
            ys.append(float(v))
    return out


def curve_spec(view: Any, t: Any, best: Any = None) -> dict[str, Any] | None:
    """A trial's learning curve: each number it reported per step, and the best trial's
    curve of the same name, dashed, to compare with. None when it reported nothing."""
    mine = _series(t)
    if not mine:
        return None
    data = []
    for key, (xs, ys) in mine.items():
        data.append({"type": "scatter", "mode": "lines+markers", "name": key, "x": xs,
                     "y": ys})
    if best is not None:
        for key, (xs, ys) in _series(best).items():
            if key in mine:
                data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys,
                             "name": f"{key} of the best trial {best.number}",
                             "line": {"dash": "dash", "color": "#999"}})
    end = " (pruned here)" if t.state.value == "PRUNED" else ""
    steps = [x for xs, _ in mine.values() for x in xs if isinstance(x, int | float)]
    xaxis: dict[str, Any] = {"title": {"text": "step"}}
    if steps and all(float(x).is_integer() for x in steps) and max(steps) - min(steps) <= 20:
        xaxis["dtick"] = 1  # whole steps: no tick between two of them
    return {"data": data, "layout": {
        "title": {"text": f"trial {t.number}: intermediate values{end}"},
        "xaxis": xaxis, "yaxis": {"title": {"text": view.metric}},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "height": 360, "template": None,
        "hovermode": "closest"}}


def _display(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_display(v)}" for k, v in value.items())
    return fmt(value)


def _sort_key(value: Any) -> tuple:
    if isinstance(value, bool):
        return (1, str(value))
    if isinstance(value, int | float):
        return (0, value) if not (isinstance(value, float) and math.isnan(value)) else (2,)
    return (1, str(value))


def _cell(row: Mapping[str, Any], column: str) -> Any:
    if column == "value":
        return row.get("value")
    params = row.get("params") or {}
    return params[column] if column in params else row.get(column)


def table(snap: Snapshot, query: Mapping[str, Any]) -> dict[str, Any]:
    """The rows the page shows: filtered (``q``: text in any cell; ``state``), sorted
    (``sort``, ``desc``) and paged (``offset``, ``limit``) here, so a page of 100 rows is
    what travels, whatever the study's size."""
    rows = snap.rows()
    columns = snap.columns()
    text = str(query.get("q") or "").strip().lower()
    wanted = query.get("state") or ""
    picked = [r for r in rows if not wanted or r["state"] == wanted]
    if text:
        picked = [r for r in picked
                  if any(text in _display(_cell(r, c)).lower() for c in columns)]
    key = query.get("sort") or "number"
    if key != "number" or query.get("desc"):
        known = [r for r in picked if _cell(r, key) is not None]
        unknown = [r for r in picked if _cell(r, key) is None]
        known.sort(key=lambda r: _sort_key(_cell(r, key)), reverse=bool(query.get("desc")))
        picked = known + unknown  # stable: equal cells stay in trial order
    offset = max(0, int(query.get("offset") or 0))
    limit = query.get("limit")
    shown = picked[offset:offset + int(limit)] if limit is not None else picked[offset:]
    return {"trials": shown, "total": len(rows), "matched": len(picked), "offset": offset}


def parse_table_query(params: Mapping[str, str]) -> dict[str, Any]:
    """``offset``, ``limit``, ``sort``, ``desc``, ``q``, ``state`` from a request's query."""
    out: dict[str, Any] = {}
    for name in ("offset", "limit"):
        if params.get(name) not in (None, ""):
            try:
                out[name] = int(params[name])
            except ValueError:
                raise OptionError(f"{name} must be a whole number, got "
                                  f"{params[name]!r}") from None
            if out[name] < 0:
                raise OptionError(f"{name} must be 0 or more, got {out[name]}")
    for name in ("sort", "q", "state"):
        if params.get(name):
            out[name] = params[name]
    out["desc"] = params.get("desc") in ("1", "true")
    return out


# the cache of snapshots ------------------------------------------------------------------
_cache: OrderedDict[tuple[str, str], Snapshot] = OrderedDict()
_cache_lock = threading.Lock()
_loading: dict[tuple[str, str], threading.Lock] = {}
#: per study: its last row of the studies page, and the (fingerprint, alive) it is of
_study_rows: dict[tuple[str, str], tuple[tuple, dict[str, Any]]] = {}
#: per study: the files' signature and the fingerprint read under it
_fingerprints: dict[tuple[str, str], tuple[tuple | None, tuple]] = {}


def _load(storage: Any, name: str) -> tuple[Any, bool]:
    """A study's view and whether a live driver runs it, from the same snapshot."""
    view = load_study(storage, name)
    record = storage.get_study(name)
    return view, storage.driver_alive(record.study_id)


def _current(storage: Any, path: str, name: str) -> tuple[tuple, bool]:
    """The study's fingerprint and whether a live driver runs it, read cheaply."""
    record = storage.get_study(name)
    if record is None:
        load_study(storage, name)  # the one-line error with its did-you-mean
    key = (path, name)
    signature = getattr(storage, "signature", None)
    with _cache_lock:
        known_fp = _fingerprints.get(key)
    if signature is not None and known_fp is not None and known_fp[0] == signature:
        fp = known_fp[1]  # not a byte of the file changed since: no query at all
    else:
        fp = fingerprint(storage, record.study_id)
        with _cache_lock:
            _fingerprints[key] = (signature, fp)
    return fp, storage.driver_alive(record.study_id)


def _read(storage: Any, name: str, fp: tuple, known: Snapshot | None) -> tuple[Any, str]:
    """The study's view, read from the one held (only what changed since) when there is
    one, checked against the fingerprint ``fp`` read in the same transaction: trials whose
    aggregate differs from the file's are read again in full. And how it was read."""
    if known is None:
        return load_study(storage, name), "full"
    view = load_study(storage, name, previous=known.view)
    if not view.incremental:
        return view, "full"
    if aggregate(view.trials) == tuple(tuple(row) for row in fp[0]):
        return view, "incremental"
    return load_study(storage, name), "fallback"


def snapshot(path: str, name: str, storage: Any = None) -> Snapshot:
    """The study's current version: from memory when its fingerprint did not change."""
    if storage is None:
        with _storage(path) as opened:
            return snapshot(path, name, opened)
    fp, alive = _current(storage, path, name)
    key = (path, name)
    with _cache_lock:
        lock = _loading.setdefault(key, threading.Lock())
    with lock:  # one load per new version, however many requests ask at once
        with _cache_lock:
            known = _cache.get(key)
            if known is not None:
                _cache.move_to_end(key)
        if known is not None and (known.fingerprint == fp or known.fresh_enough()):
            known.alive = alive  # unchanged, or a big study read a moment ago: as it was
            return known
        start = time.perf_counter()
        view, read = _read(storage, name, fp, known)
        snap = Snapshot(path, name, fp, view, alive, known)
        snap.read = read
        snap.load_s = time.perf_counter() - start
        with _cache_lock:
            _cache[key] = snap
            _cache.move_to_end(key)
            while len(_cache) > KEEP_STUDIES:
                _cache.popitem(last=False)
        return snap


# the API's answers -----------------------------------------------------------------------
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


def studies_answer(path: str) -> tuple[str, str]:
    """``GET /api/studies``: ``(etag, json)`` of every study in the file, in the order
    they were created."""
    rows = []
    with _storage(path) as storage:
        for record in storage.list_studies():
            key = (path, record.name)
            fp, alive = _current(storage, path, record.name)
            with _cache_lock:
                known = _study_rows.get(key)
            if known is None or known[0] != (fp, alive):
                # a row is small: kept for every study, so a file of many studies polls
                # without reading any of them again while they do not change
                snap = snapshot(path, record.name, storage)
                known = ((snap.fingerprint, snap.alive), snap.study_row())
                with _cache_lock:
                    _study_rows[key] = known
            rows.append(known)
    etag = _tag(path, [key for key, _ in rows])
    return etag, lambda: encode({"storage": path, "studies": [row for _, row in rows]})


def studies(path: str) -> dict[str, Any]:
    return json.loads(studies_answer(path)[1]())


def _page(snap: Snapshot, query: Mapping[str, Any]) -> dict[str, Any]:
    return {**snap.head(), **table(snap, query)}


def trials(path: str, name: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``GET /api/studies/{name}/trials``: the study's summary and its trials (every one,
    or the page the query asks for)."""
    return _page(snapshot(path, name), query or {})


def trials_answer(path: str, name: str, query: Mapping[str, Any]) -> tuple[str, str]:
    """``GET /api/studies/{name}/trials``: ``(etag, json)`` of :func:`trials`."""
    snap = snapshot(path, name)
    return _tag(snap.full_version, sorted(query.items())), lambda: encode(_page(snap, query))


def page_answer(path: str, name: str, query: Mapping[str, Any], x: str | None = None,
                y: str | None = None, have: str | None = None,
                wait: float | None = IMPORTANCE_WAIT_S, headline: bool = False
                ) -> tuple[str, Any]:
    """``GET /api/studies/{name}/figures``: ``(etag, body)``, the body a function that
    makes the JSON text (not called when the client's etag matches: 304). ``have`` is the
    ``figures_tag`` the page already holds: its figures are then not sent again
    (``"figures": null``). ``headline``: the HEADLINE figures only, the others pending
    (``?headline=1``, a page's first request). Header, table and figures are of one
    version of the study."""
    snap = snapshot(path, name)
    tag, figures_json = snap.figures(x, y, wait, headline)
    etag = _tag(snap.full_version, tag, sorted(query.items()))

    def body() -> str:
        figs = "null" if have == tag else figures_json
        return (f'{{"version":{encode(snap.full_version)},"figures_tag":{encode(tag)},'
                f'"page":{encode(_page(snap, query))},"all":{figs}}}')
    return etag, body


def figures(path: str, name: str, x: str | None = None, y: str | None = None,
            query: Mapping[str, Any] | None = None, wait: float | None = None
            ) -> dict[str, Any]:
    """The figures answer as a dict: ``version``, ``figures`` (the Plotly specs of every
    figure that applies, the same as the HTML report's), ``importances`` and ``page``
    (what ``/trials`` answers, from the same version). ``wait`` None: with every figure."""
    _, body = page_answer(path, name, query or {}, x, y, None, wait)
    return expand(json.loads(body()))


def expand(answer: dict[str, Any]) -> dict[str, Any]:
    """The nested page answer in the API's documented shape."""
    figs = answer.pop("all") or {}
    return {"version": answer["version"], "figures_tag": answer["figures_tag"],
            "page": answer["page"], **figs}


def trial_answer(path: str, name: str, number: int) -> tuple[str, str]:
    """``GET /api/studies/{name}/trials/{number}``: ``(etag, json)`` of one trial."""
    snap = snapshot(path, name)
    out = snap.trial(number)
    out["version"] = snap.full_version
    out["study_state"] = snap.state
    return _tag(snap.full_version, number), lambda: encode(out)


def compare(path: str, names: Sequence[str]) -> dict[str, Any]:
    """``GET /api/compare?studies=a,b``: summary rows (winner marked), setups, best so far.
    Studies with several objectives: each row's hypervolume against one reference point
    common to all of them, the largest wins, and ``hypervolume`` holds their curves."""
    from hpo_framework.results.interactive import best_so_far_spec, hypervolume_spec

    with _storage(path) as storage:
        views = [snapshot(path, n, storage).view for n in names]  # one read
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
