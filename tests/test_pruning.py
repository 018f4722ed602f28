"""Early stopping end to end: intermediate values travel from the training loop to the
driver while a trial runs (serial, worker processes, Dask), the study's pruner decides,
the decision reaches the loop, and PRUNED trials are stored with every value they
reported. The pruners' own decisions are tested in test_pruners.py; here a pruner with
an obvious rule checks the plumbing."""

from __future__ import annotations

import json
import sqlite3

import pytest
from clitools import run_cli

import hpo_framework as hpo
from hpo_framework import TrialState, optimize
from hpo_framework.registry import get_registry

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
LIMIT, AFTER, STEPS = 0.5, 2, 5


class StopAbove(hpo.Pruner):
    """Stop a trial once it has ``after`` reports and its newest loss is above ``limit``."""

    name = "stop-above"
    options = {"limit": hpo.Option(LIMIT, float), "after": hpo.Option(AFTER, int, low=1)}

    def prune(self, trial, history):
        step, loss = trial.curve[-1]
        return len(trial.curve) >= self.config["after"] and loss > self.config["limit"]


class Plugin:
    @hpo.hookimpl
    def register_pruners(self, register):
        register("stop-above", StopAbove, "test pruner")


@pytest.fixture
def stop_above():
    registry = get_registry()
    registry.register(Plugin(), name="stop-above-plugin")
    try:
        yield
    finally:
        registry.unregister("stop-above-plugin")


def learning(params, trial):
    """A curve that rises with x: loss x * step / STEPS after each step."""
    for step in range(1, STEPS + 1):
        trial.report(params["x"] * step / STEPS, step)
        if trial.should_prune():
            raise hpo.TrialPruned()
    return params["x"]


def expected_stop(x: float) -> int | None:
    """The step StopAbove stops a trial at, or None when it completes."""
    for step in range(AFTER, STEPS + 1):
        if x * step / STEPS > LIMIT:
            return step
    return None


def check_pruned_as_expected(study):
    assert len(study.finished_trials) == 10  # pruned trials count against the budget
    pruned = 0
    for t in study.trials:
        stop = expected_stop(t.params["x"])
        if stop is None:
            assert t.state is TrialState.COMPLETE and t.value == t.params["x"]
            assert [r["step"] for r in t.intermediate] == list(range(1, STEPS + 1))
        else:
            pruned += 1
            assert t.state is TrialState.PRUNED, (t.params, t.state)
            assert t.value is None and t.loss is None
            assert [r["step"] for r in t.intermediate] == list(range(1, stop + 1))
            assert t.curve[-1] == (stop, pytest.approx(t.params["x"] * stop / STEPS))
            assert t.error == f"pruned at step {stop}"
    assert 0 < pruned < 10


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_pruner_stops_trials_live_in_process_and_in_worker_processes(stop_above, n_jobs):
    study = optimize(learning, SPACE, strategy="random", n_trials=10, seed=4, n_jobs=n_jobs,
                     pruner="stop-above")
    check_pruned_as_expected(study)


@pytest.mark.slow
def test_a_pruner_stops_trials_on_a_dask_cluster(stop_above):
    pytest.importorskip("distributed")
    study = optimize(learning, SPACE, strategy="random", n_trials=10, seed=4, n_jobs=2,
                     executor="dask", executor_options={"n_workers": 2}, pruner="stop-above")
    check_pruned_as_expected(study)


def test_pruning_decisions_survive_a_resume(stop_above, tmp_path):
    whole = optimize(learning, SPACE, strategy="random", n_trials=10, seed=9,
                     pruner="stop-above")
    db = tmp_path / "p.db"
    optimize(learning, SPACE, strategy="random", n_trials=4, seed=9, storage=db, study="p",
             pruner="stop-above")
    resumed = optimize(learning, SPACE, strategy="random", n_trials=10, seed=9, storage=db,
                       study="p", pruner="stop-above")
    assert [(t.params, t.state, t.intermediate) for t in resumed.trials] == \
        [(t.params, t.state, t.intermediate) for t in whole.trials]
    # stored: state, the values of every reported step, the step it stopped at
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT state, intermediate, error FROM trials ORDER BY number").fetchall()
    conn.close()
    for (state, steps, error), t in zip(rows, whole.trials, strict=True):
        assert state == t.state.value and json.loads(steps) == t.intermediate
        assert error == t.error


