"""MNIST and Fashion-MNIST from Keras's dataset cache (downloaded once) or a local ``.npz``.

Both keep Keras's own split (60000 train / 10000 test) and scale pixels to [0, 1].
Offline with no cached copy, the error says which file to put where.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hpo_framework.contracts.dataset import Dataset, DatasetLoader
from hpo_framework.errors import DatasetError
from hpo_framework.options import Option

_SOURCES = {
    "mnist": ("mnist.npz",
              "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"),
    "fashion_mnist": ("fashion-mnist/",
                      "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
}


def keras_cache_dir() -> Path:
    """Where keras.datasets caches downloads (``$KERAS_HOME/datasets``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def _from_npz(name: str, path: str) -> tuple[Any, Any, Any, Any]:
    from hpo_framework.contracts.dataset import ARRAYS, read_npz

    arrays = read_npz(Path(path).expanduser(), name)
    return tuple(arrays[k] for k in ARRAYS)


_FASHION = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def _fetch(url: str, dest: Path) -> None:
    """Download once into Keras's cache (where ``keras.datasets`` looks too)."""
    import urllib.request

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as fh:
        fh.write(response.read())
    os.replace(tmp, dest)
    sys.stderr.write(f"Downloaded {url} to {dest}\n")  # said only once it worked


def _from_keras(name: str) -> tuple[Any, Any, Any, Any]:
    """Keras's files, read with numpy: importing Keras here would fix this process's Keras
    engine before the backend chooses it (JAX for trainer=compiled)."""
    import gzip

    import numpy as np

    filename, url = _SOURCES[name]
    where = keras_cache_dir() / filename
    try:
        if name == "mnist":
            if not where.is_file():
                _fetch(url, where)
            with np.load(where, allow_pickle=False) as f:
                return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
        arrays = []
        for part in _FASHION:
            path = where / part
            if not path.is_file():
                _fetch(url + part, path)
            with gzip.open(path, "rb") as fh:
                data = np.frombuffer(fh.read(), np.uint8, offset=8 if "labels" in part else 16)
            arrays.append(data if "labels" in part else data.reshape(-1, 28, 28))
        y_tr, x_tr, y_te, x_te = arrays
        return x_tr, y_tr, x_te, y_te
    except Exception:
        hint = (f"put mnist.npz ({url}) at {where}, or pass --data-path /path/to/mnist.npz"
                if name == "mnist" else
                f"put the four *-ubyte.gz files ({url}) in {where}, or pass --data-path "
                "FILE.npz with x_train, y_train, x_test, y_test")
        raise DatasetError(f"dataset '{name}' is not cached and cannot be downloaded "
                           f"(offline?): {hint}") from None


class KerasDataset(DatasetLoader):
    """One of Keras's image datasets: Keras's own split, pixels scaled to [0, 1]; from a
    local ``.npz`` (``--data-path``) or Keras's download cache."""

    options = {
        "path": Option(None, str, help="a local .npz with x_train, y_train, x_test, y_test "
                                       "(--data-path); default: Keras's download cache"),
    }

    def load(self) -> Dataset:
        import numpy as np

        name, path = self.name, self.config["path"]
        x_tr, y_tr, x_te, y_te = _from_npz(name, path) if path else _from_keras(name)
        scale = 255.0 if np.asarray(x_tr).max() > 1.0 else 1.0
        return Dataset(
            name,
            (np.asarray(x_tr, dtype=np.float32) / scale),
            np.asarray(y_tr, dtype=np.int64).ravel(),
            (np.asarray(x_te, dtype=np.float32) / scale),
            np.asarray(y_te, dtype=np.int64).ravel(),
            task="classification",
            description=f"{name} from {path or 'keras.datasets'}",
        )


class MnistDataset(KerasDataset):
    """MNIST digits 28x28, 60000 train / 10000 test; ``path``: a local mnist.npz."""

    name = "mnist"


class FashionMnistDataset(KerasDataset):
    """Fashion-MNIST 28x28, 60000 train / 10000 test; ``path``: a local .npz."""

    name = "fashion_mnist"

