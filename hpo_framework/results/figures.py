"""PNG plots of studies (matplotlib, headless), for papers and the docs.

matplotlib is imported inside each function and only through ``Figure`` + the Agg
canvas, so ``hpo-run --help`` never loads it and no global pyplot state is touched.
Each ``*_figure`` function returns a Figure, or None when the plot does not apply
(a heatmap needs a two-parameter grid); each ``*_plot`` writes it as a PNG.
The interactive versions of the same figures are in :mod:`.interactive`.

The x-axis of every per-trial plot is the trial number, counted from 0 as the tables
count. A conditional parameter that is inactive in a trial has no panel point and sits
on its own "inactive" row of the parallel coordinates, so no line breaks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..contracts.trial import TrialState
from ..errors import HPOError
from .format import fmt
from .model import StudyView, as_view
from .stats import best_so_far, finished_in_order, median

MAX_HEATMAP_VALUES = 15
#: parallel coordinates draw more lines than this as one (fainter) collection
MANY_LINES = 500
#: where the parallel coordinates put "inactive" (below the axis' own range 0..1)
INACTIVE = -0.12


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise HPOError("plots need matplotlib: pip install 'hpo-framework[plots]'") from None

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def searchable(view: StudyView) -> list[Any]:
    space = view.space
    return [] if space is None else list(space.searchable)


def is_log(dim: Any) -> bool:
    return bool(getattr(dim, "log", False))


def is_categorical(dim: Any) -> bool:
    return getattr(dim, "type_name", "") == "categorical" or hasattr(dim, "choices")


def active_dims(view: StudyView) -> list[Any]:
    """The searchable dimensions that at least one complete trial used."""
    trials = view.complete_trials
    return [d for d in searchable(view) if any(d.name in t.params and t.params[d.name]
                                               is not None for t in trials)]


def _curve_points(view: StudyView) -> tuple[list[int], list[float]]:
    """(trial number, best so far) for each finished trial; NaN before the first score."""
    numbers = [t.number for t in finished_in_order(view)]
    ys = [math.nan if y is None else y for y in best_so_far(view)]
    return numbers, ys


def best_so_far_groups(studies: Sequence[Any], by: str = "strategy"
                       ) -> dict[str, list[StudyView]] | None:
    """The studies with a best-so-far curve, grouped by study name or by strategy (the
    seeds of one strategy together); None when no study has one."""
    views = [as_view(s) for s in studies]
    views = [v for v in views if any(x is not None for x in best_so_far(v))]
    if not views:
        return None
    groups: dict[str, list[StudyView]] = {}
    for v in views:
        groups.setdefault(v.name if by == "study" else v.strategy, []).append(v)
    return groups


def best_so_far_figure(studies: Sequence[Any], by: str = "strategy") -> Any:
    """Best value so far against trial number; one line per strategy.

    A strategy run with several seeds gets its own panel (median line, min-max band,
    the other strategies' medians in grey), so bands never pile up on one another."""
    groups = best_so_far_groups(studies, by)
    if groups is None:
        return None
    views = [v for members in groups.values() for v in members]  # views[0] comes first
    repeated = any(len(m) > 1 for m in groups.values())
    colors = [f"C{i}" for i in range(10)]
    medians: dict[str, tuple[list[int], list[float]]] = {}
    for name, members in groups.items():
        if len(members) == 1:
            medians[name] = _curve_points(members[0])
            continue
        curves = [best_so_far(v) for v in members]
        length = max(len(c) for c in curves)
        med = []
        for k in range(length):
            m = median(c[min(k, len(c) - 1)] for c in curves if c
                       and c[min(k, len(c) - 1)] is not None)
            med.append(math.nan if m is None else m)
        medians[name] = (list(range(length)), med)
    if repeated:
        fig = _figure(4.4 * min(3, len(groups)), 3.8 * math.ceil(len(groups) / 3))
        axes = list(fig.subplots(math.ceil(len(groups) / 3), min(3, len(groups)),
                                 squeeze=False, sharey=True).flat)
        for ax in axes[len(groups):]:
            ax.set_visible(False)
    else:
        fig = _figure(8, 4.8)
        axes = [fig.add_subplot()] * len(groups)
    for i, (name, members) in enumerate(groups.items()):
        ax, color = axes[i], colors[i % len(colors)]
        xs, ys = medians[name]
        if repeated:
            for other, (oxs, oys) in medians.items():
                if other != name:
                    ax.step(oxs, oys, where="post", color="0.7", lw=1)
        if len(members) == 1:
            ax.step(xs, ys, where="post", color=color, lw=2, label=name)
            if len(views) == 1:  # a single study: show every trial's score too
                pts = [(t.number, t.value) for t in members[0].complete_trials]
                if pts:
                    ax.scatter(*zip(*pts, strict=True), s=18, color="0.5", zorder=3,
                               label="each trial")
        else:
            curves = [best_so_far(v) for v in members]
            lo, hi = [], []
            for k in range(len(xs)):
                vals = [c[min(k, len(c) - 1)] for c in curves
                        if c and c[min(k, len(c) - 1)] is not None]
                lo.append(min(vals) if vals else math.nan)
                hi.append(max(vals) if vals else math.nan)
            ax.step(xs, ys, where="post", color=color, lw=2,
                    label=f"{name}: median of {len(members)} seeds")
            ax.fill_between(xs, lo, hi, step="post", color=color, alpha=0.25,
                            label="min-max over seeds")
            ax.set_title(name)
        ax.set_xlabel("trial number")
        ax.grid(alpha=0.3)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="best", fontsize=8)
    metric = views[0].metric
    better = "higher" if views[0].direction == "maximize" else "lower"
    axes[0].set_ylabel(f"best {metric} so far ({better} is better)")
    title = "Best so far" if len(groups) > 1 or len(views) > 1 else f"Best so far: {views[0].name}"
    if repeated:
        fig.suptitle(title + " (grey: the other strategies' medians)")
    else:
        axes[0].set_title(title)
    return fig


