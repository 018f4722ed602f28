"""The HTML report: one self-contained file (tables and figures embedded), readable offline.

Figures are the interactive Plotly figures of :mod:`.interactive` (the dashboard's own),
with Plotly's JavaScript inlined from the installed ``plotly`` package; where plotly is
not installed the report embeds the PNGs of :mod:`.figures` instead.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from ..errors import HPOError
from .format import fmt, header
from .model import StudyView, as_view
from .stats import (
    REFERENCE_RULE,
    common_hypervolume,
    pareto_rows,
    summary,
    summary_columns,
    trial_rows,
    trials_word,
    verdict_lines,
    winner,
)

CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f0f0f0}
tr.best td{background:#e8f6e8}tr.infeasible td{color:#999}img{max-width:100%;border:1px solid #eee;margin:.5em 0}
figure{margin:1.5em 0}figcaption{color:#555}.note{color:#444}
dl.setup{display:grid;grid-template-columns:max-content auto;gap:2px 12px}
dl.setup dt{color:#555}dl.setup dd{margin:0}section.study{border-top:2px solid #ddd}"""


#: a study's trial table shows at most this many rows (the best, or the Pareto front's
#: first ones, and the last trials); the page says how to get every one
TABLE_ROWS = 500


def shown_numbers(numbers: Sequence[int], marked: set[int], limit: int | None = None
                  ) -> tuple[list[int], str]:
    """At most ``limit`` (default TABLE_ROWS; 0: all) of a study's trial numbers (in
    order): those in ``marked`` (the best, the front; at most a fifth of ``limit``),
    then the last ones; with a line saying what was left out ("" when nothing was)."""
    limit = TABLE_ROWS if limit is None else limit
    if limit <= 0 or len(numbers) <= limit:
        return list(numbers), ""
    first = [n for n in numbers if n in marked][:max(1, limit // 5)]
    firsts = set(first)
    last = [n for n in numbers if n not in firsts][-(limit - len(first)):]
    keep = firsts | set(last)
    marks = "the Pareto front's first" if len(marked) > 1 else "the best"
    what = f"{marks} {len(first)} and " if first else ""
    return ([n for n in numbers if n in keep],
            f"{len(keep):,} of {len(numbers):,} trials shown: {what}the last {len(last):,}")


def shown_rows(rows: Sequence[Mapping[str, Any]], marked: set[int], limit: int | None = None
               ) -> tuple[list[Mapping[str, Any]], str]:
    """:func:`shown_numbers` over rows that have a ``number``: the rows kept, the line."""
    keep, line = shown_numbers([r["number"] for r in rows], marked, limit)
    kept = set(keep)
    return [r for r in rows if r["number"] in kept], line


def html_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
               highlight: int | set[int] | None = None, table_id: str | None = None) -> str:
    """An HTML table with readable headers; row ``highlight`` (an index, or a set of
    them: a Pareto front) is marked best, a row whose ``feasible`` is False infeasible."""
    columns = list(columns or (rows[0].keys() if rows else []))
    head = "".join(f"<th>{escape(header(c))}</th>" for c in columns)
    marked = highlight if isinstance(highlight, set) else {highlight}
    body = []
    for i, r in enumerate(rows):
        cls = ' class="best"' if i in marked else (
            ' class="infeasible"' if r.get("feasible") is False else "")
        cells = "".join(f"<td>{escape(fmt(r.get(c)))}</td>" for c in columns)
        body.append(f"<tr{cls}>{cells}</tr>")
    ident = f" id='{escape(table_id)}'" if table_id else ""
    return (f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}"
            f"</tbody></table>")


def setup_list(view: StudyView) -> str:
    items = "".join(f"<dt>{escape(header(k))}</dt><dd>{escape(fmt(v))}</dd>"
                    for k, v in view.setup().items())
    return f"<dl class='setup'>{items}</dl>"


def importance_table(view: StudyView) -> str:
    from .importance import importances

    data = importances(view)
    if not data["importances"]:
        return f"<p class='note'>Parameter importances: {escape(data['note'])}</p>"
    rows = [{"parameter": k, "importance": v} for k, v in data["importances"].items()]
    return (f"<h3>Parameter importances</h3><p class='note'>{escape(data['note'])}</p>"
            + html_table(rows, ["parameter", "importance"]))


#: where each figure's script puts its spec (drawn later by DRAW_JS)
QUEUE_JS = "var hpoFigures=[];function hpoFigure(id,s){hpoFigures.push([id,s]);}"
#: draws the queued figures in page order, one per animation frame
DRAW_JS = ("(function(){var i=0;function next(){if(i>=hpoFigures.length)return;"
           "var f=hpoFigures[i++];Plotly.newPlot(f[0],f[1].data,f[1].layout,"
           "{responsive:true,displaylogo:false});"
           "requestAnimationFrame(function(){setTimeout(next,0);});}next();})();")


