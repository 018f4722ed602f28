"""hpo-run with several metrics, objectives and constraints (issue 25): what is recorded,
the front in --json and as a table, the refusals in one line, resume."""

import json

import pytest
from clitools import run_cli

from hpo_framework import Storage

FAST = ["--strategy", "random", "--backend", "sklearn", "--dataset", "digits", "--seed", "0",
        "-B", "max_iter=5"]


def in_process(*args):
    """hpo-run in this process (click's runner): its output, stdout and stderr together."""
    from click.testing import CliRunner

    from hpo_framework.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def _front(trials):
    """The non-dominated feasible COMPLETE trials (accuracy up, n_params down), by the
    definition."""
    done = [t for t in trials if t["state"] == "COMPLETE" and t.get("feasible", True)]

    def beats(a, b):
        (xa, pa), (xb, pb) = a["values"], b["values"]
        return xa >= xb and pa <= pb and (xa > xb or pa < pb)

    return sorted(t["number"] for t in done if not any(beats(o, t) for o in done))


def test_a_front_of_accuracy_against_n_params_under_a_constraint(tmp_path):
    proc = run_cli(*FAST, "--study", "mo", "--trials", "5", "--metric", "accuracy,n_params,latency_ms",
                   "--direction", "maximize,minimize", "--constraint", "n_params<=900",
                   "--json", cwd=tmp_path, check=True)
    out = json.loads(proc.stdout)
    assert out["directions"] == ["maximize", "minimize"]
    assert out["metrics"] == ["accuracy", "n_params", "latency_ms"]
    assert out["objectives"] == ["accuracy", "n_params"]
    assert out["constraints"] == ["n_params<=900"]
    assert out["final_skipped"].startswith("no final test: the study has 2 objectives")
    assert "test_score" not in out and out["best"] is None
    trials = out["trials"]
    assert all(t["state"] == "COMPLETE" for t in trials)
    for t in trials:  # every listed metric recorded; the objectives are the first two
        assert {"accuracy", "n_params", "latency_ms"} <= set(t["metrics"])
        assert t["values"] == [t["metrics"]["accuracy"], t["metrics"]["n_params"]]
        assert t["constraints"] == [t["metrics"]["n_params"] - 900]
        assert t["feasible"] == (t["metrics"]["n_params"] <= 900)
    assert any(t["feasible"] for t in trials) and not all(t["feasible"] for t in trials)
    front = [p["number"] for p in out["pareto_front"]]
    assert front == _front(trials) and front
    assert all(p["values"] == trials[p["number"]]["values"] for p in out["pareto_front"])
    # stored: values and constraints read back as the run wrote them
    reader = Storage(tmp_path / "hpo.db", readonly=True)
    record = reader.get_study("mo")
    assert record.config["directions"] == ["maximize", "minimize"]
    assert record.config["constraints"] == ["n_params<=900"]
    stored = reader.load_trials(record.study_id, record.direction)
    assert [t.values for t in stored] == [t["values"] for t in trials]
    assert [t.constraints for t in stored] == [t["constraints"] for t in trials]
    reader.close()

    # resumed (in this process, trials in it too): the table of the front with its
    # objectives and constraint, no final test
    db = str(tmp_path / "hpo.db")
    text = in_process(*FAST, "--study", "mo", "--storage", db, "--trials", "6", "--metric",
                      "accuracy,n_params,latency_ms", "--direction", "maximize,minimize",
                      "--constraint", "n_params<=900", "--executor", "serial")
    assert text.exit_code == 0, text.output
    assert "Pareto front: " in text.output and "n_params<=900" in text.output
    assert "accuracy (max)" in text.output and "n_params (min)" in text.output
    assert "no final test: the study has 2 objectives" in text.output
    reader = Storage(db, readonly=True)
    assert len(reader.load_trials(reader.get_study("mo").study_id)) == 6
    reader.close()

    # resumed with other directions: the usual one-line mismatch
    other = in_process(*FAST, "--study", "mo", "--storage", db, "--trials", "7", "--metric",
                       "accuracy,n_params", "--direction", "maximize", "--constraint",
                       "n_params<=900")
    assert other.exit_code == 1
    assert other.output.strip().splitlines() == [
        f"Error: study 'mo' in {db} was run with directions=['maximize', 'minimize'], this "
        "run has one objective; use another --study NAME, or --new-study to start a new one"]


