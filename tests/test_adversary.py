"""Bad input and faults, as an adversary tries them (issue 23): nothing records wrong data,
loses it without a word, or ends in a traceback. Each case asserts the one line, the exit
status and what the storage file holds after; tests wait for events, never for a time."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import gated_model
import numpy as np
import pytest
from clitools import BIN, popen_interruptible, run_cli, wait_until

import hpo_framework as hpo
from hpo_framework import TrialState

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
MODEL = '''
def build(params, **shapes):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=params["C"], max_iter=100)
'''


# helpers ----------------------------------------------------------------------------------
def _rows_so_far(db: Path, study: str) -> list[tuple]:
    """:func:`_rows` of a file a driver may still be creating: none until its tables are."""
    try:
        return _rows(db, study)
    except sqlite3.OperationalError:  # not there yet, or its schema not yet written
        return []


def _rows(db: Path, study: str | None = None) -> list[tuple]:
    """(study, number, state, value, error) straight from the file, read-only."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT s.name, t.number, t.state, t.value, t.error FROM trials t JOIN studies s "
            "USING (study_id) WHERE ? IS NULL OR s.name = ? ORDER BY s.name, t.number",
            (study, study)).fetchall()
    finally:
        conn.close()


def _last_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr.strip().splitlines()[-1]


@pytest.fixture
def tiny(tmp_path: Path) -> list[str]:
    """hpo-run options of a fast job: a logistic regression on 120 iris rows."""
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    np.savez(tmp_path / "tiny.npz", x_train=x[order[:120]], y_train=y[order[:120]],
             x_test=x[order[120:]], y_test=y[order[120:]])
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "space.json").write_text(json.dumps(
        {"C": {"type": "float", "low": 0.01, "high": 10, "log": True}}))
    return ["--backend", "sklearn", "--dataset", "file", "--data-path", str(tmp_path / "tiny.npz"),
            "--model", f"{tmp_path / 'model.py'}:build", "--space", str(tmp_path / "space.json"),
            "--strategy", "random", "--seed", "0", "--no-final-test"]


# wrong or lost data -------------------------------------------------------------------------
def _arrays(**change):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.normal(size=(60, 4)), "y_train": np.arange(60) % 2,
              "x_test": rng.normal(size=(10, 4)), "y_test": np.arange(10) % 2}
    return {**arrays, **change}


