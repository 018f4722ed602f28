"""Tables and exports (markdown, CSV, JSON) of studies, read from a live Study or storage.

Plots and the HTML report are in :mod:`hpo_framework.plots`.

Reports work from what storage holds, so ``hpo-run report`` can read a finished study
or one another process is still running (SQLite in WAL mode lets readers in).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .display import fmt
from .errors import HPOError, StorageError
from .space import Space
from .trial import Trial, TrialState

SUMMARY_COLUMNS = ["strategy", "seed", "best_validation", "test_score", "best_config", "trials",
                   "failed", "wall_time_s", "study"]
REPEAT_COLUMNS = ["strategy", "runs", "best_validation_median", "best_validation_min",
                  "best_validation_max", "test_score_median", "test_score_min", "test_score_max",
                  "best_config", "trials", "failed", "wall_time_s_median"]


@dataclass
class StudyView:
    """What a report needs of a study: the same attributes a :class:`Study` has."""

    name: str
    direction: str
    config: dict[str, Any]
    trials: list[Trial]
    attrs: dict[str, Any] = field(default_factory=dict)
    storage_path: str | None = None

    @classmethod
    def from_study(cls, study: Any) -> StudyView:
        return cls(study.name, study.direction, dict(study.config), list(study.trials),
                   dict(study.attrs), study.storage.path)

    @property
    def space(self) -> Space | None:
        spec = self.config.get("space")
        try:
            return Space.from_dict(spec) if spec else None
        except HPOError:
            return None

    @property
    def strategy(self) -> str:
        return str(self.config.get("strategy", "?"))

    @property
    def metric(self) -> str:
        return str(self.config.get("metric") or "value")

    @property
    def seed(self) -> int | None:
        return self.config.get("seed")

    @property
    def complete_trials(self) -> list[Trial]:
        return [t for t in self.trials if t.state is TrialState.COMPLETE and t.value is not None]

    @property
    def best_trial(self) -> Trial | None:
        done = self.complete_trials
        if not done:
            return None
        sign = 1.0 if self.direction == "minimize" else -1.0
        return min(done, key=lambda t: (sign * t.value, t.number))

    @property
    def param_names(self) -> list[str]:
        space = self.space
        if space is not None:
            return space.names
        names: list[str] = []
        for t in self.trials:
            names.extend(k for k in t.params if k not in names)
        return names


def open_storage(path: str | Path) -> Any:
    """Open an existing storage file for reading; never create one by mistake."""
    from .storage import Storage

    if str(path) != ":memory:" and not Path(path).is_file():
        raise StorageError(f"no storage file {path}; give --storage PATH of an hpo database")
    return Storage(path)


def load_study(storage: Any, name: str) -> StudyView:
    """A study by name from a Storage (or a path to one), with a did-you-mean on typos."""
    if not hasattr(storage, "get_study"):
        storage = open_storage(storage)
    record = storage.get_study(name)
    if record is None:
        names = [r.name for r in storage.list_studies()]
        if not names:
            raise StorageError(f"{storage.path} holds no study yet")
        import difflib

        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        listing = ", ".join(names) if len(names) <= 8 else (
            f"{len(names)} of them; list them with: hpo-run report --storage {storage.path}")
        raise StorageError(f"no study '{name}' in {storage.path}{hint} (studies: {listing})")
    trials = storage.load_trials(record.study_id, record.direction)
    return StudyView(record.name, record.direction, record.config, trials,
                     storage.get_study_attrs(record.study_id), storage.path)


def as_view(study: Any) -> StudyView:
    return study if isinstance(study, StudyView) else StudyView.from_study(study)


# values -----------------------------------------------------------------------------
def _time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def wall_time(view: StudyView) -> float | None:
    """Seconds the study took: measured by the comparison, else first start to last end."""
    measured = view.attrs.get("wall_time_s")
    if isinstance(measured, int | float):
        return float(measured)
    starts = [s for s in (_time(t.datetime_start) for t in view.trials) if s]
    ends = [e for e in (_time(t.datetime_complete) for t in view.trials) if e]
    if not starts or not ends:
        return None
    return max(0.0, (max(ends) - min(starts)).total_seconds())


def best_so_far(view: StudyView) -> list[float | None]:
    """The best value after each finished trial, in trial-number order (None before any)."""
    best: float | None = None
    out: list[float | None] = []
    better = (lambda a, b: a < b) if view.direction == "minimize" else (lambda a, b: a > b)
    for t in sorted(view.trials, key=lambda t: t.number):
        if not t.state.finished:
            continue
        if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value):
            if best is None or better(t.value, best):
                best = t.value
        out.append(best)
    return out


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
        "wall_time_s": wall_time(view),
    }


def trial_rows(study: Any) -> list[dict[str, Any]]:
    """Every trial as a flat row: number, each parameter, value, state, duration, error."""
    view = as_view(study)
    rows = []
    for t in sorted(view.trials, key=lambda t: t.number):
        row: dict[str, Any] = {"number": t.number}
        for name in view.param_names:
            row[name] = t.params.get(name)
        row[view.metric] = t.value
        row["state"] = t.state.value
        row["duration_s"] = None if t.duration is None else round(t.duration, 3)
        row["error"] = t.error
        rows.append(row)
    return rows


def _stats(values: Iterable[float | None]) -> tuple[float | None, float | None, float | None]:
    xs = sorted(v for v in values if isinstance(v, int | float) and math.isfinite(v))
    if not xs:
        return None, None, None
    n = len(xs)
    median = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    return median, xs[0], xs[-1]


def aggregate(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per strategy over seeds: median, min and max of the best validation and test scores."""
    out = []
    order: list[str] = []
    for r in rows:
        if r["strategy"] not in order:
            order.append(r["strategy"])
    for name in order:
        runs = [r for r in rows if r["strategy"] == name]
        maximize = runs[0].get("direction", "maximize") == "maximize"
        scored = [r for r in runs if r.get("best_validation") is not None]
        top = None
        if scored:
            pick = max if maximize else min
            top = pick(scored, key=lambda r: r["best_validation"])
        val = _stats(r.get("best_validation") for r in runs)
        test = _stats(r.get("test_score") for r in runs)
        out.append({
            "strategy": name,
            "runs": len(runs),
            "best_validation_median": val[0], "best_validation_min": val[1],
            "best_validation_max": val[2],
            "test_score_median": test[0], "test_score_min": test[1], "test_score_max": test[2],
            "best_config": None if top is None else top["best_config"],
            "trials": sum(r["trials"] for r in runs),
            "failed": sum(r["failed"] for r in runs),
            "wall_time_s_median": _stats(r.get("wall_time_s") for r in runs)[0],
        })
    return out


