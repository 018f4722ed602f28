"""``bayes`` with several objectives (exact log-EHVI) and constraints (probability of
feasibility): the box decomposition and EHVI against their definitions, what the
acquisition prefers on toy problems, and exact resume."""

from __future__ import annotations

import math

import pytest

from hpo_framework import Space, Trial, TrialState
from hpo_framework.contracts.pareto import hypervolume

QUICK = {"n_initial_points": 4, "n_points": 200, "n_restarts_optimizer": 1}
PLANE = {"x": {"type": "float", "low": 0.0, "high": 1.0},
         "y": {"type": "float", "low": 0.0, "high": 1.0}}


def bayes(space=PLANE, seed=0, **options):
    from hpo_bayes import BayesStrategy

    return BayesStrategy(Space.from_dict(space), seed=seed, **{**QUICK, **options})


def trial(number, params, losses, constraints=None, state=TrialState.COMPLETE):
    done = state == TrialState.COMPLETE
    return Trial(number=number, params=params, state=state,
                 value=losses[0] if done else None, loss=losses[0] if done else None,
                 values=list(losses) if done else None, losses=list(losses) if done else None,
                 constraints=constraints)


def run(strategy, n, evaluate, batch=1):
    """Ask/tell ``n`` trials; ``evaluate(params) -> (losses, constraints)``."""
    told = []
    while len(told) < n:
        for params in strategy.ask(min(batch, n - len(told))):
            losses, cons = evaluate(params)
            told.append(trial(len(told), params, losses, cons))
        strategy.tell(told[-batch:])
    return told


def front_plane(p):
    """Two objectives on the plane: f1 = x, f2 = 1 - x + y (y only makes f2 worse)."""
    return [p["x"], 1.0 - p["x"] + p["y"]], None


# the maths ------------------------------------------------------------------------------

@pytest.mark.parametrize("m", [2, 3, 4])
def test_boxes_hold_exactly_the_hypervolume_a_point_adds(m):
    import numpy as np
    from hpo_bayes.multi import boxes

    rng = np.random.default_rng(m)
    for _ in range(8):
        front = rng.uniform(size=(int(rng.integers(1, 12)), m))
        front /= np.linalg.norm(front, axis=1, keepdims=True)  # mostly non-dominated
        ref = np.full(m, 1.2)
        lower, upper = boxes(front, ref)
        base = hypervolume(front.tolist(), ref.tolist())
        for y in rng.uniform(-0.2, 1.3, size=(6, m)):
            added = hypervolume(front.tolist() + [y.tolist()], ref.tolist()) - base
            inside = np.clip(upper - np.maximum(y, lower), 0.0, None).prod(axis=1).sum()
            assert inside == pytest.approx(added, abs=1e-9)


def test_log_ehvi_is_the_expected_hypervolume_improvement():
    import numpy as np
    from hpo_bayes.multi import boxes, log_ehvi

    rng = np.random.default_rng(0)
    front = np.array([[0.1, 0.9, 0.5], [0.5, 0.5, 0.5], [0.9, 0.2, 0.3], [0.4, 0.3, 0.9]])
    ref = np.array([1.1, 1.1, 1.1])
    lower, upper = boxes(front, ref)
    mean, sd = np.array([[0.45, 0.6, 0.4]]), np.array([[0.2, 0.1, 0.3]])
    samples = mean + sd * rng.standard_normal((100_000, 3))
    gain = np.clip(upper[None] - np.maximum(samples[:, None, :], lower[None]), 0.0, None)
    monte_carlo = gain.prod(axis=2).sum(axis=1).mean()
    assert math.exp(log_ehvi(mean, sd, lower, upper)[0]) == pytest.approx(monte_carlo,
                                                                          rel=0.02)
    # far behind the front it is tiny but its log still orders the points
    far = log_ehvi(np.array([[3.0, 3.0, 3.0], [4.0, 4.0, 4.0]]), np.full((2, 3), 0.1),
                   lower, upper)
    assert np.all(np.isfinite(far)) and far[0] > far[1] and far[0] < -100


# the strategy ---------------------------------------------------------------------------

def test_bayes_declares_several_objectives_and_constraints():
    from hpo_bayes import BayesStrategy

    assert BayesStrategy.multi_objective and BayesStrategy.handles_constraints


