import pytest
from clitools import run_cli


@pytest.fixture
def cli_run():
    return run_cli


@pytest.fixture(autouse=True)
def _fresh_registry():
    """Each test sees the plugins installed right now."""
    from hpo_framework.registry import reset_registry

    reset_registry()
    yield
    reset_registry()
