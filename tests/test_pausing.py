"""Pausing pruners end to end: a trial paused at a rung is stored PAUSED with its
checkpoint; halving resumes the best of the whole cohort and asha pause=true the ones
later trials rank high, from their checkpoints (serial, worker processes, Dask); a
resumed trial trains and ends exactly as it would have had it never paused
(scikit-learn, k-fold, Keras padded, unpadded and fit); the paused ones nobody resumes
end PRUNED; a driver killed while a trial ran on from its checkpoint is resumed with the
same decisions; and what cannot pause is refused in one line."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from clitools import run_cli, wait_until

import hpo_framework as hpo
from hpo_framework import TrialState, optimize

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
STEPS, N = 10, 20


def value(x: float, step: int) -> float:
    """A curve whose ranking changes with the step: the best x drifts from 0.35 to 0.8."""
    return step / STEPS * (1.0 - abs(x - (0.3 + 0.05 * step)))


class Climb:
    """A resumable objective: its checkpoint is the step it paused at."""

    resumable = True

    def __call__(self, params, trial):
        start = 0 if trial.resume is None else trial.resume["step"]
        gate = os.environ.get("HPO_TEST_PAUSE_GATE")
        if gate and trial.resume is not None:  # hold a resumed trial for the kill test
            open(os.path.join(gate, f"resumed-{trial.number}"), "w").close()
            while not os.path.exists(os.path.join(gate, "go")):
                time.sleep(0.01)  # polls the gate (the test kills the driver meanwhile)
        for step in range(start + 1, STEPS + 1):
            trial.report(value(params["x"], step), step)
            if trial.should_pause():
                raise hpo.TrialPaused(checkpoint={"step": step})
            if trial.should_prune():
                raise hpo.TrialPruned()
        return value(params["x"], STEPS)


def expected(xs: list[float], steps=(1, 3), keep=(0.5, 0.4)) -> dict[int, int]:
    """Trial number -> the last step it trains, by successive halving over all of them
    at once (the best by value at the rung, ties to the lower number)."""
    alive, last = list(range(len(xs))), {}
    for at, frac in zip(steps, keep, strict=True):
        ranked = sorted(alive, key=lambda i: (-value(xs[i], at), i))
        kept = ranked[:max(1, round(frac * len(alive)))]
        last.update({i: at for i in alive if i not in kept})
        alive = kept
    last.update({i: STEPS for i in alive})
    return last


def check_halving(study) -> None:
    assert len(study.trials) == N and not study.paused
    xs = [t.params["x"] for t in study.trials]
    want = expected(xs)
    for t in study.trials:
        steps = [r["step"] for r in t.intermediate]
        assert steps == list(range(1, want[t.number] + 1)), (t.number, steps, want[t.number])
        assert [r["value"] for r in t.intermediate] == [value(t.params["x"], s) for s in steps]
        if want[t.number] == STEPS:
            assert t.state is TrialState.COMPLETE and t.value == value(t.params["x"], STEPS)
        else:
            assert t.state is TrialState.PRUNED and t.value is None
            assert t.error == f"paused at step {want[t.number]}; not resumed"
    assert sum(len(t.intermediate) for t in study.trials) == 20 + 10 * 2 + 4 * 7
    assert sum(t.state is TrialState.COMPLETE for t in study.trials) == 4


@pytest.mark.parametrize(("strategy", "n_jobs"), [("random", 1), ("random", 2), ("bayes", 1)])
def test_halving_resumes_the_best_of_the_whole_cohort_in_process_and_in_workers(
        strategy, n_jobs, tmp_path):
    db = tmp_path / "h.db"
    study = optimize(Climb(), SPACE, strategy=strategy, n_trials=N, seed=5, n_jobs=n_jobs,
                     direction="maximize", pruner="halving", storage=db, study="h")
    check_halving(study)
    if strategy == "bayes":  # told PRUNED when paused, then again how each trial ended
        assert study.strategy._history.pruned == {t.number for t in study.trials
                                                  if t.state is TrialState.PRUNED}
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM checkpoints").fetchone() == (0,)  # all ended
    conn.close()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_asha_with_promotions_resumes_a_paused_trial_the_later_ones_rank_high(n_jobs):
    events = []
    study = optimize(Climb(), SPACE, strategy="random", n_trials=N, seed=5, n_jobs=n_jobs,
                     direction="maximize", pruner="asha",
                     pruner_options={"pause": True, "max_resource": STEPS},
                     callbacks=[lambda s, t: events.append((t.number, t.state))])
    assert len(study.trials) == N and not study.paused
    promoted = {n for n, state in events if state is TrialState.PAUSED} & \
        {t.number for t in study.trials if t.state is TrialState.COMPLETE}
    assert promoted  # paused below a bar, resumed when later trials ranked it high, finished
    for t in study.trials:
        steps = [r["step"] for r in t.intermediate]
        assert steps == list(range(1, len(steps) + 1))
        assert [r["value"] for r in t.intermediate] == [value(t.params["x"], s) for s in steps]
        assert (t.state is TrialState.COMPLETE) == (steps[-1] == STEPS)
        if t.state is TrialState.PRUNED:
            assert t.error in ("paused at step 1; not resumed", "paused at step 3; not resumed")
    # fewer epochs than all of them
    assert sum(len(t.intermediate) for t in study.trials) < N * STEPS


@pytest.mark.slow
def test_halving_resumes_trials_on_a_dask_cluster():
    pytest.importorskip("distributed")
    study = optimize(Climb(), SPACE, strategy="random", n_trials=N, seed=5, n_jobs=2,
                     direction="maximize", pruner="halving", executor="dask",
                     executor_options={"n_workers": 2})
    check_halving(study)


def test_a_trial_told_again_replaces_its_first_telling():
    import dataclasses

    from hpo_framework.contracts.strategy import RebuildingStrategy

    class Nothing(RebuildingStrategy):
        name = "nothing"

        def propose(self, history, pending, n, seed):
            return []

    strategy = Nothing(hpo.Space.from_dict(SPACE), seed=0)
    paused = hpo.Trial(number=0, params={"x": 0.5}, state=TrialState.PRUNED, curve=[(1, 0.1)])
    ended = dataclasses.replace(paused, state=TrialState.COMPLETE, value=0.5, loss=0.5)
    strategy.tell([paused])
    strategy.tell([ended])
    assert strategy.history == [ended]


def test_paused_trials_are_stored_with_their_checkpoints_until_resumed(tmp_path):
    """Interrupted after the cohort's first rung: PAUSED rows and their checkpoints."""
    db = tmp_path / "p.db"

    def stop_at_rung_two(study, trial):
        if trial.state is TrialState.PAUSED and trial.curve[-1][0] == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        optimize(Climb(), SPACE, strategy="random", n_trials=N, seed=5, direction="maximize",
                 pruner="halving", storage=db, study="p", callbacks=[stop_at_rung_two])
    conn = sqlite3.connect(db)
    states = dict(conn.execute("SELECT number, state FROM trials"))
    kept = dict(conn.execute("SELECT number, length(data) FROM checkpoints"))
    conn.close()
    assert set(states.values()) == {"PAUSED"} and len(states) == N  # nothing else recorded
    assert set(kept) == set(states)
    report = run_cli("report", "--storage", db, "--study", "p", check=True).stdout
    assert "strategy random, 0 trials (0 failed, 0 pruned), 20 paused" in report
    assert report.count("PAUSED: paused at step ") == N
    resumed = optimize(Climb(), SPACE, strategy="random", n_trials=N, seed=5,
                       direction="maximize", pruner="halving", storage=db, study="p")
    check_halving(resumed)


DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from test_pausing import Climb, SPACE, N
    from hpo_framework import optimize
    optimize(Climb(), SPACE, strategy="random", n_trials=N, seed=5, direction="maximize",
             pruner="halving", storage={db!r}, study="k")
""")


def test_a_driver_killed_while_a_trial_ran_on_from_its_checkpoint_is_resumed(tmp_path):
    from pathlib import Path

    db, gate = tmp_path / "k.db", tmp_path / "gate"
    gate.mkdir()
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(tests=str(Path(__file__).parent), db=str(db)))
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HPO_TEST_PAUSE_GATE": str(gate)})
    try:
        first = wait_until(lambda: sorted(gate.glob("resumed-*")), "a resumed trial",
                           proc=proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    number = int(first[0].name.split("-")[1])
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT state FROM trials WHERE number = ?", (number,)).fetchone()
    kept = conn.execute("SELECT count(*) FROM checkpoints WHERE number = ?", (number,)).fetchone()
    conn.close()
    assert row == ("RUNNING",) and kept == (1,)
    resumed = optimize(Climb(), SPACE, strategy="random", n_trials=N, seed=5,
                       direction="maximize", pruner="halving", storage=db, study="k")
    check_halving(resumed)
    whole = optimize(Climb(), SPACE, strategy="random", n_trials=N, seed=5,
                     direction="maximize", pruner="halving")
    assert [(t.params, t.state, t.intermediate, t.value) for t in resumed.trials] == \
        [(t.params, t.state, t.intermediate, t.value) for t in whole.trials]


def test_a_pausing_pruner_is_refused_where_trials_cannot_resume(tmp_path):
    def plain(params, trial):
        return params["x"]

    with pytest.raises(hpo.HPOError) as err:
        optimize(plain, SPACE, strategy="random", n_trials=4, pruner="halving",
                 storage=tmp_path / "r.db")
    assert str(err.value) == (
        "pruner 'halving' pauses trials and resumes them later; this objective cannot go on "
        "from a checkpoint: use a backend that can (keras, sklearn), or another pruner (asha)")
    assert not (tmp_path / "r.db").exists()  # refused before anything was written
    with pytest.raises(hpo.OptionError) as err:
        optimize(Climb(), SPACE, strategy="random", timeout=5, pruner="halving")
    assert "give a trial budget" in str(err.value)
    with pytest.raises(hpo.OptionError) as err:
        optimize(Climb(), SPACE, strategy="random", n_trials=4, pruner="halving",
                 pruner_options={"steps": "3,1"})
    assert str(err.value) == ("pruner 'halving': option 'steps' must be increasing steps >= 1, "
                              "got '3,1'")


def sklearn_run(tmp_path, name, *extra):
    proc = run_cli("--strategy", "random", "--backend", "sklearn", "--trials", "8", "--seed",
                   "2", "--no-final-test", "-B", "max_iter=5", "--storage", tmp_path / "s.db",
                   "--study", name, "--json", *extra, check=True)
    return json.loads(proc.stdout)["trials"]


def check_as_if_never_paused(paused_run, whole_run, steps_kept, n_complete=2):
    """Every trial of the pausing run reported what the same trial reported unpaused; the
    ones resumed to the end have its value."""
    assert [t["params"] for t in paused_run] == [t["params"] for t in whole_run]
    complete = 0
    for p, w in zip(paused_run, whole_run, strict=True):
        n = len(p["intermediate"])
        assert n in steps_kept
        assert p["intermediate"] == w["intermediate"][:n]
        if p["state"] == "COMPLETE":
            complete += 1
            assert p["value"] == w["value"]
    assert complete == n_complete


def test_a_resumed_sklearn_trial_trains_as_if_it_never_paused(tmp_path):
    paused = sklearn_run(tmp_path, "p", "--pruner", "halving", "-P", "steps=1,2",
                         "-P", "keep=0.5,0.5")
    whole = sklearn_run(tmp_path, "w")
    check_as_if_never_paused(paused, whole, {1, 2, 5})


def test_a_resumed_kfold_trial_averages_the_folds_at_the_same_steps(tmp_path):
    """k-fold prunes on fold 0, so a resumed trial's fold 0 reports only the epochs after
    its checkpoint: the folds are averaged step by step, never index by index."""
    options = ("--evaluator", "kfold", "-E", "folds=2")
    paused = sklearn_run(tmp_path, "kp", *options, "--pruner", "halving", "-P", "steps=1,2",
                         "-P", "keep=0.5,0.5")
    whole = sklearn_run(tmp_path, "kw", *options)
    complete = 0
    for p, w in zip(paused, whole, strict=True):
        steps = [r["step"] for r in p["intermediate"]]
        assert steps == list(range(1, len(steps) + 1))
        if p["state"] == "COMPLETE":
            complete += 1
            assert p["value"] == w["value"]
            # after the last pause (step 2), every fold trained as in the unpaused run
            assert p["intermediate"][2:] == w["intermediate"][2:]
    assert complete == 2


@pytest.mark.slow
@pytest.mark.parametrize(("trainer", "pad"), [("compiled", "true"), ("compiled", "false"),
                                              ("fit", "false")])
def test_a_resumed_keras_trial_trains_as_if_it_never_paused(tmp_path, trainer, pad):
    """Padded (the default: one program for every width, the member's state cut to its own
    shapes when it pauses), unpadded, and Keras's model.fit on TensorFlow."""
    # 3 epochs: paused after 1 and 2, the kept ones resumed to the end (a third epoch).
    # 4 trials (halving keeps 2, then 1): two trials resumed from epoch 1, one of them
    # paused again and resumed from epoch 2 to the end; every path of 8 trials, at half
    # the trainings
    options = ["-B", "epochs=3", "-B", f"trainer={trainer}", "-B", f"pad={pad}"]
    if trainer == "fit":
        options += ["-B", "keras_backend=tensorflow"]

    def keras_run(name, *extra):
        proc = run_cli("--strategy", "random", "--backend", "keras", "--dataset", "digits",
                       "--trials", "4", "--seed", "3", "--no-final-test", *options,
                       "--storage", tmp_path / "k.db", "--study", name, "--json", *extra,
                       check=True)
        return json.loads(proc.stdout)["trials"]

    paused = keras_run("p", "--pruner", "halving", "-P", "steps=1,2", "-P", "keep=0.5,0.5")
    whole = keras_run("w")
    check_as_if_never_paused(paused, whole, {1, 2, 3}, n_complete=1)


