"""hpo-pruners: the ``asha-promote``, ``median``, ``asha``, ``hyperband`` and ``halving``
pruners (``asha-promote``: ``asha`` with the measured setting as its defaults).

Each is stateless: a decision is a function of (seed, options, the trial's curve, the
history), so a resumed study, or a pruner object rebuilt for every call, decides the same.
A study hands each the index of its finished trials it asked for (``index()``,
:mod:`hpo_pruners.index`), so a report costs O(log n) instead of a scan of every trial; a
plain list is scanned, with the same decisions.
``halving`` pauses trials and resumes the best from their checkpoints.
"""

from hpo_framework.contracts import lazy_getattr
from hpo_framework.contracts.hookspecs import hookimpl

__all__ = ["ASHAPruner", "HalvingPruner", "HyperbandPruner", "MedianPruner",
           "PromotingASHAPruner"]

#: the public names, imported on first use (hpo-run --help loads this module, not the
#: modules that define them)
__getattr__ = lazy_getattr(__name__, {
    "ASHAPruner": "asha", "HalvingPruner": "halving", "HyperbandPruner": "hyperband",
    "MedianPruner": "median", "PromotingASHAPruner": "promote"})


@hookimpl
def register_pruners(register):
    from .asha import ASHAPruner
    from .halving import HalvingPruner
    from .hyperband import HyperbandPruner
    from .median import MedianPruner
    from .promote import PromotingASHAPruner

    register("median", MedianPruner,
             "stop a trial whose best value so far is worse than the median of finished "
             "trials at the same step")
    register("asha-promote", PromotingASHAPruner,
             "recommended: asha with the measured best setting (pause and promote, top rung "
             "at max_resource=10 epochs, hopeless_after=4)")
    register("asha", ASHAPruner,
             "asynchronous successive halving: at each rung keep the top 1/reduction_factor")
    register("hyperband", HyperbandPruner,
             "Hyperband: ASHA brackets of different aggressiveness, one per trial by a "
             "seeded hash")
    register("halving", HalvingPruner,
             "successive halving on the whole cohort: pause every trial at each rung, "
             "resume the best of all from their checkpoints")
