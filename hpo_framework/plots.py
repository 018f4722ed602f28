"""PNG plots of studies (matplotlib, headless).

matplotlib is imported inside each function and only through ``Figure`` + the Agg
canvas, so ``hpo-run --help`` never loads it and no global pyplot state is touched.
Each ``*_figure`` function returns a Figure, or None when the plot does not apply
(a heatmap needs a two-parameter grid); each ``*_plot`` writes it as a PNG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import HPOError
from .report import (
    SUMMARY_COLUMNS,
    StudyView,
    as_view,
    best_so_far,
    fmt,
    summary,
    trial_rows,
)
from .trial import TrialState

MAX_HEATMAP_VALUES = 15


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


def _complete(view: StudyView) -> list[Any]:
    return [t for t in sorted(view.trials, key=lambda t: t.number)
            if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)]


def _searchable(view: StudyView) -> list[Any]:
    space = view.space
    return [] if space is None else list(space.searchable)


def _is_log(dim: Any) -> bool:
    return bool(getattr(dim, "log", False))


def _is_categorical(dim: Any) -> bool:
    return getattr(dim, "type_name", "") == "categorical" or hasattr(dim, "choices")


def best_so_far_figure(studies: Sequence[Any], by: str = "strategy") -> Any:
    """Best value so far against trial number; one line per strategy (median and min-max band
    over seeds when a strategy ran several times)."""
    views = [as_view(s) for s in studies]
    views = [v for v in views if any(x is not None for x in best_so_far(v))]
    if not views:
        return None
    fig = _figure(8, 4.8)
    ax = fig.add_subplot()
    groups: dict[str, list[StudyView]] = {}
    for v in views:
        groups.setdefault(v.name if by == "study" else v.strategy, []).append(v)
    colors = [f"C{i}" for i in range(10)]
    for i, (strategy, members) in enumerate(groups.items()):
        color = colors[i % len(colors)]
        curves = [best_so_far(v) for v in members]
        if len(members) == 1:
            ys = [math.nan if y is None else y for y in curves[0]]
            xs = list(range(1, len(ys) + 1))
            ax.step(xs, ys, where="post", color=color, lw=2, label=strategy)
            if len(views) == 1:  # a single study: show every trial's score too
                pts = [(n + 1, t.value) for n, t in enumerate(
                    t for t in sorted(members[0].trials, key=lambda t: t.number)
                    if t.state.finished) if t.state is TrialState.COMPLETE and t.value is not None]
                if pts:
                    ax.scatter(*zip(*pts, strict=True), s=18, color="0.5", zorder=3,
                               label="each trial")
            continue
        length = max(len(c) for c in curves)
        med, lo, hi = [], [], []
        for k in range(length):
            vals = sorted(c[min(k, len(c) - 1)] for c in curves
                          if c and c[min(k, len(c) - 1)] is not None)
            if not vals:
                med.append(math.nan), lo.append(math.nan), hi.append(math.nan)
                continue
            n = len(vals)
            med.append(vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2)
            lo.append(vals[0])
            hi.append(vals[-1])
        xs = list(range(1, length + 1))
        ax.step(xs, med, where="post", color=color, lw=2,
                label=f"{strategy}: median of {len(members)} seeds, band min-max")
        ax.fill_between(xs, lo, hi, step="post", color=color, alpha=0.15)
    metric = views[0].metric
    ax.set_xlabel("trial (finished, in order)")
    better = "higher" if views[0].direction == "maximize" else "lower"
    ax.set_ylabel(f"best {metric} so far ({better} is better)")
    title = "Best so far" if len(groups) > 1 or len(views) > 1 else f"Best so far: {views[0].name}"
    ax.set_title(title)
    ax.grid(alpha=0.3)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", fontsize=9)
    return fig


def params_figure(study: Any) -> Any:
    """Each parameter against the score (log x-axis for log parameters); best trial starred."""
    view = as_view(study)
    dims = _searchable(view)
    trials = _complete(view)
    if not dims or not trials:
        return None
    best = view.best_trial
    ncols = min(3, len(dims))
    nrows = math.ceil(len(dims) / ncols)
    fig = _figure(4.2 * ncols, 3.4 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(dims):]:
        ax.set_visible(False)
    for ax, dim in zip(axes.flat, dims, strict=False):
        pts = [(t.params[dim.name], t.value, t.number) for t in trials if dim.name in t.params]
        if _is_categorical(dim):
            choices = [str(c) for c in dim.choices]
            xs = [choices.index(str(p)) + 0.08 * ((n % 5) - 2) for p, _, n in pts]
            ax.set_xticks(range(len(choices)), choices)
            ax.set_xlim(-0.5, len(choices) - 0.5)
        else:
            xs = [float(p) for p, _, _ in pts]
            _numeric_axis(ax, dim)
        ys = [v for _, v, _ in pts]
        sc = ax.scatter(xs, ys, c=[n for _, _, n in pts], cmap="viridis", s=28,
                        edgecolors="k", linewidths=0.3)
        if best is not None and dim.name in best.params:
            bx = best.params[dim.name]
            if _is_categorical(dim):
                bx = [str(c) for c in dim.choices].index(str(bx))
            ax.scatter([bx], [best.value], marker="*", s=220, color="red", edgecolors="k",
                       zorder=4)
        scale = " (log scale)" if _is_log(dim) else ""
        ax.set_xlabel(dim.name + scale)
        ax.set_ylabel(view.metric)
        ax.grid(alpha=0.3)
    fig.colorbar(sc, ax=axes, label="trial number", shrink=0.8)
    fig.suptitle(f"{view.name}: each parameter against {view.metric} (red star: best trial)")
    return fig


def _numeric_axis(ax: Any, dim: Any) -> None:
    """The dimension's whole range; log scale for log parameters, whole numbers for ints."""
    from matplotlib.ticker import LogFormatterSciNotation, MaxNLocator, NullFormatter

    low, high = float(dim.low), float(dim.high)
    if _is_log(dim):
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
    if getattr(dim, "type_name", "") == "int" and not _is_log(dim):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _axis_position(dim: Any, value: Any) -> float:
    if value is None:
        return math.nan
    if _is_categorical(dim):
        choices = [str(c) for c in dim.choices]
        return choices.index(str(value)) / max(1, len(choices) - 1) if str(value) in choices \
            else math.nan
    try:
        return float(dim.encode(value))
    except Exception:  # a value outside the stored space: leave the segment out
        return math.nan


