"""The shared multi-objective definitions: dominance, constrained dominance, sorting and
the exact hypervolume (checked against a brute-force grid count, which can fail)."""

import itertools
import random

import pytest

from hpo_framework.contracts.pareto import (
    constrained_dominates,
    dominates,
    feasible,
    hypervolume,
    non_dominated,
    nondominated_sort,
    violation,
)


def test_dominance_is_strict_and_needs_one_better_loss():
    assert dominates([1, 2], [2, 2])
    assert not dominates([1, 2], [1, 2])
    assert not dominates([1, 3], [2, 2])


def test_constrained_dominance_puts_feasible_first_then_smaller_violation():
    assert constrained_dominates([9, 9], [0, 0], [0.0], [0.5])
    assert not constrained_dominates([0, 0], [9, 9], [0.5], [-1.0])
    assert constrained_dominates([9, 9], [0, 0], [0.1, -3], [0.2, 0.1])
    assert violation([-1, 0.5, 2]) == 2.5 and feasible([-1, 0]) and not feasible([1e-9])


def test_the_front_is_exactly_the_non_dominated_set():
    rng = random.Random(3)
    pts = [[rng.randint(0, 6), rng.randint(0, 6)] for _ in range(40)]
    front = non_dominated(pts)
    for i, p in enumerate(pts):
        assert (i in front) == (not any(dominates(q, p) for q in pts))
    fronts = nondominated_sort(pts)
    assert fronts[0] == front and sorted(itertools.chain(*fronts)) == list(range(40))
    for earlier, later in itertools.pairwise(fronts):
        assert all(any(dominates(pts[i], pts[j]) for i in earlier) for j in later)


def test_sorting_by_constrained_domination():
    assert nondominated_sort([[1, 2], [2, 1], [2, 2]], [[1], [0], None]) == [[1], [2], [0]]


@pytest.mark.parametrize("d", [2, 3, 4])
def test_hypervolume_matches_a_grid_count(d):
    rng = random.Random(d)
    steps = 8
    pts = [[rng.randint(0, steps - 1) for _ in range(d)] for _ in range(12)]
    counted = sum(any(all(p[k] <= z[k] for k in range(d)) for p in pts)
                  for z in itertools.product(range(steps), repeat=d))
    assert hypervolume(pts, [steps] * d) == pytest.approx(counted)


def test_points_outside_the_reference_add_nothing():
    assert hypervolume([], [1, 1]) == 0.0
    assert hypervolume([[1, 0], [2, 2]], [1, 1]) == 0.0
    assert hypervolume([[0.5, 0.5], [0.5, float("nan")]], [1, 1]) == pytest.approx(0.25)


def test_the_3d_sweep_equals_the_slicing_recursion_with_ties():
    from hpo_framework.contracts.pareto import _front, _hv

    rng = random.Random(0)
    for _ in range(200):
        pts = [[rng.choice([0.1, 0.3, 0.5]) if rng.random() < 0.3 else rng.random()
                for _ in range(3)] for _ in range(rng.randint(1, 40))]
        assert hypervolume(pts, [1, 1, 1]) == pytest.approx(_hv(_front(pts), [1.0, 1.0, 1.0]),
                                                            rel=1e-9, abs=1e-12)
