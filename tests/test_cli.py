"""hpo-run as a user runs it: real subprocesses, real SQLite files, scikit-learn's digits."""

import json
import sqlite3

import numpy as np
import pytest
from clitools import copy_storage, run_cli

FAST = ["--strategy", "random", "--backend", "sklearn", "--dataset", "digits", "--seed", "0"]


@pytest.fixture(scope="module")
def _two_trials_once(tmp_path_factory):
    """`hpo-run FAST --trials 2 --json` in a directory, once for the module (its hpo.db)."""
    cwd = tmp_path_factory.mktemp("two-trials")
    run_cli(*FAST, "--trials", "2", "--json", cwd=cwd, check=True)
    return cwd / "hpo.db"


@pytest.fixture
def two_trials(tmp_path, _two_trials_once):
    """tmp_path as that command leaves its directory: each test changes its own copy."""
    copy_storage(_two_trials_once, tmp_path / "hpo.db")
    return tmp_path


def test_json_run_then_resume_to_the_total_budget(tmp_path):
    first = run_cli(*FAST, "--trials", "3", "--json", cwd=tmp_path, check=True)
    data = json.loads(first.stdout)  # stdout is exactly one JSON object
    assert data["study"] == "random-sklearn-digits"
    assert data["storage"] == "hpo.db" and (tmp_path / "hpo.db").is_file()
    assert [t["number"] for t in data["trials"]] == [0, 1, 2]
    for t in data["trials"]:
        assert set(t) >= {"number", "params", "value", "state", "duration_s"}
        assert t["state"] == "COMPLETE" and 0.0 <= t["value"] <= 1.0
    assert data["best"]["value"] == max(t["value"] for t in data["trials"])
    assert 0.0 < data["test_score"] <= 1.0
    assert data["final_params"] == data["best"]["params"]
    assert first.stderr.strip() == ""  # --json: nothing extra, not even progress

    second = run_cli(*FAST, "--trials", "5", "--json", cwd=tmp_path, check=True)
    again = json.loads(second.stdout)
    assert [t["number"] for t in again["trials"]] == [0, 1, 2, 3, 4]
    assert again["trials"][:3] == data["trials"]  # finished trials kept as they were
    rows = sqlite3.connect(tmp_path / "hpo.db").execute(
        "SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()
    assert rows == (5,)


def test_human_output_progress_table_best_and_storage(tmp_path):
    proc = run_cli(*FAST, "--trials", "3", "--storage", "runs.db", cwd=tmp_path, check=True)
    # not a terminal: one plain progress line per trial on stderr
    progress = [ln for ln in proc.stderr.splitlines() if ln.startswith("trial ")]
    assert len(progress) == 3 and "[3/3]" in progress[-1] and "best" in progress[-1]
    out = proc.stdout
    assert "study random-sklearn-digits: 3 trials" in out
    assert "learning_rate_init" in out and "accuracy" in out
    assert "best configuration: n_layers=" in out
    assert "test accuracy of the best configuration retrained on all training data" in out
    assert "is stored in runs.db" in out


def test_environment_variables_set_options(tmp_path):
    proc = run_cli("--json", cwd=tmp_path, check=True, env={
        "HPO_STRATEGY": "random", "HPO_TRIALS": "2", "HPO_SEED": "1", "HPO_STUDY": "from-env",
        "HPO_FINAL_TEST": "false"})
    data = json.loads(proc.stdout)
    assert data["study"] == "from-env" and len(data["trials"]) == 2
    assert "test_score" not in data


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "sklern"], "unknown backend 'sklern': did you mean 'sklearn'?"),
        (["--dataset", "digit"], "unknown dataset 'digit': did you mean 'digits'?"),
        (["--evaluator", "kfolds"], "unknown evaluator 'kfolds': did you mean 'kfold'?"),
        (["-S", "max_retries=-1"], "strategy 'random': option 'max_retries' must be >= 0"),
        (["-S", "nope=1"], "strategy 'random': unknown option 'nope' (accepted: max_retries"),
        (["-S", "oops"], "--strategy-option 'oops' must look like NAME=VALUE"),
        (["-E", "folds=3"], "evaluator 'holdout': unknown option 'folds'"),
        (["--metric", "r2"], "metric 'r2' is for regression; this dataset is classification"),
        (["--metric", "auc"], "unknown metric 'auc'"),
        (["--direction", "minimize"], "metric 'accuracy' is to be maximized"),
        (["--trials", "0"], "--trials must be at least 1"),
        (["--dataset", "file"], "dataset 'file' needs a path"),
        (["--dataset", "file", "--data-path", "missing.npz"], "dataset file not found: missing.npz"),
    ],
)
def test_bad_input_gives_one_line_and_writes_nothing(tmp_path, args, message):
    proc = run_cli(*FAST, "--trials", "2", *args, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: ") and message in lines[0], lines[0]
    assert proc.stdout == ""
    assert not (tmp_path / "hpo.db").exists()


def test_bad_space_file_is_named(tmp_path):
    (tmp_path / "space.yaml").write_text("learning_rate_init: {type: float, low: 0, high: 1, log: true}\n")
    proc = run_cli(*FAST, "--space", "space.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "Error: space file space.yaml: parameter 'learning_rate_init': a log scale needs low > 0, got 0.0")


def test_mismatched_resume_is_refused_and_loses_nothing(two_trials):
    tmp_path = two_trials  # `FAST --trials 2 --json` ran here
    (tmp_path / "space.yaml").write_text(
        "n_layers: 1\nunits_1: {type: int, low: 5, high: 15}\n"
        "learning_rate_init: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}\nsolver: [sgd, adam]\n")
    proc = run_cli(*FAST, "--trials", "4", "--space", "space.yaml", "--study",
                   "random-sklearn-digits", cwd=tmp_path)
    assert proc.returncode == 1
    assert ("study 'random-sklearn-digits' in hpo.db was run with another space: parameter "
            "'n_layers': type is 'int' in the stored space") in proc.stderr
    assert "--new-study" in proc.stderr
    count = sqlite3.connect(tmp_path / "hpo.db").execute("SELECT COUNT(*) FROM trials").fetchone()
    assert count == (2,)
    fresh = run_cli(*FAST, "--trials", "2", "--space", "space.yaml", "--new-study", "--json",
                    cwd=tmp_path, check=True)
    assert json.loads(fresh.stdout)["study"] == "random-sklearn-digits-2"


def test_file_dataset_npz_and_csv(tmp_path):
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))
    tr, te = idx[:120], idx[120:]
    np.savez(tmp_path / "iris.npz", x_train=x[tr], y_train=y[tr], x_test=x[te], y_test=y[te])
    proc = run_cli(*FAST[:4], "--dataset", "file", "--data-path", "iris.npz", "--trials", "2",
                   "--json", "-B", "max_iter=50", cwd=tmp_path, check=True)
    data = json.loads(proc.stdout)
    assert data["study"] == "random-sklearn-file" and len(data["trials"]) == 2

    header = "a,b,c,d,species\n"
    rows = "".join(f"{','.join(map(str, r))},{['setosa', 'versicolor', 'virginica'][c]}\n"
                   for r, c in zip(x, y, strict=True))
    (tmp_path / "iris.csv").write_text(header + rows)
    proc = run_cli(*FAST[:4], "--dataset", "file", "--data-path", "iris.csv", "--trials", "2",
                   "--json", "--study", "csv", "-B", "max_iter=50", cwd=tmp_path, check=True)
    assert len(json.loads(proc.stdout)["trials"]) == 2

    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    proc = run_cli(*FAST[:4], "--dataset", "file", "--data-path", "bad.npz", cwd=tmp_path)
    assert proc.returncode == 1 and "bad.npz: not a readable .npz file" in proc.stderr


