"""hpo-pruners: the ``median``, ``asha`` and ``hyperband`` pruners.

Each is stateless: a decision is a function of (seed, options, the trial's curve, the
history), so a resumed study, or a pruner object rebuilt for every call, decides the same.
"""

from hpo_framework.contracts.hookspecs import hookimpl

from .asha import ASHAPruner
from .hyperband import HyperbandPruner
from .median import MedianPruner

__all__ = ["ASHAPruner", "HyperbandPruner", "MedianPruner"]


@hookimpl
def register_pruners(register):
    register("median", MedianPruner,
             "stop a trial whose best value so far is worse than the median of finished "
             "trials at the same step")
    register("asha", ASHAPruner,
             "asynchronous successive halving: at each rung keep the top 1/reduction_factor")
    register("hyperband", HyperbandPruner,
             "Hyperband: ASHA brackets of different aggressiveness, one per trial by a "
             "seeded hash")
