"""Markdown, CSV and JSON of studies, and the files of ``--output DIR``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import HPOError
from .format import fmt
from .model import StudyView, as_view
from .stats import (
    aggregate,
    common_hypervolume,
    pareto_front_json,
    summary,
    summary_columns,
    trial_rows,
)


def _cell(value: Any) -> str:
    return fmt(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured markdown table."""
    columns = list(columns or (rows[0].keys() if rows else []))
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str)
    return value


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV with full precision; dict cells (configurations) are JSON."""
    columns = list(columns or (rows[0].keys() if rows else []))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_csv_value(r.get(c)) for c in columns])
    return buf.getvalue()


def to_json(obj: Any) -> str:
    """JSON with NaN/inf as strings, like storage."""
    from ..study.storage import dumps

    return json.dumps(json.loads(dumps(obj)), indent=2)


def study_report(study: Any, importances: bool = True) -> dict[str, Any]:
    """Everything about one study as JSON-able data: summary, setup, importances, trials."""
    view = as_view(study)
    out = summary(view)
    out["storage"] = view.storage_path
    out["setup"] = view.setup()
    if importances:
        from .importance import importances as compute

        out["importances"] = compute(view)
    if view.multi_objective:
        from .stats import REFERENCE_RULE

        out["pareto_front"] = pareto_front_json(view)
        out["reference_rule"] = REFERENCE_RULE
    elif view.constrained:
        out["pareto_front"] = pareto_front_json(view)  # the best feasible trial(s)
    out["trials_table"] = trial_rows(view)
    if "strategy_stats" in view.attrs:
        out["strategy_stats"] = view.attrs["strategy_stats"]
    return out


def _mkdir(directory: str | Path) -> Path:
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HPOError(f"cannot create --output directory {directory}: {exc}") from None
    return directory


def write_study_files(study: Any, directory: str | Path, plots: bool = True) -> list[Path]:
    """trials.csv, study.json and the study's plots into ``directory``."""
    view = as_view(study)
    directory = _mkdir(directory)
    written = []
    path = directory / "trials.csv"
    path.write_text(to_csv(trial_rows(view)))
    written.append(path)
    path = directory / "study.json"
    path.write_text(to_json(study_report(view)))
    written.append(path)
    if plots:
        from .figures import study_plots

        written.extend(study_plots(view, directory))
    return written


def comparison_markdown(rows: Sequence[Mapping[str, Any]],
                        agg: Sequence[Mapping[str, Any]] | None = None) -> str:
    metric = rows[0].get("metric", "value") if rows else "value"
    if rows and rows[0].get("decided_by") == "hypervolume":
        from .stats import verdict_lines

        text = "Studies with several objectives: " + " ".join(verdict_lines(rows)) + "\n\n"
    else:
        text = f"Scores are {metric}; best_validation is the best trial's validation score.\n\n"
    if agg is not None:
        text += ("### Over seeds (median, min, max)\n\n"
                 + to_markdown(agg, summary_columns(agg, repeated=True)) + "\n")
        text += "### Every run\n\n"
    return text + to_markdown(rows, summary_columns(rows))


def write_comparison(rows: Sequence[Mapping[str, Any]], views: Sequence[StudyView],
                     directory: str | Path, repeats: int = 1) -> list[Path]:
    """summary.md/.csv/.json, best-so-far plot, one folder per study and report.html."""
    from .figures import best_so_far_plot
    from .html import comparison_html

    directory = _mkdir(directory)
    common_hypervolume(rows, views)  # several objectives: one reference point for all
    agg = aggregate(rows) if repeats > 1 else None
    written = []
    (directory / "summary.md").write_text(comparison_markdown(rows, agg))
    (directory / "summary.csv").write_text(to_csv(rows, summary_columns(rows)))
    payload: dict[str, Any] = {"runs": list(rows)}
    if agg is not None:
        payload["by_strategy"] = agg
        (directory / "by_strategy.csv").write_text(to_csv(agg, summary_columns(agg, True)))
        written.append(directory / "by_strategy.csv")
    (directory / "summary.json").write_text(to_json(payload))
    written += [directory / "summary.md", directory / "summary.csv", directory / "summary.json"]
    if rows and rows[0].get("decided_by") == "hypervolume":
        from .figures import hypervolume_plot

        curve = hypervolume_plot(views, directory / "hypervolume.png")
    else:
        curve = best_so_far_plot(views, directory / "best_so_far.png")
    if curve is not None:
        written.append(curve)
    for view in views:
        written += write_study_files(view, directory / view.name)
    written.append(comparison_html(views, directory / "report.html", rows=rows, agg=agg))
    return written


def write_study_output(study: Any, directory: str | Path) -> list[Path]:
    """``hpo-run --output DIR`` for one study: trials.csv, study.json, plots, report.html."""
    from .html import study_html

    view = as_view(study)
    directory = _mkdir(directory)
    written = write_study_files(view, directory)
    row = summary(view)
    (directory / "summary.md").write_text(to_markdown([row], summary_columns([row])))
    written.append(directory / "summary.md")
    written.append(study_html(view, directory / "report.html"))
    return written
