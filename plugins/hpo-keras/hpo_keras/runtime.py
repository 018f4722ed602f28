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


def default_trainer(engine: str | None) -> str:
    """``compiled`` (Keras on JAX, the fastest path), unless TensorFlow is asked for: by
    ``keras_backend=tensorflow``, by $KERAS_BACKEND, or by Keras already loaded on it in
    this process (a notebook, a test session); then ``fit``."""
    asked = engine or loaded_engine() or os.environ.get("KERAS_BACKEND") or None
    if asked == "tensorflow" or importlib.util.find_spec("jax") is None:
        return "fit"
    return "compiled"


_CACHE: dict[str, Any] = {"dir": None, "applied": None}


def compile_cache_dir(setting: str | bool | None) -> str | None:
    """Where JAX keeps compiled programs between processes: the option, else
    $JAX_COMPILATION_CACHE_DIR (JAX's own), else ~/.cache/hpo-framework/jax; None if off
    (``off``, or ``False``: what ``-B compile_cache=off`` reads as; ``True``: the default)."""
    if setting is False:
        return None
    if setting is True:
        setting = None
    if setting is not None:
        return None if setting.lower() in ("off", "none", "false", "0", "") else setting
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return os.environ["JAX_COMPILATION_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hpo-framework", "jax")


def use_compile_cache(setting: str | bool | None) -> None:
    """Turn JAX's persistent compilation cache on (or off) for this process, before its
    first compile: a later process of the same shapes loads each program instead of
    compiling it again (seconds each on a small CPU)."""
    _CACHE["dir"] = compile_cache_dir(setting)
    if "jax" in sys.modules:
        _apply_compile_cache()


def _apply_compile_cache() -> None:
    if _CACHE["applied"] == _CACHE["dir"]:
        return
    import jax

    path = _CACHE["dir"]
    try:
        if path is None:
            jax.config.update("jax_enable_compilation_cache", False)
        else:
            os.makedirs(path, exist_ok=True)
            jax.config.update("jax_enable_compilation_cache", True)
            jax.config.update("jax_compilation_cache_dir", path)
            # the training programs compile in about a second or more; the eager ops of
            # building and scoring in milliseconds, which are not worth a file each
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    except (OSError, AttributeError, ValueError) as exc:  # an unwritable home: no cache
        sys.stderr.write(f"keras: no compilation cache ({exc})\n")
    _CACHE["applied"] = path


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

    if "jax" in sys.modules and keras.backend.backend() == "jax":
        _apply_compile_cache()

    return keras
