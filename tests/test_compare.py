"""Comparison mode: several strategies on one problem, budget and seed (the notebook's point)."""

import csv
import json
import sqlite3

import pytest
from clitools import run_cli

from hpo_framework.errors import OptionError, UnknownPluginError
from hpo_framework.jobs.compare import parse_strategies, split_strategy_options
from hpo_framework.results import load_study

COMMON = ["--backend", "sklearn", "--dataset", "digits", "--seed", "3", "--storage", "cmp.db"]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """grid and random, 4 trials each, with --output (shared by the tests below)."""
    cwd = tmp_path_factory.mktemp("compare")
    proc = run_cli("--strategy", "grid,random", "--trials", "4", *COMMON, "--output", "out",
                   cwd=cwd, check=True)
    return cwd, proc


def test_summary_table_lists_each_strategy_with_scores(compared):
    cwd, proc = compared
    out = proc.stdout
    for column in ("strategy", "best val", "test", "best configuration", "trials", "failed",
                   "pruned", "wall s"):
        assert column in out
    assert "compare-sklearn-digits-grid" in out and "compare-sklearn-digits-random" in out
    assert "[1/2] strategy grid, seed 3" in proc.stderr
    assert "[2/2] strategy random, seed 3" in proc.stderr
    studies = [load_study(cwd / "cmp.db", f"compare-sklearn-digits-{s}") for s in ("grid",
                                                                                 "random")]
    top = max(studies, key=lambda v: (v.best_trial.value, -studies.index(v)))
    assert f"winner: {top.name} ({top.strategy}), best validation accuracy " in out
    assert "the best validation score decides" in out


def test_each_strategy_is_its_own_study_on_the_same_problem(compared):
    cwd, _ = compared
    grid = load_study(cwd / "cmp.db", "compare-sklearn-digits-grid")
    rand = load_study(cwd / "cmp.db", "compare-sklearn-digits-random")
    assert (grid.strategy, rand.strategy) == ("grid", "random")
    assert grid.seed == rand.seed == 3
    same = ("backend", "dataset", "evaluator", "metric", "space", "direction")
    assert {k: grid.config[k] for k in same} == {k: rand.config[k] for k in same}
    assert len(grid.trials) == len(rand.trials) == 4


def test_output_dir_has_markdown_csv_json_and_plots(compared):
    cwd, _ = compared
    out = cwd / "out"
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["strategy"] for r in rows] == ["grid", "random"]
    db = sqlite3.connect(cwd / "cmp.db")
    for r in rows:
        best = db.execute(
            "SELECT MAX(t.value) FROM trials t JOIN studies s USING (study_id) WHERE s.name = ?",
            (r["study"],)).fetchone()[0]
        assert float(r["best_validation"]) == best
        assert 0.0 < float(r["test_score"]) <= 1.0  # the retrained best model on the test set
        assert r["trials"] == "4" and r["failed"] == "0" and float(r["wall_time_s"]) > 0
        assert set(json.loads(r["best_config"])) >= {"n_layers", "learning_rate_init"}
    data = json.loads((out / "summary.json").read_text())
    assert [r["strategy"] for r in data["runs"]] == ["grid", "random"]
    md = (out / "summary.md").read_text()
    assert "| strategy | seed | best_validation | test_score |" in md
    assert (out / "best_so_far.png").stat().st_size > 10_000
    assert (out / "compare-sklearn-digits-grid" / "params.png").is_file()
    html = (out / "report.html").read_text()
    # per-study sections with their setup, the winner named and its row marked
    assert html.count("<section class='study'") == 2
    assert html.count("<dt>backend</dt><dd>sklearn</dd>") == 2
    best = max(rows, key=lambda r: (float(r["best_validation"]), -rows.index(r)))
    assert f"Winner: {best['study']}" in html and f"{best['study']} (winner)</h2>" in html
    assert "Plotly.newPlot" in html


def test_running_the_same_comparison_again_resumes_it(compared):
    cwd, _ = compared
    proc = run_cli("--strategy", "grid,random", "--trials", "4", *COMMON, "--json",
                   "--no-final-test", cwd=cwd, check=True)
    runs = json.loads(proc.stdout)["runs"]
    assert [r["trials"] for r in runs] == [4, 4]  # nothing re-run, nothing lost
    assert "trial " not in proc.stderr  # --json: no progress lines


def test_repeats_report_median_min_and_max_over_seeds(tmp_path):
    proc = run_cli("--strategy", "random", "--repeats", "3", "--trials", "2", *COMMON, "--json",
                   "--no-final-test", cwd=tmp_path, check=True)
    data = json.loads(proc.stdout)
    assert data["seeds"] == [3, 4, 5]
    assert [r["study"] for r in data["runs"]] == [
        f"compare-sklearn-digits-random-seed{s}" for s in (3, 4, 5)]
    best = sorted(r["best_validation"] for r in data["runs"])
    (agg,) = data["by_strategy"]
    assert agg["runs"] == 3 and agg["trials"] == 6
    assert (agg["best_validation_min"], agg["best_validation_median"],
            agg["best_validation_max"]) == (best[0], best[1], best[2])
    assert len(set(best)) > 1 or best[0] == 1.0  # different seeds searched differently


def test_a_typo_in_the_strategy_list_fails_before_any_trial(tmp_path):
    proc = run_cli("--strategy", "grid,randm", "--trials", "2", *COMMON, cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "unknown strategy 'randm': did you mean 'random'?" in proc.stderr
    assert not (tmp_path / "cmp.db").exists()
    proc = run_cli("--strategy", "grid", "--repeats", "0", *COMMON, cwd=tmp_path)
    assert proc.returncode != 0 and "--repeats must be at least 1" in proc.stderr


def test_strategy_all_and_scoped_options():
    names = parse_strategies("all")
    assert names == sorted(names)  # by name: the core ranks no plugin
    assert {"bayes", "genetic", "grid", "random"} <= set(names)
    with pytest.raises(UnknownPluginError):
        parse_strategies("grid, nosuch")
    with pytest.raises(OptionError, match="twice"):
        parse_strategies("grid,grid")
    opts = split_strategy_options({"grid.points": 2, "max_retries": 5}, ["grid", "random"])
    assert opts == {"grid": {"points": 2, "max_retries": 5}, "random": {"max_retries": 5}}
    with pytest.raises(OptionError, match="not among the compared"):
        split_strategy_options({"bayes.kappa": 5}, ["grid", "random"])