@pytest.mark.hooks("register_pruners")
def test_ask_and_tell_with_a_pruner(stop_above, tmp_path):
    study = hpo.create_study(SPACE, strategy="random", seed=0, storage=tmp_path / "a.db",
                             name="a", pruner="stop-above", pruner_options={"limit": 0.5})
    trial = study.ask()
    trial.report(0.9, 1)
    assert not trial.should_prune()  # one report: too early for this pruner
    trial.report(0.8, 2)
    assert trial.should_prune()
    study.tell(trial, TrialState.PRUNED)
    assert trial.state is TrialState.PRUNED
    assert trial.intermediate == [{"step": 1, "value": 0.9}, {"step": 2, "value": 0.8}]
    good = study.ask()
    good.report(0.1, 1)
    good.report(0.1, 2)
    assert not good.should_prune()
    study.tell(good, 0.1)
    study.close()
    # the pruner is part of what the study is: reopened without it, the study is refused
    with pytest.raises(hpo.StudyMismatchError, match="was run with pruner='stop-above', this "
                                                     "run has pruner=None"):
        hpo.create_study(SPACE, strategy="random", storage=tmp_path / "a.db", name="a")
    stored = hpo.create_study(SPACE, strategy="random", storage=tmp_path / "a.db", name="a",
                              pruner="stop-above", pruner_options={"limit": 0.5})
    assert [(t.state, t.value) for t in stored.trials] == [(TrialState.PRUNED, None),
                                                           (TrialState.COMPLETE, 0.1)]
    assert stored.trials[0].curve == [(1, 0.9), (2, 0.8)]
    stored.close()


def test_a_maximized_study_gives_its_pruner_losses(stop_above):
    seen = []

    class Spy(StopAbove):
        def prune(self, trial, history):
            seen.append(trial.curve[-1])
            return False

    study = hpo.create_study(SPACE, strategy="random", seed=0, direction="maximize")
    study.pruner = Spy()
    trial = study.ask()
    trial.report(0.75, 3)
    assert seen == [(3, -0.75)]
    study.close()


def test_a_pruner_without_reports_to_listen_to_is_refused(tmp_path):
    model = tmp_path / "m.py"
    model.write_text("def build(params):\n    from sklearn.linear_model import LogisticRegression\n"
                     "    return LogisticRegression(C=params['C'], max_iter=50)\n")
    space = tmp_path / "s.yaml"
    space.write_text("C: [0.1, 1.0]\n")
    proc = run_cli("--strategy", "random", "--trials", "2", "--no-final-test", "--model",
                   f"{model}:build", "--space", space, "--pruner", "median",
                   "--storage", tmp_path / "n.db")
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("Error: --pruner median: backend 'sklearn' reports no "
                                   "per-epoch values, so there is nothing to prune on; drop "
                                   "--pruner")
    assert not (tmp_path / "n.db").exists()


@pytest.mark.slow
def test_cli_median_pruner_stops_sklearn_trials_at_an_epoch(tmp_path):
    proc = run_cli("--strategy", "random", "--trials", "12", "--seed", "1", "--no-final-test",
                   "-B", "max_iter=8", "--pruner", "median", "-P", "n_startup_trials=3",
                   "--storage", tmp_path / "m.db", "--json", check=True)
    trials = json.loads(proc.stdout)["trials"]
    pruned = [t for t in trials if t["state"] == "PRUNED"]
    complete = [t for t in trials if t["state"] == "COMPLETE"]
    assert pruned and complete and len(pruned) + len(complete) == 12
    for t in complete:
        assert [r["step"] for r in t["intermediate"]] == list(range(1, 9))
    for t in pruned:
        steps = [r["step"] for r in t["intermediate"]]
        assert steps == list(range(1, len(steps) + 1)) and len(steps) < 8
        assert t["error"] == f"pruned at step {steps[-1]}"
        assert all("value" in r and "val_accuracy" in r for r in t["intermediate"])


def test_report_plots_draw_the_learning_curves_with_pruned_trials_marked(stop_above, tmp_path):
    db = tmp_path / "lc.db"
    optimize(learning, SPACE, strategy="random", n_trials=6, seed=4, storage=db, study="lc",
             pruner="stop-above")
    proc = run_cli("report", "--storage", db, "--study", "lc", "--plots", tmp_path / "plots",
                   check=True)
    assert proc.returncode == 0
    from hpo_framework.results.figures import learning_curves_figure
    from hpo_framework.results.model import load_study

    view = load_study(str(db), "lc")
    title = learning_curves_figure(view).axes[0].get_title()
    pruned = sum(expected_stop(t.params["x"]) is not None for t in view.trials)
    assert pruned == sum(t.state is TrialState.PRUNED for t in view.trials) > 0
    assert title == f"lc: learning curves ({pruned} pruned: dotted, x where stopped)"
    assert (tmp_path / "plots" / "learning_curves.png").stat().st_size > 10_000
