"""Several objectives and constraints through the Study, storage and the API (issue 25):
the front is exactly the non-dominated set, infeasible trials are never best nor on it,
the refusals, resume, and the storage migration from schema 3."""

import json
import math
import sqlite3
import warnings

import pytest
from clitools import registered

import hpo_framework as hpo
from hpo_framework import Storage, TrialState
from hpo_framework.builtin.random_strategy import RandomStrategy

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0},
         "y": {"type": "float", "low": 0.0, "high": 1.0}}


def two(p):
    """maximize p["x"] (accuracy-like), minimize a cost that grows with x and y."""
    return [p["x"], (p["x"] ** 2 + p["y"]) * 1000]


def brute_front(trials, directions):
    """The non-dominated COMPLETE feasible trials, by the definition (no shared code)."""
    sign = [1.0 if d == "minimize" else -1.0 for d in directions]
    done = [t for t in trials if t.state is TrialState.COMPLETE
            and (t.constraints is None or all(c <= 0 for c in t.constraints))]

    def better_or_equal_everywhere_and_better_once(a, b):
        pairs = [(s * x, s * y) for s, x, y in zip(sign, a.values, b.values, strict=True)]
        return all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)

    return {t.number for t in done
            if not any(better_or_equal_everywhere_and_better_once(o, t) for o in done)}


class OneObjective(RandomStrategy):
    name = "one-objective"
    multi_objective = False
    handles_constraints = False


def test_the_front_is_exactly_the_non_dominated_set_and_values_are_stored(tmp_path):
    directions = ["maximize", "minimize"]
    study = hpo.optimize(two, SPACE, strategy="random", n_trials=40, seed=2,
                         directions=directions, storage=tmp_path / "mo.db", study="mo")
    assert study.directions == directions and study.direction == "maximize"
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    for t in study.trials:
        assert t.values == two(t.params)
        assert t.losses == [-t.values[0], t.values[1]] and (t.value, t.loss) == (
            t.values[0], t.losses[0])
    front = {t.number for t in study.best_trials}
    assert front == brute_front(study.trials, directions)
    assert 1 < len(front) < 40
    # the JSON form: the front with each member's values and params
    out = study.to_dict()
    assert out["directions"] == directions and out["best"] is None
    assert [p["number"] for p in out["pareto_front"]] == sorted(front)
    assert all(p["values"] == study.trials[p["number"]].values for p in out["pareto_front"])
    # read back from storage (the first direction stands for the stored list)
    reader = Storage(tmp_path / "mo.db", readonly=True)
    again = reader.load_trials(reader.get_study("mo").study_id, "maximize")
    assert [t.values for t in again] == [t.values for t in study.trials]
    assert [t.losses for t in again] == [t.losses for t in study.trials]
    assert brute_front(again, directions) == front
    reader.close()


def test_one_objective_trials_have_values_and_losses_of_one():
    study = hpo.optimize(lambda p: p["x"], SPACE, strategy="random", n_trials=5, seed=0,
                         direction="maximize")
    for t in study.trials:
        assert t.values == [t.value] and t.losses == [-t.value]
    assert [t.number for t in study.best_trials] == [study.best_trial.number]


def test_best_value_and_params_refuse_on_several_objectives():
    study = hpo.optimize(two, SPACE, strategy="random", n_trials=3, seed=0,
                         directions=["maximize", "minimize"])
    for what in ("best_value", "best_params", "best_trial"):
        with pytest.raises(hpo.HPOError) as err:
            getattr(study, what)
        assert str(err.value) == (f"study 'random-two' has 2 objectives (maximize, minimize): "
                                  f"{what} is for one objective; use best_trials (the Pareto "
                                  "front)")


