"""The pruners' index (``Pruner.index``) decides exactly as the scan it replaces.

Each shipped pruner runs a study through ask/tell, three trials at a time, with uneven
steps, NaN and infinite reports, FAILED trials, pauses and promotions, and a resume from
SQLite halfway (left RUNNING trials re-queued, the index rebuilt from the loaded trials).
At every report and every promotion the study's pruner answers from the study's index and
history view, and the same pruner scanning a copied list (the list the study used to
hand over, and the path a pruner without an index takes) must agree, every time. When the
index was added, the pruners as they were before it (eb0fe2b) were compared here too and
agreed on every decision (commit 6d27dac); that frozen copy was then dropped.
"""

from __future__ import annotations

import math
import random

import hpo_pruners as after
import pytest

import hpo_framework as hpo
from hpo_framework import Pruner, TrialState
from hpo_framework.contracts.pruner import History
from hpo_framework.contracts.trial import Outcome

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}


class Checked(Pruner):
    """The study's pruner: ``new`` with the study's index and view; every answer also
    asked of ``new`` on a copied list (the history as it used to be built)."""

    name = "checked"

    def __init__(self, new: Pruner, log: list) -> None:
        self.new, self.log = new, log
        self.seed, self.config, self.pauses = new.seed, new.config, new.pauses

    def index(self):
        return self.new.index()

    def prune(self, trial, history):
        assert isinstance(history, History)
        indexed = history.index is not None
        copied = list(history)
        assert [t.number for t in copied] == [t.number for t in history
                                             ] and trial.number not in {t.number for t in copied}
        got = self.new.prune(trial, history)
        scanned = self.new.prune(trial, copied)
        self.log.append(("prune", trial.number, trial.curve[-1], indexed, got, scanned))
        return got

    def promote(self, paused, history, *, more):
        copied = list(history)
        got = self.new.promote(paused, history, more=more)
        scanned = self.new.promote(paused, copied, more=more)
        self.log.append(("promote", tuple(t.number for t in paused), more,
                         history.index is not None, got, scanned))
        return got


def curve_of(number: int, seed: int) -> list[tuple[int, float, str]]:
    """A trial's reports: (step, value, kind); kind 'fail' ends it FAILED there."""
    rng = random.Random(seed * 1000 + number)
    quality = rng.random()
    length = rng.choice([4, 9, 10, 12])
    start, every = rng.choice([(1, 1), (1, 1), (0, 1), (2, 2), (1, 3)])
    out = []
    for k in range(length):
        step = start + k * every
        value = quality + 1.0 / (step + 1) + rng.gauss(0, 0.05)
        kind = "report"
        roll = rng.random()
        if roll < 0.03:
            value = math.nan
        elif roll < 0.05:
            value = math.inf
        elif roll < 0.07:
            kind = "fail"
        out.append((step, round(value, 3), kind))
    return out


def run(study, n_new: int, seed: int, parallel: int = 3, stop_after: int | None = None):
    """Drive the study as the loop does (promotions first, then new trials), each running
    trial reporting one step per round; with ``stop_after``, return once that many trials
    were started, leaving the running ones RUNNING (a driver killed)."""
    running: dict[int, tuple] = {}
    started = 0
    while True:
        while len(running) < parallel:
            more = started < n_new
            paused = study.paused
            if paused and study.pruner.pauses:
                numbers = study.promotions(paused, more=more)[:parallel - len(running)]
                for number in numbers:
                    trial, checkpoint = study.resume(number)
                    running[number] = (trial, list(checkpoint["rest"]))
                if numbers:
                    continue
            if not more or (stop_after is not None and started >= stop_after):
                break
            trial = study.ask()
            started += 1
            running[trial.number] = (trial, curve_of(trial.number, seed))
        if stop_after is not None and started >= stop_after:
            return started
        if not running:
            study.end_paused("not resumed")
            return started
        for number in sorted(running):
            trial, rest = running[number]
            step, value, kind = rest.pop(0)
            if kind == "fail":
                study.tell(trial, TrialState.FAILED)
            else:
                trial.handle.report(value, step)
                if trial.handle.should_pause() and rest:
                    study.tell(trial, Outcome(TrialState.PAUSED,
                                              intermediate=list(trial.handle.intermediate),
                                              checkpoint={"rest": rest}))
                elif trial.handle.should_prune() and not trial.handle.should_pause():
                    study.tell(trial, TrialState.PRUNED)
                elif rest:
                    continue
                else:
                    study.tell(trial, value if math.isfinite(value) else 1e9)
            del running[number]


