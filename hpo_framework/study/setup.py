"""One way to set up a study, for ``optimize()``, ``create_study()``, ``hpo-run`` and
comparisons alike: resolve the strategy (built once as a dry run), build the pruner and
the executor, check how the study will run, then open the storage. Every check runs
once, here, before anything is written; the loop trusts a :class:`RunPlan`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..contracts.executor import Executor
from ..contracts.pruner import Pruner
from ..contracts.strategy import Strategy
from ..errors import HPOError, OptionError
from ..registry import Registry, get_registry, make_executor, make_pruner
from ..space import Space
from .core import Study
from .settings import RunSettings, check_seed
from .storage import Storage

__all__ = ["RunPlan", "StudySetup", "check_pausing", "plan_run", "setup_study"]


@dataclass
class StudySetup:
    """What opens a study, resolved and checked: the strategy (its class built once, as a
    dry run: its own refusals leave no file behind) and the pruner."""

    registry: Registry
    space: Space
    strategy: str
    strategy_cls: type[Strategy]
    strategy_options: dict[str, Any]
    seed: int | None
    pruner: Pruner | None
    pruner_options: dict[str, Any]
    #: the Study class opened, and what it adds to the stored setup (a learning study)
    study_cls: ClassVar[type[Study]] = Study
    marks: ClassVar[dict[str, Any]] = {}

    def open(self, *, storage: str | Any, name: str, direction: str,
             config: Mapping[str, Any], new_study: bool = False, name_given: bool = True,
             api: bool = False) -> Study:
        """Open the storage and the study (created, or resumed under ``name``). The
        pruner is part of what the study is: a default name (``name_given`` False) taken
        by another setup gives a fresh name (see :meth:`Study.open`)."""
        pruner = {"pruner": self.pruner.name if self.pruner else None,
                  "pruner_options": dict(self.pruner_options) if self.pruner else None}
        return self.study_cls.open(
            storage=Storage(storage), name=name, space=self.space,
            strategy_cls=self.strategy_cls, strategy_options=self.strategy_options,
            direction=direction, seed=self.seed, config={**config, **pruner, **self.marks},
            new_study=new_study, hooks=self.registry.lifecycle, pruner=self.pruner,
            name_given=name_given, api=api)


    @classmethod
    def adapt(cls, name: str, strategy_cls: type[Strategy], space: Space | None,
              options: Mapping[str, Any]) -> tuple[type[Strategy], Space]:
        """The strategy class and space this kind of study runs (a learning study wraps
        them); refusals here are one line, before anything is written."""
        if space is None:
            raise HPOError("a study needs a space")
        return strategy_cls, space


def setup_study(space: Space | None, *, strategy: str | None,
                strategy_options: Mapping[str, Any], seed: int | None,
                pruner: str | Pruner | None = None,
                pruner_options: Mapping[str, Any] | None = None,
                setup_cls: type[StudySetup] = StudySetup) -> StudySetup:
    """Resolve and check what a study is made of; nothing is written. ``pruner``: a name
    (built here with ``pruner_options``) or a pruner already built; ``setup_cls``: the
    kind of study (a :class:`~hpo_framework.study.learned.LearningSetup` learns its
    space, which may then be None)."""
    check_seed(seed, "seed")
    registry = get_registry()
    name = registry.resolve("strategy", strategy)
    options = dict(strategy_options)
    strategy_cls, space = setup_cls.adapt(name, registry.get("strategy", name), space, options)
    strategy_cls(space, seed=0, **options)  # the dry run (it validates the options too)
    if pruner is None or isinstance(pruner, str):
        pruner = make_pruner(registry, pruner, pruner_options, seed)
    return setup_cls(registry, space, name, strategy_cls, options, seed, pruner,
                     dict(pruner_options or {}))


@dataclass
class RunPlan:
    """How a study runs, checked: the budgets and the executor (built, not started)."""

    settings: RunSettings
    executor: Executor


def plan_run(settings: RunSettings, *, pruner: Pruner | None, resumable: bool,
             finite: bool, strategy: str, executor: Executor | str | None = None,
             executor_options: Mapping[str, Any] | None = None,
             isolated: bool = False) -> RunPlan:
    """Every check of how a study will run, once. ``executor``: an Executor, a name, or
    None for the default (trials outside the driver when ``isolated`` or with a trial
    timeout); ``resumable``: whether the objective goes on from a checkpoint."""
    settings.check()
    if settings.n_trials is None and settings.timeout is None and not finite:
        raise HPOError(f"strategy '{strategy}' never runs out: give n_trials or timeout")
    if not isinstance(executor, Executor):
        settings.n_jobs = settings.workers(executor)
        executor = make_executor(get_registry(), executor, settings.n_jobs, executor_options,
                                 isolated=isolated or settings.trial_timeout is not None)
    if settings.trial_timeout is not None and not executor.isolated:
        raise OptionError(f"--trial-timeout (trial_timeout) needs trials outside the driver; "
                          f"executor '{executor.name}' runs them inside it: use the process "
                          "executor, or leave the executor to the default")
    if pruner is not None and pruner.pauses:
        check_pausing(pruner, resumable, executor, settings.n_trials)
    return RunPlan(settings, executor)


def check_pausing(pruner: Pruner, resumable: bool, executor: Executor,
                  n_trials: int | None) -> None:
    """A pausing pruner needs trials resumed: refuse, in one line, what cannot."""
    if not executor.resumes:
        raise HPOError(f"pruner '{pruner.name}' pauses trials and resumes them later; executor "
                       f"'{executor.name}' cannot resume one: use the serial, process or dask "
                       "executor, or another pruner")
    if not resumable:
        raise HPOError(f"pruner '{pruner.name}' pauses trials and resumes them later; this "
                       "objective cannot go on from a checkpoint: use a backend that can "
                       "(keras, sklearn), or another pruner (asha)")
    pruner.check_run(n_trials)
