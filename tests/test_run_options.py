"""register_run_options: a plugin adds an option to hpo-run that picks and configures its
executor, with no click and no CLI internals (the Dask plugin's --scheduler is one)."""

import pytest
from click.testing import CliRunner

import hpo_framework as hpo
from hpo_framework.cli import cli
from hpo_framework.registry import get_registry


class RunOptions:
    @hpo.hookimpl
    def register_run_options(self, register):
        register("--pool-size", executor="process", option="max_tasks_per_child",
                 metavar="N", help="a plugin's option for the process executor")


@pytest.fixture
def plugin():
    registry = get_registry()
    registry.register(RunOptions(), name="run-options")
    cli._loaded = False
    try:
        yield
    finally:
        registry.unregister("run-options")
        cli.params[:] = [p for p in cli.params if p.name != "pool_size"]
        cli._loaded = False


@pytest.mark.hooks("register_run_options")
def test_a_run_option_shows_in_help_and_implies_its_executor(plugin):
    shown = CliRunner().invoke(cli, ["--help"])
    assert "--pool-size N" in shown.output
    assert "a plugin's option for the process executor" in shown.output
    # FLAG VALUE picks the executor: another --executor is one line naming the flag
    clash = CliRunner().invoke(cli, ["--pool-size", "3", "--executor", "serial"])
    assert clash.exit_code != 0
    assert clash.output.strip() == "Error: --pool-size is for --executor process, not 'serial'"


@pytest.mark.hooks("register_run_options")
def test_a_run_option_becomes_an_executor_option(plugin):
    # the process executor has no such option: its own check names it, so the value
    # reached the executor's options
    got = CliRunner().invoke(cli, ["--pool-size", "3", "--strategy", "random",
                                   "--trials", "1", "--storage", ":memory:"])
    assert got.exit_code != 0
    assert "max_tasks_per_child" in got.output and "process" in got.output