BAD_DATA = {
    "rows": (_arrays(y_train=np.arange(50) % 2),
             "x_train has 60 rows but y_train has 50; each row needs exactly one label"),
    "features": (_arrays(x_test=np.zeros((10, 5))),
                 "x_train rows have shape (4,) but x_test rows (5,); both need the same "
                 "features"),
    "labels": (_arrays(y_test=np.arange(10) % 3),
               "y_test has labels the training set never has (2); a model cannot learn them"),
    "empty-test": (_arrays(x_test=np.zeros((0, 4)), y_test=np.zeros(0)),
                   "x_test has no rows; the test set needs at least one"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_a_data_file_is_checked_when_it_is_loaded_before_anything_is_written(tmp_path, case):
    arrays, why = BAD_DATA[case]
    data, db = tmp_path / f"{case}.npz", tmp_path / "d.db"
    np.savez(data, **arrays)
    proc = run_cli("--backend", "sklearn", "--dataset", "file", "--data-path", data,
                   "--trials", "2", "--storage", db)
    assert proc.returncode == 1
    assert _last_line(proc) == f"Error: {data}: {why}"
    assert not db.exists()
    with pytest.raises(hpo.DatasetError) as err:  # any dataset plugin's arrays, too
        hpo.Dataset("mine", **arrays)
    assert str(err.value) == f"dataset 'mine': {why}"


def test_a_trial_is_told_only_to_the_study_that_asked_it(tmp_path):
    db = tmp_path / "ab.db"
    a = hpo.create_study(SPACE, strategy="random", storage=db, name="A", seed=0)
    b = hpo.create_study(SPACE, strategy="random", storage=db, name="B", seed=1)
    ta, tb = a.ask(), b.ask()
    assert ta.number == tb.number == 0
    with pytest.raises(hpo.HPOError) as err:
        a.tell(tb, 123.0)
    assert str(err.value) == ("trial 0 was not asked from study 'A' (another study, or another "
                              "opening of this one, asked it): tell it to the study that asked it")
    with pytest.raises(hpo.HPOError) as err:
        a.tell(object(), 1.0)
    assert str(err.value) == "tell() takes a trial from ask() (or its number), not object"
    assert _rows(db) == [("A", 0, "RUNNING", None, None), ("B", 0, "RUNNING", None, None)]
    b.tell(tb, 0.25)
    a.tell(ta, 0.5)
    assert _rows(db) == [("A", 0, "COMPLETE", 0.5, None), ("B", 0, "COMPLETE", 0.25, None)]
    a.close()
    b.close()


@pytest.mark.parametrize("value, error", [
    ({"value": "0.5"}, "objective returned str '0.5', not a number"),
    (True, "objective returned bool True, not a number"),
    (np.bool_(False), "objective returned bool np.False_, not a number"),
])
def test_strings_and_bools_are_not_numbers(tmp_path, value, error):
    db = tmp_path / "n.db"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no trial completed: said below
        study = hpo.optimize(lambda p: value, SPACE, strategy="random", n_trials=2, seed=0,
                             storage=db, study="n")
    assert [(t.state, t.value, t.error) for t in study.trials] == [(TrialState.FAILED, None,
                                                                    error)] * 2
    assert _rows(db, "n") == [("n", 0, "FAILED", None, error), ("n", 1, "FAILED", None, error)]


def test_tell_of_a_string_or_a_bool_is_failed(tmp_path):
    study = hpo.create_study(SPACE, strategy="random", storage=tmp_path / "t.db", name="t")
    assert study.tell(study.ask(), "0.5").error == "str '0.5' was told, not a number"
    assert study.tell(study.ask(), True).error == "bool True was told, not a number"
    assert study.tell(study.ask(), np.float32(0.25)).value == 0.25  # numpy numbers are numbers
    assert [r[2:4] for r in _rows(tmp_path / "t.db")] == [("FAILED", None), ("FAILED", None),
                                                          ("COMPLETE", 0.25)]
    study.close()


def test_a_storage_file_deleted_while_a_driver_runs_stops_it_saying_the_results_are_lost(
        tmp_path, tiny):
    db = tmp_path / "del.db"
    gated, env, gate = gated_model.gated_run(tmp_path, after=2)
    args = [*tiny[:6], *gated, "--strategy", "random", "--seed", "0", "--no-final-test"]
    driver = subprocess.Popen([str(BIN / "hpo-run"), *args, "--trials", "6", "--storage", str(db),
                               "--study", "D"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: [r[2] for r in _rows_so_far(db, "D")] ==
                   ["COMPLETE", "COMPLETE", "RUNNING"], "two trials done, the third held",
                   proc=driver)
        db.unlink()
        (gate / "go").touch()
        out, err = driver.communicate(timeout=300)
    finally:
        (gate / "go").touch()
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 1
    assert "Traceback" not in err and "is stored in" not in out
    assert err.strip().splitlines()[-1] == (
        f"Error: {db} was deleted or replaced while this driver wrote to it: the 3 trials it "
        "held are lost; this driver stops and writes nothing more")
    assert not db.exists()  # and no new, empty file in its place


def test_optimize_stops_when_its_storage_file_is_deleted(tmp_path):
    db = tmp_path / "gone.db"
    calls = []

    def objective(params):
        calls.append(params)
        if len(calls) == 3:
            db.unlink()
        return params["x"]

    with pytest.raises(hpo.StorageError) as err:
        hpo.optimize(objective, SPACE, strategy="random", n_trials=10, storage=db, study="g")
    assert str(err.value) == (f"{db} was deleted or replaced while this driver wrote to it: the "
                              "3 trials it held are lost; this driver stops and writes nothing "
                              "more")
    assert len(calls) == 3 and not db.exists()


def test_a_closed_study_asks_and_tells_nothing(tmp_path):
    db = tmp_path / "c.db"
    study = hpo.create_study(SPACE, strategy="random", storage=db, name="c", seed=0)
    trial = study.ask()
    study.close()
    for call, what in ((study.ask, "ask for trials"),
                       (lambda: study.tell(trial, 1.0), "record trials")):
        with pytest.raises(hpo.HPOError) as err:
            call()
        assert str(err.value) == (f"study 'c' is closed (its lease was given back), so it cannot "
                                  f"{what}: open it again with create_study(..., name='c') to go "
                                  "on")
    assert _rows(db) == [("c", 0, "RUNNING", None, None)]


@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_json_puts_one_object_on_stdout_whatever_trials_print(tmp_path, tiny, n_jobs):
    noisy = tmp_path / "noisy.py"
    noisy.write_text("print('imported')\n" + MODEL.replace(
        "    from sklearn", "    import os\n    print('building', params)\n"
                           "    os.write(1, b'native write\\n')\n    from sklearn"))
    args = [a if not a.endswith("model.py:build") else f"{noisy}:build" for a in tiny]
    proc = run_cli(*args, "--trials", "2", "--n-jobs", n_jobs, "--json",
                   "--storage", tmp_path / "j.db")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # the whole of stdout is the one object
    assert [t["state"] for t in result["trials"]] == ["COMPLETE", "COMPLETE"]
    assert proc.stderr.count("native write") == 2 and proc.stderr.count("building") == 2


# tracebacks, hangs, wrong words ---------------------------------------------------------------
def test_a_damaged_value_cell_is_the_damaged_row_line(tmp_path, tiny):
    db = tmp_path / "v.db"
    assert run_cli(*tiny, "--trials", "2", "--storage", db, "--study", "v").returncode == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE trials SET value = 'abc' WHERE number = 1")
    conn.commit()
    conn.close()
    line = (f"Error: trial 1 of study 1 in {db} is damaged (value is str 'abc', not a number); "
            "nothing was changed: repair or remove that row, or use another --storage")
    for args in (("report", "--storage", db, "--study", "v"),
                 (*tiny, "--trials", "3", "--storage", db, "--study", "v")):
        proc = run_cli(*args)
        assert proc.returncode == 1
        assert _last_line(proc) == line
    rows = _rows(db)  # as they were: nothing was rewritten
    assert [r[2] for r in rows] == ["COMPLETE", "COMPLETE"] and rows[1][3] == "abc"


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_dashboard_port_out_of_range_is_one_line(tmp_path, port):
    proc = run_cli("dashboard", "--port", port, "--storage", tmp_path / "none.db")
    assert proc.returncode == 1
    assert _last_line(proc) == f"Error: --port must be from 0 to 65535 (0: any free port), got {port}"


@pytest.mark.parametrize("args, line", [
    (("--trials", "100000000000"), "--trials must be at most 1000000, got 100000000000"),
    (("--retries", "1000000000"), "--retries must be at most 100, got 1000000000"),
    (("--n-jobs", "100000", "--trials", "2"),
     f"--n-jobs must be at most {4 * (os.cpu_count() or 1)} on this machine (4 per CPU core), "
     "got 100000; for more, run trials on a cluster (--executor dask)"),
])
def test_budgets_and_workers_are_bounded(tmp_path, args, line):
    proc = run_cli(*args, "--storage", tmp_path / "b.db")
    assert proc.returncode == 1
    assert _last_line(proc) == f"Error: {line}"
    assert not (tmp_path / "b.db").exists()


def test_never_more_workers_than_trials():
    from hpo_framework.study.settings import RunSettings

    cap = 4 * (os.cpu_count() or 1)
    assert RunSettings(n_trials=2, n_jobs=cap).workers(None) == 2
    assert RunSettings(n_trials=1, n_jobs=2).workers(None) == 2  # still workers
    assert RunSettings(n_trials=None, n_jobs=cap).workers("process") == cap
    assert RunSettings(n_trials=2, n_jobs=10 * cap).workers("dask") == 2  # a cluster: unbounded


def test_the_api_bounds_workers_and_budgets_as_the_cli_does(tmp_path):
    import hpo_framework as hpo

    cap = 4 * (os.cpu_count() or 1)
    with pytest.raises(hpo.OptionError) as err:
        hpo.optimize(lambda p: p["x"], {"x": [1, 2]}, strategy="random", n_trials=2,
                     n_jobs=100000, storage=tmp_path / "j.db")
    assert str(err.value) == (f"--n-jobs must be at most {cap} on this machine (4 per CPU "
                              "core), got 100000; for more, run trials on a cluster "
                              "(--executor dask)")
    with pytest.raises(hpo.OptionError, match="--trials must be at most 1000000, got 10000000"):
        hpo.optimize(lambda p: p["x"], {"x": [1, 2]}, strategy="random", n_trials=10**7)
    assert not (tmp_path / "j.db").exists()


@pytest.mark.parametrize("body, how", [
    ("import os\nos._exit(9)\n", "exit status 9"),
    ("import ctypes\nctypes.string_at(0)\n", "signal SIGSEGV"),
])
def test_a_model_file_that_ends_the_process_at_import_is_named(tmp_path, tiny, body, how):
    bad = tmp_path / "bad.py"
    bad.write_text(body)
    args = [a if not a.endswith("model.py:build") else f"{bad}:build" for a in tiny]
    proc = run_cli(*args, "--trials", "2", "--storage", tmp_path / "m.db")
    assert proc.returncode == 1
    assert _last_line(proc) == (f"Error: --model: importing {bad} ended the process ({how}); "
                                "nothing was run: fix what that file does when it is imported")
    assert not (tmp_path / "m.db").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 400 KiB tmpfs mounted for the test (a real read-only or full filesystem)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs",
                                            str(mnt)], capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


def test_a_read_only_filesystem_says_so(small_disk, tiny):
    db = small_disk / "ro.db"
    assert run_cli(*tiny, "--trials", "1", "--storage", db, "--study", "r").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    proc = run_cli(*tiny, "--trials", "2", "--storage", db, "--study", "r")
    assert proc.returncode == 1
    assert _last_line(proc) == f"Error: {db} is read-only: give --storage a file you can write"
    report = run_cli("report", "--storage", db, "--study", "r", "--json")
    assert report.returncode == 0 and json.loads(report.stdout)["trials"] == 1
    assert sorted(p.name for p in small_disk.iterdir()) == ["ro.db"]


def test_a_full_disk_says_so_and_keeps_what_was_written(small_disk, tiny):
    db = small_disk / "full.db"
    assert run_cli(*tiny, "--trials", "1", "--storage", db, "--study", "f").returncode == 0
    kept = _rows(db)
    with open(small_disk / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass  # the disk is full
    line = ("database or disk is full; free some space and run the same command to resume")
    proc = run_cli(*tiny, "--trials", "3", "--storage", db, "--study", "f")
    assert proc.returncode == 1
    assert _last_line(proc) == f"Error: cannot write {db}: {line}"
    assert _rows(db) == kept
    fresh = small_disk / "new.db"
    proc = run_cli(*tiny, "--trials", "3", "--storage", fresh)
    assert _last_line(proc) == f"Error: cannot write {fresh}: {line}"
    assert not fresh.exists()  # no empty file left behind


def test_ctrl_c_while_starting_exits_130(tmp_path, tiny):
    mark = tmp_path / "importing"
    slow = tmp_path / "slow.py"
    # the import says it has begun, then blocks until a signal ends the process
    slow.write_text("import os, pathlib, threading\n"
                    "pathlib.Path(os.environ['HPO_TEST_MARK']).touch()\n"
                    "threading.Event().wait()\n")
    args = [a if not a.endswith("model.py:build") else f"{slow}:build" for a in tiny]
    driver = popen_interruptible([str(BIN / "hpo-run"), *args, "--trials", "2", "--n-jobs", "2",
                                  "--storage", str(tmp_path / "i.db")],
                                 env={**os.environ, "HPO_TEST_MARK": str(mark)},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(mark.exists, "the model's import under way", proc=driver)
        driver.send_signal(signal.SIGINT)
        out, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130
    assert "Aborted!" not in err and "Traceback" not in err
    assert err.strip().splitlines()[-1] == ("interrupted (Ctrl-C); nothing recorded is lost: run "
                                            "the same command to go on")
    assert not (tmp_path / "i.db").exists()


def test_optimize_refuses_what_is_not_an_objective_up_front(tmp_path):
    with pytest.raises(hpo.OptionError) as err:
        hpo.optimize(5, SPACE, strategy="random", n_trials=3, storage=tmp_path / "o.db")
    assert str(err.value) == ("optimize() needs an objective function, objective(params) -> "
                              "float, as its first argument; got int")
    assert not (tmp_path / "o.db").exists()


def test_optimize_warns_with_the_first_error_when_no_trial_completed():
    def objective(params):
        raise ValueError(f"boom {len(seen)}")

    seen: list = []
    with pytest.warns(RuntimeWarning) as caught:
        study = hpo.optimize(objective, SPACE, strategy="random", n_trials=3, study="f")
    assert [str(w.message) for w in caught] == [
        "no trial of study 'f' completed (3 FAILED); the first error: ValueError: boom 0"]
    assert study.best_value is None


def test_a_scheduler_nothing_answers_leaves_no_study(tmp_path, tiny):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    db = tmp_path / "s.db"
    proc = run_cli(*tiny, "--trials", "1", "--storage", db, "--scheduler",
                   f"tcp://127.0.0.1:{port}", "-X", "connect_timeout=1")
    assert proc.returncode == 1
    assert _last_line(proc) == (f"Error: executor 'dask': no workers at tcp://127.0.0.1:{port}: no "
                                "scheduler answers there (Connection refused); nothing was "
                                "written")
    assert not db.exists()


# the dashboard --------------------------------------------------------------------------------
def _dashboard(db: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([str(BIN / "hpo-run"), "dashboard", "--storage", str(db), "--port",
                             "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # the address, printed before it serves
    assert line.startswith("dashboard: "), proc.stderr.read()
    return proc, line.split()[1]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_dashboard_creates_no_file_and_names_a_damaged_row(tmp_path):
    db = tmp_path / "dash.db"
    study = hpo.optimize(lambda p: p["x"], SPACE, strategy="random", n_trials=3, seed=0,
                         storage=db, study="d")
    study.storage.close()  # its last connection: SQLite removes the -wal and -shm files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dash.db"]
    conn = sqlite3.connect(db)
    conn.execute("UPDATE trials SET value = 'abc' WHERE number = 2")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    proc, url = _dashboard(db)
    try:
        status, body = _get(url + "api/studies/d/trials")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert status == 404
    assert body == {"error": f"trial 2 of study 1 in {db} is damaged (value is str 'abc', not a "
                             "number); nothing was changed: repair or remove that row, or use "
                             "another --storage"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dash.db"]  # no -shm, no -wal
    assert db.read_bytes() == before


def test_running_means_a_live_driver_holds_the_lease_and_a_page_is_one_moment(tmp_path):
    from hpo_dashboard import data

    db = tmp_path / "live.db"
    study = hpo.create_study(SPACE, strategy="random", storage=db, name="live", seed=0)
    for _ in range(2):
        study.tell(study.ask(), 0.5)
    # between two trials no trial is RUNNING, and the driver still runs the study
    assert [s["state"] for s in data.studies(str(db))["studies"]] == ["running"]
    page = data.figures(str(db), "live")
    assert page["version"] == page["page"]["version"]
    assert page["page"]["study"]["state"] == "running"
    assert len(page["page"]["trials"]) == page["page"]["study"]["trials"] == 2
    assert len(page["figures"]["best_so_far"]["data"][0]["x"]) == 2
    study.ask()  # left RUNNING when its driver stops
    study.close()
    assert [s["state"] for s in data.studies(str(db))["studies"]] == ["stopped"]
    again = hpo.create_study(SPACE, strategy="random", storage=db, name="live")
    again.tell(again.ask(), 0.25)  # the re-queued trial
    again.close()
    assert [s["state"] for s in data.studies(str(db))["studies"]] == ["finished"]



MOMENT = ("(() => { const s = document.getElementById('summary').textContent;"
          " const f = document.getElementById('fig-best_so_far');"
          " return [Number((s.match(/: (\\d+) finished/) || [0, -1])[1]),"
          " document.querySelectorAll('#trials tbody td.state-COMPLETE').length,"
          " f && f.data ? f.data[0].x.length : -1]; })()")


def test_a_study_page_shows_one_moment_while_the_study_runs(tmp_path, tiny):
    """Header, table and chart drawn from one snapshot: at every instant they agree. The
    driver is held mid-study by a gated model, so the page is seen between trials however
    fast or loaded the machine is."""
    from browser import CHROMIUM, Browser

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    db = tmp_path / "moment.db"
    gated, env, gate = gated_model.gated_run(tmp_path, after=3)  # the 4th fit waits
    args = [*tiny[:6], *gated, "--strategy", "random", "--seed", "0", "--no-final-test",
            "--storage", str(db), "--study", "m"]
    first = subprocess.run([str(BIN / "hpo-run"), *args, "--trials", "1"], env=env,
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    proc, url = _dashboard(db)
    driver = None
    seen = set()
    try:
        with Browser() as browser:
            def moment() -> int:
                header, rows, points = browser.evaluate(MOMENT)
                assert header == rows == points, (header, rows, points)
                seen.add(header)
                return header

            browser.goto(url + "study/m")
            assert browser.wait_for(f"JSON.stringify({MOMENT}) === '[1,1,1]'")
            driver = subprocess.Popen([str(BIN / "hpo-run"), *args, "--trials", "6"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_until(lambda: moment() == 3, "the page at 3 trials, the driver held",
                       proc=driver)
            (gate / "go").touch()
            while driver.poll() is None:
                moment()
            assert driver.returncode == 0, driver.stderr.read()
            assert browser.wait_for(f"JSON.stringify({MOMENT}) === '[6,6,6]'")
    finally:
        (gate / "go").touch()
        if driver is not None and driver.poll() is None:
            driver.kill()
        proc.terminate()
        proc.wait(timeout=60)
    assert {1, 3} <= seen  # it was watched while trials were added


# resume is as exact as the user guide says ---------------------------------------------------
def _params(study) -> list[tuple]:
    return [(t.number, t.params) for t in sorted(study.trials, key=lambda t: t.number)]


@pytest.mark.parametrize("strategy, n_jobs, options", [
    ("bayes", 1, {"n_initial_points": 3}),  # one trial at a time: exact for any strategy
    ("random", 2, {}),  # the seed and the trial number only: exact at any --n-jobs
])
def test_a_resumed_study_asks_what_an_uninterrupted_one_asks(tmp_path, strategy, n_jobs,
                                                             options):
    def run(db, budget):
        return hpo.optimize(parallel_quadratic, SPACE, strategy=strategy, n_trials=budget,
                            seed=3, n_jobs=n_jobs, storage=db, study="r", **options)

    whole = run(tmp_path / "whole.db", 7)
    run(tmp_path / "halves.db", 4)
    resumed = run(tmp_path / "halves.db", 7)
    assert len(whole.trials) == len(resumed.trials) == 7
    assert _params(resumed) == _params(whole)


def parallel_quadratic(params):
    return (params["x"] - 0.3) ** 2
