"""The backend (model builder) and evaluator contracts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ..options import Configurable
from .dataset import Dataset
from .metrics import Metric, score_all

Report = Callable[[int, dict[str, float]], None]


class Backend(Configurable):
    """Builds and trains a model from params; declares its default search space.

    Options common to all backends are passed as keyword arguments (validated against
    ``options``); ``seed`` makes training repeatable, ``verbose`` lets the library talk.
    """

    kind: ClassVar[str] = "backend"
    #: True when :meth:`fit` calls ``report`` once per epoch (a pruner can then stop it)
    reports_intermediate: ClassVar[bool] = False
    #: True when a paused fit can go on later (a pausing pruner needs it): :meth:`fit`
    #: takes ``resume`` (the checkpoint of the paused fit, or None) and, when ``report``
    #: raises ``TrialPaused``, sets the exception's ``checkpoint`` before it leaves the
    #: epoch loop. A resumed fit reports the steps after the checkpoint's, and trains and
    #: ends as the fit would have had it never paused.
    resumable: ClassVar[bool] = False

    def __init__(self, *, seed: int | None = None, verbose: bool = False, **options: Any) -> None:
        self.seed = seed
        self.verbose = verbose
        self.config = self.validate(options)

    def default_space(self, dataset: Dataset) -> dict[str, Any]:
        """The search space used when the user gives none (the space-file schema)."""
        raise NotImplementedError

    def parameters(self) -> set[str] | None:
        """The parameter names this backend understands; None: any (a user model). A
        space with another name is refused before the first trial."""
        return None

    def fit(
        self,
        params: dict[str, Any],
        x: Any,
        y: Any,
        dataset: Dataset,
        *,
        validation: tuple[Any, Any] | None = None,
        report: Report | None = None,
    ) -> Any:
        """Train a model. Call ``report(step, {"val_loss": ..., ...})`` per epoch when a
        validation set is given. Raise an exception (e.g. on a NaN loss) to fail the trial."""
        raise NotImplementedError

    def predict(self, model: Any, x: Any) -> Any:
        """Class labels (classification) or values (regression)."""
        raise NotImplementedError

    def predict_proba(self, model: Any, x: Any) -> Any | None:
        """Class probabilities, or None when the model has none."""
        return None

    def save(self, model: Any, path: str) -> str:
        """Write the model to ``path``; return the path written."""
        raise NotImplementedError(f"backend '{self.name}' cannot save models")

    def final_params(self, params: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
        """The params the final retrain on all training data uses, from the best trial's
        params and the metrics it recorded (a booster that stopped early retrains to the
        round it stopped at). Default: the params as they are."""
        return params

    def release(self, model: Any) -> None:
        """Free what one trial held (a Keras session, say). Called after every fit."""

    def warm_up(self) -> None:
        """Import heavy libraries before the first trial. Worker processes call it when
        they start, so a library's import time does not count against a trial's timeout."""

    def score(self, model: Any, x: Any, y: Any, dataset: Dataset) -> dict[str, float]:
        """Every metric of the dataset's task, computed by the core's numpy metrics."""
        pred = self.predict(model, x)
        proba = self.predict_proba(model, x) if dataset.task == "classification" else None
        return score_all(dataset.task, y, pred, proba)


class Evaluator(Configurable):
    """Turns (backend, params, dataset) into a validation score."""

    kind: ClassVar[str] = "evaluator"

    def __init__(self, *, seed: int | None = None, **options: Any) -> None:
        self.seed = seed
        self.config = self.validate(options)

    def check(self, dataset: Dataset) -> None:
        """Refuse a dataset this evaluator cannot split (before any trial runs)."""

    def evaluate(
        self, backend: Backend, params: dict[str, Any], dataset: Dataset, metric: Metric
    ) -> dict[str, Any]:
        """Return ``{"value": float, "metrics": {...}, "intermediate": [...]}``."""
        raise NotImplementedError


def signal(values: dict[str, float], metric: Metric | None) -> float | None:
    """The pruning signal of one epoch's report, in the metric's direction: the validation
    metric when the backend reports it (``val_accuracy``), else the validation loss (its
    negative for a maximized metric)."""
    if metric is None:
        return None
    if f"val_{metric.name}" in values:
        return float(values[f"val_{metric.name}"])
    if "val_loss" in values:
        loss = float(values["val_loss"])
        return loss if metric.direction == "minimize" else -loss
    return None


def fit_and_score(
    backend: Backend,
    params: dict[str, Any],
    dataset: Dataset,
    x_train: Any,
    y_train: Any,
    x_val: Any,
    y_val: Any,
    metric: Metric | None = None,
    prune: bool = True,
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Train on one split, score on the other; per-epoch reports are collected. With a
    ``metric`` each report also goes to the running trial (``value``: the pruning signal);
    when its pruner says stop (and ``prune``), ``TrialPruned`` ends training there, and
    when it says pause, ``TrialPaused`` (which a resumable backend gives its checkpoint).
    A trial resumed from a checkpoint goes on from it (its earlier steps are the
    driver's)."""
    from ..errors import TrialPaused, TrialPruned
    from .objective import current_trial

    steps: list[dict[str, float]] = []
    trial = current_trial() if prune else None
    resume = trial.resume if trial is not None and backend.resumable else None

    def report(step: int, values: dict[str, float]) -> None:
        record = {"step": int(step), **{k: float(v) for k, v in values.items()}}
        value = signal(values, metric)
        if value is not None:
            record["value"] = value
        steps.append(record)
        if trial is not None and value is not None:
            extra = {k: v for k, v in record.items() if k not in ("step", "value")}
            trial.report(value, step, **extra)
            if trial.should_pause():
                raise TrialPaused()
            if trial.should_prune():
                raise TrialPruned(f"pruned at step {step}")

    extra = {"resume": resume} if backend.resumable else {}
    model = backend.fit(params, x_train, y_train, dataset, validation=(x_val, y_val),
                        report=report, **extra)
    try:
        scores = backend.score(model, x_val, y_val, dataset)
    finally:
        backend.release(model)
    return scores, steps
