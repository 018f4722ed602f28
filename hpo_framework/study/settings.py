"""Run settings: how long and how a study runs, validated once for the CLI, ``optimize()``,
``Study.optimize`` and comparisons. None of these make a study another study: they may
change between runs of one study (the stored identity is strategy, space, direction,
backend, dataset, evaluator and their options, and the seed)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError

#: the largest number of seconds a timeout may be (beyond it timers overflow)
MAX_SECONDS = 1e9
#: the most trials and retries a run may ask for (more never ends in practice)
MAX_TRIALS = 1_000_000
MAX_RETRIES = 100
#: trials run at once on this machine, per CPU core (a cluster's executor is not bounded)
JOBS_PER_CPU = 4
LOCAL_EXECUTORS = (None, "serial", "process")
#: seeds are handed to numpy, scikit-learn and TensorFlow: all take 0 .. 2**32 - 1
MAX_SEED = 2**32 - 1


def check_seed(seed: Any, what: str = "--seed") -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise OptionError(f"{what} must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise OptionError(f"{what} must be from 0 to {MAX_SEED}, got {seed}")
    return seed


def check_seconds(value: Any, what: str) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"{what} must be a number of seconds, got {value!r}") from None
    if math.isnan(seconds) or seconds <= 0:
        raise OptionError(f"{what} must be a positive number of seconds, got {value}")
    if seconds > MAX_SECONDS:
        raise OptionError(f"{what} must be at most {MAX_SECONDS:g} seconds, got {value}; "
                          "leave it out for no limit")
    return seconds


@dataclass
class RunSettings:
    """Budgets and where trials run; :meth:`check` raises one-line OptionErrors."""

    n_trials: int | None = None
    timeout: float | None = None
    n_jobs: int = 1
    retries: int = 0
    trial_timeout: float | None = None

    def check(self) -> RunSettings:
        if self.n_trials is not None and (isinstance(self.n_trials, bool)
                                          or not isinstance(self.n_trials, int)
                                          or self.n_trials < 1):
            raise OptionError(f"--trials must be at least 1, got {self.n_trials}")
        self.timeout = check_seconds(self.timeout, "--timeout")
        self.trial_timeout = check_seconds(self.trial_timeout, "--trial-timeout")
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs < 1:
            raise OptionError(f"--n-jobs must be at least 1, got {self.n_jobs}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) \
                or self.retries < 0:
            raise OptionError(f"--retries must be 0 or more, got {self.retries}")
        if self.n_trials is not None and self.n_trials > MAX_TRIALS:
            raise OptionError(f"--trials must be at most {MAX_TRIALS}, got {self.n_trials}")
        if self.retries > MAX_RETRIES:
            raise OptionError(f"--retries must be at most {MAX_RETRIES}, got {self.retries}")
        return self

    def workers(self, executor: str | None) -> int:
        """The workers worth starting: ``n_jobs`` bounded on this machine (one line past
        ``JOBS_PER_CPU`` per core for a local executor) and never more than the trials (at
        least 2 when more than one was asked, so trials still run in worker processes)."""
        import os

        n_jobs, cap = self.n_jobs, JOBS_PER_CPU * (os.cpu_count() or 1)
        if executor in LOCAL_EXECUTORS and n_jobs > cap:
            raise OptionError(f"--n-jobs must be at most {cap} on this machine ({JOBS_PER_CPU} "
                              f"per CPU core), got {n_jobs}; for more, run trials on a cluster "
                              "(--executor dask)")
        if n_jobs > 2 and self.n_trials is not None:
            n_jobs = min(n_jobs, max(self.n_trials, 2))
        return n_jobs