def test_storage_in_missing_directory_is_one_line(tmp_path):
    proc = run_cli(*FAST, "--storage", "nowhere/x.db", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "Error: storage directory does not exist: nowhere"


def test_version_says_which_hpo_framework_is_installed():
    from importlib.metadata import version

    proc = run_cli("--version", check=True)
    assert proc.stdout.strip() == f"hpo-run (hpo-framework) {version('hpo-framework')}"


def test_a_default_name_never_makes_two_setups_share_a_study(two_trials):
    """Run in README order, a bare command with another setup (here a pruner) gets its own
    study and says so; the same command again resumes that one; nothing is mixed."""
    tmp_path = two_trials  # the bare command, `FAST --trials 2 --json`, ran here
    base = (*FAST, "--trials", "2", "--json")
    pruned = run_cli(*base, "--pruner", "median", cwd=tmp_path, check=True)
    assert json.loads(pruned.stdout)["study"] == "random-sklearn-digits-2"
    assert ("study 'random-sklearn-digits' in hpo.db was run with pruner=None, this run has "
            "pruner='median'; this run is study 'random-sklearn-digits-2' (--study NAME "
            "chooses one)") in pruned.stderr.splitlines()
    again = run_cli(*FAST, "--trials", "3", "--pruner", "median", "--json", cwd=tmp_path,
                    check=True)
    assert json.loads(again.stdout)["study"] == "random-sklearn-digits-2"
    with sqlite3.connect(tmp_path / "hpo.db") as con:
        rows = dict(con.execute("SELECT s.name, COUNT(t.trial_id) FROM studies s JOIN trials t "
                                "ON t.study_id = s.study_id GROUP BY s.name"))
    assert rows == {"random-sklearn-digits": 2, "random-sklearn-digits-2": 3}


def test_a_pruner_option_alone_makes_another_study(tmp_path):
    """Only -P differs: the options given are part of the study, as the pruner's name is
    (the CLI hands the study a built pruner, whose options were once left out)."""
    base = (*FAST, "--trials", "1", "--json", "--pruner", "median")
    run_cli(*base, cwd=tmp_path, check=True)
    other = run_cli(*base, "-P", "n_warmup_steps=1", cwd=tmp_path, check=True)
    assert json.loads(other.stdout)["study"] == "random-sklearn-digits-2"
    assert "pruner_options.n_warmup_steps=None, this run has pruner_options.n_warmup_steps=1" \
        in other.stderr
    again = run_cli(*base, "-P", "n_warmup_steps=1", cwd=tmp_path, check=True)
    assert json.loads(again.stdout)["study"] == "random-sklearn-digits-2"


def test_sklearn_trials_are_scored_by_roc_auc_when_asked(tmp_path):
    proc = run_cli("--strategy", "random", "--backend", "sklearn", "--dataset", "breast_cancer",
                   "--metric", "roc_auc", "--trials", "2", "--seed", "0", "-B", "max_iter=5",
                   "--no-final-test", "--json", cwd=tmp_path, check=True)
    trials = json.loads(proc.stdout)["trials"]
    assert [t["state"] for t in trials] == ["COMPLETE", "COMPLETE"]
    for t in trials:
        assert t["value"] == t["metrics"]["roc_auc"] and 0.5 < t["value"] <= 1.0
