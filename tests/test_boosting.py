"""The xgboost and lightgbm backends (plugins/hpo-boosting): the backend contract, one
report per boosting round, pruning and pausing by round, early stopping, threads, the CLI;
and the metrics they brought to the core (roc_auc, rmse, mae). Real training, few rounds,
on scikit-learn's breast_cancer and diabetes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from clitools import assert_space_within, check_library_bounds, modules_after, run_cli

from hpo_framework import Space, TrialPaused, TrialState
from hpo_framework.builtin.evaluators import Holdout
from hpo_framework.contracts.metrics import METRICS, get_metric
from hpo_framework.jobs.pipeline import load_dataset
from hpo_framework.registry import get_registry

pytest.importorskip("xgboost")
pytest.importorskip("lightgbm")

BACKENDS = ("xgboost", "lightgbm")
SMALL = {"xgboost": {"n_estimators": 20, "learning_rate": 0.3, "max_depth": 3},
         "lightgbm": {"n_estimators": 20, "learning_rate": 0.3, "num_leaves": 7}}


def backend(name, **options):
    return get_registry().get("backend", name)(seed=0, **options)


def split(dataset):
    return Holdout(seed=0).arrays(dataset)


def fit(b, params, dataset, pause_at=None, resume=None):
    """Train on the hold-out split; return the model and the reported steps."""
    steps = []

    def report(step, values):
        steps.append({"step": step, **values})
        if step == pause_at:
            raise TrialPaused()

    xt, yt, xv, yv = split(dataset)
    model = b.fit(dict(params), xt, yt, dataset, validation=(xv, yv), report=report,
                  resume=resume)
    return model, steps


# --- metrics ------------------------------------------------------------------------------

def test_new_metrics_have_their_directions_and_values():
    assert [(m, METRICS[m].direction, METRICS[m].task) for m in ("roc_auc", "rmse", "mae")] == [
        ("roc_auc", "maximize", "classification"), ("rmse", "minimize", "regression"),
        ("mae", "minimize", "regression")]
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]])
    assert METRICS["roc_auc"].fn(y, None, proba) == pytest.approx(0.75)  # 3 of 4 pairs
    tied = np.array([[0.5, 0.5]] * 4)
    assert METRICS["roc_auc"].fn(y, None, tied) == pytest.approx(0.5)  # ties count half
    three = np.eye(3)[[0, 1, 2, 0]]
    assert METRICS["roc_auc"].fn(np.array([0, 1, 2, 0]), None, three) == 1.0
    assert METRICS["rmse"].fn([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx((4 / 3) ** 0.5)
    assert METRICS["mae"].fn([1.0, 2.0, 3.0], [2.0, 2.0, 5.0]) == pytest.approx(1.0)
    assert get_metric("rmse", "regression").name == "rmse"
    for old in ("accuracy", "log_loss", "f1_macro", "mse", "r2"):  # still there
        assert METRICS[old].name == old


# --- the backend contract -----------------------------------------------------------------

@pytest.mark.parametrize("name", BACKENDS)
def test_backend_contract_on_classification_and_regression(name):
    """By default (early stopping, patience 50) the model is scored at its best round;
    with ``early_stopping_rounds=0`` at its last. 20 rounds: too few for the patience to
    stop either, so both train every round."""
    assert backend(name).config["early_stopping_rounds"] == 50
    for b in (backend(name), backend(name, early_stopping_rounds=0)):
        check_contract(b, name)


def check_contract(b, name):
    assert b.reports_intermediate and b.resumable
    stopping = bool(b.config["early_stopping_rounds"])
    for data in ("breast_cancer", "diabetes"):
        dataset = load_dataset(data)
        space = b.default_space(dataset)
        Space.from_dict(space)  # a valid space in the space-file schema
        assert set(space) <= b.parameters() and "n_estimators" in space
        assert space["learning_rate"]["log"] is True
        model, steps = fit(b, SMALL[name], dataset)
        assert [s["step"] for s in steps] == list(range(1, 21))  # one report per round
        xt, yt, xv, yv = split(dataset)
        scores = b.score(model, xv, yv, dataset)
        losses = [s["val_loss"] for s in steps]
        best = losses.index(min(losses)) + 1 if stopping else 20
        assert scores["rounds"] == 20 and scores["best_round"] == best
        at = steps[best - 1]  # the round's report is the model the trial is scored on
        if data == "breast_cancer":
            assert {"accuracy", "log_loss", "f1_macro", "roc_auc"} <= set(scores)
            assert scores["accuracy"] > 0.9 and scores["roc_auc"] > 0.95
            assert at["val_accuracy"] == pytest.approx(scores["accuracy"])
            assert at["val_loss"] == pytest.approx(scores["log_loss"], rel=1e-3)
            assert set(b.predict(model, xv)) <= set(dataset.y_train)
        else:
            assert {"mse", "rmse", "mae", "r2"} <= set(scores)
            assert at["val_loss"] == pytest.approx(scores["mse"], rel=1e-3)
            assert at["val_rmse"] == pytest.approx(scores["rmse"], rel=1e-3)
            assert at["val_mae"] == pytest.approx(scores["mae"], rel=1e-3)
            assert scores["r2"] > 0.1
        # the loss falls over the rounds
        assert steps[-1]["val_loss"] < steps[0]["val_loss"]
    with pytest.raises(ValueError, match=f"the {name} backend has no parameter 'units'"):
        fit(b, {"units": 3}, load_dataset("breast_cancer"))


@pytest.mark.parametrize("name", BACKENDS)
def test_a_paused_booster_resumes_to_the_same_model(name):
    """Without row or column sampling the resumed booster is the unpaused one; with it the
    library's random stream restarts at the resume, so the values are close, not equal."""
    dataset = load_dataset("breast_cancer")
    b = backend(name)
    for sampling, tolerance in ((1.0, 1e-9), (0.7, 0.05)):
        params = {**SMALL[name], "subsample": sampling, "colsample_bytree": sampling}
        whole, whole_steps = fit(b, params, dataset)
        with pytest.raises(TrialPaused) as paused:
            fit(b, params, dataset, pause_at=8)
        assert paused.value.checkpoint["round"] == 8
        resumed, rest = fit(b, params, dataset, resume=paused.value.checkpoint)
        assert [s["step"] for s in rest] == list(range(9, 21))  # the steps after the pause
        assert resumed.rounds == 20
        for a, c in zip(whole_steps[8:], rest, strict=True):
            assert a["val_loss"] == pytest.approx(c["val_loss"], abs=tolerance)
        xv = split(dataset)[2]
        np.testing.assert_allclose(b.predict_proba(resumed, xv), b.predict_proba(whole, xv),
                                   atol=max(tolerance, 1e-6) * 4)
    # a pause after the last round is let go: nothing is left to resume
    done, steps = fit(b, SMALL[name], dataset, pause_at=20)
    assert done.rounds == 20 and steps[-1]["step"] == 20


