"""genetic at small budgets: sizing from the dimensions, a Latin-hypercube start, restarts,
and still the conformance suite (resume exact) with its defaults and with restarts."""

import statistics

import pytest

from hpo_framework import Space, Trial, get_registry, optimize
from hpo_framework.testing import check_strategy, simulate


def genetic():
    return get_registry().get("strategy", "genetic")


def floats(d):
    return {f"x{i}": {"type": "float", "low": -5.0, "high": 5.0} for i in range(d)}


def sphere(p):
    return sum((v - 1.3) ** 2 for v in p.values())


def test_conforms_with_its_defaults():
    check_strategy(genetic())  # the sizing, the Latin hypercube and the restart rule


def test_conforms_while_restarting_every_few_generations():
    check_strategy(genetic(), population_size=4, restart_after=1)


def test_population_is_sized_from_the_dimensions_when_not_given():
    for d, size in ((2, 6), (4, 7), (8, 8), (12, 9)):
        strat = genetic()(Space.from_dict(floats(d)), seed=0)
        assert len(strat.ask(100)) == size, d
    given = genetic()(Space.from_dict(floats(8)), seed=0, population_size=5)
    assert len(given.ask(100)) == 5
    # an elite count the automatic size could not hold raises the size, not an error
    big_hof = genetic()(Space.from_dict(floats(2)), seed=0, hall_of_fame=7)
    assert big_hof.size == 9


def test_first_generation_is_a_latin_hypercube():
    space = Space.from_dict(floats(6))
    asked = genetic()(space, seed=3, population_size=10).ask(100)
    cells = [[int(space.encode(p)[g] * 10) for p in asked] for g in range(6)]
    assert all(sorted(col) == list(range(10)) for col in cells)  # each stratum once per gene
    uniform = genetic()(space, seed=3, population_size=10, initial="random").ask(100)
    cells = [[int(space.encode(p)[g] * 10) for p in uniform] for g in range(6)]
    assert any(sorted(col) != list(range(10)) for col in cells)  # random draws clump


def test_a_stalled_population_restarts_and_resume_replays_the_restarts():
    space = Space.from_dict(floats(3))
    whole = genetic()(space, seed=5, population_size=5, restart_after=2)
    history = simulate(whole, 40, batch=3)
    assert whole.stats()["restarts"] >= 1
    resumed = genetic()(space, seed=5, population_size=5, restart_after=2)
    resumed.restore([Trial(number=t.number, params=t.params, state=t.state, value=t.value,
                           loss=t.loss) for t in history])
    assert resumed.stats() == whole.stats()
    assert resumed.ask(5) == whole.ask(5)
    never = genetic()(space, seed=5, population_size=5, restart_after=0)
    simulate(never, 40, batch=3)
    assert never.stats()["restarts"] == 0


def test_beats_random_search_at_forty_evaluations():
    """A 4-d sphere, 9 seeds: the median best at 40 trials is well under random's, and
    most pairs of runs go to genetic (deterministic: fixed seeds, no timing)."""
    best = {m: [optimize(sphere, floats(4), strategy=m, n_trials=40, seed=s).best_value
                for s in range(9)] for m in ("genetic", "random")}
    ours, theirs = best["genetic"], best["random"]
    assert statistics.median(ours) < 0.5 * statistics.median(theirs), best
    pairs = sum(x < y for x in ours for y in theirs) / (len(ours) * len(theirs))
    assert pairs > 0.75, best


@pytest.mark.parametrize("bad", [{"initial": "sobol"}, {"restart_after": -1}])
def test_new_options_refuse_bad_values_in_one_line(bad):
    from hpo_framework import OptionError

    with pytest.raises(OptionError) as err:
        genetic()(Space.from_dict(floats(2)), seed=0, **bad)
    assert "\n" not in str(err.value) and next(iter(bad)) in str(err.value)
