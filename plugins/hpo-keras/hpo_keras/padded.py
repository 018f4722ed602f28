"""The padded MLP program: members of the built-in MLP trained as one XLA program.

Members are padded to a common depth and width and masked so that every member computes
exactly what it would alone (zero weights in padded units get zero gradients, skipped
layers pass their input on, each member's optimizer update is Keras's own
``stateless_apply`` for its kind): ``jax.vmap`` over the members, ``lax.fori_loop`` over
the batches. A member's learning rate and SGD momentum are data in its optimizer state,
not constants of the program, so trials that differ only in them share one compile. The vectorized executor trains a batch of trials with it; the backend trains
one trial at a time with it (a batch of one), so trials of other widths and depths reuse
one compile. Each :class:`PaddedMLP` owns its programs and the data it put on the device.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from typing import Any

from hpo_framework.errors import TrialPaused

from .network import (
    MOMENTUM_VARIABLE,
    layer_units,
    momentum_sgd,
    rescaled,
    restore_best,
    values_from_output,
)

CACHE_SIZE = 8
KINDS = ("sgd", "adam", "rmsprop")
LONG_TRIAL = 10_000  # steps (batches x epochs) from which one trial gets a program per kind


class Request:
    """One trial's ``fit`` call, waiting for the program's answer."""

    def __init__(self, backend: Any, params: dict[str, Any], x: Any, y: Any, dataset: Any,
                 validation: Any, report: Any, resume: Any = None) -> None:
        self.backend, self.params, self.x, self.y = backend, params, x, y
        self.dataset, self.validation, self.report = dataset, validation, report
        self.resume = resume  # a paused trial's checkpoint (a batch of one only)
        self.answered = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def answer(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error


def same_data(a: Request, b: Request) -> bool:
    import numpy as np

    if a.x is b.x and a.y is b.y:
        return True
    return (a.x.shape == b.x.shape and a.y.shape == b.y.shape and np.array_equal(a.y, b.y)
            and np.array_equal(a.x, b.x))


# the padded MLP program -----------------------------------------------------------------
@dataclasses.dataclass
class _Spec:
    units: list[int]
    kind: str
    lr: float
    momentum: float = 0.0  # sgd's (the other kinds ignore it)


class PaddedMLP:
    """Trains members of the built-in MLP as one program. Depth, width and optimizer kinds
    only grow over a study (width in steps of 16), so later batches reuse the compile."""

    def __init__(self) -> None:
        self.depth, self.width, self.kinds = 1, 16, ()
        self.programs: OrderedDict[Any, BatchProgram] = OrderedDict()  # the last CACHE_SIZE
        self.counts = {"compiles": 0, "batches": 0}
        self.device = DeviceCache()

    def fit_alone(self, backend: Any, params: dict[str, Any], x: Any, y: Any, dataset: Any,
                  validation: Any, report: Any, resume: Any = None) -> Any | None:
        """One trial through the padded program (a batch of one), so that trials of other
        widths and depths reuse its compile; None when it does not apply (``--model``,
        dropout). Failures and ``TrialPruned`` propagate; ``TrialPaused`` leaves with the
        trial's checkpoint, which ``resume`` goes on from."""
        req = Request(backend, params, x, y, dataset, validation, report, resume)
        if self.group_key(req) is None:
            return None
        self.train([req], 1)
        if req.error is not None:
            raise req.error
        return req.result

    def _settings(self, req: Request) -> dict[str, Any]:
        b, p = req.backend, req.params
        return {k: p.get(k, b.config[k]) for k in (
            "activation", "dropout", "momentum", "nesterov", "epochs", "batch_size",
            "optimizer", "learning_rate")}

    def why_alone(self, req: Request) -> str:
        if req.backend.config["model"]:
            return "--model networks have their own shapes"
        s = self._settings(req)
        if float(s["dropout"]) > 0:
            return "dropout draws its own random masks"
        if str(s["optimizer"]).lower() not in KINDS:
            return f"optimizer {s['optimizer']!r} is not batched"
        return "its parameters are not the built-in MLP's"

    def group_key(self, req: Request) -> Any:
        """What members must share to train in one program; None: it trains alone."""
        b = req.backend
        if b.config["model"]:
            return None
        s = self._settings(req)
        try:
            self._units(req)
        except (TypeError, ValueError):
            return None
        if float(s["dropout"]) > 0 or str(s["optimizer"]).lower() not in KINDS:
            return None
        # the learning rate and the momentum are each member's data, not the program's
        return (str(s["activation"]), bool(s["nesterov"]), int(s["epochs"]), int(s["batch_size"]), req.dataset.task,
                req.validation is not None and req.report is not None)

    @staticmethod
    def _units(req: Request) -> list[int]:
        config = req.backend.config
        return layer_units(req.params, config["num_dense_layers"], config["num_dense_nodes"])

    def train(self, requests: list[Request], slots: int) -> None:
        """Train ``requests`` (one group_key) as one program of at least ``slots`` members
        and answer each: its trained model, or its error."""
        import jax.numpy as jnp
        import numpy as np

        first = requests[0]
        backend, dataset = first.backend, first.dataset
        s = self._settings(first)
        epochs = int(s["epochs"])
        keras = backend.keras()
        members: list[tuple[Request, Any, _Spec]] = []
        resume = first.resume if len(requests) == 1 else None
        for req in requests:  # each member's model, built and seeded as it would be alone
            try:
                model, y = backend.prepared(req.params, req.y, req.dataset)
                if resume is not None:  # the paused member's weights, where it stood
                    for v, value in zip(model.trainable_variables, resume["weights"],
                                        strict=True):
                        v.assign(value)
                own = self._settings(req)
                members.append((req, model, _Spec(
                    self._units(req), str(own["optimizer"]).lower(),
                    float(own["learning_rate"]), float(own["momentum"]))))
            except Exception as exc:
                req.answer(error=exc)
        if not members:
            return
        x = np.asarray(first.x, dtype=np.float32).reshape(len(first.x), -1)
        self.depth = max(self.depth, *(len(m[2].units) for m in members))
        self.width = max(self.width, *(-(-max(m[2].units) // 16) * 16 for m in members))
        n_slots = max(slots, len(members))
        steps = -(-len(x) // int(s["batch_size"])) * epochs
        if n_slots == 1 and steps >= LONG_TRIAL:  # a program for its own optimizer only: a
            self.kinds = (members[0][2].kind,)  # simpler step, worth a compile per kind
        elif n_slots == 1:  # one member runs only its own kind's update (a lax.switch), so
            self.kinds = KINDS  # one program serves every optimizer
        else:  # members compute every kind's update in the program: only those seen
            self.kinds = tuple(k for k in KINDS if k in self.kinds or
                               any(m[2].kind == k for m in members))
        n_out = int(members[0][1].trainable_variables[-1].shape[0])
        program = self._program(keras, n_slots, (row_cap(len(x)), x.shape[1]), n_out,
                                dataset.task, s,
                                first.validation is not None and first.report is not None,
                                backend.verbose)
        state = program.initial_state([(m[1], m[2]) for m in members], n_slots)
        if resume is not None:
            program.load_member_slots(state, 0, members[0][1], members[0][2], resume)
        active = np.zeros(n_slots, dtype=bool)
        active[:len(members)] = True
        cap = program.cap_rows
        xd = self.device.get("x", (first.x, cap), lambda: padded_rows(x, cap))
        yd = self.device.get("y", (y, cap), lambda: padded_rows(y, cap))
        xv = yv = None
        if first.validation is not None and first.report is not None:
            xv = self.device.get("x_val", (first.validation[0],), lambda: np.asarray(
                first.validation[0], np.float32).reshape(len(first.validation[0]), -1))
            yv = np.asarray(first.validation[1])
        eps = float(keras.config.epsilon())
        errors: dict[int, BaseException] = {}
        outs: dict[int, Any] = {}
        # score=best: each member's best epoch, and its own weights then
        bests = [backend.best_epoch(req.report, req.validation, resume)
                 for req, _, _ in members]
        self.counts["batches"] += 1
        shuffle = backend.rng("shuffle")  # each group shuffles as its members would alone
        if resume is not None:
            shuffle.bit_generator.state = resume["shuffle"]
        for epoch in range(1 if resume is None else int(resume["epoch"]) + 1, epochs + 1):
            batches = program.indices(shuffle, len(x))
            state, losses = program.epoch(state, jnp.asarray(active), xd, yd, batches, len(x))
            losses = np.asarray(losses)
            out = program.forward(state, xv) if xv is not None else None
            padded_now: list[Any] = []  # this epoch's weights, fetched once if a member needs

            def own_weights(i: int, model: Any, spec: _Spec, s: Any = state,
                            now: list[Any] = padded_now) -> tuple[list[Any], None]:
                if not now:
                    now.extend(program.member_weights(s))
                shapes = [tuple(v.shape) for v in model.trainable_variables]
                own: list[Any] = [None] * len(shapes)
                for p, q in enumerate(member_index(len(now), len(spec.units))):
                    if q is not None:
                        own[q] = np.array(own_shape(now[p][i], shapes[q]))
                return own, None  # the built-in MLP has no other variables

            for i, (req, model, spec) in enumerate(members):
                if not active[i]:
                    continue
                if not np.isfinite(losses[i]):
                    errors[i] = RuntimeError(f"diverged: loss became {float(losses[i])} at "
                                             f"epoch {epoch}")
                    active[i] = False
                    continue
                if out is None:
                    continue
                try:
                    outs[i] = out[i]
                    values = values_from_output(rescaled(model, out[i]), yv, dataset.task,
                                                eps, req.report)
                    bests[i].update(epoch, values,
                                    lambda i=i, m=model, sp=spec: own_weights(i, m, sp),
                                    np.array(out[i]))
                    req.report(epoch, values)
                except TrialPaused as exc:  # paused: its state goes with it
                    exc.checkpoint = {**program.member_checkpoint(state, i, model, spec, epoch,
                                                                  shuffle),
                                      **bests[i].state()}
                    errors[i] = exc
                    active[i] = False
                except Exception as exc:  # TrialPruned (or a NaN output): this member stops
                    errors[i] = exc
                    active[i] = False
            if not active.any():  # every member stopped: no epoch is left to train
                break
        weights = program.member_weights(state)
        for i, (req, model, spec) in enumerate(members):
            if i in errors:
                backend.release(model)
                req.answer(error=errors[i])
                continue
            load_member(model, weights, i, spec.units)
            if i in outs:
                model._hpo_last_output = (req.validation[0], outs[i])
            restore_best(model, bests[i], None if req.validation is None
                         else req.validation[0])
            req.answer(result=model)

    def _program(self, keras: Any, n_slots: int, x_shape: tuple, n_out: int, task: str,
                 s: dict[str, Any], validate: bool, verbose: bool) -> Any:
        key = (n_slots, self.depth, self.width, self.kinds, x_shape, n_out, task,
               str(s["activation"]), bool(s["nesterov"]), int(s["batch_size"]))
        program = self.programs.get(key)
        if program is None:
            self.counts["compiles"] += 1
            if verbose:
                sys.stderr.write(
                    f"keras: compiling the training program for {n_slots} "
                    f"MLP{'s' if n_slots > 1 else ''} of up to {self.depth} layers of "
                    f"{self.width} units ({'/'.join(self.kinds)}), up to {x_shape[0]} rows, batch "
                    f"{s['batch_size']} (smaller and same-size trials reuse it)\n")
            program = BatchProgram(keras, n_slots, self.depth, self.width, x_shape[1], n_out,
                                   self.kinds, task, str(s["activation"]),
                                   bool(s["nesterov"]), x_shape[0], int(s["batch_size"]))
            self.programs[key] = program
            while len(self.programs) > CACHE_SIZE:
                self.programs.popitem(last=False)
        self.programs.move_to_end(key)
        return program


def row_cap(n_rows: int) -> int:
    """The row count a program is made for: a power of two up to 4096 rows, then a multiple
    of 4096, so that nearby counts (a hold-out split and the final retrain on all training
    rows, k-fold folds) share one program. Only the loop's length follows the real count."""
    if n_rows <= 4096:
        return max(256, 1 << (n_rows - 1).bit_length())
    return -(-n_rows // 4096) * 4096


class DeviceCache:
    """Program inputs on the device, one per slot (x, y, validation x), kept while the same
    array object comes back: the evaluator hands every trial of a process the same split
    arrays (holdout keeps its split), so the copy and the transfer happen once per split,
    not once per trial."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[tuple[Any, ...], Any]] = {}

    def get(self, slot: str, key: tuple[Any, ...], make: Any) -> Any:
        """``make()`` (a program input made from the array ``key[0]``, for the rest of
        ``key``: the program's row cap) as a device array."""
        import jax.numpy as jnp

        kept = self.kept.get(slot)
        if kept is not None and kept[0][0] is key[0] and kept[0][1:] == key[1:]:
            return kept[1]
        self.kept.pop(slot, None)  # the old split's copy goes before the new one is made
        out = jnp.asarray(make())
        self.kept[slot] = (key, out)
        return out


def padded_rows(a: Any, cap: int) -> Any:
    import numpy as np

    out = np.zeros((cap, *a.shape[1:]), dtype=a.dtype)
    out[:len(a)] = a
    return out


def member_index(n_padded: int, n_hidden: int) -> list[int | None]:
    """Per parameter of the padded program (hidden layers' kernel and bias, then the
    output's), the member's own parameter (None: a hidden layer the member lacks)."""
    return [2 * n_hidden + p - (n_padded - 2) if p >= n_padded - 2 else
            p if p // 2 < n_hidden else None for p in range(n_padded)]


def own_shape(a: Any, shape: tuple[int, ...]) -> Any:
    """A padded array cut to a member's own ``shape``."""
    return a[tuple(slice(0, n) for n in shape)]


def load_member(model: Any, weights: list[Any], i: int, units: list[int]) -> None:
    """Write member ``i``'s trained (unpadded) weights into its Keras model."""
    dense = model.trainable_variables
    for p, q in enumerate(member_index(len(weights), len(units))):
        if q is not None:
            dense[q].assign(own_shape(weights[p][i], tuple(dense[q].shape)))


class BatchProgram:
    """The jitted epoch and forward pass of ``n_slots`` padded MLPs."""

    def __init__(self, keras: Any, n_slots: int, depth: int, width: int, d_in: int,
                 n_out: int, kinds: tuple[str, ...], task: str, activation: str,
                 nesterov: bool, n_rows: int, batch_size: int) -> None:
        import jax
        import jax.numpy as jnp
        import numpy as np

        ops = keras.ops
        self.np, self.jnp = np, jnp
        self.n_slots, self.depth, self.width, self.kinds = n_slots, depth, width, kinds
        self.batch_size = batch_size
        self.cap_rows, self.cap_steps = n_rows, -(-n_rows // batch_size)
        act = keras.activations.get(activation)
        regression = task == "regression"
        out_act = None if regression else keras.activations.get("softmax")
        self.shapes = [(d_in, width), (width,)]
        for _ in range(depth - 1):
            self.shapes += [(width, width), (width,)]
        self.shapes += [(width, n_out), (n_out,)]
        proto = [keras.Variable(np.zeros(shape, np.float32), name=f"w{i}")
                 for i, shape in enumerate(self.shapes)]
        self.optimizers = []
        for kind in kinds:
            # sgd: its momentum in a variable, each member's own (one compile for all)
            opt = {"sgd": lambda: momentum_sgd(keras, 0.01, 0.9, nesterov),
                   "adam": lambda: keras.optimizers.Adam(0.01),
                   "rmsprop": lambda: keras.optimizers.RMSprop(0.01)}[kind]()
            opt.build(proto)
            self.optimizers.append(opt)
        self.lr_index = [next(i for i, v in enumerate(o.variables) if v.name == "learning_rate")
                         for o in self.optimizers]
        self.momentum_index = [next((i for i, v in enumerate(o.variables)
                                     if v.name == MOMENTUM_VARIABLE), None)
                               for o in self.optimizers]
        self.opt_init = [[np.asarray(v.value) for v in o.variables] for o in self.optimizers]

        def logits(params: Any, masks: Any, layers_on: Any, x: Any) -> Any:
            h = act(ops.add(ops.matmul(x, params[0]), params[1])) * masks[0]
            for layer in range(1, depth):
                new = act(ops.add(ops.matmul(h, params[2 * layer]), params[2 * layer + 1]))
                h = jnp.where(layers_on[layer], new * masks[layer], h)
            return ops.add(ops.matmul(h, params[-2]), params[-1])

        def forward(params: Any, masks: Any, layers_on: Any, x: Any) -> Any:
            z = logits(params, masks, layers_on, x)
            return z if out_act is None else out_act(z)

        def member_step(state: Any, xb: Any, yb: Any, wb: Any) -> Any:
            params, opt_states, kind, masks, layers_on = state

            def loss_fn(p: Any) -> Any:
                z = logits(p, masks, layers_on, xb)
                if regression:
                    per_row = jnp.square(z[:, 0] - yb)
                else:
                    # the cross-entropy of the softmax's logits, as Keras on TensorFlow
                    # computes it for a softmax output (Keras on JAX clips the probabilities
                    # instead: the same value, but a saturated prediction gets no gradient
                    # and never diverges)
                    log_p = jax.nn.log_softmax(z)
                    per_row = -jnp.take_along_axis(log_p, yb.astype(jnp.int32)[:, None],
                                                   axis=1)[:, 0]
                # the mean over the batch's real rows (the short last batch is padded; where,
                # not a product: an infinite loss on a padded row must not turn into NaN)
                return jnp.sum(jnp.where(wb > 0, per_row, 0.0)) / jnp.sum(wb)

            loss, grads = jax.value_and_grad(loss_fn)(params)
            if single:  # one member: run only its own optimizer's update
                def update(k: int) -> Any:
                    def run(_: Any) -> Any:
                        p_k, o_k = self.optimizers[k].stateless_apply(opt_states[k], grads,
                                                                      params)
                        return p_k, [o_k if j == k else o for j, o in enumerate(opt_states)]
                    return run

                new_params, new_opts = jax.lax.switch(
                    kind, [update(k) for k in range(len(self.optimizers))], None)
                return (new_params, new_opts, kind, masks, layers_on), loss
            new_params, new_opts = None, []
            for k, opt in enumerate(self.optimizers):
                p_k, o_k = opt.stateless_apply(opt_states[k], grads, params)
                new_opts.append(o_k)
                new_params = p_k if new_params is None else [
                    jnp.where(kind == k, a, b) for a, b in zip(p_k, new_params, strict=True)]
            return (new_params, new_opts, kind, masks, layers_on), loss

        def unbatched_step(state: Any, xb: Any, yb: Any, wb: Any) -> Any:  # one member: no vmap
            new, loss = member_step(jax.tree_util.tree_map(lambda a: a[0], state), xb, yb, wb)
            return jax.tree_util.tree_map(lambda a: a[None], new), loss[None]

        single = n_slots == 1
        batched_step = unbatched_step if single else jax.vmap(
            member_step, in_axes=(0, None, None, None))

        def step(state: Any, active: Any, xb: Any, yb: Any, wb: Any) -> Any:
            new, loss = batched_step(state, xb, yb, wb)
            if single:  # one member: when it stops, training stops
                return new, loss

            def keep(a: Any, b: Any) -> Any:  # a stopped member (pruned, NaN) stays as it is
                return jnp.where(active.reshape((-1,) + (1,) * (a.ndim - 1)), a, b)

            return jax.tree_util.tree_map(keep, new, state), loss

        def epoch(state: Any, active: Any, x: Any, y: Any, idx: Any, w: Any, n_steps: Any,
                  n_rows: Any) -> Any:
            # a loop of n_steps (data, not shape): row counts up to the program's cap share it
            def body(i: Any, carry: Any) -> Any:
                state, total = carry
                rows, wb = idx[i], w[i]
                state, loss = step(state, active, x[rows], y[rows], wb)
                return state, total + loss * jnp.sum(wb)

            total = jnp.zeros((n_slots,), jnp.float32)
            state, total = jax.lax.fori_loop(0, n_steps, body, (state, total))
            return state, total / n_rows

        def predict(state: Any, x: Any) -> Any:
            params, _, _, masks, layers_on = state
            return jax.vmap(forward, in_axes=(0, 0, 0, None))(params, masks, layers_on, x)

        self._epoch = jax.jit(epoch, donate_argnums=0)
        self._forward = jax.jit(predict)

    def initial_state(self, members: list[tuple[Any, _Spec]], n_slots: int) -> Any:
        """Each member's Keras-initialized weights, zero-padded; its masks and optimizer
        state (learning rate and momentum included). Empty slots copy member 0 and never update."""
        np, jnp = self.np, self.jnp
        rows = members + [members[0]] * (n_slots - len(members))
        params = [np.zeros((n_slots, *shape), np.float32) for shape in self.shapes]
        masks = np.zeros((n_slots, self.depth, self.width), np.float32)
        layers_on = np.zeros((n_slots, self.depth), bool)
        kinds = np.zeros(n_slots, np.int32)
        opt_states = [[np.repeat(v[None], n_slots, axis=0) for v in init]
                      for init in self.opt_init]
        for i, (model, spec) in enumerate(rows):
            tv = [np.asarray(v.value) for v in model.trainable_variables]
            for layer, n in enumerate(spec.units):
                w, b = tv[2 * layer], tv[2 * layer + 1]
                params[2 * layer][i, :w.shape[0], :n] = w
                params[2 * layer + 1][i, :n] = b
                masks[i, layer, :n] = 1.0
                layers_on[i, layer] = True
            w, b = tv[-2], tv[-1]
            params[-2][i, :w.shape[0], :] = w
            params[-1][i] = b
            kinds[i] = self.kinds.index(spec.kind)
            for k, index in enumerate(self.lr_index):
                opt_states[k][index][i] = spec.lr
            for k, index in enumerate(self.momentum_index):
                if index is not None:
                    opt_states[k][index][i] = spec.momentum
        tree = ([jnp.asarray(p) for p in params],
                [[jnp.asarray(v) for v in o] for o in opt_states],
                jnp.asarray(kinds), jnp.asarray(masks), jnp.asarray(layers_on))
        return tree

    def indices(self, rng: Any, n_rows: int) -> tuple[Any, Any, int]:
        """This epoch's batches: the trial's numpy permutation of the rows, cut into batches
        (the last one short, padded with weight 0), in arrays of the program's shape."""
        np, bs = self.np, self.batch_size
        idx = np.zeros(self.cap_steps * bs, np.int32)
        idx[:n_rows] = rng.permutation(n_rows)
        w = np.zeros(self.cap_steps * bs, np.float32)
        w[:n_rows] = 1.0
        shape = (self.cap_steps, bs)
        return idx.reshape(shape), w.reshape(shape), -(-n_rows // bs)

    def epoch(self, state: Any, active: Any, x: Any, y: Any, batches: Any, n_rows: int) -> Any:
        idx, w, n_steps = batches
        return self._epoch(state, active, x, y, idx, w, n_steps, float(n_rows))

    def forward(self, state: Any, x: Any) -> Any:
        return self.np.asarray(self._forward(state, x))

    def member_weights(self, state: Any) -> list[Any]:
        return [self.np.asarray(p) for p in state[0]]

    # a member's checkpoint, in its own (unpadded) shapes -------------------------------
    def _slot_vars(self, kind: str) -> list[tuple[int, str | None, int | None]]:
        """(index, slot name, padded parameter) of each variable of ``kind``'s optimizer;
        the parameter is None for its scalars (iteration, learning rate)."""
        import re

        out = []
        for v, var in enumerate(self.optimizers[self.kinds.index(kind)].variables):
            found = re.fullmatch(r"w(\d+)_(\w+)", var.name)
            out.append((v, var.name, None) if found is None else
                       (v, found[2], int(found[1])))
        return out

    def member_checkpoint(self, state: Any, i: int, model: Any, spec: _Spec, epoch: int,
                          shuffle: Any) -> dict[str, Any]:
        """Member ``i`` paused after ``epoch``: its weights and its optimizer's state, cut
        to its own shapes (so a program of another depth or width can take it back), the
        shuffle's random state and the epoch."""
        np = self.np
        shapes = [tuple(v.shape) for v in model.trainable_variables]
        index = member_index(len(self.shapes), len(spec.units))

        def own(a: Any, q: int) -> Any:
            return np.array(own_shape(np.asarray(a)[i], shapes[q]))

        weights: list[Any] = [None] * len(shapes)
        for p, q in enumerate(index):
            if q is not None:
                weights[q] = own(state[0][p], q)
        k = self.kinds.index(spec.kind)
        slots: dict[str, list[Any]] = {}
        scalars: dict[str, Any] = {}
        for v, name, p in self._slot_vars(spec.kind):
            if p is None:
                scalars[name] = np.array(np.asarray(state[1][k][v])[i])
            elif index[p] is not None:
                slots.setdefault(name, [None] * len(shapes))[index[p]] = own(state[1][k][v],
                                                                             index[p])
        return {"padded": True, "epoch": int(epoch), "shuffle": shuffle.bit_generator.state,
                "weights": weights, "slots": slots, "scalars": scalars}

    def load_member_slots(self, state: Any, i: int, model: Any, spec: _Spec,
                          checkpoint: dict[str, Any]) -> None:
        """Write a checkpoint's optimizer state back into member ``i`` of ``state`` (its
        weights went in through its Keras model), zero-padded to this program's shapes."""
        np = self.np
        index = member_index(len(self.shapes), len(spec.units))
        k = self.kinds.index(spec.kind)
        for v, name, p in self._slot_vars(spec.kind):
            if p is None and name not in checkpoint["scalars"]:
                continue  # a checkpoint from before the momentum was a variable: the spec's
            if p is None:
                value = checkpoint["scalars"][name]
            elif index[p] is None:
                continue  # a layer the member lacks: its state stays zero
            else:
                own = checkpoint["slots"][name][index[p]]
                value = np.zeros(state[1][k][v].shape[1:], np.float32)
                own_shape(value, own.shape)[...] = own
            state[1][k][v] = state[1][k][v].at[i].set(value)
