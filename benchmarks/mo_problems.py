"""The problems of the multi-objective benchmark (``benchmarks/multiobjective.py``).

Each problem gives its objectives as a user defines them (``directions`` says which are
maximized), optional constraints (feasible when every value is ``<= 0``, Optuna's and the
framework's convention) and a fixed hypervolume reference point on the **losses** (every
objective minimized: ``-value`` for a maximized one), stated here and in the report.

- ZDT1, ZDT2, ZDT3 with 6 variables in [0, 1]: Zitzler, Deb and Thiele, "Comparison of
  Multiobjective Evolutionary Algorithms: Empirical Results", Evolutionary Computation
  8(2):173-195, 2000. f1 = x0, g = 1 + 9 * mean(x1..x5), f2 = g * h(f1, g) with
  h = 1 - sqrt(f1/g) (ZDT1, convex front), 1 - (f1/g)^2 (ZDT2, concave),
  1 - sqrt(f1/g) - (f1/g) sin(10 pi f1) (ZDT3, five disconnected pieces). The front is
  g = 1 (x1..x5 = 0). Reference point (11, 11), BoTorch's for ZDT (g <= 10 here, so every
  point of the search space but the worst ZDT3 ones lies inside it).
- DTLZ2 with 2 and 3 objectives and 6 variables in [0, 1]: Deb, Thiele, Laumanns and
  Zitzler, "Scalable Test Problems for Evolutionary Multiobjective Optimization", in
  Evolutionary Multiobjective Optimization, Springer 2005 (TIK report 112, 2001).
  g = sum over the last n - M + 1 variables of (x - 0.5)^2; f_1 = (1+g) prod cos(x_j pi/2),
  ..., f_M = (1+g) sin(x_0 pi/2). The front is the positive part of the unit sphere
  (g = 0: the distance variables at 0.5). Reference point 1.1 in every objective
  (BoTorch's).
- C2-DTLZ2 with 2 objectives and 6 variables (the constrained problem): Jain and Deb, "An
  Evolutionary Many-Objective Optimization Algorithm Using Reference-Point-Based
  Nondominated Sorting Approach, Part II: Handling Constraints and Extending to an
  Adaptive Approach", IEEE TEVC 18(4):602-622, 2014. DTLZ2's objectives with one
  constraint: feasible only within radius r of a corner of the front ((1, 0) or (0, 1))
  or of its centre (1/sqrt(M), ...). r = 0.2 (BoTorch's C2DTLZ2; the paper's r = 0.5 for
  two objectives leaves the whole front feasible), so the feasible front is two end
  pieces (angles up to 11.5 degrees from an axis) and a middle one (33.5 to 56.5 degrees).
  Reference point (1.1, 1.1).
- keras-mlp-digits: the keras backend's MLP on scikit-learn's digits (the same trainer
  and split as ``hpo-run --backend keras --dataset digits``: trainer compiled, 10 epochs,
  seed 0, hold-out validation 15 %), objectives validation accuracy (maximize) and
  trainable parameters ``n_params`` (minimize, counted from the layer widths).
  Reference point: accuracy 0.5 and 50,000 parameters (losses (-0.5, 50000); the largest
  network of the space has 42,634).

The optimum hypervolume (``best_hv``) is closed-form where it is known (ZDT1/2, DTLZ2) and
otherwise by quadrature on 200,001 points of the front (ZDT3, C2-DTLZ2); None for the MLP.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

N_VARS = 6


@dataclass
class MOProblem:
    name: str
    character: str
    space: dict[str, Any]
    directions: list[str]
    objectives: Callable[[dict[str, Any]], list[float]]
    reference: list[float]  # on the losses (every objective minimized)
    constraints: Callable[[dict[str, Any]], list[float]] | None = None
    quick: bool = False  # part of --quick
    expensive: bool = False  # a real training per evaluation
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_obj(self) -> int:
        return len(self.directions)

    def losses(self, values: Sequence[float]) -> list[float]:
        """The values as losses: negated where maximized."""
        return [-float(v) if d == "maximize" else float(v)
                for v, d in zip(values, self.directions, strict=True)]

    def evaluate(self, params: dict[str, Any]) -> tuple[list[float], list[float] | None]:
        """``(values, constraint values or None)`` of one configuration."""
        values = [float(v) for v in self.objectives(params)]
        cons = None if self.constraints is None else [float(c) for c in
                                                      self.constraints(params)]
        return values, cons


def unit_space(n: int = N_VARS) -> dict[str, Any]:
    return {f"x{i}": {"type": "float", "low": 0.0, "high": 1.0} for i in range(n)}


def _x(params: dict[str, Any], n: int = N_VARS) -> list[float]:
    return [float(params[f"x{i}"]) for i in range(n)]


# ZDT ---------------------------------------------------------------------------------------

def _zdt_g(x: list[float]) -> float:
    return 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)


def zdt1(params: dict[str, Any]) -> list[float]:
    x = _x(params)
    f1, g = x[0], _zdt_g(x)
    return [f1, g * (1.0 - math.sqrt(f1 / g))]


def zdt2(params: dict[str, Any]) -> list[float]:
    x = _x(params)
    f1, g = x[0], _zdt_g(x)
    return [f1, g * (1.0 - (f1 / g) ** 2)]


def zdt3(params: dict[str, Any]) -> list[float]:
    x = _x(params)
    f1, g = x[0], _zdt_g(x)
    return [f1, g * (1.0 - math.sqrt(f1 / g) - (f1 / g) * math.sin(10.0 * math.pi * f1))]


# DTLZ2 and C2-DTLZ2 --------------------------------------------------------------------------

def dtlz2_values(x: Sequence[float], m: int) -> list[float]:
    """DTLZ2's ``m`` objectives of the variables ``x`` (the last n - m + 1 the distance)."""
    g = sum((xi - 0.5) ** 2 for xi in x[m - 1:])
    out = []
    for i in range(m):  # f_(i+1) = (1+g) cos(x_0..x_(m-2-i)) [* sin(x_(m-1-i)) if i > 0]
        f = 1.0 + g
        for j in range(m - 1 - i):
            f *= math.cos(x[j] * math.pi / 2)
        if i > 0:
            f *= math.sin(x[m - 1 - i] * math.pi / 2)
        out.append(f)
    return out


