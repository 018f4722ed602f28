"""Progress and results that tell the truth: trials count when they are decided (a paused
one when it ends), the total is what will run (a grid smaller than the budget), the
ETA never counts paused trials as done, pruned trials are counted wherever failed ones
are, ``stopped:`` always says why, a comparison says which score decides its winner, a
grid cut short by its budget covers the space, and ``optimize(show_progress=True)``
prints the CLI's lines."""

from __future__ import annotations

import json
import re
import sqlite3
import warnings
from collections import Counter

import pytest
from climbing import Climb
from clitools import run_cli

import hpo_framework as hpo
from hpo_framework import optimize

LINE = re.compile(r"trial (\d+) \[(\d+)/(\d+)(?:, (\d+) paused)?\] (\S+)(.*) best \S+ "
                  r"elapsed \d+s( eta >?\d+s)?")
STEPS = 6




def parse(text: str) -> list[tuple]:
    """(trial, decided, total, paused, state, eta) per progress line; nothing else."""
    out = []
    for line in text.splitlines():
        m = LINE.fullmatch(line)
        assert m or not line.startswith("trial "), line
        if m:
            n, decided, total, paused, state, _, eta = m.groups()
            out.append((int(n), int(decided), int(total), int(paused or 0), state, eta))
    return out


def check_counts(lines: list[tuple], total: int) -> None:
    """Each line counts the trials decided so far (its own included), and the paused ones
    as they stand; the last says every trial of the total was decided."""
    decided, paused = 0, set()
    for n, shown, of, shown_paused, state, _ in lines:
        if state == "PAUSED":
            paused.add(n)
        else:
            decided += 1
            paused.discard(n)
        assert (shown, of, shown_paused) == (decided, total, len(paused)), lines
    assert lines[-1][1:3] == (total, total)


@pytest.mark.parametrize("pruner, options", [("halving", {}), ("asha", {"pause": True})])
def test_pausing_pruners_count_trials_when_decided_and_the_eta_is_a_lower_bound(
        capsys, pruner, options):
    study = optimize(Climb(0.0, 0.1, STEPS), {"x": {"type": "float", "low": 0.0, "high": 1.0}},
                     strategy="random", n_trials=12, seed=0, direction="maximize",
                     pruner=pruner, pruner_options=options, show_progress=True)
    lines = parse(capsys.readouterr().err)
    assert any(state == "PAUSED" for *_, state, _ in lines)
    assert len([t for t in study.trials if t.state.finished]) == 12
    check_counts(lines, 12)
    # with trials paused, the time still to come is at least the time to start the rest:
    # never a rate of decided trials that climbs while they wait
    assert all(eta is None or eta.startswith(" eta >") for *_, eta in lines)
    last_start = max(i for i, line in enumerate(lines) if line[0] == 11)
    assert all(eta is None for *_, eta in lines[last_start:])


def test_a_grid_smaller_than_the_budget_shows_its_own_size(capsys):
    space = {"a": [1, 2, 3], "b": ["x", "y"], "c": [True, False]}  # 12 points
    study = optimize(lambda p: p["a"], space, strategy="grid", n_trials=20, show_progress=True)
    lines = parse(capsys.readouterr().err)
    assert len(study.trials) == len(lines) == 12
    check_counts(lines, 12)
    from hpo_grid import GridSkippedWarning

    with pytest.warns(GridSkippedWarning, match="7 of 12 points were skipped"):
        optimize(lambda p: p["a"], space, strategy="grid", n_trials=5, show_progress=True)
    check_counts(parse(capsys.readouterr().err), 5)


def test_optimize_prints_nothing_unless_asked(capsys):
    optimize(lambda p: p["x"] ** 2, {"x": {"type": "float", "low": -1, "high": 1}},
             strategy="random", n_trials=3, seed=0)
    assert capsys.readouterr().err == ""
    optimize(lambda p: p["x"] ** 2, {"x": {"type": "float", "low": -1, "high": 1}},
             strategy="random", n_trials=3, seed=0, show_progress=True)
    lines = parse(capsys.readouterr().err)
    check_counts(lines, 3)
    assert lines[0][5] is not None and lines[-1][5] is None  # an ETA until the last trial