@pytest.mark.parametrize("name", BACKENDS)
def test_a_resumed_booster_reports_the_rounds_after_its_checkpoint_even_without_trees(name):
    """No split is possible (min_child_samples above the rows): LightGBM adds no tree for
    such rounds, so its tree count lags the rounds; a resumed trial must still go on at
    the round after its checkpoint (it once reported round 2 again, and a promoting
    pruner paused it there for ever)."""
    dataset = load_dataset("breast_cancer")
    b = backend(name)
    params = {**SMALL[name], "n_estimators": 12}
    params.update({"min_child_samples": 10_000} if name == "lightgbm" else
                  {"min_child_weight": 10_000})
    with pytest.raises(TrialPaused) as paused:
        fit(b, params, dataset, pause_at=5)
    _, rest = fit(b, params, dataset, resume=paused.value.checkpoint)
    assert [s["step"] for s in rest] == list(range(6, 13))


@pytest.mark.parametrize("name", BACKENDS)
def test_early_stopping_records_the_round_it_stopped_at(name):
    dataset = load_dataset("breast_cancer")
    b = backend(name, early_stopping_rounds=3)
    params = {**SMALL[name], "n_estimators": 400, "learning_rate": 0.5}
    model, steps = fit(b, params, dataset)
    xt, yt, xv, yv = split(dataset)
    scores = b.score(model, xv, yv, dataset)
    assert scores["rounds"] < 400 and steps[-1]["step"] == scores["rounds"]
    assert scores["best_round"] == scores["rounds"] - 3  # no better loss in the 3 after it
    losses = [s["val_loss"] for s in steps]
    assert min(losses) == pytest.approx(losses[int(scores["best_round"]) - 1])


