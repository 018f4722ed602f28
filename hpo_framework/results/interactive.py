"""Interactive figures as Plotly specs (plain ``{"data": [...], "layout": {...}}`` dicts).

The dashboard sends these to the page and the HTML report inlines them, so both show
the same figures. Building a spec needs no plotly at all. The JavaScript that draws them
(:func:`plotly_js`) ships beside this module: ``plotly-hpo.min.js``, a partial bundle of
plotly.js with only the trace types these specs use (scatter, bar, heatmap, contour,
parcoords, scatter3d; 2.0 MB against the full bundle's 4.8 MB, which took over a second of a
browser's CPU to compile before a page could draw). ``tools/plotly-bundle`` builds it.
Every per-trial axis is the trial number, counted from 0 as the tables count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..contracts.trial import TrialState
from ..errors import HPOError, OptionError
from .figures import (
    INACTIVE,
    active_dims,
    axis_labels,
    axis_position,
    best_so_far_groups,
    fixed_text,
    generation_stats,
    heatmap_grid,
    is_categorical,
    is_log,
    panels,
    searchable,
    trial_steps,
)
from .format import fmt
from .model import StudyView, as_view
from .stats import best_so_far, finished_in_order, median

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf"]
STATE_COLORS = {"COMPLETE": "#2ca02c", "FAILED": "#d62728", "PRUNED": "#ff7f0e",
                "RUNNING": "#1f77b4", "WAITING": "#7f7f7f", "PAUSED": "#bcbd22"}

# Large studies: what a figure cannot show is sampled or aggregated, and its title says so
#: the most trials one scatter (a panel, the parallel lines, the contour's dots) draws;
#: above it a seeded random sample (the best trial always among them)
MAX_POINTS = 2000
#: the timeline's bars: the last this many trials
MAX_BARS = 1000
#: learning curves: up to this many, one legend entry each; above, only the best
#: NAMED_CURVES complete trials are named and the rest drawn faint, one trace per kind
LEGEND_CURVES = 20
NAMED_CURVES = 5
#: the most curves drawn at all (a random sample of the unnamed ones above it)
MAX_CURVES = 1000
#: a contour through more trials than this averages them over a grid of cells instead
CONTOUR_POINTS = 300
CONTOUR_BINS = 30


def sample(trials: Sequence[Any], limit: int | None = None, keep: Sequence[Any] = (),
           seed: int = 0) -> list[Any]:
    """``trials`` when there are at most ``limit`` (default MAX_POINTS), else a seeded
    random sample of ``limit`` of them, in their order, with every trial of ``keep``
    among them."""
    limit = MAX_POINTS if limit is None else limit
    if len(trials) <= limit:
        return list(trials)
    import random

    kept = {t.number for t in keep if t is not None}
    others = [i for i, t in enumerate(trials) if t.number not in kept]
    chosen = set(random.Random(seed).sample(others, max(0, min(len(others),
                                                             limit - len(kept)))))
    return [t for i, t in enumerate(trials) if i in chosen or t.number in kept]


def shown_note(shown: int, total: int, what: str = "trials",
               how: str = "a random sample, the best always among them") -> str:
    """`` (2,000 of 8,800 complete trials shown: a random sample, ...)``, or ``""``."""
    return "" if shown >= total else f" ({shown:,} of {total:,} {what} shown: {how})"


def _steps(xs: list[Any], ys: list[Any]) -> tuple[list[Any], list[Any]]:
    """A step line (``shape: hv``) with only the points where it changes, and the last:
    the same line, drawn from fewer points (only used above MAX_POINTS points)."""
    if len(xs) <= MAX_POINTS:
        return xs, ys
    keep = [i for i in range(len(xs)) if i == 0 or i == len(xs) - 1 or ys[i] != ys[i - 1]]
    return [xs[i] for i in keep], [ys[i] for i in keep]


#: the partial plotly.js bundle the pages load (see the module's docstring)
PLOTLY_JS = Path(__file__).with_name("plotly-hpo.min.js")


def plotly_js() -> str:
    """The text of :data:`PLOTLY_JS`; an install without it is one line."""
    try:
        return PLOTLY_JS.read_text(encoding="utf-8")
    except OSError:
        raise HPOError(f"{PLOTLY_JS} is missing: reinstall hpo-framework") from None


def plotly_js_path() -> Path:
    return PLOTLY_JS


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    out = {"title": {"text": title}, "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
           "hovermode": "closest", "template": None, "height": 420}
    out.update(extra)
    return out


def _better(view: StudyView) -> str:
    return "higher" if view.direction == "maximize" else "lower"


def best_so_far_spec(studies: Sequence[Any], by: str = "strategy") -> dict[str, Any] | None:
    """Best so far against trial number, one line per study or strategy (several seeds:
    the median line with its min-max band, the band drawn only on hover-friendly lines)."""
    groups = best_so_far_groups(studies, by)
    if groups is None:
        return None
    views = [v for members in groups.values() for v in members]  # views[0] comes first
    data: list[dict[str, Any]] = []
    note = ""
    for i, (name, members) in enumerate(groups.items()):
        color = COLORS[i % len(COLORS)]
        if len(members) == 1:
            v = members[0]
            xs, ys = _steps([t.number for t in finished_in_order(v)], best_so_far(v))
            data.append({"type": "scatter", "mode": "lines", "line": {"shape": "hv",
                         "color": color, "width": 2}, "name": name, "x": xs, "y": ys})
            if len(views) == 1:
                every = v.complete_trials
                pts = sample(every, keep=[v.best_trial])
                note += shown_note(len(pts), len(every), "complete trials' dots")
                data.append({"type": "scatter", "mode": "markers", "name": "each trial",
                             "marker": {"color": "#888", "size": 6},
                             "x": [t.number for t in pts], "y": [t.value for t in pts],
                             "text": [fmt(t.params) for t in pts]})
            continue
        curves = [best_so_far(v) for v in members]
        length = max(len(c) for c in curves)
        med, lo, hi = [], [], []
        for k in range(length):
            vals = [c[min(k, len(c) - 1)] for c in curves if c and c[min(k, len(c) - 1)]
                    is not None]
            med.append(median(vals))
            lo.append(min(vals) if vals else None)
            hi.append(max(vals) if vals else None)
        xs = list(range(length))
        if length > MAX_POINTS:  # a step line: only where one of the three changes
            keep = [k for k in range(length) if k in (0, length - 1) or
                    (med[k], lo[k], hi[k]) != (med[k - 1], lo[k - 1], hi[k - 1])]
            xs, med, lo, hi = keep, [med[k] for k in keep], [lo[k] for k in keep], \
                [hi[k] for k in keep]
        group = f"g{i}"
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": hi, "legendgroup": group,
                     "line": {"shape": "hv", "width": 0, "color": color}, "showlegend": False,
                     "hoverinfo": "skip", "visible": "legendonly"})
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": lo, "legendgroup": group,
                     "fill": "tonexty", "line": {"shape": "hv", "width": 0, "color": color},
                     "opacity": 0.3, "name": f"{name}: min-max over seeds",
                     "hoverinfo": "skip", "visible": "legendonly"})
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": med,
                     "legendgroup": group, "line": {"shape": "hv", "color": color, "width": 2},
                     "name": f"{name}: median of {len(members)} seeds"})
    metric = views[0].metric
    title = "Best so far" if len(views) > 1 else f"Best so far: {views[0].name}"
    note += " (click a legend entry to show its min-max band)" if any(
        len(m) > 1 for m in groups.values()) else ""
    last = max((max(d["x"]) for d in data if d["x"]), default=0)
    return {"data": data, "layout": _layout(
        f"{title} ({_better(views[0])} is better){note}",
        xaxis={"title": {"text": "trial number"}, "dtick": max(1, math.ceil(last / 10))},
        yaxis={"title": {"text": f"best {metric} so far"}})}


def _axis_for(dim: Any) -> dict[str, Any]:
    """A parameter's axis: its categories, or its whole range (in log scale if log)."""
    if is_categorical(dim):
        return {"type": "category", "categoryorder": "array",
                "categoryarray": [str(c) for c in dim.choices]}
    low, high = float(dim.low), float(dim.high)
    if is_log(dim):
        pad = (math.log10(high) - math.log10(low)) * 0.04
        return {"type": "log", "range": [math.log10(low) - pad, math.log10(high) + pad]}
    pad = (high - low) * 0.04 or 0.5
    return {"range": [low - pad, high + pad]}