# formats ----------------------------------------------------------------------------
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
    from .storage import dumps

    return json.dumps(json.loads(dumps(obj)), indent=2)


def study_report(study: Any) -> dict[str, Any]:
    """Everything about one study as JSON-able data: summary, trials, strategy stats."""
    view = as_view(study)
    out = summary(view)
    out["storage"] = view.storage_path
    out["trials_table"] = trial_rows(view)
    if "strategy_stats" in view.attrs:
        out["strategy_stats"] = view.attrs["strategy_stats"]
    return out


def write_study_files(study: Any, directory: str | Path, plots: bool = True) -> list[Path]:
    """trials.csv, summary.json and the study's plots into ``directory``."""
    view = as_view(study)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    path = directory / "trials.csv"
    path.write_text(to_csv(trial_rows(view)))
    written.append(path)
    path = directory / "study.json"
    path.write_text(to_json(study_report(view)))
    written.append(path)
    if plots:
        from .plots import study_plots

        written.extend(study_plots(view, directory))
    return written


def write_comparison(rows: Sequence[Mapping[str, Any]], views: Sequence[StudyView],
                     directory: str | Path, repeats: int = 1) -> list[Path]:
    """summary.md/.csv/.json, best-so-far plot, one folder per study and report.html."""
    from .plots import best_so_far_plot, write_html

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HPOError(f"cannot create --output directory {directory}: {exc}") from None
    agg = aggregate(rows) if repeats > 1 else None
    written = []
    md = comparison_markdown(rows, agg)
    (directory / "summary.md").write_text(md)
    (directory / "summary.csv").write_text(to_csv(rows, SUMMARY_COLUMNS))
    payload: dict[str, Any] = {"runs": list(rows)}
    if agg is not None:
        payload["by_strategy"] = agg
        (directory / "by_strategy.csv").write_text(to_csv(agg, REPEAT_COLUMNS))
        written.append(directory / "by_strategy.csv")
    (directory / "summary.json").write_text(to_json(payload))
    written += [directory / "summary.md", directory / "summary.csv", directory / "summary.json"]
    images = []
    curve = best_so_far_plot(views, directory / "best_so_far.png")
    if curve is not None:
        images.append(curve)
    per_study: dict[str, list[Path]] = {}
    for view in views:
        files = write_study_files(view, directory / view.name)
        per_study[view.name] = [p for p in files if p.suffix == ".png"]
        written += files
    html = directory / "report.html"
    tables = [("Every run", rows, SUMMARY_COLUMNS)]
    if agg is not None:
        tables.insert(0, ("Over seeds (median, min, max)", agg, REPEAT_COLUMNS))
    write_html(html, title="Strategy comparison", tables=tables,
               images=images + [p for ps in per_study.values() for p in ps],
               note=f"Scores are {rows[0].get('metric', 'value') if rows else 'value'}.")
    written += images + [html]
    return written