def test_infeasible_trials_are_never_best_nor_on_the_front(tmp_path):
    def limit(trial):  # feasible when y <= 0.4 and x >= 0.2
        return [trial.params["y"] - 0.4, 0.2 - trial.params["x"]]

    study = hpo.optimize(two, SPACE, strategy="random", n_trials=40, seed=4,
                         directions=["maximize", "minimize"], constraints=limit,
                         storage=tmp_path / "c.db", study="c")
    feasible = [t for t in study.trials if t.feasible]
    assert 0 < len(feasible) < 40
    assert all(t.constraints == limit(t) for t in study.trials)
    front = {t.number for t in study.best_trials}
    assert front == brute_front(study.trials, ["maximize", "minimize"])
    assert front <= {t.number for t in feasible}
    # the unconstrained front would hold an infeasible trial here: the constraint mattered
    unconstrained = [t.__class__(**{**t.__dict__, "constraints": None}) for t in study.trials]
    assert brute_front(unconstrained, ["maximize", "minimize"]) - front
    reader = Storage(tmp_path / "c.db", readonly=True)
    stored = reader.load_trials(reader.get_study("c").study_id, "maximize")
    assert [t.constraints for t in stored] == [t.constraints for t in study.trials]
    assert [t.feasible for t in stored] == [t.feasible for t in study.trials]
    reader.close()

    # one objective: best_* only ever a feasible trial
    one = hpo.optimize(lambda p: p["x"], SPACE, strategy="random", n_trials=30, seed=1,
                       direction="maximize", constraints=lambda t: [t.params["x"] - 0.7])
    best_overall = max(one.trials, key=lambda t: t.value)
    assert not best_overall.feasible  # the plain best is infeasible: the constraint mattered
    assert one.best_trial.params["x"] <= 0.7
    assert one.best_trial.number == max((t for t in one.trials if t.feasible),
                                        key=lambda t: t.value).number
    assert one.best_value == one.best_trial.value and one.best_trial.feasible


def test_no_feasible_trial_means_no_best_and_a_warning():
    with pytest.warns(RuntimeWarning, match="no trial of study 'random-<lambda>' is feasible"):
        study = hpo.optimize(lambda p: p["x"], SPACE, strategy="random", n_trials=4, seed=0,
                             constraints=lambda t: [1.0])
    assert study.best_trial is None and study.best_value is None and study.best_trials == []
    assert all(t.state is TrialState.COMPLETE and not t.feasible for t in study.trials)


@pytest.mark.parametrize("constraints, error", [
    (lambda t: 1 / 0, "constraints(trial) raised ZeroDivisionError: division by zero"),
    (lambda t: "bad", "constraints(trial) returned str, not a sequence of numbers (feasible "
                      "when each is <= 0)"),
    (lambda t: [0.0, math.nan], "constraints(trial) returned value 2 of 2 = nan"),
])
def test_a_constraints_function_that_fails_fails_the_trial_in_one_line(constraints, error):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no trial completed
        study = hpo.optimize(lambda p: p["x"], SPACE, strategy="random", n_trials=2, seed=0,
                             constraints=constraints)
    assert [(t.state, t.error, t.value, t.constraints) for t in study.trials] == [
        (TrialState.FAILED, error, None, None)] * 2


def test_a_wrong_count_of_values_or_a_non_finite_one_fails_the_trial():
    study = hpo.create_study(SPACE, strategy="random", directions=["maximize", "minimize"])
    assert study.tell(study.ask(), [0.9, 1200]).losses == [-0.9, 1200.0]
    told = study.tell(study.ask(), {"values": [0.5, 10], "metrics": {"n_params": 10}})
    assert (told.values, told.metrics) == ([0.5, 10.0], {"n_params": 10})
    cases = [(0.5, "the objective gave 1 value; this study has 2 objectives (maximize, "
                   "minimize)"),
             ([1, 2, 3], "the objective gave 3 values; this study has 2 objectives (maximize, "
                         "minimize)"),
             ([1, math.inf], "told value 2 of 2 = inf"),
             ([1, "a"], "told value 2 of 2 as str 'a', not a number")]
    for value, error in cases:
        trial = study.tell(study.ask(), value)
        assert (trial.state, trial.error, trial.values, trial.losses) == (
            TrialState.FAILED, error, None, None)
    study.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        one = hpo.optimize(lambda p: [p["x"], p["y"]], SPACE, strategy="random", n_trials=1)
        bad = hpo.optimize(lambda p: {"values": [p["x"], math.nan]}, SPACE, strategy="random",
                           n_trials=1, directions=["minimize", "minimize"])
    assert one.trials[0].error == ("the objective gave 2 values; this study has one objective "
                                   "(minimize): give directions=[...] (--direction a,b) for "
                                   "several")
    assert bad.trials[0].error == "objective returned value 2 of 2 = nan"


