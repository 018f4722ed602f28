"""trainer=compiled on digits: the same training as model.fit (on JAX and on TensorFlow),
reports, pruning, failures.

Keras picks its engine once per process, so the JAX runs happen in one child process and
the TensorFlow runs in another; each prints what the tests check.
"""

import json
import os
import subprocess
import sys

import pytest
from clitools import run_cli

pytestmark = pytest.mark.slow

CHILD = r"""
import json, sys
from hpo_keras import KerasBackend
from hpo_framework.contracts.backend import fit_and_score
from hpo_framework.builtin.evaluators import Holdout
from hpo_framework.errors import TrialPruned
from hpo_framework.contracts.metrics import get_metric
from hpo_framework.contracts.objective import evaluate
from hpo_framework.jobs.pipeline import load_dataset

d = load_dataset("digits")
x, y = d.x_train, d.y_train
split = (x[:1000], y[:1000], x[1000:], y[1000:])
out = {}
configs = {
    "sgd": {"learning_rate": 0.05, "optimizer": "sgd", "num_dense_layers": 0, "num_dense_nodes": 15},
    "adam": {"learning_rate": 0.01, "optimizer": "adam", "num_dense_layers": 2, "num_dense_nodes": 7},
}
for name, params in configs.items():
    for tr, pad in (("fit", True), ("compiled", True), ("compiled", False)):
        b = KerasBackend(trainer=tr, keras_backend="jax", seed=0, epochs=3, pad=pad)
        scores, steps = fit_and_score(b, params, d, *split)
        out[f"{name}/{tr}/{pad}"] = {"accuracy": scores["accuracy"], "steps": steps}

# unpadded (Keras's stateless_call): the same shapes with another learning rate and SGD
# momentum reuse the backend's program; other widths compile anew
b = KerasBackend(trainer="compiled", seed=0, epochs=2, pad=False)
fit_and_score(b, configs["sgd"], d, *split)
n0 = b.epoch_programs.compiles
fit_and_score(b, {**configs["sgd"], "learning_rate": 0.02, "momentum": 0.5}, d, *split)
n1 = b.epoch_programs.compiles
fit_and_score(b, {**configs["sgd"], "num_dense_nodes": 9}, d, *split)
out["compiles"] = [n0, n1, b.epoch_programs.compiles]
# padded (the default): narrower and shallower trials, and the other optimizer once seen,
# reuse the program
p = KerasBackend(trainer="compiled", seed=0, epochs=2)
fit_and_score(p, configs["adam"], d, *split)
fit_and_score(p, configs["sgd"], d, *split)
n0 = p.padded.counts["compiles"]  # the backend owns its padded program
for params in ({**configs["sgd"], "num_dense_nodes": 9, "learning_rate": 0.02},
               {**configs["adam"], "num_dense_layers": 1, "num_dense_nodes": 12}):
    fit_and_score(p, params, d, *split)
# the SGD momentum is data, as the learning rate is: trials that differ only in it (0, which
# Keras's SGD runs without velocities, included) reuse the program and train as model.fit
out["momentum"] = {}
for m in (0.0, 0.5):
    fit_m = KerasBackend(trainer="fit", keras_backend="jax", seed=0, epochs=2)
    out["momentum"][str(m)] = [[s["val_loss"] for s in fit_and_score(
        bk, {**configs["sgd"], "momentum": m}, d, *split)[1]] for bk in (p, fit_m)]
out["padded_compiles"] = p.padded.counts["compiles"] - n0

# pruning: the report callback raises at epoch 2, training stops there and it propagates
seen = []
def report(step, values):
    seen.append(step)
    if step == 2:
        raise TrialPruned("pruned at 2")
try:
    b.fit(configs["sgd"], split[0], split[1], d, validation=split[2:], report=report)
    out["pruned"] = None
except TrialPruned as exc:
    out["pruned"] = [str(exc), seen]
# divergence: MSE at learning rate 10 overflows (Keras clips cross-entropy, so a
# classifier saturates instead)
reg = load_dataset("diabetes")
mse = get_metric("mse", "regression")
out["nan"] = {}
for tr in ("fit", "compiled"):
    wild = KerasBackend(trainer=tr, keras_backend="jax", seed=0, epochs=3)
    o = evaluate(lambda p: Holdout(seed=0).evaluate(wild, p, reg, mse),
                 {"learning_rate": 10.0, "optimizer": "sgd"})
    out["nan"][tr] = [o.state.value, o.value, o.error]
s, steps = fit_and_score(KerasBackend(trainer="compiled", seed=0, epochs=2),
                         {"learning_rate": 0.01}, reg, reg.x_train[:300], reg.y_train[:300],
                         reg.x_train[300:], reg.y_train[300:])
out["regression"] = [s["mse"], len(steps)]
user = KerasBackend(trainer="compiled", seed=0, epochs=2, model=sys.argv[1])
s, steps = fit_and_score(user, {"units": 32}, d, *split)
out["user"] = [s["accuracy"], [st["step"] for st in steps]]
print("RESULT " + json.dumps(out))
"""

USER_MODEL = """
import keras

def build(params, input_shape, n_classes):
    model = keras.Sequential([keras.Input(shape=input_shape),
                              keras.layers.Dense(params["units"], activation="tanh"),
                              keras.layers.Dropout(0.1),
                              keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
"""


