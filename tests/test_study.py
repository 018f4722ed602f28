"""The study loop on real SQLite files: budgets, failures, resume, mismatches, the API."""

import math
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from clitools import registered

import hpo_framework as hpo
from hpo_framework import Space, Storage, Study, TrialState
from hpo_framework.builtin.random_strategy import RandomStrategy

SPACE = {"x": {"type": "float", "low": -5, "high": 5}, "k": {"type": "int", "low": 0, "high": 3}}


def quadratic(p):
    return (p["x"] - 1.5) ** 2 + p["k"]


def test_optimize_finds_a_good_point_and_reports_trials():
    study = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=40, seed=3)
    assert len(study.trials) == 40
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert study.best_value == min(t.value for t in study.trials)
    assert study.best_value < 0.5
    assert study.best_params["k"] == 0
    t = study.trials[0]
    assert set(t.to_dict()) >= {"number", "params", "value", "state", "duration_s"}
    df = study.to_dataframe()
    assert list(df["number"]) == list(range(40))
    assert "params_x" in df.columns and df["value"].min() == study.best_value


def test_maximize_flips_the_loss_the_strategy_sees():
    study = hpo.optimize(lambda p: -quadratic(p), SPACE, strategy="random", n_trials=20, seed=3,
                         direction="maximize")
    assert study.best_value == max(t.value for t in study.trials)
    for t in study.trials:
        assert t.loss == -t.value


def test_same_seed_same_trials_different_seed_different():
    a = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=8, seed=11)
    b = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=8, seed=11)
    c = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=8, seed=12)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.params for t in a.trials] != [t.params for t in c.trials]


def test_failures_are_recorded_and_the_study_goes_on(tmp_path):
    def flaky(p):
        if p["k"] == 1:
            raise RuntimeError("boom at k=1")
        if p["k"] == 2:
            return math.nan
        return quadratic(p)

    db = tmp_path / "f.db"
    study = hpo.optimize(flaky, SPACE, strategy="random", n_trials=30, seed=0, storage=db)
    states = {t.state for t in study.trials}
    assert states == {TrialState.COMPLETE, TrialState.FAILED}
    errors = {t.error for t in study.trials if t.state is TrialState.FAILED}
    assert "RuntimeError: boom at k=1" in errors and "objective returned nan" in errors
    assert len(study.trials) == 30
    # the same failures are in the file
    rows = sqlite3.connect(db).execute(
        "SELECT state, error FROM trials WHERE state = 'FAILED'").fetchall()
    assert len(rows) == sum(t.state is TrialState.FAILED for t in study.trials)
    assert all(err for _, err in rows)


def test_resume_continues_to_the_total_budget_and_keeps_every_trial(tmp_path):
    db = tmp_path / "r.db"
    first = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=5, seed=1, storage=db,
                         study="s")
    first_params = [t.params for t in first.trials]
    second = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=12, seed=1, storage=db,
                          study="s")
    assert len(second.trials) == 12
    assert [t.params for t in second.trials[:5]] == first_params
    # an uninterrupted run with the same seed gives the same 12 trials
    straight = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=12, seed=1)
    assert [t.params for t in second.trials] == [t.params for t in straight.trials]
    # a third run with the same budget does nothing more
    third = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=12, seed=1, storage=db,
                         study="s")
    assert len(third.trials) == 12 and third.stop_reason == "budget"


def test_resume_without_seed_reuses_the_stored_seed(tmp_path):
    db = tmp_path / "seed.db"
    a = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=3, storage=db, study="s")
    b = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=6, storage=db, study="s")
    assert a.seed == b.seed and a.seed is not None
    straight = hpo.optimize(quadratic, SPACE, strategy="random", n_trials=6, seed=a.seed)
    assert [t.params for t in b.trials] == [t.params for t in straight.trials]


def test_reusing_a_study_name_with_another_setup_is_refused(tmp_path):
    db = tmp_path / "m.db"
    hpo.optimize(quadratic, SPACE, strategy="random", n_trials=2, seed=1, storage=db, study="s")
    other_space = {**SPACE, "x": {"type": "float", "low": -1, "high": 1}}
    with pytest.raises(hpo.StudyMismatchError, match="study 's' in .* was run with another space: parameter 'x': low is -5.0 in the "
                       "stored space, -1.0 in this run"):
        hpo.optimize(quadratic, other_space, strategy="random", n_trials=4, seed=1, storage=db,
                     study="s")
    with pytest.raises(hpo.StudyMismatchError, match="seed=1, this run has seed=2"):
        hpo.optimize(quadratic, SPACE, strategy="random", n_trials=4, seed=2, storage=db,
                     study="s")
    fresh = hpo.optimize(quadratic, other_space, strategy="random", n_trials=2, seed=1,
                         storage=db, study="s", new_study=True)
    assert fresh.name == "s-2" and len(fresh.trials) == 2
    names = [r.name for r in Storage(db).list_studies()]
    assert names == ["s", "s-2"]
    assert len(Storage(db).load_trials(Storage(db).get_study("s").study_id)) == 2  # untouched


