"""The median, asha and hyperband pruners: crafted curves, Optuna's own decisions on the same
curves, and the conformance suite that every pruner passes."""

from __future__ import annotations

import math

import pytest
from hpo_pruners import ASHAPruner, HalvingPruner, HyperbandPruner, MedianPruner
from hpo_pruners.hyperband import bracket_budgets, n_brackets

from hpo_framework import OptionError, Pruner, Trial, TrialState, get_registry
from hpo_framework.testing.pruners import (
    PrunerConformance,
    check_keeps_best,
    check_no_history,
    check_pruner,
    check_rebuilt,
    check_stops_hopeless,
    decisions,
    ordinary_curves,
    simulate,
)


def finished(number: int, losses: list[float], state: TrialState = TrialState.COMPLETE,
             first_step: int = 1) -> Trial:
    curve = [(first_step + i, float(v)) for i, v in enumerate(losses)]
    return Trial(number=number, params={}, state=state, curve=curve,
                 loss=curve[-1][1] if state is TrialState.COMPLETE else None)


def running(number: int, losses: list[float], first_step: int = 1) -> Trial:
    return finished(number, losses, TrialState.RUNNING, first_step)


# registration ----------------------------------------------------------------------------

def test_the_four_pruners_are_registered_plugins():
    registry = get_registry()
    assert registry.get("pruner", "median") is MedianPruner
    assert registry.get("pruner", "asha") is ASHAPruner
    assert registry.get("pruner", "hyperband") is HyperbandPruner
    assert registry.get("pruner", "halving") is HalvingPruner
    for cls in (MedianPruner, ASHAPruner, HyperbandPruner, HalvingPruner):
        assert issubclass(cls, Pruner) and cls.kind == "pruner"
    assert [cls.pauses for cls in (MedianPruner, ASHAPruner, HyperbandPruner,
                                   HalvingPruner)] == [False, False, False, True]


@pytest.mark.parametrize(("cls", "options", "message"), [
    (ASHAPruner, {"reduction_factor": 1}, "reduction_factor"),
    (ASHAPruner, {"min_resource": 0}, "min_resource"),
    (ASHAPruner, {"min_resource": "soon"}, "min_resource"),
    (ASHAPruner, {"eta": 3}, "unknown option 'eta'"),
    (ASHAPruner, {"hopeless_after": -1}, "hopeless_after"),
    (ASHAPruner, {"trend_window": -1}, "trend_window"),
    (ASHAPruner, {"max_resource": 0}, "max_resource"),
    (ASHAPruner, {"max_resource": "auto"}, "max_resource"),
    (HyperbandPruner, {"max_resource": "big"}, "max_resource"),
    (HyperbandPruner, {"min_resource": 0}, "min_resource"),
    (MedianPruner, {"interval_steps": 0}, "interval_steps"),
    (MedianPruner, {"n_startup_trials": -1}, "n_startup_trials"),
])
def test_bad_options_are_refused_with_one_line(cls, options, message):
    with pytest.raises(OptionError, match=message) as info:
        cls(**options)
    assert "\n" not in str(info.value)


# median ----------------------------------------------------------------------------------

FIVE = [finished(i, [3.0, v, v]) for i, v in enumerate([1.0, 2.0, 3.0, 4.0, 5.0])]


def test_median_stops_a_trial_worse_than_the_median_at_its_step():
    pruner = MedianPruner()
    assert pruner.prune(running(5, [3.5, 3.5]), FIVE) is True      # median at step 2 is 3.0
    assert pruner.prune(running(5, [3.5, 2.5]), FIVE) is False
    assert pruner.prune(running(5, [4.0, 3.0]), FIVE) is False     # equal to the median


def test_median_compares_the_best_value_so_far():
    # 2.0 at step 1 is the trial's best: 2.0 <= median 3.0 at step 2, so it is kept
    assert MedianPruner().prune(running(5, [2.0, 9.0]), FIVE) is False


