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


@pytest.fixture(autouse=True, scope="session")
def _jax_cache_of_this_run(tmp_path_factory):
    """The keras backend's persistent JAX compilation cache lives in this run's temporary
    directory (it defaults to ~/.cache/hpo-framework/jax): a test run neither writes to the
    home directory nor loads programs a run of other code left there. Child processes
    inherit the variable."""
    import os

    saved = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(tmp_path_factory.mktemp("jax-cache"))
    yield
    if saved is None:
        os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
    else:
        os.environ["JAX_COMPILATION_CACHE_DIR"] = saved