def test_cli_refuses_a_pausing_pruner_on_an_executor_that_cannot_resume(tmp_path):
    proc = run_cli("--strategy", "random", "--backend", "keras", "--trials", "4",
                   "--executor", "vectorized", "--pruner", "halving", "--no-final-test",
                   "--storage", tmp_path / "v.db")
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "Error: pruner 'halving' pauses trials and resumes them later; executor 'vectorized' "
        "cannot resume one: use the serial, process or dask executor, or another pruner")
    assert not (tmp_path / "v.db").exists()


def test_bayes_models_the_paused_cohort_before_any_trial_finished():
    """Every trial paused at step 1 (halving's first rung): bayes fits its model on those
    losses (the latest step two reached, as BOHB) instead of proposing at random."""
    from hpo_framework.registry import get_registry

    space = hpo.Space.from_dict(SPACE)
    bayes = get_registry().get("strategy", "bayes")(space, seed=0, n_initial_points=4)
    paused = []
    for number, params in enumerate(bayes.ask(4)):
        paused.append(hpo.Trial(number=number, params=params, state=TrialState.PRUNED,
                                curve=[(1, -value(params["x"], 1))]))
    bayes.tell(paused)
    assert bayes.stats()["model_fits"] == 0
    bayes.ask(1)
    assert bayes.stats()["model_fits"] == 1


