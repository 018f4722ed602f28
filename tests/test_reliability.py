"""Nothing recorded is ever wrong: one driver per study, honest interrupts, and every bad
input a one-line error with nothing written (issue 9). Real processes, real SQLite."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import gated_model
import parallel_helpers
import pytest
from clitools import copy_storage, popen_interruptible, run_cli, wait_until

import hpo_framework as hpo
from hpo_framework import OptionError, TrialState, optimize

HERE = Path(__file__).resolve().parent
HPO_RUN = str(Path(sys.executable).parent / "hpo-run")
FAST = ["--strategy", "random", "--seed", "0", "--no-final-test", "-B", "max_iter=3"]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}


def _dump(db: Path) -> list[tuple]:
    """Every row of the studies and trials tables, straight from the file."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return (conn.execute("SELECT * FROM studies ORDER BY study_id").fetchall()
                + conn.execute("SELECT * FROM trials ORDER BY trial_id").fetchall())
    finally:
        conn.close()


def _rows(db: Path, study: str) -> dict[int, tuple]:
    if not db.exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    except sqlite3.OperationalError:  # the driver is creating it
        return {}
    try:
        rows = conn.execute(
            "SELECT t.number, t.state, t.params, t.value, t.error, t.datetime_complete "
            "FROM trials t JOIN studies s USING (study_id) WHERE s.name = ?", (study,)).fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        conn.close()
    return {r[0]: r[1:] for r in rows}


def _finished(rows: dict[int, tuple]) -> dict[int, tuple]:
    return {n: r for n, r in rows.items() if r[0] in ("COMPLETE", "FAILED", "PRUNED")}


@pytest.fixture(scope="module")
def _recorded_once(tmp_path_factory):
    """The finished study, run once for the module (two dozen tests read it)."""
    db = tmp_path_factory.mktemp("recorded") / "hpo.db"
    run_cli(*FAST, "--trials", "2", "--storage", db, "--study", "kept", "--json", check=True)
    return db


@pytest.fixture
def recorded(tmp_path, _recorded_once):
    """A storage file that already holds a finished study (nothing may change it): each
    test's own copy of the module's one run, so what one test does to it no other sees."""
    return copy_storage(_recorded_once, tmp_path / "hpo.db")


