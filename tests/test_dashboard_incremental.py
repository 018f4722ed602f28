"""The dashboard reads a changed study incrementally (issue 26): only its unfinished trials
and the new ones, the finished ones kept from the version it holds; checked against the
file's aggregate, and read in full when that differs.

A writer holds the study's lease and changes it step by step as a driver does (trials
added, RUNNING ones finishing, a PAUSED one resumed, one whose worker died re-queued and
re-run); after each step the dashboard's view, read from the previous one, must equal a
full read field by field, and its API the same JSON."""

import dataclasses
import json
import math
import sqlite3

import pytest

from hpo_framework.contracts.trial import Trial, TrialState
from hpo_framework.results import load_study
from hpo_framework.study.memory import MemoryStorage
from hpo_framework.study.storage import Storage, now

data = pytest.importorskip("hpo_dashboard.data")

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0},
         "k": {"type": "categorical", "choices": ["a", "b"]}}
CONFIG = {"strategy": "random", "metric": "loss", "space": SPACE, "seed": 0}
FIELDS = [f.name for f in dataclasses.fields(Trial) if f.compare]


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    """Every version read as soon as it is asked for (no cost throttle), and no snapshot
    kept from another test."""
    monkeypatch.setattr(data, "SLOW_S", math.inf)
    for kept in (data._cache, data._fingerprints, data._study_rows):
        kept.clear()
    yield
    for kept in (data._cache, data._fingerprints, data._study_rows):
        kept.clear()


class Writer:
    """The driver's side: a storage holding the study's lease."""

    def __init__(self, storage):
        self.storage = storage
        self.record = storage.create_study("s", "minimize", CONFIG)
        storage.acquire_lease(self.record.study_id, "s")
        self.trials = {}

    def add(self, number, state, value=None, **kw):
        t = Trial(number=number, params={"x": number / 100, "k": "ab"[number % 2]},
                  state=state, datetime_start=now(), attempts=1, **kw)
        self.trials[number] = t
        self._finish_fields(t, value)
        self.storage.add_trial(self.record.study_id, t)

    def set(self, number, state, value=None, **kw):
        t = self.trials[number]
        t.state = state
        for k, v in kw.items():
            setattr(t, k, v)
        if state is TrialState.RUNNING:
            t.datetime_start, t.datetime_complete = now(), None
            t.attempts += 1
        self._finish_fields(t, value)
        self.storage.update_trial(self.record.study_id, t)

    @staticmethod
    def _finish_fields(t, value):
        if t.state.finished:
            t.datetime_complete = now()
            t.duration = 0.5
        if t.state is TrialState.COMPLETE:
            t.value = value
            t.values = [value]
            t.intermediate = [{"step": 0, "value": value + 1}, {"step": 1, "value": value}]


def _same(a, b):
    assert (a.name, a.direction, a.config, a.attrs, a.created, a.directions) == \
        (b.name, b.direction, b.config, b.attrs, b.created, b.directions)
    assert [t.number for t in a.trials] == [t.number for t in b.trials]
    for x, y in zip(a.trials, b.trials, strict=True):
        for name in FIELDS:
            assert getattr(x, name) == getattr(y, name), (x.number, name)


def _answers(path):
    """What the API answers for the study: its page of every trial, each trial's view and
    the studies list, as JSON."""
    snap = data.snapshot(path, "s")
    out = {"trials": data.trials_answer(path, "s", {})[1](),
           "studies": data.studies_answer(path)[1]()}
    for t in snap.view.trials:
        out[f"trial {t.number}"] = data.trial_answer(path, "s", t.number)[1]()
    return out


def _full_answers(path):
    """The same answers from a server that holds nothing yet (a full read)."""
    saved = {id(k): dict(k) for k in (data._cache, data._fingerprints, data._study_rows)}
    for kept in (data._cache, data._fingerprints, data._study_rows):
        kept.clear()
    try:
        assert data.snapshot(path, "s").read == "full"
        return _answers(path)
    finally:
        for kept in (data._cache, data._fingerprints, data._study_rows):
            kept.clear()
            kept.update(saved[id(kept)])


