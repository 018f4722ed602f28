"""The registry: entry points, third-party packages, broken plugins, names, did-you-mean."""

import json
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from clitools import ROOT, fake_distribution, run_cli

import hpo_framework as hpo
from hpo_framework.cli import cli
from hpo_framework.registry import Registry

TOY = ROOT / "tests" / "plugins" / "hpo-toy"


@pytest.fixture(scope="module")
def toy_installed():
    """pip-install the external toy plugin package, the path a third-party plugin takes."""
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, str(TOY)], check=True, capture_output=True, timeout=300)
    try:
        yield
    finally:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "hpo-toy"],
                       capture_output=True, timeout=300)


@pytest.mark.hooks("register_strategies")
def test_external_plugin_is_listed_and_usable_from_cli(toy_installed, tmp_path):
    listing = run_cli("--list-plugins", "--json", check=True)
    rows = {(c["kind"], c["name"]): c for c in json.loads(listing.stdout)["components"]}
    toy = rows[("strategy", "toy")]
    assert toy["distribution"] == "hpo-toy" and toy["version"] == "0.3.0"
    # the built-ins come through the same entry-point group
    assert rows[("strategy", "random")]["distribution"] == "hpo-framework"

    script = tmp_path / "use_toy.py"
    script.write_text(textwrap.dedent("""
        import json, hpo_framework as hpo
        s = hpo.optimize(lambda p: (p["x"] - 0.5) ** 2, {"x": {"type": "float", "low": 0, "high": 1}},
                         strategy="toy", n_trials=4, seed=0)
        print(json.dumps([t.params["x"] for t in s.trials]))
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [0.5, 0.5, 0.25, 0.75]  # centre, then van der Corput base 2


def test_unknown_name_one_line_with_did_you_mean(tmp_path):
    proc = run_cli("--strategy", "randon", "--storage", tmp_path / "x.db", "--json")
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln]
    assert len(lines) == 1, proc.stderr
    assert "unknown strategy 'randon': did you mean 'random'?" in lines[0]
    assert "installed strategies: " in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.db").exists()  # nothing written for a typo


BROKEN = {"hpo_broken": "import this_module_does_not_exist\n"}
DUPLICATE = {"hpo_dup": """
    from hpo_framework import hookimpl
    from hpo_framework.builtin.random_strategy import RandomStrategy

    @hookimpl
    def register_strategies(register):
        register("random", RandomStrategy)
"""}


def test_broken_plugin_is_named_and_the_rest_still_work(tmp_path):
    site = fake_distribution(tmp_path, "hpo-broken", {"broken": "hpo_broken"}, BROKEN)
    env = {"PYTHONPATH": str(site)}
    proc = run_cli("--list-plugins", "--json", env=env, check=True)
    data = json.loads(proc.stdout)
    assert "broken" in data["failed"]
    assert "hpo-broken" in data["failed"]["broken"]
    assert "ModuleNotFoundError" in data["failed"]["broken"]
    assert any(c["name"] == "random" for c in data["components"])
    assert "plugin 'broken' from hpo-broken failed to load" in proc.stderr
    # one line a user can read, no source location or warning class
    assert proc.stderr.startswith("warning: plugin 'broken' from hpo-broken failed to load: "
                                  "ModuleNotFoundError"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1

    strict = run_cli("--list-plugins", env={**env, "HPO_STRICT_PLUGINS": "1"})
    assert strict.returncode != 0
    assert "plugin 'broken' from hpo-broken failed to load" in strict.stderr
    assert "Traceback" not in strict.stderr

    disabled = run_cli("--list-plugins", "--json", env={**env, "HPO_DISABLE_PLUGINS": "broken"},
                       check=True)
    assert json.loads(disabled.stdout)["failed"] == {}


def test_two_plugins_claiming_one_name_refuse_only_that_name(tmp_path):
    site = fake_distribution(tmp_path, "hpo-dup", {"dup": "hpo_dup"}, DUPLICATE)
    env = {"PYTHONPATH": str(site)}
    claim = ("strategy name 'random' is claimed by two plugins: 'dup' and 'random'; uninstall "
             "one or block it with HPO_DISABLE_PLUGINS=random")
    listing = run_cli("--list-plugins", "--json", env=env, check=True)
    data = json.loads(listing.stdout)
    assert data["conflicts"] == [claim]
    strategies = {c["name"] for c in data["components"] if c["kind"] == "strategy"}
    assert "random" not in strategies and "grid" in strategies  # the rest still works
    refused = run_cli("--strategy", "random", "--trials", "1", "--storage", tmp_path / "r.db",
                      "--json", env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == f"Error: {claim}"
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "r.db").exists()


def test_disabled_builtin_is_gone(tmp_path):
    proc = run_cli("--list-plugins", "--json", env={"HPO_DISABLE_PLUGINS": "random"}, check=True)
    names = {c["name"] for c in json.loads(proc.stdout)["components"]}
    assert "random" not in names and "holdout" in names


def test_misspelled_hook_implementation_fails_loudly():
    class Misspelled:
        @hpo.hookimpl
        def register_stratgies(self, register):  # typo on purpose
            pass

    registry = Registry(load_entry_points=False)
    with pytest.raises(hpo.PluginError, match="register_stratgies"):
        registry.register(Misspelled(), name="misspelled")


def test_adhoc_plugin_registered_and_unregistered():
    class Plugin:
        @hpo.hookimpl
        def register_strategies(self, register):
            register("adhoc", hpo.get_registry().get("strategy", "random"))

    registry = Registry()
    registry.register(Plugin(), name="adhoc-plugin")
    try:
        assert "adhoc" in registry.components("strategy")
        assert registry.components("strategy")["adhoc"].plugin == "adhoc-plugin"
    finally:
        registry.unregister("adhoc-plugin")
    assert "adhoc" not in registry.components("strategy")


def test_list_plugins_table_in_process():
    result = CliRunner().invoke(cli, ["--list-plugins"])
    assert result.exit_code == 0
    for name in ("random", "holdout", "kfold", "file", "serial"):
        assert name in result.output


HEAVY = ("tensorflow", "keras", "sklearn", "skopt", "deap", "dask", "distributed", "matplotlib",
         "torch", "jax", "optuna", "xgboost", "lightgbm", "numpy", "scipy")


@pytest.mark.parametrize("args", [["--help"], ["--list-plugins"], ["--list-plugins", "--json"]])
def test_help_and_list_plugins_import_no_heavy_library(args):
    code = textwrap.dedent(f"""
        import sys
        from hpo_framework.cli import cli
        try:
            cli.main({args!r}, prog_name="hpo-run", standalone_mode=False)
        except SystemExit:
            pass
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
        print("HEAVY=" + ",".join(heavy), file=sys.stderr)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY=" in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "HEAVY=", proc.stderr


LOGGER = {"hpo_jsonl": """
    import json
    from hpo_framework import hookimpl

    @hookimpl
    def trial_finished(study, trial):
        print(json.dumps({"study": study.name, "number": trial.number}))
"""}
NO_HOOKS = {"hpo_nohooks": """
    def trial_finished(study, trial):  # no @hookimpl: not an implementation
        pass
"""}


def test_a_hook_only_plugin_is_listed_with_its_hooks(tmp_path):
    site = fake_distribution(tmp_path, "hpo-jsonl", {"jsonl": "hpo_jsonl"}, LOGGER)
    proc = run_cli("--list-plugins", "--json", env={"PYTHONPATH": str(site)}, check=True)
    plugins = {p["name"]: p for p in json.loads(proc.stdout)["plugins"]}
    assert plugins["jsonl"] == {"name": "jsonl", "distribution": "hpo-jsonl", "version": "1.0",
                                "hooks": ["trial_finished"]}
    assert plugins["random"]["hooks"] == ["register_strategies"]
    plain = run_cli("--list-plugins", env={"PYTHONPATH": str(site)}, check=True)
    assert "plugin jsonl 1.0: hooks trial_finished" in plain.stdout.splitlines()


def test_a_plugin_without_any_hookimpl_gets_a_warning(tmp_path):
    site = fake_distribution(tmp_path, "hpo-nohooks", {"nohooks": "hpo_nohooks"}, NO_HOOKS)
    proc = run_cli("--list-plugins", "--json", env={"PYTHONPATH": str(site)}, check=True)
    assert proc.stderr.strip() == ("warning: plugin 'nohooks' from hpo-nohooks implements no "
                                   "hook: mark its functions with @hookimpl (from hpo_framework "
                                   "import hookimpl)")


def test_pluggys_reason_and_the_nearest_hook_name_are_kept():
    class WrongArgs:
        @hpo.hookimpl
        def trial_finished(self, study, t):
            pass

    class Misspelled:
        @hpo.hookimpl
        def trial_finishd(self, study, trial):
            pass

    registry = Registry(load_entry_points=False)
    with pytest.raises(hpo.PluginError) as wrong:
        registry.register(WrongArgs(), name="wrong")
    assert "Argument(s) {'t'} are declared in the hookimpl but can not be found in the " \
           "hookspec" in str(wrong.value)
    assert "\n" not in str(wrong.value)
    with pytest.raises(hpo.PluginError, match="did you mean 'trial_finished'"):
        registry.register(Misspelled(), name="misspelled")


def test_strict_mode_names_the_file_and_line_that_failed(tmp_path):
    site = fake_distribution(tmp_path, "hpo-broken", {"broken": "hpo_broken"}, BROKEN)
    proc = run_cli("--list-plugins", env={"PYTHONPATH": str(site), "HPO_STRICT_PLUGINS": "1"})
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "Error: plugin 'broken' from hpo-broken failed to load: ModuleNotFoundError: No module "
        f"named 'this_module_does_not_exist' (at {site / 'hpo_broken.py'}:1)")


def test_register_a_class_by_its_name_and_refuse_a_wrong_kind():
    class Good(hpo.Strategy):
        name = "good"

        def ask(self, n=1):
            return [self.space.sample(__import__("random").Random(self.n_asked))]

    class Plugin:
        @hpo.hookimpl
        def register_strategies(self, register):
            register(Good)

    class Wrong:
        @hpo.hookimpl
        def register_backends(self, register):
            register("nota", object, "not a Backend")

    registry = Registry(load_entry_points=False)
    registry.register(Plugin(), name="good-plugin")
    registry.register(Wrong(), name="wrong-plugin")
    with pytest.warns(UserWarning, match="plugin 'wrong-plugin' registered backend 'nota' as "
                                         "<class 'object'>, not a subclass of "
                                         "hpo_framework.Backend"):
        assert registry.get("strategy", "good") is Good
    assert "nota" not in registry.components("backend")


def test_defaults_follow_what_is_installed(tmp_path):
    registry = Registry()
    assert (registry.default("strategy"), registry.default("backend"),
            registry.default("dataset"), registry.default("evaluator")) == \
        ("auto", "sklearn", "digits", "holdout")
    proc = run_cli("--trials", "1", "--no-final-test", "-B", "max_iter=2", "--storage",
                   tmp_path / "d.db", env={"HPO_DISABLE_PLUGINS": "auto,bayes"}, check=True)
    assert f"study 'random-sklearn-digits' is stored in {tmp_path / 'd.db'}" in proc.stdout
    assert proc.stderr.splitlines()[0] == ("using the preferred installed strategy random, "
                                           "backend sklearn, dataset digits (choose with "
                                           "--strategy NAME, ...)")
    none = run_cli("--trials", "1", "--storage", tmp_path / "n.db",
                   env={"HPO_DISABLE_PLUGINS": "auto,bayes,random,grid,genetic,toy"})
    assert none.returncode == 1
    assert none.stderr.strip() == ("Error: no strategy is installed that can be the default; "
                                   "name one (--strategy NAME) or install one, e.g. pip install "
                                   "hpo-bayes")
    assert not (tmp_path / "n.db").exists()
