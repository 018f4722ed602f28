"""Running one evaluation and turning whatever happened into an Outcome.

The objective protocol: a callable ``objective(params)`` or ``objective(params, trial)``
(the second argument is a :class:`TrialHandle`, for ``trial.report(value, step)`` and
``trial.should_prune()``, as in Optuna): two positional parameters mean the second is the
trial, or ``objective.takes_trial`` says so (see :func:`calling_convention`). It returns a number, or a mapping with
``value`` and optional ``metrics`` (dict), ``intermediate`` (list) and ``user_attrs``.
With several objectives it returns a sequence of numbers (a list, a tuple, a 1-D array),
or a mapping with ``values`` instead of ``value``.
An objective object may also have ``warm_up()``: executors call it once per process
before the first trial (import TensorFlow, load the data), so that a trial's duration
and ``--trial-timeout`` do not pay for it.
"""

from __future__ import annotations

import contextvars
import math
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import TrialPaused, TrialPruned
from .trial import PAUSE, Outcome, TrialState

Objective = Callable[..., Any]
#: ``reporter(number, step, value) -> bool | "pause"``: tells the driver one intermediate
#: value of a running trial; True means the study's pruner stops it, ``PAUSE`` pauses it
Reporter = Callable[[int, int, float], Any]


def decision(answer: Any) -> bool | str:
    """A reporter's answer as it travels: ``PAUSE``, or True (stop) / False (go on)."""
    return PAUSE if answer == PAUSE else bool(answer)

_CURRENT: contextvars.ContextVar[TrialHandle | None] = contextvars.ContextVar(
    "hpo_current_trial", default=None)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class TrialHandle:
    """What a running trial's code sees: its number, params and a line to the pruner.

    ``resume``: the checkpoint of this trial's earlier, paused run (None: a fresh start);
    a backend that can resume goes on from it (see ``TrialPaused``)."""

    def __init__(self, number: int, params: dict[str, Any], reporter: Reporter | None = None,
                 resume: Any = None) -> None:
        self.number = number
        self.params = params
        self.resume = resume
        self._reporter = reporter
        self._prune: bool | str = False
        self._started = time.perf_counter()
        self.intermediate: list[dict[str, Any]] = []
        self._steps: set[int] = set()  # the steps in ``intermediate``: a report is O(1)

    def elapsed(self) -> float:
        return time.perf_counter() - self._started

    def report(self, value: float, step: int, **extra: float) -> None:
        """Record the objective's ``value`` after ``step`` (an epoch, say), in Optuna's
        order (keywords too: ``report(value=0.9, step=3)``); the study's pruner decides at
        once whether the trial should stop (see :meth:`should_prune`). A step that is not
        an integer >= 0 (the reverse order, say) is refused in one line; a step reported
        again is ignored with a warning, as Optuna does."""
        step = report_step(step)
        value = float(value)
        if step in self._steps:
            import warnings

            warnings.warn(f"trial {self.number}: step {step} was reported already; this value "
                          "is ignored", RuntimeWarning, stacklevel=2)
            return
        self.intermediate.append({"step": step, "value": value,
                                  **{k: float(v) for k, v in extra.items()}})
        self._steps.add(step)
        if self._reporter is not None and math.isfinite(value):
            self._prune = decision(self._reporter(self.number, step, value))

    def should_prune(self) -> bool:
        """True when the pruner said stop (or pause) after the last report: raise
        TrialPruned (or, to be resumed later, TrialPaused with a checkpoint)."""
        return bool(self._prune)

    def should_pause(self) -> bool:
        """True when the pruner paused the trial after the last report: raise
        ``TrialPaused(checkpoint=...)`` to be resumed later (a plain TrialPruned ends it)."""
        return self._prune == PAUSE


def report_step(step: Any) -> int:
    """``trial.report(value, step)``'s step as an int; anything else is one HPOError line."""
    import numbers

    from ..errors import HPOError

    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
        raise HPOError(f"trial.report(value, step): step must be an integer >= 0 (an epoch, "
                       f"say), got {_short(step)}; the order is Optuna's: report(value, step)")
    return int(step)


def not_a_number(value: Any) -> bool:
    """Text and truth values are not scores, though ``float()`` takes "0.5" and True: a
    trial that returns one is FAILED, never recorded as 0.5 or 1.0."""
    if isinstance(value, str | bytes | bytearray | bool):
        return True
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    return kind is not None and kind not in "iuf"


def current_trial() -> TrialHandle | None:
    """The trial this thread is evaluating (evaluators report per-epoch values to it)."""
    return _CURRENT.get()


