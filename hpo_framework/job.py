"""One hpo-run job: resolve plugins, open the study, run it, retrain the best, report.

The CLI parses options into a :class:`JobConfig` and prints what :func:`run_job`
returns; the comparison mode runs several jobs from the same config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .api import make_executor
from .errors import HPOError, OptionError
from .pipeline import (
    JobSpec,
    PipelineObjective,
    final_test,
    load_dataset,
    make_backend,
    make_evaluator,
    resolve_metric,
)
from .registry import get_registry
from .space import Space
from .storage import Storage
from .study import Callback, Study


@dataclass
class JobConfig:
    strategy: str = "bayes"
    backend: str = "sklearn"
    dataset: str = "digits"
    evaluator: str = "holdout"
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
    final_test: bool = True
    save_model: str | None = None
    verbose: bool = False
    strategy_options: dict[str, Any] = field(default_factory=dict)
    backend_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    evaluator_options: dict[str, Any] = field(default_factory=dict)
    executor_options: dict[str, Any] = field(default_factory=dict)

    def spec(self) -> JobSpec:
        return JobSpec(
            backend=self.backend, dataset=self.dataset, evaluator=self.evaluator,
            metric=self.metric, seed=self.seed, verbose=self.verbose,
            backend_options=dict(self.backend_options),
            dataset_options=dict(self.dataset_options),
            evaluator_options=dict(self.evaluator_options),
        )

    def study_name(self) -> str:
        return self.study or f"{self.strategy}-{self.backend}-{self.dataset}"


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


def prepare(config: JobConfig) -> tuple[Study, PipelineObjective, Any, str]:
    """Resolve every name and option, open (or resume) the study; write nothing on error."""
    registry = get_registry()
    strategy_cls = registry.get("strategy", config.strategy)
    # resolve every plugin name before loading data, so a typo fails fast
    registry.get("backend", config.backend)
    registry.get("evaluator", config.evaluator)
    registry.get("dataset", config.dataset)
    if config.executor is not None:
        registry.get("executor", config.executor)
    spec = config.spec()
    dataset = load_dataset(spec.dataset, spec.dataset_options)
    backend = make_backend(spec)  # validates backend options
    make_evaluator(spec)  # validates evaluator options
    metric = resolve_metric(spec, dataset)
    direction = config.direction or metric.direction
    if config.direction and config.direction != metric.direction:
        raise OptionError(
            f"metric '{metric.name}' is to be {metric.direction}d; drop --direction or pick "
            "another --metric"
        )
    if config.space_file:
        space = Space.from_file(config.space_file)
    else:
        space = Space.from_dict(backend.default_space(dataset))
    if config.n_trials is not None and config.n_trials < 1:
        raise OptionError("--trials must be at least 1")
    if config.retries < 0:
        raise OptionError("--retries must be 0 or more")
    if config.trial_timeout is not None and config.trial_timeout <= 0:
        raise OptionError("--trial-timeout must be a positive number of seconds")
    # build the executor (it starts nothing yet) so that its options are checked first
    executor = make_executor(registry, config.executor, config.n_jobs, config.executor_options,
                             isolated=config.trial_timeout is not None)
    if config.trial_timeout is not None and not executor.isolated:
        raise OptionError(f"--trial-timeout needs trials outside the driver; executor "
                          f"'{executor.name}' runs them inside it: drop --executor or use process")
    strategy_cls.validate(config.strategy_options)
    storage = Storage(config.storage)
    identity = {
        "backend": config.backend,
        "dataset": config.dataset,
        "evaluator": config.evaluator,
        "metric": metric.name,
        "backend_options": config.backend_options,
        "dataset_options": config.dataset_options,
        "evaluator_options": config.evaluator_options,
    }
    study = Study.open(
        storage=storage, name=config.study_name(), space=space, strategy_cls=strategy_cls,
        strategy_options=config.strategy_options, direction=direction, seed=config.seed,
        config=identity, new_study=config.new_study, hooks=registry.hook,
    )
    if config.seed is None:
        config.seed = study.seed
        spec = config.spec()
    return study, PipelineObjective(spec), executor, metric.name


def run_job(config: JobConfig, callbacks: Sequence[Callback] = (),
            prepared: tuple[Study, PipelineObjective, Any, str] | None = None) -> JobResult:
    study, objective, executor, metric = prepared or prepare(config)
    study.run(objective, n_trials=config.n_trials, timeout=config.timeout, executor=executor,
              callbacks=callbacks, retries=config.retries, trial_timeout=config.trial_timeout)
    result = JobResult(study, metric)
    if config.final_test and study.best_trial is not None:
        params = study.best_params or {}
        try:
            final = final_test(objective.spec, params, save_model=config.save_model)
        except HPOError:
            raise
        except Exception as exc:  # report it; the study itself is safe in storage
            from .objective import error_text

            result.final_error = error_text(exc)
        else:
            final["params"] = params
            result.final = final
            study.set_attr("final_test", final)
    return result
