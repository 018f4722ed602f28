"""Backend + evaluator + dataset as one picklable objective, and the final test.

An objective built here is what executors ship to workers: it holds names and
options only, and each process resolves the plugins and loads the dataset once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..contracts.backend import Backend, Evaluator, accepts_metrics, score_model
from ..contracts.dataset import Dataset
from ..contracts.measured import is_measured, measured_metric
from ..contracts.metrics import Metric, get_metric
from ..errors import DatasetError, HPOError, OptionError


class DatasetCache:
    """Datasets loaded in this process, by (name, options): each is loaded once.

    An executor that ships the driver's loaded dataset to its workers puts it in their
    cache with :meth:`prime` under :meth:`key`, so workers neither reload it nor need the
    data file (the Dask executor does)."""

    def __init__(self) -> None:
        self._loaded: dict[str, Dataset] = {}

    @staticmethod
    def key(name: str, options: dict[str, Any] | None = None) -> str:
        import json

        return json.dumps([name, dict(options or {})], sort_keys=True, default=str)

    def prime(self, key: str, dataset: Dataset) -> None:
        self._loaded.setdefault(key, dataset)

    def __contains__(self, key: str) -> bool:
        return key in self._loaded

    def keys(self) -> list[str]:
        return list(self._loaded)

    def get(self, name: str, options: dict[str, Any] | None = None) -> Dataset:
        from ..registry import get_registry

        options = dict(options or {})
        key = self.key(name, options)
        if key not in self._loaded:
            from ..contracts.dataset import DatasetLoader

            loader = get_registry().get("dataset", name)
            try:
                if isinstance(loader, type) and issubclass(loader, DatasetLoader):
                    dataset = loader(**options).load()
                else:
                    dataset = loader(**options)
            except HPOError:
                raise
            except TypeError as exc:
                raise DatasetError(f"dataset '{name}': {exc}") from None
            except (OSError, ValueError) as exc:
                raise DatasetError(f"dataset '{name}' cannot be loaded: {exc}") from None
            if not isinstance(dataset, Dataset):
                raise DatasetError(f"dataset '{name}' did not return an hpo_framework.Dataset")
            self._loaded[key] = dataset
        return self._loaded[key]


#: this process's dataset cache
datasets = DatasetCache()


@dataclass
class JobSpec:
    """Everything needed to evaluate a configuration, by plugin name.

    ``metric`` is the scorer metric the evaluator scores (its value, the pruning signal;
    None: the task's default) and ``direction`` the one given for it (a user's metric
    that declares none needs it). ``record``: every metric the trials record by name, in
    order (the user's ``--metric a,b,c`` and the constraints' metrics); the first
    ``objectives`` of them are the study's objectives (a trial's values)."""

    backend: str
    dataset: str
    evaluator: str = "holdout"
    metric: str | None = None
    seed: int | None = None
    verbose: bool = False
    backend_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    evaluator_options: dict[str, Any] = field(default_factory=dict)
    direction: str | None = None
    record: list[str] = field(default_factory=list)
    objectives: int = 1
    #: False when ``--metric`` was not given (``record`` then holds only the
    #: constraints' metrics, and the objective is the evaluator's metric)
    named: bool = True
    #: the directions given per recorded metric (``--direction``), for users' metrics
    directions: dict[str, str] = field(default_factory=dict)


def load_dataset(name: str, options: dict[str, Any] | None = None) -> Dataset:
    """Load a registered dataset once per process (:data:`datasets`)."""
    return datasets.get(name, options)


def make_backend(spec: JobSpec) -> Backend:
    from ..registry import get_registry

    cls = get_registry().get("backend", spec.backend)
    return cls(seed=spec.seed, verbose=spec.verbose, **spec.backend_options)


def make_evaluator(spec: JobSpec) -> Evaluator:
    from ..registry import get_registry

    cls = get_registry().get("evaluator", spec.evaluator)
    return cls(seed=spec.seed, **spec.evaluator_options)


def resolve_metric(spec: JobSpec, dataset: Dataset) -> Metric:
    """The evaluator's metric (resolved in this process: the driver and each worker)."""
    return get_metric(spec.metric, dataset.task, spec.direction,
                      n_classes=getattr(dataset, "n_classes", None))


def resolve_metrics(spec: JobSpec, dataset: Dataset) -> list[Metric]:
    """The other scorer metrics the trials record (resolved in this process, so that
    the scoring records them); measured ones (n_params, ...) every evaluation records."""
    main = resolve_metric(spec, dataset)
    out = []
    for name in spec.record:
        if is_measured(name):  # measured by the evaluation; latency only when asked
            out.append(measured_metric(name))
            continue
        if name == main.name:
            continue
        metric = get_metric(name, dataset.task, spec.directions.get(name),
                            n_classes=getattr(dataset, "n_classes", None))
        if metric.name != main.name and metric not in out:
            out.append(metric)
    return out


