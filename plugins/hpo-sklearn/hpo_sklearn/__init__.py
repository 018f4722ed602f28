"""hpo-sklearn: the ``sklearn`` backend (MLPClassifier / MLPRegressor) and the datasets
that ship with scikit-learn (digits, iris, wine, breast_cancer, diabetes).

Importing this module imports no scikit-learn: the registry loads it for ``--help``.
"""

from hpo_framework.contracts.hookspecs import hookimpl

__all__ = ["DATASETS", "TEST_SIZE", "SklearnBackend"]

#: the public names, imported on first use: hpo-run --help loads this module, not the
#: backend's and datasets' modules (and no __dir__: pluggy reads every name dir() lists)
_WHERE = {"DATASETS": ".datasets", "TEST_SIZE": ".datasets",
          "SklearnBackend": ".backend"}


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


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