def slices_spec(study: Any) -> dict[str, Any] | None:
    """Each parameter against the score, one panel each, one shared score axis; colour is
    the trial number, the best trial a red star; inactive parameters have no point."""
    laid_out = panels(study)
    if laid_out is None:
        return None
    view, dims, every, best, ncols, nrows = laid_out
    trials = sample(every, keep=[best])
    gap = 0.06
    width = (1 - gap * (ncols - 1)) / ncols
    height = (1 - 0.12 * (nrows - 1)) / nrows
    star = " (red star: best)" if best is not None else ""
    layout = _layout(f"{view.name}: each parameter against {view.metric}{star}"
                     f"{shown_note(len(trials), len(every), 'complete trials')}",
                     showlegend=False, height=320 * nrows)
    data = []
    for i, dim in enumerate(dims):
        r, c = divmod(i, ncols)
        suffix = "" if i == 0 else str(i + 1)
        x0 = c * (width + gap)
        y1 = 1 - r * (height + 0.12)
        layout[f"xaxis{suffix}"] = {**_axis_for(dim), "domain": [x0, x0 + width],
                                    "anchor": f"y{suffix}",
                                    "title": {"text": dim.name + (" (log)" if is_log(dim)
                                                                   else "")}}
        layout[f"yaxis{suffix}"] = {"domain": [y1 - height, y1], "anchor": f"x{suffix}",
                                    "title": {"text": view.metric if c == 0 else ""}}
        if i:
            layout[f"yaxis{suffix}"]["matches"] = "y"
        pts = [t for t in trials if t.params.get(dim.name) is not None]
        xs = [str(t.params[dim.name]) if is_categorical(dim) else t.params[dim.name]
              for t in pts]
        data.append({"type": "scatter", "mode": "markers", "xaxis": f"x{suffix}",
                     "yaxis": f"y{suffix}", "x": xs, "y": [t.value for t in pts],
                     "name": dim.name, "text": [f"trial {t.number}" for t in pts],
                     "marker": {"color": [t.number for t in pts], "colorscale": "Viridis",
                                "cmin": trials[0].number, "cmax": trials[-1].number,
                                "size": 8, "line": {"width": 0.5, "color": "#333"},
                                "showscale": i == 0,
                                "colorbar": {"title": {"text": "trial"}}}})
        if best is not None and best.params.get(dim.name) is not None:
            bx = best.params[dim.name]
            data.append({"type": "scatter", "mode": "markers", "xaxis": f"x{suffix}",
                         "yaxis": f"y{suffix}", "name": "best",
                         "x": [str(bx) if is_categorical(dim) else bx], "y": [best.value],
                         "text": [f"best: trial {best.number}"],
                         "marker": {"symbol": "star", "size": 16, "color": "red",
                                    "line": {"width": 1, "color": "#000"}}})
    return {"data": data, "layout": layout}