def panels(study: Any) -> tuple[StudyView, list[Any], list[Any], Any, int, int] | None:
    """What a one-panel-per-parameter figure needs: the view, the parameters some complete
    trial used, the complete trials, the best one, and a grid of at most 3 columns."""
    view = as_view(study)
    dims = active_dims(view)
    trials = view.complete_trials
    if not dims or not trials:
        return None
    ncols = min(3, len(dims))
    return view, dims, trials, view.best_trial, ncols, math.ceil(len(dims) / ncols)


def params_figure(study: Any) -> Any:
    """Each parameter against the score (log x-axis for log parameters); best trial starred.

    Panels share the score axis; a parameter no complete trial used gets no panel."""
    laid_out = panels(study)
    if laid_out is None:
        return None
    view, dims, trials, best, ncols, nrows = laid_out
    fig = _figure(4.2 * ncols, 3.4 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    for ax in axes.flat[len(dims):]:
        ax.set_visible(False)
    values = [t.value for t in trials]
    pad = (max(values) - min(values)) * 0.06 or 0.05
    sc = None
    for ax, dim in zip(axes.flat, dims, strict=False):
        pts = [(t.params[dim.name], t.value, t.number) for t in trials
               if t.params.get(dim.name) is not None]
        if is_categorical(dim):
            choices = [str(c) for c in dim.choices]
            xs = [choices.index(str(p)) + 0.08 * ((n % 5) - 2) for p, _, n in pts]
            ax.set_xticks(range(len(choices)), choices)
            ax.set_xlim(-0.5, len(choices) - 0.5)
        else:
            xs = [float(p) for p, _, _ in pts]
            _numeric_axis(ax, dim)
        ys = [v for _, v, _ in pts]
        sc = ax.scatter(xs, ys, c=[n for _, _, n in pts], cmap="viridis", s=28,
                        edgecolors="k", linewidths=0.3, vmin=trials[0].number,
                        vmax=trials[-1].number)
        if best is not None and best.params.get(dim.name) is not None:
            bx = best.params[dim.name]
            if is_categorical(dim):
                bx = [str(c) for c in dim.choices].index(str(bx))
            ax.scatter([bx], [best.value], marker="*", s=220, color="red", edgecolors="k",
                       zorder=4)
        scale = " (log scale)" if is_log(dim) else ""
        used = len(pts)
        ax.set_xlabel(dim.name + scale + ("" if used == len(trials)
                                          else f" (active in {used} of {len(trials)})"))
        ax.set_ylabel(view.metric)
        ax.set_ylim(min(values) - pad, max(values) + pad)
        ax.grid(alpha=0.3)
    fig.colorbar(sc, ax=axes, label="trial number", shrink=0.8)
    star = " (red star: best trial)" if best is not None else ""
    fig.suptitle(f"{view.name}: each parameter against {view.metric}{star}")
    return fig


def _numeric_axis(ax: Any, dim: Any) -> None:
    """The dimension's whole range; log scale for log parameters, whole numbers for ints."""
    from matplotlib.ticker import LogFormatterSciNotation, MaxNLocator, NullFormatter

    low, high = float(dim.low), float(dim.high)
    if is_log(dim):
        ax.set_xscale("log")
        pad = (high / low) ** 0.04
        ax.set_xlim(low / pad, high * pad)
        if high / low < 30:  # under ~1.5 decades: label a few minor ticks, not all of them
            ax.xaxis.set_minor_formatter(LogFormatterSciNotation(labelOnlyBase=False,
                                                                 minor_thresholds=(2, 0.5)))
        else:
            ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        pad = (high - low) * 0.04 or 0.5
        ax.set_xlim(low - pad, high + pad)
    if getattr(dim, "type_name", "") == "int" and not is_log(dim):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def axis_position(dim: Any, value: Any) -> float:
    """Where a value sits on a parallel-coordinates axis (0..1); INACTIVE when unset."""
    if value is None:
        return INACTIVE
    if is_categorical(dim):
        choices = [str(c) for c in dim.choices]
        return choices.index(str(value)) / max(1, len(choices) - 1) if str(value) in choices \
            else INACTIVE
    try:
        return float(dim.encode(value))
    except Exception:  # a value outside the stored space: on the inactive row
        return INACTIVE


def axis_labels(dim: Any) -> list[tuple[float, str]]:
    """Tick labels of one parallel axis, at least 0.1 apart so that none overlap."""
    if is_categorical(dim):
        choices = [str(c) for c in dim.choices]
        marks = [(i / max(1, len(choices) - 1), c) for i, c in enumerate(choices)]
    else:
        small_int = getattr(dim, "type_name", "") == "int" and not is_log(dim) \
            and dim.high - dim.low <= 8
        values = range(dim.low, dim.high + 1) if small_int else \
            [dim.decode(u) for u in (0, .5, 1)]
        listed = getattr(dim, "values", None)
        if listed and len(listed) <= 8:  # a grid's own points
            values = sorted(listed)
        seen: dict[str, float] = {}
        for value in values:
            seen.setdefault(fmt(value), float(dim.encode(value)))
        marks = sorted((pos, text) for text, pos in seen.items())
    kept: list[tuple[float, str]] = []
    for pos, text in marks:
        if not kept or pos - kept[-1][0] >= 0.1 or pos == marks[-1][0]:
            if kept and pos - kept[-1][0] < 0.1:
                kept.pop()  # keep the last (the high end) over its close neighbour
            kept.append((pos, text))
    return kept


def parallel_figure(study: Any) -> Any:
    """All complete trials across the parameters and the score, coloured by score."""
    view = as_view(study)
    dims = searchable(view)
    trials = view.complete_trials
    if not dims or not trials:
        return None
    import matplotlib
    from matplotlib.colors import Normalize

    values = [t.value for t in trials]
    vmin, vmax = min(values), max(values)
    span = (vmax - vmin) or 1.0
    cmap = matplotlib.colormaps["viridis"]
    norm = Normalize(vmin, vmax)
    fig = _figure(max(7.0, 1.9 * (len(dims) + 1)), 4.8)
    ax = fig.add_subplot()
    xs = list(range(len(dims) + 1))
    best = view.best_trial
    maximize = view.direction == "maximize"
    order = sorted(trials, key=lambda t: t.value if maximize else -t.value)  # best drawn last
    conditional = set()
    # above MANY_LINES one collection: 10,000 lines draw in a few seconds, not in ten
    many = len(order) > MANY_LINES
    lines, colors = [], []
    for t in order:
        ys = [axis_position(d, t.params.get(d.name)) for d in dims]
        conditional |= {d.name for d, y in zip(dims, ys, strict=True) if y == INACTIVE}
        ys.append((t.value - vmin) / span)
        if best is not None and t.number == best.number:
            ax.plot(xs, ys, color="red", lw=2.6, alpha=1.0, zorder=5, label="best trial")
        elif many:
            lines.append(list(zip(xs, ys, strict=True)))
            colors.append(cmap(norm(t.value)))
        else:
            ax.plot(xs, ys, color=cmap(norm(t.value)), lw=1.1, alpha=0.7, zorder=2)
    if lines:
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(lines, colors=colors, linewidths=1.1, alpha=0.35,
                                         zorder=2))
    box = {"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1}
    for x, dim in enumerate(dims):
        ax.axvline(x, color="0.3", lw=0.8)
        for u, text in axis_labels(dim):
            ax.text(x + 0.04, u, text, fontsize=8, va="center", ha="left", bbox=box)
        if dim.name in conditional:
            ax.text(x + 0.04, INACTIVE, "inactive", fontsize=8, va="center", ha="left",
                    style="italic", color="0.35", bbox=box)
    ax.axvline(len(dims), color="0.3", lw=0.8)
    for u in (0.0, 0.5, 1.0):
        ax.text(len(dims) + 0.04, u, fmt(vmin + u * span), fontsize=8, va="center", bbox=box)
    labels = [d.name + (" (log)" if is_log(d) else "") for d in dims] + [view.metric]
    ax.set_xticks(xs, labels)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(dims) + 0.5)
    ax.set_ylim((INACTIVE - 0.06) if conditional else -0.06, 1.06)
    ax.set_title(f"{view.name}: parallel coordinates of {len(trials)} complete trials")
    if best is not None:
        ax.legend(loc="upper left", fontsize=8, bbox_to_anchor=(0, -0.08))
    from matplotlib.cm import ScalarMappable

    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=view.metric)
    return fig