def test_a_growing_study_read_incrementally_equals_a_full_read(tmp_path):
    path = str(tmp_path / "inc.db")
    w = Writer(Storage(path))
    for n in range(4):
        w.add(n, TrialState.COMPLETE, value=1.0 - n / 10)
    w.add(4, TrialState.FAILED, error="diverged")
    w.add(5, TrialState.RUNNING)
    w.add(6, TrialState.WAITING)
    w.add(7, TrialState.PAUSED, intermediate=[{"step": 0, "value": 0.9}])
    w.add(8, TrialState.RUNNING)
    snap = data.snapshot(path, "s")
    assert snap.read == "full"

    def step():
        nonlocal snap
        held = {t.number: t for t in snap.view.trials}
        snap = data.snapshot(path, "s")
        assert snap.read == "incremental"
        full = load_study(path, "s")
        _same(snap.view, full)
        for t in snap.view.trials:  # the finished trials held: the same objects
            if held.get(t.number) is not None and held[t.number].state.finished:
                assert t is held[t.number]
        assert _answers(path) == _full_answers(path)

    w.set(5, TrialState.COMPLETE, value=0.3)              # RUNNING -> COMPLETE
    w.add(9, TrialState.COMPLETE, value=0.8)              # a new trial, finished
    w.add(10, TrialState.RUNNING)
    step()
    w.set(7, TrialState.RUNNING)                          # the PAUSED one resumed
    w.set(6, TrialState.RUNNING)                          # the waiting one starts
    step()
    w.set(8, TrialState.WAITING, error="worker died; retry 1 of 2")  # re-queued
    w.set(7, TrialState.COMPLETE, value=0.2)
    w.storage.set_study_attr(w.record.study_id, "strategy_stats", {"told": 7})
    step()
    w.set(8, TrialState.RUNNING)                          # re-run: attempts 2
    w.set(6, TrialState.PRUNED)
    w.add(11, TrialState.WAITING)
    step()
    w.set(8, TrialState.COMPLETE, value=0.1)
    w.set(10, TrialState.FAILED, error="oom")
    w.set(11, TrialState.RUNNING)
    step()
    assert snap.view.trials[8].attempts == 2 and snap.view.best_trial.number == 8
    full = json.loads(_full_answers(path)["trials"])
    assert [r["state"] for r in full["trials"]] == \
        ["COMPLETE"] * 4 + ["FAILED", "COMPLETE", "PRUNED", "COMPLETE", "COMPLETE",
                            "COMPLETE", "FAILED", "RUNNING"]


def _behind_its_back(path, sql, args=()):
    with sqlite3.connect(path) as conn:
        conn.execute(sql, args)


def test_a_finished_trial_changed_behind_its_back_is_read_again_in_full(tmp_path):
    path = str(tmp_path / "back.db")
    w = Writer(Storage(path))
    for n in range(5):
        w.add(n, TrialState.COMPLETE, value=float(n))
    w.add(5, TrialState.RUNNING)
    assert data.snapshot(path, "s").read == "full"
    # a finished trial run again (its row back to RUNNING, one more attempt), which the
    # storage's own writes never do: the merged trials would keep it COMPLETE
    _behind_its_back(path, "UPDATE trials SET state = 'RUNNING', attempts = 2, "
                     "datetime_complete = NULL, value = NULL WHERE number = 2")
    snap = data.snapshot(path, "s")
    assert snap.read == "fallback"
    _same(snap.view, load_study(path, "s"))
    assert snap.view.trials[2].state is TrialState.RUNNING
    assert _answers(path) == _full_answers(path)
    # a trial inserted below the last one (which "after" does not read): the count shows
    _behind_its_back(path, "DELETE FROM trials WHERE number = 1")
    assert data.snapshot(path, "s").read == "fallback"
    w.add(1, TrialState.COMPLETE, value=-1.0)
    snap = data.snapshot(path, "s")
    assert snap.read == "fallback"
    _same(snap.view, load_study(path, "s"))
    assert snap.view.best_trial.number == 1


def test_a_changed_config_is_read_in_full(tmp_path):
    path = str(tmp_path / "cfg.db")
    w = Writer(Storage(path))
    w.add(0, TrialState.COMPLETE, value=1.0)
    w.add(1, TrialState.RUNNING)
    previous = load_study(path, "s")
    w.set(1, TrialState.COMPLETE, value=0.5)
    assert load_study(path, "s", previous=previous).incremental
    _behind_its_back(path, "UPDATE studies SET config = ?",
                     (json.dumps({**CONFIG, "metric": "error"}),))
    view = load_study(path, "s", previous=previous)
    assert not view.incremental and view.metric == "error"
    _same(view, load_study(path, "s"))


@pytest.mark.parametrize("make", [lambda tmp: Storage(str(tmp / "f.db")),
                                  lambda tmp: MemoryStorage()], ids=["sqlite", "memory"])
def test_load_trials_reads_the_numbers_asked_and_those_after(tmp_path, make):
    storage = make(tmp_path)
    w = Writer(storage)
    for n in range(1200):  # more numbers than one IN (...) asks for
        w.add(n, TrialState.COMPLETE if n % 3 else TrialState.RUNNING, value=float(n))
    sid = w.record.study_id
    every = storage.load_trials(sid, "minimize")
    wanted = [n for n in range(1200) if n % 3 == 0 and n < 1100]
    some = storage.load_trials(sid, "minimize", numbers=wanted, after=1150)
    expect = [t for t in every if t.number in set(wanted) or t.number > 1150]
    assert [t.number for t in some] == [t.number for t in expect]
    for x, y in zip(some, expect, strict=True):
        assert [getattr(x, f) for f in FIELDS] == [getattr(y, f) for f in FIELDS]
    assert [t.number for t in storage.load_trials(sid, numbers=[5, 3])] == [3, 5]
    assert [t.number for t in storage.load_trials(sid, after=1197)] == [1198, 1199]
    assert storage.load_trials(sid, numbers=[]) == []