PADDED_CHILD = r"""
import json
from hpo_keras import KerasBackend
from hpo_framework.errors import TrialPaused
from hpo_framework.jobs.pipeline import load_dataset

d = load_dataset("digits")
x, y, xv, yv = d.x_train[:1000], d.y_train[:1000], d.x_train[1000:], d.y_train[1000:]
configs = [
    {"learning_rate": 0.01, "optimizer": "adam", "num_dense_layers": 2, "num_dense_nodes": 7},
    {"learning_rate": 0.05, "optimizer": "sgd", "num_dense_layers": 1, "num_dense_nodes": 12},
    {"learning_rate": 0.01, "optimizer": "rmsprop", "num_dense_layers": 2, "num_dense_nodes": 5},
]
wide = {"learning_rate": 0.01, "optimizer": "adam", "num_dense_layers": 3, "num_dense_nodes": 40}
b = KerasBackend(trainer="compiled", seed=0, epochs=4)
out = []
for params in configs:
    seen = []
    b.fit_one(params, x, y, d, validation=(xv, yv),
              report=lambda e, v: seen.append((e, v["val_loss"], v["val_accuracy"])))
    paused = []

    def pause_at_2(e, v):
        paused.append((e, v["val_loss"], v["val_accuracy"]))
        if e == 2:
            raise TrialPaused()

    try:
        b.fit_one(params, x, y, d, validation=(xv, yv), report=pause_at_2)
    except TrialPaused as exc:
        checkpoint = exc.checkpoint
    # a deeper, wider trial between: the padded program the resumed one meets has grown
    b.fit_one(wide, x, y, d, validation=(xv, yv), report=lambda e, v: None)
    model = b.fit_one(params, x, y, d, validation=(xv, yv), resume=checkpoint,
                      report=lambda e, v: paused.append((e, v["val_loss"], v["val_accuracy"])))
    out.append({"whole": seen, "paused": paused, "padded": checkpoint.get("padded"),
                "epoch": checkpoint["epoch"], "accuracy": b.score(model, xv, yv, d)["accuracy"]})
print(json.dumps(out))
"""


@pytest.mark.slow
def test_a_trial_paused_in_the_padded_program_goes_on_in_a_grown_one():
    proc = subprocess.run([sys.executable, "-c", PADDED_CHILD], capture_output=True, text=True,
                          env={**os.environ, "KERAS_BACKEND": "jax"}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    for run in runs:
        assert run["padded"] is True and run["epoch"] == 2
        assert [s[0] for s in run["paused"]] == [1, 2, 3, 4]
        flat = [v for step in run["paused"] for v in step]
        assert flat == pytest.approx([v for step in run["whole"] for v in step], rel=1e-5,
                                     abs=1e-6)
        assert run["accuracy"] == run["whole"][-1][2]
