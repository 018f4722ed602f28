"""Measured ("deployment") metrics and several metrics per trial (issues 24 and 25).

Every trial evaluated through the standard path (``fit_and_score``: the hold-out and k-fold
evaluators) records ``train_s``, ``latency_ms`` and ``n_params`` beside the metrics of its
task, for every backend; ``Evaluator.evaluate(..., metrics=[...])`` records more metrics,
and backends that report per epoch report them per epoch too. Tiny models on digits."""

import numpy as np
import pytest

from hpo_framework.builtin.evaluators import Holdout, KFold
from hpo_framework.contracts.backend import (
    Backend,
    Evaluator,
    accepts_metrics,
    fit_and_score,
)
from hpo_framework.contracts.measured import MEASURED, measured_metric
from hpo_framework.contracts.metrics import Metric, get_metric
from hpo_framework.jobs.pipeline import load_dataset

ACC = get_metric("accuracy", "classification")
N_FEATURES, N_CLASSES = 64, 10  # digits: 8x8 pixels, 10 classes


def _errors(y, pred, proba=None):
    """A custom metric no backend knows: the number of wrong predictions."""
    return float(np.sum(np.asarray(y) != np.asarray(pred)))


ERRORS = Metric("errors", "minimize", "classification", False, _errors)
LATENCY = measured_metric("latency_ms")  # measured only when asked (extra predictions)


def mlp_params(widths, n_in=N_FEATURES, n_out=N_CLASSES):
    """Weights and biases of an MLP with hidden ``widths``, counted by hand."""
    sizes = [n_in, *widths, n_out]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _n_val(digits):
    return len(Holdout(seed=0).arrays(digits)[3])


def _check_measured(metrics, n_params):
    assert set(MEASURED) <= set(metrics)  # every measured metric is recorded
    assert metrics["train_s"] > 0 and metrics["latency_ms"] > 0
    assert metrics["n_params"] == n_params


def test_sklearn_trial_records_measured_and_extra_metrics(digits):
    from hpo_sklearn import SklearnBackend

    out = Holdout(seed=0).evaluate(SklearnBackend(seed=0, max_iter=3),
                                   {"n_layers": 2, "units_1": 7, "units_2": 5}, digits, ACC,
                                   metrics=[ERRORS, LATENCY])
    m = out["metrics"]
    assert mlp_params([7, 5]) == 64 * 7 + 7 + 7 * 5 + 5 + 5 * 10 + 10
    _check_measured(m, mlp_params([7, 5]))
    assert m["errors"] == round((1 - m["accuracy"]) * _n_val(digits))
    # per epoch too, from the same validation outputs
    last = out["intermediate"][-1]
    assert last["val_errors"] == m["errors"]
    assert [s["step"] for s in out["intermediate"]] == [1, 2, 3]


def test_sklearn_user_estimators_count_what_they_can(digits, tmp_path):
    from hpo_sklearn import SklearnBackend

    (tmp_path / "ests.py").write_text(
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "from sklearn.neighbors import KNeighborsClassifier\n"
        "def linear(params):\n    return LogisticRegression(max_iter=20)\n"
        "def tree(params):\n    return DecisionTreeClassifier(max_depth=3)\n"
        "def knn(params):\n    return KNeighborsClassifier(3)\n")
    found = {}
    for fn in ("linear", "tree", "knn"):
        backend = SklearnBackend(seed=0, model=f"{tmp_path / 'ests.py'}:{fn}")
        x, y, xv, yv = Holdout(seed=0).arrays(digits)
        scores, _ = fit_and_score(backend, {}, digits, x[:300], y[:300], xv, yv, ACC,
                                  metrics=[LATENCY])
        assert scores["train_s"] > 0 and scores["latency_ms"] > 0
        found[fn] = scores.get("n_params")
    assert found["linear"] == N_FEATURES * N_CLASSES + N_CLASSES  # coef_ and intercept_
    assert 1 < found["tree"] <= 15  # nodes of a depth-3 tree
    assert found["knn"] is None  # unknown: not recorded


def test_keras_trials_record_measured_metrics_with_every_trainer(digits):
    from hpo_keras import KerasBackend

    # test_score_epoch's model: the programs its trials compile are in JAX's cache
    params = {"learning_rate": 0.3, "num_dense_layers": 0, "num_dense_nodes": 7,
              "optimizer": "sgd"}
    for options in ({}, {"pad": False}):  # the padded program, the compiled trainer
        out = Holdout(seed=0).evaluate(KerasBackend(seed=0, epochs=2, **options), params,
                                       digits, ACC, metrics=[ERRORS, LATENCY])
        m = out["metrics"]
        _check_measured(m, mlp_params([7]))
        assert m["errors"] == round((1 - m["accuracy"]) * _n_val(digits))
        assert out["intermediate"][-1]["val_errors"] == m["errors"]


