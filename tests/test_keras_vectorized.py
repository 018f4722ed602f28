"""--executor vectorized on digits: a batch trains as one program, and every member gets
what it would alone (padding and masking change nothing), fails alone, stops alone.

The runs happen in one child process on JAX (the other keras tests load TensorFlow).
"""

import json
import os
import subprocess
import sys

import pytest
from clitools import run_cli

pytestmark = pytest.mark.slow

CHILD = r"""
import contextlib, dataclasses, io, json, sys, threading
from hpo_framework.contracts.objective import evaluate
from hpo_framework.jobs.pipeline import JobSpec, PipelineObjective
from hpo_keras.vectorized import VectorizedExecutor

ALONE = {}  # one objective (one backend, its padded program) per spec, as in a study

def alone(spec, params):
    opts = {**spec.backend_options, "trainer": "compiled"}
    key = repr(spec)
    if key not in ALONE:
        ALONE[key] = PipelineObjective(dataclasses.replace(spec, backend_options=opts))
    return evaluate(ALONE[key], params)

def every(ex, futures):
    done = set()
    while done != set(futures):
        done |= ex.wait([f for f in futures if f not in done])
    return [f.result() for f in futures]

def batch(spec, configs, n_jobs, reporter=None, ex=None):
    ex = ex or VectorizedExecutor(n_jobs=n_jobs)
    ex.start(PipelineObjective(spec), reporter)
    try:
        return every(ex, [ex.submit(i, c) for i, c in enumerate(configs)])
    finally:
        ex.shutdown()

def show(o):
    return {"state": o.state.value, "value": o.value, "error": o.error,
            "steps": [s["step"] for s in o.intermediate],
            "val_loss": [s["val_loss"] for s in o.intermediate],
            "val_accuracy": [s.get("val_accuracy") for s in o.intermediate]}

out = {}
digits = JobSpec(backend="keras", dataset="digits", seed=0, backend_options={"epochs": 3})
configs = [
    # one hidden layer of 10 units: padded to 3 layers of 16 in this batch
    {"learning_rate": 0.05, "optimizer": "sgd", "num_dense_layers": 0, "num_dense_nodes": 10},
    {"learning_rate": 0.01, "optimizer": "adam", "num_dense_layers": 2, "num_dense_nodes": 15},
    {"learning_rate": 0.003, "optimizer": "adam", "num_dense_layers": 1, "num_dense_nodes": 6},
    # its momentum (the other sgd member's is the default 0.9) is data in the same program
    {"learning_rate": 0.02, "optimizer": "sgd", "num_dense_layers": 2, "num_dense_nodes": 5,
     "momentum": 0.5},
    {"learning_rate": 0.01, "optimizer": "adam", "num_dense_nodes": 8, "dropout": 0.2},
]
said = io.StringIO()
ex = VectorizedExecutor(n_jobs=6)  # it owns its programs and counts
with contextlib.redirect_stderr(said):
    got = batch(digits, configs, n_jobs=6, ex=ex)
out["counts"] = [ex.counts[k] for k in ("compiles", "batches", "alone")]
out["said"] = said.getvalue()
out["batch"] = [show(o) for o in got]
out["alone"] = [show(alone(digits, c)) for c in configs]
# the same batch again with other learning rates reuses the executor's program; another
# executor has programs of its own
c1 = dict(ex.counts)
batch(digits, [dict(c, learning_rate=c["learning_rate"] / 2) for c in configs[:4]], n_jobs=6,
      ex=ex)
out["again"] = [ex.counts[k] - c1[k] for k in ("compiles", "batches")]
out["fresh"] = VectorizedExecutor(n_jobs=6).counts
shared = ex  # the sections below reuse its 6-slot program (no compile each): what they
# check (a held wait, two groups, a pruned member) does not depend on the slot count

# wait honours its timeout: the batch is held in the pruner's reporter until the gate opens
gate = threading.Event()
def held(number, step, value):
    gate.wait()
    return False
shared.start(PipelineObjective(dataclasses.replace(digits, backend_options={"epochs": 1})),
             held)
futures = [shared.submit(i, c) for i, c in enumerate(configs[:2])]
out["held"] = len(shared.wait(futures, timeout=0.2))
gate.set()
out["released"] = [o.state.value for o in every(shared, futures)]
shared.shutdown()

# two programs in one batch (other epochs): each still shuffles as it would alone
mixed = [dict(configs[0], epochs=2), dict(configs[2], epochs=3)]
out["two_groups"] = [show(o) for o in batch(digits, mixed, n_jobs=2, ex=shared)]
out["two_groups_alone"] = [show(alone(digits, c)) for c in mixed]

# a diverging member fails alone (regression: MSE overflows at learning rate 10)
reg = JobSpec(backend="keras", dataset="diabetes", seed=0, metric="mse",
              backend_options={"epochs": 3})
wild = [{"learning_rate": 0.01, "optimizer": "sgd"}, {"learning_rate": 10.0, "optimizer": "sgd"},
        {"learning_rate": 0.01, "optimizer": "adam", "num_dense_nodes": 7}]
out["reg_batch"] = [show(o) for o in batch(reg, wild, n_jobs=3)]
out["reg_alone"] = [show(alone(reg, c)) for c in wild]

# the pruner stops member 1 after epoch 2; the others train on
calls = []
def reporter(number, step, value):
    calls.append([number, step])
    return number == 1 and step == 2
out["pruned"] = [show(o) for o in batch(digits, configs[:3], n_jobs=3, reporter=reporter,
                                        ex=shared)]
out["calls"] = calls

# k-fold: fold k of every member is one batch
kf = JobSpec(backend="keras", dataset="digits", seed=0, evaluator="kfold",
             evaluator_options={"folds": 2}, backend_options={"epochs": 2})
ex = VectorizedExecutor(n_jobs=2)
out["kfold_batch"] = [o.value for o in batch(kf, configs[:2], n_jobs=2, ex=ex)]
out["kfold_batches"] = ex.counts["batches"]
out["kfold_alone"] = [alone(kf, c).value for c in configs[:2]]

# -B trainer=fit cannot be honoured here: one line says so, once
fit_spec = dataclasses.replace(digits, backend_options={"epochs": 2, "trainer": "fit"})
said = io.StringIO()
with contextlib.redirect_stderr(said):
    for _ in range(2):
        VectorizedExecutor(n_jobs=2).start(PipelineObjective(fit_spec))
out["said_fit"] = said.getvalue()
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def child():
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=env, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_a_padded_one_layer_member_trains_exactly_as_alone(child):
    padded, single = child["batch"][0], child["alone"][0]
    assert padded["state"] == single["state"] == "COMPLETE"
    assert padded["steps"] == [1, 2, 3]
    for a, b in zip(padded["val_loss"], single["val_loss"], strict=True):
        assert abs(a - b) < 1e-5
    assert padded["val_accuracy"] == single["val_accuracy"]
    assert padded["value"] == single["value"] and padded["value"] > 0.8


def test_every_member_of_a_mixed_batch_matches_its_own_run(child):
    # different depths, widths, per-layer units, SGD-Nesterov (two momenta) and Adam,
    # learning rates
    for batched, single in zip(child["batch"], child["alone"], strict=True):
        assert batched["state"] == "COMPLETE" and batched["steps"] == [1, 2, 3]
        for a, b in zip(batched["val_loss"], single["val_loss"], strict=True):
            assert abs(a - b) < 1e-4, (batched, single)
        assert abs(batched["value"] - single["value"]) < 1e-2


def test_one_program_for_the_batch_reused_by_the_next_and_dropout_trains_alone(child):
    compiles, batches, alone = child["counts"]
    assert (compiles, batches, alone) == (1, 1, 1)  # the dropout member trained alone
    assert "dropout draws its own random masks: such configurations train one at a time" \
        in child["said"]
    assert child["again"] == [0, 1]
    assert child["fresh"] == {"compiles": 0, "batches": 0, "alone": 0}


def test_wait_returns_at_its_timeout_while_the_batch_trains(child):
    assert child["held"] == 0  # the members wait in the reporter: nothing is done yet
    assert child["released"] == ["COMPLETE", "COMPLETE"]


def test_members_of_two_programs_in_one_batch_match_their_own_runs(child):
    assert [b["steps"] for b in child["two_groups"]] == [[1, 2], [1, 2, 3]]
    for batched, single in zip(child["two_groups"], child["two_groups_alone"], strict=True):
        assert batched["steps"] == single["steps"]
        for a, b in zip(batched["val_loss"], single["val_loss"], strict=True):
            assert abs(a - b) < 1e-5


def test_a_diverging_member_fails_alone(child):
    states = [o["state"] for o in child["reg_batch"]]
    assert states == ["COMPLETE", "FAILED", "COMPLETE"]
    failed = child["reg_batch"][1]
    assert failed["error"].startswith("RuntimeError: diverged: loss became ")
    assert failed["error"] == child["reg_alone"][1]["error"]
    for i in (0, 2):
        assert child["reg_batch"][i]["value"] == pytest.approx(child["reg_alone"][i]["value"],
                                                              rel=1e-3)


def test_a_pruned_member_stops_and_the_others_go_on(child):
    states = [o["state"] for o in child["pruned"]]
    assert states == ["COMPLETE", "PRUNED", "COMPLETE"]
    assert child["pruned"][1]["steps"] == [1, 2]
    assert [c for c in child["calls"] if c[0] == 1] == [[1, 1], [1, 2]]
    assert child["pruned"][0]["steps"] == child["pruned"][2]["steps"] == [1, 2, 3]


def test_kfold_members_batch_fold_by_fold(child):
    assert child["kfold_batches"] == 2
    for a, b in zip(child["kfold_batch"], child["kfold_alone"], strict=True):
        assert a == pytest.approx(b, abs=1e-9)


def test_an_explicit_trainer_fit_gets_a_line_saying_it_is_not_used(child):
    assert child["said_fit"].splitlines() == [
        "vectorized: -B trainer=fit is not used: this executor trains with trainer=compiled "
        "(use --executor serial or process for trainer=fit)"] * 2


def test_cli_vectorized_study(tmp_path):
    proc = run_cli("--strategy", "random", "--backend", "keras", "--executor", "vectorized",
                   "--n-jobs", "3", "--trials", "6", "--seed", "0", "-B", "epochs=2",
                   "--verbose", "--json", "--no-final-test", cwd=tmp_path,
                   env={"KERAS_BACKEND": ""}, check=True)
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert [t["state"] for t in data["trials"]] == ["COMPLETE"] * 6
    assert all(t["value"] > 0.1 for t in data["trials"])
    assert proc.stderr.count("keras: compiling the training program for 3 MLPs of up to") >= 1


def test_other_backends_run_one_at_a_time_with_a_line_saying_so(tmp_path):
    proc = run_cli("--strategy", "random", "--backend", "sklearn", "--executor", "vectorized",
                   "--n-jobs", "2", "--trials", "2", "--seed", "0", "-B", "max_iter=3",
                   "--json", "--no-final-test", cwd=tmp_path, check=True)
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert [t["state"] for t in data["trials"]] == ["COMPLETE", "COMPLETE"]
    assert proc.stderr.count("vectorized: this backend cannot train configurations "
                             "together; they run one at a time") == 1


def test_a_split_goes_to_the_device_once_per_split_and_cap(monkeypatch):
    import numpy as np
    from hpo_keras.padded import DeviceCache, padded_rows

    # importing jax here sets TF_CPP_MIN_LOG_LEVEL=1 in this process's environment, which
    # the other tests' hpo-run children would inherit: the test leaves os.environ as it was
    for name in ("TF_CPP_MIN_LOG_LEVEL", "TPU_SKIP_MDS_QUERY"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # records the value to restore
        if not os.environ[name]:
            monkeypatch.delenv(name)
    split, other = np.arange(12.0).reshape(6, 2), np.ones((6, 2))
    made = []

    def make(a, cap):
        made.append(cap)
        return padded_rows(a, cap)

    cache = DeviceCache()
    first = cache.get("test", (split, 8), lambda: make(split, 8))
    again = cache.get("test", (split, 8), lambda: make(split, 8))
    assert again is first and made == [8]  # every later trial of the split: no copy
    assert np.asarray(first).tolist() == [*split.tolist(), [0.0, 0.0], [0.0, 0.0]]
    wider = cache.get("test", (split, 16), lambda: make(split, 16))  # another program's cap
    assert wider.shape == (16, 2) and made == [8, 16]
    new = cache.get("test", (other, 16), lambda: make(other, 16))  # a new split replaces it
    assert new is not wider and made == [8, 16, 16] and cache.kept["test"][0][0] is other


def test_a_plain_function_is_refused_in_one_line():
    from hpo_keras.vectorized import VectorizedExecutor

    from hpo_framework.errors import OptionError

    with pytest.raises(OptionError, match="^executor 'vectorized' trains a backend's "
                       "configurations together; this objective is a plain function: use "
                       "--executor serial$"):
        VectorizedExecutor(n_jobs=2).start(lambda params: 0.0)
