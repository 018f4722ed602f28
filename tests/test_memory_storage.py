"""The in-memory storage gives what a file gives, and the Study's kept lists (finished,
COMPLETE, best, open) agree with a scan of its trials."""

import math

import numpy as np
import pytest

import hpo_framework as hpo
from hpo_framework import Storage, TrialState
from hpo_framework.contracts.trial import Trial
from hpo_framework.errors import StorageError
from hpo_framework.study.memory import MemoryStorage


def best_of(trials):
    """The reference: the COMPLETE feasible trial of the lowest loss (the first of
    equals), scanned from every trial."""
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.loss is not None
            and t.feasible]
    return min(done, key=lambda t: (t.loss, t.number)) if done else None


SPACE = {"x": {"type": "float", "low": -5, "high": 5}, "k": {"type": "int", "low": 0, "high": 3}}


def test_memory_is_plain_python_and_a_read_only_path_is_not():
    assert isinstance(Storage(":memory:"), MemoryStorage)

    class SQLiteStorage(Storage):
        pass

    assert not isinstance(SQLiteStorage(":memory:"), MemoryStorage)  # SQLite's own
    with pytest.raises(StorageError):
        Storage(":memory:", readonly=True)  # no file to read: refused as before


def _write_history(storage):
    """The same writes to any storage; returns the study id."""
    record = storage.create_study("s", "maximize",
                                  {"directions": ["maximize", "minimize"], "seed": 3})
    storage.set_study_attr(record.study_id, "stats", {"gen": np.int64(2), "bad": math.nan})
    running = Trial(number=0, params={"x": np.float64(1.5), "k": 2})
    running.state = TrialState.RUNNING
    running.datetime_start = "2026-01-01T00:00:00.000+00:00"
    storage.add_trial(record.study_id, running)
    running.state = TrialState.COMPLETE
    running.value, running.values = 3.0, [3.0, np.float32(0.5)]
    running.metrics = {"acc": 0.9, "nan": math.nan, "arr": np.array([1.0, 2.0])}
    running.intermediate = [{"step": 0, "value": 1.0}, {"step": 1, "value": 2.0}]
    running.user_attrs = {"model": "gp"}
    running.constraints = [-1.0]
    running.duration, running.attempts = 0.25, 1
    storage.update_trial(record.study_id, running)
    running.params["x"] = 99.0  # changing the object after the write reaches no storage
    paused = Trial(number=1, params={"x": -1.0, "k": 0})
    paused.state = TrialState.PAUSED
    storage.add_trial(record.study_id, paused)
    storage.save_checkpoint(record.study_id, paused, {"weights": [1, 2]})
    failed = Trial(number=2, params={"x": 0.0, "k": 1})
    failed.state, failed.error, failed.value = TrialState.FAILED, "boom", math.inf
    storage.add_trial(record.study_id, failed)
    return record.study_id


@pytest.mark.parametrize("direction", [None, "maximize", ["maximize", "minimize"]])
def test_memory_reads_back_what_a_file_reads_back(tmp_path, direction):
    file, memory = Storage(tmp_path / "s.db"), Storage(":memory:")
    a, b = _write_history(file), _write_history(memory)
    got_file, got_memory = file.load_trials(a, direction), memory.load_trials(b, direction)
    assert [t.to_dict() for t in got_memory] == [t.to_dict() for t in got_file]
    for m, f in zip(got_memory, got_file, strict=True):
        assert (m.losses, m.loss, m.curve, m.values, m.constraints) == \
            (f.losses, f.loss, f.curve, f.values, f.constraints)
    assert got_memory[0].params["x"] == 1.5 and got_memory[0].metrics["nan"] == "nan"
    assert got_memory[0].losses == ([-3.0, 0.5] if direction else None)
    assert memory.get_study_attrs(b) == file.get_study_attrs(a) == \
        {"stats": {"gen": 2, "bad": "nan"}}
    assert memory.checkpointed(b) == file.checkpointed(a) == {1}
    assert memory.load_checkpoint(b, 1) == file.load_checkpoint(a, 1)
    memory.drop_checkpoint(b, 1)
    assert memory.checkpointed(b) == set() and memory.load_checkpoint(b, 1) is None
    assert [r.config for r in memory.list_studies()] == [r.config for r in file.list_studies()]


def test_memory_refuses_what_a_file_refuses(tmp_path):
    for storage in (Storage(tmp_path / "r.db"), Storage(":memory:")):
        study_id = _write_history(storage)
        with pytest.raises(StorageError, match="already exists"):
            storage.create_study("s", "minimize", {})
        done = storage.load_trials(study_id)[0]
        with pytest.raises(StorageError, match="already COMPLETE; a finished trial is never"):
            storage.update_trial(study_id, done)
        with pytest.raises(StorageError, match="trial 1 already exists"):
            storage.add_trial(study_id, Trial(number=1, params={}))
        with pytest.raises(StorageError, match="trial 7 is not in study"):
            storage.update_trial(study_id, Trial(number=7, params={}))


def test_kept_lists_agree_with_a_scan_when_trials_end_out_of_order():
    study = hpo.create_study(SPACE, strategy="random", seed=0)
    for _ in range(6):
        batch = study.ask_many(3)
        for i, trial in enumerate(reversed(batch)):  # the last asked ends first
            if i == 1:
                study.tell(trial, TrialState.FAILED)
            else:
                study.tell(trial, (trial.params["x"] - 1) ** 2)
        assert study.finished_trials == [t for t in study.trials if t.state.finished]
        assert study.complete_trials == [t for t in study.trials
                                         if t.state is TrialState.COMPLETE]
        assert study.best_trial is best_of(study.trials)
        assert study.n_finished == len(study.trials)
    open_one = study.ask()
    assert study.n_finished == len(study.trials) - 1 and open_one not in study.finished_trials
    study.finished_trials.clear()  # a copy: the study's own list is untouched
    assert study.n_finished == len(study.trials) - 1


def test_best_trial_skips_infeasible_trials_as_the_scan_does():
    study = hpo.create_study(SPACE, strategy="random", seed=1,
                             constraints=lambda t: [t.params["k"] - 1.5])
    for _ in range(20):
        trial = study.ask()
        study.tell(trial, trial.params["x"])
    assert study.best_trial is best_of(study.trials)
    assert study.best_trial.params["k"] <= 1
