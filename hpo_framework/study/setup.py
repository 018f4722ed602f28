"""One way to set up a study, for ``optimize()``, ``create_study()``, ``hpo-run`` and
comparisons alike: resolve the strategy (built once as a dry run), build the pruner and
the executor, check how the study will run, then open the storage. Every check runs
once, here, before anything is written; the loop trusts a :class:`RunPlan`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..contracts.executor import Executor
from ..contracts.pruner import Pruner
from ..contracts.strategy import Strategy
from ..errors import HPOError, OptionError
from ..registry import Registry, get_registry, make_executor, make_pruner
from ..space import Space
from .core import Constraints, Study, check_directions
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
    #: the objectives' directions (checked against the strategy and the pruner)
    directions: list[str] = field(default_factory=lambda: ["minimize"])
    #: the constraints function of a constrained study
    constraints: Constraints | None = None
    #: the Study class opened, and what it adds to the stored setup (a learning study)
    study_cls: ClassVar[type[Study]] = Study
    marks: ClassVar[dict[str, Any]] = {}

    def open(self, *, storage: str | Any, name: str, config: Mapping[str, Any],
             direction: str | None = None, new_study: bool = False, name_given: bool = True,
             api: bool = False) -> Study:
        """Open the storage and the study (created, or resumed under ``name``). The
        pruner is part of what the study is: a default name (``name_given`` False) taken
        by another setup gives a fresh name (see :meth:`Study.open`). ``direction``: one
        objective's (default: the setup's directions)."""
        directions = self.directions if direction is None or len(self.directions) > 1 \
            else check_directions([direction])
        pruner = {"pruner": self.pruner.name if self.pruner else None,
                  "pruner_options": dict(self.pruner_options) if self.pruner else None}
        return self.study_cls.open(
            storage=Storage(storage), name=name, space=self.space,
            strategy_cls=self.strategy_cls, strategy_options=self.strategy_options,
            directions=directions, seed=self.seed,
            config={**config, **pruner, **self.marks}, new_study=new_study,
            hooks=self.registry.lifecycle, pruner=self.pruner, name_given=name_given, api=api,
            constraints=self.constraints)


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
                setup_cls: type[StudySetup] = StudySetup,
                directions: Sequence[str] | None = None,
                constraints: Constraints | None = None, api: bool = True) -> StudySetup:
    """Resolve and check what a study is made of; nothing is written. ``pruner``: a name
    (built here with ``pruner_options``) or a pruner already built; ``setup_cls``: the
    kind of study (a :class:`~hpo_framework.study.learned.LearningSetup` learns its
    space, which may then be None). ``directions``: several objectives (the strategy
    must declare ``multi_objective``; no pruner); ``constraints``: a function of the
    finished trial (the strategy must declare ``handles_constraints``). ``api``: refusals
    name the Python arguments, else the command line's flags."""
    check_seed(seed, "seed")
    directions = check_directions(["minimize"] if directions is None else directions)
    if constraints is not None and not callable(constraints):
        raise OptionError(f"constraints takes a function of the finished trial returning "
                          f"numbers (feasible when each is <= 0), got {type(constraints).__name__}")
    registry = get_registry()
    name = _strategy_name(registry, strategy, len(directions) > 1, constraints is not None)
    strategy_cls = registry.get("strategy", name)
    _check_capable(registry, name, strategy_cls, directions, constraints is not None, api)
    if len(directions) > 1 and pruner is not None:
        pruner_name = pruner if isinstance(pruner, str) else getattr(pruner, "name", "?")
        raise OptionError(f"pruner '{pruner_name}' stops trials on one objective's curve; a "
                          f"study with {len(directions)} objectives is not pruned (as in "
                          f"Optuna): drop {'pruner=' if api else '--pruner'}")
    options = dict(strategy_options)
    strategy_cls, space = setup_cls.adapt(name, strategy_cls, space, options)
    strategy_cls(space, seed=0, **options)  # the dry run (it validates the options too)
    if pruner is None or isinstance(pruner, str):
        pruner = make_pruner(registry, pruner, pruner_options, seed)
    return setup_cls(registry, space, name, strategy_cls, options, seed, pruner,
                     dict(pruner_options or {}), directions, constraints)


def _capable(registry: Registry, several: bool, constrained: bool) -> list[str]:
    """The installed strategies that handle several objectives and/or constraints."""
    return sorted(n for n, c in registry.components("strategy").items()
                  if (not several or getattr(c.obj, "multi_objective", False))
                  and (not constrained or getattr(c.obj, "handles_constraints", False)))


def _strategy_name(registry: Registry, strategy: str | None, several: bool,
                   constrained: bool) -> str:
    """The strategy named, or the preferred installed default; with several objectives
    or constraints, the preferred default among those that handle them."""
    if strategy is not None or not (several or constrained):
        return registry.resolve("strategy", strategy)
    capable = set(_capable(registry, several, constrained))
    candidates = [c for n, c in registry.components("strategy").items()
                  if n in capable and c.default is not None]
    if candidates:
        return max(candidates, key=lambda c: (c.default, c.name)).name
    return registry.resolve("strategy", None)  # refused in one line by _check_capable


def _check_capable(registry: Registry, name: str, strategy_cls: type[Strategy],
                   directions: list[str], constrained: bool, api: bool) -> None:
    several = len(directions) > 1
    what = None
    if several and not getattr(strategy_cls, "multi_objective", False):
        what = f"optimizes one objective; this study has {len(directions)} (" \
               f"{', '.join(directions)})"
    elif constrained and not getattr(strategy_cls, "handles_constraints", False):
        what = "does not handle constraints; this study has some"
    if what is not None:
        capable = _capable(registry, several, constrained)
        flag = "strategy=" if api else "--strategy "
        use = f"use {flag}{' or '.join(capable)}" if capable else "no installed one does"
        raise OptionError(f"strategy '{name}' {what}: {use}")


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