def parallel_spec(study: Any) -> dict[str, Any] | None:
    """Parallel coordinates of the complete trials; an inactive (conditional) parameter
    sits on its own "inactive" tick below the axis' range, so every line is whole."""
    view = as_view(study)
    dims = searchable(view)
    every = view.complete_trials
    if not dims or not every:
        return None
    trials = sample(every, keep=[view.best_trial])
    dimensions = []
    for d in dims:
        values = [axis_position(d, t.params.get(d.name)) for t in trials]
        ticks = axis_labels(d)
        lowest = 0.0
        if INACTIVE in values:
            ticks = [(INACTIVE, "inactive"), *ticks]
            lowest = INACTIVE
        dimensions.append({"label": d.name + (" (log)" if is_log(d) else ""),
                           "values": values, "range": [lowest, 1.0],
                           "tickvals": [u for u, _ in ticks], "ticktext": [s for _, s in ticks]})
    scores = [t.value for t in trials]
    dimensions.append({"label": view.metric, "values": scores})
    line = {"color": scores, "colorscale": "Viridis", "showscale": True,
            "reversescale": view.direction == "minimize",
            "colorbar": {"title": {"text": view.metric}}}
    return {"data": [{"type": "parcoords", "line": line, "dimensions": dimensions}],
            "layout": _layout(f"{view.name}: parallel coordinates of {len(every):,} complete "
                              f"trials (drag on an axis to filter)"
                              f"{shown_note(len(trials), len(every), 'lines')}",
                              margin={"l": 80, "r": 80, "t": 80, "b": 40})}


