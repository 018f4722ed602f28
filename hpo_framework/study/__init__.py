"""The record and the loop: :class:`Study` (ask-and-tell over SQLite storage, in
:mod:`~hpo_framework.study.core`), :mod:`~hpo_framework.study.storage` (the schema, leases
and guarded writes), :mod:`~hpo_framework.study.settings` (run settings validated once)
and :mod:`~hpo_framework.study.loop` (the scheduler that runs ask -> evaluate -> tell
through an executor).

Names are loaded on first use, so importing ``hpo_framework.study.storage`` (the results
layer does, read-only) does not import the study's other modules.
"""

from __future__ import annotations

from .._lazy import lazy_names

_WHERE = {"Study": "core", "Callback": "core", "Storage": "storage",
          "RunSettings": "settings"}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)
