"""``trainer=compiled``: each epoch of a trial is one XLA program (Keras 3 on JAX).

The model, loss and optimizer are the trial's own Keras objects; training goes through
their stateless API (``model.stateless_call``, ``model.stateless_compute_loss``,
``optimizer.stateless_apply``) inside ``jax.lax.scan`` over the epoch's batches, so one
call runs a whole epoch. Batches (one numpy permutation per epoch from the trial's
seed, the order ``trainer=fit`` feeds too) and the short last batch are those of
``model.fit``.

Programs are cached by the model's structure and the data's shapes, in the backend's
:class:`EpochPrograms`: a later trial with the same shapes (another learning rate, say)
reuses the compile, and so does one with another SGD momentum: the program takes it as
data (:func:`network.momentum_sgd`), not as the constant Keras's SGD would bake in. The
cache keeps the last ``CACHE_SIZE`` programs, so memory stays
bounded over a long study.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from hpo_framework.contracts.backend import Report
from hpo_framework.contracts.dataset import Dataset

from .network import (
    checkpoint_of,
    load_checkpoint,
    momentum_sgd,
    rescaled,
    restore_best,
    values_from_output,
)

CACHE_SIZE = 16


def _strip_names(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_names(v) for k, v in obj.items() if k != "name"}
    if isinstance(obj, list | tuple):
        return [_strip_names(v) for v in obj]
    return obj


def structure_key(model: Any) -> str:
    """What a compiled program depends on: the layers' configs (names aside), the variables'
    shapes, the loss and the optimizer's constants. The learning rate is not in it: Keras
    keeps a float learning rate in a variable, which the program takes as data; nor is a
    (nonzero) SGD momentum, which the program takes as data too (:func:`data_momentum`)."""
    opt = model.optimizer
    with _without_tensorflow():
        text = _config_text(model, opt)
    shapes = [(tuple(v.shape), str(v.dtype)) for v in model.variables + opt.variables]
    return f"{text}|{shapes}"


@contextlib.contextmanager
def _without_tensorflow() -> Iterator[None]:
    """Keras's serializer asks whether TensorFlow is installed (to recognise a TensorShape)
    and so imports it: seconds, and hundreds of MB, on a JAX run that never uses it. When
    TensorFlow is not loaded, no object can be one of its types: say it is absent."""
    lazy = None
    if "tensorflow" not in sys.modules:
        try:
            from keras.src.utils import module_utils

            lazy = module_utils.tensorflow
        except (ImportError, AttributeError):
            lazy = None
    if lazy is None or getattr(lazy, "_available", True) is not None:
        yield
        return
    lazy._available = False
    try:
        yield
    finally:
        lazy._available = None


def _config_text(model: Any, opt: Any) -> str:
    try:
        opt_config = dict(opt.get_config())
        if not isinstance(opt.learning_rate, float | int) and hasattr(opt, "_learning_rate") \
                and type(opt._learning_rate).__name__.endswith("Variable"):
            opt_config.pop("learning_rate", None)
        if data_momentum(opt):
            opt_config.pop("momentum", None)
        parts = {
            "model": _strip_names(model.get_config()),
            "class": type(model).__qualname__,
            "optimizer": [type(opt).__qualname__, _strip_names(opt_config)],
            "loss": repr(model.loss) if not hasattr(model.loss, "get_config")
            else [type(model.loss).__qualname__, _strip_names(model.loss.get_config())],
        }
        return json.dumps(parts, sort_keys=True, default=repr)
    except Exception:  # a model without a config: its program is its own
        return f"id:{id(model)}"


def data_momentum(optimizer: Any) -> bool:
    """Whether a program takes this optimizer's momentum as data: Keras's own SGD (not a
    subclass, whose update may differ) with a nonzero momentum (momentum 0 has no
    velocities: other shapes, a program of its own)."""
    import keras

    return type(optimizer) is keras.optimizers.SGD and float(optimizer.momentum) != 0.0


def _describe(model: Any) -> str:
    shapes = [tuple(v.shape) for v in model.trainable_variables if len(v.shape) == 2]
    if shapes and len(shapes) <= 8:
        dims = [shapes[0][0]] + [s[1] for s in shapes]
        return "-".join(str(d) for d in dims) + f" {type(model.optimizer).__name__}"
    return f"{type(model).__name__} ({len(model.trainable_variables)} tensors)"


class EpochProgram:
    """The jitted epoch and forward pass for one structure and one set of data shapes.

    It traces the first model of its structure; later models of the same structure pass
    their own variable values, which is all the program reads from them."""

    def __init__(self, keras: Any, model: Any, n_rows: int, batch_size: int) -> None:
        import jax
        import numpy as np

        self.model, self.batch_size = model, batch_size
        self.n_full, self.rest = divmod(n_rows, batch_size)
        optimizer = model.optimizer
        # Keras's SGD reads its momentum as a Python constant: the program updates with a
        # twin that reads it from a variable, passed in with each epoch
        twin = None
        if data_momentum(optimizer):
            twin = momentum_sgd(keras, 0.01, float(optimizer.momentum), bool(optimizer.nesterov))
            twin.build(model.trainable_variables)
        self.data_momentum = twin is not None
        kwargs = {"training": True} if getattr(model, "_call_has_training_arg", True) else {}

        def loss_and_updates(tv: Any, ntv: Any, mv: Any, xb: Any, yb: Any) -> Any:
            y_pred, ntv, losses = model.stateless_call(tv, ntv, xb, return_losses=True, **kwargs)
            if losses:  # forward-pass losses (regularizers) count, as in Keras's JAX trainer
                model._losses_override.clear()
                model._losses_override = losses
            loss, (_, ntv, mv) = model.stateless_compute_loss(
                tv, ntv, mv, x=xb, y=yb, y_pred=y_pred, training=True)
            if losses:
                model._losses_override.clear()
            return loss, (ntv, mv)

        grad_fn = jax.value_and_grad(loss_and_updates, has_aux=True)

        def step(state: Any, xb: Any, yb: Any, momentum: Any) -> Any:
            tv, ntv, ov, mv = state
            (loss, (ntv, mv)), grads = grad_fn(tv, ntv, mv, xb, yb)
            if twin is None:
                tv, ov = optimizer.stateless_apply(ov, grads, tv)
            else:  # the twin's variables: the optimizer's, then the momentum
                tv, ov = twin.stateless_apply([*ov, momentum], grads, tv)
                ov = ov[:-1]
            return (tv, ntv, ov, mv), loss

        def epoch(state: Any, x: Any, y: Any, idx: Any, rest_idx: Any, momentum: Any) -> Any:
            def body(state: Any, rows: Any) -> Any:
                return step(state, x[rows], y[rows], momentum)

            state, losses = jax.lax.scan(body, state, idx)
            total = losses.sum() * batch_size
            if rest_idx.shape[0]:
                state, last = step(state, x[rest_idx], y[rest_idx], momentum)
                total = total + last * rest_idx.shape[0]
            return state, total / n_rows

        def forward(state: Any, x: Any) -> Any:
            tv, ntv, _, _ = state
            out, _ = model.stateless_call(tv, ntv, x, training=False)
            return out

        self._epoch = jax.jit(epoch, donate_argnums=0)
        self._forward = jax.jit(forward)
        self._np = np

    def indices(self, rng: Any, n_rows: int) -> tuple[Any, Any]:
        """This epoch's shuffled rows (the trial's numpy order, as ``trainer=fit`` feeds
        them), cut into full batches and the rest."""
        np = self._np
        perm = rng.permutation(n_rows).astype(np.int32)
        cut = self.n_full * self.batch_size
        return perm[:cut].reshape(self.n_full, self.batch_size), perm[cut:]

    def run_epoch(self, state: Any, x: Any, y: Any, rng: Any, n_rows: int,
                  momentum: float = 0.0) -> tuple[Any, float]:
        """One epoch; ``momentum``: the trial's SGD momentum (read when the program takes
        it as data)."""
        idx, rest = self.indices(rng, n_rows)
        state, loss = self._epoch(state, x, y, idx, rest, self._np.float32(momentum))
        return state, float(loss)

    def forward(self, state: Any, x: Any) -> Any:
        return self._np.asarray(self._forward(state, x))


class EpochPrograms:
    """A backend's compiled epoch programs, by model structure and data shapes (the last
    ``CACHE_SIZE``), and how many it compiled."""

    def __init__(self) -> None:
        self.programs: OrderedDict[Any, EpochProgram] = OrderedDict()
        self.compiles = 0

    def get(self, keras: Any, model: Any, x_shape: tuple, y_shape: tuple, batch_size: int,
            verbose: bool) -> EpochProgram:
        """The program for this model's structure and these shapes, made if new."""
        key = (structure_key(model), x_shape, y_shape, batch_size)
        program = self.programs.get(key)
        if program is not None:
            self.programs.move_to_end(key)
            return program
        program = EpochProgram(keras, model, x_shape[0], batch_size)
        self.compiles += 1
        if verbose:
            sys.stderr.write(f"keras: compiling the training program for {_describe(model)}, "
                             f"{x_shape[0]} rows, batch {batch_size} (trials of the same "
                             "shapes reuse it)\n")
        self.programs[key] = program
        while len(self.programs) > CACHE_SIZE:
            self.programs.popitem(last=False)
        return program