@pytest.mark.parametrize("name", BACKENDS)
def test_threads_come_from_the_option_else_from_the_executor(name, monkeypatch):
    dataset = load_dataset("diabetes")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert fit(backend(name), SMALL[name], dataset)[0].estimator.get_params()["n_jobs"] == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # what the process executor sets per worker
    assert fit(backend(name), SMALL[name], dataset)[0].estimator.get_params()["n_jobs"] == 2
    model = fit(backend(name, n_jobs=3), SMALL[name], dataset)[0]
    assert model.estimator.get_params()["n_jobs"] == 3


USER_MODEL = """
import lightgbm
import xgboost

def xgb(params, task):
    cls = xgboost.XGBClassifier if task == "classification" else xgboost.XGBRegressor
    return cls(n_estimators=params["rounds"], max_depth=2, learning_rate=0.3)

def lgbm(params):
    return lightgbm.LGBMClassifier(n_estimators=params["rounds"], num_leaves=3)

def xgb_own_patience(params):
    return xgboost.XGBClassifier(n_estimators=params["rounds"], max_depth=3, learning_rate=0.5,
                                 early_stopping_rounds=2)

def wrong(params):
    return lightgbm.LGBMClassifier() if False else "a booster"
"""


@pytest.mark.parametrize("name,function", [("xgboost", "xgb"), ("lightgbm", "lgbm")])
def test_a_users_own_estimator_is_reported_and_pruned_by_round(name, function, tmp_path):
    (tmp_path / "boosters.py").write_text(USER_MODEL)
    b = backend(name, model=f"{tmp_path / 'boosters.py'}:{function}")
    assert b.parameters() is None  # any name: the function reads them
    dataset = load_dataset("breast_cancer")
    model, steps = fit(b, {"rounds": 12}, dataset)
    assert [s["step"] for s in steps] == list(range(1, 13)) and model.rounds == 12
    kept = {"xgb": ("max_depth", 2), "lgbm": ("num_leaves", 3)}[function]
    assert model.estimator.get_params()[kept[0]] == kept[1]
    assert model.estimator.get_params()["n_jobs"] == 1
    with pytest.raises(TrialPaused) as paused:  # pausable like the built-in estimator
        fit(b, {"rounds": 12}, dataset, pause_at=5)
    assert [s["step"] for s in fit(b, {"rounds": 12}, dataset,
                                   resume=paused.value.checkpoint)[1]] == list(range(6, 13))
    if name == "xgboost":  # the estimator's own early stopping wins over the option's 50
        own = backend(name, model=f"{tmp_path / 'boosters.py'}:xgb_own_patience")
        model, steps = fit(own, {"rounds": 300}, dataset)
        assert model.rounds == model.best_round + 2 == steps[-1]["step"] < 300
    wrong = backend(name, model=f"{tmp_path / 'boosters.py'}:wrong")
    with pytest.raises(TypeError, match="returned str, not an unfitted"):
        fit(wrong, {"rounds": 12}, dataset)


# --- studies: pruning by round ------------------------------------------------------------

