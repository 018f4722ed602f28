"""The shipped pruners as they were at eb0fe2b, before the study's index (verbatim copies
of hpo_pruners' curves, asha, median, hyperband, halving and promote, not registered):
the reference ``tests/test_pruner_index.py`` compares every decision with."""

from .asha import ASHAPruner
from .halving import HalvingPruner
from .hyperband import HyperbandPruner
from .median import MedianPruner
from .promote import PromotingASHAPruner

__all__ = ["ASHAPruner", "HalvingPruner", "HyperbandPruner", "MedianPruner",
           "PromotingASHAPruner"]