def test_median_waits_for_n_startup_finished_trials():
    late = running(9, [3.5, 3.5])
    assert MedianPruner().prune(late, FIVE[:4]) is False
    # running and pruned trials do not count as finished
    extra = [running(6, [3.0, 0.1]), finished(7, [3.0, 0.1], TrialState.PRUNED)]
    assert MedianPruner().prune(late, FIVE[:4] + extra) is False
    assert MedianPruner(n_startup_trials=4).prune(late, FIVE[:4]) is True


def test_median_warmup_and_interval():
    history = [finished(i, [v] * 10) for i, v in enumerate([1.0, 2.0, 3.0, 4.0, 5.0])]
    bad = [9.0] * 10

    def first_stop(**options) -> int | None:
        pruner = MedianPruner(**options)
        for k in range(1, 11):
            if pruner.prune(running(5, bad[:k]), history):
                return k
        return None

    assert first_stop() == 1
    assert first_stop(n_warmup_steps=4) == 4
    assert first_stop(n_warmup_steps=4, interval_steps=3) == 4
    # checks at 4, 7, 10: a trial that beats the median at 4 and falls behind from 5 on
    # is stopped at 7, not at 5 or 6
    rivals = [finished(i, [2.0] * 4 + [v] * 6) for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 0.5])]
    pruner = MedianPruner(n_warmup_steps=4, interval_steps=3)
    curve = [1.0] * 4 + [9.0] * 6
    stops = [k for k in range(1, 11) if pruner.prune(running(5, curve[:k]), rivals)]
    assert stops == [7, 10]


def test_median_interval_check_waits_for_a_missed_step():
    history = [finished(i, [v] * 10) for i, v in enumerate([1.0, 2.0, 3.0, 4.0, 5.0])]
    pruner = MedianPruner(interval_steps=3)  # checks at 0, 3, 6, 9
    # a trial reporting steps 1, 2, 4, 5: step 3 was skipped, so step 4 is checked
    trial = Trial(number=5, params={}, state=TrialState.RUNNING, curve=[(1, 9.0), (2, 9.0)])
    assert pruner.prune(trial, history) is False
    trial.curve.append((4, 9.0))
    assert pruner.prune(trial, history) is True
    trial.curve = [(1, 9.0), (2, 9.0), (3, 9.0), (4, 9.0)]
    assert pruner.prune(trial, history) is False  # step 3 was this interval's check


def test_median_ignores_steps_nobody_finished_reported():
    trial = Trial(number=5, params={}, state=TrialState.RUNNING, curve=[(7, 99.0)])
    history = [Trial(number=i, params={}, state=TrialState.COMPLETE, curve=[(2, 1.0), (4, 1.0)])
               for i in range(5)]
    assert MedianPruner().prune(trial, history) is False
    assert MedianPruner(n_min_trials=6).prune(running(5, [9.0, 9.0]), FIVE) is False


def test_median_stops_an_all_nan_trial():
    assert MedianPruner().prune(running(5, [math.nan, math.nan]), FIVE) is True


# asha ------------------------------------------------------------------------------------

def test_asha_first_rung_keeps_the_top_third():
    # rungs at steps 1, 3, 9; six trials reached step 1 with 1..6
    history = [finished(i, [float(v)]) for i, v in enumerate([1, 2, 3, 4, 5, 6])]
    pruner = ASHAPruner(reduction_factor=3)
    # with the new trial, 7 competitors: 7 // 3 = 2 promoted: values <= the 2nd best (2.0)
    assert pruner.prune(running(6, [2.0]), history) is False
    assert pruner.prune(running(6, [2.5]), history) is True


def test_asha_judges_a_rung_only_when_it_is_reached():
    history = [finished(i, [float(v)] * 10) for i, v in enumerate([1, 2, 3, 4, 5, 6])]
    pruner = ASHAPruner(reduction_factor=3)
    # 1.5 at step 1 promotes it; steps 2 (no rung) are not judged, step 3 is a rung
    assert pruner.prune(running(6, [1.5]), history) is False
    assert pruner.prune(running(6, [1.5, 9.0]), history) is False
    assert pruner.prune(running(6, [1.5, 9.0, 9.0]), history) is True


