"""The keras backend on digits: few epochs, few trials. The CLI runs here use trainer=fit on
TensorFlow; the in-process ones the default trainer (compiled, on JAX, unless this test
process loaded Keras on TensorFlow before)."""

import json
import os
import subprocess
import sys

import pytest
from clitools import run_cli

from hpo_framework.builtin.evaluators import Holdout, KFold
from hpo_framework.contracts.backend import fit_and_score
from hpo_framework.contracts.metrics import get_metric
from hpo_framework.contracts.objective import evaluate
from hpo_framework.jobs.pipeline import load_dataset

pytestmark = pytest.mark.slow
NOTEBOOK = {"learning_rate": 0.05, "num_dense_layers": 0, "num_dense_nodes": 15,
            "optimizer": "SGD"}  # the notebook's spelling of the optimizer works too
ACC = get_metric("accuracy", "classification")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_keras_cli_study_final_test_saved_model_and_quiet_terminal(tmp_path):
    proc = run_cli("--strategy", "random", "--backend", "keras", "--trials", "2", "--seed", "0",
                   "-B", "epochs=3", "-B", "trainer=fit", "--save-model", "best.keras",
                   cwd=tmp_path, check=True)
    out = proc.stdout
    assert "best configuration: learning_rate=" in out and "num_dense_nodes=" in out
    assert "test accuracy of the best configuration retrained on all training data" in out
    assert "model saved to best.keras" in out and (tmp_path / "best.keras").is_file()
    # TensorFlow's start-up lines (oneDNN, cuda, absl) stay out of the terminal (the CLI's
    # own lines may be there)
    noise = [ln for ln in proc.stderr.splitlines()
             if any(m in ln for m in ("oneDNN", "cuda", "absl", "I0000", "E0000", "W0000",
                                      "tensorflow", "TF_"))]
    assert noise == [], proc.stderr
    data = json.loads(run_cli("--strategy", "random", "--backend", "keras", "--trials", "2",
                              "--seed", "0", "-B", "epochs=3", "-B", "trainer=fit", "--json",
                              "--no-final-test", cwd=tmp_path, check=True).stdout)  # resumes
    for t in data["trials"]:
        assert [s["step"] for s in t["intermediate"]] == [1, 2, 3]
        assert {"val_loss", "val_accuracy"} <= set(t["intermediate"][0])


def test_seeded_trials_repeat_and_kfold_works(digits):
    from hpo_keras import KerasBackend

    backend = KerasBackend(seed=3, epochs=2)
    first = Holdout(seed=3).evaluate(backend, dict(NOTEBOOK), digits, ACC)
    second = Holdout(seed=3).evaluate(backend, dict(NOTEBOOK), digits, ACC)
    assert first["intermediate"] == second["intermediate"] and first["value"] > 0.5
    cv = KFold(seed=3, folds=2).evaluate(KerasBackend(seed=3, epochs=1), dict(NOTEBOOK),
                                         digits, ACC)
    assert len(cv["metrics"]["folds"]) == 2 and "accuracy_std" in cv["metrics"]


def test_nan_loss_fails_the_trial_with_the_epoch(digits):
    from hpo_keras import KerasBackend

    backend = KerasBackend(seed=0, epochs=3, activation="linear")
    out = evaluate(lambda p: Holdout(seed=0).evaluate(backend, p, digits, ACC),
                   {**NOTEBOOK, "learning_rate": 10.0})
    assert out.state.value == "FAILED" and out.value is None
    assert out.error == "RuntimeError: diverged: loss became nan at epoch 1"


USER_MODEL = """
import keras

def build(params, input_shape, n_classes):
    model = keras.Sequential([keras.Input(shape=input_shape),
                              keras.layers.Dense(params["units"], activation="tanh"),
                              keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
"""


def test_user_keras_model_and_flat_memory(tmp_path, digits):
    from hpo_keras import KerasBackend

    (tmp_path / "netdef.py").write_text(USER_MODEL)
    backend = KerasBackend(seed=0, epochs=2, model=str(tmp_path / "netdef.py") + ":build")
    x, y = digits.x_train, digits.y_train
    scores, steps = fit_and_score(backend, {"units": 32}, digits, x[:1200], y[:1200],
                                  x[1200:], y[1200:])
    assert scores["accuracy"] > 0.8 and [s["step"] for s in steps] == [1, 2]
    # a long study must not grow with its trials: each starts from a clean Keras session
    # (without it: ~9 MB per trial here; TensorFlow itself still keeps ~2 MB, JAX nothing)
    import psutil

    proc, plain = psutil.Process(), KerasBackend(seed=0, epochs=1)
    rss = []
    for i in range(12):
        fit_and_score(plain, {**NOTEBOOK, "num_dense_nodes": 5 + i % 3}, digits, x[:1200],
                      y[:1200], x[1200:], y[1200:])
        rss.append(proc.memory_info().rss / 2**20)
    assert rss[-1] - rss[3] < 30, [round(r) for r in rss]


