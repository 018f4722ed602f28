"""The read model: a study as its trials, config and attributes, read from storage.

Every reader (``hpo-run report``, the dashboard) opens the file through
:func:`open_storage`: read-only, so it never creates a file or a schema, never changes
the journal mode and never takes a write lock from the study that is running.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
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
    #: every objective's direction, in order (one objective: ``[direction]``)
    directions: list[str] = field(default_factory=list)
    #: True when :func:`load_study` read only what changed since a ``previous`` view
    #: (the other trials are that view's objects)
    incremental: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.directions:
            stored = self.config.get("directions")
            self.directions = [str(d) for d in stored] if isinstance(stored, list | tuple) \
                and stored else [self.direction]
        self.trials = [_with_vectors(t, self.directions) for t in self.trials]

    def _memo(self, key: str, make: Any) -> Any:
        """``make()`` once per key while ``trials`` is the same list of the same length:
        a report asks for the complete trials and the best one many times, and at
        100,000 trials each pass costs milliseconds."""
        stamp = (id(self.trials), len(self.trials))
        memo = self.__dict__.setdefault("_memos", {})
        if memo.get("stamp") != stamp:
            memo.clear()
            memo["stamp"] = stamp
        if key not in memo:
            memo[key] = make()
        return memo[key]

    @classmethod
    def from_study(cls, study: Any) -> StudyView:
        directions = getattr(study, "directions", None)
        return cls(study.name, study.direction, dict(study.config), list(study.trials),
                   dict(study.attrs), study.storage.path, getattr(study, "created", None),
                   list(directions) if directions else [])

    # several objectives and constraints -------------------------------------------------
    @property
    def multi_objective(self) -> bool:
        return len(self.directions) > 1

    @cached_property
    def constrained(self) -> bool:
        """True when the study has constraints (stored in its config, or on a trial)."""
        return bool(self.config.get("constraints")) or any(
            t.constraints is not None for t in self.trials)

    @cached_property
    def objective_names(self) -> list[str]:
        """One name per objective: the metrics the study optimizes (``--metric a,b``),
        else Optuna's ``values_0``, ``values_1``, ... (one objective: the metric)."""
        if not self.multi_objective:
            return [self.metric]
        names = self.config.get("objectives") or self.config.get("metrics")
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        if not isinstance(names, list | tuple) or len(names) < len(self.directions):
            metric = self.config.get("metric")
            names = [n.strip() for n in metric.split(",") if n.strip()] \
                if isinstance(metric, str) else list(metric) \
                if isinstance(metric, list | tuple) else []
        if len(names) < len(self.directions) or len(set(names[:len(self.directions)])) \
                < len(self.directions):
            return [f"values_{i}" for i in range(len(self.directions))]
        return [str(n) for n in names[:len(self.directions)]]

    @cached_property
    def constraint_names(self) -> list[str]:
        """``constraint_0``, ... one per constraint value the trials hold."""
        width = max((len(t.constraints) for t in self.trials if t.constraints), default=0)
        return [f"constraint_{i}" for i in range(width)]

    @property
    def constraint_texts(self) -> list[str]:
        """What each constraint is, when the study says (``n_params<=20000``), else []."""
        stored = self.config.get("constraints")
        if isinstance(stored, str):
            stored = [stored]
        if isinstance(stored, list | tuple) and all(isinstance(c, str) for c in stored):
            return list(stored)
        return []

    @property
    def scored_trials(self) -> list[Trial]:
        """COMPLETE trials with every objective finite (feasible or not), by number."""
        return list(self._memo("scored", lambda: [
            t for t in self.by_number if t.state is TrialState.COMPLETE
            and t.losses is not None and len(t.losses) == len(self.directions)
            and all(isinstance(x, int | float) and math.isfinite(x) for x in t.losses)]))

    @property
    def feasible_trials(self) -> list[Trial]:
        """The scored trials whose constraints all hold (every one without constraints)."""
        return list(self._memo("feasible", lambda: [t for t in self.scored_trials
                                                     if t.feasible]))

    @cached_property
    def pareto_front(self) -> list[Trial]:
        """The non-dominated feasible COMPLETE trials (by their losses), by number; one
        objective: the best feasible trials (all of them on a tie). Trials with equal
        losses are all on it or all off it, as in ``contracts.pareto.non_dominated``.

        Two objectives: one sorted sweep. More: kept as the trials come
        (``contracts.pareto.KeptFront``, as the Study keeps its own): a pass costs the
        trials times the front, not the trials squared, for 10,000 trials."""
        from ..contracts.pareto import KeptFront

        pool = self.feasible_trials
        if len(self.directions) <= 2:
            kept = _front_2d([tuple(t.losses) for t in pool])
            return [t for t in pool if tuple(t.losses) in kept]
        front: KeptFront[Trial] = KeptFront(lambda t: t.losses, lambda t: t.number)
        for t in pool:  # by number: the front's order
            front.add(t)
        return front.items

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
        """The metric's name; with several objectives the first one's (the headline)."""
        if self.multi_objective:
            return self.objective_names[0]
        return str(self.config.get("metric") or "value")

    @property
    def seed(self) -> int | None:
        return self.config.get("seed")

    @property
    def complete_trials(self) -> list[Trial]:
        """COMPLETE trials with a finite value, in trial-number order."""
        return list(self._memo("complete", lambda: [
            t for t in self.by_number if t.state is TrialState.COMPLETE
            and t.value is not None and math.isfinite(t.value)]))

    @property
    def by_number(self) -> list[Trial]:
        """Every trial in trial-number order (sorted once per view)."""
        return self._memo("by_number", lambda: sorted(self.trials, key=lambda t: t.number))

    @property
    def best_trial(self) -> Trial | None:
        """The best complete feasible trial; the lowest number wins a tie. None for a
        study with several objectives (its best trials are :attr:`pareto_front`)."""
        if self.multi_objective:
            return None
        return self._memo("best", self._best)

    def _best(self) -> Trial | None:
        done = [t for t in self.complete_trials if t.feasible]
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
        if self.multi_objective:
            out["objectives"] = ", ".join(f"{n} ({d})" for n, d in
                                          zip(self.objective_names, self.directions,
                                              strict=True))
            out.pop("direction", None)
        if self.constrained:
            out["constraints"] = ", ".join(self.constraint_texts) or \
                f"{len(self.constraint_names)} (feasible when <= 0)"
        if self.created:
            out["created"] = self.created[:19].replace("T", " ")
        return out


