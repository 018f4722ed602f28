"""genetic with several objectives (NSGA-II) and constraints (Deb's constrained domination),
driven through the strategy with Trial objects built here."""

import random

import pytest

from hpo_framework import Space, Trial, TrialState, get_registry
from hpo_framework.contracts.pareto import (
    dominates,
    hypervolume,
    non_dominated,
    nondominated_sort,
    violation,
)

SPACE = {f"x{i}": {"type": "float", "low": 0.0, "high": 1.0} for i in range(3)}


def genetic():
    return get_registry().get("strategy", "genetic")


def zdt1(p):
    x = [p[f"x{i}"] for i in range(3)]
    g = 1.0 + 9.0 * (x[1] + x[2]) / 2
    return [x[0], g * (1.0 - (x[0] / g) ** 0.5)]


def drive(strat, n, outcome, batch=1, history=None):
    """Ask ``batch`` at a time and tell each trial ``outcome(number, params)``:
    ``(losses, constraints)``, losses None for a FAILED trial. Returns the history."""
    trials = list(history or [])
    while len(trials) < n:
        asked = strat.ask(min(batch, n - len(trials)))
        assert asked, "genetic asked nothing while nothing was running"
        new = [Trial(number=len(trials) + i, params=p) for i, p in enumerate(asked)]
        trials.extend(new)
        for t in new:
            losses, cons = outcome(t.number, t.params)
            if losses is None:
                t.state, t.error = TrialState.FAILED, "failed on purpose"
            else:
                t.state, t.value, t.loss = TrialState.COMPLETE, losses[0], losses[0]
                t.values, t.losses = list(losses), list(losses)
            t.constraints = cons
            strat.tell([t])
    return trials


def rank_of(keys, outcomes):
    """Each key's front (0 = non-dominated) by constrained domination, as NSGA-II ranks."""
    points = [list(outcomes[k][0]) for k in keys]
    cons = [outcomes[k][1] for k in keys]
    fronts = nondominated_sort(points, cons if any(c is not None for c in cons) else None)
    return {keys[i]: r for r, front in enumerate(fronts) for i in front}


def test_declares_several_objectives_and_constraints():
    assert genetic().multi_objective is True
    assert genetic().handles_constraints is True


@pytest.mark.parametrize("seed", range(6))
def test_next_parents_are_the_non_dominated_ones(seed):
    """After each generation the parents are the best of parents and children by
    non-dominated rank: no candidate left out is in a better front than one kept, and the
    whole first front is kept when it fits (random losses: fronts of every size)."""
    space = Space.from_dict(SPACE)
    strat = genetic()(space, seed=seed, population_size=4)
    rng = random.Random(seed)
    outcomes = {}

    def outcome(number, params):
        losses = [rng.random(), rng.random()]
        outcomes[space.key(params)] = (losses, None)
        return losses, None

    history = drive(strat, 4, outcome)
    candidates = [space.key(t.params) for t in history]
    for _ in range(4):  # four generations, checked as each completes
        parents = [space.key(p) for p in strat.parents]
        assert len(parents) == len(set(parents)) == 4
        assert set(parents) <= set(candidates)
        ranks = rank_of(candidates, outcomes)
        worst_kept = max(ranks[k] for k in parents)
        assert all(ranks[k] >= worst_kept for k in candidates if k not in parents)
        front = [k for k in candidates if ranks[k] == 0]
        assert set(front) <= set(parents) if len(front) <= 4 else set(parents) <= set(front)
        before = len(history)
        history = drive(strat, before + 4, outcome, history=history)
        candidates = parents + [space.key(t.params) for t in history[before:]]


