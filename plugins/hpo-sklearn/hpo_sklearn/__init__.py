"""hpo-sklearn: the ``sklearn`` backend (MLPClassifier / MLPRegressor) and the datasets
that ship with scikit-learn (digits, iris, wine, breast_cancer, diabetes).

Importing this module imports no scikit-learn: the registry loads it for ``--help``.
"""

from hpo_framework.contracts import lazy_getattr
from hpo_framework.contracts.hookspecs import hookimpl

__all__ = ["DATASETS", "TEST_SIZE", "SklearnBackend"]

#: the public names, imported on first use (hpo-run --help loads this module, not the
#: modules that define them)
__getattr__ = lazy_getattr(__name__, {
    "DATASETS": "datasets", "TEST_SIZE": "datasets", "SklearnBackend": "backend"})


@hookimpl
def register_backends(register):
    from .backend import SklearnBackend

    register("sklearn", SklearnBackend,
             "scikit-learn MLP (MLPClassifier/MLPRegressor), or any estimator via --model",
             default=100)


@hookimpl
def register_datasets(register):
    from .datasets import DATASETS

    for name, (loader, description) in DATASETS.items():
        # digits ships with scikit-learn: the offline default dataset
        register(name, loader, description, default=100 if name == "digits" else None)