def _axis_labels(dim: Any) -> list[tuple[float, str]]:
    if _is_categorical(dim):
        choices = [str(c) for c in dim.choices]
        return [(i / max(1, len(choices) - 1), c) for i, c in enumerate(choices)]
    marks = {}
    small_int = getattr(dim, "type_name", "") == "int" and not _is_log(dim) \
        and dim.high - dim.low <= 8
    values = range(dim.low, dim.high + 1) if small_int else [dim.decode(u) for u in (0, .5, 1)]
    listed = getattr(dim, "values", None)
    if listed and len(listed) <= 8:  # a grid's own points
        values = sorted(listed)
    for value in values:
        marks[fmt(value)] = float(dim.encode(value))  # ints sit at their bin's centre
    return [(pos, text) for text, pos in marks.items()]


def parallel_figure(study: Any) -> Any:
    """All complete trials across the parameters and the score, coloured by score."""
    view = as_view(study)
    dims = _searchable(view)
    trials = _complete(view)
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
    for t in order:
        ys = [_axis_position(d, t.params.get(d.name)) for d in dims]
        ys.append((t.value - vmin) / span)
        is_best = best is not None and t.number == best.number
        ax.plot(xs, ys, color="red" if is_best else cmap(norm(t.value)),
                lw=2.6 if is_best else 1.1, alpha=1.0 if is_best else 0.7,
                zorder=5 if is_best else 2, label="best trial" if is_best else None)
    for x, dim in enumerate(dims):
        ax.axvline(x, color="0.3", lw=0.8)
        for u, text in _axis_labels(dim):
            ax.text(x + 0.04, u, text, fontsize=8, va="center", ha="left",
                    bbox={"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 1})
    ax.axvline(len(dims), color="0.3", lw=0.8)
    for u in (0.0, 0.5, 1.0):
        ax.text(len(dims) + 0.04, u, fmt(vmin + u * span), fontsize=8, va="center",
                bbox={"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 1})
    labels = [d.name + (" (log)" if _is_log(d) else "") for d in dims] + [view.metric]
    ax.set_xticks(xs, labels)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(dims) + 0.5)
    ax.set_ylim(-0.06, 1.06)
    ax.set_title(f"{view.name}: parallel coordinates of {len(trials)} complete trials")
    if best is not None:
        ax.legend(loc="upper left", fontsize=8, bbox_to_anchor=(0, -0.08))
    from matplotlib.cm import ScalarMappable

    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=view.metric)
    return fig


def generation_stats(study: Any) -> list[dict[str, float]]:
    """Per-generation max and mean of the score from the genetic strategy's stored stats.

    Accepts ``{"generations": [...]}`` or a bare list of records with ``max``/``mean``
    (or DEAP's ``avg``) keys; returns [] when the study has none.
    """
    view = as_view(study)
    stats = view.attrs.get("strategy_stats")
    records: Any = None
    if isinstance(stats, dict):
        for key in ("generations", "logbook", "history"):
            if isinstance(stats.get(key), list):
                records = stats[key]
                break
    elif isinstance(stats, list):
        records = stats
    out = []
    for i, r in enumerate(records or []):
        if not isinstance(r, dict):
            continue
        top = r.get("max", r.get("best"))
        mean = r.get("mean", r.get("avg"))
        if not isinstance(top, int | float) or not isinstance(mean, int | float):
            continue
        row = {"generation": float(r.get("generation", r.get("gen", i))), "max": float(top),
               "mean": float(mean)}
        if isinstance(r.get("min"), int | float):
            row["min"] = float(r["min"])
        if isinstance(r.get("evaluations"), int | float):
            row["evaluations"] = float(r["evaluations"])
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


def _varying(view: StudyView) -> list[str]:
    names = []
    trials = _complete(view)
    for name in view.param_names:
        seen = {repr(t.params.get(name)) for t in trials}
        if len(seen) > 1:
            names.append(name)
    return names


def heatmap_figure(study: Any) -> Any:
    """For a grid over two parameters: the score of every cell, annotated."""
    view = as_view(study)
    names = _varying(view)
    trials = _complete(view)
    if len(names) != 2 or not trials:
        return None
    px, py = names
    space = view.space

    def ordered(name: str) -> list[Any]:
        vals = {repr(t.params[name]): t.params[name] for t in trials if name in t.params}
        items = list(vals.values())
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=str)

    xv, yv = ordered(px), ordered(py)
    if not (1 < len(xv) <= MAX_HEATMAP_VALUES and 1 < len(yv) <= MAX_HEATMAP_VALUES):
        return None
    import numpy as np

    sums = np.zeros((len(yv), len(xv)))
    counts = np.zeros((len(yv), len(xv)))
    xi = {repr(v): i for i, v in enumerate(xv)}
    yi = {repr(v): i for i, v in enumerate(yv)}
    for t in trials:
        if px in t.params and py in t.params:
            i, j = yi[repr(t.params[py])], xi[repr(t.params[px])]
            sums[i, j] += t.value
            counts[i, j] += 1
    with np.errstate(invalid="ignore"):
        grid = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    fig = _figure(max(5.0, 0.9 * len(xv) + 3), max(4.0, 0.6 * len(yv) + 2.5))
    ax = fig.add_subplot()
    cmap = "viridis" if view.direction == "maximize" else "viridis_r"
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto", origin="lower")
    ax.set_xticks(range(len(xv)), [fmt(v) for v in xv])
    ax.set_yticks(range(len(yv)), [fmt(v) for v in yv])

    def label(name: str) -> str:
        return name + (" (log grid)" if space is not None and name in space
                       and _is_log(space[name]) else "")

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
    ax.set_title(f"{view.name}: {view.metric} over the grid")
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


def study_plots(study: Any, directory: str | Path, with_curve: bool = True) -> list[Path]:
    """Every plot that applies to one study, written into ``directory``."""
    view = as_view(study)
    directory = Path(directory)
    made = []
    if with_curve:
        made.append(best_so_far_plot([view], directory / "best_so_far.png"))
    made.append(params_plot(view, directory / "params.png"))
    made.append(parallel_plot(view, directory / "parallel.png"))
    made.append(generations_plot(view, directory / "generations.png"))
    made.append(heatmap_plot(view, directory / "heatmap.png"))
    return [p for p in made if p is not None]


# the HTML report ---------------------------------------------------------------------
_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f0f0f0}
tr.best td{background:#e8f6e8}img{max-width:100%;border:1px solid #eee;margin:.5em 0}
figure{margin:1.5em 0}figcaption{color:#555}"""


def html_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
               highlight: int | None = None) -> str:
    """An HTML table; row ``highlight`` (an index) is marked as the best."""
    from html import escape

    columns = list(columns or (rows[0].keys() if rows else []))
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for i, r in enumerate(rows):
        cls = ' class="best"' if i == highlight else ""
        cells = "".join(f"<td>{escape(fmt(r.get(c)))}</td>" for c in columns)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_html(path: str | Path, *, title: str,
               tables: Sequence[tuple[str, Sequence[Mapping[str, Any]], Sequence[str] | None]],
               images: Sequence[Path] = (), note: str = "",
               highlight: Mapping[str, int] | None = None) -> Path:
    """One self-contained file: tables and PNGs embedded as base64, readable offline."""
    import base64
    from html import escape

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1>"]
    if note:
        parts.append(f"<p>{escape(note)}</p>")
    for heading, rows, columns in tables:
        parts.append(f"<h2>{escape(heading)}</h2>")
        parts.append(html_table(rows, columns, (highlight or {}).get(heading)))
    for image in images:
        data = base64.b64encode(Path(image).read_bytes()).decode("ascii")
        caption = escape(f"{Path(image).parent.name}/{Path(image).name}")
        parts.append(f"<figure><img alt='{caption}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{caption}</figcaption></figure>")
    parts.append("</body></html>\n")
    path = Path(path)
    try:
        path.write_text("".join(parts), encoding="utf-8")
    except OSError as exc:
        raise HPOError(f"cannot write {path}: {exc}") from None
    return path


def study_html(study: Any, path: str | Path, images: Sequence[Path] | None = None) -> Path:
    """The HTML report of one study: its summary, every trial, and its plots (rendered
    here unless ``images`` are given)."""
    import tempfile

    view = as_view(study)
    row = summary(view)
    best = view.best_trial
    order = sorted(view.trials, key=lambda t: t.number)
    index = None if best is None else [t.number for t in order].index(best.number)
    note = (f"strategy {view.strategy}, {view.direction} {view.metric}; "
            f"best: {fmt(row['best_validation'])} ({fmt(row['best_config'])})")
    with tempfile.TemporaryDirectory() as tmp:
        if images is None:
            images = study_plots(view, tmp, with_curve=True)
        return write_html(path, title=f"Study {view.name}", note=note,
                          tables=[("Summary", [row], SUMMARY_COLUMNS),
                                  ("Trials", trial_rows(view), None)],
                          images=images, highlight={"Trials": index} if index is not None
                          else None)
