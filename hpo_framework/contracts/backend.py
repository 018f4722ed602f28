"""The backend (model builder) and evaluator contracts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from ..options import Configurable
from .dataset import Dataset
from .measured import MEASURED  # the measured metrics' names and directions (issue 25)
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
    #: the parameter (or option) that is the budget a pruner's rungs count in, when its
    #: steps are not epochs: boosting's ``n_estimators``. A pruner's ``max_resource``, not
    #: given, is then its upper bound in the space (or the option's value)
    resource_param: ClassVar[str | None] = None
    #: with ``resource_param``: the share of a whole trial's steps (the pruner's
    #: ``max_resource``) before which a pruner judges no trial. A pruner that was not given
    #: where its judging starts (``min_resource``: asha, asha-promote, hyperband;
    #: ``n_warmup_steps``: median) starts there (:func:`pruner_grace`). Boosting: 0.22, as
    #: the first rounds rank learning rates, not models (``benchmarks/boosting.py``)
    resource_grace: ClassVar[float | None] = None
    #: with ``resource_param``: other options a pruner takes by default with this backend,
    #: each where the pruner has it and the user did not give it (:func:`pruner_grace`).
    #: Boosting: asha's ``trend_window`` (judge a slow learner by where its trend leads)
    pruner_defaults: ClassVar[dict[str, Any]] = {}

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

    def parameter_ranges(self) -> dict[str, str]:
        """The values a parameter may take, as intervals: ``{"learning_rate": "(0, inf)",
        "subsample": "(0, 1]"}`` (``inf`` for no bound; a bracket keeps the end, a
        parenthesis leaves it out). A space that reaches outside one is refused before the
        first trial (:func:`check_ranges`), not failed trial by trial by the library.
        Empty: nothing is known (a user model)."""
        return {}

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

    def n_params(self, model: Any) -> int | None:
        """The trained model's number of parameters (a network's trainable weights, the
        nodes of a booster's trees: each backend says what it counts), recorded as the
        trial's ``n_params``; None when unknown (then nothing is recorded)."""
        return None

    def release(self, model: Any) -> None:
        """Free what one trial held (a Keras session, say). Called after every fit."""

    def warm_up(self) -> None:
        """Import heavy libraries before the first trial. Worker processes call it when
        they start, so a library's import time does not count against a trial's timeout."""

    def score(self, model: Any, x: Any, y: Any, dataset: Dataset,
              metrics: Sequence[Metric] = ()) -> dict[str, float]:
        """Every metric of the dataset's task, computed by the core's numpy metrics, and
        each of ``metrics`` (the ones the study asks for, a custom one say) that the
        model's outputs allow."""
        pred = self.predict(model, x)
        proba = self.predict_proba(model, x) if dataset.task == "classification" else None
        scores = score_all(dataset.task, y, pred, proba)
        return {**scores, **scored(metrics, y, pred, proba, skip=scores)}


class Evaluator(Configurable):
    """Turns (backend, params, dataset) into a validation score."""

    kind: ClassVar[str] = "evaluator"

    def __init__(self, *, seed: int | None = None, **options: Any) -> None:
        self.seed = seed
        self.config = self.validate(options)

    def check(self, dataset: Dataset) -> None:
        """Refuse a dataset this evaluator cannot split (before any trial runs)."""

    def evaluate(
        self, backend: Backend, params: dict[str, Any], dataset: Dataset, metric: Metric,
        *, metrics: Sequence[Metric] = (),
    ) -> dict[str, Any]:
        """Return ``{"value": float, "metrics": {...}, "intermediate": [...]}``: the value
        is ``metric``'s; ``metrics`` holds it, every metric in ``metrics`` (more metrics
        the study records) and the measured ones (:func:`fit_and_score`). An evaluator
        written before ``metrics=`` existed still works: callers check
        :func:`accepts_metrics` first."""
        raise NotImplementedError