def test_asha_fewer_than_reduction_factor_competitors_must_be_the_best():
    history = [finished(0, [1.0, 1.0, 1.0])]
    assert ASHAPruner(reduction_factor=3).prune(running(1, [1.2]), history) is True
    assert ASHAPruner(reduction_factor=3).prune(running(1, [0.8]), history) is False
    assert ASHAPruner(reduction_factor=3).prune(running(1, [1.0]), history) is False  # a tie


def test_asha_counts_running_and_pruned_trials_at_a_rung():
    # only running / pruned trials reached step 1: they set the bar all the same
    history = [running(0, [1.0]), finished(1, [0.5], TrialState.PRUNED)]
    assert ASHAPruner().prune(running(2, [0.9]), history) is True
    assert ASHAPruner().prune(running(2, [0.4]), history) is False


def test_asha_min_resource_and_min_early_stopping_rate_move_the_rungs():
    history = [finished(i, [float(v)] * 10) for i, v in enumerate([1, 2, 3, 4, 5, 6])]
    bad = [9.0] * 10

    def first_stop(**options) -> int | None:
        pruner = ASHAPruner(**options)
        for k in range(1, 11):
            if pruner.prune(running(6, bad[:k]), history):
                return k
        return None

    assert first_stop() == 1
    assert first_stop(min_resource=2) == 2
    assert first_stop(min_resource=2, reduction_factor=2, min_early_stopping_rate=1) == 4
    assert first_stop(min_early_stopping_rate=2) == 9
    assert first_stop(min_resource=11) is None


def test_asha_rung_value_is_the_first_report_at_or_after_the_rung():
    # the others reported steps 2, 4, ...: their rung-3 value is their value at step 4
    history = [Trial(number=i, params={}, state=TrialState.COMPLETE,
                     curve=[(2, 5.0), (4, float(v)), (6, 0.0)]) for i, v in enumerate([1, 2, 3])]
    pruner = ASHAPruner(reduction_factor=3)
    trial = Trial(number=3, params={}, state=TrialState.RUNNING, curve=[(1, 0.1), (3, 1.5)])
    # 4 competitors at rung 3: 4 // 3 = 1 promoted: it must be <= 1.0
    assert pruner.prune(trial, history) is True
    trial.curve = [(1, 0.1), (3, 0.9)]
    assert pruner.prune(trial, history) is False


def test_asha_a_report_that_jumps_two_rungs_is_judged_at_both():
    history = [finished(i, [1.0, 1.0, float(v)]) for i, v in enumerate([1, 2, 3, 4, 5, 6])]
    trial = Trial(number=6, params={}, state=TrialState.RUNNING, curve=[(3, 4.0)])
    # at rung 1 (step 1) it competes with six 1.0s and wins a tie; at rung 3 it loses
    assert ASHAPruner().prune(trial, history) is True


def test_asha_auto_min_resource_waits_for_a_finished_trial():
    history = [running(0, [1.0]), finished(1, [0.5], TrialState.PRUNED)]
    assert ASHAPruner(min_resource="auto").prune(running(2, [9.0]), history) is False
    history.append(finished(3, [0.5] * 10))
    assert ASHAPruner(min_resource="auto").prune(running(2, [9.0]), history) is True


def test_asha_stops_a_nan_at_a_rung():
    assert ASHAPruner().prune(running(0, [math.nan]), []) is True


def test_asha_max_resource_leaves_the_top_rung_unjudged():
    # rungs 1, 3, 9; six finished trials at 1.0 everywhere; a trial at 2.0 loses each rung
    history = [finished(i, [1.0] * 10) for i in range(6)]

    def stops(**options) -> list[int]:
        pruner = ASHAPruner(**options)
        return [k for k in (1, 3, 9) if pruner.prune(running(6, [1.0] * (k - 1) + [2.0]),
                                                     history)]

    assert stops() == [1, 3, 9]
    assert stops(max_resource=10) == [1, 3]    # 9 * 3 > 10: the trial that reaches 9 ends
    assert stops(max_resource=27) == [1, 3, 9]
    assert stops(max_resource=8) == [1]        # 3 * 3 > 8
    assert stops(max_resource=2) == []


