"""The read model: a study as its trials, config and attributes, read from storage.

Every reader (``hpo-run report``, the dashboard) opens the file through
:func:`open_storage`: read-only, so it never creates a file or a schema, never changes
the journal mode and never takes a write lock from the study that is running.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contracts.trial import Trial, TrialState
from ..errors import HPOError, StorageError
from ..space import Space


@dataclass
class StudyView:
    """What a report needs of a study: the same attributes a :class:`Study` has."""

    name: str
    direction: str
    config: dict[str, Any]
    trials: list[Trial]
    attrs: dict[str, Any] = field(default_factory=dict)
    storage_path: str | None = None
    created: str | None = None

    @classmethod
    def from_study(cls, study: Any) -> StudyView:
        return cls(study.name, study.direction, dict(study.config), list(study.trials),
                   dict(study.attrs), study.storage.path, getattr(study, "created", None))

    @property
    def space(self) -> Space | None:
        spec = self.config.get("space")
        if self.config.get("define_by_run"):  # the declared part, then what trials suggested
            spec = {**(spec or {}), **dict(self.attrs.get("learned_space") or {})}
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
        """COMPLETE trials with a finite value, in trial-number order."""
        return [t for t in sorted(self.trials, key=lambda t: t.number)
                if t.state is TrialState.COMPLETE and t.value is not None
                and math.isfinite(t.value)]

    @property
    def best_trial(self) -> Trial | None:
        """The best complete trial; the lowest number wins a tie."""
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

    def setup(self) -> dict[str, Any]:
        """What the study ran on: backend, dataset, evaluator, metric, budget, date."""
        keys = ("strategy", "backend", "dataset", "evaluator", "metric", "direction", "seed",
                "n_trials")
        out = {k: self.config.get(k) for k in keys if self.config.get(k) is not None}
        out.setdefault("direction", self.direction)
        if self.created:
            out["created"] = self.created[:19].replace("T", " ")
        return out


def open_storage(path: str | Path) -> Any:
    """An existing storage file, opened read-only; a missing file is an error, never created."""
    if str(path) == ":memory:" or not Path(path).is_file():
        raise StorageError(f"no storage file {path}; give --storage PATH of an hpo database")
    from ..study.storage import Storage

    return Storage(path, readonly=True)


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
                     storage.get_study_attrs(record.study_id), storage.path,
                     getattr(record, "created", None))


def as_view(study: Any) -> StudyView:
    return study if isinstance(study, StudyView) else StudyView.from_study(study)