def test_the_first_front_is_exactly_the_non_dominated_points():
    """A generation whose losses have a known front of 3: those 3 are the first parents,
    in front order, ahead of every dominated one."""
    space = Space.from_dict(SPACE)
    strat = genetic()(space, seed=1, population_size=6)
    table = [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0], [0.6, 0.6], [0.2, 1.5], [1.2, 1.2]]
    history = drive(strat, 6, lambda n, p: (table[n], None))
    keys = [space.key(t.params) for t in history]
    losses = {keys[i]: table[i] for i in range(6)}
    parents = [space.key(p) for p in strat.parents]
    assert set(parents[:3]) == {keys[i] for i in non_dominated(table)} == set(keys[:3])
    for k in parents[3:]:  # the rest: each dominated by some point of the front
        assert any(dominates(losses[f], losses[k]) for f in keys[:3])


def test_a_front_too_big_keeps_its_extremes_and_spreads_by_crowding():
    """Every point on one front (f2 = 1 - f1): of the 8 candidates 4 stay, the two ends
    (infinite crowding distance) among them, and the most crowded ones go."""
    space = Space.from_dict(SPACE)
    strat = genetic()(space, seed=4, population_size=4)
    def f1(p):  # every gene counts: a child that changed any has its own place
        return (p["x0"] + p["x1"] + p["x2"]) / 3

    history = drive(strat, 8, lambda n, p: ([f1(p), 1.0 - f1(p)], None))
    x0 = sorted(f1(t.params) for t in history)
    assert len(set(x0)) == 8
    kept = sorted(f1(p) for p in strat.parents)
    assert len(kept) == 4 and kept[0] == x0[0] and kept[-1] == x0[-1]

    def crowding(k):  # on this line both objectives give the same gaps
        i = x0.index(k)
        return x0[i + 1] - x0[i - 1]

    dropped = [k for k in x0[1:-1] if k not in kept]
    assert min(crowding(k) for k in kept[1:-1]) >= max(crowding(k) for k in dropped)


def test_an_infeasible_individual_never_beats_a_feasible_one():
    """Feasible only when x0 > 0.6, so the infeasible trials have the better first loss:
    in every generation, an infeasible parent means every feasible candidate is a parent,
    the infeasible parents violate least, and feasible ones come first."""
    space = Space.from_dict(SPACE)
    strat = genetic()(space, seed=2, population_size=8)
    outcomes = {}

    def outcome(number, params):
        losses, cons = zdt1(params), [0.6 - params["x0"]]
        outcomes[space.key(params)] = (losses, cons)
        return losses, cons

    def cv(k):
        return violation(outcomes[k][1])

    history = drive(strat, 8, outcome)
    candidates = [space.key(t.params) for t in history]
    cases = set()
    for _ in range(6):
        parents = [space.key(p) for p in strat.parents]
        left_out = [k for k in candidates if k not in parents]
        if any(cv(k) > 0 for k in parents):
            cases.add("infeasible kept")
            assert all(k in parents for k in candidates if cv(k) == 0)
            worst_kept = max(cv(k) for k in parents)
            assert all(cv(k) >= worst_kept for k in left_out)
        if any(cv(k) > 0 and outcomes[k][0][0] < 0.6 for k in left_out):
            cases.add("better losses left out")
        kept = [cv(k) > 0 for k in parents]
        assert kept == sorted(kept)  # the feasible ones first
        before = len(history)
        history = drive(strat, before + 8, outcome, history=history)
        candidates = parents + [space.key(t.params) for t in history[before:]]
    assert cases == {"infeasible kept", "better losses left out"}  # both situations met
    # with one objective the same rule: the fitness is (violation, loss), feasible first
    single = genetic()(space, seed=2, population_size=6)
    drive(single, 6, lambda n, p: ([zdt1(p)[0]], [0.6 - p["x0"]]), batch=2)
    pool = [(violation([0.6 - p["x0"]]), p["x0"]) for p in single.parents]
    assert pool == sorted(pool)  # best first: every feasible one ahead of the infeasible
    assert pool[0][0] == 0.0 and pool[-1][0] > 0.0


def test_failed_trials_rank_after_every_finished_one():
    space = Space.from_dict(SPACE)
    strat = genetic()(space, seed=3, population_size=6)
    failed = {0, 1, 2}
    history = drive(strat, 6, lambda n, p: (None, None) if n in failed else
                    ([p["x0"] + 5.0, 5.0], None))
    keys = [space.key(t.params) for t in history]
    parents = [space.key(p) for p in strat.parents]
    assert set(parents[:3]) == set(keys[3:])  # the finished, however bad, first


