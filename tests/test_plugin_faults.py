"""A broken third-party plugin costs one warning line and nothing else: a register hook
that raises, a lifecycle hook that raises, a strategy whose ask() returns what the core
cannot use. Each plugin is installed for real (a distribution on PYTHONPATH) and the CLI
runs in a subprocess."""

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from clitools import fake_distribution, run_cli

RAISING_REGISTER = {"hpo_raising": """
    from hpo_framework import hookimpl
    from hpo_framework.builtin.random_strategy import RandomStrategy

    class Other(RandomStrategy):
        name = "other"

    @hookimpl
    def register_strategies(register):
        register(Other)                     # made before the raise: dropped with the rest
        raise {exc}("the plugin's own bug")

    @hookimpl
    def register_pruners(register):
        from hpo_pruners.median import MedianPruner

        class Mine(MedianPruner):
            name = "mine"
        register(Mine)                      # another kind of the same plugin: dropped too
"""}

RAISING_LIFECYCLE = {"hpo_noisy": """
    from hpo_framework import hookimpl

    @hookimpl
    def trial_finished(study, trial):
        raise RuntimeError("logger down")
"""}

BAD_ASK = {"hpo_badask": """
    from hpo_framework import Strategy, hookimpl

    class BadAsk(Strategy):
        name = "badask"

        def ask(self, n=1):
            return {answer}

    @hookimpl
    def register_strategies(register):
        register(BadAsk)
"""}

SKLEARN_TINY = ("--backend", "sklearn", "--dataset", "digits", "-B", "max_iter=2",
                "--no-final-test")


def _said(stderr):
    """What a run said on stderr besides its progress lines."""
    return [ln for ln in stderr.strip().splitlines()
            if not ln.startswith(("trial ", "look at it: "))]


def _site(tmp_path, modules, name):
    dist = "hpo-" + name
    return fake_distribution(tmp_path, dist, {name: next(iter(modules))}, modules)


