"""The ``tpe`` strategy plugin: the conformance suite, Optuna's estimator, exact resume,
search quality against ``random``, batches and conditional spaces."""

from __future__ import annotations

import itertools
import math
import statistics
import subprocess
import sys

import numpy as np
import pytest
from hpo_tpe import TPEStrategy
from hpo_tpe.parzen import Dim, Parzen

from hpo_framework import OptionError, Trial, TrialState, create_study, get_registry, optimize
from hpo_framework.testing import CHECKS, CONDITIONAL_SPACE, make_strategy, simulate

# a short startup so that the suite's 10-12 trial checks exercise the model
QUICK = {"n_startup_trials": 3}

BRANIN_SPACE = {"x1": {"type": "float", "low": -5.0, "high": 10.0},
                "x2": {"type": "float", "low": 0.0, "high": 15.0}}
BRANIN_MIN = 0.397887
MIXED_QUADRATIC_SPACE = {"x": {"type": "float", "low": -2.0, "high": 2.0},
                         "y": {"type": "float", "low": -2.0, "high": 2.0},
                         "k": ["a", "b"], "n": {"type": "int", "low": 1, "high": 20}}


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def mixed_quadratic(p):
    return ((p["x"] - 0.3) ** 2 + (p["y"] + 1) ** 2 + (0.5 if p["k"] == "b" else 0.0)
            + abs(p["n"] - 7) / 10)


@pytest.mark.parametrize("check", list(CHECKS))
def test_tpe_conformance(check):
    CHECKS[check](get_registry().get("strategy", "tpe"), **QUICK)


@pytest.mark.parametrize("options", [{"multivariate": False}, {"constant_liar": False},
                                     {"n_startup_trials": 0}])
def test_tpe_conformance_with_other_options(options):
    for check in ("asks_in_space", "conditional_space", "restore", "no_duplicates"):
        CHECKS[check](TPEStrategy, **{**QUICK, **options})


def test_parzen_estimator_matches_optunas_density():
    """The same observations give the log density Optuna's ``_ParzenEstimator`` gives,
    on every kind of dimension: linear and log reals, linear and log integers (bins),
    categoricals, the prior alone, and the weight ramp beyond 25 observations."""
    optuna = pytest.importorskip("optuna")
    from optuna.distributions import CategoricalDistribution as C
    from optuna.distributions import FloatDistribution as F
    from optuna.distributions import IntDistribution as I  # noqa: E741
    from optuna.samplers._tpe.parzen_estimator import (
        _ParzenEstimator,
        _ParzenEstimatorParameters,
    )
    from optuna.samplers._tpe.sampler import default_weights

    assert optuna.__version__.startswith("5.")
    theirs_space = {"x": F(-5, 10), "lr": F(1e-4, 1e-1, log=True), "n": I(1, 8),
                    "u": I(4, 64, log=True), "k": C(["a", "b", "c"])}
    dims = [Dim("x", -5, 10), Dim("lr", 1e-4, 1e-1, log=True), Dim("n", 1, 8, step=1.0),
            Dim("u", 4, 64, log=True, step=1.0), Dim("k", choices=3)]
    params = _ParzenEstimatorParameters(1.0, True, False, default_weights, True)
    rng = np.random.default_rng(1)
    for n in (0, 1, 2, 5, 8, 20, 60):
        # tied observations make the widths depend on how each library orders ties:
        # integers are drawn without repeats, and n (8 values) only while it can be
        x = np.column_stack([rng.uniform(-5, 10, n), np.exp(rng.uniform(-9.2, -2.3, n)),
                             rng.permutation(np.arange(1, 9))[:n] if n <= 8 else np.ones(n),
                             rng.permutation(np.arange(4, 65))[:n],
                             rng.integers(0, 3, n)]).astype(float)
        cols = [0, 1, 2, 3, 4] if n <= 8 else [0, 1, 3, 4]
        names = [list(theirs_space)[i] for i in cols]
        theirs = _ParzenEstimator({k: x[:, i] for k, i in zip(names, cols, strict=True)},
                                  {k: theirs_space[k] for k in names}, params)
        ours = Parzen([dims[i] for i in cols], x[:, cols], 1.0)
        at = ours.sample(np.random.default_rng(0), 200)
        expected = theirs.log_pdf({k: at[:, j] for j, k in enumerate(names)})
        np.testing.assert_allclose(ours.log_pdf(at), expected, atol=1e-4,
                                   err_msg=f"{n} observations")