def ensure_built(keras: Any, model: Any, x: Any, y: Any) -> None:
    """Create every variable (model, optimizer, compiled loss) before tracing: a program
    must not create Keras variables."""
    if not model.built:
        model.build((None, *x.shape[1:]))
    model.optimizer.build(model.trainable_variables)
    if not getattr(model, "_hpo_loss_built", False):
        xb, yb = x[:2], y[:2]
        model.compute_loss(x=xb, y=yb, y_pred=model(xb, training=False))
        for m in model.metrics:  # the eager call above counted in the loss tracker
            m.reset_state()
        model._hpo_loss_built = True


def state_of(model: Any) -> tuple:
    return tuple([v.value for v in vs] for vs in (
        model.trainable_variables, model.non_trainable_variables,
        model.optimizer.variables, model.metrics_variables))


def load_state(model: Any, state: tuple) -> None:
    """Write a program's final values back, so the model predicts and saves as trained."""
    for variables, values in zip((model.trainable_variables, model.non_trainable_variables,
                                  model.optimizer.variables, model.metrics_variables),
                                 state, strict=True):
        for v, value in zip(variables, values, strict=True):
            v.assign(value)


def compiled_fit(backend: Any, keras: Any, model: Any, x: Any, y: Any, dataset: Dataset, *,
                 programs: EpochPrograms, epochs: int, batch_size: int,
                 validation: tuple[Any, Any] | None, report: Report | None,
                 resume: Any = None) -> Any:
    """Train ``model`` (built and compiled by the backend, seeded) as ``model.fit`` would,
    one compiled program call per epoch; report validation values after each epoch.
    A NaN or infinite epoch loss fails the trial; an exception from ``report`` (the
    core's ``TrialPruned``) ends training and propagates; ``TrialPaused`` leaves with the
    checkpoint that ``resume`` goes on from."""
    import jax.numpy as jnp
    import numpy as np

    from hpo_framework.errors import TrialPaused

    ensure_built(keras, model, x, y)
    program = programs.get(keras, model, tuple(x.shape), tuple(y.shape), batch_size,
                           backend.verbose)
    xd, yd = jnp.asarray(x), jnp.asarray(y)
    shuffle = backend.rng("shuffle")
    first = 1 if resume is None else load_checkpoint(keras, model, shuffle, resume) + 1
    state = state_of(model)
    momentum = float(model.optimizer.momentum) if program.data_momentum else 0.0
    xv = yv = out = None
    if validation is not None and report is not None:
        xv = jnp.asarray(np.asarray(validation[0], dtype=np.float32))
        yv = np.asarray(validation[1])
    eps = float(keras.config.epsilon())
    best = backend.best_epoch(report, validation, resume)  # score=best's
    started = time.perf_counter()
    for epoch in range(first, epochs + 1):
        state, loss = program.run_epoch(state, xd, yd, shuffle, len(x), momentum)
        if not math.isfinite(loss):
            raise RuntimeError(f"diverged: loss became {loss} at epoch {epoch}")
        if xv is not None:
            out = program.forward(state, xv)
            values = values_from_output(rescaled(model, out), yv, dataset.task, eps, report)
            # the next epoch donates this state's buffers: keep copies
            best.update(epoch, values, lambda s=state: ([np.array(a) for a in s[0]],
                                                        [np.array(a) for a in s[1]]), out)
            try:
                report(epoch, values)
            except TrialPaused as exc:
                load_state(model, state)
                exc.checkpoint = {**checkpoint_of(keras, model, shuffle, epoch),
                                  **best.state()}
                raise
    load_state(model, state)
    if out is not None:  # the last epoch's validation output: scoring need not redo it
        model._hpo_last_output = (validation[0], out)
    restore_best(model, best, None if validation is None else validation[0])
    if backend.verbose:
        sys.stderr.write(f"keras: trained {epochs} epochs in {time.perf_counter() - started:.2f} s"
                         " (compiled)\n")
    return model
