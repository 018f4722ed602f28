"""Metrics: the built-in ones equal scikit-learn's, any scikit-learn scorer name, a user's
own function (module:function, file.py:function) through hpo-run, and one-line refusals."""

import json
import pickle
import textwrap
import warnings

import numpy as np
import pytest
from clitools import run_cli

from hpo_framework.contracts import metrics as M
from hpo_framework.contracts.metrics import METRICS, get_metric, score_all
from hpo_framework.errors import HPOError, OptionError


@pytest.fixture(autouse=True)
def _only_defaults_recorded():
    """get_metric makes score_all record what it resolved: no test leaks into another."""
    M.forget_requested()
    yield
    M.forget_requested()


def _one_line(exc_info) -> str:
    text = str(exc_info.value)
    assert text and "\n" not in text and "Traceback" not in text
    return text


def _labels(rng, k, n):
    """Random labels and predictions; some predictions are a class absent from y."""
    y = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
    if k > 2:
        y = np.where(y == k - 1, 0, y)  # class k-1 only ever predicted
    return y, pred


def _proba(rng, k, n):
    p = rng.random((n, k)) + 0.05
    return p / p.sum(axis=1, keepdims=True)


CLASSIFICATION = [
    ("accuracy", "accuracy_score", {}),
    ("balanced_accuracy", "balanced_accuracy_score", {}),
    *[(f"{kind}_{avg}", f"{kind}_score", {"average": avg})
      for kind in ("precision", "recall", "f1") for avg in ("macro", "weighted")],
]
BINARY = [(kind, f"{kind}_score", {}) for kind in ("precision", "recall", "f1")]


@pytest.mark.parametrize(("name", "sk_name", "kwargs", "k"), [
    *[(*case, k) for case in CLASSIFICATION for k in (2, 3, 5)],
    *[(*case, 2) for case in BINARY],  # on more classes they are refused (tested below)
])
def test_builtin_classification_metrics_equal_sklearn(name, sk_name, kwargs, k):
    import sklearn.metrics as skm

    rng = np.random.default_rng(k)
    for n in (7, 40, 200):
        y, pred = _labels(rng, k, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zero division, classes only predicted
            expected = getattr(skm, sk_name)(y, pred, **kwargs)
        assert METRICS[name].fn(y, pred, None) == pytest.approx(expected, abs=1e-12), (y, pred)
        assert METRICS[name].direction == "maximize"
        if (name, sk_name, kwargs) not in BINARY:  # labels that are not class indices
            for names in (np.array(["ant", "bee", "cat", "dog", "eel"]), np.array([-3, 7, 9, 40, 41])):
                assert METRICS[name].fn(names[y], names[pred]) == pytest.approx(expected,
                                                                               abs=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_probability_metrics_equal_sklearn(k):
    import sklearn.metrics as skm

    rng = np.random.default_rng(10 + k)
    y = np.concatenate([np.arange(k), rng.integers(0, k, 60)])  # every class present
    proba = _proba(rng, k, len(y))
    assert METRICS["log_loss"].fn(y, None, proba) == pytest.approx(skm.log_loss(y, proba))
    expected = (skm.roc_auc_score(y, proba[:, 1]) if k == 2
                else skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert METRICS["roc_auc"].fn(y, None, proba) == pytest.approx(expected)
    assert METRICS["log_loss"].direction == "minimize"


def test_regression_metrics_equal_sklearn():
    import sklearn.metrics as skm

    rng = np.random.default_rng(3)
    y, pred = rng.normal(size=50), rng.normal(size=50)
    expected = {"mse": skm.mean_squared_error(y, pred), "mae": skm.mean_absolute_error(y, pred),
                "rmse": skm.root_mean_squared_error(y, pred), "r2": skm.r2_score(y, pred)}
    for name, value in expected.items():
        assert METRICS[name].fn(y, pred) == pytest.approx(value)
    const = np.full(5, 2.0)  # a constant target: scikit-learn's r2 is 1 if exact, else 0
    assert METRICS["r2"].fn(const, const) == skm.r2_score(const, const) == 1.0
    assert METRICS["r2"].fn(const, const + 1) == skm.r2_score(const, const + 1) == 0.0
    assert [METRICS[m].direction for m in ("mse", "rmse", "mae", "r2")] == [
        "minimize", "minimize", "minimize", "maximize"]


def test_binary_forms_on_more_classes_are_one_line():
    with pytest.raises(OptionError) as exc:
        get_metric("f1", "classification", n_classes=3)
    assert _one_line(exc) == ("metric 'f1' is binary (scikit-learn's average='binary', "
                              "positive class 1); this dataset has 3 classes: use f1_macro or "
                              "f1_weighted")
    assert get_metric("recall", "classification", n_classes=2).binary
    y = np.array([0, 1, 2, 1])
    with pytest.raises(HPOError) as exc:
        METRICS["precision"].fn(y, y)
    assert "3 classes" in _one_line(exc)
    # recorded on two classes, left out (not an error) on three
    get_metric("precision", "classification")
    assert "precision" in score_all("classification", np.array([0, 1, 1]), np.array([0, 1, 0]))
    assert "precision" not in score_all("classification", y, y)


def test_score_all_records_the_defaults_and_what_was_resolved():
    y, pred = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]])
    assert set(score_all("classification", y, pred, proba)) == {
        "accuracy", "log_loss", "f1_macro", "roc_auc"}
    get_metric("balanced_accuracy", "classification")
    get_metric("neg_brier_score", "classification")
    scores = score_all("classification", y, pred, proba)
    assert scores["balanced_accuracy"] == pytest.approx(0.75)
    assert scores["neg_brier_score"] == pytest.approx(-np.mean((proba[:, 1] - y) ** 2))
    assert "neg_brier_score" not in score_all("classification", y, pred)  # no probabilities
    # labels that are not column positions: proba_y gives the positions
    labels = np.array([3, 7, 7, 3])
    both = score_all("classification", labels, np.array([3, 7, 3, 3]), proba, proba_y=y)
    assert both["accuracy"] == scores["accuracy"] and both["log_loss"] == scores["log_loss"]