def parse_interval(text: str) -> tuple[float, float, bool, bool]:
    """``"(0, 1]"`` -> ``(low, high, low_kept, high_kept)``; ValueError for another text."""
    import re

    m = re.fullmatch(r"\s*([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])\s*", str(text))
    try:
        if m is None:
            raise ValueError
        return float(m[2]), float(m[3]), m[1] == "[", m[4] == "]"
    except ValueError:
        raise ValueError(f"not an interval: {text!r} (write it as '[0, 1]' or "
                         "'(0, inf)')") from None


def in_interval(value: float, interval: tuple[float, float, bool, bool]) -> bool:
    low, high, low_kept, high_kept = interval
    return (low < value or (low_kept and value == low)) and \
        (value < high or (high_kept and value == high))


def check_ranges(space: Any, ranges: dict[str, str], owner: str) -> None:
    """Every value ``space`` can give a parameter of ``ranges`` lies in its interval; else
    an OptionError that names the parameter, the value and what to change. Numbers only:
    a choice that is not a number is the library's to judge."""
    from ..errors import OptionError, PluginError

    for dim in space:
        if dim.name not in ranges:
            continue
        try:
            interval = parse_interval(ranges[dim.name])
        except (TypeError, ValueError) as exc:
            raise PluginError(f"{owner} declares a range for '{dim.name}' that is "
                              f"{exc}") from None
        for what, value in _extremes(dim):
            if not in_interval(value, interval):
                raise OptionError(
                    f"parameter '{dim.name}': the space gives it {value:g} ({what}), but "
                    f"{owner} takes {dim.name} in {ranges[dim.name].strip()}; change "
                    f"{what} in the space")


def _extremes(dim: Any) -> list[tuple[str, float]]:
    """(where in the space, value) of the numbers a dimension can give: a range's ends, a
    values list's, each numeric choice, a constant."""
    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if getattr(dim, "values", None) is not None:
        return [("values", v) for v in (min(dim.values), max(dim.values))]
    if hasattr(dim, "low") and hasattr(dim, "high"):
        return [("low", dim.low), ("high", dim.high)]
    if hasattr(dim, "choices"):
        return [("choices", c) for c in dim.choices if number(c)]
    return [("value", dim.value)] if number(getattr(dim, "value", None)) else []


#: the pruner options that say at which step judging starts (see ``resource_grace``)
GRACE_OPTIONS = ("min_resource", "n_warmup_steps")


def pruner_grace(backend: Any, max_resource: int | None, option_names: Sequence[str] | Any,
                 given: Sequence[str] | Any = ()) -> dict[str, int]:
    """The options a pruner takes by default with ``backend``: each of
    :data:`GRACE_OPTIONS` that the pruner has (``option_names``) and the user did not give
    (``given``) is ``backend.resource_grace`` times ``max_resource`` (the whole trial's
    steps, at least 1), and each of ``backend.pruner_defaults`` that it has and was not
    given is that value. Empty for a backend without ``resource_grace`` or without a
    ``max_resource``: pruners keep their own defaults."""
    share = getattr(backend, "resource_grace", None)
    if not share or not max_resource or isinstance(max_resource, bool) \
            or not isinstance(max_resource, int):
        return {}
    step = max(1, int(max_resource * share))
    defaults: dict[str, Any] = dict.fromkeys(GRACE_OPTIONS, step)
    defaults.update(getattr(backend, "pruner_defaults", None) or {})
    return {name: value for name, value in defaults.items()
            if name in option_names and name not in given}


def accepts_metrics(evaluator: Any) -> bool:
    """True when ``evaluator.evaluate`` takes the ``metrics=`` keyword (or ``**kwargs``);
    a third-party evaluator written before it existed does not, and is called without."""
    return _accepts(getattr(evaluator, "evaluate", None), "metrics")


def _accepts(fn: Any, name: str) -> bool:
    import inspect

    if fn is None:
        return False
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD
                                 for p in params.values())