def contour_pairs(view: StudyView) -> list[str]:
    """Parameters a contour can use (numeric or categorical, used by a complete trial)."""
    return [d.name for d in active_dims(view)]


def contour_spec(study: Any, x: str | None = None, y: str | None = None
                 ) -> dict[str, Any] | None:
    """The score over two parameters, with the trials drawn on top. Default pair: the two
    most important.

    Two numeric parameters: a contour through the complete trials, interpolated between
    them (above CONTOUR_POINTS trials, through the mean of the trials in each cell of a
    grid). A categorical parameter is never interpolated: it gets a category axis, one
    row (or column) of cells per category, and the score is a heatmap of the mean per
    cell (its numeric partner in cells of its range); the title says which."""
    view = as_view(study)
    names = contour_pairs(view)
    if len(names) < 2:
        return None
    if x is None or y is None:
        from .importance import importances

        ranked = [n for n in importances(view)["importances"] if n in names] or names
        ranked += [n for n in names if n not in ranked]
        x, y = x or ranked[0], y or next(n for n in ranked if n != (x or ranked[0]))
    if x not in names or y not in names or x == y:
        raise OptionError(f"contour: give two different parameters among {', '.join(names)}")
    space = view.space
    dx, dy = space[x], space[y]
    every = [t for t in view.complete_trials
             if t.params.get(x) is not None and t.params.get(y) is not None]
    if not every:
        return None
    categorical = is_categorical(dx) or is_categorical(dy)
    title = f"{view.name}: {view.metric} over {x} and {y}"
    if categorical or len(every) > CONTOUR_POINTS:
        surface, how = _cells(view, every, dx, dy, categorical)
        title += how
    else:
        surface = {"type": "contour", "x": [t.params[x] for t in every],
                   "y": [t.params[y] for t in every], "z": [t.value for t in every],
                   "connectgaps": True, "contours": {"coloring": "heatmap"}}
        title += " (interpolated between the trials)"
    surface.update({"colorscale": "Viridis", "reversescale": view.direction == "minimize",
                    "colorbar": {"title": {"text": view.metric}}})
    pts = sample(every, keep=[view.best_trial])
    title += shown_note(len(pts), len(every), "trials' dots")

    def coord(dim: Any, value: Any) -> Any:
        return str(value) if is_categorical(dim) else value

    data = [surface,
            {"type": "scatter", "mode": "markers", "name": "trials",
             "x": [coord(dx, t.params[x]) for t in pts],
             "y": [coord(dy, t.params[y]) for t in pts],
             "text": [f"trial {t.number}: {fmt(t.value)}" for t in pts],
             "hoverinfo": "text",
             "marker": {"color": "white", "size": 7 if len(pts) <= 300 else 4,
                        "line": {"width": 1, "color": "#000"}}}]
    return {"data": data, "layout": _layout(
        title, showlegend=False,
        xaxis={**_axis_for(dx), "title": {"text": x}},
        yaxis={**_axis_for(dy), "title": {"text": y}}), "pair": [x, y], "choices": names}


def _bins(dim: Any, values: list[Any], count: int) -> tuple[list[Any], list[int]]:
    """A parameter's cells: (the label or centre of each, each value's cell index). A
    categorical one: its categories in the space's order; a numeric one: ``count`` equal
    cells of its range (in log scale if log), or its own values when it has fewer."""
    if is_categorical(dim):
        labels = [str(c) for c in dim.choices]
        where = {c: i for i, c in enumerate(labels)}
        return labels, [where.get(str(v), 0) for v in values]
    distinct = sorted(set(values))
    if len(distinct) <= count:
        where = {v: i for i, v in enumerate(distinct)}
        return distinct, [where[v] for v in values]
    log = is_log(dim) and float(dim.low) > 0
    low, high = float(dim.low), float(dim.high)
    if log:
        low, high = math.log(low), math.log(high)
    span = (high - low) or 1.0

    def unit(v: Any) -> float:
        return ((math.log(v) if log else float(v)) - low) / span

    centres = [low + span * (i + 0.5) / count for i in range(count)]
    labels = [math.exp(c) if log else c for c in centres]
    return labels, [min(count - 1, max(0, int(unit(v) * count))) for v in values]