SCORERS = [
    ("neg_log_loss", "classification", 3), ("roc_auc_ovr", "classification", 3),
    ("average_precision", "classification", 2), ("neg_brier_score", "classification", 2),
    ("matthews_corrcoef", "classification", 3), ("precision_micro", "classification", 3),
    ("top_k_accuracy", "classification", 3), ("neg_mean_absolute_error", "regression", 0),
    ("neg_root_mean_squared_error", "regression", 0), ("explained_variance", "regression", 0),
]


@pytest.mark.parametrize(("name", "task", "k"), SCORERS)
def test_any_sklearn_scorer_name_equals_the_scorer_and_is_maximized(name, task, k):
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.metrics import get_scorer

    rng = np.random.default_rng(5)
    x = rng.normal(size=(120, 4))
    if task == "regression":
        y = x @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(size=120)
        model = LinearRegression().fit(x[:80], y[:80])
        pred, proba = model.predict(x[80:]), None
    else:
        y = np.digitize(x[:, 0] + 0.5 * rng.normal(size=120), np.linspace(-1, 1, k - 1))
        model = LogisticRegression(max_iter=500).fit(x[:80], y[:80])
        pred, proba = model.predict(x[80:]), model.predict_proba(x[80:])
    metric = get_metric(name, task)
    assert (metric.name, metric.direction, metric.task, metric.source) == (
        name, "maximize", task, "sklearn")
    expected = get_scorer(name)(model, x[80:], y[80:])  # scikit-learn scoring the estimator
    assert metric.fn(y[80:], pred, proba) == pytest.approx(expected)
    assert score_all(task, y[80:], pred, proba)[name] == pytest.approx(expected)
    if proba is not None:  # a float32 model's probabilities: no warning, the same score
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            low = metric.fn(y[80:], pred, proba.astype(np.float32))
        assert low == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_metrics_are_picklable_and_a_custom_one_is_imported_again(tmp_path):
    path = tmp_path / "my_metrics.py"
    path.write_text(textwrap.dedent("""
        def off_by(y_true, y_pred):
            return float(abs(y_true - y_pred).max())
        off_by.direction = "minimize"
    """))
    ref = f"{path}:off_by"
    y, pred = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 1.0])
    for name, task in (("rmse", "regression"), ("neg_max_error", "regression"), (ref, "regression")):
        metric = get_metric(name, task)
        again = pickle.loads(pickle.dumps(metric))
        assert again.name == name and again.fn(y, pred, None) == metric.fn(y, pred, None)
    M._LOADED.clear()  # a fresh process: the unpickled metric imports the file itself
    assert pickle.loads(pickle.dumps(get_metric(ref, "regression"))).fn(y, pred) == 2.0
    assert get_metric(ref, "regression").direction == "minimize"