# trainer=fit on TensorFlow, in a process of its own: the same numpy-drawn initial weights
# and the same numpy shuffles as the compiled trainer on JAX, so the same numbers
TF_CHILD = r"""
import json
from hpo_keras import KerasBackend
from hpo_framework.contracts.backend import fit_and_score
from hpo_framework.jobs.pipeline import load_dataset

d = load_dataset("digits")
x, y = d.x_train, d.y_train
split = (x[:1000], y[:1000], x[1000:], y[1000:])
configs = %s
out = {}
for name, params in configs.items():
    b = KerasBackend(trainer="fit", keras_backend="tensorflow", seed=0, epochs=3)
    scores, steps = fit_and_score(b, params, d, *split)
    out[name] = {"accuracy": scores["accuracy"], "steps": steps}
import keras
out["engine"] = keras.backend.backend()
print("RESULT " + json.dumps(out))
"""
CONFIGS = {
    "sgd": {"learning_rate": 0.05, "optimizer": "sgd", "num_dense_layers": 0, "num_dense_nodes": 15},
    "adam": {"learning_rate": 0.01, "optimizer": "adam", "num_dense_layers": 2, "num_dense_nodes": 7},
}


def run_child(code: str, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, env=env, timeout=600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.fixture(scope="module")
def tf_child():
    return run_child(TF_CHILD % repr(CONFIGS))


@pytest.fixture(scope="module")
def child(tmp_path_factory):
    path = tmp_path_factory.mktemp("compiled") / "netdef.py"
    path.write_text(USER_MODEL)
    return run_child(CHILD, f"{path}:build")


@pytest.mark.parametrize("pad", [True, False])
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_compiled_trains_like_model_fit_epoch_by_epoch(child, name, pad):
    fit, compiled = child[f"{name}/fit/True"], child[f"{name}/compiled/{pad}"]
    assert [s["step"] for s in compiled["steps"]] == [1, 2, 3]
    for a, b in zip(fit["steps"], compiled["steps"], strict=True):
        assert abs(a["val_loss"] - b["val_loss"]) < 1e-4, (fit["steps"], compiled["steps"])
        assert abs(a["val_accuracy"] - b["val_accuracy"]) < 1e-3
    assert compiled["accuracy"] == pytest.approx(fit["accuracy"], abs=1e-3)
    if name == "sgd":
        assert compiled["accuracy"] > 0.85  # it learnt something: the check is not vacuous


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_compiled_on_jax_trains_like_model_fit_on_tensorflow(child, tf_child, name):
    # the same initial weights and batches on both engines: only float summation differs
    assert tf_child["engine"] == "tensorflow"
    fit, compiled = tf_child[name], child[f"{name}/compiled/True"]
    assert [s["step"] for s in fit["steps"]] == [1, 2, 3]
    for a, b in zip(fit["steps"], compiled["steps"], strict=True):
        assert abs(a["val_loss"] - b["val_loss"]) < 1e-4, (fit["steps"], compiled["steps"])
        assert abs(a["val_accuracy"] - b["val_accuracy"]) < 1e-3
    assert compiled["accuracy"] == pytest.approx(fit["accuracy"], abs=1e-3)


def test_a_compile_is_shared_by_later_trials_of_the_same_shapes(child):
    before, same_shapes, other_width = child["compiles"]
    assert same_shapes == before and other_width == before + 1
    # padded: one program serves every width up to 16 and depth up to the deepest seen
    assert child["padded_compiles"] == 0


def test_trials_differing_only_in_momentum_share_the_program_and_train_as_fit(child):
    # (the compile counts above include them: momentum 0.5 unpadded, 0 and 0.5 padded)
    curves = child["momentum"]
    for compiled, fit in curves.values():
        assert len(compiled) == len(fit) == 2
        for a, b in zip(compiled, fit, strict=True):
            assert abs(a - b) < 1e-5, curves
    assert curves["0.0"][0] != curves["0.5"][0]  # each trial's own momentum took effect


def test_trial_pruned_from_report_stops_training_and_propagates(child):
    assert child["pruned"] == ["pruned at 2", [1, 2]]


def test_a_diverging_configuration_fails_the_trial(child):
    state, value, error = child["nan"]["compiled"]
    assert state == "FAILED" and value is None
    assert error.startswith("RuntimeError: diverged: loss became ")
    assert child["nan"]["compiled"] == child["nan"]["fit"]  # the same epoch, the same value


def test_regression_and_a_user_model_with_dropout_train_compiled(child):
    mse, n_steps = child["regression"]
    assert n_steps == 2 and 0 < mse < 1e5
    acc, steps = child["user"]
    assert acc > 0.8 and steps == [1, 2]


def test_cli_default_study_is_compiled_on_jax_says_when_it_compiles_and_caches(tmp_path):
    cache = tmp_path / "jax-cache"
    proc = run_cli("--strategy", "random", "--backend", "keras", "--trials", "2", "--seed", "0",
                   "-B", "epochs=2", "-B", f"compile_cache={cache}", "--verbose", "--json",
                   "--save-model", "best.keras", cwd=tmp_path, env={"KERAS_BACKEND": ""},
                   check=True)
    assert "keras: compiling the training program for 1 MLP of up to" in proc.stderr
    assert (tmp_path / "best.keras").is_file()
    # the training programs went to the persistent cache, for the next process to load
    assert any(p.name.startswith("jit_epoch") for p in cache.iterdir()), list(cache.iterdir())
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert [t["state"] for t in data["trials"]] == ["COMPLETE", "COMPLETE"]
    assert all([s["step"] for s in t["intermediate"]] == [1, 2] for t in data["trials"])
    assert data["test_score"] > 0.5
