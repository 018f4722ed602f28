"""hpo-framework: plugin-based hyperparameter optimization.

Heavy libraries (TensorFlow, scikit-learn, scikit-optimize, DEAP) are imported only
inside the plugins' functions, never by importing this package. The names below are
loaded on first use (PEP 562), so ``hpo-run --help`` imports only what it needs.
"""

from __future__ import annotations

from ._lazy import lazy_names

__version__ = "0.1.0"

_WHERE = {
    "optimize": "api", "create_study": "api",
    "Backend": "contracts.backend", "Evaluator": "contracts.backend",
    "BackendObjective": "contracts.pipeline", "DatasetObjective": "contracts.pipeline",
    "Dataset": "contracts.dataset", "DatasetLoader": "contracts.dataset",
    "DatasetError": "errors", "HPOError": "errors", "OptionError": "errors",
    "PluginError": "errors", "SpaceError": "errors", "StorageError": "errors",
    "StudyLockedError": "errors", "StudyMismatchError": "errors", "TrialPaused": "errors",
    "TrialPruned": "errors", "UnknownPluginError": "errors",
    "Executor": "contracts.executor",
    "hookimpl": "contracts.hookspecs", "hookspec": "contracts.hookspecs",
    "Option": "options",
    "Pruner": "contracts.pruner",
    "Registry": "registry", "get_registry": "registry",
    "Bool": "space", "Categorical": "space", "Constant": "space", "Float": "space", "Int": "space",
    "Space": "space",
    "Storage": "study.storage",
    "Strategy": "contracts.strategy", "RebuildingStrategy": "contracts.strategy",
    "derived_seed": "contracts.strategy",
    "Study": "study.core",
    "Outcome": "contracts.trial", "Trial": "contracts.trial", "TrialState": "contracts.trial",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)