def space_file(tmp_path, name):
    extra = {"max_depth": {"type": "int", "low": 1, "high": 4}} if name == "xgboost" else \
        {"num_leaves": {"type": "int", "low": 2, "high": 15}}
    space = {"n_estimators": {"type": "int", "low": 20, "high": 40},
             "learning_rate": {"type": "float", "low": 0.003, "high": 0.5, "log": True},
             **extra}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(space))
    return path


@pytest.mark.parametrize("pruner", ["asha", "halving"])
@pytest.mark.parametrize("name", BACKENDS)
def test_pruners_stop_boosting_between_rounds(name, pruner, tmp_path):
    """asha stops trials at a rung; halving pauses every trial at each rung and resumes the
    best from their boosters, so a trial that completes under it was resumed."""
    from hpo_framework.jobs.job import JobConfig, prepare, run_job

    config = JobConfig(strategy="random", backend=name, dataset="breast_cancer",
                       space_file=str(space_file(tmp_path, name)), n_trials=8, seed=1,
                       storage=str(tmp_path / "b.db"), pruner=pruner, metric="log_loss",
                       executor="serial")
    prepared = prepare(config)
    try:
        result = run_job(prepared)
    finally:
        prepared.study.close()
    pruned = [t for t in result.study.trials if t.state is TrialState.PRUNED]
    done = [t for t in result.study.trials if t.state is TrialState.COMPLETE]
    assert pruned and done
    for t in pruned:  # stopped between two rounds, every round before it reported
        steps = [r["step"] for r in t.intermediate]
        assert steps == list(range(1, steps[-1] + 1))
        assert steps[-1] < t.params["n_estimators"]
        assert t.error == (f"pruned at step {steps[-1]}" if pruner == "asha"
                           else f"paused at step {steps[-1]}; not resumed")
    for t in done:  # every round reported once, across pauses too
        steps = [r["step"] for r in t.intermediate]
        assert steps == list(range(1, t.params["n_estimators"] + 1))
        assert t.metrics["rounds"] == t.params["n_estimators"]
    assert result.metric == "log_loss" and 0 < result.final["test_score"] < 0.7


@pytest.mark.parametrize("pruner", ["asha", "halving"])
@pytest.mark.parametrize("name", BACKENDS)
def test_early_stopping_and_a_pruner_share_a_trial(name, pruner, tmp_path):
    """Early stopping (patience 4 here; 50 by default) and a pruner on the same trials: the
    pruner sees every round's value, a trial ends at whichever stops it first, a paused
    and resumed one goes on from its booster, and a finished one is scored at its best
    round (its value is that round's report), the round it stopped at recorded."""
    from hpo_framework.jobs.job import JobConfig, prepare, run_job

    space = {"n_estimators": {"type": "int", "low": 60, "high": 120},
             "learning_rate": {"type": "float", "low": 0.2, "high": 0.8, "log": True},
             ("max_depth" if name == "xgboost" else "num_leaves"): {"type": "int", "low": 3,
                                                                     "high": 6}}
    path = tmp_path / "space.json"
    path.write_text(json.dumps(space))
    config = JobConfig(strategy="random", backend=name, dataset="breast_cancer",
                       space_file=str(path), n_trials=6, seed=1, storage=":memory:",
                       pruner=pruner, metric="log_loss", executor="serial", final_test=False,
                       new_study=True, backend_options={"early_stopping_rounds": 4},
                       # asha judges from round 13, before these learning rates stop early
                       pruner_options={"min_resource": 13} if pruner == "asha" else {})
    prepared = prepare(config)
    try:
        study = run_job(prepared).study
    finally:
        prepared.study.close()
    done = [t for t in study.trials if t.state is TrialState.COMPLETE]
    assert done and len(done) < 6  # the pruner stopped or left some
    stopped_early = 0
    for t in study.trials:
        steps = [r["step"] for r in t.intermediate]
        assert steps == list(range(1, steps[-1] + 1))  # every round once, across pauses
    for t in done:
        rounds, best = int(t.metrics["rounds"]), int(t.metrics["best_round"])
        assert rounds == t.intermediate[-1]["step"] and best <= rounds
        assert t.value == pytest.approx(t.intermediate[best - 1]["val_loss"], rel=1e-3)
        if rounds < t.params["n_estimators"]:  # early stopping ended it: 4 rounds past best
            stopped_early += 1
            assert rounds - best == 4
    assert stopped_early  # learning rates of 0.2-0.8 overfit breast_cancer within 60 rounds