def test_trial_left_running_by_a_dead_driver_is_requeued(tmp_path):
    db = tmp_path / "k.db"
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal
        import hpo_framework as hpo
        def objective(p):
            if p["n"] == 3:  # the driver dies in the middle of trial 3
                os.kill(os.getpid(), signal.SIGKILL)
            return p["n"]
        hpo.optimize(objective, {{"n": {{"type": "int", "low": 0, "high": 1000}}}},
                     strategy="toy-counter", n_trials=6, seed=0, storage={str(db)!r}, study="k")
    """))
    counter = textwrap.dedent("""
        from hpo_framework import Strategy, get_registry, hookimpl
        class Counter(Strategy):
            name = "toy-counter"
            def ask(self, n=1):
                # n_asked is kept by the framework: this strategy never adds to it
                return [{"n": self.n_asked + i} for i in range(n)]
        class P:
            @hookimpl
            def register_strategies(self, register):
                register("toy-counter", Counter)
        get_registry().register(P(), name="counter")
    """)
    prelude = tmp_path / "sitecustomize.py"
    prelude.write_text(counter)
    env = {"PYTHONPATH": str(tmp_path)}
    import os

    proc = subprocess.run([sys.executable, str(script)], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9
    storage = Storage(db)
    trials = storage.load_trials(storage.get_study("k").study_id)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3 + [TrialState.RUNNING]

    # resume in-process: trial 3 is re-queued with its params and runs first
    from hpo_framework.registry import get_registry

    exec(compile(counter, "counter", "exec"), {})
    study = Study.open(storage=storage, name="k", space=Space.from_dict(
        {"n": {"type": "int", "low": 0, "high": 1000}}),
        strategy_cls=get_registry().get("strategy", "toy-counter"), direction="minimize",
        config={"objective": "objective"})
    assert study.trials[3].state is TrialState.WAITING
    assert "re-queued" in study.trials[3].error
    study.optimize(lambda p: p["n"], n_trials=6)
    assert [t.params["n"] for t in study.trials] == [0, 1, 2, 3, 4, 5]
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert study.trials[3].attempts == 2


def test_every_state_change_is_committed_before_the_loop_moves_on(tmp_path):
    db = tmp_path / "c.db"
    seen = []

    def objective(p):
        # a second connection sees this trial as RUNNING while it runs
        rows = sqlite3.connect(db).execute("SELECT number, state FROM trials").fetchall()
        seen.append(rows)
        return p["x"]

    hpo.optimize(objective, SPACE, strategy="random", n_trials=3, seed=0, storage=db)
    assert seen[0] == [(0, "RUNNING")]
    assert seen[2] == [(0, "COMPLETE"), (1, "COMPLETE"), (2, "RUNNING")]


def test_strategy_options_are_validated():
    with pytest.raises(hpo.OptionError, match=r"strategy 'random': unknown option 'max_retry' "
                                              r"\(accepted: max_retries \(int\)\)"):
        hpo.optimize(quadratic, SPACE, strategy="random", n_trials=2, max_retry=3)


def test_unknown_strategy_from_api():
    with pytest.raises(hpo.UnknownPluginError, match="unknown strategy 'randm': did you mean 'random'"):
        hpo.optimize(quadratic, SPACE, strategy="randm", n_trials=2)


def test_space_file_path_accepted(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("x: {type: float, low: -5, high: 5}\nk: {type: int, low: 0, high: 3}\n")
    study = hpo.optimize(quadratic, path, strategy="random", n_trials=3, seed=0)
    assert len(study.trials) == 3


def test_storage_refuses_foreign_sqlite_file(tmp_path):
    db = tmp_path / "other.db"
    sqlite3.connect(db).execute("CREATE TABLE something (x)").connection.commit()
    with pytest.raises(hpo.StorageError, match="SQLite file of something else"):
        Storage(db)


def test_strategy_restore_equals_uninterrupted():
    space = Space.from_dict(SPACE)
    a = RandomStrategy(space, seed=5)
    asked = a.ask(3)
    b = RandomStrategy(space, seed=5)
    b.restore([hpo.Trial(number=i, params=p, state=TrialState.COMPLETE, value=1.0, loss=1.0)
               for i, p in enumerate(asked)])
    assert a.ask(2) == b.ask(2)


def test_a_strategy_refusing_its_setup_leaves_no_study_behind(tmp_path):
    class Picky(RandomStrategy):
        name = "picky"

        def __init__(self, space, seed=None, **options):
            super().__init__(space, seed, **options)
            raise hpo.OptionError("strategy 'picky': x0 lies outside the space")

    db = tmp_path / "p.db"
    with registered(Picky), pytest.raises(hpo.OptionError, match="x0 lies outside the space"):
        hpo.optimize(quadratic, SPACE, strategy="picky", n_trials=2, storage=db)
    assert Storage(db).list_studies() == []


def test_n_asked_is_kept_by_the_framework_and_done_is_the_one_way_to_stop(tmp_path):
    class TwoThenNothing(hpo.Strategy):
        """Never touches n_asked; proposes two points, then nothing, and is never done."""

        name = "two-then-nothing"
        seen_counts: list[int] = []

        def ask(self, n=1):
            TwoThenNothing.seen_counts.append(self.n_asked)
            return [{"x": 0.1 * (self.n_asked + i), "k": 0} for i in range(n)] \
                if self.n_asked < 2 else []

    db = tmp_path / "t.db"
    with registered(TwoThenNothing), pytest.raises(
            hpo.HPOError, match="strategy 'two-then-nothing' proposed nothing while no trial "
                                "was running and says it is not done"):
        hpo.optimize(quadratic, SPACE, strategy="two-then-nothing", n_trials=5, storage=db,
                     study="t")
    assert TwoThenNothing.seen_counts == [0, 1, 2]
    # the two trials it proposed stay recorded
    [record] = Storage(db).list_studies()
    trials = Storage(db).load_trials(record.study_id)
    assert [(t.params["x"], t.state) for t in trials] == [(0.0, TrialState.COMPLETE),
                                                         (0.1, TrialState.COMPLETE)]
