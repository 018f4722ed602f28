"""``bayes`` with several objectives and constraints at large budgets: past ``max_history``
finished trials each GP is fitted on a subset (the front, the latest quarter, a seeded
sample; a constraint's also the values nearest 0) and EHVI's boxes hold a capped front,
so a proposal's cost stops growing; below it nothing changes, and resume stays exact."""

from __future__ import annotations

import pytest

from hpo_framework import Space, Trial, TrialState

QUICK = {"n_initial_points": 4, "n_points": 100, "n_restarts_optimizer": 1}
PLANE = {"x": {"type": "float", "low": 0.0, "high": 1.0},
         "y": {"type": "float", "low": 0.0, "high": 1.0}}


def bayes(seed=0, **options):
    from hpo_bayes import BayesStrategy

    return BayesStrategy(Space.from_dict(PLANE), seed=seed, **{**QUICK, **options})


def evaluate(p):
    """Two objectives (a front along x at y = 0) and one constraint (x <= 0.8)."""
    return [p["x"] ** 2 + p["y"], (1 - p["x"]) ** 2 + p["y"]], [p["x"] - 0.8]


def trial(number, params, constrained=True, state=TrialState.COMPLETE):
    losses, cons = evaluate(params)
    done = state == TrialState.COMPLETE
    return Trial(number=number, params=params, state=state,
                 value=losses[0] if done else None, loss=losses[0] if done else None,
                 values=losses if done else None, losses=losses if done else None,
                 constraints=cons if constrained else None)


def random_history(n, seed=1, constrained=True):
    import numpy as np

    rs = np.random.RandomState(seed)
    return [trial(i, {"x": float(x), "y": float(y)}, constrained)
            for i, (x, y) in enumerate(rs.uniform(size=(n, 2)))]


def run(strategy, n, batch=1, failed=()):
    """Ask/tell ``n`` trials (those numbered in ``failed`` FAILED): the trials."""
    told = []
    while len(told) < n:
        asked = strategy.ask(min(batch, n - len(told)))
        new = [trial(k, p, state=TrialState.FAILED if k in failed else TrialState.COMPLETE)
               for k, p in enumerate(asked, start=len(told))]
        told += new
        strategy.tell(new)
    return told


def proposals(strategy, n, batch=1):
    return [t.params for t in run(strategy, n, batch)]


def fitted(strategy):
    """role -> the rows of the GP of that objective / constraint."""
    return {role: gp.X_train_ for (role, _), (gp, _) in strategy._fits.items()}


# the rules ------------------------------------------------------------------------------

def test_numpy_fronts_are_the_fast_non_dominated_sort_with_and_without_constraints():
    import numpy as np
    from hpo_bayes.bounded import front_ranks

    from hpo_framework.contracts.pareto import nondominated_sort

    rs = np.random.default_rng(0)
    for _ in range(30):
        n, m = int(rs.integers(1, 40)), int(rs.integers(1, 4))
        points = rs.integers(0, 4, size=(n, m)).astype(float).tolist()  # ties, copies
        cons = [None if rs.random() < 0.2 else rs.normal(size=2).round(1).tolist()
                for _ in range(n)]
        for given in (None, cons):
            expected = np.empty(n, dtype=int)
            for r, front in enumerate(nondominated_sort(points, given)):
                expected[front] = r
            assert front_ranks(points, given).tolist() == expected.tolist()
    # told only the fronts that hold 10 points: those exact, every other point next
    points = rs.uniform(size=(400, 3))
    expected = front_ranks(points)
    cut = next(k for k in range(400) if (expected < k).sum() >= 10)
    assert front_ranks(points, need=10).tolist() == np.minimum(expected, cut).tolist()


def test_a_front_too_big_keeps_its_ends_and_thins_where_it_is_dense():
    import numpy as np
    from hpo_bayes.bounded import spread

    x = np.concatenate([np.linspace(0.0, 0.1, 11), [0.5, 1.0]])  # dense on the left
    front = np.column_stack([x, 1.0 - x])
    kept = spread(front, 5)
    assert len(kept) == 5 and kept == sorted(kept)
    assert {0, 11, 12} <= set(kept)  # both ends and the lone middle point
    assert spread(front, 20) == list(range(13))


