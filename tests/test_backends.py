"""The sklearn backend, the bundled datasets, user models, the MNIST loader and a third-party
backend package, run the way a user runs them (real training on scikit-learn's digits)."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from clitools import BIN, ROOT, assert_space_within, check_library_bounds, run_cli

from hpo_framework.builtin.evaluators import Holdout
from hpo_framework.contracts.metrics import get_metric
from hpo_framework.contracts.objective import evaluate
from hpo_framework.errors import DatasetError, OptionError
from hpo_framework.jobs.pipeline import load_dataset
from hpo_framework.registry import get_registry

SK = ["--strategy", "random", "--backend", "sklearn", "--seed", "0", "--json"]


@pytest.mark.parametrize(("name", "task", "n_classes"), [
    ("digits", "classification", 10), ("iris", "classification", 3),
    ("wine", "classification", 3), ("breast_cancer", "classification", 2),
    ("diabetes", "regression", None)])
def test_bundled_datasets_share_one_seeded_stratified_split(name, task, n_classes):
    from hpo_sklearn import TEST_SIZE
    from hpo_sklearn.datasets import load_bundled

    d = load_bundled(name)
    n = len(d.y_train) + len(d.y_test)
    assert d.task == task and d.n_classes == n_classes
    assert abs(len(d.y_test) - TEST_SIZE * n) <= 1
    assert d.x_train.dtype == np.float32 and d.x_train.shape[1:] == d.x_test.shape[1:]
    again, other = load_bundled(name), load_bundled(name, seed=1)
    assert np.array_equal(again.x_test, d.x_test)  # the test set does not move
    assert not np.array_equal(other.x_test, d.x_test)
    if task == "classification":  # each class keeps its share in the test set
        for c in np.unique(d.y_train):
            share = np.mean(np.concatenate([d.y_train, d.y_test]) == c)
            assert abs(np.sum(d.y_test == c) - share * len(d.y_test)) <= 1.5
    if name == "digits":  # pixels 0..16 scaled by 1/16
        assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0
    with pytest.raises(OptionError, match=f"dataset '{name}': unknown option 'path' "
                                          r"\(accepted: test_size \(float\), seed \(int\)\)"):
        get_registry().get("dataset", name)(path="x.npz")


def test_sklearn_study_reports_epochs_and_scores_the_retrained_best_on_test(tmp_path):
    proc = run_cli(*SK, "--trials", "3", "--save-model", "best.joblib", cwd=tmp_path, check=True)
    data = json.loads(proc.stdout)
    assert [t["state"] for t in data["trials"]] == ["COMPLETE"] * 3
    for t in data["trials"]:
        steps = t["intermediate"]
        assert [s["step"] for s in steps] == list(range(1, 11))  # max_iter 10, one per epoch
        assert all(s["val_loss"] > 0 and 0 <= s["val_accuracy"] <= 1 for s in steps)
        assert steps[-1]["val_accuracy"] == pytest.approx(t["metrics"]["accuracy"])
        assert set(t["metrics"]) == {"accuracy", "log_loss", "f1_macro", "roc_auc", "train_s",
                                    "n_params"}  # latency_ms only when asked
    assert data["final_params"] == data["best"]["params"]
    assert data["test_score"] > 0.7 and data["test_metrics"]["accuracy"] == data["test_score"]
    import joblib

    model = joblib.load(tmp_path / "best.joblib")
    test = load_dataset("digits")
    acc = np.mean(model.predict(test.x_test.reshape(len(test.x_test), -1)) == test.y_test)
    assert acc == pytest.approx(data["test_score"])


def test_kfold_f1_and_regression_r2(tmp_path):
    cv = json.loads(run_cli(*SK, "--trials", "2", "--evaluator", "kfold", "-E", "folds=3",
                            "--metric", "f1_macro", "--no-final-test", cwd=tmp_path,
                            check=True).stdout)
    m = cv["trials"][0]["metrics"]
    assert len(m["folds"]) == 3 and m["f1_macro"] == pytest.approx(np.mean(m["folds"]))
    assert m["f1_macro_std"] == pytest.approx(np.std(m["folds"]))
    reg = json.loads(run_cli(*SK, "--trials", "2", "--dataset", "diabetes", "--metric", "r2",
                             "-B", "max_iter=30", cwd=tmp_path, check=True).stdout)
    assert reg["direction"] == "maximize"
    assert set(reg["test_metrics"]) == {"mse", "r2", "rmse", "mae"}
    assert reg["test_score"] > 0.0  # better than predicting the mean
    wrong = run_cli(*SK, "--trials", "1", "--dataset", "iris", "--metric", "r2", cwd=tmp_path)
    assert wrong.returncode != 0 and wrong.stderr.strip().startswith("Error: metric 'r2'")


def test_diverging_sklearn_trial_fails_with_its_reason():
    from hpo_sklearn import SklearnBackend

    digits = load_dataset("digits")
    backend = SklearnBackend(seed=0, activation="identity")
    out = evaluate(lambda p: Holdout(seed=0).evaluate(backend, p, digits, get_metric(
        None, "classification")), {"n_layers": 1, "units_1": 15, "solver": "sgd",
                                   "learning_rate_init": 10.0})
    assert out.state.value == "FAILED" and out.value is None
    assert out.error == "RuntimeError: diverged: weights became non-finite at epoch 1"


USER_MODEL = """
from sklearn.linear_model import LogisticRegression

