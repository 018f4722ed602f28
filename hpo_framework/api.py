"""The Python API: ``optimize(objective, space, ...)`` and ask-and-tell with
``create_study(space, ...)``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .contracts.objective import Objective, calling_convention
from .errors import OptionError
from .space import Space
from .study.core import Callback, Constraints, Study
from .study.learned import LearningSetup, wrap
from .study.settings import RunSettings
from .study.setup import StudySetup, plan_run, setup_study


def _space(space: Mapping[str, Any] | Space | str | Path) -> Space:
    if isinstance(space, str | Path):
        return Space.from_file(space)
    return Space.from_dict(space)


def create_study(
    space: Mapping[str, Any] | Space | str | Path | None = None,
    *,
    strategy: str | None = None,
    direction: str | None = None,
    seed: int | None = None,
    storage: str | Path | None = None,
    name: str | None = None,
    new_study: bool = False,
    pruner: str | None = None,
    pruner_options: Mapping[str, Any] | None = None,
    directions: Sequence[str] | None = None,
    constraints: Constraints | None = None,
    study_name: str | None = None,
    **strategy_options: Any,
) -> Study:
    """Open a study for ask-and-tell (created, or resumed when ``name`` exists in
    ``storage``)::

        study = create_study(space, strategy="bayes", storage="hpo.db", name="mine")
        trial = study.ask()
        study.tell(trial, train(**trial.params))

    The study holds its lease until ``study.close()`` (or the end of a ``with`` block,
    or of the process): one driver at a time. ``strategy`` None: the preferred installed.
    ``space`` None: the study learns it from ``study.optimize(objective)``'s
    ``trial.suggest_*`` calls (define-by-run, see the user guide).

    Several objectives: ``directions=["maximize", "minimize"]`` (instead of
    ``direction``), then ``study.tell(trial, [0.93, 1200])`` and ``study.best_trials``
    (the Pareto front). ``constraints``: a function of the finished trial returning
    numbers, feasible when each is <= 0 (Optuna's ``constraints_func``).
    ``study_name``: Optuna's name for ``name``.
    """
    name = _alias(name, study_name, "name")
    setup = _setup(space, space is None, strategy, strategy_options, seed, pruner,
                   pruner_options, _directions(direction, directions), constraints)
    study = setup.open(storage=storage if storage is not None else ":memory:",
                       name=name or f"{setup.strategy}-study",
                       config={"objective": "ask-and-tell"}, new_study=new_study,
                       name_given=name is not None, api=True)
    _say_note(study)
    return study


def optimize(
    objective: Objective,
    space: Mapping[str, Any] | Space | str | Path | None = None,
    *,
    strategy: str | None = None,
    n_trials: int | None = None,
    direction: str | None = None,
    seed: int | None = None,
    n_jobs: int = 1,
    storage: str | Path | None = None,
    study: str | None = None,
    timeout: float | None = None,
    executor: str | None = None,
    executor_options: Mapping[str, Any] | None = None,
    new_study: bool = False,
    callbacks: Sequence[Callback] = (),
    retries: int = 0,
    trial_timeout: float | None = None,
    pruner: str | None = None,
    pruner_options: Mapping[str, Any] | None = None,
    define_by_run: bool = False,
    show_progress: bool = False,
    directions: Sequence[str] | None = None,
    constraints: Constraints | None = None,
    study_name: str | None = None,
    **strategy_options: Any,
) -> Study:
    """Minimize (or maximize) ``objective(params) -> float`` over ``space``.

    Define-by-run: with no ``space`` (or ``define_by_run=True`` beside a declared one),
    ``objective(trial)`` (or ``objective(params, trial)``) calls ``trial.suggest_float``,
    ``suggest_int`` and ``suggest_categorical`` as in Optuna; the study learns the space.

    ``space`` is a dict in the space-file schema, a :class:`Space`, or a path to a
    YAML/JSON/TOML file. With ``storage`` (an SQLite path) the study is saved and a
    second call with the same ``study`` name resumes it. Returns the :class:`Study`
    (``best_params``, ``best_value``, ``trials``, ``to_dataframe()``). ``strategy`` None:
    the preferred installed one (bayes, with the plugins this project ships).

    ``n_jobs > 1`` runs trials in worker processes (the objective may be a lambda or a
    closure: it is sent with cloudpickle); ``retries`` re-runs a trial whose worker died,
    ``trial_timeout`` (seconds) stops a trial that runs too long and records it FAILED.
    With ``pruner`` (median, asha, hyperband) an ``objective(params, trial)`` that calls
    ``trial.report(value, step)`` and checks ``trial.should_prune()`` is stopped early.
    A pausing pruner (halving) needs an objective with ``resumable = True`` that raises
    ``TrialPaused(checkpoint=...)`` when ``trial.should_pause()`` and goes on from
    ``trial.resume`` (see "Early stopping" in the user guide). ``show_progress=True``
    prints the CLI's line per trial (decided of total, best, elapsed, ETA) on stderr.

    Several objectives: ``directions=["maximize", "minimize"]`` (instead of
    ``direction``) and an objective returning one number per objective (a list, or
    ``{"values": [...], "metrics": {...}}``); ``study.best_trials`` is the Pareto front
    (``best_value``/``best_params`` refuse: there is no one best). ``constraints``: a
    function of the finished trial returning numbers, feasible when each is <= 0
    (Optuna's ``constraints_func``); infeasible trials are never best nor on the front.
    ``study_name``: Optuna's name for ``study``.
    """
    study = _alias(study, study_name, "study")
    if not callable(objective):  # refused up front, not every trial FAILED
        raise OptionError(f"optimize() needs an objective function, objective(params) -> "
                          f"float, as its first argument; got {type(objective).__name__}")
    learns = space is None or define_by_run
    if learns:
        objective = wrap(objective)
    takes_trial = calling_convention(objective)
    if pruner is not None and not takes_trial:
        raise OptionError(f"pruner '{pruner}' needs an objective(params, trial) that calls "
                          "trial.report(value, step); this objective takes one argument")
    setup = _setup(space, learns, strategy, strategy_options, seed, pruner, pruner_options,
                   _directions(direction, directions), constraints)
    plan = plan_run(RunSettings(n_trials=n_trials, timeout=timeout, n_jobs=n_jobs,
                                retries=retries, trial_timeout=trial_timeout),
                    pruner=setup.pruner, resumable=getattr(objective, "resumable", False),
                    finite=setup.strategy_cls.finite, strategy=setup.strategy,
                    executor=executor, executor_options=executor_options)
    the_study = setup.open(
        storage=storage if storage is not None else ":memory:",
        name=study or f"{setup.strategy}-{getattr(objective, '__name__', 'objective')}",
        new_study=new_study, name_given=study is not None, api=True,
        config={"objective": getattr(objective, "__qualname__", type(objective).__name__)})
    _say_note(the_study)
    if show_progress:  # off by default, as in a library
        from .results.progress import ProgressLines

        callbacks = [*callbacks, ProgressLines(n_trials, the_study)]
    from .study.loop import run

    try:
        run(the_study, objective, plan, callbacks=callbacks)
    finally:
        the_study.close()
    _warn_if_none_completed(the_study)
    return the_study


def _setup(space: Any, learns: bool, strategy: str | None,
           strategy_options: Mapping[str, Any], seed: int | None, pruner: str | None,
           pruner_options: Mapping[str, Any] | None, directions: list[str],
           constraints: Constraints | None) -> StudySetup:
    """The API's one call of the setup path; a study that ``learns`` its space (from
    ``trial.suggest_*``) may have no declared one."""
    return setup_study(None if space is None else _space(space), strategy=strategy,
                       strategy_options=strategy_options, seed=seed, pruner=pruner,
                       pruner_options=pruner_options,
                       setup_cls=LearningSetup if learns else StudySetup,
                       directions=directions, constraints=constraints)


def _alias(name: str | None, study_name: str | None, ours: str) -> str | None:
    """``study_name=`` (Optuna's) for ``name``/``study``; both given is one line."""
    if name is not None and study_name is not None:
        raise OptionError(f"give {ours}= or study_name= (the same thing), not both")
    return name if study_name is None else study_name


def _directions(direction: str | None, directions: Sequence[str] | None) -> list[str]:
    """One objective's ``direction`` or several ``directions``, never both."""
    if direction is not None and directions is not None:
        raise OptionError("give direction= (one objective) or directions=[...] (several), "
                          "not both")
    if directions is not None:
        if isinstance(directions, str):
            raise OptionError(f"directions takes a list such as ['maximize', 'minimize'], got "
                              f"{directions!r} (one objective: direction={directions!r})")
        return list(directions)
    return [direction or "minimize"]


def _say_note(study: Study) -> None:
    """A default name taken by another setup gave this study another name: say so."""
    if study.note:
        import warnings

        warnings.warn(study.note, UserWarning, stacklevel=3)


def _warn_if_none_completed(study: Study) -> None:
    """The CLI exits non-zero when no trial completed; optimize() says so with the first
    error, so that ``best_value`` None does not pass unnoticed."""
    import warnings

    failed = [t for t in study.trials if t.state.value == "FAILED"]
    complete = study.complete_trials
    if not complete and failed:
        warnings.warn(f"no trial of study '{study.name}' completed ({len(failed)} FAILED); the "
                      f"first error: {failed[0].error}", RuntimeWarning, stacklevel=3)
    elif complete and not any(t.feasible for t in complete):
        warnings.warn(f"no trial of study '{study.name}' is feasible: each of the "
                      f"{len(complete)} COMPLETE ones violates a constraint (best_trials is "
                      "empty)", RuntimeWarning, stacklevel=3)