def test_the_cli_counts_decided_trials_reports_pruned_ones_and_says_why_it_stopped(tmp_path):
    db = tmp_path / "h.db"
    args = ("--strategy", "random", "--backend", "sklearn", "-B", "max_iter=4", "--pruner",
            "halving", "--trials", "8", "--seed", "0", "--no-final-test", "--storage", db,
            "--study", "h")
    proc = run_cli(*args, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = parse(proc.stderr)
    assert any(state == "PAUSED" for *_, state, _ in lines)
    check_counts(lines, 8)
    with sqlite3.connect(db) as con:
        states = Counter(s for (s,) in con.execute("SELECT state FROM trials"))
    pruned = states["PRUNED"]
    assert pruned > 0 and states["COMPLETE"] + pruned == 8
    assert f"{pruned} trial(s) pruned" in proc.stdout
    assert "stopped: budget;" in proc.stdout

    again = run_cli(*args, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "stopped: already complete (no trial ran);" in again.stdout
    assert "None" not in again.stdout + again.stderr

    report = run_cli("report", "--storage", db, "--study", "h", cwd=tmp_path, timeout=300)
    assert f"8 trials (0 failed, {pruned} pruned)" in report.stdout, report.stdout
    data = json.loads(run_cli("report", "--storage", db, "--study", "h", "--json",
                              cwd=tmp_path, timeout=300).stdout)
    assert (data["pruned"], data["failed"]) == (pruned, 0)
    rows = [r for r in data["trials_table"] if r["state"] == "PRUNED"]
    assert len(rows) == pruned
    assert all(r["error"] is None and r["detail"].startswith("paused at step") for r in rows)
    html = tmp_path / "r.html"
    run_cli("report", "--storage", db, "--study", "h", "--html", html, cwd=tmp_path,
            timeout=300, check=True)
    text = html.read_text()
    assert "<th>pruned</th>" in text and f"{pruned} pruned" in text
    assert "<th>detail</th>" in text


def _study(db, name, values, test_score):
    study = hpo.create_study({"x": [1, 2, 3]}, strategy="random", storage=db, name=name,
                             direction="maximize", seed=0)
    for value in values:
        study.tell(study.ask(), value)
    study.set_attr("final_test", {"test_score": test_score})
    study.close()


def test_the_winner_is_decided_by_validation_and_the_best_test_is_named_beside_it(tmp_path):
    db = tmp_path / "w.db"
    _study(db, "a", [0.90, 0.95], test_score=0.70)  # best validation, worst test
    _study(db, "b", [0.80, 0.85], test_score=0.93)
    proc = run_cli("report", "--storage", db, "--study", "a,b", cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    said = [line for line in proc.stdout.splitlines() if line.startswith(("winner", "best test"))]
    assert said[0].startswith("winner: a (random), best validation value 0.95, test 0.7; the "
                              "best validation score decides"), said
    assert said[1].startswith("best test value: b (random), test 0.93, best validation 0.85: "
                              "not the winner"), said
    data = json.loads(run_cli("report", "--storage", db, "--study", "a,b", "--json",
                              cwd=tmp_path, timeout=300).stdout)
    assert data["winner"]["study"] == "a" and data["winner"]["decided_by"] == "best_validation"
    assert data["winner"]["best_test"]["study"] == "b"
    html = tmp_path / "w.html"
    run_cli("report", "--storage", db, "--study", "a,b", "--html", html, cwd=tmp_path,
            timeout=300, check=True)
    text = html.read_text()
    assert "Winner: a</strong>" in text and "test 0.7)" in text
    assert "best validation score decides" in text and "best test value: b" in text


KERAS_GRID = {  # the keras backend's default space: 198 grid points
    "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "num_dense_layers": {"type": "int", "low": 0, "high": 2},
    "num_dense_nodes": {"type": "int", "low": 5, "high": 15},
    "optimizer": ["adam", "sgd"],
}


def _grid(n_trials, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optimize(lambda p: p["learning_rate"], KERAS_GRID, strategy="grid",
                        n_trials=n_trials, **kw)


def test_a_grid_cut_short_covers_every_value_of_every_parameter():
    study = _grid(54)
    counts = {n: Counter(t.params[n] for t in study.trials) for n in KERAS_GRID}
    assert sorted(counts["learning_rate"]) == [0.001, 0.01, 0.1]
    assert min(counts["learning_rate"].values()) >= 15
    assert len(counts["num_dense_nodes"]) == 11 and len(counts["num_dense_layers"]) == 3
    assert min(counts["optimizer"].values()) >= 20
    # and the first 11 trials (the parameter with the most values) hold every value
    first = study.trials[:11]
    assert all(len({t.params[n] for t in first}) == len(counts[n]) for n in KERAS_GRID)
    # the space's order is one option away, and explores one corner
    fixed = _grid(54, order="fixed")
    assert {t.params["learning_rate"] for t in fixed.trials} == {0.001}


def test_a_resumed_grid_walks_the_same_order_and_runs_every_point_once(tmp_path):
    db = tmp_path / "g.db"
    whole = _grid(None)
    assert len(whole.trials) == 198 and whole.stop_reason == "strategy done"
    _grid(20, storage=db, study="g")
    resumed = _grid(60, storage=db, study="g")
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials[:60]]


def test_a_conditional_grid_takes_its_branches_in_turn():
    space = {"n_layers": {"type": "int", "low": 1, "high": 3},
             "units_1": {"type": "int", "low": 5, "high": 9},
             "units_2": {"type": "int", "low": 5, "high": 9, "condition": {"n_layers": {"ge": 2}}},
             "units_3": {"type": "int", "low": 5, "high": 9, "condition": {"n_layers": {"ge": 3}}},
             "solver": ["sgd", "adam"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optimize(lambda p: p["units_1"], space, strategy="grid", n_trials=15)
    assert Counter(t.params["n_layers"] for t in study.trials) == {1: 5, 2: 5, 3: 5}
    assert {t.params["units_1"] for t in study.trials} == {5, 6, 7, 8, 9}
    full = optimize(lambda p: p["units_1"], space, strategy="grid")
    assert len(full.trials) == len({full.space.key(t.params) for t in full.trials}) == 310


def test_a_display_given_no_study_counts_from_what_the_study_held(tmp_path):
    """A comparison's display is made before its study opens: the first event tells it
    what earlier runs decided."""
    import io

    from hpo_framework.results.progress import ProgressLines

    db, space = tmp_path / "r.db", {"x": {"type": "float", "low": -1, "high": 1}}
    optimize(lambda p: p["x"] ** 2, space, strategy="random", n_trials=5, seed=0, storage=db,
             study="r")
    out = io.StringIO()
    optimize(lambda p: p["x"] ** 2, space, strategy="random", n_trials=12, seed=0, storage=db,
             study="r", callbacks=[ProgressLines(12, stream=out)])
    lines = parse(out.getvalue())
    assert [line[1] for line in lines] == list(range(6, 13))
    assert lines[0][5] is not None and lines[-1][5] is None
