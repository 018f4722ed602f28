"""hpo-framework: plugin-based hyperparameter optimization.

Heavy libraries (TensorFlow, scikit-learn, scikit-optimize, DEAP) are imported only
inside the plugins' functions, never by importing this package.
"""

from .api import create_study, optimize
from .backend import Backend, Evaluator
from .dataset import Dataset
from .errors import (
    DatasetError,
    HPOError,
    OptionError,
    PluginError,
    SpaceError,
    StorageError,
    StudyMismatchError,
    TrialPruned,
    UnknownPluginError,
)
from .executor import Executor
from .hookspecs import hookimpl, hookspec
from .options import Option
from .pruner import Pruner
from .registry import Registry, get_registry
from .space import Categorical, Constant, Float, Int, Space
from .storage import Storage
from .strategy import Strategy
from .study import Study
from .trial import Outcome, Trial, TrialState

__version__ = "0.1.0"

__all__ = [
    "Backend", "Categorical", "Constant", "Dataset", "DatasetError", "Evaluator", "Executor",
    "Float", "HPOError", "Int", "Option", "OptionError", "Outcome", "PluginError", "Pruner",
    "Registry",
    "Space", "SpaceError", "Storage", "StorageError", "Strategy", "Study", "StudyMismatchError",
    "Trial", "TrialPruned", "TrialState", "UnknownPluginError", "create_study", "get_registry", "hookimpl",
    "hookspec", "optimize",
]
