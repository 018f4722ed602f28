"""The problems of ``benchmarks/multiobjective.py`` (``benchmarks/mo_problems.py``) are the
published ones: Pareto-optimal points give the known fronts, the constraint of C2-DTLZ2
admits exactly the published feasible pieces, and the stated optimum hypervolumes agree
with the framework's exact hypervolume of a dense front."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mo():
    spec = importlib.util.spec_from_file_location("mo_problems_under_test",
                                                  ROOT / "benchmarks" / "mo_problems.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def point(x0: float, rest: float, x1: float | None = None) -> dict[str, float]:
    params = {f"x{i}": rest for i in range(6)}
    params["x0"] = x0
    if x1 is not None:
        params["x1"] = x1
    return params


@pytest.mark.parametrize("t", [0.0, 0.04, 0.25, 0.5, 0.81, 1.0])
def test_zdt_fronts_at_g_1(mo, t):
    """x1..x5 = 0 gives g = 1: f2 = 1 - sqrt(f1), 1 - f1^2, 1 - sqrt(f1) - f1 sin(10 pi f1)."""
    p = mo.by_name()
    assert p["zdt1"].evaluate(point(t, 0.0))[0] == pytest.approx([t, 1 - math.sqrt(t)])
    assert p["zdt2"].evaluate(point(t, 0.0))[0] == pytest.approx([t, 1 - t * t])
    assert p["zdt3"].evaluate(point(t, 0.0))[0] == pytest.approx(
        [t, 1 - math.sqrt(t) - t * math.sin(10 * math.pi * t)], abs=1e-12)


def test_zdt_away_from_the_front(mo):
    """x1..x5 = 1 gives g = 10: ZDT1's f2 = 10 (1 - sqrt(f1 / 10))."""
    values, cons = mo.by_name()["zdt1"].evaluate(point(0.4, 1.0))
    assert values == pytest.approx([0.4, 10 * (1 - math.sqrt(0.04))])
    assert cons is None


@pytest.mark.parametrize("x0,x1", [(0.0, 0.0), (0.3, 0.7), (0.5, 0.5), (1.0, 0.2), (0.9, 1.0)])
def test_dtlz2_front_is_the_unit_sphere(mo, x0, x1):
    p = mo.by_name()
    two = p["dtlz2-2"].evaluate(point(x0, 0.5))[0]
    three = p["dtlz2-3"].evaluate(point(x0, 0.5, x1))[0]
    assert two == pytest.approx([math.cos(x0 * math.pi / 2), math.sin(x0 * math.pi / 2)])
    assert sum(f * f for f in two) == pytest.approx(1.0)
    assert sum(f * f for f in three) == pytest.approx(1.0)
    assert three[2] == pytest.approx(math.sin(x0 * math.pi / 2))  # f_M = sin(x0 pi/2)
    # off the front: the distance variables at 0 add g = 4 * 0.25 (3 objectives)
    far = p["dtlz2-3"].evaluate(point(x0, 0.0, x1))[0]
    assert math.sqrt(sum(f * f for f in far)) == pytest.approx(2.0)


def test_dtlz2_three_objective_corners(mo):
    p = mo.by_name()["dtlz2-3"]
    assert p.evaluate(point(0.0, 0.5, 0.0))[0] == pytest.approx([1, 0, 0], abs=1e-12)
    assert p.evaluate(point(0.0, 0.5, 1.0))[0] == pytest.approx([0, 1, 0], abs=1e-12)
    assert p.evaluate(point(1.0, 0.5, 0.3))[0] == pytest.approx([0, 0, 1], abs=1e-12)


@pytest.mark.parametrize("x0,ok", [
    (0.0, True), (0.1, True),      # within 0.2 of the corner (1, 0): up to 11.5 degrees
    (0.2, False), (0.25, False),   # between a corner and the centre
    (0.4, True), (0.5, True), (0.6, True),  # within 0.2 of the centre: 33.5-56.5 degrees
    (0.7, False), (1.0, True),
])
def test_c2_dtlz2_feasible_pieces_of_the_front(mo, x0, ok):
    values, cons = mo.by_name()["c2-dtlz2"].evaluate(point(x0, 0.5))
    assert len(cons) == 1
    assert (cons[0] <= 0) is ok, (x0, values, cons)


def test_c2_dtlz2_off_the_front_is_infeasible(mo):
    """At the corner's angle but g = 1.25 (distance variables at 0): f = (2.25, 0)."""
    values, cons = mo.by_name()["c2-dtlz2"].evaluate(point(0.0, 0.0))
    assert values == pytest.approx([2.25, 0.0], abs=1e-12)
    assert cons[0] == pytest.approx(1.25 ** 2 - 0.04)


def test_keras_problem_losses_and_parameter_count(mo):
    p = mo.by_name()["keras-mlp-digits"]
    assert p.directions == ["maximize", "minimize"]
    assert p.losses([0.9, 760.0]) == [-0.9, 760.0]
    # 64 -> 10 -> 10 (softmax): 64*10 + 10 + 10*10 + 10
    assert mo.mlp_n_params({"num_dense_nodes": 10, "num_dense_layers": 0}) == 760
    # 64 -> 8 -> 8 -> 10: 520 + 72 + 90
    assert mo.mlp_n_params({"num_dense_nodes": 8, "num_dense_layers": 1}) == 682
    largest = mo.mlp_n_params({"num_dense_nodes": 128, "num_dense_layers": 2})
    assert largest < p.reference[1]


@pytest.mark.parametrize("name", ["zdt1", "zdt3", "c2-dtlz2", "dtlz2-2"])
def test_best_hypervolume_matches_a_dense_front(mo, name):
    """The stated optimum agrees with contracts.pareto.hypervolume of 401 front points
    (from below: a finite front dominates a little less)."""
    from hpo_framework.contracts.pareto import hypervolume

    p = mo.by_name()[name]
    front = []
    for i in range(401):
        values, cons = p.evaluate(point(i / 400, 0.0 if name.startswith("zdt") else 0.5))
        if cons is None or cons[0] <= 0:
            front.append(p.losses(values))
    dense = hypervolume(front, p.reference)
    best = mo.best_hv(name)
    assert dense <= best + 1e-9
    assert best - dense < 5e-3, best - dense  # 401 points: gaps 5e-4 to 4e-3


def test_references_enclose_the_fronts(mo):
    for p in mo.problems():
        assert len(p.reference) == p.n_obj
        assert len(p.space) == (6 if p.name != "keras-mlp-digits" else 4)
    for name in ("zdt1", "zdt2", "zdt3", "dtlz2-2", "c2-dtlz2"):
        p = mo.by_name()[name]
        for t in (0.0, 0.5, 1.0):
            values = p.evaluate(point(t, 0.0 if name.startswith("zdt") else 0.5))[0]
            assert all(v < r for v, r in zip(p.losses(values), p.reference, strict=True))