def test_keras_vectorized_members_record_their_own_size():
    """Members of one batch train as one padded program; each records its own model's
    size and latency (measured on its own model after the batch), and with score=best its
    own best epoch."""
    from hpo_keras.vectorized import VectorizedExecutor

    from hpo_framework.jobs.pipeline import JobSpec, PipelineObjective

    spec = JobSpec(backend="keras", dataset="digits", seed=0, record=["accuracy", "latency_ms"],
                   backend_options={"epochs": 3, "score": "best"})
    configs = [{"learning_rate": 0.3, "optimizer": "sgd", "num_dense_nodes": 4},
               {"learning_rate": 0.05, "num_dense_nodes": 9, "num_dense_layers": 1}]
    ex = VectorizedExecutor(n_jobs=2)
    ex.start(PipelineObjective(spec))
    try:
        futures = [ex.submit(i, c) for i, c in enumerate(configs)]
        done: set = set()
        while done != set(futures):
            done |= ex.wait([f for f in futures if f not in done])
        outcomes = [f.result() for f in futures]
    finally:
        ex.shutdown()
    assert ex.counts["batches"] == 1 and ex.counts["alone"] == 0  # trained together
    for outcome, widths in zip(outcomes, ([4], [9, 9]), strict=True):
        assert outcome.state.value == "COMPLETE", outcome.error
        _check_measured(outcome.metrics, mlp_params(widths))
        accuracies = [s["val_accuracy"] for s in outcome.intermediate]
        best = accuracies.index(max(accuracies))
        assert outcome.metrics["score_epoch"] == best + 1
        assert outcome.value == pytest.approx(accuracies[best])


@pytest.mark.parametrize("name", ["xgboost", "lightgbm"])
def test_boosting_counts_the_nodes_of_its_trees(digits, name):
    from hpo_framework.registry import get_registry

    backend = get_registry().get("backend", name)(seed=0, n_estimators=3)
    params = {"max_depth": 2} if name == "xgboost" else {"num_leaves": 4}
    x, y, xv, yv = Holdout(seed=0).arrays(digits)
    model = backend.fit(params, x, y, digits)
    lib = model.estimator.get_booster() if name == "xgboost" else model.estimator.booster_
    nodes = len(lib.trees_to_dataframe())  # one row per node, split or leaf
    assert backend.n_params(model) == nodes
    backend.release(model)
    out = Holdout(seed=0).evaluate(backend, params, digits, ACC, metrics=[ERRORS, LATENCY])
    _check_measured(out["metrics"], nodes)
    assert out["metrics"]["errors"] == round((1 - out["metrics"]["accuracy"]) * len(yv))


def test_kfold_records_the_mean_over_folds(digits):
    from hpo_sklearn import SklearnBackend

    out = KFold(seed=0, folds=2).evaluate(SklearnBackend(seed=0, max_iter=1), {"units": 5},
                                          digits, ACC, metrics=[ERRORS, LATENCY])
    m = out["metrics"]
    _check_measured(m, mlp_params([5]))
    assert m["n_params_std"] == 0.0 and m["train_s_std"] >= 0
    assert m["errors"] == pytest.approx(np.mean([(1 - a) * len(digits.y_train) / 2
                                                 for a in m["folds"]]), abs=0.5)


class _Majority(Backend):
    """A third-party backend written before ``metrics=`` and ``n_params``: it predicts
    the most frequent class and overrides ``score`` with the old signature."""

    name = "majority"

    def fit(self, params, x, y, dataset, *, validation=None, report=None):
        values, counts = np.unique(y, return_counts=True)
        return values[counts.argmax()]

    def predict(self, model, x):
        return np.full(len(x), model)

    def score(self, model, x, y, dataset):
        return {"accuracy": float(np.mean(self.predict(model, x) == y))}


class _OldEvaluator(Evaluator):
    name = "old"

    def evaluate(self, backend, params, dataset, metric):
        return {"value": 0.0}


def test_backends_and_evaluators_written_before_metrics_keep_working(digits):
    x, y, xv, yv = Holdout(seed=0).arrays(digits)
    scores, _ = fit_and_score(_Majority(), {}, digits, x, y, xv, yv, ACC, metrics=[ERRORS, LATENCY])
    assert scores["errors"] == round((1 - scores["accuracy"]) * len(yv))
    assert scores["latency_ms"] > 0 and "n_params" not in scores  # None: not recorded
    assert accepts_metrics(Holdout()) and accepts_metrics(KFold())
    assert not accepts_metrics(_OldEvaluator())


def test_latency_is_measured_only_when_asked(digits):
    """train_s and n_params cost nothing; latency_ms times extra predictions (a third of a
    0.06 s keras trial), so a trial records it only when a study asks for it."""
    from hpo_sklearn import SklearnBackend

    backend = SklearnBackend(seed=0, max_iter=1)
    plain = Holdout(seed=0).evaluate(backend, {"units": 5}, digits, ACC)["metrics"]
    assert "latency_ms" not in plain and plain["n_params"] == mlp_params([5])
    assert plain["train_s"] > 0
    asked = Holdout(seed=0).evaluate(backend, {"units": 5}, digits, ACC,
                                     metrics=[LATENCY])["metrics"]
    assert asked["latency_ms"] > 0
