"""``bayes``'s learning-curve model (``pruned=curve``) stays bounded: past ``CURVE_ROWS``
reported values it is fitted on the stop steps and a seeded sample of the trials, the
pruned trials left out told by ``offset``; below it nothing changes."""

from __future__ import annotations

from hpo_framework import Space, Trial, TrialState

SPACE = {"x": {"type": "float", "low": -2.0, "high": 2.0}}
QUICK = {"n_initial_points": 3, "n_points": 50, "n_restarts_optimizer": 1}


def trial(number, x, curve, state=TrialState.COMPLETE):
    final = curve[-1][1] if state is TrialState.COMPLETE else None
    return Trial(number=number, params={"x": x}, state=state, value=final, loss=final,
                 curve=curve)


def study(n_finished, n_pruned, steps=10):
    """Finished ``steps``-step curves (better towards x = 0.5), then trials pruned at
    step 1 or 3."""
    out = []
    for i in range(n_finished):
        x = -2.0 + 4.0 * i / max(n_finished - 1, 1)
        level = (x - 0.5) ** 2
        out.append(trial(i, x, [(s, level + 1.0 / s) for s in range(1, steps + 1)]))
    for j in range(n_pruned):
        x = -1.9 + 3.8 * j / max(n_pruned - 1, 1)
        stop = 1 if j % 2 else 3
        out.append(trial(n_finished + j, x,
                         [(s, (x - 0.5) ** 2 + 1.0 / s) for s in range(1, stop + 1)],
                         TrialState.PRUNED))
    return out


def bayes(**options):
    from hpo_bayes import BayesStrategy

    return BayesStrategy(Space.from_dict(SPACE), seed=0, **{**QUICK, **options})


def predictions(trials, model=None):
    from hpo_bayes.curve import CurveModel

    strategy = bayes()
    strategy.tell(trials)
    model = model or CurveModel()
    history = strategy._history
    numbers = sorted(history.told)
    complete = [k for k in numbers if history.told[k][1] is not None]
    return model.predict(history, numbers, complete, strategy._features,
                         strategy._rng), model


def test_below_the_bound_the_curve_model_is_the_unbounded_one():
    from hpo_bayes.curve import CURVE_ROWS, CurveModel

    trials = study(12, 20)  # 120 + 40 values: every step is used
    bounded, model = predictions(trials)
    unbounded, _ = predictions(trials, CurveModel(max_rows=600, sample=False))
    assert model.fitted_rows == 160 <= CURVE_ROWS
    assert bounded == unbounded and len(bounded) == 20


def test_past_the_bound_it_fits_a_sample_and_offset_tells_the_rest():
    from hpo_bayes.curve import CURVE_ROWS, CurveModel, offset

    trials = study(80, 200)  # thinned to steps 1, 3, 10: 240 + 300 values, still > 200
    got, model = predictions(trials)
    assert 0 < model.fitted_rows <= CURVE_ROWS
    pruned = set(range(80, 280))
    assert set(got) < pruned  # some pruned trials predicted by the GP, not all
    # the rule before the bound fitted all 540 thinned values (up to 600), predicting each
    old, _ = predictions(trials, CurveModel(max_rows=600, sample=False))
    assert set(old) == pruned
    # the same data, the same sample (a resumed study predicts the same)
    again, _ = predictions(trials)
    assert again == got
    # a pruned trial left out of the sample is told by offset, as the model sees it
    strategy = bayes()
    strategy.tell(trials)
    left = min(pruned - set(got))
    history = strategy._history
    complete = [k for k in sorted(history.told) if history.told[k][1] is not None]
    best = min(history.told[k][1] for k in complete)
    _, ys = strategy._data()
    assert ys[left] == max(offset(history, left, complete), best)
    # the predictions are still about the curves: a pruned trial near x = 0.5 is told
    # better than one at the edge
    near = min(got, key=lambda k: abs(trials[k].params["x"] - 0.5))
    far = max(got, key=lambda k: abs(trials[k].params["x"] - 0.5))
    assert got[near] < got[far]
