"""Package attributes loaded on first use (PEP 562), so importing a package costs only
what its caller touches (``hpo-run --help`` stays fast)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, where: Mapping[str, str]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``where`` maps each public name to
    the submodule that defines it; a name is imported once, then kept as an attribute."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__


def lazy_getattr(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A plugin's entry-point module's ``__getattr__``: its public names imported on first
    use, so ``hpo-run --help``, which loads every plugin, does not import the modules that
    define them; ``where`` maps each name to its submodule (``{"MyStrategy": "strategy"}``).
    No ``__dir__``: pluggy's registration reads every name ``dir()`` lists, which would
    import them all."""
    return lazy_names(package, where)[0]