def generation_stats(study: Any) -> list[dict[str, float]]:
    """Per-generation records from the study attribute ``strategy_stats``.

    The documented schema: ``{"generations": [{"generation", "max", "mean", "min",
    "evaluations"}, ...]}`` (``min`` and ``evaluations`` optional) or a bare list of such
    records. Returns [] when the study has none.
    """
    view = as_view(study)
    stats = view.attrs.get("strategy_stats")
    records: Any = stats.get("generations") if isinstance(stats, dict) else stats
    out = []
    for i, r in enumerate(records if isinstance(records, list) else []):
        if not isinstance(r, dict):
            continue
        top, mean = r.get("max"), r.get("mean")
        if not isinstance(top, int | float) or not isinstance(mean, int | float):
            continue
        row = {"generation": float(r.get("generation", i)), "max": float(top),
               "mean": float(mean)}
        for key in ("min", "evaluations"):
            if isinstance(r.get(key), int | float):
                row[key] = float(r[key])
        out.append(row)
    return out


def generations_figure(study: Any) -> Any:
    """The genetic strategy's per-generation max and mean score."""
    view = as_view(study)
    rows = generation_stats(view)
    if not rows:
        return None
    fig = _figure(7, 4.2)
    ax = fig.add_subplot()
    gens = [r["generation"] for r in rows]
    ax.plot(gens, [r["max"] for r in rows], "o-", lw=2, label="max")
    ax.plot(gens, [r["mean"] for r in rows], "s--", lw=2, label="mean")
    if all("min" in r for r in rows):
        ax.plot(gens, [r["min"] for r in rows], "^:", lw=1.2, label="min", color="0.5")
    ax.set_xlabel("generation")
    ax.set_ylabel(view.metric)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    title = f"{view.name}: {view.metric} per generation"
    if all("evaluations" in r for r in rows):
        fresh = sum(1 for r in rows if r["evaluations"] > 0)
        title += f"\n({fresh} of {len(rows)} generations had configurations not seen before)"
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return fig


