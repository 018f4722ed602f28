"""``asha-promote``: ``asha`` with the setting the early-stopping benchmark measured best.

On MNIST-shaped data over 80 seeds (``benchmarks/pruners.py``, tables 23-27 of
``benchmarks/results/pruners.md``), ``asha -P pause=true -P max_resource=10
-P hopeless_after=4`` kept bayes alone's median best validation accuracy within 0.005 on
every set of 20 seeds with about a third of its epochs; bare ``asha`` (Optuna's
SuccessiveHalvingPruner's decisions) did not. Those options are this pruner's defaults,
so a user gets the measured setting by one name; ``asha`` keeps Optuna's decisions for
comparison. ``max_resource`` is a whole trial's epochs: 10 is the keras and sklearn
backends' default; give your own with ``-P max_resource=N``.
"""

from __future__ import annotations

import dataclasses

from .asha import ASHAPruner


def _default(option, value):
    return dataclasses.replace(option, default=value)


class PromotingASHAPruner(ASHAPruner):
    """ASHA with promotions, a top rung at 10 epochs and the hopeless rule after 4."""

    name = "asha-promote"
    options = {
        **ASHAPruner.options,
        "pause": _default(ASHAPruner.options["pause"], True),
        # a top rung is part of the measured setting: every rung judged is plain asha's
        "max_resource": dataclasses.replace(ASHAPruner.options["max_resource"], default=10,
                                            nullable=False),
        "hopeless_after": _default(ASHAPruner.options["hopeless_after"], 4),
    }