def hopeless_history() -> list[Trial]:
    """Three finished trials (best final 1.0; from step 2 the most any improved is -2.0)
    and a pruned one whose big late drop must not count."""
    return [finished(0, [5.0, 4.0, 3.0, 2.0]), finished(1, [6.0, 5.0, 4.5, 4.0]),
            finished(2, [3.0, 2.5, 2.2, 1.0]),
            finished(3, [9.0, 9.0, 0.0], TrialState.PRUNED)]


def test_asha_hopeless_after_stops_between_rungs_a_trial_that_cannot_catch_up():
    history = hopeless_history()
    # step 2 is no rung (1, 3, 9): successive halving alone keeps both
    assert ASHAPruner().prune(running(4, [0.5, 3.1]), history) is False
    # 3.1 - 2.0 = 1.1 > 1.0, the best final: even the best improvement seen falls short
    assert ASHAPruner(hopeless_after=3).prune(running(4, [0.5, 3.1]), history) is True
    # 2.9 - 2.0 = 0.9 could still beat it; and a tie (3.0 - 2.0) is kept
    assert ASHAPruner(hopeless_after=3).prune(running(4, [0.5, 2.9]), history) is False
    assert ASHAPruner(hopeless_after=3).prune(running(4, [0.5, 3.0]), history) is False


def test_asha_hopeless_after_waits_for_enough_finished_trials_past_the_step():
    history = hopeless_history()
    # only three trials finished (the pruned one does not count)
    assert ASHAPruner(hopeless_after=4).prune(running(4, [0.5, 9.0]), history) is False
    # no finished trial went past step 4: the end is never judged by this rule
    assert ASHAPruner(hopeless_after=1).prune(running(4, [0.5, 9.0, 0.1, 9.0]),
                                              history) is False
    # a finished trial that stopped at step 2 tells nothing about improving from step 2
    short = [finished(5, [0.1, 0.1])] + history[:2]
    assert ASHAPruner(hopeless_after=3).prune(running(4, [0.5, 9.0]), short) is False



def test_asha_hopeless_rule_judges_no_step_before_min_resource():
    """Before the first rung's step the hopeless rule waits, as the rungs do (a boosting
    trial's first rounds rank learning rates, not models)."""
    history = hopeless_history()
    trial = running(4, [0.5, 3.1])  # step 2: hopeless from step 1 on (see above)
    assert ASHAPruner(hopeless_after=3, min_resource=2).prune(trial, history) is True
    assert ASHAPruner(hopeless_after=3, min_resource=3).prune(trial, history) is False


def trend_history() -> list[Trial]:
    """The best any finished trial reached: 1.0 (trial 1, at its step 3; its end is worse)."""
    return [finished(0, [4.0, 3.0, 2.0]), finished(1, [3.0, 2.0, 1.0, 1.5]),
            finished(2, [9.0, 0.0], TrialState.PRUNED)]