def calling_convention(objective: Objective) -> bool:
    """True for ``objective(params, trial)``, False for ``objective(params)``: an explicit
    ``takes_trial`` attribute decides, else the number of positional parameters (two: the
    trial is passed, whatever their names or defaults). Any other shape is refused in one
    line, before the first trial."""
    import inspect

    from ..errors import OptionError

    declared = getattr(objective, "takes_trial", None)
    if declared is not None:
        return bool(declared)
    known = _CONVENTIONS.get(id(objective))
    if known is not None and known[0] is objective:  # asked again each trial: answered once
        return known[1]
    try:
        sig = inspect.signature(objective)
    except (TypeError, ValueError):  # a builtin: called with params only
        return False
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    keyword_only = [p for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    if len(required) > 2 or keyword_only or (not positional and not any(
            p.kind is p.VAR_POSITIONAL for p in params)):
        raise OptionError(
            f"the objective takes ({', '.join(p.name for p in params)}): write "
            "objective(params) or objective(params, trial) (or set objective.takes_trial)")
    if len(_CONVENTIONS) >= 64:
        _CONVENTIONS.clear()
    # the objective itself is kept beside its answer, so a reused id is never mistaken
    _CONVENTIONS[id(objective)] = (objective, len(positional) >= 2)
    return len(positional) >= 2


#: id(objective) -> (objective, takes the trial): inspect.signature costs more than a
#: cheap trial, and the loop asks for every trial
_CONVENTIONS: dict[int, tuple[Objective, bool]] = {}


def evaluate(objective: Objective, params: dict[str, Any], *, number: int = -1,
             reporter: Reporter | None = None, resume: Any = None) -> Outcome:
    """Call the objective; exceptions (``sys.exit()`` too), NaN, inf and numbers too big
    for a float become FAILED outcomes, never raise. Only KeyboardInterrupt escapes.
    ``resume``: a paused run's checkpoint, for the backend to go on from."""
    handle = TrialHandle(number, dict(params), reporter, resume)
    outcome = _run(objective, params, handle)
    outcome.suggested = getattr(handle, "suggested", None)  # a define-by-run objective's
    return outcome


def _run(objective: Objective, params: dict[str, Any], handle: TrialHandle) -> Outcome:
    token = _CURRENT.set(handle)
    start = time.perf_counter()
    try:
        result = objective(dict(params), handle) if calling_convention(objective) \
            else objective(dict(params))
    except TrialPaused as exc:
        steps = handle.intermediate
        where = f"paused at step {steps[-1]['step']}" if steps else "paused"
        if exc.checkpoint is None:  # nothing to resume from: a plain prune
            where = "pruned" + where[len("paused"):]
        return Outcome(TrialState.PRUNED if exc.checkpoint is None else TrialState.PAUSED,
                       error=str(exc) or where, intermediate=list(steps),
                       duration=time.perf_counter() - start, checkpoint=exc.checkpoint)
    except TrialPruned as exc:
        steps = handle.intermediate
        where = f"pruned at step {steps[-1]['step']}" if steps else "pruned"
        return Outcome(TrialState.PRUNED, error=str(exc) or where, intermediate=list(steps),
                       duration=time.perf_counter() - start)
    except SystemExit as exc:
        return Outcome(TrialState.FAILED, error=f"the objective called sys.exit({exc.code!r})",
                       duration=time.perf_counter() - start, intermediate=list(handle.intermediate))
    except Exception as exc:
        tb = traceback.format_exc(limit=-3)
        return Outcome(TrialState.FAILED, error=error_text(exc), intermediate=list(handle.intermediate),
                       duration=time.perf_counter() - start, user_attrs={"traceback": tb})
    finally:
        _CURRENT.reset(token)
    duration = time.perf_counter() - start
    metrics: dict[str, Any] = {}
    intermediate: list[Any] = list(handle.intermediate)
    user_attrs: dict[str, Any] = {}
    if isinstance(result, Mapping):
        if "value" not in result and "values" not in result:
            return Outcome(TrialState.FAILED, error="objective returned a mapping without "
                           "'value' (or 'values' for several objectives)", duration=duration)
        metrics = dict(result.get("metrics") or {})
        intermediate = list(result.get("intermediate") or intermediate)
        user_attrs = dict(result.get("user_attrs") or {})
        result = result["values"] if "values" in result else result["value"]
    if is_vector(result):
        values, why = vector_of(result)
        if why is not None:
            return Outcome(TrialState.FAILED, error=f"objective returned {why}",
                           duration=duration, metrics=metrics, intermediate=intermediate)
        return Outcome(TrialState.COMPLETE, value=values[0], values=values, metrics=metrics,
                       intermediate=intermediate, duration=duration, user_attrs=user_attrs)
    try:
        if not_a_number(result):
            raise TypeError(type(result).__name__)
        value = float(result)
    except OverflowError:
        return Outcome(TrialState.FAILED, error="objective returned a number too large for a "
                       "float", duration=duration, metrics=metrics, intermediate=intermediate)
    except (TypeError, ValueError):
        shown = f"{type(result).__name__} {_short(result)}" if not_a_number(result) \
            else type(result).__name__
        return Outcome(TrialState.FAILED, error=f"objective returned {shown}, not a number",
                       duration=duration, metrics=metrics)
    if not math.isfinite(value):
        return Outcome(TrialState.FAILED, error=f"objective returned {value}", duration=duration,
                       metrics=metrics, intermediate=intermediate)
    return Outcome(TrialState.COMPLETE, value=value, metrics=metrics, intermediate=intermediate,
                   duration=duration, user_attrs=user_attrs)


def is_vector(result: Any) -> bool:
    """True for what several objectives return: a list, a tuple, a 1-D (or larger) array."""
    if isinstance(result, list | tuple):
        return True
    ndim = getattr(result, "ndim", None)
    return isinstance(ndim, int) and not isinstance(ndim, bool) and ndim >= 1


def vector_of(result: Any) -> tuple[list[float], str | None]:
    """The numbers of a sequence of objective values, or why they are not (the words
    after "objective returned"): an empty one, a non-number, NaN or inf among them."""
    items = list(result.tolist() if hasattr(result, "tolist") else result)
    if not items:
        return [], "no value (an empty sequence)"
    values = []
    for i, item in enumerate(items, 1):
        where = f"value {i} of {len(items)}"
        try:
            if not_a_number(item) or isinstance(item, list | tuple):
                raise TypeError(type(item).__name__)
            number = float(item)
        except OverflowError:
            return [], f"{where} too large for a float"
        except (TypeError, ValueError):
            return [], f"{where} as {type(item).__name__} {_short(item)}, not a number"
        if not math.isfinite(number):
            return [], f"{where} = {number}"
        values.append(number)
    return values, None