@pytest.mark.parametrize("how", ["ehvi", "parego"])
def test_the_acquisition_prefers_a_point_that_improves_the_front_over_one_it_dominates(how):
    grid = [{"x": x, "y": y} for x in (0.05, 0.35, 0.65, 0.95) for y in (0.0, 0.5, 1.0)]
    strategy = bayes(multi_objective=how)
    strategy.restore([trial(i, p, front_plane(p)[0]) for i, p in enumerate(grid)])
    score = strategy._multi_acquisition()[0]
    improving, dominated = [[0.5, 0.0]], [[0.5, 0.9]]  # x between observed ones
    assert score(improving)[0] > score(dominated)[0] + 1.0
    asked = strategy.ask(1)[0]
    assert asked["y"] < 0.2, asked  # on (or next to) the front: y near 0


def test_probability_of_feasibility_steers_away_from_the_infeasible_region():
    def evaluate(p):  # minimize x subject to x >= 0.4; y only costs
        return [p["x"] + 0.1 * p["y"]], [0.4 - p["x"]]

    n_init = QUICK["n_initial_points"]
    told = run(bayes(seed=1), 14, evaluate)
    xs = [t.params["x"] for t in told[n_init:]]
    assert min(xs) > 0.35, xs  # never deep in the infeasible region ...
    assert min(t.loss for t in told if t.feasible) < 0.45  # ... and close to its boundary
    free = run(bayes(seed=1), 14, lambda p: (evaluate(p)[0], None))
    assert min(t.params["x"] for t in free[n_init:]) < 0.1  # where it goes without


def test_two_objectives_with_a_constraint_keep_to_the_feasible_part():
    def evaluate(p):  # the plane's front, feasible only for x <= 0.5
        return front_plane(p)[0], [p["x"] - 0.5]

    told = run(bayes(seed=2), 14, evaluate)
    model = told[QUICK["n_initial_points"]:]
    assert sum(t.feasible for t in model) >= len(model) - 2, [t.params for t in model]


def test_with_no_feasible_trial_it_asks_where_feasibility_is_likely():
    # feasible only for x < 0.15; every trial so far lies right of it and worse further
    # right: it must go left, whatever the objective says (the objective prefers x = 1)
    seen = [{"x": x, "y": y} for x, y in [(0.3, 0.2), (0.5, 0.8), (0.7, 0.4), (0.9, 0.6),
                                          (0.4, 0.5), (0.8, 0.1)]]
    strategy = bayes(seed=3)
    strategy.restore([trial(i, p, [1.0 - p["x"]], [p["x"] - 0.15])
                      for i, p in enumerate(seen)])
    asked = strategy.ask(1)[0]
    assert asked["x"] < 0.3, asked


@pytest.mark.parametrize("how", ["ehvi", "parego"])
def test_several_objectives_resume_exactly_with_batches_and_failures(how):
    def evaluate(p):
        return [p["x"] ** 2 + p["y"], (1 - p["x"]) ** 2 + p["y"]], [p["y"] - 0.6]

    whole = bayes(seed=4, multi_objective=how)
    told = []
    while len(told) < 10:
        asked = whole.ask(2)
        batch = []
        for params in asked:
            losses, cons = evaluate(params)
            n = len(told) + len(batch)
            batch.append(trial(n, params, losses, cons) if n != 5 else
                         trial(n, params, losses, None, state=TrialState.FAILED))
        told += batch
        whole.tell(batch)
    running = whole.ask(1)  # one still running when the driver dies
    expected = whole.ask(2)
    history = told + [Trial(number=len(told), params=running[0], state=TrialState.RUNNING)]
    resumed = bayes(seed=4, multi_objective=how)
    resumed.restore(history)
    assert resumed.ask(2) == expected


def test_one_objective_trials_take_the_single_objective_path():
    strategy = bayes()
    told = run(strategy, 7, lambda p: ([p["x"] + p["y"]], None))
    assert strategy._n_objectives() == 1 and not strategy._constrained()
    assert strategy._fits == {} and strategy.stats()["model_fits"] >= 1  # log-EI's own GP
    assert len({strategy.space.key(t.params) for t in told}) == 7


def test_optimize_with_directions_and_constraints_end_to_end():
    from hpo_framework import optimize
    from hpo_framework.contracts.pareto import non_dominated

    study = optimize(lambda p: [p["x"], 1.0 - p["x"] + p["y"]], PLANE, strategy="bayes",
                     n_trials=10, seed=0, directions=["minimize", "minimize"],
                     constraints=lambda t: [t.params["x"] - 0.7], **QUICK)
    trials = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(trials) == 10
    feasible = [t for t in trials if t.feasible]
    front = {t.number for t in study.best_trials}
    assert front == {feasible[i].number for i in non_dominated([t.losses for t in feasible])}
    model = [t for t in trials if t.number >= QUICK["n_initial_points"]]
    assert sum(t.number in front for t in model) >= len(model) - 2, [t.params for t in model]