def _cells(view: StudyView, trials: list[Any], dx: Any, dy: Any, categorical: bool
           ) -> tuple[dict[str, Any], str]:
    """The mean score of the trials in each cell of (x, y): a heatmap when a parameter is
    categorical (never interpolated across categories), else a contour through the
    cells' means; with what the title should say."""
    count = max(5, min(CONTOUR_BINS, int(math.sqrt(len(trials)))))
    xl, xi = _bins(dx, [t.params[dx.name] for t in trials], count)
    yl, yi = _bins(dy, [t.params[dy.name] for t in trials], count)
    sums = [[0.0] * len(xl) for _ in yl]
    counts = [[0] * len(xl) for _ in yl]
    for t, i, j in zip(trials, xi, yi, strict=True):
        sums[j][i] += t.value
        counts[j][i] += 1
    z = [[s / c if c else None for s, c in zip(srow, crow, strict=True)]
         for srow, crow in zip(sums, counts, strict=True)]
    text = [[f"{c} trial{'' if c == 1 else 's'}" for c in crow] for crow in counts]
    if categorical:
        what = " and ".join(d.name for d in (dx, dy) if is_categorical(d))
        return ({"type": "heatmap", "x": xl, "y": yl, "z": z, "text": text,
                 "hoverongaps": False},
                f" (mean of the trials in each cell; {what}: one row of cells per category, "
                "never interpolated)")
    return ({"type": "contour", "x": xl, "y": yl, "z": z, "text": text,
             "connectgaps": True, "contours": {"coloring": "heatmap"}},
            f" (mean of the {len(trials):,} trials in each of {len(xl)}x{len(yl)} cells, "
            "interpolated between cells)")


def importances_spec(study: Any) -> dict[str, Any] | None:
    from .importance import importances

    view = as_view(study)
    result = importances(view)
    if not result["importances"]:
        return None
    items = list(result["importances"].items())[::-1]  # largest at the top
    return {"data": [{"type": "bar", "orientation": "h", "x": [v for _, v in items],
                      "y": [k for k, _ in items], "marker": {"color": COLORS[0]},
                      "text": [f"{v:.3f}" for _, v in items], "textposition": "auto"}],
            "layout": _layout(f"{view.name}: parameter importances", height=max(
                220, 60 + 40 * len(items)), xaxis={"title": {"text": result["method"]},
                "range": [0, 1]}, margin={"l": 140, "r": 20, "t": 50, "b": 50})}


def learning_curves_spec(study: Any) -> dict[str, Any] | None:
    """Intermediate values per trial against step; pruned trials dotted, ended with an x.

    Up to LEGEND_CURVES curves each has its legend entry; above, only the best
    NAMED_CURVES complete trials are named and drawn in colour, the others are drawn
    faint (one trace for the complete ones, one for the pruned ones, so hundreds of
    curves stay one legend entry each kind) and above MAX_CURVES a random sample of
    them; the title says so."""
    view = as_view(study)
    best = view.best_trial
    reported = [t for t in view.by_number if t.intermediate]
    if len(reported) > LEGEND_CURVES:
        spec = _many_curves(view, reported)
        return spec
    curves = [(t, *trial_steps(view, t)) for t in reported]
    curves = [(t, xs, ys) for t, xs, ys in curves if xs]
    if not curves:
        return None
    data = []
    for t, xs, ys in curves:
        pruned = t.state is TrialState.PRUNED
        is_best = best is not None and t.number == best.number
        label = f"trial {t.number}" + (" (pruned)" if pruned else "") + (
            " (best)" if is_best else "")
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": label,
                     "legendgroup": "pruned" if pruned else "trials",
                     "line": {"dash": "dot" if pruned else "solid",
                              "color": "red" if is_best else STATE_COLORS["PRUNED"]
                              if pruned else None, "width": 3 if is_best else 1.5}})
        if pruned:
            data.append({"type": "scatter", "mode": "markers", "x": [xs[-1]], "y": [ys[-1]],
                         "name": f"trial {t.number} pruned here", "showlegend": False,
                         "marker": {"symbol": "x", "size": 10,
                                    "color": STATE_COLORS["PRUNED"]}})
    return {"data": data, "layout": _layout(
        f"{view.name}: learning curves (dotted, x: pruned)",
        xaxis={"title": {"text": "step"}}, yaxis={"title": {"text": view.metric}})}