# --- the CLI ------------------------------------------------------------------------------

@pytest.mark.parametrize("name,dataset,metric", [("xgboost", "breast_cancer", "roc_auc"),
                                                 ("lightgbm", "diabetes", "rmse")])
def test_cli_runs_a_study_and_scores_the_best_on_test(name, dataset, metric, tmp_path):
    proc = run_cli("--backend", name, "--dataset", dataset, "--metric", metric,
                   "--strategy", "random", "--trials", "3", "--seed", "0",
                   "--space", space_file(tmp_path, name), "--json",
                   "--save-model", tmp_path / "best", cwd=tmp_path, check=True)
    data = json.loads(proc.stdout)
    assert [t["state"] for t in data["trials"]] == ["COMPLETE"] * 3
    for t in data["trials"]:
        assert [s["step"] for s in t["intermediate"]] == list(range(1, t["params"]
                                                                      ["n_estimators"] + 1))
        assert f"val_{metric}" in t["intermediate"][-1]
    assert data["metric"] == metric and data["direction"] == (
        "maximize" if metric == "roc_auc" else "minimize")
    assert data["test_metrics"][metric] == data["test_score"]
    assert data["test_score"] > 0.9 if metric == "roc_auc" else data["test_score"] < 80.0
    # the final retrain boosts the rounds the best trial's model predicted with (early
    # stopping is on by default: its best round, at most its n_estimators)
    best = next(t for t in data["trials"] if t["number"] == data["best"]["number"])
    best_round = int(best["metrics"]["best_round"])
    assert 1 <= best_round <= best["params"]["n_estimators"] == best["metrics"]["rounds"]
    assert data["final_params"] == {**data["best"]["params"], "n_estimators": best_round}
    assert (tmp_path / ("best.json" if name == "xgboost" else "best.txt")).is_file()


def test_a_bad_option_or_space_name_is_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from hpo_framework.cli import cli

    monkeypatch.chdir(tmp_path)
    space = tmp_path / "s.json"
    space.write_text(json.dumps({"units": {"type": "int", "low": 1, "high": 4}}))
    for args, message in [
        (["-B", "early_stopping_rounds=-1"], "Error: backend 'xgboost': option "
                                            "'early_stopping_rounds'"),
        (["-B", "nthreads=2"], "Error: backend 'xgboost': unknown option 'nthreads'"),
        (["--space", str(space)], "Error:"),
    ]:
        result = CliRunner().invoke(cli, ["--backend", "xgboost", "--dataset", "breast_cancer",
                                          "--trials", "1", *args])
        lines = result.stderr.strip().splitlines()
        assert result.exit_code != 0 and len(lines) == 1, result.stderr
        assert lines[0].startswith(message), lines[0]
    assert "'units'" in lines[0]  # the space's name the backend does not know
    assert not list(tmp_path.glob("*.db"))  # refused before anything was written


