"""The Python API: ``optimize(objective, space, ...)`` and ask-and-tell with
``create_study(space, ...)``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .contracts.objective import Objective, _takes_trial
from .errors import OptionError
from .registry import Registry, get_registry, make_executor, make_pruner
from .space import Space
from .study.core import Callback, Study
from .study.settings import RunSettings, check_seed
from .study.storage import Storage


def dry_run(strategy_cls: Any, space: Space, options: Mapping[str, Any]) -> None:
    """Build the strategy once before any storage is opened: its own refusals (a grid too
    large, a bayes x0 outside the space) then leave no file behind."""
    strategy_cls(space, seed=0, **dict(options))


def _resolve(space: Any, strategy: str | None, seed: int | None,
             options: Mapping[str, Any]) -> tuple[Registry, Space, str, Any]:
    """Check everything a study needs before any storage is opened."""
    check_seed(seed, "seed")
    the_space = _space(space)
    registry = get_registry()
    strategy = registry.resolve("strategy", strategy)
    strategy_cls = registry.get("strategy", strategy)
    dry_run(strategy_cls, the_space, options)
    return registry, the_space, strategy, strategy_cls


def _space(space: Mapping[str, Any] | Space | str | Path) -> Space:
    if isinstance(space, str | Path):
        return Space.from_file(space)
    return Space.from_dict(space)


def create_study(
    space: Mapping[str, Any] | Space | str | Path,
    *,
    strategy: str | None = None,
    direction: str = "minimize",
    seed: int | None = None,
    storage: str | Path | None = None,
    name: str | None = None,
    new_study: bool = False,
    pruner: str | None = None,
    pruner_options: Mapping[str, Any] | None = None,
    **strategy_options: Any,
) -> Study:
    """Open a study for ask-and-tell (created, or resumed when ``name`` exists in
    ``storage``)::

        study = create_study(space, strategy="bayes", storage="hpo.db", name="mine")
        trial = study.ask()
        study.tell(trial, train(**trial.params))

    The study holds its lease until ``study.close()`` (or the end of a ``with`` block,
    or of the process): one driver at a time. ``strategy`` None: the preferred installed.
    """
    registry, the_space, strategy, strategy_cls = _resolve(space, strategy, seed,
                                                           strategy_options)
    store = Storage(storage if storage is not None else ":memory:")
    return Study.open(
        storage=store, name=name or f"{strategy}-study", space=the_space,
        strategy_cls=strategy_cls, strategy_options=strategy_options, direction=direction,
        seed=seed, config={"objective": "ask-and-tell"}, new_study=new_study,
        hooks=registry.hook, pruner=make_pruner(registry, pruner, pruner_options, seed),
    )


def optimize(
    objective: Objective,
    space: Mapping[str, Any] | Space | str | Path,
    *,
    strategy: str | None = None,
    n_trials: int | None = None,
    direction: str = "minimize",
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
    **strategy_options: Any,
) -> Study:
    """Minimize (or maximize) ``objective(params) -> float`` over ``space``.

    ``space`` is a dict in the space-file schema, a :class:`Space`, or a path to a
    YAML/JSON/TOML file. With ``storage`` (an SQLite path) the study is saved and a
    second call with the same ``study`` name resumes it. Returns the :class:`Study`
    (``best_params``, ``best_value``, ``trials``, ``to_dataframe()``). ``strategy`` None:
    the preferred installed one (bayes, with the plugins this project ships).

    ``n_jobs > 1`` runs trials in worker processes (the objective may be a lambda or a
    closure: it is sent with cloudpickle); ``retries`` re-runs a trial whose worker died,
    ``trial_timeout`` (seconds) stops a trial that runs too long and records it FAILED.
    With ``pruner`` (median, asha, hyperband) an ``objective(params, trial)`` that calls
    ``trial.report(step, value)`` and checks ``trial.should_prune()`` is stopped early.
    A pausing pruner (halving) needs an objective with ``resumable = True`` that raises
    ``TrialPaused(checkpoint=...)`` when ``trial.should_pause()`` and goes on from
    ``trial.resume`` (see "Early stopping" in the user guide).
    """
    if not callable(objective):  # refused up front, not every trial FAILED
        raise OptionError(f"optimize() needs an objective function, objective(params) -> "
                          f"float, as its first argument; got {type(objective).__name__}")
    settings = RunSettings(n_trials=n_trials, timeout=timeout, n_jobs=n_jobs,
                           retries=retries, trial_timeout=trial_timeout, pruner=pruner,
                           pruner_options=dict(pruner_options or {})).check()
    if pruner is not None and not _takes_trial(objective):
        raise OptionError(f"pruner '{pruner}' needs an objective(params, trial) that calls "
                          "trial.report(step, value); this objective takes one argument")
    registry, the_space, strategy, strategy_cls = _resolve(space, strategy, seed,
                                                           strategy_options)
    runner = make_executor(registry, executor, n_jobs, executor_options,
                           isolated=trial_timeout is not None)
    the_pruner = make_pruner(registry, pruner, pruner_options, seed)
    if the_pruner is not None and the_pruner.pauses:  # refused before a study is written
        from .study.loop import check_pausing

        check_pausing(the_pruner, objective, runner, n_trials)
    store = Storage(storage if storage is not None else ":memory:")
    name = study or f"{strategy}-{getattr(objective, '__name__', 'objective')}"
    the_study = Study.open(
        storage=store, name=name, space=the_space, strategy_cls=strategy_cls,
        strategy_options=strategy_options, direction=direction, seed=seed,
        config={"objective": getattr(objective, "__qualname__", type(objective).__name__)},
        new_study=new_study, hooks=registry.hook, pruner=the_pruner,
    )
    from .study.loop import run

    try:
        run(the_study, objective, settings, executor=runner, callbacks=callbacks)
    finally:
        the_study.close()
    _warn_if_none_completed(the_study)
    return the_study


def _warn_if_none_completed(study: Study) -> None:
    """The CLI exits non-zero when no trial completed; optimize() says so with the first
    error, so that ``best_value`` None does not pass unnoticed."""
    failed = [t for t in study.trials if t.state.value == "FAILED"]
    if study.best_trial is None and failed:
        import warnings

        warnings.warn(f"no trial of study '{study.name}' completed ({len(failed)} FAILED); the "
                      f"first error: {failed[0].error}", RuntimeWarning, stacklevel=3)