# one driver per study --------------------------------------------------------------
@pytest.mark.slow
def test_a_second_cli_driver_is_refused_and_a_killed_ones_lease_is_taken_over(tmp_path):
    db = tmp_path / "c.db"
    # the first driver finishes two trials, then its third waits (the gate) until killed
    model, env, gate = gated_model.gated_run(tmp_path)
    args = [HPO_RUN, *FAST[:-2], *model, "--storage", str(db), "--study", "same"]
    first = subprocess.Popen([*args, "--trials", "400"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_until(lambda: len(_finished(_rows(db, "same"))) >= 2 and any(
            r[0] == "RUNNING" for r in _rows(db, "same").values()),
            "two finished trials and a running one", first)
        second = subprocess.run([*args, "--trials", "400"], capture_output=True, text=True,
                                timeout=300, env=env)
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert lines[0].startswith(f"Error: study 'same' in {db} is being run by pid "
                                   f"{first.pid} on ")
        assert "wait for it to finish, or run trials in parallel from one driver with " \
               "--n-jobs N" in lines[0]
        assert first.poll() is None  # the first driver never noticed
        first.kill()
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    kept = _finished(_rows(db, "same"))
    running = {n for n, r in _rows(db, "same").items() if r[0] == "RUNNING"}
    # its process is gone: the next driver takes the lease over at once and re-runs
    # the trial the killed one left RUNNING; nothing it had finished changes
    (gate / "go").touch()
    third = subprocess.run([*args, "--trials", str(len(kept) + 2), "--json"],
                           capture_output=True, text=True, timeout=300, env=env)
    assert third.returncode == 0, third.stderr
    final = _rows(db, "same")
    for n, row in kept.items():
        assert final[n] == row
    assert running and all(final[n][0] == "COMPLETE" for n in running)


@pytest.mark.slow
def test_two_optimize_processes_on_one_study_never_rewrite_a_result(tmp_path):
    db, go = tmp_path / "h.db", tmp_path / "go"
    env = {**ENV, "HPO_TEST_GO": str(go)}
    cmd = [sys.executable, "-c", "import sys, parallel_helpers as h; "
           "h.drive_blocking(sys.argv[1], int(sys.argv[2]))", str(db), "3"]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        wait_until(lambda: list(tmp_path.glob("running-*")), "a running trial", first)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 1
        assert f"hpo_framework.errors.StudyLockedError: study 'held' in {db} is being run by " \
               f"pid {first.pid}" in second.stderr
        go.touch()
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert out.strip() == "3"
    rows = _rows(db, "held")
    assert sorted(rows) == [0, 1, 2] and all(r[0] == "COMPLETE" for r in rows.values())


def test_the_same_process_may_take_its_lease_over_and_the_old_study_stops_writing(tmp_path):
    """A notebook cell run again opens the study anew; the older Study object is then a
    second driver and can write nothing more."""
    db = tmp_path / "a.db"
    space = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
    study = hpo.create_study(space, strategy="random", storage=db, name="mine", seed=1)
    trial = study.ask()
    study.tell(trial, 0.5)
    again = hpo.create_study(space, strategy="random", storage=db, name="mine")
    assert [(t.number, t.state, t.value) for t in again.trials] == [(0, TrialState.COMPLETE, 0.5)]
    with pytest.raises(hpo.StudyLockedError, match="trial 1 not written: another driver took "
                                                   "over study 1"):
        study.ask()
    fresh = again.ask()
    again.tell(fresh, 0.25)
    assert [r[0] for r in _rows(db, "mine").values()] == ["COMPLETE", "COMPLETE"]
    again.close()
    study.close()


def test_a_finished_trial_is_never_written_again(tmp_path):
    study = hpo.create_study({"x": [1, 2, 3]}, strategy="random", storage=tmp_path / "f.db",
                             name="f", seed=0)
    trial = study.ask()
    study.tell(trial, 1.0)
    trial.value = 99.0
    with pytest.raises(hpo.StorageError, match="trial 0 of study 1 is already COMPLETE; a "
                                               "finished trial is never rewritten"):
        study.storage.update_trial(study.record.study_id, trial)
    with pytest.raises(hpo.HPOError, match="trial 0 of study 'f' is COMPLETE, not RUNNING"):
        study.tell(trial, 2.0)
    assert _rows(tmp_path / "f.db", "f")[0][2] == 1.0
    study.close()


# honest interrupts ---------------------------------------------------------------------
def test_ctrl_c_swallowed_by_the_training_library_still_stops_a_serial_study():
    """scikit-learn's partial_fit catches KeyboardInterrupt and returns: the trial must not
    be recorded COMPLETE with a cut-short score."""
    calls = []

    def objective(params):
        calls.append(params)
        if len(calls) == 2:
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass  # what the library does ("Training interrupted by user")
        return params["x"]

    study = hpo.create_study({"x": {"type": "float", "low": 0, "high": 1}}, strategy="random",
                             seed=0)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=5)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.WAITING]
    assert study.trials[1].error == "interrupted (Ctrl-C); it runs again when the study resumes"
    study.close()