class Figures:
    """Figures of a report: Plotly divs drawn by the bundled plotly.js; embedded PNGs
    (matplotlib) where an install lacks it."""

    def __init__(self) -> None:
        try:
            from .interactive import plotly_js

            self.script: str | None = plotly_js()
        except HPOError:
            self.script = None
        self.count = 0

    @property
    def interactive(self) -> bool:
        return self.script is not None

    def head(self) -> str:
        """Before the body: the queue each figure's script puts its spec in."""
        return f"<script>{QUEUE_JS}</script>" if self.script else ""

    def tail(self) -> str:
        """After the body: plotly.js, then the figures drawn one per frame, so the tables
        show while it compiles and the first chart without waiting for every chart."""
        return f"<script>{self.script}</script><script>{DRAW_JS}</script>" if self.script \
            else ""

    def of_study(self, view: StudyView, with_curve: bool = True) -> str:
        if self.interactive:
            from .interactive import study_figures

            figs = study_figures(view)
            if not with_curve:
                figs.pop("best_so_far", None)
                figs.pop("hypervolume", None)
            return "".join(self.plotly(k, f) for k, f in figs.items())
        import tempfile

        from .figures import study_plots

        with tempfile.TemporaryDirectory() as tmp:
            return "".join(self.png(p, f"{view.name}: {p.stem.replace('_', ' ')}")
                           for p in study_plots(view, tmp, with_curve=with_curve))

    def hypervolume(self, views: Sequence[StudyView]) -> str:
        if self.interactive:
            from .interactive import hypervolume_spec

            spec = hypervolume_spec(views)
            return "" if spec is None else self.plotly("hypervolume", spec)
        import tempfile

        from .figures import hypervolume_plot

        with tempfile.TemporaryDirectory() as tmp:
            path = hypervolume_plot(views, Path(tmp) / "hypervolume.png")
            return "" if path is None else self.png(path, "hypervolume")

    def best_so_far(self, views: Sequence[StudyView], by: str = "strategy") -> str:
        if self.interactive:
            from .interactive import best_so_far_spec

            spec = best_so_far_spec(views, by=by)
            return "" if spec is None else self.plotly("best_so_far", spec)
        import tempfile

        from .figures import best_so_far_plot

        with tempfile.TemporaryDirectory() as tmp:
            path = best_so_far_plot(views, Path(tmp) / "best_so_far.png", by=by)
            return "" if path is None else self.png(path, "best so far")

    def plotly(self, kind: str, spec: Mapping[str, Any]) -> str:
        from ..study.storage import dumps

        self.count += 1
        ident = f"fig{self.count}"
        data = dumps(spec).replace("</", "<\\/")
        return (f"<figure class='figure' data-kind='{escape(kind)}'><div id='{ident}'></div>"
                f"<script>(function(s){{hpoFigure('{ident}',s);}})({data});</script></figure>")

    @staticmethod
    def png(path: Path, caption: str) -> str:
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        return (f"<figure><img alt='{escape(caption)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{escape(caption)}</figcaption></figure>")


def page(title: str, body: Sequence[str], figures: Figures) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{CSS}</style>{figures.head()}</head><body><h1>{escape(title)}</h1>"
            + "".join(body) + figures.tail() + "</body></html>\n")


def _write(path: str | Path, text: str) -> Path:
    path = Path(path)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise HPOError(f"cannot write {path}: {exc}") from None
    return path


def study_section(view: StudyView, figures: Figures, heading: str = "h2",
                  with_curve: bool = True, mark: str = "") -> str:
    """One study: setup, summary, importances, figures and every trial (best marked)."""
    row = summary(view)
    best = view.best_trial
    marked = {t.number for t in view.pareto_front} if view.multi_objective else (
        set() if best is None else {best.number})
    keep, left_out = shown_numbers([t.number for t in view.by_number], marked)
    rows = trial_rows(view, keep if left_out else None)
    numbers = [r["number"] for r in rows]
    index: int | set[int] | None = None if best is None else numbers.index(best.number)
    counts = (f"{row['trials']} trials finished, {row['failed']} failed, "
              f"{row['pruned']} pruned, {row['running']} running")
    if "infeasible" in row:
        counts += f"; {row['feasible']} feasible, {row['infeasible']} infeasible"
    if view.multi_objective:
        index = {i for i, n in enumerate(numbers) if n in marked}
        point = ", ".join(f"{n} {fmt(r)}" for n, r in zip(view.objective_names,
                                                          row["reference_point"] or [],
                                                          strict=False))
        headline = (f"<p class='front'>Pareto front: {trials_word(row['pareto_size'])}; "
                    f"hypervolume {escape(fmt(row['hypervolume']))} (reference point "
                    f"{escape(point)}; {escape(REFERENCE_RULE.split(': ', 1)[1])}); "
                    f"{escape(counts)}</p>")
        front = ["<h3>Pareto front</h3>", html_table(pareto_rows(view), table_id="front")]
    else:
        headline = (f"<p>best: {escape(fmt(row['best_validation']))} "
                    f"({escape(fmt(row['best_config']))}), trial "
                    f"{escape(fmt(row['best_trial']))}; {escape(counts)}</p>")
        front = []
    parts = [f"<section class='study' id='study-{escape(view.name)}'>"
             f"<{heading}>{escape(view.name)}{escape(mark)}</{heading}>", setup_list(view),
             headline, html_table([row], summary_columns([row])), *front,
             importance_table(view), figures.of_study(view, with_curve=with_curve),
             "<h3>Trials</h3>", _left_out(view, left_out), html_table(rows, highlight=index),
             "</section>"]
    return "".join(parts)