def test_resume_from_sqlite_proposes_what_an_uninterrupted_study_proposes(tmp_path):
    """A conditional space, 30 trials (20 of them from the model), in one sitting and in
    two: the same configurations in the same order."""
    def objective(p):
        return (math.log(p["units_1"]) - 3) ** 2 + p["n_layers"] + p.get("momentum", 0.5)

    once = optimize(objective, CONDITIONAL_SPACE, strategy="tpe", n_trials=30, seed=4,
                    storage=tmp_path / "once.db", study="s")
    optimize(objective, CONDITIONAL_SPACE, strategy="tpe", n_trials=13, seed=4,
             storage=tmp_path / "twice.db", study="s")
    twice = optimize(objective, CONDITIONAL_SPACE, strategy="tpe", n_trials=30, seed=4,
                     storage=tmp_path / "twice.db", study="s")
    assert len(once.trials) == len(twice.trials) == 30
    assert [t.params for t in twice.trials] == [t.params for t in once.trials]


def test_resume_with_a_batch_still_running_asks_the_same(tmp_path):
    """Ask-and-tell with batches of 4: a driver that stops with a batch running and a
    new one that opens the study ask what the first would have asked next."""
    db = tmp_path / "batch.db"
    study = create_study(BRANIN_SPACE, strategy="tpe", seed=2, storage=db, name="b")
    for _ in range(4):
        batch = study.ask_many(4)
        for trial in batch:
            study.tell(trial, branin(trial.params))
    running = study.ask_many(4)
    study.tell(running[0], branin(running[0].params))
    expected = study.strategy.ask(3)
    study.close()

    resumed = create_study(BRANIN_SPACE, strategy="tpe", seed=2, storage=db, name="b")
    assert resumed.strategy.ask(3) == expected
    resumed.close()


def test_tpe_beats_random_at_60_trials():
    """Median best over 5 seeds: far ahead on a mixed quadratic, ahead on Branin."""
    def median_best(objective, space, strategy):
        return statistics.median(
            optimize(objective, space, strategy=strategy, n_trials=60, seed=seed).best_value
            for seed in range(5))

    tpe, rnd = (median_best(mixed_quadratic, MIXED_QUADRATIC_SPACE, s) for s in ("tpe", "random"))
    assert tpe < 0.3 * rnd, f"mixed quadratic: tpe {tpe:.4f}, random {rnd:.4f}"
    tpe, rnd = (median_best(branin, BRANIN_SPACE, s) - BRANIN_MIN for s in ("tpe", "random"))
    assert tpe < 0.6 * rnd, f"branin regret: tpe {tpe:.4f}, random {rnd:.4f}"


def test_a_batch_is_distinct_and_spread_out_by_the_constant_liar():
    """ask(8) without a tell: 8 distinct configurations, and counting the pending ones as
    bad spreads them (closest pair at least twice as far apart as without the liar)."""
    def closest_pairs(liar):
        out = []
        for seed in range(5):
            strategy = make_strategy(TPEStrategy, BRANIN_SPACE, seed=seed, constant_liar=liar)
            simulate(strategy, 20)
            batch = strategy.ask(8)
            assert len({strategy.space.key(p) for p in batch}) == 8
            u = [strategy.space.encode(p) for p in batch]
            out.append(min(math.dist(a, b) for a, b in itertools.combinations(u, 2)))
        return statistics.median(out)

    assert closest_pairs(True) > 2 * closest_pairs(False)


