"""Importing Keras quietly, on the engine the user picked (TensorFlow or JAX)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from typing import Any

from hpo_framework.errors import OptionError

ENGINES = ("tensorflow", "jax")


@contextlib.contextmanager
def silenced_stderr(active: bool = True) -> Iterator[None]:
    """TensorFlow's C++ start-up lines bypass Python logging: mute file descriptor 2."""
    if not active:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def loaded_engine() -> str | None:
    """The engine Keras was imported with in this process, or None if not imported yet."""
    if "keras" not in sys.modules:
        return None
    return sys.modules["keras"].backend.backend()


def check_engine(engine: str | None) -> None:
    """One-line errors for an engine that is missing or cannot be switched to any more."""
    if engine is None:
        return
    if engine == "jax" and importlib.util.find_spec("jax") is None:
        raise OptionError("backend 'keras': keras_backend=jax needs jax: "
                          ".venv/bin/pip install jax (or leave keras_backend unset)")
    current = loaded_engine()
    if current is not None and current != engine:
        raise OptionError(f"backend 'keras': Keras is already loaded on {current} in this "
                          f"process; start a new one with KERAS_BACKEND={engine}")


def default_engine() -> str:
    """The engine a trial runs on when the user names none: the one Keras is already loaded
    on, else $KERAS_BACKEND, else TensorFlow. (JAX steps are ~4x faster on MNIST-sized data
    but every new model pays an XLA compile of seconds, which loses on small data.)"""
    return loaded_engine() or os.environ.get("KERAS_BACKEND") or "tensorflow"


def import_keras(engine: str | None = None, verbose: bool = False) -> Any:
    """Import Keras once; TensorFlow's log noise stays out of the terminal unless verbose."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = engine or default_engine()
        if not verbose:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with silenced_stderr(not verbose):
            import keras  # noqa: F401
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                if not verbose:
                    tf.get_logger().setLevel("ERROR")
                    with contextlib.suppress(Exception):
                        import absl.logging

                        absl.logging.set_verbosity(absl.logging.ERROR)
    else:
        check_engine(engine)
    import keras

    return keras
