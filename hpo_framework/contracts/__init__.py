"""The contracts between the core and its plugins: what a strategy, backend, dataset,
evaluator, executor and pruner are (abstract base classes the registry checks at
registration), the trial record they exchange, the objective protocol, the metrics and
the hook specifications.

Nothing here imports the study, storage, results or CLI layers; everything above imports
from here. The public names are re-exported by :mod:`hpo_framework`.
"""

from .._lazy import lazy_getattr

__all__ = ["lazy_getattr"]
