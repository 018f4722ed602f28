"""The two forms of the strategy conformance suite run the same checks."""

from hpo_framework.builtin.random_strategy import RandomStrategy
from hpo_framework.testing import CHECKS, StrategyConformance


def test_the_class_form_has_one_test_per_check():
    tests = {n[len("test_"):] for n in dir(StrategyConformance) if n.startswith("test_")}
    assert tests == set(CHECKS)
    assert "pruned_trials" in tests


class TestRandomConforms(StrategyConformance):
    strategy_cls = RandomStrategy
