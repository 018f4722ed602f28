"""hpo-keras: the ``keras`` backend (the notebook's MLP on Keras 3) and the ``mnist`` and
``fashion_mnist`` datasets. Importing this module imports neither Keras nor TensorFlow."""

from hpo_framework.contracts import lazy_getattr
from hpo_framework.contracts.hookspecs import hookimpl

__all__ = ["FashionMnistDataset", "KerasBackend", "MnistDataset"]

#: the public names, imported on first use (hpo-run --help loads this module, not the
#: modules that define them)
__getattr__ = lazy_getattr(__name__, {
    "FashionMnistDataset": "datasets", "KerasBackend": "backend",
    "MnistDataset": "datasets"})


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