def test_asha_trend_window_stops_a_trial_whose_own_rate_cannot_reach_the_best():
    history = trend_history()
    pruner = ASHAPruner(trend_window=4, max_resource=100, min_resource=50)

    def trial(values):
        return running(5, values)  # steps 1..len(values)

    # flat at 2.0 over its last 4 steps (step 10): no rate, worse than 1.0: stopped
    flat = [3.0, 2.5, 2.2, 2.1, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert pruner.prune(trial(flat), history) is True
    # the same value at step 10 but still falling 0.25 a step (from 3.0 at step 6):
    # 2.0 - 0.25 * 90 < 1.0, it could get there: kept, however bad it is now
    falling = [9.0, 8.0, 7.0, 6.0, 4.0, 3.0, 2.75, 2.5, 2.25, 2.0]
    assert pruner.prune(trial(falling), history) is False
    # falling slower, 0.005 a step (2.02 at step 6 to 2.0 at 10): 2.0 - 0.45 > 1.0, stopped
    slow = [3.0, 2.5, 2.2, 2.1, 2.05, 2.02, 2.015, 2.01, 2.005, 2.0]
    assert pruner.prune(trial(slow), history) is True
    # its best so far counts, not a noisy last report; and a tie with the best is kept
    assert pruner.prune(trial([3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.3]), history) is False
    # the rate is its best so far's: a noisy rise does not make it hopeless by itself
    assert pruner.prune(trial([3.0, 2.0, 1.5, 1.5, 0.9, 5.0, 5.0, 5.0, 5.0]), history) is False


def test_asha_trend_window_waits_for_its_window_a_finished_trial_and_the_horizon():
    history = trend_history()
    flat = [2.0] * 10
    # off by default, and at any other window the same curve is judged
    assert ASHAPruner(max_resource=100, min_resource=50).prune(running(5, flat), history) \
        is False
    assert ASHAPruner(trend_window=9, max_resource=100, min_resource=50).prune(
        running(5, flat), history) is True
    # a window as long as the curve: nothing reported that far back, not judged
    assert ASHAPruner(trend_window=10, max_resource=100, min_resource=50).prune(
        running(5, flat), history) is False
    # no COMPLETE trial yet (a pruned one's 0.0 sets no bar)
    assert ASHAPruner(trend_window=4, max_resource=100, min_resource=50).prune(
        running(5, flat), history[2:]) is False
    # at the horizon the trial ends anyway; without max_resource the longest finished
    # trial's last step (4) is the horizon: step 10 is past it
    assert ASHAPruner(trend_window=4, max_resource=10, min_resource=50).prune(
        running(5, flat), history) is False
    assert ASHAPruner(trend_window=4, min_resource=50).prune(running(5, flat), history) \
        is False
    assert ASHAPruner(trend_window=4, min_resource=50).prune(running(5, [2.0] * 3),
                                                             history) is False


# hyperband -------------------------------------------------------------------------------

def test_hyperband_brackets_follow_hyperband_counts():
    assert n_brackets(1, 10, 3) == 3           # rungs 1, 3, 9
    assert n_brackets(1, 9, 3) == 3
    assert n_brackets(1, 243, 3) == 6          # an exact power (floats say 4.999...)
    assert n_brackets(1, 8, 3) == 2
    assert n_brackets(5, 4, 3) == 1
    assert bracket_budgets(3, 3) == [9, 5, 3]


def test_hyperband_assigns_brackets_by_seed_and_number_in_proportion():
    pruner = HyperbandPruner(max_resource=10, seed=1)
    brackets = [pruner.bracket(n, []) for n in range(1700)]
    counts = [brackets.count(b) for b in range(3)]
    assert counts[0] > counts[1] > counts[2] > 0, counts
    assert abs(counts[0] / 1700 - 9 / 17) < 0.05, counts
    again = HyperbandPruner(max_resource=10, seed=1)
    assert [again.bracket(n, []) for n in range(200)] == brackets[:200]
    other = HyperbandPruner(max_resource=10, seed=2)
    assert [other.bracket(n, []) for n in range(200)] != brackets[:200]


def test_hyperband_trial_competes_only_within_its_bracket():
    pruner = HyperbandPruner(max_resource=10, seed=0)
    numbers = list(range(60))
    mine = [n for n in numbers if pruner.bracket(n, []) == 0]
    theirs = [n for n in numbers if pruner.bracket(n, []) != 0]
    trial_number, rivals = mine[-1], mine[:-1]
    good_elsewhere = [finished(n, [0.01] * 10) for n in theirs]
    bad_here = [finished(n, [5.0] * 10) for n in rivals]
    # the trial is worse than every trial of other brackets but best in its own
    assert pruner.prune(running(trial_number, [1.0]), good_elsewhere + bad_here) is False
    worse_here = [finished(n, [0.5] * 10) for n in rivals]
    assert pruner.prune(running(trial_number, [1.0]), good_elsewhere + worse_here) is True


def test_hyperband_lenient_bracket_judges_late():
    pruner = HyperbandPruner(max_resource=10, seed=0)
    last = next(n for n in range(100) if pruner.bracket(n, []) == 2)
    rivals = [finished(n, [1.0] * 10) for n in range(100)
              if pruner.bracket(n, []) == 2 and n != last]
    stops = [k for k in range(1, 11) if pruner.prune(running(last, [9.0] * k), rivals)]
    assert stops[0] == 9


def test_hyperband_auto_max_resource_waits_for_a_finished_trial():
    pruner = HyperbandPruner()
    history = [running(n, [1.0] * 3) for n in range(10)]
    assert pruner.budgets(history) is None
    assert pruner.prune(running(10, [9.0] * 9), history) is False
    history.append(finished(10, [1.0] * 10))
    assert pruner.budgets(history) == [9, 5, 3]


# the same decisions as Optuna's pruners on the same curves ---------------------------------

def optuna_decisions(pruner, curves, study_name="0"):
    """Run Optuna serially on fixed curves; (number, state, last step) per trial."""
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=study_name, pruner=pruner,
                                sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial):
        curve = curves[trial.number]
        for step, loss in curve:
            trial.report(loss, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return curve[-1][1]

    study.optimize(objective, n_trials=len(curves))
    out = []
    for t in study.trials:
        state = "PRUNED" if t.state == optuna.trial.TrialState.PRUNED else "COMPLETE"
        out.append((t.number, state, t.last_step))
    return out


CURVES = ordinary_curves(40, seed=21) + ordinary_curves(10, seed=22, steps=range(2, 11, 2))


@pytest.mark.parametrize(("ours", "theirs"), [
    (lambda: MedianPruner(), lambda o: o.pruners.MedianPruner()),
    (lambda: MedianPruner(n_startup_trials=2, n_warmup_steps=3, interval_steps=2),
     lambda o: o.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=3, interval_steps=2)),
    (lambda: ASHAPruner(), lambda o: o.pruners.SuccessiveHalvingPruner(
        min_resource=1, reduction_factor=3)),
    (lambda: ASHAPruner(min_resource=2, reduction_factor=2, min_early_stopping_rate=1),
     lambda o: o.pruners.SuccessiveHalvingPruner(
         min_resource=2, reduction_factor=2, min_early_stopping_rate=1)),
    (lambda: HyperbandPruner(max_resource=10, seed=7),
     lambda o: o.pruners.HyperbandPruner(min_resource=1, max_resource=10, reduction_factor=3)),
    (lambda: HyperbandPruner(min_resource=1, max_resource=10, reduction_factor=2, seed=7),
     lambda o: o.pruners.HyperbandPruner(min_resource=1, max_resource=10, reduction_factor=2)),
], ids=["median", "median-options", "asha", "asha-options", "hyperband", "hyperband-rf2"])
def test_same_decisions_as_optuna_on_the_same_curves(ours, theirs):
    optuna = pytest.importorskip("optuna")
    expected = optuna_decisions(theirs(optuna), CURVES, study_name="7")
    got = decisions(simulate(ours(), CURVES))
    assert got == expected
    assert any(state == "PRUNED" for _, state, _ in got), "nothing pruned: the test is void"


