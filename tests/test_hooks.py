"""Lifecycle and CLI hooks, and the meta-tests: every hook documented and tested."""

import inspect
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import hpo_framework as hpo
from hpo_framework.cli import cli
from hpo_framework.contracts import hookspecs
from hpo_framework.registry import get_registry

ROOT = Path(__file__).resolve().parent.parent
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(fn, "hpo_framework_spec")]


class Recorder:
    def __init__(self):
        self.events = []

    @hpo.hookimpl
    def trial_started(self, study, trial):
        self.events.append(("started", trial.number, trial.state.value))

    @hpo.hookimpl
    def trial_finished(self, study, trial):
        self.events.append(("finished", trial.number, trial.state.value))

    @hpo.hookimpl
    def study_finished(self, study):
        self.events.append(("study", study.name, len(study.trials)))


@pytest.mark.hooks("trial_started", "trial_finished", "study_finished")
def test_lifecycle_hooks_fire_in_order_with_committed_states():
    recorder = Recorder()
    registry = get_registry()
    registry.register(recorder, name="recorder")
    try:
        def objective(p):
            if p["x"] > 0.5:
                raise ValueError("too big")
            return p["x"]

        hpo.optimize(objective, {"x": {"type": "float", "low": 0, "high": 1}},
                     strategy="random", n_trials=4, seed=0, study="hooks")
    finally:
        registry.unregister("recorder")
    assert recorder.events[-1] == ("study", "hooks", 4)
    body = recorder.events[:-1]
    assert [e[0] for e in body] == ["started", "finished"] * 4
    assert all(e[2] == "RUNNING" for e in body if e[0] == "started")
    assert {e[2] for e in body if e[0] == "finished"} <= {"COMPLETE", "FAILED"}
    assert [e[1] for e in body] == [0, 0, 1, 1, 2, 2, 3, 3]