def _joined(curves: list[tuple[Any, list[Any], list[float]]]) -> tuple[list[Any], list[Any]]:
    """Many curves as one trace: their points, a gap (None) between curves."""
    xs: list[Any] = []
    ys: list[Any] = []
    for _, cx, cy in curves:
        xs += [*cx, None]
        ys += [*cy, None]
    return xs, ys


def _many_curves(view: StudyView, reported: list[Any]) -> dict[str, Any] | None:
    """The learning curves of many trials (``reported``: those with intermediate
    values): the steps are read only for the curves drawn. None when none has one."""
    sign = 1.0 if view.direction == "minimize" else -1.0
    done = sorted((t for t in reported if t.state is TrialState.COMPLETE
                   and t.value is not None and math.isfinite(t.value) and t.feasible),
                  key=lambda t: (sign * t.value, t.number))
    named: list[tuple[Any, list[Any], list[float]]] = []
    for t in done:  # the best complete trials that have a curve
        xs, ys = trial_steps(view, t)
        if xs:
            named.append((t, xs, ys))
        if len(named) == NAMED_CURVES:
            break
    chosen = {c[0].number for c in named}
    rest = [t for t in reported if t.number not in chosen]
    drawn = sample(rest, MAX_CURVES - len(named))
    rest_drawn = [(t, *trial_steps(view, t)) for t in drawn]
    rest_drawn = [c for c in rest_drawn if c[1]]
    if not named and not rest_drawn:
        return None
    pruned = [c for c in rest_drawn if c[0].state is TrialState.PRUNED]
    others = [c for c in rest_drawn if c[0].state is not TrialState.PRUNED]
    data: list[dict[str, Any]] = []
    if others:
        xs, ys = _joined(others)
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys,
                     "name": f"{len(others):,} other trials (faint)", "hoverinfo": "skip",
                     "line": {"color": "#1f77b4", "width": 1}, "opacity": 0.25})
    if pruned:
        xs, ys = _joined(pruned)
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys,
                     "name": f"{len(pruned):,} pruned trials (faint, dotted)",
                     "hoverinfo": "skip", "legendgroup": "pruned", "opacity": 0.35,
                     "line": {"color": STATE_COLORS["PRUNED"], "width": 1, "dash": "dot"}})
        data.append({"type": "scatter", "mode": "markers", "x": [c[1][-1] for c in pruned],
                     "y": [c[2][-1] for c in pruned], "legendgroup": "pruned",
                     "name": "pruned here", "showlegend": False, "opacity": 0.5,
                     "text": [f"trial {c[0].number} pruned here" for c in pruned],
                     "hoverinfo": "text",
                     "marker": {"symbol": "x", "size": 6, "color": STATE_COLORS["PRUNED"]}})
    for rank, (t, xs, ys) in enumerate(named):
        first = rank == 0
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys,
                     "name": f"trial {t.number}" + (" (best)" if first else ""),
                     "line": {"color": "red" if first else COLORS[rank % len(COLORS)],
                              "width": 3 if first else 2}})
    note = (f"the best {len(named)} complete trials named, the other {len(rest):,} faint"
            f"{'' if len(drawn) == len(rest) else f' ({len(drawn):,} of them drawn: a random sample)'}")
    return {"data": data, "layout": _layout(
        f"{view.name}: learning curves of {len(reported):,} trials<br><sup>{note}; "
        "dotted, x: pruned</sup>", margin={"l": 60, "r": 20, "t": 70, "b": 50},
        xaxis={"title": {"text": "step"}}, yaxis={"title": {"text": view.metric}})}


