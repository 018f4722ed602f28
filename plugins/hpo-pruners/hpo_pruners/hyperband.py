"""Hyperband (Li et al., 2018) as brackets of ASHA, after Optuna's HyperbandPruner.

With ``n`` brackets (``min_resource * reduction_factor ** (n - 1) <= max_resource``),
bracket ``b`` is successive halving with ``min_early_stopping_rate = b``: bracket 0 judges
trials from ``min_resource`` steps on, the last one only near ``max_resource``. Each trial
belongs to one bracket, chosen from its number and the seed by a CRC32 hash (no state, the
same after a resume), in proportion to Hyperband's trial counts per bracket
(``ceil(n * reduction_factor ** s / (s + 1))`` for ``s = n - 1 - b``). A trial competes
only with the trials of its own bracket.

With the study's index (:meth:`HyperbandPruner.index`) a decision reads the bracket's
sorted values at each rung of the finished trials and scans only the open ones.
"""

from __future__ import annotations

import binascii
import math
from collections.abc import Sequence
from typing import Any

from hpo_framework import Option, Pruner, Trial

from .asha import check_resource, halving_stops, index_rank, scan_rank
from .index import Finished, index_of, longest_complete, open_of


def n_brackets(min_resource: int, max_resource: int, reduction_factor: int) -> int:
    """``floor(log_rf(max / min)) + 1``, in integers (floats misround exact powers)."""
    n = 1
    while min_resource * reduction_factor ** n <= max_resource:
        n += 1
    return n


def bracket_budgets(brackets: int, reduction_factor: int) -> list[int]:
    return [math.ceil(brackets * reduction_factor ** s / (s + 1))
            for s in (brackets - 1 - b for b in range(brackets))]


def bracket_of(number: int, seed: int | None, budgets: Sequence[int]) -> int:
    n = binascii.crc32(f"{0 if seed is None else seed}_{number}".encode()) % sum(budgets)
    for bracket, budget in enumerate(budgets):
        n -= budget
        if n < 0:
            return bracket
    raise AssertionError("unreachable: n < sum(budgets)")


class HyperbandPruner(Pruner):
    """ASHA in brackets from aggressive (judged from min_resource on) to lenient."""

    name = "hyperband"
    options = {
        "min_resource": Option(1, int, low=1, nullable=False,
                               help="step of the first rung of the most aggressive bracket"),
        "max_resource": Option("auto", (int, str), nullable=False,
                               help="steps of a whole trial, or 'auto': the last step of the "
                                    "longest finished trial (no pruning before one finished)"),
        "reduction_factor": Option(3, int, low=2, nullable=False,
                                   help="keep 1/reduction_factor at each rung"),
    }

    def __init__(self, *, seed: int | None = None, **options: Any) -> None:
        super().__init__(seed=seed, **options)
        check_resource("pruner 'hyperband'", "max_resource", self.config["max_resource"])

    def index(self) -> Finished:
        return Finished()

    def budgets(self, history: Sequence[Trial]) -> list[int] | None:
        """Trials per bracket in Hyperband's proportions; None while max_resource is unknown."""
        max_resource = self.config["max_resource"]
        if max_resource == "auto":
            max_resource = longest_complete(history)
            if max_resource is None:
                return None
        brackets = n_brackets(self.config["min_resource"], max_resource,
                              self.config["reduction_factor"])
        return bracket_budgets(brackets, self.config["reduction_factor"])

    def bracket(self, number: int, history: Sequence[Trial]) -> int | None:
        budgets = self.budgets(history)
        return None if budgets is None else bracket_of(number, self.seed, budgets)

    def prune(self, trial: Trial, history: Sequence[Trial]) -> bool:
        budgets = self.budgets(history)
        if budgets is None:
            return False
        bracket = bracket_of(trial.number, self.seed, budgets)
        index = index_of(history)
        if index is not None:
            seed, shares = self.seed, tuple(budgets)

            def mine(t: Trial) -> bool:
                return bracket_of(t.number, seed, shares) == bracket

            rank = index_rank(index, open_of(history) or [],
                              lambda at: ("hyperband", seed, shares, bracket, at), mine)
        else:
            rank = scan_rank([t.curve for t in history
                              if bracket_of(t.number, self.seed, budgets) == bracket])
        return halving_stops(trial.curve, rank, self.config["min_resource"],
                             self.config["reduction_factor"], bracket)
