"""``bayes`` at large budgets: past ``max_history`` finished trials the GP is fitted on a
subset (the best tenth, the latest quarter, a seeded sample of the rest), so a proposal's
cost stops growing; below it nothing changes, and resume stays exact."""

from __future__ import annotations

import math
import random

import pytest

from hpo_framework import OptionError, Space, Trial, TrialState

QUICK = {"n_initial_points": 5, "n_points": 100, "n_restarts_optimizer": 1,
         "output_transform": "standardize"}
SPACE = {"x": {"type": "float", "low": -3.0, "high": 3.0},
         "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
         "n": {"type": "int", "low": 1, "high": 8}}


def loss(p):
    return (p["x"] - 1) ** 2 + (math.log10(p["lr"]) + 2) ** 2 + (p["n"] - 3) ** 2 / 4


def bayes(seed=0, **options):
    from hpo_bayes import BayesStrategy

    return BayesStrategy(Space.from_dict(SPACE), seed=seed, **{**QUICK, **options})


def done(number, params):
    v = loss(params)
    return Trial(number=number, params=params, state=TrialState.COMPLETE, value=v, loss=v)


def random_history(n, seed=1):
    space, rs = Space.from_dict(SPACE), random.Random(seed)
    return [done(i, space.decode([rs.random() for _ in range(3)])) for i in range(n)]


def run(strategy, n, start=()):
    told = list(start)
    while len(told) < n:
        (params,) = strategy.ask(1)
        told.append(done(len(told), params))
        strategy.tell(told[-1:])
    return [t.params for t in told]


def test_the_subset_is_the_best_tenth_the_latest_quarter_and_a_sample():
    import numpy as np
    from hpo_bayes.strategy import subset

    ys = [float(v) for v in np.random.RandomState(0).permutation(100)]
    keep = subset(ys, 20, np.random.RandomState(3))
    assert len(keep) == 20 and keep == sorted(set(keep))
    best = sorted(range(100), key=lambda i: ys[i])[:2]
    assert set(best) <= set(keep)
    latest = [i for i in range(99, -1, -1) if i not in best][:5]
    assert set(latest) <= set(keep)
    # the sample is the rng's: the same rng, the same subset; another, another sample
    assert subset(ys, 20, np.random.RandomState(3)) == keep
    assert subset(ys, 20, np.random.RandomState(4)) != keep
    assert subset(ys, 100, np.random.RandomState(3)) is None  # not above the bound
    assert subset(ys, 0, np.random.RandomState(3)) is None  # 0: no bound


def test_the_gp_is_fitted_on_at_most_max_history_points():
    bounded = bayes(max_history=20)
    bounded.restore(random_history(60))
    bounded.ask(1)
    assert bounded._gp_fit[1].X_train_.shape[0] == 20
    unbounded = bayes(max_history=0)
    unbounded.restore(random_history(60))
    unbounded.ask(1)
    assert unbounded._gp_fit[1].X_train_.shape[0] == 60


def test_below_the_bound_proposals_are_identical_to_unbounded():
    bounded = run(bayes(max_history=16), 16)
    assert run(bayes(max_history=0), 16) == bounded
    # past it they part (the model sees fewer points), which is what the bound is for
    history = random_history(40)
    a, b = bayes(max_history=16), bayes(max_history=0)
    a.restore(history)
    b.restore(history)
    assert a.ask(1) != b.ask(1)


def test_resume_is_exact_while_the_bound_acts():
    whole = run(bayes(max_history=10), 24)
    start = [done(i, p) for i, p in enumerate(whole[:18])]
    resumed = bayes(max_history=10)
    resumed.restore(start)
    assert run(resumed, 24, start) == whole


@pytest.mark.parametrize("value", [1, 9, -1])
def test_a_bound_below_ten_is_refused_in_one_line(value):
    from hpo_bayes import BayesStrategy

    with pytest.raises(OptionError, match="max_history") as info:
        BayesStrategy.validate({"max_history": value})
    assert "\n" not in str(info.value)
