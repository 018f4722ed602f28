"""Define-by-run, as an Optuna user writes it: ``objective(trial)`` calls
``trial.suggest_*`` and ``optimize()`` / ``create_study()`` get no space. The space is
learned from the suggestions (conditional where a categorical explains it), stored, and
rebuilt on resume; Optuna's quickstart and ``sklearn_simple.py`` run with only the import
line changed. Real SQLite, real scikit-learn on iris."""

from __future__ import annotations

import json
import sqlite3

import pytest

import hpo_framework as hpo
from hpo_framework import HPOError, TrialState


# Optuna's quickstart, as written there
def quickstart(trial):
    x = trial.suggest_float("x", -10, 10)
    return (x - 2) ** 2


# Optuna's examples/sklearn/sklearn_simple.py, as written there (n_jobs=1: 2 cores)
def sklearn_simple(trial):
    import sklearn.datasets
    import sklearn.ensemble
    import sklearn.model_selection
    import sklearn.svm

    iris = sklearn.datasets.load_iris()
    x, y = iris.data, iris.target

    classifier_name = trial.suggest_categorical("classifier", ["SVC", "RandomForest"])
    if classifier_name == "SVC":
        svc_c = trial.suggest_float("svc_c", 1e-10, 1e10, log=True)
        classifier_obj = sklearn.svm.SVC(C=svc_c, gamma="auto")
    else:
        rf_max_depth = trial.suggest_int("rf_max_depth", 2, 32, log=True)
        classifier_obj = sklearn.ensemble.RandomForestClassifier(
            max_depth=rf_max_depth, n_estimators=10
        )

    score = sklearn.model_selection.cross_val_score(classifier_obj, x, y, n_jobs=1, cv=3)
    accuracy = score.mean()
    return accuracy


def branches(trial):
    """A cheap conditional objective: which parameters exist depends on ``kind``."""
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    if kind == "a":
        return (trial.suggest_float("u", -3, 3) - 1) ** 2
    if kind == "b":
        return 1 + (trial.suggest_int("n", 1, 20) - 7) ** 2 / 10
    return 0.5 + abs(trial.suggest_float("v", 1e-3, 1e3, log=True) - 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quickstart_bayes_finds_the_minimum_random_gets_close(seed):
    bayes = hpo.optimize(quickstart, n_trials=30, strategy="bayes", seed=seed)
    assert len(bayes.complete_trials) == 30
    assert abs(bayes.best_params["x"] - 2) < 0.03 and bayes.best_value < 1e-3
    rand = hpo.optimize(quickstart, n_trials=30, strategy="random", seed=seed)
    assert len(rand.complete_trials) == 30 and rand.best_value < 2.0
    assert -10 <= min(t.params["x"] for t in rand.trials) < max(t.params["x"]
                                                                   for t in rand.trials) <= 10


@pytest.mark.parametrize("strategy", ["random", "bayes", "genetic"])
def test_sklearn_simple_with_its_conditional_classifier_choice(strategy, tmp_path):
    study = hpo.create_study(direction="maximize", strategy=strategy, seed=3,
                             storage=tmp_path / "s.db", name="iris")
    study.optimize(sklearn_simple, n_trials=14)
    assert len(study.complete_trials) == 14
    assert study.best_value >= 0.94
    for t in study.trials:  # a parameter is recorded where it was suggested, only there
        expected = {"classifier", "svc_c" if t.params["classifier"] == "SVC" else "rf_max_depth"}
        assert set(t.params) == expected
    assert {t.params["classifier"] for t in study.trials} == {"SVC", "RandomForest"}
    learned = study.attrs["learned_space"]
    assert learned["svc_c"]["condition"] == {"classifier": {"eq": "SVC"}}
    assert learned["rf_max_depth"]["condition"] == {"classifier": {"eq": "RandomForest"}}
    assert learned["rf_max_depth"]["log"] is True and learned["classifier"]["choices"] == [
        "SVC", "RandomForest"]
    study.close()


@pytest.mark.parametrize("strategy", ["bayes", "random", "genetic"])
def test_a_resumed_study_proposes_what_an_uninterrupted_one_does(strategy, tmp_path):
    whole = hpo.optimize(branches, n_trials=16, strategy=strategy, seed=7,
                         storage=tmp_path / "a.db", study="s")
    hpo.optimize(branches, n_trials=6, strategy=strategy, seed=7, storage=tmp_path / "b.db",
                 study="s")
    hpo.optimize(branches, n_trials=11, strategy=strategy, seed=7, storage=tmp_path / "b.db",
                 study="s")
    resumed = hpo.optimize(branches, n_trials=16, strategy=strategy, seed=7,
                           storage=tmp_path / "b.db", study="s")
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]
    assert len({json.dumps(t.params, sort_keys=True) for t in whole.trials}) == 16
    assert {t.params["kind"] for t in whole.trials} == {"a", "b", "c"}