def scored(metrics: Sequence[Metric], y: Any, pred: Any, proba: Any = None,
           skip: Any = (), y_index: Any = None) -> dict[str, float]:
    """Each metric of ``metrics`` (not named in ``skip``) computed from a model's outputs:
    ``pred`` (labels or values) and ``proba`` (class probabilities; None when the model
    has none: the metrics that need them are left out). A metric that needs
    probabilities gets ``y_index`` (the labels as column positions of ``proba``) when
    given, else ``y``."""
    out: dict[str, float] = {}
    labels: int | None = None
    for m in metrics:
        if m.name in skip or m.name in out or getattr(m, "fn", None) is None:
            continue
        if m.needs_proba and proba is None:
            continue
        if getattr(m, "binary", False):  # defined for two classes only
            if labels is None:
                import numpy as np

                labels = len(np.unique(np.concatenate([np.ravel(y), np.ravel(pred)])))
            if labels > 2:
                continue
        target = y_index if m.needs_proba and y_index is not None else y
        out[m.name] = float(m.fn(target, pred, proba))
    return out


def asked_metrics(report: Report | None) -> tuple[Metric, ...]:
    """The metrics the evaluation records (the study's metric first), as ``fit`` finds
    them on its ``report``: a backend that reports per epoch adds ``val_<name>`` for each
    one it can compute cheaply from its validation outputs (see :func:`epoch_scores`).
    Empty for a ``report`` that is not :func:`fit_and_score`'s."""
    return tuple(getattr(report, "metrics", ()) or ())


def epoch_scores(report: Report | None, y: Any, pred: Any, proba: Any = None,
                 have: Any = (), y_index: Any = None) -> dict[str, float]:
    """``val_<name>`` of each asked metric (:func:`asked_metrics`) computed from one
    epoch's validation outputs (as :func:`scored`), except those in ``have`` (already
    reported) and the measured ones."""
    asked = [m for m in asked_metrics(report)
             if f"val_{m.name}" not in have and m.name not in MEASURED]
    return {f"val_{k}": v for k, v in scored(asked, y, pred, proba, y_index=y_index).items()}


class BestEpoch:
    """``-B score=best`` for a backend that trains by epochs: the epoch whose validation
    value of the study's metric (``val_<metric>``, in its direction; without one,
    ``val_loss``) was best so far, and what ``snapshot()`` kept of the model then. Ties
    keep the earlier epoch. Inactive (``epoch`` stays None) unless ``active``.

    ``state()`` goes into a paused fit's checkpoint and ``BestEpoch(..., state=)`` takes
    it back, so a resumed trial still knows the epochs before its pause."""

    def __init__(self, report: Report | None, active: bool, state: Any = None) -> None:
        metric = getattr(report, "metric", None)
        self.active = bool(active and report is not None)
        self.key = "val_loss" if metric is None else f"val_{metric.name}"
        self.sign = -1.0 if metric is not None and metric.direction == "maximize" else 1.0
        self.epoch: int | None = None
        self.loss = float("inf")  # the best value so far, as a loss (minimized)
        self.kept: Any = None
        self.extra: Any = None
        if state and state.get("best"):
            self.epoch, self.loss, self.kept = state["best"]

    def update(self, epoch: int, values: dict[str, float], snapshot: Callable[[], Any],
               extra: Any = None) -> bool:
        """After an epoch: keep ``snapshot()`` (and ``extra``, the validation output say)
        when ``values`` are the best so far; True when they are."""
        import math

        if not self.active:
            return False
        if self.key in values:
            loss = self.sign * float(values[self.key])
        elif "val_loss" in values:
            loss = float(values["val_loss"])
        else:
            return False
        if not math.isfinite(loss) or loss >= self.loss:
            return False
        self.epoch, self.loss, self.kept, self.extra = int(epoch), loss, snapshot(), extra
        return True

    def state(self) -> dict[str, Any]:
        """What a paused fit's checkpoint keeps of it (empty when inactive)."""
        return {"best": (self.epoch, self.loss, self.kept)} if self.epoch is not None else {}


#: timed predictions of the whole validation set after one untimed warm-up; the best
#: one counts (the least disturbed by other work on the machine)
LATENCY_REPEATS = 5