def comparison_markdown(rows: Sequence[Mapping[str, Any]],
                        agg: Sequence[Mapping[str, Any]] | None = None) -> str:
    metric = rows[0].get("metric", "value") if rows else "value"
    text = f"Scores are {metric}; best_validation is the best trial's validation score.\n\n"
    if agg is not None:
        text += "### Over seeds (median, min, max)\n\n" + to_markdown(agg, REPEAT_COLUMNS) + "\n"
        text += "### Every run\n\n"
    return text + to_markdown(rows, SUMMARY_COLUMNS)


# terminal ---------------------------------------------------------------------------
_HEADERS = {
    "best_validation": "best val", "test_score": "test",
    "best_config": "best configuration", "wall_time_s": "wall s",
    "best_validation_median": "best val", "test_score_median": "test",
    "wall_time_s_median": "wall s",
}


def _range(row: Mapping[str, Any], key: str) -> str:
    med, lo, hi = row.get(f"{key}_median"), row.get(f"{key}_min"), row.get(f"{key}_max")
    return f"{fmt(med)} [{fmt(lo)}, {fmt(hi)}]" if med is not None else "-"


def summary_table(rows: Sequence[Mapping[str, Any]], title: str = "") -> Any:
    """A rich table of summary rows (one per run) or aggregated rows (one per strategy)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title) if title else None)
    aggregated = bool(rows) and "runs" in rows[0]
    if aggregated:
        cols = ["strategy", "runs", "best_validation_median", "test_score_median",
                "best_config", "trials", "failed", "wall_time_s_median"]
    else:
        cols = ["strategy", "seed", "best_validation", "test_score", "best_config", "trials",
                "failed", "wall_time_s"]
    for c in cols:
        if c == "best_config":
            table.add_column(_HEADERS[c], overflow="fold", ratio=1)
        else:
            table.add_column(_HEADERS.get(c, c), no_wrap=True)
    for r in rows:
        cells = []
        for c in cols:
            if aggregated and c.endswith("_median") and not c.startswith("wall"):
                cells.append(_range(r, c[: -len("_median")]))
            elif c.startswith("wall"):
                cells.append("-" if r.get(c) is None else f"{r[c]:.1f}")
            else:
                cells.append(fmt(r.get(c)))
        table.add_row(*map(escape, cells))
    return table


def cli_report(storage_path: str, studies: Sequence[str], as_json: bool, as_csv: bool,
               html: str | None, plots: str | None) -> None:
    """What ``hpo-run report`` does; several studies give a comparison."""
    import click

    storage = open_storage(storage_path)
    names = [n.strip() for s in studies for n in s.split(",") if n.strip()]
    if not names:
        names = [r.name for r in storage.list_studies()]
        if not names:
            raise StorageError(f"{storage_path} holds no study yet")
        if len(names) > 1 and not (html or plots or as_json or as_csv):
            from .display import make_console

            rows = [summary(load_study(storage, n)) for n in names]
            make_console().print(_studies_table(rows, storage_path))
            click.echo("pick one with --study NAME (or several: --study a,b)")
            return
    views = [load_study(storage, n) for n in names]
    if len(views) == 1:
        _report_one(views[0], as_json, as_csv, html, plots)
    else:
        _report_many(views, as_json, as_csv, html, plots)


def _studies_table(rows: Sequence[Mapping[str, Any]], storage_path: str) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"studies in {storage_path}")
    for c in ("study", "strategy", "metric", "best", "trials", "failed", "running"):
        table.add_column(c)
    for r in rows:
        table.add_row(escape(r["study"]), escape(r["strategy"]), r["metric"],
                      fmt(r["best_validation"]), str(r["trials"]), str(r["failed"]),
                      str(r["running"]))
    return table


def _report_one(view: StudyView, as_json: bool, as_csv: bool, html: str | None,
                plots: str | None) -> None:
    import click

    written: list[Path] = []
    if plots:
        from .plots import study_plots

        written += study_plots(view, plots)
    if html:
        from .plots import study_html

        written.append(study_html(view, html))
    if as_json:
        click.echo(to_json(study_report(view)))
        return
    if as_csv:
        click.echo(to_csv(trial_rows(view)), nl=False)
        return
    from .display import make_console, trials_table

    console = make_console()
    console.print(trials_table(view, view.metric))
    row = summary(view)
    if row["best_trial"] is None:
        console.print("no trial has completed yet", style="red")
    else:
        console.print(f"best trial {row['best_trial']}: validation {view.metric} "
                      f"{fmt(row['best_validation'])}", highlight=False)
        console.print(f"best configuration: {fmt(row['best_config'])}", highlight=False)
    if row["test_score"] is not None:
        console.print(f"test {view.metric} of the best configuration retrained: "
                      f"{fmt(row['test_score'])}", highlight=False)
    state = f"{row['running']} still running or queued" if row["running"] else "finished"
    console.print(f"strategy {view.strategy}, {row['trials']} trials ({row['failed']} failed), "
                  f"{state}", highlight=False)
    for path in written:
        console.print(f"wrote {path}", highlight=False)
    if plots and not any(p.suffix == ".png" for p in written):
        console.print("no plots: no trial has completed yet", highlight=False)


def _report_many(views: Sequence[StudyView], as_json: bool, as_csv: bool, html: str | None,
                 plots: str | None) -> None:
    import click

    rows = [summary(v) for v in views]
    written: list[Path] = []
    if plots:
        from .plots import best_so_far_plot, study_plots

        curve = best_so_far_plot(views, Path(plots) / "best_so_far.png", by="study")
        written += [curve] if curve else []
        for v in views:
            written += study_plots(v, Path(plots) / v.name)
    if html:
        import tempfile

        from .plots import best_so_far_plot, study_plots, write_html

        with tempfile.TemporaryDirectory() as tmp:
            images = [best_so_far_plot(views, Path(tmp) / "best_so_far.png", by="study")]
            for v in views:
                images += study_plots(v, Path(tmp) / v.name, with_curve=False)
            written.append(write_html(html, title="Studies compared",
                                      tables=[("Every run", rows, SUMMARY_COLUMNS)],
                                      images=[i for i in images if i is not None]))
    if as_json:
        click.echo(to_json({"runs": rows}))
        return
    if as_csv:
        click.echo(to_csv(rows, SUMMARY_COLUMNS), nl=False)
        return
    from .display import make_console

    console = make_console()
    console.print(summary_table(rows, title="studies compared"))
    for path in written:
        console.print(f"wrote {path}", highlight=False)


def write_study_output(study: Any, directory: str | Path, quiet: bool = False) -> list[Path]:
    """``hpo-run --output DIR`` for one study: trials.csv, study.json, plots, report.html."""
    view = as_view(study)
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HPOError(f"cannot create --output directory {directory}: {exc}") from None
    written = write_study_files(view, directory)
    (directory / "summary.md").write_text(to_markdown([summary(view)], SUMMARY_COLUMNS))
    written.append(directory / "summary.md")
    from .plots import study_html

    pngs = [p for p in written if p.suffix == ".png"]
    written.append(study_html(view, directory / "report.html", images=pngs))
    if not quiet:
        import click

        click.echo(f"wrote {len(written)} files to {directory}", err=True)
    return written
