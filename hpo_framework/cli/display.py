"""Progress while a study runs, and the tables at its end."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from ..contracts.trial import Trial, TrialState
from ..results.format import fmt
from ..results.progress import ProgressCount
from ..study.core import Study

__all__ = ["Progress", "fmt", "front_table", "make_console", "trials_table"]


class Progress:
    """Trials decided of the trials that will run, best so far, elapsed and ETA (see
    :mod:`hpo_framework.results.progress` for what counts).

    A live bar (rich) on a terminal; one plain line per trial event otherwise.
    """

    def __init__(self, total: int | None, stream: TextIO | None = None,
                 live: bool | None = None, study: Study | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.count = ProgressCount(total, study)
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]trials"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[paused]}best {task.fields[best]}"),
                TimeElapsedColumn(), TextColumn("{task.fields[eta]}"),
                console=Console(file=self.stream), transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("trials", total=self.total, best="-", paused="",
                                            eta="")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def warm_up(self, label: str, work: Any) -> Any:
        """Run ``work()`` (load the data, import the backend) as its own step, so that
        neither the bar's clock nor trial 0's duration pays for it."""
        start = time.monotonic()
        if self.live:
            from rich.console import Console

            with Console(file=self.stream).status(f"warming up: {label}"):
                out = work()
        else:
            out = work()
        print(f"warmed up in {time.monotonic() - start:.1f}s: {label}", file=self.stream,
              flush=True)
        self.count.restart_clock()
        return out

    def __call__(self, study: Study, trial: Trial) -> None:
        count = self.count
        count.update(study, trial)
        if self._bar is not None:
            paused = count.paused(study)
            self._bar.update(self._task, completed=count.decided, total=count.total(study),
                             best=best_text(study, count), eta=count.eta(study).strip(),
                             paused=f"{paused} paused " if paused else "")
            return
        print(count.line(study, trial), file=self.stream, flush=True)


def best_text(study: Study, count: ProgressCount | None = None) -> str:
    """The best so far: a value, or with several objectives the size of the front."""
    if study.multi_objective:
        size = getattr(count, "front_size", None)
        return f"front {size(study) if callable(size) else len(study.best_trials)}"
    return fmt(study.best_value)


def make_console(stream: TextIO | None = None) -> Any:
    """A rich console; off a terminal (a log, a pipe) wide enough that tables do not fold."""
    from rich.console import Console

    stream = stream or sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 200)


def trials_table(study: Study, metric: str | None = None,
                 metrics: list[str] | None = None, objectives: int = 1) -> Any:
    """Every trial, like the notebook's printout: each configuration and its score.
    ``metrics``: every recorded metric (the first ``objectives`` are the objectives, one
    column each; the others are shown from the trial's metrics); a constrained study
    shows whether each trial is feasible. ``*`` marks the best (or the front)."""
    from rich.table import Table

    names = study.space.names
    metrics = list(metrics or [metric or "value"])
    k = len(study.directions)
    if k > 1:
        marked = {t.number for t in study.best_trials}
    else:
        best = study.best_trial
        marked = set() if best is None else {best.number}
    shown = metrics[:k] if len(metrics) >= k else [f"value {i}" for i in range(k)]
    extra = metrics[k:]
    constrained = any(t.constraints is not None for t in study.trials)
    table = Table(title=f"study {study.name}: {len(study.trials)} trials")
    table.add_column("#", justify="right", no_wrap=True)
    for name in names:
        table.add_column(name, no_wrap=True)
    for name in [*shown, *extra]:
        table.add_column(name, justify="right", no_wrap=True)
    if constrained:
        table.add_column("feasible")
    table.add_column("state")
    table.add_column("time s", justify="right", no_wrap=True)
    for t in study.trials:
        mark = " *" if t.number in marked else ""
        state = t.state.value
        if t.error and t.state is not TrialState.COMPLETE:
            state += f": {t.error[:60]}"
        values = t.values if k > 1 else [t.value]
        objective = [fmt(v) for v in values] if values else ["-"] * k
        feasible = ([] if not constrained else
                    ["-" if t.constraints is None else "yes" if t.feasible else "no"])
        table.add_row(
            f"{t.number}{mark}", *[fmt(t.params.get(n)) for n in names], *objective,
            *[fmt(t.metrics.get(m)) for m in extra], *feasible, state,
            "-" if t.duration is None else f"{t.duration:.2f}",
        )
    return table


def front_table(study: Study, objectives: list[str], constraints: list[str]) -> Any:
    """The Pareto front: each member's number, objectives and constraint values."""
    from rich.table import Table

    front = study.best_trials
    table = Table(title=f"Pareto front: {len(front)} of {len(study.complete_trials)} "
                        "complete trials")
    table.add_column("#", justify="right", no_wrap=True)
    for name, direction in zip(objectives, study.directions, strict=False):
        table.add_column(f"{name} ({direction[:3]})", justify="right", no_wrap=True)
    for text in constraints:
        table.add_column(text, justify="right", no_wrap=True)
    if constraints:
        table.add_column("feasible")
    for t in sorted(front, key=lambda t: t.losses or []):
        cells = [fmt(v) for v in t.values or []]
        slack = [fmt(t.metrics.get(_metric_of(c))) for c in constraints]
        table.add_row(str(t.number), *cells, *slack,
                      *(["yes" if t.feasible else "no"] if constraints else []))
    return table


def _metric_of(constraint: str) -> str:
    from ..jobs.pipeline import MetricConstraint

    return MetricConstraint.parse(constraint).metric