@pytest.mark.parametrize("name,param,spec,said", [
    ("xgboost", "n_estimators", {"type": "int", "low": 0, "high": 50}, "0 (low)"),
    ("xgboost", "subsample", {"type": "float", "low": 0.5, "high": 1.2}, "1.2 (high)"),
    ("lightgbm", "learning_rate", {"type": "float", "low": -0.1, "high": 0.3}, "-0.1 (low)"),
    ("lightgbm", "num_leaves", {"type": "categorical", "choices": [1, 31]}, "1 (choices)"),
    ("lightgbm", "subsample", {"type": "float", "values": [0.0, 0.5]}, "0 (values)"),
])
def test_a_space_past_the_librarys_bounds_is_refused_in_one_line(name, param, spec, said,
                                                                  tmp_path, monkeypatch):
    """Before the first trial, not as a library error in every trial (n_estimators 0 used
    to train the option's 100 rounds while recording 0)."""
    from click.testing import CliRunner

    from hpo_framework.cli import cli

    monkeypatch.chdir(tmp_path)
    space = tmp_path / "s.json"
    space.write_text(json.dumps({param: spec}))
    result = CliRunner().invoke(cli, ["--backend", name, "--dataset", "breast_cancer",
                                      "--trials", "2", "--space", str(space)])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code != 0 and len(lines) == 1, result.stderr
    interval = backend(name).parameter_ranges()[param]
    assert lines[0] == (f"Error: parameter '{param}': the space gives it {said}, but backend "
                        f"'{name}' takes {param} in {interval}; change "
                        f"{said.split('(')[1][:-1]} in the space"), lines[0]
    assert not list(tmp_path.glob("*.db"))


def test_ranges_are_checked_for_any_backend_and_a_bad_declaration_is_the_plugins_fault():
    """A backend that takes any name (parameters() None) still has its ranges checked; an
    interval that does not parse names the backend, not the user's space."""
    from hpo_framework.errors import OptionError, PluginError
    from hpo_framework.jobs.job import check_space_names

    class Any_:
        name = "mine"

        def __init__(self, ranges):
            self.ranges = ranges

        def parameters(self):
            return None

        def parameter_ranges(self):
            return self.ranges

    space = Space.from_dict({"depth": {"type": "int", "low": 0, "high": 4},
                             "rate": {"type": "float", "low": 0.5, "high": 1.0}})
    check_space_names(space, Any_({"depth": "[0, 10]", "rate": "(0, 1]"}))
    with pytest.raises(OptionError, match=r"^parameter 'rate': the space gives it 1 \(high\), "
                                          r"but backend 'mine' takes rate in \(0, 1\); "
                                          r"change high in the space$"):
        check_space_names(space, Any_({"rate": "(0, 1)"}))
    for bad in ("0..1", "[0, one]", "[0; 1]", 5):
        with pytest.raises(PluginError, match="backend 'mine' declares a range for 'depth' "
                                              "that is not an interval"):
            check_space_names(space, Any_({"depth": bad}))


@pytest.mark.parametrize("name", BACKENDS)
def test_the_bounds_are_the_librarys_own(name, tmp_path):
    """Each declared bound is where the library itself draws it: it takes a closed end and
    refuses just past it; it refuses an open end and takes just inside it. So the check
    refuses nothing the library takes; the default spaces lie within; a --model estimator
    declares none."""
    import lightgbm
    import xgboost

    refused = {"xgboost": xgboost.core.XGBoostError, "lightgbm": lightgbm.basic.LightGBMError}
    quiet = {"xgboost": {}, "lightgbm": {"verbose": -1}}[name]
    b = backend(name)
    ranges = b.parameter_ranges()
    assert set(ranges) <= b.parameters() and "n_estimators" in ranges
    dataset = load_dataset("breast_cancer")
    x, y = dataset.x_train[:120], dataset.y_train[:120]

    def fitted(param, value):
        value = int(value) if float(value).is_integer() else value  # max_depth: an int
        params = {"n_estimators": 3, **b.fixed_params, param: value, **quiet}
        return b.estimator_class("binary")(**params).fit(x, y)

    def step(param, end, kept):
        return (1 if kept else 0.5) if float(end).is_integer() else 1e-3

    # n_estimators aside: XGBoost trains 0 rounds; the backend refuses them (below)
    check_library_bounds({k: v for k, v in ranges.items() if k != "n_estimators"}, fitted,
                         refused[name], step)
    with pytest.raises(ValueError, match="n_estimators is 0: a booster needs at least 1"):
        fit(b, {"n_estimators": 0}, dataset)
    assert_space_within(b.default_space(dataset), ranges, every=True)
    (tmp_path / "own.py").write_text("def build(params):\n    return None\n")
    assert backend(name, model=f"{tmp_path / 'own.py'}:build").parameter_ranges() == {}