def timeline_spec(study: Any) -> dict[str, Any] | None:
    """When each trial ran: one bar per trial from start to end, coloured by state, so
    parallel workers show as overlapping bars."""
    from .stats import parse_time

    view = as_view(study)
    by_state: dict[str, dict[str, list[Any]]] = {}
    ends = [parse_time(t.datetime_complete) for t in view.trials if t.datetime_complete]
    now = max([e for e in ends if e], default=None)
    ordered = sorted(view.trials, key=lambda t: t.number)
    shown = ordered[-MAX_BARS:]
    for t in shown:
        start = parse_time(t.datetime_start)
        if start is None:
            continue
        end = parse_time(t.datetime_complete) or now or start
        ms = max(1.0, (end - start).total_seconds() * 1000)
        row = by_state.setdefault(t.state.value, {"x": [], "y": [], "base": [], "text": []})
        row["x"].append(ms)
        row["y"].append(t.number)
        row["base"].append(start.isoformat())
        row["text"].append(f"trial {t.number}: {t.state.value}, {ms / 1000:.2f} s")
    if not by_state:
        return None
    data = [{"type": "bar", "orientation": "h", "name": state, "x": v["x"], "y": v["y"],
             "base": v["base"], "text": v["text"], "hoverinfo": "text", "textposition": "none",
             "marker": {"color": STATE_COLORS.get(state, "#999")}}
            for state, v in by_state.items()]
    return {"data": data, "layout": _layout(
        f"{view.name}: timeline of trials"
        + shown_note(len(shown), len(ordered), how=f"the last {len(shown):,}"),
        barmode="overlay",
        xaxis={"type": "date", "title": {"text": "time (UTC)"}},
        yaxis={"title": {"text": "trial number"}, "autorange": "reversed"})}


def generations_spec(study: Any) -> dict[str, Any] | None:
    view = as_view(study)
    rows = generation_stats(view)
    if not rows:
        return None
    gens = [r["generation"] for r in rows]
    data = [{"type": "scatter", "mode": "lines+markers", "name": key, "x": gens,
             "y": [r[key] for r in rows]} for key in ("max", "mean", "min")
            if all(key in r for r in rows)]
    return {"data": data, "layout": _layout(f"{view.name}: {view.metric} per generation",
                                            xaxis={"title": {"text": "generation"}},
                                            yaxis={"title": {"text": view.metric}})}


def heatmap_spec(study: Any) -> dict[str, Any] | None:
    view = as_view(study)
    grid = heatmap_grid(view)
    if grid is None:
        return None
    xs, ys = [fmt(v) for v in grid["x_values"]], [fmt(v) for v in grid["y_values"]]
    return {"data": [{"type": "heatmap", "x": xs, "y": ys, "z": grid["z"],
                      "colorscale": "Viridis", "reversescale": view.direction == "minimize",
                      "text": [[fmt(v) for v in row] for row in grid["z"]],
                      "texttemplate": "%{text}", "colorbar": {"title": {"text": view.metric}}}],
            "layout": _layout(f"{view.name}: {view.metric} over the grid "
                              f"({fixed_text(grid['fixed'])})",
                              xaxis={"type": "category", "title": {"text": grid["x"]}},
                              yaxis={"type": "category", "title": {"text": grid["y"]}})}


def study_figures(study: Any) -> dict[str, dict[str, Any]]:
    """Every figure that applies to one study, by kind, in the order a page shows them."""
    view = as_view(study)
    makers = {"best_so_far": lambda: best_so_far_spec([view]),
              "importances": lambda: importances_spec(view),
              "slices": lambda: slices_spec(view), "parallel": lambda: parallel_spec(view),
              "contour": lambda: contour_spec(view),
              "learning_curves": lambda: learning_curves_spec(view),
              "timeline": lambda: timeline_spec(view),
              "generations": lambda: generations_spec(view),
              "heatmap": lambda: heatmap_spec(view)}
    if view.multi_objective:  # the front and its hypervolume replace the best so far
        makers = {"pareto": lambda: pareto_spec(view),
                  "hypervolume": lambda: hypervolume_spec([view]),
                  **{k: m for k, m in makers.items() if k != "best_so_far"}}
    out = {}
    for kind, make in makers.items():
        spec = make()
        if spec is not None:
            out[kind] = spec
    return out


def _hover(view: StudyView, t: Any) -> str:
    parts = [f"trial {t.number}"] + [f"{n}={fmt(v)}" for n, v in
                                      zip(view.objective_names, t.values or [], strict=False)]
    if t.constraints is not None:
        parts.append("feasible" if t.feasible else "infeasible: " + ", ".join(
            fmt(c) for c in t.constraints))
    return "<br>".join([", ".join(parts), fmt(t.params)])


