"""Hook specifications. Implement any subset with ``@hookimpl`` in a module that is
registered in the ``hpo_framework`` entry-point group."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("hpo_framework")
hookimpl = pluggy.HookimplMarker("hpo_framework")

Register = Callable[..., None]


@hookspec
def register_strategies(register: Register) -> None:
    """Register search strategies.

    :param register: call ``register(name, cls, description="")`` where ``cls`` is a
        :class:`hpo_framework.Strategy` subclass.
    """


@hookspec
def register_backends(register: Register) -> None:
    """Register model builders.

    :param register: call ``register(name, cls, description="")`` where ``cls`` is a
        :class:`hpo_framework.Backend` subclass.
    """


@hookspec
def register_evaluators(register: Register) -> None:
    """Register evaluators (hold-out, k-fold, ...).

    :param register: call ``register(name, cls, description="")`` where ``cls`` is a
        :class:`hpo_framework.Evaluator` subclass.
    """


@hookspec
def register_datasets(register: Register) -> None:
    """Register datasets.

    :param register: call ``register(name, loader, description="")`` where
        ``loader(**options) -> hpo_framework.Dataset``.
    """


@hookspec
def register_executors(register: Register) -> None:
    """Register executors (where trials run).

    :param register: call ``register(name, cls, description="")`` where ``cls`` is a
        :class:`hpo_framework.Executor` subclass.
    """


@hookspec
def register_pruners(register: Register) -> None:
    """Register pruners (early stopping of hopeless trials).

    :param register: call ``register(name, cls, description="")`` where ``cls`` is a
        :class:`hpo_framework.Pruner` subclass.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add subcommands to ``hpo-run`` (a :class:`click.Group`): ``cli.add_command(cmd)``.

    :param cli: the ``hpo-run`` click group.
    """


@hookspec
def register_run_options(register: Register) -> None:
    """Add options to ``hpo-run`` itself that choose and configure an executor (the Dask
    plugin's ``--scheduler``), without click or the CLI's internals.

    :param register: call ``register(flag, executor, option, help="", metavar=None)``:
        ``hpo-run FLAG VALUE`` then runs as ``--executor EXECUTOR -X OPTION=VALUE`` would;
        with another ``--executor`` it is a one-line error naming FLAG.
    """


@hookspec
def trial_started(study: Any, trial: Any) -> None:
    """Called after a trial was recorded RUNNING, before it is evaluated.

    :param study: the running :class:`hpo_framework.Study`.
    :param trial: the :class:`hpo_framework.Trial`.
    """


@hookspec
def trial_finished(study: Any, trial: Any) -> None:
    """Called after a trial's final state (COMPLETE, FAILED, PRUNED) was committed.

    :param study: the running :class:`hpo_framework.Study`.
    :param trial: the finished :class:`hpo_framework.Trial`.
    """


@hookspec
def study_finished(study: Any) -> None:
    """Called once when a study's run ends (budget reached, strategy done, interrupted).

    :param study: the :class:`hpo_framework.Study`.
    """
