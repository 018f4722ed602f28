"""The plugin guide's examples are real: they pass the strategy conformance suite, and
the suite catches the mistake the first Halton example made."""

from __future__ import annotations

import re
import textwrap
import types

import pytest
from clitools import ROOT

from hpo_framework.testing import check_no_duplicates, check_strategy

GUIDE = (ROOT / "docs" / "plugins.md").read_text()


def example(filename: str) -> types.ModuleType:
    """The ```python block of docs/plugins.md that starts with ``# filename``."""
    for block in re.findall(r"```python\n(.*?)```", GUIDE, flags=re.S):
        code = textwrap.dedent(block)
        if code.startswith(f"# {filename}"):
            module = types.ModuleType(filename.removesuffix(".py"))
            exec(compile(code, f"docs/plugins.md:{filename}", "exec"), module.__dict__)
            return module
    raise AssertionError(f"docs/plugins.md has no example '# {filename}'")


def test_the_halton_example_passes_the_conformance_suite():
    check_strategy(example("hpo_halton.py").HaltonStrategy)


def test_the_first_halton_example_is_caught_handing_out_a_configuration_twice():
    halton = example("hpo_halton.py")

    class FirstHalton(halton.HaltonStrategy):
        """The guide's first version: point i of the sequence, duplicates and all."""

        def ask(self, n=1):
            out = []
            for _ in range(n):
                i = self.n_asked + self.config["skip"] + 1
                u = [halton._vdc(i, b) for b in halton.PRIMES[: len(self.space.searchable)]]
                out.append(self.space.decode(u))
                self.n_asked += 1
            return out

    with pytest.raises(AssertionError, match="handed out twice in one study over"):
        check_no_duplicates(FirstHalton)


def test_the_stateful_optimizer_example_resumes_exactly():
    check_strategy(example("hpo_skopt_min.py").SkoptStrategy)
