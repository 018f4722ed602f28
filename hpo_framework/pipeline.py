"""Backend + evaluator + dataset as one picklable objective, and the final test.

An objective built here is what executors ship to workers: it holds names and
options only, and each process resolves the plugins and loads the dataset once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .backend import Backend, Evaluator
from .dataset import Dataset
from .errors import DatasetError, HPOError
from .metrics import Metric, get_metric

_DATASETS: dict[str, Dataset] = {}


@dataclass
class JobSpec:
    """Everything needed to evaluate a configuration, by plugin name."""

    backend: str = "sklearn"
    dataset: str = "digits"
    evaluator: str = "holdout"
    metric: str | None = None
    seed: int | None = None
    verbose: bool = False
    backend_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    evaluator_options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_dataset(name: str, options: dict[str, Any] | None = None) -> Dataset:
    """Load a registered dataset once per process."""
    import json

    from .registry import get_registry

    options = dict(options or {})
    key = json.dumps([name, options], sort_keys=True, default=str)
    if key not in _DATASETS:
        loader = get_registry().get("dataset", name)
        try:
            dataset = loader(**options)
        except TypeError as exc:
            raise DatasetError(f"dataset '{name}': {exc}") from None
        if not isinstance(dataset, Dataset):
            raise DatasetError(f"dataset '{name}' did not return an hpo_framework.Dataset")
        _DATASETS[key] = dataset
    return _DATASETS[key]


def make_backend(spec: JobSpec) -> Backend:
    from .registry import get_registry

    cls = get_registry().get("backend", spec.backend)
    return cls(seed=spec.seed, verbose=spec.verbose, **spec.backend_options)


def make_evaluator(spec: JobSpec) -> Evaluator:
    from .registry import get_registry

    cls = get_registry().get("evaluator", spec.evaluator)
    return cls(seed=spec.seed, **spec.evaluator_options)


def resolve_metric(spec: JobSpec, dataset: Dataset) -> Metric:
    return get_metric(spec.metric, dataset.task)


class PipelineObjective:
    """``params -> {"value", "metrics", "intermediate"}`` for a backend on a dataset."""

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec
        self._parts: tuple[Backend, Evaluator, Dataset, Metric] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec, "_parts": None}

    def parts(self) -> tuple[Backend, Evaluator, Dataset, Metric]:
        if self._parts is None:
            dataset = load_dataset(self.spec.dataset, self.spec.dataset_options)
            backend = make_backend(self.spec)
            backend.warm_up()
            self._parts = (backend, make_evaluator(self.spec), dataset,
                           resolve_metric(self.spec, dataset))
        return self._parts

    def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        backend, evaluator, dataset, metric = self.parts()
        return evaluator.evaluate(backend, params, dataset, metric)


def final_test(spec: JobSpec, params: dict[str, Any], save_model: str | None = None
               ) -> dict[str, Any]:
    """Retrain ``params`` on the whole training set and score the test set (the notebook's
    last step). Returns ``{"test_score", "test_metrics", "model_path"}``."""
    dataset = load_dataset(spec.dataset, spec.dataset_options)
    backend = make_backend(spec)
    metric = resolve_metric(spec, dataset)
    model = backend.fit(dict(params), dataset.x_train, dataset.y_train, dataset)
    try:
        scores = backend.score(model, dataset.x_test, dataset.y_test, dataset)
        path = backend.save(model, save_model) if save_model else None
    finally:
        backend.release(model)
    if metric.name not in scores:
        raise HPOError(f"backend '{spec.backend}' gave no '{metric.name}' on the test set")
    return {"metric": metric.name, "test_score": scores[metric.name], "test_metrics": scores,
            "model_path": path}
