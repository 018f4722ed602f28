"""One hpo-run job: resolve plugins, open the study, run it, retrain the best, report.

The CLI parses options into a :class:`JobConfig` and prints what :func:`run_job`
returns; the comparison mode runs several jobs from the same config. Every check runs
in :func:`prepare`, before anything is written.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..contracts.backend import check_ranges, pruner_grace
from ..contracts.metrics import get_metric
from ..errors import HPOError, OptionError
from ..registry import get_registry, make_pruner
from ..space import Space
from ..study.core import Callback, Study
from ..study.settings import RunSettings, check_seed
from ..study.setup import RunPlan, plan_run, setup_study
from .pipeline import (
    JobSpec,
    MetricConstraint,
    MetricConstraints,
    PipelineObjective,
    final_test,
    load_dataset,
    make_backend,
    make_evaluator,
    resolve_metric,
)


@dataclass
class JobConfig:
    #: None: the preferred installed default of that kind (see Registry.default)
    strategy: str | None = None
    backend: str | None = None
    dataset: str | None = None
    evaluator: str | None = None
    space_file: str | None = None
    n_trials: int | None = 20
    timeout: float | None = None
    seed: int | None = None
    storage: str = "hpo.db"
    study: str | None = None
    new_study: bool = False
    #: one metric, or a comma list: every one is recorded; the first is the objective, or
    #: the first k when ``direction`` lists k directions (several objectives)
    metric: str | None = None
    #: one direction, or a comma list (one per objective, in the metrics' order)
    direction: str | None = None
    #: ``n_params<=20000``, ... (each on a recorded metric; its metric is recorded)
    constraints: list[str] = field(default_factory=list)
    executor: str | None = None
    n_jobs: int = 1
    retries: int = 0
    trial_timeout: float | None = None
    pruner: str | None = None
    final_test: bool = True
    save_model: str | None = None
    output: str | None = None
    verbose: bool = False
    strategy_options: dict[str, Any] = field(default_factory=dict)
    backend_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    evaluator_options: dict[str, Any] = field(default_factory=dict)
    executor_options: dict[str, Any] = field(default_factory=dict)
    pruner_options: dict[str, Any] = field(default_factory=dict)
    #: what the default study name says of the dataset (``--dataset data.csv``: ``data``)
    dataset_label: str | None = None

    def resolved(self) -> JobConfig:
        """A copy with every plugin name filled in from the installed defaults."""
        registry = get_registry()
        return replace(
            self,
            strategy=registry.resolve("strategy", self.strategy),
            backend=registry.resolve("backend", self.backend),
            dataset=registry.resolve("dataset", self.dataset),
            evaluator=registry.resolve("evaluator", self.evaluator),
        )

    def defaulted(self) -> list[str]:
        """The kinds whose plugin this config leaves to the installed default."""
        return [k for k in ("strategy", "backend", "dataset", "evaluator")
                if getattr(self, k) is None]

    def settings(self) -> RunSettings:
        return RunSettings(n_trials=self.n_trials, timeout=self.timeout, n_jobs=self.n_jobs,
                           retries=self.retries, trial_timeout=self.trial_timeout)

    def spec(self, seed: int | None = None) -> JobSpec:
        if self.backend is None or self.dataset is None:
            raise HPOError("JobConfig.spec() needs resolved() names")
        plan = MetricPlan.of(self)
        return JobSpec(
            backend=self.backend, dataset=self.dataset, evaluator=self.evaluator or "holdout",
            metric=plan.scorer, seed=self.seed if seed is None else seed,
            verbose=self.verbose,
            backend_options=dict(self.backend_options),
            dataset_options=dict(self.dataset_options),
            evaluator_options=dict(self.evaluator_options),
            direction=plan.given.get(plan.scorer or ""),
            record=plan.record, objectives=plan.k, named=bool(plan.listed),
            directions=dict(plan.given),
        )

    def study_name(self) -> str:
        return self.study or f"{self.strategy}-{self.backend}-{self.dataset_label or self.dataset}"


def _names(text: str | None, what: str) -> list[str]:
    if text is None:
        return []
    names = [n.strip() for n in str(text).split(",")]
    if any(not n for n in names):
        raise OptionError(f"{what} {text!r}: an empty name in the comma list")
    return names


@dataclass
class MetricPlan:
    """What ``--metric``, ``--direction`` and ``--constraint`` ask, parsed (nothing
    resolved yet): the metrics recorded (``record``: listed ones, then the constraints'),
    the first ``k`` the objectives, the directions given per metric, the scorer metric
    the evaluator scores (the first listed that is not measured; None: the default)."""

    listed: list[str]
    record: list[str]
    k: int
    given: dict[str, str]
    scorer: str | None
    constraints: list[MetricConstraint]

    @classmethod
    def of(cls, config: JobConfig) -> MetricPlan:
        from ..contracts.measured import is_measured

        listed = _names(config.metric, "--metric")
        directions = _names(config.direction, "--direction")
        for d in directions:
            if d not in ("maximize", "minimize"):
                raise OptionError(f"--direction {config.direction!r}: each direction is "
                                  "maximize or minimize")
        dupes = sorted({n for n in listed if listed.count(n) > 1})
        if dupes:
            raise OptionError(f"--metric names '{dupes[0]}' twice")
        k = max(1, len(directions))
        if len(directions) > max(1, len(listed)):
            raise OptionError(f"--direction lists {len(directions)} directions, one per "
                              f"objective, and --metric names {len(listed) or 'no'} metric"
                              f"{'' if len(listed) == 1 else 's'}: give --metric with at "
                              f"least {len(directions)} (the first {len(directions)} are the "
                              "objectives), e.g. --metric accuracy,n_params")
        given = dict(zip(listed, directions, strict=False))
        constraints = [MetricConstraint.parse(c) for c in config.constraints]
        record = list(listed)
        for c in constraints:
            if c.metric not in record:
                record.append(c.metric)
        scorer = next((n for n in listed if not is_measured(n)), None)
        if not listed and directions:  # one --direction for the default metric
            given = {"": directions[0]}
        return cls(listed, record, k, given, scorer, constraints)


@dataclass
class Prepared:
    """A job ready to run: everything checked, the study open (its lease held: call
    ``study.close()`` when done)."""

    config: JobConfig
    study: Study
    objective: PipelineObjective
    plan: RunPlan
    metric: str
    defaults: dict[str, str] = field(default_factory=dict)
    #: every metric the trials record (the first ``objectives`` are the objectives)
    metrics: list[str] = field(default_factory=list)
    objectives: int = 1
    constraints: list[str] = field(default_factory=list)

    def result(self) -> JobResult:
        """What this job has so far, for the summary."""
        return JobResult(self.study, self.metric, metrics=list(self.metrics),
                         objectives=self.objectives, constraints=list(self.constraints))

    @property
    def executor(self) -> Any:
        return self.plan.executor


@dataclass
class JobResult:
    study: Study
    metric: str
    final: dict[str, Any] | None = None
    final_error: str | None = None
    metrics: list[str] = field(default_factory=list)
    objectives: int = 1
    constraints: list[str] = field(default_factory=list)
    #: why no final test ran (several objectives: no one best configuration)
    final_skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = self.study.to_dict()
        out["metric"] = self.metric
        if len(self.metrics) > 1:
            out["metrics"] = list(self.metrics)
        if self.objectives > 1:
            out["objectives"] = list(self.metrics[:self.objectives])
        if self.constraints:
            out["constraints"] = list(self.constraints)
        if self.final_skipped:
            out["final_skipped"] = self.final_skipped
        out["stop_reason"] = self.study.stop_reason
        if self.final is not None:
            out["test_score"] = self.final["test_score"]
            out["test_metrics"] = self.final["test_metrics"]
            out["final_params"] = self.final["params"]
            if self.final.get("model_path"):
                out["model_path"] = self.final["model_path"]
        if self.final_error is not None:
            out["final_error"] = self.final_error
        return out


def check_destination(path: str | None, what: str, directory: bool = False) -> None:
    """Refuse an output path that cannot be written, before the first trial runs."""
    if not path:
        return
    target = Path(path)
    if directory and target.exists() and not target.is_dir():
        raise OptionError(f"{what} {path} is a file, not a directory")
    if not directory and target.is_dir():
        raise OptionError(f"{what} {path} is a directory; give a file name")
    parent = target
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OptionError(f"{what} {path}: {parent} is a file, not a directory")
    if not directory and parent != target.parent:
        raise OptionError(f"{what} {path}: the directory {target.parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OptionError(f"{what} {path}: {parent} is not writable")


def check_space_names(space: Space, backend: Any) -> None:
    """The space's names against ``backend.parameters()`` (None: any), and its ranges
    against ``backend.parameter_ranges()``."""
    known = backend.parameters()
    for name in space.names if known is not None else []:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f": did you mean '{close[0]}'?" if close else \
                f" (it knows {', '.join(sorted(known)[:12])}, ...)"
            raise OptionError(f"the space has parameter '{name}', which backend "
                              f"'{backend.name}' does not use{hint} (or give --model for "
                              "your own model)")
    check_ranges(space, backend.parameter_ranges(), f"backend '{backend.name}'")


def prepare(config: JobConfig) -> Prepared:
    """Resolve every name and option, open (or resume) the study; write nothing on error."""
    defaults = {k: "" for k in config.defaulted()}
    config = config.resolved()
    for kind in defaults:
        defaults[kind] = getattr(config, kind)
    registry = get_registry()
    check_seed(config.seed)
    # resolve every plugin name before loading data, so a typo fails fast
    strategy_cls = registry.get("strategy", config.strategy)
    backend_cls = registry.get("backend", config.backend)
    registry.get("evaluator", config.evaluator)
    registry.get("dataset", config.dataset)
    pruner = make_pruner(registry, config.pruner, config.pruner_options, config.seed)
    # how the study runs, checked once. Unless --executor names one, trials run outside
    # the driver (one kept worker process for one job), so a trial that dies fails alone
    plan = plan_run(config.settings(), pruner=pruner, resumable=backend_cls.resumable,
                    finite=strategy_cls.finite, strategy=config.strategy,
                    executor=config.executor, executor_options=config.executor_options,
                    isolated=True)
    check_destination(config.save_model, "--save-model")
    check_destination(config.output, "--output", directory=True)
    spec = config.spec()
    dataset = load_dataset(spec.dataset, spec.dataset_options)
    backend = make_backend(spec)  # validates backend options
    evaluator = make_evaluator(spec)  # validates evaluator options
    evaluator.check(dataset)
    if config.final_test:
        from ..contracts.dataset import require_test

        require_test(dataset)
    metrics = MetricPlan.of(config)
    metric = resolve_metric(spec, dataset)
    names, directions = _resolve_metrics(metrics, metric, dataset)
    if pruner is not None and not backend.reports_intermediate:
        raise OptionError(f"--pruner {config.pruner}: backend '{config.backend}' reports no "
                          "per-epoch values, so there is nothing to prune on; drop --pruner")
    if config.space_file:
        shape = getattr(dataset, "shape_values", None)
        space = Space.from_file(config.space_file, context=shape() if callable(shape) else None)
    else:
        space = Space.from_dict(backend.default_space(dataset))
    check_space_names(space, backend)
    pruner = _resource_from_space(pruner, config, registry, backend, space)
    constraints = MetricConstraints(metrics.constraints) if metrics.constraints else None
    setup = setup_study(space, strategy=config.strategy,
                        strategy_options=config.strategy_options, seed=config.seed,
                        pruner=pruner, directions=directions[:metrics.k],
                        constraints=constraints, api=False,
                        # the options the user gave are part of the study's identity (the
                        # pruner arrives built, with what the backend adds to them)
                        pruner_options=config.pruner_options)
    identity = {
        "backend": config.backend,
        "dataset": config.dataset,
        "evaluator": config.evaluator,
        # one metric: its name, as before; several listed: all of them, in order
        "metric": ",".join(names[:len(metrics.listed)]) if len(metrics.listed) > 1
        else names[0],
        "backend_options": config.backend_options,
        "dataset_options": config.dataset_options,
        "evaluator_options": config.evaluator_options,
    }
    if constraints is not None:
        identity["constraints"] = constraints.texts
    study = setup.open(storage=config.storage, name=config.study_name(), config=identity,
                       new_study=config.new_study, name_given=config.study is not None)
    objective = PipelineObjective(config.spec(seed=study.seed))
    return Prepared(config, study, objective, plan, names[0], defaults, metrics=names,
                    objectives=metrics.k,
                    constraints=[] if constraints is None else constraints.texts)


def _resource_from_space(pruner: Any, config: JobConfig, registry: Any, backend: Any,
                         space: Space) -> Any:
    """A pruner's ``max_resource`` that was not given is the backend's resource's upper
    bound when its steps are not epochs (``Backend.resource_param``: boosting rounds up to
    the space's ``n_estimators`` high, or the option's value), so the rungs span the
    rounds a trial can run; where its judging starts (``min_resource``, ``n_warmup_steps``),
    when not given, is the backend's ``resource_grace`` share of that whole trial
    (``contracts.backend.pruner_grace``)."""
    param = getattr(backend, "resource_param", None)
    if pruner is None or param is None:
        return pruner
    given = dict(config.pruner_options or {})
    if param in space.names:
        high = getattr(space[param], "high", None)
    else:
        high = getattr(backend, "config", {}).get(param)
    if not isinstance(high, int) or isinstance(high, bool) or high < 1:
        return pruner
    names = getattr(pruner, "options", {})
    extra: dict[str, Any] = {}
    if "max_resource" in names and "max_resource" not in given:
        extra["max_resource"] = high
    whole = given.get("max_resource")
    extra.update(pruner_grace(backend, whole if isinstance(whole, int) else high, names, given))
    if not extra:
        return pruner
    return make_pruner(registry, config.pruner, {**given, **extra}, config.seed)


def _resolve_metrics(plan: MetricPlan, metric: Any, dataset: Any) -> tuple[list[str],
                                                                           list[str]]:
    """Every recorded metric's name and direction, checked: a measured one's from its
    table, a scorer's resolved (one line for an unknown name); a direction given that is
    not the metric's is one line, as for one metric."""
    from ..contracts.measured import measured_direction

    if not plan.listed:  # the default metric, maybe with one --direction
        given = plan.given.get("")
        if given and given != metric.direction:
            raise OptionError(f"metric '{metric.name}' is to be {metric.direction}d; drop "
                              "--direction or pick another --metric")
        names, directions = [metric.name], [metric.direction]
    else:
        names, directions = [], []
        for name in plan.listed:
            known = measured_direction(name)
            if known is None:
                resolved = metric if name == plan.scorer else get_metric(
                    name, dataset.task, plan.given.get(name),
                    n_classes=getattr(dataset, "n_classes", None))
                name, known = resolved.name, resolved.direction
            given = plan.given.get(name)
            if given and given != known:
                raise OptionError(f"metric '{name}' is to be {known}d; drop --direction or "
                                  "pick another --metric" if len(plan.listed) == 1 else
                                  f"metric '{name}' is to be {known}d, and --direction "
                                  f"gives {given} for it: give {known} (the directions "
                                  "follow the metrics' order)")
            names.append(name)
            directions.append(known)
    for c in plan.constraints:  # a constraint's metric must be one the trials record
        if c.metric not in names and measured_direction(c.metric) is None:
            get_metric(c.metric, dataset.task, n_classes=getattr(dataset, "n_classes", None))
        if c.metric not in names:
            names.append(c.metric)
    return names, directions


def run_job(prepared: Prepared, callbacks: Sequence[Callback] = ()) -> JobResult:
    from ..study.loop import run

    study, config = prepared.study, prepared.config
    run(study, prepared.objective, prepared.plan, callbacks=callbacks)
    result = prepared.result()
    if config.final_test and study.multi_objective:
        front = len(study.best_trials)
        result.final_skipped = (f"no final test: the study has {len(study.directions)} "
                                f"objectives and {front} trial{'' if front == 1 else 's'} on "
                                "its front, not one best configuration to retrain")
        return result
    if config.final_test and study.best_trial is None and any(
            not t.feasible for t in study.complete_trials):
        result.final_skipped = "no final test: no trial is feasible"
    if config.final_test and study.best_trial is not None:
        params = study.best_params or {}
        try:
            final = final_test(prepared.objective.spec, params, save_model=config.save_model,
                               metrics=study.best_trial.metrics)
        except HPOError:
            raise
        except Exception as exc:  # report it; the study itself is safe in storage
            from ..contracts.objective import error_text

            result.final_error = error_text(exc)
        else:  # final["params"]: what was retrained (the backend's final_params)
            result.final = final
            study.set_attr("final_test", final)
    return result