def varying(view: StudyView) -> tuple[list[str], dict[str, Any]]:
    """The parameters that vary over the complete trials, and those held fixed (value)."""
    names, fixed = [], {}
    trials = view.complete_trials
    for name in view.param_names:
        seen: dict[str, Any] = {}
        for t in trials:  # stops at a second value: a varying one costs two trials
            value = t.params.get(name)
            seen.setdefault(repr(value), value)
            if len(seen) > 1:
                break
        if len(seen) > 1:
            names.append(name)
        elif seen:
            fixed[name] = next(iter(seen.values()))
    return names, fixed


def heatmap_grid(view: StudyView) -> dict[str, Any] | None:
    """The mean score over a two-parameter grid: x/y values, cells (None where empty)."""
    names, fixed = varying(view)
    trials = view.complete_trials
    if len(names) != 2 or not trials:
        return None
    px, py = names

    def ordered(name: str) -> list[Any]:
        vals = {repr(t.params[name]): t.params[name] for t in trials if name in t.params}
        try:
            return sorted(vals.values())
        except TypeError:
            return sorted(vals.values(), key=str)

    xv, yv = ordered(px), ordered(py)
    if not (1 < len(xv) <= MAX_HEATMAP_VALUES and 1 < len(yv) <= MAX_HEATMAP_VALUES):
        return None
    xi = {repr(v): i for i, v in enumerate(xv)}
    yi = {repr(v): i for i, v in enumerate(yv)}
    cells: list[list[list[float]]] = [[[] for _ in xv] for _ in yv]
    for t in trials:
        if px in t.params and py in t.params:
            cells[yi[repr(t.params[py])]][xi[repr(t.params[px])]].append(t.value)
    z = [[sum(c) / len(c) if c else None for c in row] for row in cells]
    return {"x": px, "y": py, "x_values": xv, "y_values": yv, "z": z, "fixed": fixed}