CASES = [
    ("median", "MedianPruner", {}),
    ("median", "MedianPruner", {"n_startup_trials": 2, "n_warmup_steps": 2,
                                "interval_steps": 2, "n_min_trials": 3}),
    ("asha", "ASHAPruner", {}),
    ("asha", "ASHAPruner", {"min_resource": "auto", "min_early_stopping_rate": 1}),
    ("asha", "ASHAPruner", {"max_resource": 10, "hopeless_after": 3}),
    ("asha", "ASHAPruner", {"min_resource": 2, "hopeless_after": 3, "trend_window": 2}),
    ("asha", "ASHAPruner", {"max_resource": 10, "trend_window": 3, "pause": True}),
    ("asha", "ASHAPruner", {"pause": True}),
    ("asha-promote", "PromotingASHAPruner", {}),
    ("hyperband", "HyperbandPruner", {}),
    ("hyperband", "HyperbandPruner", {"max_resource": 9, "reduction_factor": 2}),
    ("halving", "HalvingPruner", {}),
]


@pytest.mark.parametrize(("name", "cls", "options"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_index_decides_as_the_scan_before_it(tmp_path, name, cls, options):
    log: list = []
    direction = "maximize" if name == "hyperband" else "minimize"

    def opened():
        study = hpo.create_study(SPACE, strategy="random", seed=3, direction=direction,
                                 storage=str(tmp_path / "s.db"), name="s", pruner=name,
                                 pruner_options=options)
        new = getattr(after, cls)(seed=11, **options)
        study.pruner = Checked(new, log)
        return study, new.index() is not None

    study, indexes = opened()
    run(study, 70, seed=5, stop_after=35)
    study.close()  # three trials left RUNNING: re-queued on reopening
    study, _ = opened()
    resumed_at = len(log)
    run(study, 70 - 35 + 3, seed=5)
    study.close()

    disagree = [entry for entry in log if entry[4] != entry[5]]
    assert not disagree, f"{len(disagree)} decisions differ, the first: {disagree[0]}"
    prunes = [e for e in log if e[0] == "prune"]
    stopped = [e for e in prunes if e[4]]
    assert len(prunes) > 100 and 10 < len(stopped) < len(prunes), (len(prunes), len(stopped))
    if indexes:  # the study's index was read, before and after the resume
        assert all(e[3] for e in log)
    assert any(e[0] == "prune" for e in log[resumed_at:])
    if getattr(after, cls)(seed=11, **options).pauses:
        assert any(e[0] == "promote" and e[4] for e in log)


def test_a_broken_index_is_named_once_and_the_pruner_scans(recwarn):
    """An index whose told() raises: one warning naming the pruner; decisions go on from
    the scan of the history (the view then carries no index)."""

    class Broken(after.MedianPruner):
        name = "broken"

        def index(self):
            index = super().index()

            def told(trial):
                raise RuntimeError("disk on fire")
            index.told = told
            return index

    seen: list = []

    class Spy(Broken):
        def prune(self, trial, history):
            seen.append(history.index)
            return super().prune(trial, history)

    study = hpo.create_study(SPACE, strategy="random", seed=1)
    study.pruner = Spy(seed=0, n_startup_trials=1)
    stopped = []
    for number in range(4):
        trial = study.ask()
        trial.handle.report(float(number), 0)
        stopped.append(trial.handle.should_prune())
        study.tell(trial, float(number))
    messages = [str(w.message) for w in recwarn if "disk on fire" in str(w.message)]
    assert len(messages) == 1 and "pruner 'broken'" in messages[0], messages
    assert seen[0] is not None and seen[-1] is None
    # the median of the finished trials at step 0 is 0.0 (trial 0): the others are worse
    assert stopped == [False, True, True, True]


def test_history_view_reads_like_the_list_it_replaces():
    """Every trial but the skipped one, in order: len, indexing (negative too), slices,
    iteration; a number not in the study skips nothing; open is the unfinished others."""
    from hpo_framework import Trial

    trials = [Trial(number=n, params={}, state=TrialState.COMPLETE) for n in (0, 1, 2, 4, 5)]
    trials[3].state = TrialState.RUNNING
    trials[4].state = TrialState.PAUSED
    for skip in (0, 2, 5, 3, None):
        expected = [t for t in trials if t.number != skip]
        view = History(trials, skip)
        assert len(view) == len(expected)
        assert list(view) == expected
        assert [view[i] for i in range(-len(view), len(view))] == expected + expected
        assert view[1:3] == expected[1:3] and view[::-1] == expected[::-1]
        assert view.open == [t for t in expected if not t.state.finished]
        with pytest.raises(IndexError):
            view[len(view)]