def test_refusals_are_one_line_and_write_nothing(tmp_path):
    db = tmp_path / "r.db"
    cases = [
        (dict(strategy="one-objective", directions=["maximize", "minimize"]),
         "strategy 'one-objective' optimizes one objective; this study has 2 (maximize, "
         "minimize): use strategy="),
        (dict(strategy="one-objective", constraints=lambda t: [0.0]),
         "strategy 'one-objective' does not handle constraints; this study has some: use "
         "strategy="),
        (dict(strategy="random", directions=["maximize", "minimize"], pruner="median"),
         "pruner 'median' stops trials on one objective's curve; a study with 2 objectives is "
         "not pruned (as in Optuna): drop pruner="),
        (dict(direction="maximize", directions=["maximize"]),
         "give direction= (one objective) or directions=[...] (several), not both"),
        (dict(directions="maximize"),
         "directions takes a list such as ['maximize', 'minimize'], got 'maximize' (one "
         "objective: direction='maximize')"),
        (dict(directions=["maximize", "up"]),
         "direction must be 'minimize' or 'maximize', got 'up'"),
        (dict(directions=[]), "directions takes a list such as ['maximize', 'minimize'], got []"),
        (dict(constraints="y<1"),
         "constraints takes a function of the finished trial returning numbers (feasible when "
         "each is <= 0), got str"),
    ]
    with registered(OneObjective):
        for kwargs, message in cases:
            def objective(p, trial=None):
                return [p["x"], p["y"]]
            with pytest.raises(hpo.HPOError) as err:
                hpo.optimize(objective, SPACE, n_trials=2, storage=db, **kwargs)
            assert str(err.value).startswith(message), str(err.value)
            assert "\n" not in str(err.value)
            with pytest.raises(hpo.HPOError) as err:
                hpo.create_study(SPACE, storage=db, **{k: v for k, v in kwargs.items()})
            assert str(err.value).startswith(message), str(err.value)
    assert not db.exists()


def test_the_default_strategy_is_one_that_handles_several_objectives():
    study = hpo.optimize(two, SPACE, n_trials=2, seed=0, directions=["maximize", "minimize"])
    assert hpo.get_registry().get("strategy", study.strategy.name).multi_objective


def test_resume_keeps_the_directions_and_refuses_others(tmp_path):
    db = tmp_path / "resume.db"
    first = hpo.optimize(two, SPACE, strategy="random", n_trials=4, seed=3,
                         directions=["maximize", "minimize"], storage=db, study="s")
    kept = [t.values for t in first.trials]
    more = hpo.optimize(two, SPACE, strategy="random", n_trials=7, seed=3,
                        directions=["maximize", "minimize"], storage=db, study="s")
    assert len(more.trials) == 7 and [t.values for t in more.trials[:4]] == kept
    assert all(t.values == two(t.params) for t in more.trials)
    refusals = [
        (dict(directions=["minimize", "minimize"]),
         "directions=['maximize', 'minimize'], this run has directions=['minimize', "
         "'minimize']"),
        (dict(direction="maximize"),
         "directions=['maximize', 'minimize'], this run has one objective"),
        (dict(directions=["maximize", "minimize"], constraints=lambda t: [0.0]),
         "no constraints, this run has constraints"),
    ]
    for kwargs, why in refusals:
        with pytest.raises(hpo.StudyMismatchError) as err:
            hpo.optimize(two, SPACE, strategy="random", n_trials=9, seed=3, storage=db,
                         study="s", **kwargs)
        assert str(err.value) == (f"study 's' in {db} was run with {why}; use another "
                                  "study=NAME, or new_study=True to start a new one")
    reader = Storage(db, readonly=True)
    assert len(reader.load_trials(reader.get_study("s").study_id)) == 7
    reader.close()


