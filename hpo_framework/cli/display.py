"""Progress while a study runs, and the tables at its end."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from ..contracts.trial import Trial, TrialState
from ..results.format import fmt
from ..results.progress import ProgressCount
from ..study.core import Study

__all__ = ["Progress", "fmt", "make_console", "trials_table"]


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
                             best=fmt(study.best_value), eta=count.eta(study).strip(),
                             paused=f"{paused} paused " if paused else "")
            return
        print(count.line(study, trial), file=self.stream, flush=True)


def make_console(stream: TextIO | None = None) -> Any:
    """A rich console; off a terminal (a log, a pipe) wide enough that tables do not fold."""
    from rich.console import Console

    stream = stream or sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 200)


def trials_table(study: Study, metric: str | None = None) -> Any:
    """Every trial, like the notebook's printout: each configuration and its score."""
    from rich.table import Table

    names = study.space.names
    best = study.best_trial
    table = Table(title=f"study {study.name}: {len(study.trials)} trials")
    table.add_column("#", justify="right", no_wrap=True)
    for name in names:
        table.add_column(name, no_wrap=True)
    table.add_column(metric or "value", justify="right", no_wrap=True)
    table.add_column("state")
    table.add_column("time s", justify="right", no_wrap=True)
    for t in study.trials:
        mark = " *" if best is not None and t.number == best.number else ""
        state = t.state.value
        if t.error and t.state is not TrialState.COMPLETE:
            state += f": {t.error[:60]}"
        table.add_row(
            f"{t.number}{mark}", *[fmt(t.params.get(n)) for n in names], fmt(t.value), state,
            "-" if t.duration is None else f"{t.duration:.2f}",
        )
    return table