def test_the_subset_is_the_given_rows_the_latest_quarter_and_a_seeded_sample():
    import numpy as np
    from hpo_bayes.bounded import pick

    keep = pick(100, 20, [3, 50, 3], np.random.RandomState(0))
    assert len(keep) == 20 and keep == sorted(set(keep))
    assert {3, 50} <= set(keep) and set(range(95, 100)) <= set(keep)
    assert pick(100, 20, [3, 50], np.random.RandomState(0)) == keep
    assert pick(100, 20, [3, 50], np.random.RandomState(1)) != keep


def test_the_map_into_the_gps_units_is_the_standardization_and_extends_past_the_ends():
    import numpy as np
    from hpo_bayes.bounded import units

    raw = np.array([3.0, 1.0, 2.0, 7.0])
    y = (raw - raw.mean()) / raw.std()
    to = units(raw, y)
    probe = np.array([-4.0, 1.5, 7.0, 20.0])
    assert to(probe) == pytest.approx((probe - raw.mean()) / raw.std())


# the strategy -------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["ehvi", "parego"])
def test_past_the_bound_every_gp_is_fitted_on_at_most_max_history_trials(how):
    history = random_history(50)
    bounded = bayes(max_history=20, multi_objective=how)
    bounded.restore(history)
    bounded.ask(1)
    rows = fitted(bounded)
    assert ("constraint", 0) in rows and ("objective", 0) in rows
    assert all(len(x) == 20 for x in rows.values()), {k: len(v) for k, v in rows.items()}
    unbounded = bayes(max_history=0, multi_objective=how)
    unbounded.restore(history)
    unbounded.ask(1)
    assert all(len(x) == 50 for x in fitted(unbounded).values())


def test_the_subset_keeps_the_front_and_the_constraint_boundary():
    import numpy as np
    from hpo_bayes.bounded import front_ranks

    history = random_history(80)
    strategy = bayes(max_history=60, multi_objective="ehvi")
    strategy.restore(history)
    strategy.ask(1)
    rows = fitted(strategy)
    ranks = front_ranks([t.losses for t in history], [t.constraints for t in history])
    front = [t for t, r in zip(history, ranks, strict=True) if r == 0]
    assert 2 <= len(front) <= 6  # fits in max_history // 10: every point of it is kept

    def has(x, t):
        u = strategy._features(np.asarray([strategy.space.encode(t.params)], dtype=float))
        return bool(np.any(np.all(np.isclose(x, u), axis=1)))

    for t in front:
        assert has(rows["objective", 0], t) and has(rows["constraint", 0], t)
    nearest = sorted(history, key=lambda t: abs(t.constraints[0]))[:15]  # 60 // 4
    assert all(has(rows["constraint", 0], t) for t in nearest)


def test_ehvis_boxes_hold_at_most_a_third_of_max_history_front_points():
    import hpo_bayes.strategy as module

    line = [{"x": i / 59, "y": 0.0} for i in range(60)]  # 60 non-dominated trials
    history = [trial(i, p, constrained=False) for i, p in enumerate(line)]
    counts = []
    inner = module.boxes

    def counted(points, ref):
        out = inner(points, ref)
        counts.append(len(out[0]))
        return out

    module.boxes = counted
    try:
        for limit in (30, 0):
            strategy = bayes(max_history=limit, multi_objective="ehvi")
            strategy.restore(history)
            strategy.ask(1)
    finally:
        module.boxes = inner
    assert counts == [30 // 3 + 1, 61]  # two objectives: a front of n points, n + 1 boxes


@pytest.mark.parametrize("how", ["ehvi", "parego"])
def test_below_the_bound_proposals_are_identical_to_unbounded(how):
    bounded = proposals(bayes(max_history=12, multi_objective=how), 12, batch=2)
    assert proposals(bayes(max_history=0, multi_objective=how), 12, batch=2) == bounded
    history = random_history(30)  # past it they part: the model sees fewer points
    a, b = bayes(max_history=12, multi_objective=how), bayes(max_history=0,
                                                              multi_objective=how)
    a.restore(history)
    b.restore(history)
    assert a.ask(1) != b.ask(1)


def test_resume_is_exact_while_the_bound_acts():
    whole = bayes(max_history=10, multi_objective="ehvi")
    told = run(whole, 16, batch=2, failed=(5,))
    expected = whole.ask(2)
    resumed = bayes(max_history=10, multi_objective="ehvi")
    resumed.restore(told)
    assert resumed.ask(2) == expected
