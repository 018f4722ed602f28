"""Whatever breaks (a trial, a worker, the driver), no finished trial is lost."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import gated_model
import parallel_helpers
import pytest
from clitools import alive, popen_interruptible, wait_until

from hpo_framework import HPOError, optimize

HERE = Path(__file__).resolve().parent


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _rows(db: Path, study: str) -> dict[int, tuple]:
    """number -> (state, params, value, error) straight from the SQLite file."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT t.number, t.state, t.params, t.value, t.error FROM trials t "
            "JOIN studies s USING (study_id) WHERE s.name = ?", (study,)).fetchall()
    except sqlite3.OperationalError:  # the driver died before creating the tables
        return {}
    finally:
        conn.close()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def test_raising_nan_and_dying_trials_are_failed_with_their_reason():
    def objective(params):
        if params["n"] < 250:
            raise ValueError(f"bad n {params['n']}")
        if params["n"] < 500:
            return float("nan")
        if params["n"] < 600:
            os._exit(7)  # the worker process dies
        return params["x"]

    study = optimize(objective, parallel_helpers.SPACE, strategy="random", n_trials=16, n_jobs=2,
                     seed=5)
    assert len(study.finished_trials) == 16  # the study went on
    for t in study.trials:
        n = t.params["n"]
        if n < 250:
            assert t.state.value == "FAILED" and t.error == f"ValueError: bad n {n}"
        elif n < 500:
            assert t.state.value == "FAILED" and t.error == "objective returned nan"
        elif n < 600:
            assert t.state.value == "FAILED" and "died (exit code 7)" in t.error
        else:
            assert t.state.value == "COMPLETE" and t.value == t.params["x"]
    assert {t.state.value for t in study.trials} == {"FAILED", "COMPLETE"}


@pytest.mark.parametrize("retries", [0, 1])
def test_a_worker_killed_mid_trial(tmp_path, monkeypatch, retries):
    victim = tmp_path / "victim.pid"
    monkeypatch.setenv("HPO_TEST_VICTIM", str(victim))
    killed: list[int] = []
    thread = parallel_helpers.kill_when_ready(victim, killed)
    study = optimize(parallel_helpers.victim, parallel_helpers.SPACE, strategy="random",
                     n_trials=6, n_jobs=2, seed=2, retries=retries)
    thread.join(5)
    assert killed and not alive(killed[0])
    assert len(study.finished_trials) == 6
    hit = [t for t in study.trials if t.user_attrs.get("worker_lost")]
    assert len(hit) == 1
    trial = hit[0]
    if retries == 0:
        assert trial.state.value == "FAILED"
        assert trial.error == f"worker died: worker process {killed[0]} died (killed by signal 9)"
        assert sum(t.state.value == "COMPLETE" for t in study.trials) == 5
    else:  # re-run on a fresh worker, where it completes
        assert trial.state.value == "COMPLETE" and trial.attempts == 2
        assert trial.value == trial.params["x"] ** 2
        assert all(t.state.value == "COMPLETE" for t in study.trials)


def test_trial_timeout_stops_a_hanging_trial(tmp_path, monkeypatch):
    victim = tmp_path / "victim.pid"
    monkeypatch.setenv("HPO_TEST_VICTIM", str(victim))
    started = time.monotonic()
    study = optimize(parallel_helpers.victim, parallel_helpers.SPACE, strategy="random",
                     n_trials=5, n_jobs=2, seed=4, trial_timeout=1.5)
    assert time.monotonic() - started < 30  # the victim would hang for 120 s
    failed = [t for t in study.trials if t.state.value == "FAILED"]
    assert len(failed) == 1
    assert failed[0].error == "timeout: stopped after 1.5s (--trial-timeout)"
    assert 1.5 <= failed[0].duration < 10
    assert sum(t.state.value == "COMPLETE" for t in study.trials) == 4
    assert not alive(int(victim.read_text()))  # its worker was stopped


def test_trial_timeout_with_one_job_runs_the_trial_in_a_worker(tmp_path, monkeypatch):
    victim = tmp_path / "victim.pid"
    monkeypatch.setenv("HPO_TEST_VICTIM", str(victim))
    study = optimize(parallel_helpers.victim, parallel_helpers.SPACE, strategy="random",
                     n_trials=2, seed=4, trial_timeout=1.0)
    assert [t.state.value for t in study.trials] == ["FAILED", "COMPLETE"]
    assert int(victim.read_text()) != os.getpid()


@pytest.mark.parametrize("args, message", [
    (["--trial-timeout", "0"], "Error: --trial-timeout must be a positive number of seconds"),
    (["--retries", "-1"], "Error: --retries must be 0 or more"),
    (["--executor", "serial", "--trial-timeout", "5"],
     "Error: --trial-timeout (trial_timeout) needs trials outside the driver; executor "
     "'serial' runs them inside it: use the process executor, or leave the executor to the "
     "default"),
    (["--executor", "process", "--scheduler", "tcp://127.0.0.1:8786"],
     "Error: --scheduler is for --executor dask, not 'process'"),
])
def test_fault_options_are_checked_before_anything_is_written(tmp_path, cli_run, args, message):
    db = tmp_path / "f.db"
    proc = cli_run("--strategy", "random", "--trials", "2", "--storage", db, *args)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not db.exists()


