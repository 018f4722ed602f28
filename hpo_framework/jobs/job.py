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

from ..errors import HPOError, OptionError
from ..registry import get_registry, make_pruner
from ..space import Space
from ..study.core import Callback, Study
from ..study.settings import RunSettings, check_seed
from ..study.setup import RunPlan, plan_run, setup_study
from .pipeline import (
    JobSpec,
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
    metric: str | None = None
    direction: str | None = None
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
        return JobSpec(
            backend=self.backend, dataset=self.dataset, evaluator=self.evaluator or "holdout",
            metric=self.metric, seed=self.seed if seed is None else seed,
            verbose=self.verbose,
            backend_options=dict(self.backend_options),
            dataset_options=dict(self.dataset_options),
            evaluator_options=dict(self.evaluator_options),
        )

    def study_name(self) -> str:
        return self.study or f"{self.strategy}-{self.backend}-{self.dataset}"


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

    @property
    def executor(self) -> Any:
        return self.plan.executor


@dataclass
class JobResult:
    study: Study
    metric: str
    final: dict[str, Any] | None = None
    final_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = self.study.to_dict()
        out["metric"] = self.metric
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
    known = backend.parameters()
    if known is None:
        return
    for name in space.names:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f": did you mean '{close[0]}'?" if close else \
                f" (it knows {', '.join(sorted(known)[:12])}, ...)"
            raise OptionError(f"the space has parameter '{name}', which backend "
                              f"'{backend.name}' does not use{hint} (or give --model for "
                              "your own model)")


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
    metric = resolve_metric(spec, dataset)
    direction = config.direction or metric.direction
    if config.direction and config.direction != metric.direction:
        raise OptionError(
            f"metric '{metric.name}' is to be {metric.direction}d; drop --direction or pick "
            "another --metric"
        )
    if pruner is not None and not backend.reports_intermediate:
        raise OptionError(f"--pruner {config.pruner}: backend '{config.backend}' reports no "
                          "per-epoch values, so there is nothing to prune on; drop --pruner")
    if config.space_file:
        space = Space.from_file(config.space_file)
    else:
        space = Space.from_dict(backend.default_space(dataset))
    check_space_names(space, backend)
    setup = setup_study(space, strategy=config.strategy,
                        strategy_options=config.strategy_options, seed=config.seed,
                        pruner=pruner)
    identity = {
        "backend": config.backend,
        "dataset": config.dataset,
        "evaluator": config.evaluator,
        "metric": metric.name,
        "backend_options": config.backend_options,
        "dataset_options": config.dataset_options,
        "evaluator_options": config.evaluator_options,
    }
    study = setup.open(storage=config.storage, name=config.study_name(), direction=direction,
                       config=identity, new_study=config.new_study,
                       name_given=config.study is not None)
    objective = PipelineObjective(config.spec(seed=study.seed))
    return Prepared(config, study, objective, plan, metric.name, defaults)


def run_job(prepared: Prepared, callbacks: Sequence[Callback] = ()) -> JobResult:
    from ..study.loop import run

    study, config = prepared.study, prepared.config
    run(study, prepared.objective, prepared.plan, callbacks=callbacks)
    result = JobResult(study, prepared.metric)
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