def test_jax_engine_is_an_option_not_a_requirement():
    """With jax installed, -B keras_backend=jax trains on JAX; without it, a one-line error."""
    import importlib.util

    code = (
        "from hpo_keras import KerasBackend\n"
        "from hpo_framework.contracts.backend import fit_and_score\n"
        "from hpo_framework.jobs.pipeline import load_dataset\n"
        "d = load_dataset('digits')\n"
        "b = KerasBackend(keras_backend='jax', seed=0, epochs=2)\n"
        "s, _ = fit_and_score(b, {'learning_rate': 0.05, 'optimizer': 'sgd'}, d,\n"
        "                     d.x_train[:1200], d.y_train[:1200], d.x_train[1200:], d.y_train[1200:])\n"
        "import keras\n"
        "print(keras.backend.backend(), s['accuracy'])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "KERAS_BACKEND": ""})
    if importlib.util.find_spec("jax") is None:
        assert proc.returncode != 0
        assert "keras_backend=jax needs jax: .venv/bin/pip install jax" in proc.stderr
    else:
        engine, acc = proc.stdout.split()
        assert proc.returncode == 0 and engine == "jax" and float(acc) > 0.6, proc.stderr


TOP_LEVEL_KERAS = '''
import keras


def build(params, input_shape, n_classes):
    model = keras.Sequential([keras.Input(shape=input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(params["lr"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''


@pytest.mark.slow
def test_a_model_file_that_imports_keras_at_its_top_is_quiet(tmp_path):
    (tmp_path / "m.py").write_text(TOP_LEVEL_KERAS)
    (tmp_path / "space.yaml").write_text("lr: [0.01, 0.001]\n")
    proc = run_cli("--strategy", "random", "--backend", "keras", "--model", "m.py:build",
                   "--space", "space.yaml", "--trials", "1", "-B", "epochs=1",
                   "--no-final-test", "--json", cwd=tmp_path, check=True)
    assert json.loads(proc.stdout)["trials"][0]["state"] == "COMPLETE"
    noise = [ln for ln in proc.stderr.splitlines()
             if any(m in ln for m in ("oneDNN", "cuda", "absl", "I0000", "E0000", "W0000",
                                      "tensorflow", "TF_"))]
    assert noise == [], proc.stderr


def test_the_keras_backend_speaks_the_notebooks_layer_names_only(digits):
    """num_dense_layers / num_dense_nodes, as the default space; an earlier name gets one
    line saying what to write instead (as an option, and as a parameter)."""
    from hpo_keras import KerasBackend

    from hpo_framework.errors import OptionError

    with pytest.raises(OptionError, match="^backend 'keras': the keras backend has no "
                       "'n_layers': write num_dense_layers instead"):
        KerasBackend(n_layers=2)
    backend = KerasBackend(trainer="fit", seed=0, epochs=1)
    for name, instead in (("units_1", "num_dense_nodes"), ("units", "num_dense_nodes")):
        with pytest.raises(ValueError, match=f"^the keras backend has no '{name}': write "
                           f"{instead} instead"):
            backend.build({"learning_rate": 0.01, name: 5}, digits)
    assert set(backend.default_space(digits)) <= backend.parameters()


def test_compile_cache_off_on_the_command_line_turns_the_cache_off():
    """`-B compile_cache=off` reads as YAML's false: taken, and meaning off, not refused."""
    from hpo_keras import KerasBackend
    from hpo_keras.runtime import compile_cache_dir

    from hpo_framework.options import parse_pairs

    for text in ("off", "false", "none"):
        opts = parse_pairs([f"compile_cache={text}"], "backend option")
        backend = KerasBackend(trainer="fit", **opts)  # fit: this process's JAX is untouched
        assert compile_cache_dir(backend.config["compile_cache"]) is None, text
    assert compile_cache_dir("/some/dir") == "/some/dir"
