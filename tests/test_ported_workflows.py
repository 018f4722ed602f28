"""The official examples of other libraries, ported as a new user would (issue 24): each runs
as define-by-run with the objective written the way its library's example writes it, and
through ``hpo-run`` where the CLI fits. Optuna's quickstart and ``sklearn_simple.py`` live
in test_define_by_run.py; here: Optuna's ``xgboost_simple.py``, KerasTuner's getting-started
conditional model, scikit-optimize's hyperparameter-optimization example (a regression
scored by RMSE) and scikit-learn's grid search over an SVC on digits. Real libraries, real
data, small budgets."""

from __future__ import annotations

import json
import textwrap

import hpo_framework as hpo
from hpo_framework import TrialState
from tests.clitools import run_cli


# Optuna's examples/xgboost/xgboost_simple.py, as written there (the split seeded)
def xgboost_simple(trial):
    import numpy as np
    import sklearn.datasets
    import sklearn.metrics
    import xgboost as xgb
    from sklearn.model_selection import train_test_split

    (data, target) = sklearn.datasets.load_breast_cancer(return_X_y=True)
    train_x, valid_x, train_y, valid_y = train_test_split(data, target, test_size=0.25,
                                                          random_state=0)
    dtrain = xgb.DMatrix(train_x, label=train_y)
    dvalid = xgb.DMatrix(valid_x, label=valid_y)

    param = {
        "verbosity": 0,
        "objective": "binary:logistic",
        "tree_method": "exact",
        "nthread": 1,
        "booster": trial.suggest_categorical("booster", ["gbtree", "gblinear", "dart"]),
        "lambda": trial.suggest_float("lambda", 1e-8, 1.0, log=True),
        "alpha": trial.suggest_float("alpha", 1e-8, 1.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.2, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.2, 1.0),
    }
    if param["booster"] in ["gbtree", "dart"]:
        param["max_depth"] = trial.suggest_int("max_depth", 3, 9, step=2)
        param["min_child_weight"] = trial.suggest_int("min_child_weight", 2, 10)
        param["eta"] = trial.suggest_float("eta", 1e-8, 1.0, log=True)
        param["gamma"] = trial.suggest_float("gamma", 1e-8, 1.0, log=True)
        param["grow_policy"] = trial.suggest_categorical("grow_policy",
                                                         ["depthwise", "lossguide"])
    if param["booster"] == "dart":
        param["sample_type"] = trial.suggest_categorical("sample_type", ["uniform", "weighted"])
        param["normalize_type"] = trial.suggest_categorical("normalize_type", ["tree", "forest"])
        param["rate_drop"] = trial.suggest_float("rate_drop", 1e-8, 1.0, log=True)
        param["skip_drop"] = trial.suggest_float("skip_drop", 1e-8, 1.0, log=True)

    bst = xgb.train(param, dtrain, num_boost_round=10)
    preds = bst.predict(dvalid)
    pred_labels = np.rint(preds)
    accuracy = sklearn.metrics.accuracy_score(valid_y, pred_labels)
    return accuracy


def test_xgboost_simple_runs_with_its_conditional_booster_choice(tmp_path):
    study = hpo.optimize(xgboost_simple, n_trials=12, strategy="bayes", seed=0,
                         direction="maximize", storage=str(tmp_path / "x.db"), study="xgb")
    done = [t for t in study.trials if t.state is TrialState.COMPLETE]
    assert len(done) == 12
    for t in done:
        trees = t.params["booster"] in ("gbtree", "dart")
        assert ("max_depth" in t.params) == trees
        assert ("rate_drop" in t.params) == (t.params["booster"] == "dart")
        if trees:
            assert t.params["max_depth"] in (3, 5, 7, 9)  # step=2 honoured
    assert study.best_value == max(t.value for t in done)
    assert study.best_value > 0.9  # breast cancer: every sensible booster gets there


# KerasTuner's getting-started model (keras.io/keras_tuner/getting_started), written for
# define-by-run: hp.Int(step=) -> suggest_int(step=), hp.Boolean -> suggest_categorical,
# hp.Float(sampling="log") -> suggest_float(log=True); one epoch on digits
def keras_tuner_getting_started(trial):
    import keras
    import numpy as np
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    train, valid = order[:1200], order[1200:]

    keras.utils.set_random_seed(trial.number)
    model = keras.Sequential([keras.Input(shape=(64,))])
    for i in range(trial.suggest_int("num_layers", 1, 3)):
        model.add(keras.layers.Dense(
            units=trial.suggest_int(f"units_{i}", 32, 512, step=32),
            activation=trial.suggest_categorical("activation", ["relu", "tanh"])))
    if trial.suggest_categorical("dropout", [True, False]):
        model.add(keras.layers.Dropout(rate=0.25))
    model.add(keras.layers.Dense(10, activation="softmax"))
    learning_rate = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[train], y[train], epochs=1, batch_size=64, verbose=0)
    return model.evaluate(x[valid], y[valid], verbose=0)[1]


def test_keras_tuner_getting_started_conditional_layers(tmp_path):
    study = hpo.optimize(keras_tuner_getting_started, n_trials=4, strategy="random", seed=1,
                         direction="maximize", storage=str(tmp_path / "k.db"),
                         study="keras")
    done = [t for t in study.trials if t.state is TrialState.COMPLETE]
    assert len(done) == 4
    for t in done:
        layers = t.params["num_layers"]
        assert sorted(k for k in t.params if k.startswith("units_")) == \
            [f"units_{i}" for i in range(layers)]
        assert all(t.params[f"units_{i}"] % 32 == 0 for i in range(layers))
        assert isinstance(t.params["dropout"], bool)
        assert 0.0 < t.value <= 1.0
    assert study.best_value > 0.5  # one epoch of any of these MLPs beats chance (0.1) by far