@pytest.mark.slow
def test_ctrl_c_stops_running_trials_prints_the_summary_and_resumes(tmp_path):
    db = tmp_path / "c.db"
    # after two finished fits the model's fit waits for gate/go: the driver is held with
    # trials running until the test has interrupted it, however fast or loaded the machine
    model, env, gate = gated_model.gated_run(tmp_path)
    args = [str(Path(sys.executable).parent / "hpo-run"), "--strategy", "random", "--trials", "6",
            "--n-jobs", "2", "--seed", "0", "--no-final-test", "--storage", str(db),
            "--study", "ctrlc", *model]
    proc = popen_interruptible(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
    try:
        wait_until(lambda: _progressed(db, "ctrlc", 1), "two finished trials and a running one",
                   proc)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted:" in err and "run the same command to resume" in err
    assert "stopped: interrupted" in out  # the summary of what finished
    rows = _rows(db, "ctrlc")
    assert not [r for r in rows.values() if r[0] == "RUNNING"]
    waiting = [r for r in rows.values() if r[0] == "WAITING"]
    assert waiting and all(r[3].startswith("interrupted (Ctrl-C)") for r in waiting)
    done = {n: r for n, r in rows.items() if r[0] in ("COMPLETE", "FAILED")}
    assert workers
    wait_until(lambda: _all_gone(workers), "exit of the interrupted workers", limit=60)
    # the same command resumes: finished trials kept, interrupted ones run again
    (gate / "go").touch()
    again = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=300,
                           env=env)
    assert again.returncode == 0, again.stderr
    final = _rows(db, "ctrlc")
    assert len(final) == 6 and all(r[0] == "COMPLETE" for r in final.values())
    for n, r in done.items():
        assert final[n] == r
    assert len(json.loads(again.stdout)["trials"]) == 6


def _progressed(db: Path, study: str, finished_before: int) -> bool:
    """More finished trials than before, and one RUNNING: a driver mid-study."""
    if not db.exists():
        return False
    try:
        states = [r[0] for r in _rows(db, study).values()]
    except sqlite3.Error:  # the file is being created
        return False
    finished = sum(s in ("COMPLETE", "FAILED") for s in states)
    return finished > finished_before and "RUNNING" in states


def _all_gone(pids: list[int]) -> bool:
    return not [pid for pid in pids if alive(pid)]


@pytest.mark.slow
def test_sigkill_of_the_driver_mid_study_again_and_again_loses_no_finished_trial(tmp_path):
    """Kill the driver (SIGKILL) again and again; rerunning the same command resumes."""
    # a budget the 12 kills stop well short of (a kill follows the first new finished trial),
    # then the rerun finishes the study: 60 trials of 50-375 ms on 2 workers, not 120
    db, budget = tmp_path / "k.db", 60
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-c", "import sys, parallel_helpers as h; "
           "h.drive(sys.argv[1], int(sys.argv[2]), 2)", str(db), str(budget)]
    kept: dict[int, tuple] = {}
    requeued: dict[int, str] = {}
    workers: set[int] = set()
    cycles = 0
    while cycles < 12:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # kill on progress, never on a clock: once a new trial was recorded and another
        # runs (however slow the machine), so every kill hits a driver mid-study
        wait_until(lambda: _progressed(db, "killed", len(kept)), "progress", proc)
        workers.update(_children(proc.pid))
        proc.kill()
        proc.wait()
        cycles += 1
        rows = _rows(db, "killed")
        for n, row in kept.items():  # every trial that had finished is still there, unchanged
            assert rows[n] == row, f"cycle {cycles}: trial {n} changed: {row} -> {rows.get(n)}"
        kept.update({n: r for n, r in rows.items() if r[0] in ("COMPLETE", "FAILED")})
        requeued.update({n: r[1] for n, r in rows.items() if r[0] == "RUNNING"})
        assert len(kept) < budget, "the budget was reached before the last kill; kill sooner"
    assert len(kept) >= 10 and requeued  # the kills hit while trials ran
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(budget)
    final = _rows(db, "killed")
    assert sorted(final) == list(range(budget))  # the final count equals the budget
    assert all(r[0] == "COMPLETE" for r in final.values())
    for n, row in kept.items():
        assert final[n] == row
    for n, params in requeued.items():  # a trial left RUNNING ran again with its params
        assert final[n][1] == params
    assert workers
    # orphaned workers notice their driver is gone and exit
    wait_until(lambda: _all_gone(workers), "exit of the orphaned workers", limit=60)


class _DiesWhenUnpickled:
    """An objective whose unpickling kills the worker process before it is ready."""

    def __reduce__(self):
        return (os._exit, (3,))

    def __call__(self, params):
        return 0.0


def test_workers_that_die_at_start_up_stop_the_run_with_an_error():
    started = time.monotonic()
    with pytest.raises(HPOError, match=r"worker processes exit before they are ready "
                                       r"\(exit code 3\)"):
        optimize(_DiesWhenUnpickled(), parallel_helpers.SPACE, strategy="random", n_trials=4,
                 n_jobs=2, seed=0)
    assert time.monotonic() - started < 60  # no endless respawning