def test_conditional_parameters_are_modelled_in_groups_of_those_active_together():
    strategy = make_strategy(TPEStrategy, CONDITIONAL_SPACE, seed=0, **QUICK)
    simulate(strategy, 30)
    names = [d.name for d in strategy.dims]
    groups = [[names[i] for i in g] for g in strategy.history.groups(True)]
    assert sorted(groups) == sorted([["n_layers", "units_1", "optimizer"], ["units_2"],
                                     ["units_3"], ["momentum"]])
    assert strategy.history.groups(False) == [[i] for i in range(len(names))]


def test_pruned_trials_rank_after_complete_ones_and_failed_ones_are_never_good():
    space = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
    strategy = make_strategy(TPEStrategy, space)
    told = [Trial(0, {"x": 0.1}, TrialState.COMPLETE, value=5.0, loss=5.0),
            Trial(1, {"x": 0.2}, TrialState.PRUNED, curve=[(1, 0.5), (2, 0.4)]),
            Trial(2, {"x": 0.3}, TrialState.PRUNED, curve=[(1, 0.1)]),
            Trial(3, {"x": 0.4}, TrialState.FAILED, error="boom"),
            Trial(4, {"x": 0.5}, TrialState.COMPLETE, value=1.0, loss=1.0)]
    strategy.tell(told)
    order = [list(strategy.history.split(k)[0]) for k in range(1, 6)]
    # complete by loss (4, 0), then the pruned trial that got further (1), then 2; never 3
    assert [sorted(int(strategy.history.number[i]) for i in rows) for rows in order] == [
        [4], [0, 4], [0, 1, 4], [0, 1, 2, 4], [0, 1, 2, 4]]
    assert strategy.history.n_observed == 4
    # a paused trial told PRUNED and later COMPLETE is one row, the later telling
    strategy.tell([Trial(1, {"x": 0.2}, TrialState.COMPLETE, value=0.2, loss=0.2)])
    assert strategy.history.size == 5
    assert int(strategy.history.number[strategy.history.split(1)[0][0]]) == 1


def test_log_and_integer_parameters_stay_plain_and_in_range():
    space = {"lr": {"type": "float", "low": 1e-6, "high": 1.0, "log": True},
             "units": {"type": "int", "low": 1, "high": 4096, "log": True},
             "depth": {"type": "int", "low": -3, "high": 3}}

    def objective(p):
        return (math.log10(p["lr"]) + 4) ** 2 + (math.log2(p["units"]) - 8) ** 2 + p["depth"] ** 2

    study = optimize(objective, space, strategy="tpe", n_trials=60, seed=0)
    for t in study.trials:
        assert type(t.params["units"]) is int and 1 <= t.params["units"] <= 4096
        assert type(t.params["depth"]) is int and type(t.params["lr"]) is float
    best = study.best_params
    assert 1e-5 <= best["lr"] <= 1e-3 and 64 <= best["units"] <= 1024, best


def test_bad_options_are_one_line_errors():
    with pytest.raises(OptionError, match="n_ei_candidates"):
        optimize(lambda p: p["x"], BRANIN_SPACE | {"x": [1, 2]}, strategy="tpe",
                 n_trials=1, n_ei_candidates=0)


def test_importing_the_plugin_does_not_import_numpy():
    code = "import sys, hpo_tpe; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_the_startup_trials_are_the_random_strategys_and_then_the_model_takes_over():
    space = {"x": {"type": "float", "low": 0.0, "high": 1.0}, "k": ["a", "b"]}
    tpe, rnd = (optimize(lambda p: p["x"], space, strategy=s, n_trials=12, seed=3)
                for s in ("tpe", "random"))
    assert [t.params for t in tpe.trials[:10]] == [t.params for t in rnd.trials[:10]]
    assert tpe.trials[10].params != rnd.trials[10].params