def test_define_by_run_with_several_objectives():
    def objective(trial):
        a = trial.suggest_float("a", 0.0, 1.0)
        b = trial.suggest_float("b", 0.0, 1.0)
        return a, (1 - a) ** 2 + b

    study = hpo.optimize(objective, strategy="random", n_trials=12, seed=0,
                         directions=["minimize", "minimize"])
    assert all(t.values == [t.params["a"], (1 - t.params["a"]) ** 2 + t.params["b"]]
               for t in study.trials)
    assert {t.number for t in study.best_trials} == brute_front(study.trials,
                                                                ["minimize", "minimize"])


def test_strategies_are_told_the_losses_and_constraints():
    told = []

    class Listening(RandomStrategy):
        name = "listening"

        def tell(self, trials):
            told.extend((t.number, t.losses, t.constraints) for t in trials)

    with registered(Listening):
        study = hpo.optimize(two, SPACE, strategy="listening", n_trials=3, seed=0,
                             directions=["maximize", "minimize"],
                             constraints=lambda t: [t.params["y"] - 0.5])
    assert told == [(t.number, [-t.values[0], t.values[1]], [t.params["y"] - 0.5])
                    for t in study.trials]


# storage: files written by schema 3 stay readable and writable ----------------------
SCHEMA_3 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE studies (study_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL, config TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE trials (trial_id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
    number INTEGER NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL, value REAL,
    metrics TEXT NOT NULL DEFAULT '{}', intermediate TEXT NOT NULL DEFAULT '[]', error TEXT,
    datetime_start TEXT, datetime_complete TEXT, duration REAL,
    attempts INTEGER NOT NULL DEFAULT 0, user_attrs TEXT NOT NULL DEFAULT '{}',
    UNIQUE (study_id, number));
CREATE TABLE study_attrs (study_id INTEGER NOT NULL REFERENCES studies(study_id)
    ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (study_id, key));
CREATE TABLE leases (study_id INTEGER PRIMARY KEY REFERENCES studies(study_id)
    ON DELETE CASCADE, owner TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
    started TEXT NOT NULL, heartbeat REAL NOT NULL);
CREATE TABLE checkpoints (study_id INTEGER NOT NULL REFERENCES studies(study_id)
    ON DELETE CASCADE, number INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (study_id, number));
INSERT INTO meta VALUES ('schema_version', '3');
"""


def _schema_3_file(path):
    """A file as schema 3 wrote it: a maximized study of 3 trials (COMPLETE, FAILED,
    COMPLETE), made with the SQL of that version (frozen here)."""
    space = hpo.Space.from_dict(SPACE).to_dict()
    config = {"objective": "ask-and-tell", "strategy": "random", "strategy_options": {},
              "direction": "maximize", "space": space, "seed": 7, "pruner": None,
              "pruner_options": None}
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_3)
    conn.execute("INSERT INTO studies (name, direction, config, created) VALUES (?, ?, ?, ?)",
                 ("old", "maximize", json.dumps(config), "2026-01-01T00:00:00.000+00:00"))
    rows = [(0, "COMPLETE", {"x": 0.25, "y": 0.5}, 0.25, None),
            (1, "FAILED", {"x": 0.5, "y": 0.5}, None, "ValueError: boom"),
            (2, "COMPLETE", {"x": 0.75, "y": 0.1}, 0.75, None)]
    for number, state, params, value, error in rows:
        conn.execute("INSERT INTO trials (study_id, number, state, params, value, metrics, "
                     "error, duration, attempts) VALUES (1, ?, ?, ?, ?, ?, ?, 0.5, 1)",
                     (number, state, json.dumps(params), value, json.dumps({"m": number}),
                      error))
    conn.commit()
    conn.close()
    return rows


def _version(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        conn.close()


def test_a_schema_3_file_is_read_only_as_it_is(tmp_path):
    db = tmp_path / "old.db"
    rows = _schema_3_file(db)
    before = db.read_bytes()
    storage = Storage(db, readonly=True)
    record = storage.get_study("old")
    trials = storage.load_trials(record.study_id, record.direction)
    assert [(t.number, t.state.value, t.params, t.value, t.error) for t in trials] == [
        (n, s, p, v, e) for n, s, p, v, e in rows]
    assert [t.values for t in trials] == [[0.25], None, [0.75]]
    assert [t.losses for t in trials] == [[-0.25], None, [-0.75]]
    assert [t.constraints for t in trials] == [None] * 3
    storage.close()
    assert db.read_bytes() == before and _version(db) == "3"


def test_a_schema_3_file_is_upgraded_keeping_every_trial_and_takes_new_ones(tmp_path):
    db = tmp_path / "old.db"
    rows = _schema_3_file(db)
    study = hpo.create_study(SPACE, strategy="random", direction="maximize", seed=7,
                             storage=db, name="old")
    assert _version(db) == "4"
    assert [(t.number, t.state.value, t.params, t.value, t.error, t.metrics) for t in
            study.trials] == [(n, s, p, v, e, {"m": n}) for n, s, p, v, e in rows]
    assert [t.values for t in study.trials] == [[0.25], None, [0.75]]
    assert study.best_trial.number == 2 and study.best_value == 0.75
    trial = study.ask()
    assert trial.number == 3
    study.tell(trial, 0.9)
    study.close()
    again = hpo.create_study(SPACE, strategy="random", direction="maximize", seed=7,
                             storage=db, name="old")
    assert [(t.number, t.value, t.values) for t in again.trials] == [
        (0, 0.25, [0.25]), (1, None, None), (2, 0.75, [0.75]), (3, 0.9, [0.9])]
    again.close()
    # a new study with several objectives and constraints in the upgraded file
    mo = hpo.optimize(two, SPACE, strategy="random", n_trials=3, seed=0, storage=db,
                      study="new", directions=["maximize", "minimize"],
                      constraints=lambda t: [t.params["x"] - 0.5])
    reader = Storage(db, readonly=True)
    stored = reader.load_trials(reader.get_study("new").study_id, "maximize")
    assert [(t.values, t.losses, t.constraints) for t in stored] == [
        (t.values, t.losses, t.constraints) for t in mo.trials]
    assert [len(t.values) for t in stored] == [2, 2, 2]
    reader.close()


def test_study_name_is_optunas_name_for_the_study():
    # (beside the directions: the other Optuna argument name optimize/create_study take)
    assert hpo.optimize(lambda p: p["x"], SPACE, strategy="random", n_trials=1,
                        study_name="opt").name == "opt"
    with hpo.create_study(SPACE, strategy="random", study_name="ask") as study:
        assert study.name == "ask"
    with pytest.raises(hpo.OptionError) as err:
        hpo.create_study(SPACE, name="a", study_name="b")
    assert str(err.value) == "give name= or study_name= (the same thing), not both"


def test_values_travel_from_worker_processes_and_into_the_dataframe():
    study = hpo.optimize(two, SPACE, strategy="random", n_trials=4, seed=5, n_jobs=2,
                         directions=["maximize", "minimize"],
                         constraints=lambda t: [t.values[1] - 500])
    assert all(t.values == two(t.params) for t in study.trials)
    assert all(t.constraints == [t.values[1] - 500] for t in study.trials)
    df = study.to_dataframe()
    assert list(df["values_0"]) == [t.values[0] for t in study.trials]
    assert list(df["values_1"]) == [t.values[1] for t in study.trials]
    assert list(df["feasible"]) == [t.values[1] <= 500 for t in study.trials]