@pytest.mark.parametrize("exc", ["RuntimeError", "AttributeError"])
def test_a_raising_register_hook_drops_that_plugin_only(tmp_path, exc):
    modules = {"hpo_raising": RAISING_REGISTER["hpo_raising"].replace("{exc}", exc)}
    env = {"PYTHONPATH": str(_site(tmp_path, modules, "raising"))}
    warning = (f"warning: plugin 'raising' from hpo-raising: its register_strategies hook raised "
               f"{exc}: the plugin's own bug; the plugin is left out (set HPO_STRICT_PLUGINS=1 "
               "to make this an error)")
    listing = run_cli("--list-plugins", "--json", env=env, check=True)
    assert listing.stderr.strip().splitlines() == [warning]
    data = json.loads(listing.stdout)
    names = {(c["kind"], c["name"]) for c in data["components"]}
    assert ("strategy", "other") not in names and ("pruner", "mine") not in names
    assert ("strategy", "random") in names and ("pruner", "median") in names
    assert data["failed"]["raising"] == warning[len("warning: "):]

    db = tmp_path / "ok.db"
    run = run_cli("--strategy", "random", "--trials", "2", *SKLEARN_TINY, "--storage", db,
                  env=env, check=True)
    assert _said(run.stderr) == [warning]
    assert "study 'random-sklearn-digits' is stored in" in run.stdout
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM trials WHERE state='COMPLETE'").fetchone() == (2,)

    # the API too: optimize() works and the warning is a PluginWarning
    script = tmp_path / "api.py"
    script.write_text(textwrap.dedent("""
        import warnings, hpo_framework as hpo
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s = hpo.optimize(lambda p: p["x"] ** 2, {"x": [1, 2]}, strategy="random",
                             n_trials=2, seed=0)
        print(len(s.trials), [type(w.message).__name__ for w in caught])
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env={**__import__("os").environ, **env}, check=True)
    assert out.stdout.strip() == "2 ['PluginWarning']"

    strict = run_cli("--list-plugins", env={**env, "HPO_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1
    line = strict.stderr.strip()
    assert line.startswith(f"Error: plugin 'raising' from hpo-raising: its register_strategies "
                           f"hook raised {exc}: the plugin's own bug (at ")
    assert "Traceback" not in strict.stderr and len(line.splitlines()) == 1


def test_a_raising_lifecycle_hook_is_reported_once_and_the_study_goes_on(tmp_path):
    env = {"PYTHONPATH": str(_site(tmp_path, RAISING_LIFECYCLE, "noisy"))}
    db = tmp_path / "n.db"
    run = run_cli("--strategy", "random", "--trials", "3", *SKLEARN_TINY, "--storage", db,
                  env=env)
    assert run.returncode == 0, run.stderr
    assert _said(run.stderr) == [
        "warning: plugin 'noisy' from hpo-noisy: its trial_finished hook raised RuntimeError: "
        "logger down; the study goes on (reported once) (set HPO_STRICT_PLUGINS=1 to make this "
        "an error)"]
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM trials WHERE state='COMPLETE'").fetchone() == (3,)


@pytest.mark.parametrize("answer, says", [
    ("[{'no_such_parameter': 1}]",
     "ask() proposed a configuration outside the space (unknown parameter 'no_such_parameter'"),
    ("{'alpha': 1}", "ask() returned dict, not a list of configurations"),
    ("None", "ask() returned NoneType, not a list of configurations"),
    ("[None]", "ask() returned a NoneType among its configurations, not a dict"),
])
def test_what_ask_returns_is_checked_where_it_enters_the_core(tmp_path, answer, says):
    modules = {"hpo_badask": BAD_ASK["hpo_badask"].replace("{answer}", answer)}
    env = {"PYTHONPATH": str(_site(tmp_path, modules, "badask"))}
    db = tmp_path / "b.db"
    run = run_cli("--strategy", "badask", "--trials", "2", *SKLEARN_TINY, "--storage", db,
                  env=env)
    assert run.returncode == 1
    lines = _said(run.stderr)
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert lines[0].startswith("Error: strategy 'badask' (hpo_badask): "), lines[0]
    assert says in lines[0]
    assert lines[0].endswith("nothing was recorded (a bug in the plugin)")
    with sqlite3.connect(db) as con:  # the study was opened; no trial was written
        assert con.execute("SELECT COUNT(*) FROM trials").fetchone() == (0,)


def test_declared_capabilities_are_checked_when_the_plugin_registers():
    """One executor signature, and a resumable backend's fit takes resume: a plugin whose
    methods do not match what it declares is refused by name, not run down another path."""
    import warnings

    import hpo_framework as hpo
    from hpo_framework.registry import Registry

    class OldExecutor(hpo.Executor):
        name = "old"

        def start(self, objective):  # written before pruners: no reporter
            self.objective = objective

        def submit(self, number, params, resume=None):
            raise NotImplementedError

    class NoResume(hpo.Executor):
        name = "noresume"

        def submit(self, number, params):
            raise NotImplementedError

    class Claims(hpo.Backend):
        name = "claims"
        resumable = True

        def fit(self, params, x, y, dataset, *, validation=None, report=None):
            raise NotImplementedError

    expected = {
        "old": "plugin 'old-plugin' registered executor 'old' whose start() does not take "
               "(objective, reporter): the executor contract is start(self, objective, "
               "reporter=None)",
        "noresume": "plugin 'noresume-plugin' registered executor 'noresume' whose submit() "
                    "does not take (number, params, resume): the executor contract is "
                    "submit(self, number, params, resume=None) (set resumes = False when it "
                    "cannot resume a paused trial)",
        "claims": "plugin 'claims-plugin' registered backend 'claims' whose resumable = True "
                  "but fit() takes no resume argument: add resume=None to fit() or drop "
                  "resumable",
    }
    for cls, kind in ((OldExecutor, "executors"), (NoResume, "executors"), (Claims, "backends")):
        plugin = type("Plugin", (), {f"register_{kind}": hpo.hookimpl(
            lambda self, register, _cls=cls: register(_cls))})()
        registry = Registry(load_entry_points=False)
        registry.register(plugin, name=f"{cls.name}-plugin")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = registry.components(kind[:-1] if kind == "backends" else "executor")
        assert cls.name not in found
        assert [str(w.message) for w in caught] == [expected[cls.name]]
