"""The Python API: ``optimize(objective, space, ...)``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import HPOError, UnknownPluginError
from .objective import Objective
from .registry import Registry, get_registry
from .space import Space
from .storage import Storage
from .study import Callback, Study


def make_executor(registry: Registry, name: str | None, n_jobs: int,
                  options: Mapping[str, Any] | None = None, isolated: bool = False) -> Any:
    """Resolve an executor: ``serial`` for one job, ``process`` for several (or for one
    job that must run outside the driver, ``isolated``: a trial timeout), unless named."""
    if name is None:
        name = "serial" if n_jobs <= 1 and not isolated else "process"
    try:
        cls = registry.get("executor", name)
    except UnknownPluginError:
        if n_jobs > 1 and name == "process":
            raise HPOError("n_jobs > 1 needs the 'process' executor plugin, which is not "
                           "installed") from None
        raise
    return cls(n_jobs=n_jobs, **dict(options or {}))


def optimize(
    objective: Objective,
    space: Mapping[str, Any] | Space | str | Path,
    *,
    strategy: str = "bayes",
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
    **strategy_options: Any,
) -> Study:
    """Minimize (or maximize) ``objective(params) -> float`` over ``space``.

    ``space`` is a dict in the space-file schema, a :class:`Space`, or a path to a
    YAML/JSON/TOML file. With ``storage`` (an SQLite path) the study is saved and a
    second call with the same ``study`` name resumes it. Returns the :class:`Study`
    (``best_params``, ``best_value``, ``trials``, ``to_dataframe()``).

    ``n_jobs > 1`` runs trials in worker processes (the objective may be a lambda or a
    closure: it is sent with cloudpickle); ``retries`` re-runs a trial whose worker died,
    ``trial_timeout`` (seconds) stops a trial that runs too long and records it FAILED.
    """
    if isinstance(space, str | Path):
        space = Space.from_file(space)
    space = Space.from_dict(space)
    registry = get_registry()
    strategy_cls = registry.get("strategy", strategy)
    store = Storage(storage if storage is not None else ":memory:")
    name = study or f"{strategy}-{getattr(objective, '__name__', 'objective')}"
    the_study = Study.open(
        storage=store, name=name, space=space, strategy_cls=strategy_cls,
        strategy_options=strategy_options, direction=direction, seed=seed,
        config={"objective": getattr(objective, "__qualname__", type(objective).__name__)},
        new_study=new_study, hooks=registry.hook,
    )
    runner = make_executor(registry, executor, n_jobs, executor_options,
                           isolated=trial_timeout is not None)
    return the_study.run(objective, n_trials=n_trials, timeout=timeout, executor=runner,
                         callbacks=callbacks, retries=retries, trial_timeout=trial_timeout)
