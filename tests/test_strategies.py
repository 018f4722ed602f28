"""The strategy plugins grid, bayes and genetic: the conformance suite and their own behaviour."""

import math
import warnings

import pytest

from hpo_framework import OptionError, Space, Trial, TrialState, get_registry, optimize
from hpo_framework.testing import CHECKS, check_strategy, simulate

# options that keep each strategy quick without skipping its model-based phase
QUICK = {
    "random": {},
    "grid": {},
    "bayes": {"n_initial_points": 3, "n_points": 500, "n_restarts_optimizer": 1},
    "genetic": {"population_size": 4, "hall_of_fame": 1},
    "auto": {"gp_limit": 4},  # hands over from the GP's initial draws to tpe
}

NOTEBOOK_GRID = {
    "n_layers": {"type": "int", "low": 1, "high": 3},
    "units": {"type": "int", "low": 5, "high": 15, "values": [5, 10, 15]},
    "solver": ["sgd", "adam"],
    "learning_rate_init": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
}


def strategy(name):
    return get_registry().get("strategy", name)


def quadratic(params):
    return (params["x"] - 0.3) ** 2 + (0.5 if params.get("k") == "b" else 0.0)


QUAD_SPACE = {"x": {"type": "float", "low": -2.0, "high": 2.0}, "k": ["a", "b"]}


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


BRANIN_SPACE = {"x1": {"type": "float", "low": -5.0, "high": 10.0},
                "x2": {"type": "float", "low": 0.0, "high": 15.0}}


# the conformance suite, one test per (strategy, check) ----------------------------------

@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "bayes" else n
                                  for n in QUICK])
def test_strategy_conformance(name, check):
    CHECKS[check](strategy(name), **QUICK[name])


def test_check_strategy_catches_a_strategy_that_forgets_its_history():
    """The suite itself can fail: a strategy that ignores restore() is caught."""
    from hpo_framework.builtin.random_strategy import RandomStrategy

    class Forgetful(RandomStrategy):
        name = "forgetful"

        def restore(self, trials):
            pass

    with pytest.raises(AssertionError, match="restore"):
        check_strategy(Forgetful)


# grid -----------------------------------------------------------------------------------

def test_grid_log_points_are_the_notebooks_learning_rates():
    study = optimize(lambda p: p["lr"], {"lr": {"type": "float", "low": 1e-3, "high": 1e-1,
                                                "log": True}}, strategy="grid")
    assert sorted(t.params["lr"] for t in study.trials) == [0.001, 0.01, 0.1]
    study = optimize(lambda p: p["x"], {"x": {"type": "float", "low": 0.0, "high": 1.0}},
                     strategy="grid", points=5, order="fixed")
    assert [t.params["x"] for t in study.trials] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_grid_runs_the_notebook_grid_to_the_end_without_a_budget():
    study = optimize(lambda p: p["units"] * p["learning_rate_init"], NOTEBOOK_GRID,
                     strategy="grid")
    keys = {study.space.key(t.params) for t in study.trials}
    assert len(study.trials) == len(keys) == 54
    assert study.stop_reason == "strategy done"
    assert study.attrs["strategy_stats"]["remaining"] == 0


def test_grid_with_a_smaller_budget_says_how_many_points_were_skipped():
    from hpo_grid import GridSkippedWarning

    with pytest.warns(GridSkippedWarning, match="44 of 54 points were skipped"):
        study = optimize(lambda p: p["units"], NOTEBOOK_GRID, strategy="grid", n_trials=10)
    stats = study.attrs["strategy_stats"]
    assert (stats["grid_size"], stats["remaining"]) == (54, 44)
    assert "44 of 54" in stats["note"]