def test_listing_the_plugins_imports_neither_library():
    out, modules = modules_after("--list-plugins")
    assert "backend xgboost" in out and "backend lightgbm" in out
    assert {"xgboost", "lightgbm"} & modules == set()


@pytest.mark.parametrize("name", BACKENDS)
def test_the_final_retrain_boosts_to_the_round_the_best_trial_stopped_at(name, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("n_estimators: 300\nlearning_rate: 0.5\n"
                     + ("max_depth: 3\n" if name == "xgboost" else "num_leaves: 7\n"))
    proc = run_cli("--backend", name, "--dataset", "breast_cancer", "--strategy", "random",
                   "--trials", "1", "--seed", "0", "--space", space, "--storage",
                   tmp_path / "f.db", "--json", cwd=tmp_path, check=True)
    out = json.loads(proc.stdout)
    metrics = out["trials"][0]["metrics"]
    best = metrics["best_round"]
    assert 1 <= best and metrics["rounds"] == best + 50 < 300  # stopped early by default
    assert out["final_params"]["n_estimators"] == int(best)
    params = {"n_estimators": 300, "learning_rate": 0.5}
    assert backend(name).final_params(params, metrics) == {**params, "n_estimators": best}
    # -B early_stopping_rounds=0: every round trained and the retrain boosts them all
    assert backend(name, early_stopping_rounds=0).final_params(params, metrics) == params
    assert backend(name, early_stopping_rounds=0).early_stopping(validation=(1, 2)) is None


def test_a_pruners_max_resource_defaults_to_the_spaces_rounds():
    """Rounds, not epochs, are a booster's budget: asha/hyperband rungs span the rounds up
    to the space's n_estimators high unless --pruner-option max_resource says otherwise."""
    from hpo_framework.jobs.job import JobConfig, prepare
    from hpo_framework.space import Space

    def prepared(backend, dataset, **options):
        config = JobConfig(backend=backend, dataset=dataset, n_trials=2, storage=":memory:",
                           pruner="asha", pruner_options=options, final_test=False,
                           new_study=True)
        return prepare(config).study

    study = prepared("xgboost", "breast_cancer")
    high = Space.from_dict(backend("xgboost").default_space(load_dataset("breast_cancer")))
    assert study.pruner.config["max_resource"] == high["n_estimators"].high == 500
    assert prepared("xgboost", "breast_cancer", max_resource=50).pruner.config[
        "max_resource"] == 50
    assert prepared("sklearn", "digits").pruner.config["max_resource"] is None  # epochs


def test_boosting_declares_where_pruners_start_judging_and_other_backends_do_not():
    """Backend.resource_grace: a pruner not told where to start judging (asha's
    min_resource, median's n_warmup_steps) starts at 22 % of a booster's rounds, as the
    first rounds rank learning rates; asha's trend rule is on (Backend.pruner_defaults); a
    given option wins; other backends declare none."""
    from hpo_framework.contracts.backend import pruner_grace

    pruners = {name: get_registry().get("pruner", name).options
               for name in ("asha", "asha-promote", "hyperband", "median", "halving")}
    for name in BACKENDS:
        b = backend(name)
        assert b.resource_grace == pytest.approx(0.22)
        for pruner in ("asha", "asha-promote"):
            assert pruner_grace(b, 500, pruners[pruner]) == {"min_resource": 110,
                                                             "trend_window": 10}
        assert pruner_grace(b, 500, pruners["hyperband"]) == {"min_resource": 110}
        assert pruner_grace(b, 500, pruners["median"]) == {"n_warmup_steps": 110}
        assert pruner_grace(b, 90, pruners["median"]) == {"n_warmup_steps": 19}
        assert pruner_grace(b, 4, pruners["median"]) == {"n_warmup_steps": 1}  # at least 1
        assert pruner_grace(b, 500, pruners["asha"], given={"min_resource": 3,
                                                            "trend_window": 0}) == {}
        assert pruner_grace(b, 500, pruners["halving"]) == {}  # its rungs are its steps
        assert pruner_grace(b, None, pruners["asha"]) == {}
    sklearn = get_registry().get("backend", "sklearn")(seed=0)
    assert sklearn.resource_grace is None and sklearn.pruner_defaults == {}
    assert pruner_grace(sklearn, 500, pruners["asha"]) == {}


def test_a_boosting_study_prunes_from_110_of_500_rounds_and_other_backends_as_before():
    """What hpo-run builds: --pruner asha-promote (or asha) with a booster judges from round
    110 of 500 with the trend rule, hyperband from 110, median warms up 110 rounds; a given
    option wins; the sklearn MLP's pruners keep their own defaults (asha-promote's 1 and 10
    epochs, no trend rule)."""
    from hpo_framework.jobs.job import JobConfig, prepare

    def pruner(backend, dataset, name, **options):
        config = JobConfig(strategy="random", backend=backend, dataset=dataset, n_trials=2,
                           storage=":memory:", pruner=name, pruner_options=options,
                           final_test=False, new_study=True, seed=0)
        study = prepare(config).study
        try:
            return study.pruner.config
        finally:
            study.close()

    for name in ("asha-promote", "asha"):
        config = pruner("lightgbm", "breast_cancer", name)
        assert (config["min_resource"], config["max_resource"], config["trend_window"]) == \
            (110, 500, 10), name
    assert pruner("lightgbm", "breast_cancer", "hyperband")["min_resource"] == 110
    assert pruner("xgboost", "breast_cancer", "median")["n_warmup_steps"] == 110
    given = pruner("xgboost", "breast_cancer", "asha-promote", min_resource=9, trend_window=0)
    assert (given["min_resource"], given["trend_window"]) == (9, 0)
    assert pruner("xgboost", "breast_cancer", "asha", max_resource=90)["min_resource"] == 19
    mlp = pruner("sklearn", "digits", "asha-promote")
    assert (mlp["min_resource"], mlp["max_resource"], mlp["trend_window"]) == (1, 10, 0)
    assert pruner("sklearn", "digits", "median")["n_warmup_steps"] == 0


# --- XGBoost's data: a plain DMatrix on small data ---------------------------------------------

@pytest.mark.parametrize("dataset_name", ["breast_cancer", "diabetes"])
def test_xgboost_plain_dmatrix_trains_the_trees_the_quantile_one_does(monkeypatch, dataset_name):
    """Small data goes through a plain DMatrix (no fixed cost of the quantile one); the
    reports and predictions are the quantile one's, and the factory is not left on the
    fitted estimator."""
    import xgboost
    from hpo_boosting import xgb

    made = []

    def counting(cls):
        original = cls.__init__

        def init(self, *args, **kwargs):
            made.append(cls.__name__)
            original(self, *args, **kwargs)
        monkeypatch.setattr(cls, "__init__", init)

    counting(xgboost.DMatrix)
    counting(xgboost.QuantileDMatrix)
    dataset = load_dataset(dataset_name)
    params = {**SMALL["xgboost"], "subsample": 0.8, "colsample_bytree": 0.7}
    plain, plain_steps = fit(backend("xgboost"), params, dataset)
    assert made and set(made) == {"DMatrix"}  # every matrix a plain one
    made.clear()
    monkeypatch.setattr(xgb, "PLAIN_DMATRIX_CELLS", 0)  # every size the quantile way
    quantile, quantile_steps = fit(backend("xgboost"), params, dataset)
    assert made == ["QuantileDMatrix", "QuantileDMatrix"]  # training and validation rows
    assert plain_steps == quantile_steps
    x = dataset.x_test
    b = backend("xgboost")
    assert np.array_equal(b.predict(plain, x), b.predict(quantile, x))
    assert "_create_dmatrix" not in vars(plain.estimator)  # the class's method again
