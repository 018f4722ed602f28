"""A trial that kills its process never kills the study.

A CLI run keeps its trials in one worker process: a trial that calls ``os._exit``, is
SIGKILLed or segfaults is FAILED "worker died ..." and the study goes on. In-process
``optimize()`` dies with such a trial, but a trial that killed its driver twice is FAILED
at the next resume instead of killing it a third time. A Ctrl-C during a trial that
swallows KeyboardInterrupt still stops the run at once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import gated_model
import pytest
from clitools import alive, popen_interruptible, run_cli, wait_until

HPO_RUN = str(Path(sys.executable).parent / "hpo-run")

# one configuration (k=1) of a three-point grid kills the process that trains it
MODEL = textwrap.dedent("""
    import ctypes, os, signal, threading, time
    from pathlib import Path
    from sklearn.linear_model import LogisticRegression

    class Dies(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            how = os.environ["HPO_TEST_DEATH"]
            if how == "exit":
                os._exit(7)
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            ctypes.string_at(0)  # a real segfault, in native code

    class Stubborn(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            # swallows Ctrl-C, as scikit-learn's partial_fit loops can, for up to 120 s
            Path(os.environ["HPO_TEST_FITTING"]).write_text(str(os.getpid()))
            deadline, never = time.monotonic() + 120, threading.Event()
            while time.monotonic() < deadline:
                try:  # blocks until the deadline; a Ctrl-C is swallowed and it blocks again
                    never.wait(deadline - time.monotonic())
                except KeyboardInterrupt:
                    pass
            return super().fit(X, y, sample_weight)

    def build(params, input_shape, n_classes):
        kind = {1: Dies, 9: Stubborn}.get(params["k"], LogisticRegression)
        return kind(C=1.0, max_iter=30)
""")


def _model(tmp_path: Path, choices: str = "[0, 1, 2]") -> list[str]:
    (tmp_path / "dying.py").write_text(MODEL)
    (tmp_path / "space.yaml").write_text(f"k: {choices}\n")
    return ["--strategy", "grid", "-S", "order=fixed", "--model",
            f"{tmp_path / 'dying.py'}:build", "--space", str(tmp_path / "space.yaml"),
            "--no-final-test"]


def _rows(db: Path, study: str) -> dict[int, tuple]:
    """number -> (state, params, value, error, user_attrs) straight from the SQLite file."""
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT t.number, t.state, t.params, t.value, t.error, t.user_attrs FROM trials t "
            "JOIN studies s USING (study_id) WHERE s.name = ?", (study,)).fetchall()
    except sqlite3.OperationalError:  # the driver has not created the tables yet
        return {}
    finally:
        conn.close()
    return {r[0]: (r[1], json.loads(r[2]), r[3], r[4], json.loads(r[5])) for r in rows}


@pytest.mark.parametrize("how, died", [("exit", "exit code 7"), ("kill", "killed by signal 9"),
                                       ("segv", "killed by signal 11")])
def test_a_trial_that_kills_its_process_fails_alone_and_the_study_goes_on(tmp_path, how, died):
    db = tmp_path / "d.db"
    proc = run_cli(*_model(tmp_path), "--trials", "3", "--storage", db, "--study", "d",
                   env={"HPO_TEST_DEATH": how}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    said = [line for line in proc.stderr.splitlines() if "died" in line]
    assert len(said) == 1, proc.stderr
    assert re.fullmatch(rf"trial 1 \[2/3\] FAILED \(worker died: worker process \d+ died "
                        rf"\({died}\)\) best 0\.\d+ elapsed \d+s eta \d+s", said[0]), said[0]
    rows = _rows(db, "d")
    assert sorted(rows) == [0, 1, 2]
    assert [rows[n][1] for n in (0, 1, 2)] == [{"k": 0}, {"k": 1}, {"k": 2}]
    assert rows[0][0] == rows[2][0] == "COMPLETE" and rows[0][2] > 0.5 and rows[2][2] > 0.5
    assert rows[1][0] == "FAILED" and rows[1][2] is None
    assert re.fullmatch(rf"worker died: worker process \d+ died \({died}\)", rows[1][3])


def test_the_kept_worker_computes_what_the_driver_computes(tmp_path):
    """Same seed, same values and pruning decisions, in the kept worker and in the driver."""
    db = tmp_path / "same.db"
    args = ["--strategy", "random", "--seed", "0", "--trials", "4", "-B", "max_iter=6",
            "--pruner", "median", "--no-final-test", "--storage", db, "--json"]
    worker = run_cli(*args, "--study", "worker", timeout=300)
    driver = run_cli(*args, "--study", "driver", "--executor", "serial", timeout=300)
    assert worker.returncode == 0 and driver.returncode == 0, worker.stderr + driver.stderr

    def record(proc):
        return [(t["params"], t["state"], t["value"], t["intermediate"])
                for t in json.loads(proc.stdout)["trials"]]

    assert record(worker) == record(driver)
    assert [t[1] for t in record(worker)].count("COMPLETE") >= 2


def test_ctrl_c_during_a_trial_that_swallows_it_stops_at_once_with_130(tmp_path):
    db, fitting = tmp_path / "c.db", tmp_path / "fitting.pid"
    args = [HPO_RUN, *_model(tmp_path, "[0, 9, 2]"), "--storage", str(db), "--study", "c"]
    # its own session, so the test can Ctrl-C the whole process group, as a terminal does
    proc = popen_interruptible(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "HPO_TEST_FITTING": str(fitting)},
                               start_new_session=True)
    try:
        wait_until(lambda: any(r[0] == "RUNNING" and r[1] == {"k": 9}
                               for r in _rows(db, "c").values()), "the stubborn trial", proc)
        wait_until(lambda: fitting.exists() and fitting.read_text(), "its fit", proc)
        worker = int(fitting.read_text())
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)  # not a timing claim: the fit runs 120 s
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: 1 finished trials are stored in" in err
    assert "stopped: interrupted" in out
    rows = _rows(db, "c")
    assert rows[0][0] == "COMPLETE"
    assert rows[1][0] == "WAITING" and rows[1][3].startswith("interrupted (Ctrl-C)")
    assert 2 not in rows
    wait_until(lambda: not alive(worker), "exit of the worker", limit=60)


def test_a_driver_killed_while_its_trial_ran_in_the_worker_never_fails_it(tmp_path):
    """The kept worker cannot have killed the driver: a trial left RUNNING by SIGKILLed
    drivers is re-queued every time, and runs to its end once they let it."""
    db = tmp_path / "k.db"
    model, env, gate = gated_model.gated_run(tmp_path, after=0)  # every fit waits for go
    args = [HPO_RUN, "--strategy", "random", "--seed", "1", "--trials", "2", "--no-final-test",
            *model, "--storage", str(db), "--study", "k"]
    for _ in range(2):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_until(lambda: any(r[0] == "RUNNING" for r in _rows(db, "k").values()),
                       "a running trial", proc)
        finally:
            proc.kill()
            proc.wait()
    assert _rows(db, "k")[0][4] == {}  # no driver death is counted against it
    (gate / "go").touch()
    done = subprocess.run([*args, "--json"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    rows = _rows(db, "k")
    assert sorted(rows) == [0, 1] and all(r[0] == "COMPLETE" for r in rows.values())


DRIVER = """
import os, sys
import hpo_framework as hpo

def objective(params):
    if params["k"] == 1:
        os._exit(7)  # the trial takes its process, here the driver, with it
    return float(params["k"])

study = hpo.optimize(objective, {{"k": [0, 1, 2, 3]}}, strategy="grid", order="fixed",
                     n_trials=4, seed=0, storage={db!r}, study="twice")
print(len(study.finished_trials), study.best_value)
"""


def test_a_trial_that_kills_its_driver_twice_is_failed_and_the_study_goes_on(tmp_path):
    db, script = tmp_path / "t.db", tmp_path / "driver.py"
    script.write_text(DRIVER.format(db=str(db)))

    def drive():
        return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=300)

    first = drive()
    assert first.returncode == 7, first.stderr
    rows = _rows(db, "twice")
    assert [rows[n][0] for n in sorted(rows)] == ["COMPLETE", "RUNNING"]
    second = drive()  # the re-queued trial runs first, and kills the driver again
    assert second.returncode == 7, second.stderr
    rows = _rows(db, "twice")
    assert rows[1][:4] == ("RUNNING", {"k": 1}, None,
                           "re-queued: the driver stopped while this trial ran")
    assert rows[1][4] == {"driver_died": 1}
    third = drive()
    assert third.returncode == 0, third.stderr
    assert third.stdout.split() == ["4", "0.0"]
    rows = _rows(db, "twice")
    assert sorted(rows) == [0, 1, 2, 3]
    assert rows[1][:4] == ("FAILED", {"k": 1}, None, "the driver died twice while this trial ran")
    assert rows[1][4] == {"driver_died": 2}
    assert [(rows[n][0], rows[n][2]) for n in (0, 2, 3)] == \
        [("COMPLETE", 0.0), ("COMPLETE", 2.0), ("COMPLETE", 3.0)]