@pytest.mark.slow
def test_ctrl_c_during_a_serial_sklearn_trial_exits_130_and_resumes(tmp_path):
    db = tmp_path / "s.db"
    # the first trial's fit waits at the gate: Ctrl-C lands while it runs, on any machine
    model, env, gate = gated_model.gated_run(tmp_path, after=0)
    args = [HPO_RUN, "--strategy", "random", "--trials", "3", "--seed", "2", "--no-final-test",
            *model, "--storage", str(db), "--study", "s"]
    proc = popen_interruptible(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
    try:
        wait_until(lambda: any(r[0] == "RUNNING" for r in _rows(db, "s").values()), "a running trial",
              proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "stopped: interrupted" in out
    rows = _rows(db, "s")
    assert not [r for r in rows.values() if r[0] == "RUNNING"]
    assert len(_finished(rows)) < 3
    (gate / "go").touch()
    again = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0, again.stderr
    assert len(_finished(_rows(db, "s"))) == 3


# runs that used to get stuck or die ---------------------------------------------------
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_sys_exit_and_huge_numbers_fail_their_trial_and_the_study_goes_on(n_jobs):
    def objective(params):
        if params["x"] < 0.3:
            sys.exit(4)
        if params["x"] < 0.6:
            return 10 ** 400
        return params["x"]

    study = optimize(objective, {"x": {"type": "float", "low": 0, "high": 1}}, strategy="random",
                     n_trials=12, seed=3, n_jobs=n_jobs)
    assert len(study.finished_trials) == 12
    for t in study.trials:
        if t.params["x"] < 0.3:
            assert (t.state, t.error) == (TrialState.FAILED, "the objective called sys.exit(4)")
        elif t.params["x"] < 0.6:
            assert (t.state, t.error) == (TrialState.FAILED,
                                          "objective returned a number too large for a float")
        else:
            assert (t.state, t.value) == (TrialState.COMPLETE, t.params["x"])


def test_workers_killed_while_starting_are_replaced_and_the_study_goes_on(tmp_path):
    count = tmp_path / "deaths"
    objective = parallel_helpers.DiesAtStart(str(count), 3)
    study = optimize(objective, parallel_helpers.SPACE, strategy="random", n_trials=4, n_jobs=2,
                     seed=0)
    assert count.read_text() == "xxx"  # three workers were killed while they started
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4


def test_a_run_where_no_trial_completes_exits_non_zero(tmp_path):
    model = tmp_path / "m.py"
    model.write_text("import sys\n\ndef build(params):\n    sys.exit(3)\n")
    proc = run_cli(*FAST, "--trials", "2", "--model", f"{model}:build", "--storage",
                   tmp_path / "x.db", "--space", _space(tmp_path, "alpha: [0.1, 0.2]\n"))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "Error: no trial of study 'random-sklearn-digits' completed; see their errors above "
        "(hpo-run report shows them too)")
    rows = _rows(tmp_path / "x.db", "random-sklearn-digits")
    assert [r[:1] + r[3:4] for r in rows.values()] == [
        ("FAILED", "the objective called sys.exit(3)")] * 2


def _space(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


# every bad input: one line, exit 1, nothing written ------------------------------------
BAD = [
    (["--timeout", "-5"], "--timeout must be a positive number of seconds, got -5.0"),
    (["--timeout", "nan"], "--timeout must be a positive number of seconds, got nan"),
    (["--trial-timeout", "nan"], "--trial-timeout must be a positive number of seconds, got nan"),
    (["--trial-timeout", "inf"], "--trial-timeout must be at most 1e+09 seconds, got inf"),
    (["--timeout", "1e300", "--n-jobs", "2"], "--timeout must be at most 1e+09 seconds"),
    (["--n-jobs", "0"], "--n-jobs must be at least 1, got 0"),
    (["--n-jobs", "-3"], "--n-jobs must be at least 1, got -3"),
    (["--seed", "-1"], "--seed must be from 0 to 4294967295, got -1"),
    (["--seed", "99999999999"], "--seed must be from 0 to 4294967295, got 99999999999"),
    (["--evaluator", "kfold", "-E", "folds=100000"],
     "evaluator 'kfold': folds=100000 is more than the"),
    (["--evaluator", "kfold", "-E", "folds=300"],
     "evaluator 'kfold': folds=300 is more than the 139 rows of the smallest class; use at most 139 folds, or -E stratify=false"),
    (["--model", ".:build"], "--model: '.' is not a module name"),
    (["--model", "..good:build"], "--model: '..good' is not a module name"),
    (["--scheduler", "http://127.0.0.1:8787"],
     "executor 'dask': scheduler address 'http://127.0.0.1:8787' must look like tcp://HOST:PORT"),
    (["--save-model", "/nonexistent/m.joblib"],
     "--save-model /nonexistent/m.joblib: the directory /nonexistent does not exist"),
    (["--study", "a\tb"], "--study must be 1 to 200 printable characters"),
    (["--pruner", "nosuch"], "unknown pruner 'nosuch'"),
    (["-P", "min_resource=1"], "--pruner-option (pruner_options) needs --pruner NAME"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_changes_nothing(recorded, args, message):
    before = _dump(recorded)
    proc = run_cli(*FAST, "--trials", "2", "--storage", recorded, *args)
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: ") and message in lines[0], lines[0]
    assert proc.stdout == ""
    assert _dump(recorded) == before


def test_an_output_path_under_a_file_is_refused_before_any_trial(recorded, tmp_path):
    (tmp_path / "afile").write_text("x")
    before = _dump(recorded)
    proc = run_cli(*FAST, "--trials", "3", "--storage", recorded, "--output",
                   tmp_path / "afile" / "sub")
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"Error: --output {tmp_path}/afile/sub: {tmp_path}/afile is a "
                                   "file, not a directory")
    assert _dump(recorded) == before


def test_a_misspelled_parameter_is_found_before_anything_is_written(tmp_path):
    space = _space(tmp_path, "learnin_rate_init: {type: float, low: 0.001, high: 0.1}\n")
    proc = run_cli(*FAST, "--trials", "2", "--space", space, "--storage", tmp_path / "m.db")
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "Error: the space has parameter 'learnin_rate_init', which backend 'sklearn' does not "
        "use: did you mean 'learning_rate_init'? (or give --model for your own model)")
    assert not (tmp_path / "m.db").exists()


def test_a_non_utf8_study_name_is_one_line(tmp_path):
    proc = subprocess.run([HPO_RUN.encode(), *[a.encode() for a in FAST], b"--storage",
                           str(tmp_path / "u.db").encode(), b"--study", b"caf\xff"],
                          capture_output=True, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.decode().strip() == "Error: --study must be valid UTF-8 text; pick " \
                                           "another name"
    assert not (tmp_path / "u.db").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"seed": -1}, "seed must be from 0 to 4294967295, got -1"),
    ({"timeout": float("nan")}, "--timeout must be a positive number of seconds, got nan"),
    ({"n_jobs": 0}, "--n-jobs must be at least 1, got 0"),
    ({"trial_timeout": float("inf")}, "--trial-timeout must be at most 1e+09 seconds, got inf"),
    ({"pruner": "median"}, "pruner 'median' needs an objective(params, trial) that calls "
                           "trial.report(value, step); this objective takes one argument"),
])
def test_optimize_refuses_the_same_bad_settings_and_writes_nothing(tmp_path, kwargs, message):
    db = tmp_path / "o.db"
    with pytest.raises(OptionError) as info:
        optimize(lambda p: p["x"], {"x": [1, 2]}, strategy="random", n_trials=2, storage=db,
                 **kwargs)
    assert message in str(info.value)
    assert not db.exists()


