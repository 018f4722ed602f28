"""The Pareto front the study keeps as trials end (``Study.best_trials``) is the one
``pareto_front`` computes from every trial: the same trials in the same order, on random
2- and 3-objective studies with constraints, ties, FAILED trials and trials told out of
order, and after a resume from SQLite."""

from __future__ import annotations

import random

import pytest

import hpo_framework as hpo
from hpo_framework import TrialState
from hpo_framework.contracts.pareto import KeptFront, non_dominated


def pareto_front(trials):
    """The reference: the COMPLETE feasible trials no other one dominates, scanned from
    every trial, in number order."""
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.losses is not None
            and t.feasible]
    return [done[i] for i in non_dominated([t.losses for t in done])]


SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0},
         "y": {"type": "float", "low": 0.0, "high": 1.0}}


def test_kept_front_is_non_dominated_of_all_points():
    rng = random.Random(0)
    for k in (1, 2, 3):
        points = [tuple(rng.choice([0.0, 0.5, 1.0, 1.5, 2.0]) for _ in range(k))
                  for _ in range(200)]
        order = list(range(len(points)))
        rng.shuffle(order)  # told out of order, kept in key order
        front: KeptFront[int] = KeptFront(points.__getitem__, int)
        for n, i in enumerate(order, 1):
            front.add(i)
            seen = sorted(order[:n])
            assert front.items == [seen[j] for j in non_dominated([points[i] for i in seen])]
        assert len(front.items) > 1  # ties on the front are all kept


def _numbers(trials):
    return [t.number for t in trials]


@pytest.mark.parametrize("directions", [["minimize", "maximize"],
                                        ["minimize", "minimize", "maximize"]])
def test_best_trials_is_pareto_front_and_survives_a_resume(tmp_path, directions):
    rng = random.Random(len(directions))
    path = str(tmp_path / "front.db")

    def constraints(trial):
        return [trial.params["x"] - 0.8, 0.1 - trial.params["y"]]

    def opened():
        return hpo.create_study(SPACE, strategy="random", seed=2, directions=directions,
                                storage=path, name="front", constraints=constraints)

    def tell_some(study, n):
        for _ in range(n // 3):
            trials = [study.ask() for _ in range(3)]
            rng.shuffle(trials)  # finished out of number order
            for trial in trials:
                if rng.random() < 0.1:
                    study.tell(trial, TrialState.FAILED)
                else:  # losses trading off on a coarse grid: ties, duplicates, dominated
                    first = [rng.randint(0, 8) / 4 for _ in directions[1:]]
                    losses = [*first, 2 * len(first) - sum(first)]
                    losses = [x + rng.randint(0, 2) / 4 for x in losses]
                    study.tell(trial, [x if d == "minimize" else -x
                                       for x, d in zip(losses, directions, strict=True)])
                assert _numbers(study.best_trials) == _numbers(pareto_front(study.trials))

    study = opened()
    tell_some(study, 150)
    before = _numbers(study.best_trials)
    assert len(before) >= 2
    assert any(not t.feasible for t in study.trials if t.constraints is not None)
    study.close()
    study = opened()  # the front rebuilt from the stored trials
    assert _numbers(study.best_trials) == before == _numbers(pareto_front(study.trials))
    tell_some(study, 60)
    assert _numbers(study.best_trials) == _numbers(pareto_front(study.trials))
    study.close()