def test_grid_needs_a_declared_space_in_one_line(tmp_path):
    db = tmp_path / "g.db"
    with pytest.raises(HPOError) as info:
        hpo.optimize(quickstart, n_trials=3, strategy="grid", storage=db)
    assert "strategy 'grid' enumerates a declared space" in str(info.value)
    assert "\n" not in str(info.value) and not db.exists()


def test_a_name_keeps_one_range():
    def twice(trial):
        x = trial.suggest_float("x", 0, 1)
        assert trial.suggest_float("x", 0, 1) == x  # the same range: the same value
        return trial.suggest_float("x", 0, 2)

    with pytest.warns(RuntimeWarning, match="no trial of study"):
        study = hpo.optimize(twice, n_trials=2, strategy="random", seed=0)
    assert {t.state for t in study.trials} == {TrialState.FAILED}
    error = study.trials[0].error
    assert error.startswith("SpaceError: parameter 'x' was suggested twice in trial 0 with "
                            "different ranges") and "\n" not in error

    def moving(trial):  # a later trial asks for another range of a learned name
        return trial.suggest_int("n", 1, 5 if trial.number == 0 else 9)

    study = hpo.optimize(moving, n_trials=2, strategy="random", seed=0)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAILED]
    assert "parameter 'n' is suggested as int" in study.trials[1].error
    assert "but the study knows it as int {'low': 1, 'high': 5}" in study.trials[1].error


