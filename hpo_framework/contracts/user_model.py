"""User models: ``--model module:function`` or ``--model path/to/file.py:function``.

Backends call :func:`load_model_function` once (so a typo fails before any trial) and
:func:`call_model_function` per trial. The function receives the trial's params and the
data's shapes, and returns whatever the backend trains (a compiled Keras model, a
scikit-learn estimator).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import OptionError

_CACHE: dict[str, Callable[..., Any]] = {}
#: environment variable: the model files and modules already imported once in a child
_PROBED = "HPO_MODEL_IMPORT_CHECKED"


def load_model_function(spec: str) -> Callable[..., Any]:
    """Resolve ``module:function`` or ``file.py:function``; one-line OptionError if not."""
    if spec in _CACHE:
        return _CACHE[spec]
    where, sep, attr = spec.rpartition(":")
    if not sep or not where or not attr:
        raise OptionError(
            f"--model '{spec}' must look like module:function or path/to/file.py:function"
        )
    if where.endswith(".py"):
        path = Path(where).expanduser().resolve()
        if not path.is_file():
            raise OptionError(f"--model: no such file: {where}")
        _probe_import(where, lambda: _exec_file(path))
        import hashlib  # here: hpo-run --help loads the backend plugins

        name = "hpo_user_model_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
        module = import_file(path, name, "--model", where)
    else:
        if where.startswith(".") or not all(part.isidentifier() for part in where.split(".")):
            raise OptionError(f"--model: '{where}' is not a module name; give module:function "
                              "(an importable module) or path/to/file.py:function")
        if where not in sys.modules:
            _probe_import(where, lambda: importlib.import_module(where))
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise OptionError(f"--model: cannot import module '{where}' ({exc})") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise OptionError(f"--model: '{where}' has no function '{attr}'")
    _CACHE[spec] = fn
    return fn


def import_file(path: Path, name: str, label: str, where: str) -> Any:
    """Import a user's ``.py`` file as module ``name``, kept in ``sys.modules`` so that
    pickling its functions works in workers; what goes wrong is one OptionError line that
    starts with ``label`` (``--model``, ``--metric REF``)."""
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise OptionError(f"{label}: cannot load {where}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise OptionError(f"{label}: {where} failed to import: "
                          f"{type(exc).__name__}: {exc}".splitlines()[0]) from None
    return module


def _exec_file(path: Path) -> None:
    module_spec = importlib.util.spec_from_file_location("hpo_user_model_probe", path)
    if module_spec is not None and module_spec.loader is not None:
        module_spec.loader.exec_module(importlib.util.module_from_spec(module_spec))


def _probe_import(where: str, load: Callable[[], Any]) -> None:
    """Import the model once in a forked child first: a file that ends the process while
    it is imported (``os._exit``, a segfault in native code) is then named in one line,
    instead of hpo-run exiting without a word. What the import raises is left to the real
    import, which follows in this process."""
    import os
    import signal

    checked = os.environ.get(_PROBED, "").split(os.pathsep)
    # once per run (worker processes inherit the mark), and never where forking is unsafe
    if not hasattr(os, "fork") or where in checked or "tensorflow" in sys.modules:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: silent (the real import prints), and never runs atexit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            load()
        except BaseException:
            pass
        os._exit(0)
    try:
        _, status = os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C while it imports: the child goes too
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        os.environ[_PROBED] = os.pathsep.join([*filter(None, checked), where])
        return
    how = f"exit status {code}"
    if code < 0:
        try:
            how = f"signal {signal.Signals(-code).name}"
        except ValueError:
            how = f"signal {-code}"
    raise OptionError(f"--model: importing {where} ended the process ({how}); nothing was "
                      "run: fix what that file does when it is imported")


def call_model_function(fn: Callable[..., Any], params: dict[str, Any], **shapes: Any) -> Any:
    """Call ``fn(params, input_shape=..., n_classes=..., task=...)``, passing only the
    keyword arguments its signature accepts (so ``def build(params, input_shape)`` works)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn(dict(params), **shapes)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return fn(dict(params), **shapes)
    accepted = {k: v for k, v in shapes.items() if k in sig.parameters}
    return fn(dict(params), **accepted)
