"""Interactive figures as Plotly specs (plain ``{"data": [...], "layout": {...}}`` dicts).

The dashboard sends these to the page and the HTML report inlines them, so both show
the same figures. Building a spec needs no plotly at all; only :func:`plotly_js`, the
library's JavaScript for pages, reads it from the installed ``plotly`` package (no
internet). Every per-trial axis is the trial number, counted from 0 as the tables count.
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


def plotly_js() -> str:
    """plotly.min.js from the installed plotly package."""
    try:
        import plotly
    except ImportError:
        raise HPOError("interactive figures need plotly: pip install 'hpo-framework[plots]'"
                       ) from None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise HPOError(f"the installed plotly has no {path.name}; reinstall plotly")
    return path.read_text(encoding="utf-8")


def plotly_js_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


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
    for i, (name, members) in enumerate(groups.items()):
        color = COLORS[i % len(COLORS)]
        if len(members) == 1:
            v = members[0]
            xs = [t.number for t in finished_in_order(v)]
            data.append({"type": "scatter", "mode": "lines", "line": {"shape": "hv",
                         "color": color, "width": 2}, "name": name, "x": xs,
                         "y": best_so_far(v)})
            if len(views) == 1:
                pts = v.complete_trials
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
    note = " (click a legend entry to show its min-max band)" if any(
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
    view, dims, trials, best, ncols, nrows = laid_out
    gap = 0.06
    width = (1 - gap * (ncols - 1)) / ncols
    height = (1 - 0.12 * (nrows - 1)) / nrows
    star = " (red star: best)" if best is not None else ""
    layout = _layout(f"{view.name}: each parameter against {view.metric}{star}",
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
    trials = view.complete_trials
    if not dims or not trials:
        return None
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
            "layout": _layout(f"{view.name}: parallel coordinates of {len(trials)} complete "
                              f"trials (drag on an axis to filter)",
                              margin={"l": 80, "r": 80, "t": 80, "b": 40})}


def contour_pairs(view: StudyView) -> list[str]:
    """Parameters a contour can use (numeric or categorical, used by a complete trial)."""
    return [d.name for d in active_dims(view)]


def contour_spec(study: Any, x: str | None = None, y: str | None = None
                 ) -> dict[str, Any] | None:
    """The score over two parameters: a contour through the complete trials (interpolated
    between them) with the trials drawn on top. Default pair: the two most important."""
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
    pts = [t for t in view.complete_trials
           if t.params.get(x) is not None and t.params.get(y) is not None]
    if not pts:
        return None

    def coord(dim: Any, value: Any) -> Any:
        return str(value) if is_categorical(dim) else value

    xs = [coord(dx, t.params[x]) for t in pts]
    ys = [coord(dy, t.params[y]) for t in pts]
    zs = [t.value for t in pts]
    data = [{"type": "contour", "x": xs, "y": ys, "z": zs, "connectgaps": True,
             "colorscale": "Viridis", "reversescale": view.direction == "minimize",
             "contours": {"coloring": "heatmap"}, "colorbar": {"title": {"text": view.metric}},
             "hoverinfo": "skip"},
            {"type": "scatter", "mode": "markers", "x": xs, "y": ys, "name": "trials",
             "text": [f"trial {t.number}: {fmt(t.value)}" for t in pts],
             "marker": {"color": "white", "size": 7, "line": {"width": 1, "color": "#000"}}}]
    return {"data": data, "layout": _layout(
        f"{view.name}: {view.metric} over {x} and {y}", showlegend=False,
        xaxis={**_axis_for(dx), "title": {"text": x}},
        yaxis={**_axis_for(dy), "title": {"text": y}}), "pair": [x, y], "choices": names}


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
    """Intermediate values per trial against step; pruned trials dashed, ended with an x."""
    view = as_view(study)
    data = []
    best = view.best_trial
    for t in sorted(view.trials, key=lambda t: t.number):
        xs, ys = trial_steps(view, t)
        if not xs:
            continue
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
    if not data:
        return None
    return {"data": data, "layout": _layout(
        f"{view.name}: learning curves (dotted, x: pruned)",
        xaxis={"title": {"text": "step"}}, yaxis={"title": {"text": view.metric}})}


def timeline_spec(study: Any) -> dict[str, Any] | None:
    """When each trial ran: one bar per trial from start to end, coloured by state, so
    parallel workers show as overlapping bars."""
    from .stats import parse_time

    view = as_view(study)
    by_state: dict[str, dict[str, list[Any]]] = {}
    ends = [parse_time(t.datetime_complete) for t in view.trials if t.datetime_complete]
    now = max([e for e in ends if e], default=None)
    for t in sorted(view.trials, key=lambda t: t.number):
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
        f"{view.name}: timeline of trials", barmode="overlay",
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
    if groups["infeasible"]:
        data.append(trace("infeasible", groups["infeasible"],
                          {"color": "#aaaaaa", "symbol": "x", "size": 6}))
    if groups["dominated"]:
        data.append(trace("dominated", groups["dominated"],
                          {"color": COLORS[0], "opacity": 0.35, "size": 7}))
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
