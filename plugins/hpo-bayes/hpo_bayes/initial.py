"""The initial design: space-filling points in the unit cube before the model is used."""

from __future__ import annotations

import warnings
from typing import Any


def initial_points(generator: str, n: int, dims: int, rng: Any) -> list[list[float]]:
    """``n`` points of ``dims`` coordinates: ``random``, or scikit-optimize's scrambled
    ``sobol``, ``lhs`` or ``halton`` seeded from ``rng`` (a numpy ``RandomState``)."""
    if not dims:
        return []
    if generator == "random":
        return rng.uniform(size=(n, dims)).tolist()
    from skopt.space import Real
    from skopt.utils import cook_initial_point_generator

    sampler = cook_initial_point_generator(generator)
    with warnings.catch_warnings():  # Sobol': "n should be a power of 2" (10 is fine)
        warnings.simplefilter("ignore", UserWarning)
        points = sampler.generate([Real(0.0, 1.0) for _ in range(dims)], n,
                                  random_state=int(rng.randint(2**31)))
    return [[float(v) for v in p] for p in points]