def _left_out(view: StudyView, line: str) -> str:
    if not line:
        return ""
    where = f" --storage {view.storage_path}" if view.storage_path else ""
    return (f"<p class='note rows-left-out'>{escape(line)}; every trial: <code>hpo-run "
            f"report{escape(where)} --study {escape(view.name)} --csv</code> (or "
            "<code>--json</code>)</p>")


def study_html(study: Any, path: str | Path) -> Path:
    """The HTML report of one study: setup, summary, importances, figures, every trial."""
    view = as_view(study)
    figures = Figures()
    goal = ", ".join(f"{d} {n}" for d, n in zip(view.directions, view.objective_names,
                                                 strict=True))
    body = [f"<p class='note'>strategy {escape(view.strategy)}, {escape(goal)}; "
            f"stored in {escape(str(view.storage_path))}</p>",
            study_section(view, figures)]
    return _write(path, page(f"Study {view.name}", body, figures))


def comparison_html(views: Sequence[Any], path: str | Path, *,
                    rows: Sequence[Mapping[str, Any]] | None = None,
                    agg: Sequence[Mapping[str, Any]] | None = None,
                    title: str = "Strategy comparison", by: str = "strategy") -> Path:
    """Several studies: the summary (winner marked), best so far, one section per study."""
    views = [as_view(v) for v in views]
    rows = list(rows) if rows is not None else [summary(v) for v in views]
    common_hypervolume(rows, views)
    figures = Figures()
    top = winner(rows)
    metric = rows[0].get("metric", "value") if rows else "value"
    if rows and rows[0].get("decided_by") == "hypervolume":
        return _write(path, page(title, _mo_comparison(views, rows, agg, figures, top),
                                 figures))
    body = [f"<p class='note'>Scores are {escape(str(metric))}; best validation is the best "
            f"trial's validation score, test the best configuration retrained on all "
            f"training data.</p>"]
    if top is not None:
        lines = verdict_lines(rows)
        body.append(f"<p class='winner'><strong>Winner: {escape(str(rows[top]['study']))}"
                    f"</strong> ({escape(str(rows[top]['strategy']))}, best validation "
                    f"{escape(fmt(rows[top]['best_validation']))}, test "
                    f"{escape(fmt(rows[top].get('test_score')))}): the best validation score "
                    "decides; the test set is scored once, after the search, and never "
                    "chooses.</p>")
        body += [f"<p class='best-test'>{escape(line)}</p>" for line in lines[1:]]
    if agg is not None:
        body += ["<h2>Over seeds (median, min, max)</h2>",
                 html_table(agg, summary_columns(agg, True), highlight=winner(
                     [{"best_validation": a["best_validation_median"],
                       "direction": rows[0].get("direction")} for a in agg]))]
    body += ["<h2>Every run</h2>", html_table(rows, summary_columns(rows), highlight=top),
             figures.best_so_far(views, by=by)]
    for i, view in enumerate(views):
        body.append(study_section(view, figures, with_curve=False,
                                  mark=" (winner)" if i == top else ""))
    return _write(path, page(title, body, figures))


def _mo_comparison(views: Sequence[StudyView], rows: Sequence[Mapping[str, Any]],
                   agg: Sequence[Mapping[str, Any]] | None, figures: Figures,
                   top: int | None) -> list[str]:
    """A comparison of studies with several objectives: ranked by hypervolume against
    one reference point, said so; the hypervolume curves; one section per study."""
    body = [f"<p class='note'>Several objectives: runs are ranked by the hypervolume of "
            f"their feasible Pareto front, all against one reference point ("
            f"{escape(REFERENCE_RULE.split(': ', 1)[1])}, over every run).</p>"]
    body += [f"<p class='winner'>{escape(line)}</p>" for line in verdict_lines(rows)]
    if agg is not None:
        best = max(range(len(agg)), key=lambda i: (agg[i].get("hypervolume_median") or
                                                   float("-inf"), -i))
        body += ["<h2>Over seeds (median, min, max)</h2>",
                 html_table(agg, summary_columns(agg, True), highlight=best)]
    body += ["<h2>Every run</h2>", html_table(rows, summary_columns(rows), highlight=top),
             figures.hypervolume(views)]
    for i, view in enumerate(views):
        body.append(study_section(view, figures, with_curve=False,
                                  mark=" (winner)" if i == top else ""))
    return body
