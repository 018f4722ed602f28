"""hpo-sklearn: the ``sklearn`` backend (MLPClassifier / MLPRegressor) and the datasets
that ship with scikit-learn (digits, iris, wine, breast_cancer, diabetes).

Importing this module imports no scikit-learn: the registry loads it for ``--help``.
"""

from hpo_framework.contracts.hookspecs import hookimpl

from .backend import SklearnBackend
from .datasets import DATASETS, TEST_SIZE

__all__ = ["DATASETS", "TEST_SIZE", "SklearnBackend"]


@hookimpl
def register_backends(register):
    register("sklearn", SklearnBackend,
             "scikit-learn MLP (MLPClassifier/MLPRegressor), or any estimator via --model",
             default=100)


@hookimpl
def register_datasets(register):
    for name, (loader, description) in DATASETS.items():
        # digits ships with scikit-learn: the offline default dataset
        register(name, loader, description, default=100 if name == "digits" else None)