def dtlz2(m: int) -> Callable[[dict[str, Any]], list[float]]:
    def fn(params: dict[str, Any]) -> list[float]:
        return dtlz2_values(_x(params), m)

    fn.__name__ = f"dtlz2_{m}"
    return fn


C2_RADIUS = 0.2


def c2_constraint(f: Sequence[float], r: float = C2_RADIUS) -> float:
    """Jain and Deb's C2 constraint on DTLZ2's objectives ``f``: ``<= 0`` when within
    ``r`` of a corner of the front or of its centre point."""
    m = len(f)
    corners = min((f[i] - 1.0) ** 2 + sum(f[j] ** 2 for j in range(m) if j != i) - r * r
                  for i in range(m))
    centre = sum((fi - 1.0 / math.sqrt(m)) ** 2 for fi in f) - r * r
    return min(corners, centre)


def c2_dtlz2_constraints(params: dict[str, Any]) -> list[float]:
    return [c2_constraint(dtlz2_values(_x(params), 2))]


# the keras MLP on digits ---------------------------------------------------------------------

KERAS_SPACE = {
    "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "num_dense_layers": {"type": "int", "low": 0, "high": 2},
    "num_dense_nodes": {"type": "int", "low": 4, "high": 128, "log": True},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
}
DIGITS_FEATURES, DIGITS_CLASSES = 64, 10


def mlp_n_params(params: dict[str, Any], n_in: int = DIGITS_FEATURES,
                 n_out: int = DIGITS_CLASSES) -> int:
    """Trainable parameters of the keras backend's MLP: ``num_dense_nodes`` units in the
    first hidden layer and in each of ``num_dense_layers`` more, then the softmax layer."""
    units = [int(params["num_dense_nodes"])] * (1 + int(params["num_dense_layers"]))
    widths = [n_in, *units, n_out]
    return sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))


_PIPELINE: list[Any] = []


def keras_mlp_digits(params: dict[str, Any]) -> list[float]:
    """Validation accuracy of the keras backend's MLP (10 epochs) and its ``n_params``.
    The pipeline is made once per process (the data and Keras load once)."""
    if not _PIPELINE:
        from hpo_framework.jobs.pipeline import JobSpec, PipelineObjective

        _PIPELINE.append(PipelineObjective(JobSpec(
            backend="keras", dataset="digits", metric="accuracy", seed=0,
            backend_options={"epochs": 10})))
    out = _PIPELINE[0](params)
    return [float(out["value"]), float(mlp_n_params(params))]