def fixed_text(fixed: dict[str, Any]) -> str:
    return "held fixed: " + fmt(fixed) if fixed else "no other parameter"


def heatmap_figure(study: Any) -> Any:
    """For a grid over two parameters: the score of every cell, annotated, and the
    parameters held fixed named in the title."""
    import numpy as np

    view = as_view(study)
    grid_data = heatmap_grid(view)
    if grid_data is None:
        return None
    px, py, xv, yv = grid_data["x"], grid_data["y"], grid_data["x_values"], \
        grid_data["y_values"]
    grid = np.array([[math.nan if v is None else v for v in row] for row in grid_data["z"]])
    space = view.space
    fig = _figure(max(5.0, 0.9 * len(xv) + 3), max(4.0, 0.6 * len(yv) + 2.5))
    ax = fig.add_subplot()
    cmap = "viridis" if view.direction == "maximize" else "viridis_r"
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto", origin="lower")
    ax.set_xticks(range(len(xv)), [fmt(v) for v in xv])
    ax.set_yticks(range(len(yv)), [fmt(v) for v in yv])

    def label(name: str) -> str:
        return name + (" (log grid)" if space is not None and name in space
                       and is_log(space[name]) else "")

    ax.set_xlabel(label(px))
    ax.set_ylabel(label(py))
    finite = grid[np.isfinite(grid)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(len(yv)):
        for j in range(len(xv)):
            if np.isfinite(grid[i, j]):
                dark = (grid[i, j] < mid) == (view.direction == "maximize")
                ax.text(j, i, fmt(float(grid[i, j])), ha="center", va="center", fontsize=9,
                        color="white" if dark else "black")
    fig.colorbar(im, ax=ax, label=view.metric)
    ax.set_title(f"{view.name}: {view.metric} over the grid\n"
                 f"({fixed_text(grid_data['fixed'])})", fontsize=10)
    return fig


def _write(fig: Any, path: str | Path) -> Path | None:
    return None if fig is None else _save(fig, path)


def best_so_far_plot(studies: Sequence[Any], path: str | Path, by: str = "strategy"
                     ) -> Path | None:
    """best_so_far_figure written as PNG to ``path`` (None when no trial completed).

    ``by="strategy"`` draws one line per strategy (a median band over its seeds);
    ``by="study"`` one line per study, for studies that are not one comparison."""
    return _write(best_so_far_figure(studies, by), path)


def params_plot(study: Any, path: str | Path) -> Path | None:
    return _write(params_figure(study), path)


def parallel_plot(study: Any, path: str | Path) -> Path | None:
    return _write(parallel_figure(study), path)


def generations_plot(study: Any, path: str | Path) -> Path | None:
    return _write(generations_figure(study), path)


def heatmap_plot(study: Any, path: str | Path) -> Path | None:
    return _write(heatmap_figure(study), path)


def trial_steps(view: StudyView, trial: Any) -> tuple[list[Any], list[float]]:
    """(step, value) pairs of a trial's intermediate values, for the study's metric."""
    xs, ys = [], []
    for i, item in enumerate(trial.intermediate or []):
        if isinstance(item, int | float):
            value, step = item, i
        elif isinstance(item, dict):
            step = item.get("step", item.get("epoch", i))
            value = item.get(view.metric)
            if value is None:
                value = item.get("val_" + view.metric, item.get("value"))
            if value is None:
                value = next((v for k, v in item.items() if k not in ("step", "epoch")
                              and isinstance(v, int | float)), None)
        else:
            continue
        if isinstance(value, int | float) and math.isfinite(value):
            xs.append(step)
            ys.append(float(value))
    return xs, ys


def learning_curves_figure(study: Any) -> Any:
    """Intermediate values per trial against step; pruned trials dotted, ended with an x.
    None when no trial reported per-step values."""
    view = as_view(study)
    curves = [(t, *trial_steps(view, t)) for t in sorted(view.trials, key=lambda t: t.number)]
    curves = [(t, xs, ys) for t, xs, ys in curves if xs]
    if not curves:
        return None
    from matplotlib.collections import LineCollection

    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot()
    best = view.best_trial
    # one collection per kind: thousands of curves draw as fast as a few
    others, stopped, ends, best_curve = [], [], [], None
    for t, xs, ys in curves:
        if t.state is TrialState.PRUNED:
            stopped.append(list(zip(xs, ys, strict=True)))
            ends.append((xs[-1], ys[-1]))
        elif best is not None and t.number == best.number:
            best_curve = (xs, ys)
        else:
            others.append(list(zip(xs, ys, strict=True)))
    faint = 0.6 if len(curves) <= 20 else 0.25
    ax.add_collection(LineCollection(others, colors="tab:blue", linewidths=1, alpha=faint))
    ax.add_collection(LineCollection(stopped, colors="tab:orange", linewidths=1,
                                     linestyles=":"))
    if ends:
        ax.scatter([e[0] for e in ends], [e[1] for e in ends], marker="x", color="tab:orange",
                   s=49 if len(ends) <= 20 else 16, linewidths=1)
    if best_curve is not None:
        ax.plot(*best_curve, color="tab:red", linewidth=2.5, label=f"best: trial {best.number}")
    ax.autoscale_view()
    pruned = sum(t.state is TrialState.PRUNED for t, _, _ in curves)
    ax.set_title(f"{view.name}: learning curves ({pruned} pruned: dotted, x where stopped)")
    ax.set_xlabel("step (epoch)")
    ax.set_ylabel(view.metric)
    if best_curve is not None:  # the best trial may have reported no steps
        ax.legend(loc="best")
    return fig


def learning_curves_plot(study: Any, path: str | Path) -> Path | None:
    return _write(learning_curves_figure(study), path)


def study_plots(study: Any, directory: str | Path, with_curve: bool = True) -> list[Path]:
    """Every plot that applies to one study, written into ``directory``."""
    view = as_view(study)
    directory = Path(directory)
    made = []
    if view.multi_objective:  # the front and its hypervolume replace the best so far
        made.append(pareto_plot(view, directory / "pareto.png"))
        if with_curve:
            made.append(hypervolume_plot([view], directory / "hypervolume.png"))
    elif with_curve:
        made.append(best_so_far_plot([view], directory / "best_so_far.png"))
    made.append(params_plot(view, directory / "params.png"))
    made.append(parallel_plot(view, directory / "parallel.png"))
    made.append(generations_plot(view, directory / "generations.png"))
    made.append(heatmap_plot(view, directory / "heatmap.png"))
    made.append(learning_curves_plot(view, directory / "learning_curves.png"))
    return [p for p in made if p is not None]


# several objectives ---------------------------------------------------------------------
def objective_label(view: StudyView, k: int) -> str:
    better = "higher" if view.directions[k] == "maximize" else "lower"
    return f"{view.objective_names[k]} ({view.directions[k]}: {better} is better)"


def front_groups(study: Any) -> dict[str, Any] | None:
    """What a Pareto-front figure draws, by group, each a list of trials: ``front`` (the
    feasible non-dominated COMPLETE trials), ``dominated`` (feasible, dominated),
    ``infeasible``; ``staircase``: the front's attainment line as objective-space
    vertices (2 objectives). None for one objective or no scored trial."""
    view = as_view(study)
    if not view.multi_objective or not view.scored_trials:
        return None
    front = sorted(view.pareto_front, key=lambda t: (t.losses[0], t.losses[1], t.number))
    on_front = {t.number for t in front}
    feasible = view.feasible_trials
    out: dict[str, Any] = {
        "view": view, "front": front,
        "dominated": [t for t in feasible if t.number not in on_front],
        "infeasible": [t for t in view.scored_trials if not t.feasible],
        "staircase": [],
    }
    if len(view.directions) == 2 and front:
        stairs: list[tuple[float, float]] = [tuple(front[0].values[:2])]
        for prev, t in zip(front, front[1:], strict=False):
            stairs.append((t.values[0], prev.values[1]))  # across at the old level, then down
            stairs.append((t.values[0], t.values[1]))
        out["staircase"] = stairs
    return out


def pareto_figure(study: Any) -> Any:
    """2 objectives: every scored trial, the feasible front in red joined by its
    staircase, dominated feasible trials lighter, constraint-infeasible ones grey x.
    3 objectives: the same as a 3-D scatter. None for one objective or more than 3."""
    groups = front_groups(study)
    if groups is None or len(groups["view"].directions) > 3:
        return None
    view = groups["view"]
    d = len(view.directions)
    fig = _figure(7.5, 5.6 if d == 3 else 5.0)
    ax = fig.add_subplot(projection="3d") if d == 3 else fig.add_subplot()

    def coords(trials: list[Any]) -> list[list[float]]:
        return [[t.values[k] for t in trials] for k in range(d)]

    if groups["infeasible"]:
        ax.scatter(*coords(groups["infeasible"]), marker="x", s=22, color="0.6",
                   label=f"infeasible ({len(groups['infeasible'])})")
    if groups["dominated"]:
        ax.scatter(*coords(groups["dominated"]), s=22, color="C0", alpha=0.35,
                   label=f"dominated ({len(groups['dominated'])})")
    if groups["staircase"]:
        sx, sy = zip(*groups["staircase"], strict=True)
        ax.plot(sx, sy, color="C3", lw=1.4, zorder=3)
    ax.scatter(*coords(groups["front"]), s=44, color="C3", edgecolors="k", linewidths=0.5,
               zorder=4, label=f"Pareto front ({len(groups['front'])})")
    ax.set_xlabel(objective_label(view, 0))
    ax.set_ylabel(objective_label(view, 1))
    if d == 3:
        ax.set_zlabel(objective_label(view, 2))
    else:
        ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    feasible = "feasible " if view.constrained else ""
    plural = "" if len(groups["front"]) == 1 else "s"
    ax.set_title(f"{view.name}: Pareto front of {len(groups['front'])} {feasible}trial{plural} "
                 f"among {len(view.scored_trials)} complete")
    return fig


def hypervolume_figure(studies: Sequence[Any]) -> Any:
    """The hypervolume of the feasible front against trial number, one line per study,
    against one reference point computed over all of them (stated in the title)."""
    from .stats import comparable_fronts, hypervolume_curve

    found = comparable_fronts(studies)
    if found is None:
        return None
    views, reference = found
    fig = _figure(8, 4.8)
    ax = fig.add_subplot()
    for i, v in enumerate(views):
        xs, ys = hypervolume_curve(v, reference)
        ax.step(xs, ys, where="post", color=f"C{i % 10}", lw=2, label=v.name)
    ax.set_xlabel("trial number")
    ax.set_ylabel("hypervolume (higher is better)")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    point = ", ".join(f"{n} {fmt(r)}" for n, r in zip(views[0].objective_names, reference,
                                                      strict=True))
    ax.set_title(f"Hypervolume of the feasible front; reference point {point}\n(the worst "
                 "value of each objective over the feasible complete trials + 10% of its "
                 "range)", fontsize=10)
    return fig


def pareto_plot(study: Any, path: str | Path) -> Path | None:
    return _write(pareto_figure(study), path)


def hypervolume_plot(studies: Sequence[Any], path: str | Path) -> Path | None:
    return _write(hypervolume_figure(studies), path)