# the conformance suite, and that it can fail ---------------------------------------------

class TestMedianConformance(PrunerConformance):
    pruner_cls = MedianPruner


class TestASHAConformance(PrunerConformance):
    pruner_cls = ASHAPruner


class TestASHAOptionsConformance(PrunerConformance):
    pruner_cls = ASHAPruner
    options = {"min_resource": 2, "reduction_factor": 2}


class TestASHAHopelessConformance(PrunerConformance):
    pruner_cls = ASHAPruner
    options = {"hopeless_after": 3, "max_resource": 10}


class TestASHATrendConformance(PrunerConformance):
    pruner_cls = ASHAPruner
    options = {"trend_window": 2, "max_resource": 10}


class TestHyperbandConformance(PrunerConformance):
    pruner_cls = HyperbandPruner


class TestHyperbandFixedConformance(PrunerConformance):
    pruner_cls = HyperbandPruner
    options = {"max_resource": 10, "reduction_factor": 2}


def test_the_suite_passes_a_pruner_that_never_stops_ordinary_curves():
    """A patience rule (stop after 2 reports without improvement) stops nothing on steadily
    falling curves: that is allowed; only the hopeless one must go."""
    check_pruner(Patience)


def test_check_pruner_runs_every_check_for_each_shipped_pruner():
    for cls in (MedianPruner, ASHAPruner, HyperbandPruner, HalvingPruner):
        check_pruner(cls)
    check_pruner(ASHAPruner, pause=True)  # Li et al.'s promotions
    check_pruner(ASHAPruner, pause=True, max_resource=10)