@pytest.mark.hooks("register_commands")
def test_register_commands_adds_a_subcommand():
    @click.command("hello")
    def hello():
        click.echo("hello from a plugin")

    class Commands:
        @hpo.hookimpl
        def register_commands(self, cli):
            cli.add_command(hello)

    registry = get_registry()
    registry.register(Commands(), name="commands")
    cli._loaded = False
    try:
        result = CliRunner().invoke(cli, ["hello"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "hello from a plugin"
        assert "hello" in CliRunner().invoke(cli, ["--help"]).output
    finally:
        registry.unregister("commands")
        cli.commands.pop("hello", None)
        cli._loaded = False


def test_every_hook_is_documented_with_its_exact_signature():
    doc = (ROOT / "docs" / "plugins.md").read_text()
    assert HOOKS, "no hook specs found"
    for name in HOOKS:
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"### {name}({params})" in doc, f"docs/plugins.md lacks '### {name}({params})'"


def _hook_tests() -> dict[str, list[str]]:
    """hook name -> the tests marked ``@pytest.mark.hooks(name)`` that assert something."""
    import ast

    found: dict[str, list[str]] = {}
    for path in (ROOT / "tests").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            asserts = any(isinstance(n, ast.Assert) or (isinstance(n, ast.Attribute)
                                                         and n.attr == "raises")
                          for n in ast.walk(node))
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "hooks":
                    for arg in deco.args:
                        if isinstance(arg, ast.Constant) and asserts:
                            found.setdefault(arg.value, []).append(f"{path.name}::{node.name}")
    return found


def test_every_hook_has_a_test():
    covered = _hook_tests()
    assert not set(covered) - set(HOOKS), f"marks name unknown hooks: {set(covered) - set(HOOKS)}"
    for name in HOOKS:
        assert covered.get(name), f"hook {name} has no test marked @pytest.mark.hooks({name!r})"


class CentroidBackend(hpo.Backend):
    """Nearest class centroid after scaling by a searched factor (numpy only)."""

    name = "centroid"
    options = {"power": hpo.Option(1.0, float, low=0.1, help="distance power")}

    warmed_up = 0

    def warm_up(self):
        type(self).warmed_up += 1

    def default_space(self, dataset):
        return {"shrink": {"type": "float", "low": 0.0, "high": 0.9}}

    def fit(self, params, x, y, dataset, *, validation=None, report=None):
        import numpy as np

        classes = np.unique(y)
        centroids = np.array([x[y == c].mean(axis=0) for c in classes])
        centroids = (1 - params["shrink"]) * centroids + params["shrink"] * x.mean(axis=0)
        if report is not None and validation is not None:
            report(0, {"val_accuracy": 0.0})
        return classes, centroids

    def predict(self, model, x):
        import numpy as np

        classes, centroids = model
        d = np.abs(x[:, None, :] - centroids[None]).sum(-1) ** self.config["power"]
        return classes[d.argmin(1)]


class FirstHalf(hpo.Evaluator):
    """Train on the first half, validate on the second."""

    name = "first-half"

    def evaluate(self, backend, params, dataset, metric):
        from hpo_framework.contracts.backend import fit_and_score

        x, y = dataset.x_train, dataset.y_train
        h = len(x) // 2
        scores, steps = fit_and_score(backend, params, dataset, x[:h], y[:h], x[h:], y[h:])
        return {"value": scores[metric.name], "metrics": scores, "intermediate": steps}


def blobs(n=200, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 4)) + y[:, None] * 1.5
    return hpo.Dataset("blobs", x[:150], y[:150], x[150:], y[150:])


class ThreadExecutor(hpo.Executor):
    """Trials on a thread pool."""

    name = "threads"

    def start(self, objective, reporter=None):
        import concurrent.futures as cf

        super().start(objective, reporter)
        self.pool = cf.ThreadPoolExecutor(self.n_jobs)

    def submit(self, number, params, resume=None):
        from hpo_framework.contracts.objective import evaluate

        return self.pool.submit(evaluate, self.objective, params, number=number,
                                reporter=self.reporter, resume=resume)

    def shutdown(self, cancel=False):
        self.pool.shutdown(wait=not cancel, cancel_futures=cancel)


class Kinds:
    @hpo.hookimpl
    def register_backends(self, register):
        register("centroid", CentroidBackend)

    @hpo.hookimpl
    def register_evaluators(self, register):
        register("first-half", FirstHalf)

    @hpo.hookimpl
    def register_datasets(self, register):
        register("blobs", blobs, "three gaussian blobs")

    @hpo.hookimpl
    def register_executors(self, register):
        register("threads", ThreadExecutor)


@pytest.mark.hooks("register_backends", "register_evaluators", "register_datasets",
                   "register_executors")
def test_backend_evaluator_dataset_and_executor_hooks_run_a_whole_job(tmp_path):
    from hpo_framework.contracts.trial import TrialState
    from hpo_framework.jobs.job import JobConfig, prepare, run_job

    registry = get_registry()
    registry.register(Kinds(), name="kinds")
    try:
        config = JobConfig(strategy="random", backend="centroid", dataset="blobs",
                           evaluator="first-half", executor="threads", n_jobs=2, n_trials=6,
                           seed=0, storage=str(tmp_path / "k.db"),
                           backend_options={"power": 2.0})
        prepared = prepare(config)
        try:
            result = run_job(prepared)
        finally:
            prepared.study.close()
    finally:
        registry.unregister("kinds")
    study = result.study
    assert len(study.trials) == 6
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert all(0.0 <= t.value <= 1.0 for t in study.trials)
    assert study.best_value > 0.6  # blobs 1.5 sd apart are mostly separable
    # its evaluator calls fit_and_score without the metric: no pruning signal is added
    assert study.trials[0].intermediate == [{"step": 0, "val_accuracy": 0.0}]
    assert result.metric == "accuracy"
    assert 0.5 < result.final["test_score"] <= 1.0
    assert result.to_dict()["final_params"] == study.best_params
    assert study.config["backend_options"] == {"power": 2.0}
    assert CentroidBackend.warmed_up == 1  # once for the objective, not once per trial


def test_every_cli_option_is_in_the_cli_reference():
    doc = (ROOT / "docs" / "cli.md").read_text()
    commands = {"hpo-run": cli, **{f"hpo-run {n}": c for n, c in cli.commands.items()}}
    for label, command in commands.items():
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert f"`{opt}" in doc or f" {opt}" in doc, f"{label} {opt} not in docs/cli.md"