# optimum hypervolumes ------------------------------------------------------------------------

def _hv_2d_curve(f1: Any, f2: Any, reference: Sequence[float]) -> float:
    """The hypervolume of a dense 2-objective front (arrays), by quadrature: the area
    under the reference of the running minimum of f2 along increasing f1."""
    import numpy as np

    order = np.argsort(f1)
    a, b = np.asarray(f1)[order], np.minimum.accumulate(np.asarray(f2)[order])
    widths = np.diff(np.append(a, reference[0]))
    return float(np.sum(widths * np.clip(reference[1] - b, 0.0, None)))


def best_hv(name: str, n: int = 200001) -> float | None:
    """The optimum hypervolume of a problem at its reference point (None when unknown):
    closed-form for ZDT1, ZDT2 and DTLZ2, by quadrature on ``n`` front points for ZDT3
    and C2-DTLZ2 (its feasible part)."""
    import numpy as np

    closed = {"zdt1": 121.0 - 1.0 / 3.0, "zdt2": 121.0 - 2.0 / 3.0,
              "dtlz2-2": 1.1 ** 2 - math.pi / 4, "dtlz2-3": 1.1 ** 3 - math.pi / 6}
    if name in closed:
        return closed[name]
    t = np.linspace(0.0, 1.0, n)
    if name == "zdt3":  # g = 1
        return _hv_2d_curve(t, 1.0 - np.sqrt(t) - t * np.sin(10.0 * math.pi * t), [11.0, 11.0])
    if name == "c2-dtlz2":  # g = 0: the unit circle, its feasible arcs only
        f1, f2 = np.cos(t * math.pi / 2), np.sin(t * math.pi / 2)
        r2, c = C2_RADIUS ** 2, 1.0 / math.sqrt(2.0)  # c2_constraint, on arrays
        ok = np.minimum(np.minimum((f1 - 1) ** 2 + f2 ** 2, f1 ** 2 + (f2 - 1) ** 2),
                        (f1 - c) ** 2 + (f2 - c) ** 2) - r2 <= 0
        return _hv_2d_curve(f1[ok], f2[ok], [1.1, 1.1])
    return None


def hv_at(run: Sequence[tuple[Sequence[float], Sequence[float] | None]], n: int,
          reference: Sequence[float]) -> float:
    """The hypervolume of the feasible losses among a run's first ``n`` evaluations."""
    from hpo_framework.contracts.pareto import feasible, hypervolume

    pts = [losses for losses, cons in run[:n] if feasible(cons)]
    return hypervolume(pts, reference) if pts else 0.0


def problems() -> list[MOProblem]:
    mm = ["minimize", "minimize"]
    return [
        MOProblem("zdt1", "2 objectives, convex front", unit_space(), mm, zdt1, [11.0, 11.0],
                  quick=True),
        MOProblem("zdt2", "2 objectives, concave front", unit_space(), mm, zdt2,
                  [11.0, 11.0]),
        MOProblem("zdt3", "2 objectives, five disconnected pieces", unit_space(), mm, zdt3,
                  [11.0, 11.0]),
        MOProblem("dtlz2-2", "2 objectives, front on the unit circle", unit_space(), mm,
                  dtlz2(2), [1.1, 1.1], quick=True),
        MOProblem("dtlz2-3", "3 objectives, front on the unit sphere", unit_space(),
                  ["minimize"] * 3, dtlz2(3), [1.1, 1.1, 1.1]),
        MOProblem("c2-dtlz2", "2 objectives, 1 constraint: three feasible pieces of the "
                  "front", unit_space(), mm, dtlz2(2), [1.1, 1.1],
                  constraints=c2_dtlz2_constraints, quick=True),
        MOProblem("keras-mlp-digits", "keras MLP on digits, 10 epochs: accuracy (max) vs "
                  "n_params (min)", KERAS_SPACE, ["maximize", "minimize"], keras_mlp_digits,
                  [-0.5, 50000.0], expensive=True),
    ]


def by_name() -> dict[str, MOProblem]:
    return {p.name: p for p in problems()}