def pareto_spec(study: Any) -> dict[str, Any] | None:
    """The Pareto front (2 objectives: a scatter with the front's staircase; 3: a 3-D
    scatter): the feasible front in red, dominated feasible trials lighter, infeasible
    ones grey. None for one objective or more than 3."""
    from .figures import front_groups, objective_label

    groups = front_groups(study)
    if groups is None or len(groups["view"].directions) > 3:
        return None
    view = groups["view"]
    d = len(view.directions)
    kind = "scatter3d" if d == 3 else "scatter"
    axes = "xyz"[:d]

    def trace(name: str, trials: list[Any], marker: dict[str, Any]) -> dict[str, Any]:
        out = {"type": kind, "mode": "markers", "name": f"{name} ({len(trials)})",
               "marker": marker, "text": [_hover(view, t) for t in trials],
               "customdata": [t.number for t in trials], "hoverinfo": "text"}
        for k, a in enumerate(axes):
            out[a] = [t.values[k] for t in trials]
        return out

    data = []
    hidden = 0
    for group, marker in (("infeasible", {"color": "#aaaaaa", "symbol": "x", "size": 6}),
                          ("dominated", {"color": COLORS[0], "opacity": 0.35, "size": 7})):
        if groups[group]:
            drawn = sample(groups[group])
            hidden += len(groups[group]) - len(drawn)
            data.append(trace(group, drawn, marker))
            if len(drawn) < len(groups[group]):
                data[-1]["name"] = f"{group} ({len(drawn):,} of {len(groups[group]):,})"
    if groups["staircase"]:
        sx, sy = zip(*groups["staircase"], strict=True)
        data.append({"type": "scatter", "mode": "lines", "name": "front", "x": list(sx),
                     "y": list(sy), "line": {"color": "#d62728", "width": 1.5},
                     "hoverinfo": "skip", "showlegend": False})
    data.append(trace("Pareto front", groups["front"],
                      {"color": "#d62728", "size": 9, "line": {"width": 1, "color": "#000"}}))
    feasible = "feasible " if view.constrained else ""
    plural = "" if len(groups["front"]) == 1 else "s"
    title = (f"{view.name}: Pareto front of {len(groups['front'])} {feasible}trial{plural} "
             f"among {len(view.scored_trials)} complete")
    if hidden:
        title += (f"<br><sup>{hidden:,} dominated or infeasible trials not drawn: a random "
                  f"sample of {MAX_POINTS:,} of each group shown, the front whole</sup>")
    labels = [{"title": {"text": objective_label(view, k)}} for k in range(d)]
    if d == 3:
        layout = _layout(title, height=560, scene={"xaxis": labels[0], "yaxis": labels[1],
                                                   "zaxis": labels[2]})
    else:
        layout = _layout(title, xaxis=labels[0], yaxis=labels[1])
    return {"data": data, "layout": layout}


def hypervolume_spec(studies: Sequence[Any]) -> dict[str, Any] | None:
    """Hypervolume of the feasible front against trial number, one line per study, all
    against one reference point (named in the title)."""
    from .stats import comparable_fronts, hypervolume_curve

    found = comparable_fronts(studies)
    if found is None:
        return None
    views, reference = found
    data = []
    for i, v in enumerate(views):
        xs, ys = hypervolume_curve(v, reference)
        data.append({"type": "scatter", "mode": "lines", "name": v.name, "x": xs, "y": ys,
                     "line": {"shape": "hv", "color": COLORS[i % len(COLORS)], "width": 2}})
    point = ", ".join(f"{n} {fmt(r)}" for n, r in zip(views[0].objective_names, reference,
                                                      strict=True))
    return {"data": data, "reference_point": reference, "layout": _layout(
        f"Hypervolume (higher is better)<br><sup>reference point {point}: the worst "
        "feasible value of each objective + 10% of its range</sup>",
        margin={"l": 60, "r": 20, "t": 70, "b": 50},
        xaxis={"title": {"text": "trial number"}},
        yaxis={"title": {"text": "hypervolume"}})}