def test_the_conformance_suite_catches_a_pausing_pruner_that_never_resumes():
    class Forgets(HalvingPruner):
        def promote(self, paused, history, *, more):
            return []

    with pytest.raises(AssertionError, match="fails 'keeps_best'"):
        check_pruner(Forgets)


class NeverPrunes(Pruner):
    name = "never"

    def prune(self, trial, history):
        return False


class AlwaysPrunes(Pruner):
    name = "always"

    def prune(self, trial, history):
        return len(trial.curve) >= 2


class Patience(Pruner):
    name = "patience"

    def prune(self, trial, history):
        losses = [loss for _, loss in trial.curve]
        stalled = len(losses) > 2 and min(losses[-2:]) >= min(losses[:-2])
        beaten = any(t.state is TrialState.COMPLETE and t.loss is not None
                     and t.loss < losses[-1] for t in history)
        return stalled and beaten


class Forgetful(ASHAPruner):
    """Keeps a count across calls: rebuilt, it decides differently."""

    name = "forgetful"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def prune(self, trial, history):
        self.calls += 1
        return self.calls > 40 and super().prune(trial, history)


class NumpyAnswer(ASHAPruner):
    name = "numpy-answer"

    def prune(self, trial, history):
        import numpy as np

        return np.bool_(super().prune(trial, history))


@pytest.mark.parametrize(("cls", "check", "message"), [
    (NeverPrunes, check_stops_hopeless, "hopeless"),
    (AlwaysPrunes, check_keeps_best, "best curve"),
    (AlwaysPrunes, check_no_history, "only trial"),
    (Forgetful, check_rebuilt, "rebuilt"),
    (NumpyAnswer, check_no_history, "must return a bool"),
])
def test_the_suite_catches_a_broken_pruner(cls, check, message):
    with pytest.raises(AssertionError, match=message):
        check(cls)


def test_check_pruner_names_the_failing_check():
    with pytest.raises(AssertionError, match="NeverPrunes fails 'stops_hopeless'"):
        check_pruner(NeverPrunes)


# through the study: optimize(objective(params, trial), pruner=NAME) ------------------------

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}


def falling(params, trial):
    """A loss curve that falls towards x; x > 0.8 is hopeless (loss 9 at every step)."""
    from hpo_framework import TrialPruned

    loss = None
    for step in range(1, 11):
        loss = 9.0 if params["x"] > 0.8 else params["x"] + 1.0 / step
        trial.report(loss, step)
        if trial.should_prune():
            raise TrialPruned()
    return loss


@pytest.mark.parametrize(("name", "options"), [
    ("asha", {}),
    ("hyperband", {"max_resource": 10}),
    ("median", {"n_startup_trials": 3}),
])
def test_the_study_stops_hopeless_trials_and_keeps_the_best(name, options):
    from hpo_framework import optimize

    study = optimize(falling, SPACE, strategy="random", n_trials=30, seed=3, pruner=name,
                     pruner_options=options)
    trials = study.trials
    hopeless = [t for t in trials if t.params["x"] > 0.8 and t.number >= 8]
    assert hopeless, "the seed gave no hopeless trial late enough: the test is void"
    assert all(t.state is TrialState.PRUNED for t in hopeless), [
        (t.number, t.state.value) for t in hopeless]
    best = min(trials, key=lambda t: t.params["x"])
    assert best.state is TrialState.COMPLETE
    assert study.best_params == best.params


def test_pruning_decisions_survive_a_resume(tmp_path):
    from hpo_framework import optimize

    def states(trials):
        return [(t.number, t.state.value, len(t.intermediate)) for t in trials]

    once = optimize(falling, SPACE, strategy="random", n_trials=24, seed=5, pruner="asha",
                    storage=tmp_path / "once.db", study="s")
    optimize(falling, SPACE, strategy="random", n_trials=11, seed=5, pruner="asha",
             storage=tmp_path / "twice.db", study="s")
    twice = optimize(falling, SPACE, strategy="random", n_trials=24, seed=5, pruner="asha",
                     storage=tmp_path / "twice.db", study="s")
    assert any(state == "PRUNED" for _, state, _ in states(once.trials))
    assert states(twice.trials) == states(once.trials)