def test_a_declared_space_and_suggestions_mix(tmp_path):
    space = {"lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True}}
    seen = []

    def objective(params, trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)  # declared: the proposal
        seen.append((params["lr"], lr))
        layers = trial.suggest_int("layers", 1, 3)
        return abs(lr - 0.01) + layers

    study = hpo.optimize(objective, space, n_trials=8, strategy="bayes", seed=0,
                         define_by_run=True, storage=tmp_path / "m.db", study="m")
    assert len(study.complete_trials) == 8 and all(a == b for a, b in seen)
    assert all(set(t.params) == {"lr", "layers"} for t in study.trials)
    assert set(study.attrs["learned_space"]) == {"layers"}  # lr stays declared

    def other_range(params, trial):
        return trial.suggest_float("lr", 1e-3, 1.0, log=True)

    with pytest.warns(RuntimeWarning, match="no trial of study"):
        study = hpo.optimize(other_range, space, n_trials=1, strategy="random", seed=0,
                             define_by_run=True)
    assert "parameter 'lr' is suggested as float" in study.trials[0].error


def test_steps_repeats_and_trial_params():
    got = []

    def objective(trial):
        batch = trial.suggest_int("batch", 32, 512, step=32)
        rate = trial.suggest_float("rate", 0.0, 1.0, step=0.25)
        got.append((trial.number, dict(trial.params)))
        assert trial.suggest_int("batch", 32, 512, step=32) == batch
        return batch * rate

    hpo.optimize(objective, n_trials=12, strategy="bayes", seed=0)
    assert [n for n, _ in got] == list(range(12))
    assert all(p["batch"] % 32 == 0 and p["rate"] in (0, 0.25, 0.5, 0.75, 1.0) for _, p in got)
    assert len({p["batch"] for _, p in got}) > 3


def test_set_user_attr_is_stored(tmp_path):
    db = tmp_path / "u.db"

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        trial.set_user_attr("doubled", 2 * x)
        return x

    hpo.optimize(objective, n_trials=3, strategy="random", seed=0, storage=db, study="u")
    rows = sqlite3.connect(db).execute(
        "SELECT params, user_attrs FROM trials ORDER BY number").fetchall()
    assert len(rows) == 3
    for params, attrs in rows:
        assert json.loads(attrs)["doubled"] == 2 * json.loads(params)["x"]


def test_report_and_should_prune_with_a_pruner():
    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        for step in range(5):
            trial.report(x + 1.0 / (step + 1), step)  # Optuna's order: value, step
            if trial.should_prune():
                raise hpo.TrialPruned()
        return x

    study = hpo.optimize(objective, n_trials=20, strategy="random", seed=0, pruner="median",
                         pruner_options={"n_startup_trials": 3})
    pruned = [t for t in study.trials if t.state is TrialState.PRUNED]
    assert pruned and len(study.complete_trials) >= 3
    assert all(set(t.params) == {"x"} and len(t.intermediate) < 5 for t in pruned)
    assert min(t.params["x"] for t in pruned) > study.best_value


def test_define_by_run_in_worker_processes():
    study = hpo.optimize(branches, n_trials=6, strategy="random", seed=0, n_jobs=2)
    assert len(study.complete_trials) == 6
    assert all("kind" in t.params for t in study.trials)


def test_the_examples_of_docs_from_optuna_run_as_written(capsys):
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "from-optuna.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) == 2
    quick: dict = {}
    exec(compile(blocks[0], "from-optuna quickstart", "exec"), quick)
    assert abs(quick["study"].best_params["x"] - 2) < 0.05
    simple: dict = {}
    exec(compile(blocks[1], "from-optuna sklearn_simple", "exec"), simple)
    assert simple["study"].best_value >= 0.94 and len(simple["study"].complete_trials) == 20
    assert "classifier" in capsys.readouterr().out


def test_report_takes_value_then_step_everywhere_and_refuses_a_step_that_is_not_an_int():
    space = {"x": {"type": "float", "low": 0.0, "high": 1.0}}

    def objective(params, trial):
        trial.report(0.5, 1)
        trial.report(value=0.4, step=2)
        if params["x"] > 0.5:
            trial.report(3, 0.75)  # the old order: a float step
        return params["x"]

    study = hpo.optimize(objective, space, n_trials=8, strategy="random", seed=0)
    for t in study.trials:
        assert [(r["step"], r["value"]) for r in t.intermediate][:2] == [(1, 0.5), (2, 0.4)]
        if t.params["x"] > 0.5:
            assert t.state is TrialState.FAILED
            assert t.error == ("HPOError: trial.report(value, step): step must be an integer "
                               ">= 0 (an epoch, say), got 0.75; the order is Optuna's: "
                               "report(value, step)")
        else:
            assert t.state is TrialState.COMPLETE
    assert {t.state for t in study.trials} == {TrialState.FAILED, TrialState.COMPLETE}

    asked = hpo.create_study(space, strategy="random", seed=0)
    trial = asked.ask()
    trial.report(0.9, 3)
    with pytest.raises(HPOError, match="step must be an integer"):
        trial.report(0.9, 2.5)
    with pytest.warns(RuntimeWarning, match="step 3 was reported already"):
        trial.report(0.1, 3)  # as in Optuna: the first value of a step stays
    asked.tell(trial, 0.8)
    assert [(r["step"], r["value"]) for r in trial.intermediate] == [(3, 0.9)]


def test_ask_and_tell_with_suggestions(tmp_path):
    study = hpo.create_study(strategy="bayes", seed=0, storage=tmp_path / "t.db", name="at")
    for _ in range(16):
        trial = study.ask()
        x = trial.suggest_float("x", -10, 10)
        trial.set_user_attr("seen", x)
        study.tell(trial, (x - 2) ** 2)
    assert study.best_value < 0.5 and set(study.attrs["learned_space"]) == {"x"}
    assert all(t.user_attrs["seen"] == t.params["x"] for t in study.trials)
    study.close()

    declared = hpo.create_study({"x": [1, 2]}, strategy="random", seed=0)
    trial = declared.ask()
    with pytest.raises(HPOError, match="trial.suggest_\\* needs a running trial of a study "
                                       "that learns its space"):
        trial.suggest_float("y", 0, 1)


def test_an_objective_of_params_given_no_space_fails_with_a_line_that_says_why():
    with pytest.warns(RuntimeWarning, match="give optimize\\(\\) a space"):
        study = hpo.optimize(lambda p: (p["x"] - 2) ** 2, n_trials=2, strategy="random")
    assert study.trials[0].error == (
        "SpaceError: the objective reads trial['x'] as if it were a params dict: give "
        "optimize() a space (objective(params)), or call trial.suggest_*('x', ...)")


def test_bayes_x0_needs_a_declared_space():
    with pytest.raises(HPOError, match="option 'x0' needs a declared space"):
        hpo.optimize(quickstart, n_trials=3, strategy="bayes", x0={"x": 1.0})
    space = {"x": {"type": "float", "low": -10.0, "high": 10.0}}
    study = hpo.optimize(lambda params, trial: quickstart(trial), space, n_trials=3,
                         strategy="bayes", x0={"x": 1.0}, define_by_run=True)
    assert study.trials[0].params == {"x": 1.0}
