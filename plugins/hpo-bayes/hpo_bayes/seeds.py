"""Every random choice of ``bayes``, derived from (study seed, what it is for, its data).

A proposal is then a function of (seed, options, history): a resumed study, which has a
fresh instance, asks what the uninterrupted one would have asked. The core's
``derived_seed`` does the same job with another hash (JSON, big-endian); this one is
kept because every proposal recorded so far (the benchmark runs, ``tests/data``) was
made with it, and switching would change them all.
"""

from __future__ import annotations

import hashlib
from typing import Any


def rng(seed: int | None, *parts: Any) -> Any:
    """A numpy ``RandomState`` for one use: ``parts`` say which (``"acq"``, a count, a digest)."""
    import numpy as np

    digest = hashlib.sha256(repr((seed or 0, *parts)).encode()).digest()
    return np.random.RandomState(int.from_bytes(digest[:4], "little"))


def digest(data: Any) -> str:
    """A stable name of the data a model is fitted on (its seed and its kept fit)."""
    return hashlib.sha256(repr(data).encode()).hexdigest()