@pytest.mark.parametrize("constrained", [False, True])
def test_resume_asks_what_the_uninterrupted_run_would(constrained):
    """Several objectives, batches of 3, failures and, in one run, a constraint: a
    strategy restored from the history (a generation half told, trials still running)
    has the same generations and asks the same next configurations."""
    space = Space.from_dict(SPACE)

    def outcome(number, params):
        if number % 9 == 4:
            return None, None
        return zdt1(params), ([0.3 - params["x1"]] if constrained else None)

    whole = genetic()(space, seed=7, population_size=5)
    history = drive(whole, 31, outcome, batch=3)
    running = whole.ask(2)
    assert running
    history += [Trial(number=len(history) + i, params=p, state=TrialState.RUNNING)
                for i, p in enumerate(running)]
    resumed = genetic()(space, seed=7, population_size=5)
    resumed.restore(history)
    assert resumed.stats() == whole.stats()
    assert resumed.parents == whole.parents
    assert resumed.ask(4) == whole.ask(4)
    assert whole.stats()["generation"] >= 4


def test_improves_on_random_search_on_a_small_zdt1():
    """Deterministic (fixed seeds, no timing): the median hypervolume of 60 evaluations
    is above random search's on a 3-variable ZDT1."""
    space = Space.from_dict(SPACE)

    def hv(strategy, seed):
        strat = get_registry().get("strategy", strategy)(space, seed=seed)
        trials = drive(strat, 60, lambda n, p: (zdt1(p), None))
        return hypervolume([t.losses for t in trials], [11.0, 11.0])

    import statistics

    ours = [hv("genetic", s) for s in range(5)]
    theirs = [hv("random", s) for s in range(5)]
    assert statistics.median(ours) > statistics.median(theirs), (ours, theirs)


def test_optimize_with_two_objectives_and_a_constraint_resumes_exactly(tmp_path):
    """End to end through ``optimize(..., directions=..., constraints=...)``: the front is
    feasible, the strategy logs its generations, and a study stopped at 14 trials and
    resumed from its file runs the trials an uninterrupted one runs."""
    from hpo_framework import optimize

    def constraint(trial):
        return [0.3 - trial.params["x0"]]

    kwargs = {"strategy": "genetic", "directions": ["minimize", "maximize"], "seed": 3,
              "constraints": constraint, "population_size": 5}

    def objective(p):
        f1, f2 = zdt1(p)
        return [f1, -f2]  # the second maximized: its loss is f2 again

    whole = optimize(objective, SPACE, n_trials=30, **kwargs)
    front = whole.best_trials
    assert front and all(t.feasible and t.state == TrialState.COMPLETE for t in front)
    assert [t.losses for t in whole.trials[:3]] == [zdt1(t.params) for t in whole.trials[:3]]
    assert whole.attrs["strategy_stats"]["generation"] >= 4
    db = tmp_path / "mo.db"
    optimize(objective, SPACE, n_trials=14, storage=db, study="mo", **kwargs)
    resumed = optimize(objective, SPACE, n_trials=30, storage=db, study="mo", **kwargs)
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]


def test_crossover_option_works_for_one_objective_and_refuses_bad_values_in_one_line():
    from hpo_framework import OptionError
    from hpo_framework.testing import simulate

    space = Space.from_dict(SPACE)
    sbx = simulate(genetic()(space, seed=0, population_size=4), 12)
    uniform = simulate(genetic()(space, seed=0, population_size=4, crossover="uniform"), 12)
    assert [t.params for t in sbx[:4]] == [t.params for t in uniform[:4]]  # same start
    assert [t.params for t in sbx[4:]] != [t.params for t in uniform[4:]]
    with pytest.raises(OptionError) as err:
        genetic()(space, seed=0, crossover="blx")
    assert "\n" not in str(err.value) and "crossover" in str(err.value)