def test_one_objective_with_several_metrics_records_them_and_says_how_to_get_a_front(
        tmp_path):
    proc = in_process(*FAST, "--trials", "2", "--metric", "accuracy,n_params",
                      "--no-final-test", "--storage", str(tmp_path / "hpo.db"),
                      "--executor", "serial")
    assert proc.exit_code == 0, proc.output
    assert ("recorded n_params beside the objective accuracy; for a front of accuracy "
            "against n_params: --metric accuracy,n_params --direction maximize,minimize"
            ) in proc.output
    assert "best trial " in proc.output
    reader = Storage(tmp_path / "hpo.db", readonly=True)
    record = reader.get_study("random-sklearn-digits")
    trials = reader.load_trials(record.study_id, record.direction)
    assert record.config["metric"] == "accuracy,n_params" and "directions" not in record.config
    assert all(t.values == [t.metrics["accuracy"]] and "n_params" in t.metrics for t in trials)
    reader.close()


@pytest.mark.parametrize(("args", "message"), [
    (["--constraint", "n_params<20000"],
     "--constraint 'n_params<20000': write METRIC<=NUMBER or METRIC>=NUMBER, e.g. "
     "n_params<=20000 (on any recorded metric)"),
    (["--direction", "maximize,minimize"],
     "--direction lists 2 directions, one per objective, and --metric names no metrics: give "
     "--metric with at least 2 (the first 2 are the objectives), e.g. --metric "
     "accuracy,n_params"),
    (["--metric", "accuracy,n_params", "--direction", "maximize,maximize"],
     "metric 'n_params' is to be minimized, and --direction gives maximize for it: give "
     "minimize (the directions follow the metrics' order)"),
    (["--metric", "accuracy,n_params", "--direction", "maximize,minimize", "--pruner",
      "median"],
     "pruner 'median' stops trials on one objective's curve; a study with 2 objectives is not "
     "pruned (as in Optuna): drop --pruner"),
    (["--metric", "accuracy,accuracy"], "--metric names 'accuracy' twice"),
])
def test_refusals_are_one_line_and_write_nothing(tmp_path, args, message):
    db = tmp_path / "hpo.db"  # in this process: the refusals come before any trial
    result = in_process(*FAST, "--trials", "2", "--storage", db, *args)
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [f"Error: {message}"]
    assert not db.exists()


def test_a_data_file_given_as_the_dataset_is_the_file_dataset(tmp_path):
    # (H8's request, beside the metric lists: --dataset data.csv)
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    rows = ["a,b,c,label", *(f"{r[0]},{r[1]},{r[2]},{int(r[0] + r[1] > 0)}" for r in x)]
    data = tmp_path / "blobs.csv"
    data.write_text("\n".join(rows) + "\n")
    db = tmp_path / "hpo.db"
    args = ["--strategy", "random", "--backend", "sklearn", "--seed", "0", "-B", "max_iter=5",
            "--trials", "1", "--storage", db, "--executor", "serial", "-D", "target=label"]
    ran = in_process(*args, "--dataset", data)
    assert ran.exit_code == 0, ran.output
    reader = Storage(db, readonly=True)
    record = reader.get_study("random-sklearn-blobs")
    assert record.config["dataset"] == "file"
    assert record.config["dataset_options"]["path"] == str(data)
    reader.close()
    both = in_process(*args, "--dataset", data, "--data-path", tmp_path / "other.csv")
    assert both.exit_code == 1
    assert both.output.strip().splitlines() == [
        f"Error: --dataset {data} is a data file and --data-path {tmp_path / 'other.csv'} "
        "another: give one of them"]