def test_custom_metric_directions_probabilities_and_refusals(tmp_path, monkeypatch):
    (tmp_path / "user_scores.py").write_text(textwrap.dedent("""
        import numpy as np

        def hits(y_true, y_pred):
            return int(np.sum(y_true == y_pred))
        hits.greater_is_better = True

        def plain(y_true, y_pred):
            return 0.5

        def confidence(y_true, proba):
            return float(proba[np.arange(len(y_true)), y_true].mean())
        confidence.needs_proba = True
        confidence.direction = "maximize"

        def words(y_true, y_pred):
            return "high"
        words.direction = "maximize"

        def torn(y_true, y_pred):
            return 1.0
        torn.direction = "maximize"
        torn.greater_is_better = False

        def sideways(y_true, y_pred):
            return 1.0
        sideways.direction = "up"

        NOT_A_FUNCTION = 3
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    y, pred = np.array([0, 1, 1]), np.array([0, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    hits = get_metric("user_scores:hits", "classification")
    assert (hits.direction, hits.source, hits.needs_proba) == ("maximize", "custom", False)
    assert hits.fn(y, pred, proba) == 2.0
    conf = get_metric("user_scores:confidence", "classification")
    assert conf.needs_proba and conf.fn(y, pred, proba) == pytest.approx((0.9 + 0.8 + 0.4) / 3)
    assert score_all("classification", y, pred, proba)["user_scores:confidence"] == conf.fn(
        y, pred, proba)
    assert get_metric("user_scores:plain", "regression", "minimize").direction == "minimize"

    refusals = {
        "user_scores:plain": "metric user_scores:plain does not say whether it is to be "
                             "maximized or minimized: add --direction maximize (or minimize), "
                             "or set plain.direction in its file",
        "user_scores:torn": "metric user_scores:torn: direction = 'maximize' but "
                            "greater_is_better = False; keep one",
        "user_scores:sideways": "metric user_scores:sideways: direction = 'up'; use 'maximize' "
                                "or 'minimize'",
        "user_scores:NOT_A_FUNCTION": "--metric user_scores:NOT_A_FUNCTION: 'user_scores' has "
                                      "no function 'NOT_A_FUNCTION'",
        "no_such_module_xyz:f": "--metric no_such_module_xyz:f: cannot import module "
                                "'no_such_module_xyz' (No module named 'no_such_module_xyz')",
        "missing.py:f": "--metric missing.py:f: no such file: missing.py",
        "user_scores:": "--metric 'user_scores:' must look like module:function or "
                        "path/to/file.py:function",
    }
    for ref, line in refusals.items():
        with pytest.raises(OptionError) as exc:
            get_metric(ref, "classification")
        assert _one_line(exc) == line
    with pytest.raises(OptionError) as exc:
        get_metric("user_scores:confidence", "regression")
    assert "needs probabilities" in _one_line(exc)
    with pytest.raises(HPOError) as exc:
        get_metric("user_scores:words", "classification").fn(y, pred)
    assert _one_line(exc) == "metric user_scores:words returned str 'high', not a number"


def test_unknown_and_wrong_task_names_are_one_line_with_did_you_mean():
    cases = {
        "rmsee": "did you mean 'rmse'",
        "neg_mean_absolute_eror": "did you mean 'neg_mean_absolute_error'",
        "f1_weigthed": "did you mean 'f1_weighted'",
    }
    for name, hint in cases.items():
        with pytest.raises(OptionError) as exc:
            get_metric(name, "regression")
        text = _one_line(exc)
        assert text.startswith(f"unknown metric '{name}'; {hint}")
        assert "module:function" in text
    with pytest.raises(OptionError) as exc:
        get_metric("neg_mean_absolute_error", "classification")
    assert _one_line(exc).startswith("metric 'neg_mean_absolute_error' is for regression; "
                                     "this dataset is classification")
    with pytest.raises(OptionError) as exc:
        get_metric("f1_samples", "classification")
    assert "multilabel" in _one_line(exc)


def _csv(path, n=40, seed=0, regression=False):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3))
    lines = ["a,b,c,target"]
    for row in x:
        t = f"{row[0] * 3 + row[1]:.4f}" if regression else ("yes" if row[0] + row[1] > 1 else "no")
        lines.append(",".join(f"{v:.4f}" for v in row) + f",{t}")
    path.write_text("\n".join(lines) + "\n")


FAST = ["--strategy", "random", "--backend", "sklearn", "--trials", "1", "--seed", "0",
        "-B", "max_iter=5", "--json"]


def test_custom_module_metric_through_hpo_run_with_the_final_test(tmp_path):
    """module:function, imported in the worker from PYTHONPATH; recorded in the trial and in
    the final test, and optimized in its declared direction."""
    _csv(tmp_path / "reg.csv", regression=True)
    (tmp_path / "team_metrics.py").write_text(textwrap.dedent("""
        import numpy as np

        def worst_miss(y_true, y_pred):
            return float(np.max(np.abs(y_true - y_pred)))
        worst_miss.direction = "minimize"
    """))
    proc = run_cli(*FAST, "--dataset", "file", "--data-path", "reg.csv",
                   "--metric", "team_metrics:worst_miss", cwd=tmp_path, check=True,
                   env={"PYTHONPATH": str(tmp_path)})
    data = json.loads(proc.stdout)
    trial = data["trials"][0]
    assert data["direction"] == "minimize" and data["metric"] == "team_metrics:worst_miss"
    assert trial["state"] == "COMPLETE"
    assert trial["value"] == trial["metrics"]["team_metrics:worst_miss"] >= trial["metrics"]["mae"]
    assert data["test_metrics"]["team_metrics:worst_miss"] == data["test_score"] > 0


def test_unknown_metric_through_hpo_run_is_one_line(tmp_path):
    proc = run_cli(*FAST, "--dataset", "iris", "--metric", "balanced_acuracy", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("Error: unknown metric 'balanced_acuracy'; did you "
                                          "mean 'balanced_accuracy' or 'accuracy'?")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_comma_list_has_objectives_first_and_records_the_rest(tmp_path, monkeypatch):
    (tmp_path / "extra_scores.py").write_text("def spread(y_true, y_pred):\n"
                                              "    return float(y_pred.max() - y_pred.min())\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    got = M.get_metrics("rmse, mae,extra_scores:spread", "regression")
    assert [(m.name, m.direction) for m in got] == [
        ("rmse", "minimize"), ("mae", "minimize"), ("extra_scores:spread", None)]
    y, pred = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 3.0])
    scores = score_all("regression", y, pred)
    assert scores["extra_scores:spread"] == 2.0 and scores["mae"] == pytest.approx(2 / 3)
    both = M.get_metrics(["extra_scores:spread", "r2"], "regression", "minimize,maximize")
    assert [m.direction for m in both] == ["minimize", "maximize"]
    refusals = {
        ("accuracy", "minimize"): "metric 'accuracy' is to be maximized; drop --direction or "
                                  "pick another --metric",
        ("accuracy", "maximize,minimize"): "--direction gives 2 directions for 1 metric; give "
                                           "one per objective, the first metrics in --metric "
                                           "order",
        ("accuracy,f1_macro,accuracy", None): "--metric names 'accuracy' twice",
        ("accuracy", "up"): "--direction 'up': use maximize or minimize (a comma list gives "
                            "one per objective)",
    }
    for (names, directions), line in refusals.items():
        with pytest.raises(OptionError) as exc:
            M.get_metrics(names, "classification", directions)
        assert _one_line(exc) == line
    with pytest.raises(OptionError) as exc:  # an objective without a direction
        M.get_metrics("extra_scores:spread,rmse", "regression")
    assert "add --direction maximize (or minimize)" in _one_line(exc)


def test_the_docs_custom_metric_example_works_as_written(tmp_path):
    """docs/metrics-and-data.md's my_metrics.py, written out and resolved as the page says."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "metrics-and-data.md").read_text()
    block = next(b.split("```")[0] for b in doc.split("```python\n")[1:]
                 if b.startswith("# my_metrics.py"))
    (tmp_path / "my_metrics.py").write_text(block)
    smape = get_metric(f"{tmp_path / 'my_metrics.py'}:smape", "regression")
    assert smape.direction == "minimize" and not smape.needs_proba
    assert smape.fn(np.array([100.0, 0.0]), np.array([110.0, 0.0])) == pytest.approx(
        (2 * 10 / 210) / 2 * 100)
    hits = get_metric(f"{tmp_path / 'my_metrics.py'}:confident_hits", "classification")
    assert hits.direction == "maximize" and hits.needs_proba
    assert hits.fn(np.array([1, 0]), None, np.array([[0.3, 0.7], [0.9, 0.1]])) == pytest.approx(0.8)


def test_a_sklearn_scorer_through_hpo_run_is_maximized_and_equals_minus_mae(tmp_path):
    _csv(tmp_path / "reg.csv", regression=True)
    proc = run_cli(*FAST, "--dataset", "file", "--data-path", "reg.csv",
                   "--metric", "neg_mean_absolute_error", cwd=tmp_path, check=True)
    data = json.loads(proc.stdout)
    trial = data["trials"][0]
    assert data["direction"] == "maximize" and trial["state"] == "COMPLETE"
    assert trial["value"] == pytest.approx(-trial["metrics"]["mae"]) and trial["value"] < 0
    assert data["test_score"] == pytest.approx(-data["test_metrics"]["mae"])


def test_a_make_scorer_object_is_a_custom_metric_with_its_sign(tmp_path):
    from sklearn.linear_model import LogisticRegression

    (tmp_path / "scorers.py").write_text(textwrap.dedent("""
        from sklearn.metrics import fbeta_score, log_loss, make_scorer, mean_absolute_error

        mae_loss = make_scorer(mean_absolute_error, greater_is_better=False)
        f2 = make_scorer(fbeta_score, beta=2, average="macro")
        nll = make_scorer(log_loss, greater_is_better=False, response_method="predict_proba")
    """))
    ref = str(tmp_path / "scorers.py")
    mae = get_metric(f"{ref}:mae_loss", "regression")
    assert (mae.direction, mae.needs_proba) == ("maximize", False)
    assert mae.fn(np.array([1.0, 2.0]), np.array([2.0, 4.0])) == -1.5
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 3))
    y = np.digitize(x[:, 0], [-0.5, 0.5])
    model = LogisticRegression(max_iter=300).fit(x[:60], y[:60])
    pred, proba = model.predict(x[60:]), model.predict_proba(x[60:])
    for name in ("f2", "nll"):
        metric = get_metric(f"{ref}:{name}", "classification")
        scorer = M.load_metric_function(f"{ref}:{name}")
        assert metric.needs_proba == (name == "nll") and metric.direction == "maximize"
        assert metric.fn(y[60:], pred, proba) == pytest.approx(scorer(model, x[60:], y[60:]))
    with pytest.raises(OptionError) as exc:
        get_metric(f"{ref}:nll", "regression")
    assert "needs probabilities" in _one_line(exc)


def test_a_probability_scorer_scores_the_final_test_too(tmp_path):
    """neg_log_loss is outside the task's default metrics: the final test asks the backend
    for it (it once ran every trial, then stopped: 'gave no neg_log_loss on the test set')."""
    proc = run_cli(*FAST, "--dataset", "iris", "--metric", "neg_log_loss", cwd=tmp_path,
                   check=True)
    data = json.loads(proc.stdout)
    assert data["direction"] == "maximize" and data["metric"] == "neg_log_loss"
    assert data["test_score"] == pytest.approx(-data["test_metrics"]["log_loss"], rel=1e-6)