# scikit-optimize's "Tuning a scikit-learn estimator with skopt" example (boston, gone
# from scikit-learn, becomes diabetes; scored by RMSE instead of MAE)
def skopt_gbr(trial):
    import numpy as np
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.model_selection import cross_val_score

    x, y = load_diabetes(return_X_y=True)
    n_features = x.shape[1]
    reg = GradientBoostingRegressor(
        n_estimators=30, random_state=0,
        max_depth=trial.suggest_int("max_depth", 1, 5),
        learning_rate=trial.suggest_float("learning_rate", 1e-5, 1e0, log=True),
        max_features=trial.suggest_int("max_features", 1, n_features),
        min_samples_split=trial.suggest_int("min_samples_split", 2, 100),
        min_samples_leaf=trial.suggest_int("min_samples_leaf", 1, 100))
    return -np.mean(cross_val_score(reg, x, y, cv=3, n_jobs=1,
                                    scoring="neg_root_mean_squared_error"))


def test_skopt_regression_example_minimizes_rmse(tmp_path):
    study = hpo.optimize(skopt_gbr, n_trials=10, strategy="bayes", seed=0,
                         storage=str(tmp_path / "r.db"), study="gbr")
    done = [t for t in study.trials if t.state is TrialState.COMPLETE]
    assert len(done) == 10 and study.direction == "minimize"
    assert study.best_value == min(t.value for t in done)
    # predicting the mean scores the target's standard deviation (about 77): tuning beats it
    assert study.best_value < 70


GBR_MODEL = """
    from sklearn.ensemble import GradientBoostingRegressor

    def build(params):
        return GradientBoostingRegressor(n_estimators=30, **params)
    """
GBR_SPACE = """
    max_depth: {type: int, low: 1, high: 5}
    learning_rate: {type: float, low: 0.00001, high: 1.0, log: true}
    min_samples_leaf: {type: int, low: 1, high: 100}
    """


def test_skopt_regression_example_through_the_cli_with_rmse(tmp_path):
    (tmp_path / "gbr.py").write_text(textwrap.dedent(GBR_MODEL))
    (tmp_path / "gbr.yaml").write_text(textwrap.dedent(GBR_SPACE))
    proc = run_cli("--backend", "sklearn", "--model", "gbr.py:build", "--space", "gbr.yaml",
                   "--dataset", "diabetes", "--metric", "rmse", "--trials", "5", "--seed", "0",
                   "--storage", "r.db", "--json", cwd=tmp_path, check=True)
    out = json.loads(proc.stdout)
    values = [t["value"] for t in out["trials"] if t["state"] == "COMPLETE"]
    assert len(values) == 5 and out["direction"] == "minimize"
    assert out["best"]["value"] == min(values) and out["metric"] == "rmse"


# scikit-learn's "Custom refit strategy of a grid search with cross-validation" (digits,
# SVC): gamma exists only for the rbf kernel, a conditional grid of 4*2 + 4 points
SVC_SPACE = {
    "kernel": {"type": "categorical", "choices": ["rbf", "linear"]},
    "gamma": {"type": "categorical", "choices": [1e-3, 1e-4], "condition": {"kernel": "rbf"}},
    "C": {"type": "categorical", "choices": [1, 10, 100, 1000]},
}


def svc_on_digits(params):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    x, y = load_digits(return_X_y=True)
    x, y = x[:600], y[:600]
    return cross_val_score(SVC(**params), x, y, cv=3, n_jobs=1).mean()


def test_sklearn_grid_over_an_svc_visits_every_point_once(tmp_path):
    study = hpo.optimize(svc_on_digits, SVC_SPACE, strategy="grid", direction="maximize",
                         storage=str(tmp_path / "g.db"), study="svc")
    points = {json.dumps(t.params, sort_keys=True) for t in study.trials}
    assert len(study.trials) == 12 and len(points) == 12
    assert sum("gamma" in t.params for t in study.trials) == 8
    assert study.best_value == max(t.value for t in study.trials)


SVC_MODEL = """
    from sklearn.svm import SVC

    def build(params):
        return SVC(**params)
    """
SVC_YAML = """
    kernel: [rbf, linear]
    gamma: {type: categorical, choices: [0.001, 0.0001], condition: {kernel: rbf}}
    C: [1, 10, 100, 1000]
    """


def test_sklearn_grid_over_an_svc_through_the_cli(tmp_path):
    (tmp_path / "svc.py").write_text(textwrap.dedent(SVC_MODEL))
    (tmp_path / "svc.yaml").write_text(textwrap.dedent(SVC_YAML))
    proc = run_cli("--strategy", "grid", "--backend", "sklearn", "--model", "svc.py:build",
                   "--space", "svc.yaml", "--dataset", "digits",
                   "--storage", "g.db", "--json", cwd=tmp_path, check=True)
    out = json.loads(proc.stdout)
    assert len(out["trials"]) == 12  # the grid's size, not --trials' default of 20
    assert {t["state"] for t in out["trials"]} == {"COMPLETE"}
    assert out["best"]["value"] == max(t["value"] for t in out["trials"])
