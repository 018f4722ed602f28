"""hpo-keras: the ``keras`` backend (the notebook's MLP on Keras 3) and the ``mnist`` and
``fashion_mnist`` datasets. Importing this module imports neither Keras nor TensorFlow."""

from hpo_framework.contracts.hookspecs import hookimpl

__all__ = ["FashionMnistDataset", "KerasBackend", "MnistDataset"]

#: the public names, imported on first use: hpo-run --help loads this module, not the
#: backend's and datasets' modules (and no __dir__: pluggy reads every name dir() lists)
_WHERE = {"FashionMnistDataset": ".datasets", "KerasBackend": ".backend",
          "MnistDataset": ".datasets"}


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


@hookimpl
def register_backends(register):
    from .backend import KerasBackend

    register("keras", KerasBackend,
             "Keras 3 MLP (TensorFlow, or JAX when installed), or your model via --model",
             default=50)


@hookimpl
def register_executors(register):
    from .vectorized import VectorizedExecutor

    register("vectorized", VectorizedExecutor,
             "keras: up to --n-jobs configurations trained as one compiled program (JAX)")


@hookimpl
def register_datasets(register):
    from .datasets import FashionMnistDataset, MnistDataset

    register(MnistDataset, "MNIST digits 28x28, 60000 train / 10000 test (keras.datasets)")
    register(FashionMnistDataset,
             "Fashion-MNIST 28x28, 60000 train / 10000 test (keras.datasets)")