def open_storage(path: str | Path) -> Any:
    """An existing storage file, opened read-only; a missing file is an error, never created."""
    if str(path) == ":memory:" or not Path(path).is_file():
        raise StorageError(f"no storage file {path}; give --storage PATH of an hpo database")
    from ..study.storage import Storage

    return Storage(path, readonly=True)


def load_study(storage: Any, name: str, previous: StudyView | None = None) -> StudyView:
    """A study by name from a Storage (or a path to one), with a did-you-mean on typos.

    ``previous``: an earlier view of the same study, from the same storage. Only what may
    have changed since is read: its trials that were not finished (RUNNING, WAITING,
    PAUSED), and every trial numbered above its last one; its finished trials (final in
    storage, unless a trial is re-run) are kept as they are, the same objects (a reader
    must not change them). The study's attributes are read afresh. Its record (config,
    direction, creation) changed, or no previous trial: every trial is read. The view's
    ``incremental`` says which. A reader that must be sure (a finished trial re-run, a row
    changed behind the study's back) compares its trials with the file's: the dashboard
    checks an aggregate of them and reads again in full when it differs."""
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
    trials = _merged(storage, record, previous) if previous is not None else None
    incremental = trials is not None
    if trials is None:
        trials = storage.load_trials(record.study_id, record.direction)
    directions = getattr(record, "directions", None)
    return StudyView(record.name, record.direction, record.config, trials,
                     storage.get_study_attrs(record.study_id), storage.path,
                     getattr(record, "created", None),
                     list(directions) if directions else [], incremental)


def _merged(storage: Any, record: Any, previous: StudyView) -> list[Trial] | None:
    """``previous``'s finished trials and, read afresh, its others and every trial after
    its last; None when it is not a view of this record (then every trial is read)."""
    if (previous.name, previous.direction, previous.created, previous.storage_path) != \
            (record.name, record.direction, getattr(record, "created", None),
             storage.path) or previous.config != record.config or not previous.trials:
        return None
    kept = previous.by_number
    again = [t.number for t in kept if not t.state.finished]
    fresh = storage.load_trials(record.study_id, record.direction, numbers=again,
                                after=kept[-1].number)
    if not fresh:
        return [t for t in kept if t.state.finished] if again else list(kept)
    redone = {t.number for t in fresh}
    merged = [t for t in kept if t.state.finished and t.number not in redone]
    if merged and fresh[0].number < merged[-1].number:  # some re-read ones in between
        return sorted([*merged, *fresh], key=lambda t: t.number)
    return merged + fresh


def _front_2d(points: list[tuple[float, ...]]) -> set[tuple[float, ...]]:
    """The non-dominated distinct points of one or two losses, by one sweep in sorted
    order (n log n): after sorting, a point is dominated exactly when an earlier,
    different point has a second loss no larger, i.e. when its second loss is not below
    the smallest one seen before its group of equal points."""
    kept: set[tuple[float, ...]] = set()
    best = math.inf
    distinct = sorted(set(points))
    for p in distinct:
        if len(p) == 1:
            return {distinct[0]} if distinct else set()
        if p[1] < best:
            kept.add(p)
            best = p[1]
    return kept


def _with_vectors(t: Trial, directions: list[str]) -> Trial:
    """A trial with ``values`` and ``losses`` filled where the record left them out
    (a one-objective trial stored before several objectives existed: ``[value]``)."""
    if t.state is not TrialState.COMPLETE:
        return t
    values = t.values
    if values is None and t.value is not None and len(directions) == 1:
        values = [t.value]
    if values is None or len(values) != len(directions):
        return t
    losses = t.losses
    if losses is None or len(losses) != len(directions):
        try:
            losses = [float(v) if d == "minimize" else -float(v)
                      for v, d in zip(values, directions, strict=True)]
        except (TypeError, ValueError):
            return t
    if values is t.values and losses is t.losses:
        return t
    import dataclasses

    return dataclasses.replace(t, values=list(values), losses=list(losses))


def as_view(study: Any) -> StudyView:
    return study if isinstance(study, StudyView) else StudyView.from_study(study)