def test_grid_resume_continues_and_never_reruns_a_finished_point(tmp_path):
    db = tmp_path / "grid.db"
    calls = []

    def objective(p):
        calls.append(Space.from_dict(NOTEBOOK_GRID).key(p))
        return p["units"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = optimize(objective, NOTEBOOK_GRID, strategy="grid", n_trials=20, storage=db,
                         study="g")
    assert len(first.trials) == 20
    second = optimize(objective, NOTEBOOK_GRID, strategy="grid", storage=db, study="g")
    assert len(second.trials) == 54 and len(calls) == 54 == len(set(calls))
    assert [t.params for t in second.trials[:20]] == [t.params for t in first.trials]


def test_grid_inactive_parameters_do_not_multiply_the_grid():
    space = {"n_layers": {"type": "int", "low": 1, "high": 2},
             "units_2": {"type": "int", "low": 1, "high": 3, "condition": {"n_layers": 2}}}
    study = optimize(lambda p: p["n_layers"], space, strategy="grid")
    assert len(study.trials) == 1 + 3  # one-layer branch once, two-layer branch x3


def test_grid_shuffled_order_is_seeded():
    space = Space.from_dict(NOTEBOOK_GRID)
    a = strategy("grid")(space, seed=1, order="shuffled").ask(54)
    b = strategy("grid")(space, seed=1, order="shuffled").ask(54)
    fixed = strategy("grid")(space, seed=1).ask(54)
    assert a == b != fixed
    assert sorted(map(space.key, a)) == sorted(map(space.key, fixed))


# bayes ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_gp_minimize_still_works_on_the_installed_versions():
    """scikit-optimize is unmaintained: a real gp_minimize run shows a break in CI."""
    from skopt import gp_minimize
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # tiny matrices: threads only slow it down on a busy machine
        result = gp_minimize(lambda x: (x[0] - 0.3) ** 2 + (x[1] + 1) ** 2,
                             [(-2.0, 2.0), (-2.0, 2.0)], n_calls=15, n_initial_points=5,
                             acq_optimizer="sampling", random_state=0)
    assert result.fun < 0.05


def test_bayes_beats_chance_on_branin():
    """The plugin's own search, as gp_minimize would run it: Branin's optimum is 0.398."""
    study = optimize(branin, BRANIN_SPACE, strategy="bayes", n_trials=25, seed=0,
                     n_initial_points=8)
    assert study.best_value < 0.6
    assert study.attrs["strategy_stats"]["model_fits"] == 25 - 8


def test_bayes_x0_is_evaluated_first():
    x0 = [{"x": 1.5, "k": "b"}, {"x": -1.0, "k": "a"}]
    study = optimize(quadratic, QUAD_SPACE, strategy="bayes", n_trials=4, seed=0, x0=x0)
    assert [t.params for t in study.trials[:2]] == x0


def test_bayes_x0_outside_the_space_is_a_one_line_error():
    with pytest.raises(OptionError, match=r"x0\[0\].*'x'") as err:
        optimize(quadratic, QUAD_SPACE, strategy="bayes", n_trials=2, x0={"x": 9.0, "k": "a"})
    assert "\n" not in str(err.value)


def test_bayes_batch_asks_are_distinct_and_failures_do_not_break_the_model():
    bayes = strategy("bayes")(Space.from_dict(QUAD_SPACE), seed=0, **QUICK["bayes"])
    history = simulate(bayes, 6, fail=lambda number: number in (1, 4))
    fits = bayes.stats()["model_fits"]
    batch = bayes.ask(4)
    keys = {bayes.space.key(p) for p in batch} | {bayes.space.key(t.params) for t in history}
    assert len(batch) == 4 and len(keys) == 10
    # logEI: the GP is fitted once on the finished trials, then conditioned on the lies
    assert bayes.stats()["model_fits"] == fits + 1


def _curved(number, curve, state=TrialState.COMPLETE):
    final = curve[-1][1] if state is TrialState.COMPLETE else None
    return Trial(number=number, params={"x": -1.5 + 0.25 * number, "k": "a"}, state=state,
                 value=final, loss=final, curve=list(curve))


@pytest.mark.parametrize("how", ["offset", "worst"])
def test_bayes_tells_its_model_a_pruned_trials_predicted_final_loss(how):
    """Finished curves (step-1 loss, final loss): (1, 0.5), (2, 1.0), (3, 1.5), offsets
    -0.5, -1.0, -1.5 (median -1.0): a trial pruned at step 1 with loss 2.1 is predicted
    1.1, one at 3.2 is 2.2 (worse than the worst final: not clipped), one at 0.2 is kept
    at the best final (0.5); one that reported nothing, or stopped at a step no finished
    trial reported, is the worst (1.5), as a failed one."""
    trials = [_curved(i, [(1, a), (2, a / 2)]) for i, a in enumerate([1.0, 2.0, 3.0])]
    pruned = TrialState.PRUNED
    trials += [_curved(3, [(1, 2.1)], pruned), _curved(4, [(1, 3.2)], pruned),
               _curved(5, [(1, 0.2)], pruned), _curved(6, [], pruned),
               _curved(7, [(5, 0.1)], pruned)]
    failed = Trial(number=8, params={"x": 0.5, "k": "b"}, state=TrialState.FAILED)
    bayes = strategy("bayes")(Space.from_dict(QUAD_SPACE), seed=0, pruned=how, **QUICK["bayes"])
    bayes.tell(trials + [failed])
    _, ys = bayes._data()
    told = [1.1, 2.2, 0.5, 1.5, 1.5] if how == "offset" else [1.5] * 5
    assert ys == pytest.approx([0.5, 1.0, 1.5] + told + [1.5])
    # two finished curves: the median change (final - step-1 loss: -0.5, -1.0 -> -0.75)
    few = strategy("bayes")(Space.from_dict(QUAD_SPACE), seed=0, pruned=how, **QUICK["bayes"])
    few.tell(trials[:2] + [_curved(3, [(1, 1.6)], pruned)])
    assert few._data()[1] == pytest.approx([0.5, 1.0, 1.0 if how == "worst" else 0.85])
    # a resumed strategy (restore from the stored trials) is told the same
    again = strategy("bayes")(Space.from_dict(QUAD_SPACE), seed=0, pruned=how, **QUICK["bayes"])
    again.restore(trials + [failed])
    assert again._data() == bayes._data()


def test_bayes_curve_model_judges_a_pruned_slow_starter_by_its_neighbours():
    """Slow starters (x < 0: loss 2.0 after step 1, 0.5 at the end) and fast ones (x > 0:
    1.0, then 0.9). A slow starter pruned at step 1 is a good configuration: the curve GP
    predicts it near its finished neighbours' 0.5; the study-wide median change (-0.1,
    from the three fast starters) would call it 1.9, worse than every finished trial."""
    def trial(number, x, curve, state=TrialState.COMPLETE):
        final = curve[-1][1] if state is TrialState.COMPLETE else None
        return Trial(number=number, params={"x": x, "k": "a"}, state=state, value=final,
                     loss=final, curve=curve)

    slow, fast = [(1, 2.0), (2, 0.5)], [(1, 1.0), (2, 0.9)]
    trials = [trial(0, -1.8, slow), trial(1, -1.0, slow), trial(2, 0.6, fast),
              trial(3, 1.2, fast), trial(4, 1.8, fast),
              trial(5, -1.4, [(1, 2.0)], TrialState.PRUNED)]
    told = {}
    for how in ("curve", "offset"):
        bayes = strategy("bayes")(Space.from_dict(QUAD_SPACE), seed=0, pruned=how,
                                  **QUICK["bayes"])
        bayes.tell(trials)
        told[how] = bayes._data()[1][5]
    assert told["offset"] == pytest.approx(1.9)
    assert 0.5 <= told["curve"] < 0.9


def test_bayes_curve_model_stays_small_in_a_long_study():
    """Past 200 reported values the curve GP keeps only the steps where trials stopped
    and the last one (here 70 ten-step curves: steps 1 and 10, 140 values) and still
    judges the slow starter by its neighbours; past 600 even then, offset tells it."""
    def trial(number, x, curve, state=TrialState.COMPLETE):
        final = curve[-1][1] if state is TrialState.COMPLETE else None
        return Trial(number=number, params={"x": x, "k": "a"}, state=state, value=final,
                     loss=final, curve=curve)

    slow = [(s, 2.0 - 1.5 * (s - 1) / 9) for s in range(1, 11)]
    fast = [(s, 1.0 - 0.1 * (s - 1) / 9) for s in range(1, 11)]
    xs = [-2.0 + 4.0 * i / 69 for i in range(70)]
    trials = [trial(i, x, slow if x < -1.0 else fast) for i, x in enumerate(xs)]
    trials.append(trial(70, -1.5, slow[:1], TrialState.PRUNED))
    bayes = strategy("bayes")(Space.from_dict(QUAD_SPACE), seed=0, **QUICK["bayes"])
    bayes.tell(trials)
    assert 0.5 <= bayes._data()[1][70] < 0.9
    many = [trial(i, -2.0 + 4.0 * i / 309, [(1, 1.0), (2, 0.9)]) for i in range(310)]
    many.append(trial(310, -1.5, [(1, 2.0)], TrialState.PRUNED))
    told = {}
    for how in ("curve", "offset"):
        bayes = strategy("bayes")(Space.from_dict(QUAD_SPACE), seed=0, pruned=how,
                                  **QUICK["bayes"])
        bayes.tell(many)
        told[how] = bayes._data()[1][310]
    assert told["curve"] == told["offset"] == pytest.approx(1.9)


@pytest.mark.parametrize("how", ["curve", "offset", "worst"])
def test_bayes_models_one_finished_trial_and_pruned_ones_predicted_worse(how):
    """A first trial that set a high bar at every rung can be the only one finished for
    long. With its pruned trials predicted worse than it, bayes has a model (it used to
    wait for a second finished trial, proposing at random meanwhile); told them as the
    worst loss (the finished trial's own), the model would be flat: random proposals."""
    trials = [_curved(0, [(1, 1.0), (2, 0.5)])]
    trials += [_curved(n, [(1, 2.0 + 0.1 * n)], TrialState.PRUNED) for n in range(8, 14)]
    bayes = strategy("bayes")(Space.from_dict(QUAD_SPACE), seed=0, pruned=how, **QUICK["bayes"])
    bayes.tell(trials)
    candidates = bayes._model_candidates()
    if how == "worst":
        assert candidates == []
    else:
        assert len(set(bayes._data()[1])) > 1 and candidates
        # the model's pick is near the finished trial (x = -1.5), away from the pruned
        assert bayes.space.decode(candidates[0])["x"] < 0.0


def test_bayes_curve_model_is_fitted_once_per_batch():
    bayes = strategy("bayes")(Space.from_dict(BRANIN_SPACE), seed=0, **QUICK["bayes"])
    simulate(bayes, 9, prune=lambda number: number % 3 == 2)
    fits = []
    rng = bayes._rng
    bayes._rng = lambda *parts: (fits.append(parts) if parts[0] == "curve" else None,
                                 rng(*parts))[1]
    assert len(bayes.ask(3)) == 3
    assert len([p for p in fits if p[0] == "curve"]) == 1


def test_the_pruned_check_catches_a_restore_that_forgets_the_curves():
    import dataclasses

    from hpo_framework.testing import check_pruned_trials

    class Forgetful(strategy("bayes")):
        def restore(self, trials):
            super().restore([dataclasses.replace(t, curve=[]) for t in trials])

    check_pruned_trials(strategy("bayes"), **QUICK["bayes"])
    with pytest.raises(AssertionError, match=r"after restore of 12 trials \(with pruned ones\)"):
        check_pruned_trials(Forgetful, **QUICK["bayes"])


@pytest.mark.parametrize("check", ["batch_asks", "restore"])
def test_bayes_kriging_believer_conforms(check):
    CHECKS[check](strategy("bayes"), **{**QUICK["bayes"], "liar": "kb"})


def test_bayes_batch_lies_condition_the_gp_fitted_once():
    bayes = strategy("bayes")(Space.from_dict(BRANIN_SPACE), seed=0,
                              **{**QUICK["bayes"], "liar": "kb"})
    history = simulate(bayes, 12)
    fits = bayes.stats()["model_fits"]
    batch = bayes.ask(4)
    keys = {bayes.space.key(p) for p in batch} | {bayes.space.key(t.params) for t in history}
    assert len(batch) == 4 and len(keys) == 16
    # the finished trials' GP is fitted once; the running ones only condition it
    assert bayes.stats()["model_fits"] == fits + 1
    # believed at the GP's mean: the mean stays, the sd at a believed point goes to ~0
    import numpy as np

    gp = bayes._gp_fit[1]
    points = bayes._features(np.array([bayes.space.encode(p) for p in batch]))
    (mean0, sd0), (mean1, sd1) = gp.posterior()(points), gp.posterior(points[:1])(points)
    assert np.allclose(mean0, mean1, atol=1e-6 * np.abs(mean0).max())
    assert sd1[0] < 0.05 * sd0[0] and np.all(sd1 <= sd0 + 1e-12)
    # a constant liar (the default, cl_min): the mean there becomes the best loss so far
    best = float(bayes._gp_fit[2].min())
    mean2, sd2 = gp.posterior(points[:1], np.array([best]))(points[:1])
    assert abs(mean2[0] - best) < 1e-3 and sd2[0] < 0.05 * sd0[0]


def test_bayes_values_are_plain_python_types():
    study = optimize(lambda p: p["n"] + p["lr"], {"n": {"type": "int", "low": 1, "high": 9},
                     "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
                     "c": [True, False]}, strategy="bayes", n_trials=6, seed=0,
                     **QUICK["bayes"])
    for t in study.trials:
        assert (type(t.params["n"]), type(t.params["lr"]), type(t.params["c"])) == (
            int, float, bool)


# genetic --------------------------------------------------------------------------------

def test_genetic_asks_a_whole_generation_and_stores_per_generation_stats():
    study = optimize(lambda p: -((p["x"] - 0.3) ** 2), {"x": {"type": "float", "low": -2.0,
                                                              "high": 2.0}},
                     strategy="genetic", n_trials=20, seed=0, direction="maximize",
                     population_size=5, hall_of_fame=1)
    gens = study.attrs["strategy_stats"]["generations"]
    assert gens[0]["generation"] == 0 and gens[0]["evaluations"] == 5
    first = [t.value for t in study.trials[:5]]
    assert gens[0]["max"] == max(first) and gens[0]["mean"] == pytest.approx(sum(first) / 5)
    assert all(g["max"] >= g["mean"] >= g["min"] for g in gens)
    # elitism: the best value never gets worse from one generation to the next
    assert [g["max"] for g in gens] == sorted(g["max"] for g in gens)
    genetic = strategy("genetic")(study.space, seed=0, population_size=5)
    assert len(genetic.ask(100)) == 5  # the whole generation at once, for parallel trials


def test_genetic_never_evaluates_a_configuration_twice():
    space = {"a": {"type": "int", "low": 0, "high": 2}, "b": ["x", "y"]}  # 6 configurations
    study = optimize(lambda p: p["a"], space, strategy="genetic", n_trials=30, seed=0)
    keys = [study.space.key(t.params) for t in study.trials]
    assert len(keys) == len(set(keys)) <= 6
    assert study.best_value == 0


def test_genetic_creates_deap_classes_once():
    from deap import creator

    space = Space.from_dict(QUAD_SPACE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # DEAP warns when a creator class is created again
        for seed in range(3):
            simulate(strategy("genetic")(space, seed=seed), 6)
    assert creator.HPOIndividual.__name__ == "HPOIndividual"


def test_genetic_resume_rebuilds_generations_from_history():
    genetic = strategy("genetic")
    space = Space.from_dict(QUAD_SPACE)
    whole = genetic(space, seed=4, population_size=4)
    history = simulate(whole, 10, batch=4)
    resumed = genetic(space, seed=4, population_size=4)
    resumed.restore([Trial(number=t.number, params=t.params, state=t.state, value=t.value,
                           loss=t.loss) for t in history])
    assert resumed.stats() == whole.stats()
    assert resumed.ask(4) == whole.ask(4)


# options: one-line errors through the API and the CLI ------------------------------------

@pytest.mark.parametrize("name, options, message", [
    ("skopt", {"acq_func": "XX"}, "option 'acq_func' must be one of EI, PI, LCB"),
    ("bayes", {"kapa": 2}, "unknown option 'kapa' (accepted: output_transform"),
    ("skopt", {"base_estimator": "RF", "acq_optimizer": "lbfgs"}, "has no gradients"),
    ("grid", {"points": 0}, "option 'points' must be >= 1"),
    ("grid", {"order": "random"}, "must be one of fixed, shuffled"),
    ("genetic", {"population_size": "ten"}, "option 'population_size' must be int"),
    ("genetic", {"population_size": 4, "hall_of_fame": 4}, "must be smaller than"),
])
def test_bad_strategy_options_through_optimize(name, options, message):
    with pytest.raises(OptionError) as err:
        optimize(quadratic, QUAD_SPACE, strategy=name, n_trials=2, **options)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
@pytest.mark.parametrize("name, option, message", [
    ("skopt", "acq_func=XX", "must be one of EI, PI, LCB"),
    ("grid", "pionts=3", "unknown option 'pionts' (accepted: points (int), order"),
    ("genetic", "cxpb=2", "option 'cxpb' must be <= 1.0"),
])
def test_bad_strategy_options_through_the_cli(cli_run, tmp_path, name, option, message):
    proc = cli_run("--strategy", name, "--strategy-option", option, "--trials", "2",
                   "--storage", tmp_path / "hpo.db", cwd=tmp_path)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert not (tmp_path / "hpo.db").exists()  # options are checked before storage opens


# bayes: its own GP, log-EI and the acquisition search -----------------------------------

def test_bayes_log_ei_is_the_log_of_ei_and_stays_finite_far_in_the_tail():
    import numpy as np
    from hpo_bayes.acqf import log_h
    from scipy.stats import norm

    z = np.array([-8.0, -3.0, -1.5, -0.5, 0.0, 0.7, 3.0])
    direct = np.log(z * norm.cdf(z) + norm.pdf(z))
    assert np.allclose(log_h(z), direct, rtol=1e-7, atol=1e-9)
    tail = log_h(np.array([-40.0, -200.0]))
    assert np.all(np.isfinite(tail)) and tail[1] < tail[0] < -700  # EI itself underflows to 0


def test_bayes_fast_posterior_is_the_gp_s_own_prediction():
    import numpy as np
    from hpo_bayes import gp as gp_model

    rng = np.random.RandomState(0)
    x, y = rng.rand(25, 3), rng.randn(25)
    gp = gp_model.make(3, 0, 0, True).fit(x, y)
    points = rng.rand(7, 3)
    mean, std = gp.predict(points, return_std=True)
    fast_mean, fast_std = gp.posterior()(points)
    assert np.allclose(mean, fast_mean, atol=1e-9) and np.allclose(std, fast_std, atol=1e-9)


def test_bayes_power_transform_tames_a_heavy_tail_and_keeps_the_order():
    import numpy as np
    from hpo_bayes.transforms import transform
    from scipy.stats import skew

    losses = np.exp(np.random.RandomState(0).normal(0.0, 3.0, size=40))  # to ~1e5
    plain, power = transform(losses, "standardize")[0], transform(losses, "power")[0]
    assert list(np.argsort(power)) == list(np.argsort(losses))
    assert abs(power.mean()) < 1e-9 and abs(power.std() - 1) < 1e-9
    assert skew(plain) > 3 and abs(skew(power)) < 1  # the tail no longer flattens the rest


def test_bayes_one_hot_features_separate_every_category():
    import numpy as np

    space = Space.from_dict({"x": {"type": "float", "low": 0.0, "high": 1.0},
                             "k": ["a", "b", "c"], "flag": [True, False]})
    from hpo_bayes.search_space import Features

    features = Features(space, onehot=True)
    u = np.array([space.encode({"x": 0.2, "k": k, "flag": True}) for k in "abc"])
    f = features(u)
    assert f.shape == (3, 1 + 3 + 1)
    assert np.allclose(f[:, 1:4], np.eye(3))  # equally far apart, not ordered
    snapped = features.snap(np.array([[0.2, 0.01, 0.9]]))[0]
    assert space.decode(list(snapped)) == space.decode([0.2, 0.01, 0.9])


@pytest.mark.parametrize("options", [{}, {"output_transform": "power"},
                                     {"output_transform": "auto"},
                                     {"categorical_encoding": "ordinal",
                                      "length_scale_prior": False, "local_points": 0.0}])
def test_bayes_finds_the_quadratic_minimum_with_each_model_setting(options):
    study = optimize(quadratic, QUAD_SPACE, strategy="bayes", n_trials=16, seed=0,
                     n_initial_points=5, **options)
    assert study.best_params["k"] == "a" and abs(study.best_params["x"] - 0.3) < 0.15
    assert study.strategy.stats()["model_fits"] >= 11


def test_bayes_log_ei_beats_random_on_hartmann_like_sphere():
    space = {f"x{i}": {"type": "float", "low": -5.0, "high": 5.0} for i in range(4)}

    def sphere(p):
        return sum((p[f"x{i}"] - 1.3) ** 2 for i in range(4))

    bayes = optimize(sphere, space, strategy="bayes", n_trials=30, seed=1)
    rand = optimize(sphere, space, strategy="random", n_trials=30, seed=1)
    assert bayes.best_value < 0.1 < rand.best_value


# genetic: parents from the archive, fresh children ---------------------------------------

def test_genetic_each_generation_brings_new_configurations_while_there_are_any():
    space = {"a": {"type": "int", "low": 0, "high": 30}, "b": {"type": "int", "low": 0,
                                                                "high": 30}}
    study = optimize(lambda p: (p["a"] - 20) ** 2 + (p["b"] - 7) ** 2, space,
                     strategy="genetic", n_trials=60, seed=0, population_size=6,
                     hall_of_fame=1)
    generations = study.strategy.stats()["generations"]
    assert len(generations) >= 8
    assert all(g["evaluations"] == 5 for g in generations[1:])  # 6 minus the elite


@pytest.mark.parametrize("parents", ["archive", "population"])
def test_genetic_parent_pools_both_resume_exactly(parents):
    genetic = strategy("genetic")
    space = Space.from_dict({"x": {"type": "float", "low": 0.0, "high": 1.0}, "k": ["a", "b"]})
    whole = genetic(space, seed=3, population_size=4, parents=parents)
    history = simulate(whole, 14)
    resumed = genetic(space, seed=3, population_size=4, parents=parents)
    resumed.restore([Trial(number=t.number, params=t.params, state=t.state, value=t.value,
                           loss=t.loss) for t in history])
    assert resumed.ask(4) == whole.ask(4)


def test_bayes_power_transform_matches_scipy_s_maximum_likelihood_lambda():
    import numpy as np
    from hpo_bayes.transforms import transform
    from scipy.stats import boxcox, yeojohnson

    positive = np.exp(np.random.RandomState(0).normal(0.0, 3.0, size=100))
    signed = np.random.RandomState(1).standard_t(2, size=100)
    ours_bc, ours_yj = transform(positive, "power")[0], transform(signed, "power")[0]
    bc = boxcox(positive / positive.std())[0]
    x = (signed - signed.mean()) / signed.std()
    yj = yeojohnson(x)[0]
    assert np.abs(ours_bc - (bc - bc.mean()) / bc.std()).max() < 0.02
    assert np.abs(ours_yj - (yj - yj.mean()) / yj.std()).max() < 0.02