#: ``n_params<=20000``: a recorded metric, <= or >=, a number
_CONSTRAINT = re.compile(r"^\s*([^<>=\s]+)\s*(<=|>=)\s*([-+]?(\d+\.?\d*|\.\d+)"
                         r"([eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class MetricConstraint:
    """``metric <= bound`` (value ``metric - bound``) or ``metric >= bound`` (value
    ``bound - metric``): feasible when the value is <= 0, Optuna's convention."""

    metric: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> MetricConstraint:
        found = _CONSTRAINT.match(str(text))
        if found is None:
            raise OptionError(f"--constraint {text!r}: write METRIC<=NUMBER or METRIC>=NUMBER, "
                              "e.g. n_params<=20000 (on any recorded metric)")
        return cls(found.group(1), found.group(2), float(found.group(3)))

    @property
    def text(self) -> str:
        return f"{self.metric}{self.op}{self.bound:g}"

    def value(self, metrics: dict[str, Any]) -> float:
        if self.metric not in metrics:
            raise HPOError(f"constraint {self.text}: the trial recorded no metric "
                           f"'{self.metric}'")
        got = float(metrics[self.metric])
        return got - self.bound if self.op == "<=" else self.bound - got


class MetricConstraints:
    """A study's ``constraints`` function from ``--constraint`` texts (in the driver)."""

    def __init__(self, constraints: list[MetricConstraint]) -> None:
        self.constraints = list(constraints)

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.constraints]

    def __call__(self, trial: Any) -> list[float]:
        return [c.value(trial.metrics) for c in self.constraints]


class PipelineObjective:
    """``params -> {"value", "metrics", "intermediate"}`` for a backend on a dataset.

    It implements :class:`~hpo_framework.contracts.pipeline.DatasetObjective` (its dataset
    can travel with it) and :class:`~hpo_framework.contracts.pipeline.BackendObjective`
    (an executor may set its backend's options)."""

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec
        self._parts: tuple[Backend, Evaluator, Dataset, Metric] | None = None
        self._extra: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec, "_parts": None, "_extra": {}}

    # DatasetObjective -------------------------------------------------------------
    def dataset(self) -> Dataset:
        """The dataset, loaded once in this process."""
        return load_dataset(self.spec.dataset, self.spec.dataset_options)

    def use_dataset(self, dataset: Dataset) -> None:
        """This process evaluates on ``dataset`` (the driver's), loading nothing."""
        datasets.prime(datasets.key(self.spec.dataset, self.spec.dataset_options), dataset)

    # BackendObjective -------------------------------------------------------------
    @property
    def backend_options(self) -> dict[str, Any]:
        return dict(self.spec.backend_options)

    def backend_class(self) -> type[Backend]:
        from ..registry import get_registry

        return get_registry().get("backend", self.spec.backend)

    def backend(self) -> Backend:
        """The backend this process's trials use (the dataset is loaded with it)."""
        return self.parts()[0]

    def set_backend_options(self, **options: Any) -> None:
        """Change backend options before the first trial (an executor that needs another
        trainer does); what was resolved is dropped and resolved again on use."""
        import dataclasses

        self.spec = dataclasses.replace(
            self.spec, backend_options={**self.spec.backend_options, **options})
        self._parts = None

    @property
    def resumable(self) -> bool:
        """True when the backend can go on from a paused trial's checkpoint."""
        return bool(make_backend(self.spec).resumable)

    def warm_up(self) -> None:
        """Resolve the plugins, load the data and import the backend's libraries once."""
        self.parts()

    def parts(self) -> tuple[Backend, Evaluator, Dataset, Metric]:
        if self._parts is None:
            dataset = load_dataset(self.spec.dataset, self.spec.dataset_options)
            backend = make_backend(self.spec)
            backend.warm_up()
            evaluator = make_evaluator(self.spec)
            self._parts = (backend, evaluator, dataset, resolve_metric(self.spec, dataset))
            extra = resolve_metrics(self.spec, dataset)
            self._extra = {"metrics": extra} if extra and accepts_metrics(evaluator) else {}
        return self._parts

    def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        backend, evaluator, dataset, metric = self.parts()
        result = evaluator.evaluate(backend, params, dataset, metric, **self._extra)
        spec = self.spec
        if not spec.named or not spec.record or (spec.objectives == 1
                                                 and spec.record[0] == metric.name):
            return result
        # the objectives by name from what the evaluation recorded
        scores = result.get("metrics") or {}
        wanted = spec.record[:spec.objectives]
        missing = [name for name in wanted if name not in scores]
        if missing:
            raise HPOError(f"backend '{spec.backend}' recorded no metric '{missing[0]}' (it "
                           f"recorded {', '.join(sorted(scores)) or 'none'})")
        values = [float(scores[name]) for name in wanted]
        if spec.objectives == 1:
            return {**result, "value": values[0]}
        return {**{k: v for k, v in result.items() if k != "value"}, "values": values}


def final_test(spec: JobSpec, params: dict[str, Any], save_model: str | None = None,
               metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """Retrain ``params`` on the whole training set and score the test set (the notebook's
    last step); ``metrics``: what the best trial recorded, for the backend's
    ``final_params``. Returns ``{"test_score", "test_metrics", "model_path", "params"}``."""
    dataset = load_dataset(spec.dataset, spec.dataset_options)
    backend = make_backend(spec)
    metric = resolve_metric(spec, dataset)
    params = backend.final_params(dict(params), dict(metrics or {}))
    model = backend.fit(dict(params), dataset.x_train, dataset.y_train, dataset)
    try:
        scores = score_model(backend, model, dataset.x_test, dataset.y_test, dataset,
                             [metric])  # a scorer outside the task's defaults too
        path = backend.save(model, save_model) if save_model else None
    finally:
        backend.release(model)
    if metric.name not in scores:
        raise HPOError(f"backend '{spec.backend}' gave no '{metric.name}' on the test set")
    return {"metric": metric.name, "test_score": scores[metric.name], "test_metrics": scores,
            "model_path": path, "params": params}
