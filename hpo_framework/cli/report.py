"""``hpo-run report`` and the comparison's terminal output: the click and rich side of
:mod:`hpo_framework.results`. Library errors become one-line messages here."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from ..errors import HPOError, StorageError
from ..results.format import fmt

_HEADERS = {
    "best_validation": "best val", "test_score": "test",
    "best_config": "best configuration", "wall_time_s": "wall s",
    "best_validation_median": "best val", "test_score_median": "test",
    "wall_time_s_median": "wall s", "hypervolume": "hypervolume",
    "hypervolume_median": "hypervolume", "pareto_size": "front",
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
    if bool(rows) and rows[0].get("decided_by") == "hypervolume":  # several objectives
        cols = (["strategy", "runs", "hypervolume_median", "trials", "failed", "pruned",
                 "wall_time_s_median"] if aggregated else
                ["strategy", "seed", "hypervolume", "pareto_size", "trials", "failed",
                 "pruned", "wall_time_s"])
        if not aggregated and any("infeasible" in r for r in rows):
            cols[5:5] = ["feasible", "infeasible"]
    elif aggregated:
        cols = ["strategy", "runs", "best_validation_median", "test_score_median",
                "best_config", "trials", "failed", "pruned", "wall_time_s_median"]
    else:
        cols = ["strategy", "seed", "best_validation", "test_score", "best_config", "trials",
                "failed", "pruned", "wall_time_s"]
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


def importance_table(result: Mapping[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title="parameter importances")
    table.add_column("parameter")
    table.add_column("importance", justify="right")
    for name, share in result["importances"].items():
        table.add_row(name, f"{share:.3f}")
    return table


def _studies_table(rows: Sequence[Mapping[str, Any]], storage_path: str) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"studies in {storage_path}")
    for c in ("study", "strategy", "metric", "best", "trials", "failed", "pruned", "running"):
        table.add_column(c)
    for r in rows:
        best, metric = r["best_validation"], r["metric"]
        if r.get("decided_by") == "hypervolume":
            best, metric = f"front of {r['pareto_size']}", ", ".join(r["objectives"])
        table.add_row(escape(r["study"]), escape(r["strategy"]), escape(metric),
                      fmt(best), str(r["trials"]), str(r["failed"]),
                      str(r["pruned"]), str(r["running"]))
    return table


#: ``report``'s trial table shows the best trial and the last this many (``--rows``)
DEFAULT_ROWS = 50


def cli_report(storage_path: str, studies: Sequence[str], as_json: bool, as_csv: bool,
               html: str | None, plots: str | None, rows: int = DEFAULT_ROWS) -> None:
    """What ``hpo-run report`` does; several studies give a comparison."""
    from ..results.model import load_study, open_storage
    from ..results.stats import summary

    storage = open_storage(storage_path)
    # a --study that names a stored study is that study, commas and all ("a,b");
    # otherwise a comma list names several
    names = [n for s in studies
             for n in ([s] if storage.get_study(s) is not None
                       else [part.strip() for part in s.split(",") if part.strip()])]
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
        _report_one(views[0], as_json, as_csv, html, plots, rows)
    else:
        _report_many(views, as_json, as_csv, html, plots)


def _report_one(view: Any, as_json: bool, as_csv: bool, html: str | None,
                plots: str | None, rows: int = DEFAULT_ROWS) -> None:
    from ..results.exports import study_report, to_csv, to_json
    from ..results.stats import summary, trial_rows

    written: list[Path] = []
    if plots:
        from ..results.figures import study_plots

        written += study_plots(view, plots)
    if html:
        from ..results.html import study_html

        written.append(study_html(view, html))
    if as_json:
        click.echo(to_json(study_report(view)))
        return
    if as_csv:
        click.echo(to_csv(trial_rows(view)), nl=False)
        return
    from ..results.importance import importances
    from .display import make_console, trials_table

    console = make_console()
    if view.multi_objective or view.constrained or 0 < rows < len(view.trials):
        console.print(vector_trials_table(view, rows))
        if 0 < rows < len(view.trials):
            console.print(f"all {len(view.trials):,} trials: --rows 0 (or --csv, --json, "
                          "--html FILE)", highlight=False)
    else:
        console.print(trials_table(view, view.metric))
    row = summary(view)
    if view.multi_objective:
        _print_front(console, view, row)
    elif row["best_trial"] is None:
        console.print("no trial has completed yet", style="red")
    else:
        console.print(f"best trial {row['best_trial']}: validation {view.metric} "
                      f"{fmt(row['best_validation'])}", highlight=False)
        console.print(f"best configuration: {fmt(row['best_config'])}", highlight=False)
    if row["test_score"] is not None:
        console.print(f"test {view.metric} of the best configuration retrained: "
                      f"{fmt(row['test_score'])}", highlight=False)
    active = row["running"] - row["paused"]
    state = ", ".join([*([f"{active} still running or queued"] if active else []),
                       *([f"{row['paused']} paused"] if row["paused"] else [])]) or "finished"
    console.print(f"strategy {view.strategy}, {row['trials']} trials ({row['failed']} failed, "
                  f"{row['pruned']} pruned), "
                  f"{state}", highlight=False)
    if "infeasible" in row:
        console.print(f"constraints: {row['feasible']} complete trials feasible, "
                      f"{row['infeasible']} infeasible (never the best, never on the front)",
                      highlight=False)
    result = importances(view)
    if result["importances"]:
        console.print(importance_table(result))
        console.print(f"importances: {result['note']}", highlight=False)
    else:
        console.print(f"parameter importances: {result['note']}", highlight=False)
    for path in written:
        console.print(f"wrote {path}", highlight=False)
    if plots and not any(p.suffix == ".png" for p in written):
        console.print("no plots: no trial has completed yet", highlight=False)


def _report_many(views: Sequence[Any], as_json: bool, as_csv: bool, html: str | None,
                 plots: str | None) -> None:
    from ..results.exports import to_csv, to_json
    from ..results.stats import (
        common_hypervolume,
        summary,
        summary_columns,
        verdict,
        verdict_lines,
    )

    rows = [summary(v) for v in views]
    common_hypervolume(rows, views)  # several objectives: one reference point for all
    written: list[Path] = []
    if plots:
        from ..results.figures import best_so_far_plot, hypervolume_plot, study_plots

        if rows[0].get("decided_by") == "hypervolume":
            curve = hypervolume_plot(views, Path(plots) / "hypervolume.png")
        else:
            curve = best_so_far_plot(views, Path(plots) / "best_so_far.png", by="study")
        written += [curve] if curve else []
        for v in views:
            written += study_plots(v, Path(plots) / v.name)
    if html:
        from ..results.html import comparison_html

        written.append(comparison_html(views, html, rows=rows, title="Studies compared",
                                       by="study"))
    if as_json:
        click.echo(to_json({"runs": rows, "winner": verdict(rows)}))
        return
    if as_csv:
        click.echo(to_csv(rows, summary_columns(rows)), nl=False)
        return
    from .display import make_console

    console = make_console()
    console.print(summary_table(rows, title="studies compared"))
    for line in verdict_lines(rows):
        console.print(line, highlight=False, soft_wrap=True)  # one line, for grep
    for path in written:
        console.print(f"wrote {path}", highlight=False)


def _constraint_header(view: Any, name: str) -> str:
    """``constraint_0``, with what it is when the study says (``n_params<=20000``)."""
    texts = view.constraint_texts
    i = int(name.rsplit("_", 1)[1])
    return f"{name}: {texts[i]}" if len(texts) == len(view.constraint_names) else name


def vector_trials_table(view: Any, limit: int = 0) -> Any:
    """Every trial of a study with several objectives or constraints: each objective
    (named, with its direction), each constraint value and whether the trial is
    feasible; the front's trials (one objective: the best) marked ``*``. ``limit`` > 0:
    at most that many rows (the best or the front's first, then the last trials), the
    title says which."""
    from rich.markup import escape
    from rich.table import Table

    from ..results.html import shown_numbers
    from ..results.stats import trial_rows

    front = {t.number for t in view.pareto_front} if view.multi_objective else (
        {view.best_trial.number} if view.best_trial is not None else set())
    keep, left_out = shown_numbers([t.number for t in view.by_number], front, limit)
    rows = trial_rows(view, keep if left_out else None)
    star = " (* on the Pareto front)" if view.multi_objective else (
        " (* best feasible)" if view.constrained else " (* best)")
    table = Table(title=escape(f"study {view.name}: {len(view.trials):,} trials{star}"
                               + (f"; {left_out}" if left_out else "")))
    params = view.param_names
    scores = view.objective_names if view.multi_objective else [view.metric]
    cons = view.constraint_names if view.constrained else []
    table.add_column("#", justify="right", no_wrap=True)
    for name in params:
        table.add_column(escape(name), no_wrap=True)
    for name, direction in zip(scores, view.directions, strict=True):
        arrow = "max" if direction == "maximize" else "min"
        table.add_column(escape(f"{name} ({arrow})"), justify="right", no_wrap=True)
    for name in cons:
        table.add_column(escape(_constraint_header(view, name)), justify="right",
                         no_wrap=True)
    if cons:
        table.add_column("feasible")
    table.add_column("state")
    table.add_column("time s", justify="right", no_wrap=True)
    for r in rows:
        state = r["state"]
        note = r.get("error") or r.get("detail")
        if note and state != "COMPLETE":
            state += f": {str(note)[:60]}"
        feasible = [] if not cons else ["-" if r["feasible"] is None
                                        else "yes" if r["feasible"] else "NO"]
        mark = " *" if r["number"] in front else ""
        table.add_row(f"{r['number']}{mark}", *[escape(fmt(r.get(n))) for n in params],
                      *[fmt(r.get(n)) for n in scores], *[fmt(r.get(n)) for n in cons],
                      *feasible, escape(state),
                      "-" if r["duration_s"] is None else f"{r['duration_s']:.2f}",
                      style="dim" if r.get("feasible") is False else None)
    return table


def front_table(view: Any) -> Any:
    """The Pareto front: number, each objective (name and direction), each constraint
    and feasibility, the configuration; best first by the first objective."""
    from rich.markup import escape
    from rich.table import Table

    from ..results.stats import pareto_rows, trials_word

    rows = pareto_rows(view)
    table = Table(title=f"Pareto front: {trials_word(len(rows))} (feasible, non-dominated, "
                        "COMPLETE)")
    table.add_column("#", justify="right", no_wrap=True)
    for name, direction in zip(view.objective_names, view.directions, strict=True):
        table.add_column(escape(f"{name} ({direction})"), justify="right", no_wrap=True)
    cons = view.constraint_names if view.constrained else []
    for name in cons:
        table.add_column(escape(_constraint_header(view, name)), justify="right",
                         no_wrap=True)
    if cons:
        table.add_column("feasible")
    table.add_column("configuration", overflow="fold", ratio=1)
    for r in rows:
        table.add_row(str(r["number"]), *[fmt(r.get(n)) for n in view.objective_names],
                      *[fmt(r.get(n)) for n in cons], *(["yes"] if cons else []),
                      escape(fmt(r["params"])))
    return table


def _print_front(console: Any, view: Any, row: Mapping[str, Any]) -> None:
    from ..results.stats import REFERENCE_RULE

    if not row["pareto_size"]:
        what = "no feasible trial" if view.scored_trials else "no trial has completed"
        console.print(f"{what} yet: the Pareto front is empty", style="red", highlight=False)
        return
    console.print(front_table(view))
    point = ", ".join(f"{n} {fmt(r)}" for n, r in zip(view.objective_names,
                                                      row["reference_point"], strict=True))
    console.print(f"hypervolume {fmt(row['hypervolume'])} against the reference point "
                  f"{point} ({REFERENCE_RULE.split(': ', 1)[1]})", highlight=False)


@click.command("report")
@click.option("--study", "studies", multiple=True,
              help="Study name; several (repeat it, or a comma list) are compared. Default: the "
                   "only study, or a list of the storage's studies.")
@click.option("--storage", default="hpo.db", show_default=True, help="SQLite file of the study.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (summary, importances and every trial).")
@click.option("--csv", "as_csv", is_flag=True, help="Print the trials (or the summary) as CSV.")
@click.option("--html", default=None, type=click.Path(dir_okay=False),
              help="Write a self-contained interactive HTML report (tables and figures "
                   "embedded, opens offline) to FILE.")
@click.option("--plots", default=None, type=click.Path(file_okay=False),
              help="Write the PNG plots into DIR.")
@click.option("--rows", default=DEFAULT_ROWS, show_default=True, type=click.IntRange(min=0),
              help="Trials the table shows: the best and the last ones (0: every trial).")
def report_command(studies: tuple[str, ...], storage: str, as_json: bool, as_csv: bool,
                   html: str | None, plots: str | None, rows: int) -> None:
    """Show a finished or running study from storage: its trials and best configuration."""
    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    try:
        cli_report(storage, studies, as_json, as_csv, html, plots, rows)
    except HPOError as exc:
        raise click.ClickException(str(exc)) from None


def write_study_output(study: Any, directory: str | Path, quiet: bool = False) -> list[Path]:
    """``hpo-run --output DIR`` for one study, with one line saying what was written."""
    from ..results.exports import write_study_output as write

    written = write(study, directory)
    if not quiet:
        click.echo(f"wrote {len(written)} files to {directory}", err=True)
    return written


# comparisons ----------------------------------------------------------------------------
def print_comparison(comparison: Any, file: Any = None) -> None:
    """The summary table on a terminal: one row per run, and per strategy over seeds."""
    from .display import make_console

    console = make_console(file)
    metric = comparison.rows[0]["metric"] if comparison.rows else "value"
    if comparison.rows and comparison.rows[0].get("decided_by") == "hypervolume":
        title = ("comparison (several objectives: hypervolume of each feasible Pareto front, "
                 "one reference point for all)")
    else:
        title = f"comparison ({metric}; best validation and test of the retrained best)"
    console.print(summary_table(comparison.rows, title=title))
    if comparison.repeats > 1:
        console.print(summary_table(comparison.by_strategy(), title=f"over {comparison.repeats} "
                                    f"seeds {comparison.seeds}: median [min, max]"))
    for study, error in comparison.errors.items():
        console.print(f"final test of {study} failed: {error}", style="red", highlight=False)
    from ..results.stats import verdict_lines

    for line in verdict_lines(comparison.rows):
        console.print(line, highlight=False, soft_wrap=True)
    storage = comparison.views[0].storage_path if comparison.views else "-"
    names = ", ".join(v.name for v in comparison.views)
    console.print(f"studies in {storage}: {names}; see one with: hpo-run report --storage "
                  f"{storage} --study NAME", highlight=False)


def cli_compare(config: Any, strategy_text: str, repeats: int, output: str | None,
                as_json: bool) -> Any:
    """What ``hpo-run --strategy a,b,c`` does: run, print the table, write ``--output``."""
    from ..jobs.compare import parse_strategies, run_comparison
    from ..study.storage import dumps
    from .display import Progress

    strategies = parse_strategies(strategy_text)

    def progress(name: str, seed: int, index: int, total: int) -> list[Any]:
        if as_json:
            return []
        click.echo(f"[{index}/{total}] strategy {name}, seed {seed}", err=True)
        return [Progress(config.n_trials, live=False)]

    from . import quiet_stdout

    try:
        with quiet_stdout(as_json):
            comparison = run_comparison(config, strategies, repeats, callbacks=progress)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: every finished trial is stored in {config.storage}; run the "
                   "same command to resume the comparison", err=True)
        sys.exit(130)
    written = comparison.write(output) if output else []
    if as_json:
        out = comparison.to_dict()
        if output:
            out["output"] = str(output)
        click.echo(dumps(out))
        return comparison
    print_comparison(comparison, file=sys.stdout)
    if written:
        click.echo(f"wrote {len(written)} files to {output} (summary.md, summary.csv, "
                   f"summary.json, report.html, plots)")
    return comparison