def measure_latency(backend: Backend, model: Any, x: Any) -> float | None:
    """Mean prediction time per row, in milliseconds: ``backend.predict`` on all rows of
    ``x`` (a copy, so that a backend's cached output of the validation rows is not
    reused), once untimed (compiles, caches), then :data:`LATENCY_REPEATS` times with
    Python's garbage collector paused (as ``timeit`` does); the best wall time
    (``time.perf_counter``) over the rows. The best of several is what makes trials
    comparable on a machine doing other work, where single calls are delayed at random.
    None when ``x`` has no rows."""
    import gc
    import time

    import numpy as np

    rows = len(x)
    if rows == 0:
        return None
    x = np.array(x, copy=True)
    backend.predict(model, x)
    best = float("inf")
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(LATENCY_REPEATS):
            started = time.perf_counter()
            backend.predict(model, x)
            best = min(best, time.perf_counter() - started)
    finally:
        if collecting:
            gc.enable()
    return best * 1000.0 / rows


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


def score_model(backend: Backend, model: Any, x: Any, y: Any, dataset: Dataset,
                metrics: Sequence[Metric] = ()) -> dict[str, float]:
    """``backend.score`` with ``metrics`` (scorer metrics beyond the task's): passed when
    the backend takes them; for one written before ``metrics=``, the missing ones are
    computed from its ``predict``/``predict_proba``."""
    wanted = list(metrics)
    if _accepts(backend.score, "metrics"):
        return backend.score(model, x, y, dataset, metrics=wanted)
    scores = backend.score(model, x, y, dataset)
    missing = [m for m in wanted if m.name not in scores]
    if missing:
        pred = backend.predict(model, x)
        proba = backend.predict_proba(model, x) if dataset.task == "classification" else None
        scores = {**scores, **scored(missing, y, pred, proba)}
    return scores


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
    *,
    metrics: Sequence[Metric] = (),
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Train on one split, score on the other; per-epoch reports are collected. With a
    ``metric`` each report also goes to the running trial (``value``: the pruning signal);
    when its pruner says stop (and ``prune``), ``TrialPruned`` ends training there, and
    when it says pause, ``TrialPaused`` (which a resumable backend gives its checkpoint).
    A trial resumed from a checkpoint goes on from it (its earlier steps are the
    driver's).

    The scores hold every metric of the task, ``metric`` and ``metrics`` (more the study
    records; ``report.metrics`` tells ``fit`` which, for its per-epoch values) and what
    is measured the same way for every backend (:data:`MEASURED`): ``train_s``, the wall
    seconds of ``backend.fit`` (of the part after a pause, for a resumed trial);
    ``latency_ms`` (:func:`measure_latency`, only when ``metrics`` asks for it:
    ``contracts.measured.measured_metric("latency_ms")``); ``n_params`` (:meth:`Backend.n_params`,
    left out when the backend does not know)."""
    import time

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

    asked: list[Metric] = []
    for m in (metric, *metrics):
        if m is not None and all(m.name != a.name for a in asked):
            asked.append(m)
    report.metric = metric  # type: ignore[attr-defined]
    report.metrics = tuple(asked)  # type: ignore[attr-defined]
    extra = {"resume": resume} if backend.resumable else {}
    started = time.perf_counter()
    model = backend.fit(params, x_train, y_train, dataset, validation=(x_val, y_val),
                        report=report, **extra)
    train_s = time.perf_counter() - started
    try:
        measured: dict[str, float] = {"train_s": train_s}
        if any(m.name == "latency_ms" for m in asked):  # extra predictions: when asked
            latency = measure_latency(backend, model, x_val)
            if latency is not None:
                measured["latency_ms"] = latency
        n_params = backend.n_params(model)
        if n_params is not None:
            measured["n_params"] = int(n_params)
        scores = score_model(backend, model, x_val, y_val, dataset,
                             [m for m in asked if m.name not in MEASURED])
    finally:
        backend.release(model)
    return {**scores, **measured}, steps