# storage that cannot be used ---------------------------------------------------------
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_programs_sqlite_file_is_refused_without_touching_it(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (t TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    digest = _sha(other)
    for args in (["--storage", other], ["report", "--storage", other]):
        proc = run_cli(*(FAST if args[0] == "--storage" else []), *args)
        assert proc.returncode == 1
        assert proc.stderr.strip() == (f"Error: {other} is an SQLite file of something else; it "
                                       "was not touched: use another --storage")
    assert _sha(other) == digest
    conn = sqlite3.connect(other)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    conn.close()


def test_report_on_an_empty_file_writes_nothing(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    proc = run_cli("report", "--storage", empty)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"Error: {empty} holds no hpo studies yet"
    assert empty.stat().st_size == 0


@pytest.mark.parametrize("sql, message", [
    ("UPDATE trials SET params = '{bad' WHERE number = 0", "trial 0 of study 1 in {db} is "
     "damaged (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ("UPDATE trials SET state = 'BOGUS' WHERE number = 1", "trial 1 of study 1 in {db} is "
     "damaged ('BOGUS' is not a valid TrialState)"),
    ("UPDATE meta SET value = 'x' WHERE key = 'schema_version'",
     "{db} has a damaged schema version ('x'); it was not touched"),
])
def test_hand_corrupted_rows_are_one_line_in_run_and_report(recorded, sql, message):
    conn = sqlite3.connect(recorded)
    conn.execute(sql)
    conn.commit()
    conn.close()
    before = _dump(recorded)
    expected = "Error: " + message.format(db=recorded)
    run = run_cli(*FAST, "--trials", "3", "--storage", recorded, "--study", "kept")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1].startswith(expected), run.stderr
    report = run_cli("report", "--storage", recorded, "--study", "kept")
    assert report.returncode == 1
    assert report.stderr.strip().splitlines()[-1].startswith(expected), report.stderr
    assert _dump(recorded) == before


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A real 1 MiB filesystem (tmpfs) to fill up; skipped where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_stops_the_run_with_one_line_and_keeps_what_was_written(tiny_filesystem):
    db = tiny_filesystem / "full.db"
    proc = subprocess.Popen([HPO_RUN, *FAST[:-1], "max_iter=1", "--trials", "100000",
                             "--storage", str(db), "--study", "full"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(_finished(_rows(db, "full"))) >= 3, "three finished trials", proc)
        with open(tiny_filesystem / "filler", "wb") as fh:  # take every byte that is left
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"Error: cannot write {db}: database or disk is full ("), err
    assert last.endswith("trials already written stay); free some space and run the same "
                         "command to resume"), err
    assert "Traceback" not in err
    (tiny_filesystem / "filler").unlink()
    kept = _finished(_rows(db, "full"))
    assert len(kept) >= 3 and all(r[0] == "COMPLETE" for r in kept.values())


def test_a_study_named_with_a_comma_can_be_reported(tmp_path):
    db = tmp_path / "c.db"
    run_cli(*FAST, "--trials", "1", "--storage", db, "--study", "a,b", "--json", check=True)
    proc = run_cli("report", "--storage", db, "--study", "a,b", "--json", check=True)
    assert json.loads(proc.stdout)["study"] == "a,b"


def test_a_read_only_filesystem_is_read_by_report_and_refused_by_a_run(tiny_filesystem):
    db = tiny_filesystem / "ro.db"
    run_cli(*FAST, "--trials", "2", "--storage", db, "--study", "ro", "--json", check=True)
    before = _dump(db)
    done = subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = run_cli("report", "--storage", db, "--study", "ro", "--json", check=True)
    assert json.loads(report.stdout)["trials"] == 2
    run = run_cli(*FAST, "--trials", "3", "--storage", db, "--study", "ro")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"Error: {db} is read-only: give --storage a file you can write")
    assert _dump(db) == before