def build(params, input_shape, n_classes):
    assert input_shape == (64,) and n_classes == 10
    return LogisticRegression(C=params["C"], max_iter=300)
"""


def test_user_model_from_a_file(tmp_path):
    (tmp_path / "mymodel.py").write_text(USER_MODEL)
    (tmp_path / "space.yaml").write_text("C: {type: float, low: 0.01, high: 10, log: true}\n")
    data = json.loads(run_cli(*SK, "--trials", "2", "--model", "mymodel.py:build",
                              "--space", "space.yaml", cwd=tmp_path, check=True).stdout)
    assert [t["state"] for t in data["trials"]] == ["COMPLETE"] * 2
    assert set(data["final_params"]) == {"C"} and data["test_score"] > 0.85


@pytest.mark.parametrize(("model", "message"), [
    ("nosuchmodule_xyz:build", "Error: --model: cannot import module 'nosuchmodule_xyz'"),
    ("mymodel.py:nothing", "Error: --model: 'mymodel.py' has no function 'nothing'"),
    ("missing.py:build", "Error: --model: no such file: missing.py"),
    ("justaname", "Error: --model 'justaname' must look like module:function"),
])
def test_bad_user_model_is_one_line(tmp_path, model, message):
    (tmp_path / "mymodel.py").write_text(USER_MODEL)
    proc = run_cli(*SK, "--model", model, cwd=tmp_path)
    assert proc.returncode != 0 and proc.stderr.strip().startswith(message)
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_sklearn_ranges_are_scikit_learns_own_and_a_space_past_one_is_one_line(tmp_path):
    """Each declared bound is where scikit-learn's MLP draws it (a closed end taken and
    just past it refused; an open end refused and just inside it taken); the default
    space lies within; a --model estimator declares none; the CLI refuses a space past a
    bound in one line, before anything is written."""
    b = get_registry().get("backend", "sklearn")(seed=0, max_iter=1)
    ranges = b.parameter_ranges()
    assert set(ranges) <= b.parameters()
    data = load_dataset("iris")

    def fitted(param, value):
        value = int(value) if float(value).is_integer() and param != "momentum" else value
        layers = {"n_layers": int(param[6:])} if param.startswith("units_") else {}
        return b.build({param: value, **layers}, data).fit(data.x_train[:40], data.y_train[:40])

    def step(param, end, kept):
        return 1e-3 if param in {"learning_rate_init", "learning_rate", "alpha",
                                 "momentum"} else 1

    # scikit-learn's InvalidParameterError is a ValueError
    check_library_bounds(ranges, fitted, ValueError, step)
    assert_space_within(b.default_space(data), ranges)
    (tmp_path / "mymodel.py").write_text(USER_MODEL)
    own = get_registry().get("backend", "sklearn")(model=f"{tmp_path / 'mymodel.py'}:build")
    assert own.parameter_ranges() == {}
    (tmp_path / "space.yaml").write_text("alpha: {type: float, low: -0.5, high: 1}\n")
    proc = run_cli(*SK, "--trials", "2", "--space", "space.yaml", cwd=tmp_path)
    assert proc.returncode != 0 and proc.stderr.strip() == (
        "Error: parameter 'alpha': the space gives it -0.5 (low), but backend 'sklearn' takes "
        "alpha in [0, inf); change low in the space")
    assert not list(tmp_path.glob("*.db"))


def test_keras_ranges_are_where_its_mlp_stops_working():
    """Each closed end is taken and just past it refused (Keras's own errors, or the epoch
    loop's), except epochs, whose 0 trains nothing and which the option already starts at
    1; the default space lies within."""
    from hpo_framework.contracts.backend import parse_interval

    b = get_registry().get("backend", "keras")(seed=0, epochs=1)
    ranges = b.parameter_ranges()
    assert set(ranges) <= b.parameters()
    data = load_dataset("iris")
    for text in ranges.values():
        low, high, low_kept, high_kept = parse_interval(text)
        assert low_kept and (high_kept or high == np.inf)

    def fitted(param, value):
        value = value if param == "momentum" else int(value)
        params = {param: value, **({"optimizer": "sgd"} if param == "momentum" else {})}
        return b.fit(params, data.x_train[:40], data.y_train[:40], data)

    def step(param, end, kept):
        return 1e-3 if param == "momentum" else 1

    check_library_bounds(ranges, fitted, (ValueError, ZeroDivisionError), step,
                         past_taken=("epochs",))
    assert_space_within(b.default_space(data), ranges)


def test_mnist_offline_says_which_file_to_put_where(tmp_path):
    proc = run_cli(*SK, "--dataset", "mnist", cwd=tmp_path,
                   env={"KERAS_HOME": str(tmp_path / "keras")})
    line = proc.stderr.strip()
    assert proc.returncode != 0 and len(line.splitlines()) == 1, proc.stderr
    assert "put mnist.npz" in line and str(tmp_path / "keras" / "datasets" / "mnist.npz") in line
    assert "--data-path" in line


def test_mnist_from_a_local_npz(tmp_path):
    rng = np.random.default_rng(0)
    x = np.zeros((300, 28, 28), dtype=np.uint8)
    y = np.arange(300) % 3
    for c in range(3):  # three learnable "digits": a bright band in a different row
        x[y == c, 5 + 8 * c: 9 + 8 * c, :] = 255
    x = np.clip(x + rng.integers(0, 60, x.shape), 0, 255).astype(np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x[:240], y_train=y[:240], x_test=x[240:],
             y_test=y[240:])
    from hpo_keras.datasets import MnistDataset

    d = MnistDataset(path=str(tmp_path / "mnist.npz")).load()
    assert d.x_train.shape == (240, 28, 28) and 0 <= d.x_train.min() and d.x_train.max() == 1
    data = json.loads(run_cli(*SK, "--dataset", "mnist", "--data-path", "mnist.npz",
                              "--trials", "1", cwd=tmp_path, check=True).stdout)
    assert data["test_score"] > 0.9
    with pytest.raises(DatasetError, match="no such file"):
        MnistDataset(path=str(tmp_path / "nope.npz")).load()


def test_plugin_modules_import_no_heavy_library():
    code = ("import sys, hpo_sklearn, hpo_keras; "
            "print([m for m in ('sklearn', 'keras', 'tensorflow', 'jax') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_keras_backend_options_fail_fast():
    from hpo_keras import KerasBackend

    with pytest.raises(OptionError, match="unknown option 'epoch'"):
        KerasBackend(epoch=3)
    with pytest.raises(OptionError, match="keras_backend"):
        KerasBackend(keras_backend="torch")


def test_randomforest_example_package_installs_and_runs(tmp_path):
    """The plugin author guide's example, pip-installed as a user would, then removed."""
    pip = [str(BIN / "pip"), "-q", "--disable-pip-version-check"]
    subprocess.run(pip + ["install", "--no-deps", "--no-build-isolation", "--no-index",
                          str(ROOT / "examples" / "hpo-randomforest")],
                   check=True, capture_output=True, cwd=tmp_path)
    try:
        listed = json.loads(run_cli("--list-plugins", "--json", check=True).stdout)
        rf = [c for c in listed["components"] if c["name"] == "randomforest"]
        assert rf and rf[0]["kind"] == "backend" and rf[0]["distribution"] == "hpo-randomforest"
        data = json.loads(run_cli("--strategy", "random", "--backend", "randomforest",
                                  "--trials", "2", "--seed", "0", "--json", cwd=tmp_path,
                                  check=True).stdout)
        assert set(data["final_params"]) == {"n_estimators", "max_depth", "max_features"}
        assert data["test_score"] > 0.85
    finally:
        subprocess.run(pip + ["uninstall", "-y", "hpo-randomforest"], check=True,
                       capture_output=True)
    gone = json.loads(run_cli("--list-plugins", "--json", check=True).stdout)
    assert not [c for c in gone["components"] if c["name"] == "randomforest"]


def test_docs_example_is_the_example_package():
    """docs/backends.md shows the complete random-forest plugin: keep the two in step."""
    doc = (ROOT / "docs" / "backends.md").read_text()
    code = (ROOT / "examples" / "hpo-randomforest" / "hpo_randomforest" / "__init__.py")
    assert textwrap.dedent(code.read_text()).strip() in doc


def test_holdout_makes_its_split_once_per_dataset_and_every_trial_shares_its_arrays():
    from hpo_framework import Backend
    from hpo_framework.contracts.dataset import Dataset

    rng = np.random.default_rng(0)
    data = Dataset("toy", rng.normal(size=(200, 4)), np.arange(200) % 2,
                   rng.normal(size=(20, 4)), np.arange(20) % 2)
    seen = []

    class Recorder(Backend):
        """Predicts the majority class; records the arrays each trial trains on."""

        name = "recorder"

        def fit(self, params, x, y, dataset, *, validation=None, report=None):
            seen.append((x, y, *validation))
            return int(np.bincount(y).argmax())

        def predict(self, model, x):
            return np.full(len(x), model)

    holdout = Holdout(seed=4, validation_split=0.25)
    metric = get_metric("accuracy", "classification")
    for _ in range(2):
        holdout.evaluate(Recorder(), {}, data, metric)
    first, second = seen
    assert all(a is b for a, b in zip(first, second, strict=True))  # one split, same objects
    assert (len(first[0]), len(first[2])) == (150, 50)
    # another dataset gets its own split
    other = Dataset("toy2", data.x_train[:100], data.y_train[:100], data.x_test, data.y_test)
    holdout.evaluate(Recorder(), {}, other, metric)
    assert len(seen[2][0]) == 76 and seen[2][0] is not first[0]  # 2 x round(12.5) held out
