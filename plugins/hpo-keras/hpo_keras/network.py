"""What the keras plugin's trainers share (backend.py, trainer.py, padded.py): the MLP's
parameters and layer widths, outputs on the target's scale, validation values, and a
paused fit's checkpoint. The lowest module of the plugin: it imports none of the others.
"""

from __future__ import annotations

from typing import Any

#: the built-in MLP's parameters (the notebook's names)
KNOWN_PARAMS = {
    "learning_rate", "num_dense_layers", "num_dense_nodes", "optimizer", "activation",
    "dropout", "momentum", "nesterov", "epochs", "batch_size",
}
#: the values the built-in MLP takes (Keras refuses no units and momentum outside [0, 1];
#: the epoch loop needs a batch and an epoch; a negative count of extra layers builds none)
RANGES = {
    "num_dense_nodes": "[1, inf)", "num_dense_layers": "[0, inf)", "momentum": "[0, 1]",
    "batch_size": "[1, inf)", "epochs": "[1, inf)",
}
#: names an earlier version also took, and what to write instead
RENAMED = {"n_layers": "num_dense_layers", "units": "num_dense_nodes",
           **{f"units_{i}": "num_dense_nodes" for i in range(1, 17)}}


def renamed_hint(name: str) -> str | None:
    """One line saying what to write instead of an earlier name; None for other names."""
    if name not in RENAMED:
        return None
    return (f"the keras backend has no '{name}': write {RENAMED[name]} instead "
            "(num_dense_nodes units in the first hidden layer and in each of "
            "num_dense_layers more)")


def layer_units(params: dict[str, Any], num_dense_layers: int, num_dense_nodes: int
                ) -> list[int]:
    """Hidden layer widths, as the notebook builds them: ``num_dense_nodes`` units in the
    first layer and in each of ``num_dense_layers`` more (the arguments: when the params
    set none)."""
    more = int(params.get("num_dense_layers", num_dense_layers))
    return [int(params.get("num_dense_nodes", num_dense_nodes))] * (1 + more)


def rescaled(model: Any, out: Any) -> Any:
    """Outputs on the target's own scale; NaN or infinite outputs are an error."""
    import numpy as np

    scale = getattr(model, "_hpo_target_scale", None)
    if scale is not None:
        out = out * scale[1] + scale[0]
    if not np.all(np.isfinite(out)):
        raise RuntimeError("the model predicts NaN or infinite values")
    return out


def values_from_output(out: Any, yv: Any, task: str, epsilon: float,
                       report: Any = None) -> dict[str, float]:
    """val_loss as Keras defines it (cross-entropy on probabilities clipped to epsilon, or
    MSE) and val_accuracy, from the model's outputs on the validation rows (on the
    target's scale); with the evaluation's ``report``, also ``val_<name>`` of each metric
    the study records, from the same outputs (numpy on the validation rows)."""
    import numpy as np

    from hpo_framework.contracts.backend import epoch_scores

    if not np.all(np.isfinite(out)):
        raise RuntimeError("the model predicts NaN or infinite values")
    if task == "regression":
        pred = out.reshape(len(out))
        values = {"val_loss": float(np.mean((pred - yv) ** 2))}
        return {**values, **epoch_scores(report, yv, pred, None, have=values)}
    proba = np.clip(out / out.sum(axis=1, keepdims=True), epsilon, 1.0 - epsilon)
    yv = np.asarray(yv, dtype=np.int64)
    pred = out.argmax(axis=1)
    values = {"val_loss": float(-np.mean(np.log(proba[np.arange(len(yv)), yv]))),
              "val_accuracy": float(np.mean(pred == yv))}
    return {**values, **epoch_scores(report, yv, pred, out, have=values)}


def variable_values(keras: Any, variables: Any) -> list[Any]:
    """Copies (numpy) of ``variables``' values: what ``score=best`` keeps of an epoch."""
    import numpy as np

    return [np.array(keras.ops.convert_to_numpy(v.value if hasattr(v, "value") else v))
            for v in variables]


def assign_values(variables: Any, values: list[Any]) -> None:
    for v, value in zip(variables, values, strict=True):
        v.assign(value)


def count_params(model: Any) -> int:
    """Trainable parameters of a Keras model: the sizes of its trainable weights (Keras's
    ``count_params`` over ``trainable_weights``)."""
    import math as _math

    return int(sum(_math.prod(int(d) for d in v.shape) for v in model.trainable_weights))


def checkpoint_of(keras: Any, model: Any, shuffle: Any, epoch: int) -> dict[str, Any]:
    """A paused fit's checkpoint: every variable of the model and its optimizer (numpy),
    the epochs trained and the shuffle's random state."""
    import numpy as np

    def values(variables: Any) -> list[Any]:
        return [np.array(keras.ops.convert_to_numpy(v.value)) for v in variables]

    return {"epoch": int(epoch), "shuffle": shuffle.bit_generator.state,
            "model": values(model.variables), "optimizer": values(model.optimizer.variables)}


def load_checkpoint(keras: Any, model: Any, shuffle: Any, checkpoint: dict[str, Any]) -> int:
    """Write a checkpoint back into a freshly built model (its optimizer built first) and
    the shuffle; return the epochs it had trained."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    for variables, key in ((model.variables, "model"), (model.optimizer.variables, "optimizer")):
        stored = checkpoint[key]
        if len(stored) != len(variables):
            raise RuntimeError(f"the checkpoint does not fit this model ({len(stored)} "
                               f"{key} variables stored, {len(variables)} built)")
        for v, value in zip(variables, stored, strict=True):
            v.assign(value)
    shuffle.bit_generator.state = checkpoint["shuffle"]
    return int(checkpoint["epoch"])


def restore_best(model: Any, best: Any, output: Any = None) -> None:
    """``score=best``: give ``model`` the weights of its best epoch (the trainable and
    the other variables ``best`` kept), say which epoch, and keep that epoch's
    validation output (``output``: the validation rows it is of) for scoring."""
    if best.epoch is None:
        return
    trainable, other = best.kept
    assign_values(model.trainable_variables, trainable)
    if other is not None:
        assign_values(model.non_trainable_variables, other)
    model._hpo_score_epoch = best.epoch
    if output is not None and best.extra is not None:
        model._hpo_last_output = (output, best.extra)
    elif hasattr(model, "_hpo_last_output"):
        model._hpo_last_output = None


def weights_of(keras: Any, model: Any) -> tuple[list[Any], list[Any]]:
    """What ``score=best`` keeps of an epoch: copies of the trainable and the other
    variables' values."""
    return (variable_values(keras, model.trainable_variables),
            variable_values(keras, model.non_trainable_variables))


#: the optimizer variable that holds a compiled program's SGD momentum (see momentum_sgd)
MOMENTUM_VARIABLE = "momentum_value"
_MOMENTUM_SGD: Any = None


def momentum_sgd(keras: Any, learning_rate: float = 0.01, momentum: float = 0.9,
                 nesterov: bool = False) -> Any:
    """Keras's SGD with its momentum held in an optimizer variable (``momentum_value``), as
    Keras holds the learning rate: a program traced once takes each trial's momentum as
    data, where Keras's own SGD bakes its float momentum into the program (a new XLA
    compile of seconds for every momentum a search proposes). The update is Keras's
    ``SGD.update_step`` with that variable for the constant; the velocities always exist,
    and momentum 0 computes exactly what Keras's plain SGD does (``w - lr * g``: a zero
    velocity term adds nothing). Only the compiled programs use it; a trial's own model
    keeps Keras's SGD (saved and loaded as any Keras model)."""
    global _MOMENTUM_SGD
    if _MOMENTUM_SGD is None:
        ops = keras.ops

        class MomentumSGD(keras.optimizers.SGD):
            def build(self, variables: Any) -> None:
                if self.built:
                    return
                momentum, self.momentum = self.momentum, 1.0  # Keras: velocities if != 0
                super().build(variables)
                self.momentum = momentum
                self.momentum_value = self.add_variable(
                    shape=(), initializer=keras.initializers.Constant(momentum),
                    name=MOMENTUM_VARIABLE)

            def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
                learning_rate = ops.cast(learning_rate, variable.dtype)
                gradient = ops.cast(gradient, variable.dtype)
                m = self.momentums[self._get_variable_index(variable)]
                momentum = ops.cast(self.momentum_value, variable.dtype)
                self.assign(m, ops.subtract(ops.multiply(m, momentum),
                                            ops.multiply(gradient, learning_rate)))
                if self.nesterov:
                    self.assign_add(variable, ops.subtract(ops.multiply(m, momentum),
                                                           ops.multiply(gradient, learning_rate)))
                else:
                    self.assign_add(variable, m)

        _MOMENTUM_SGD = MomentumSGD
    return _MOMENTUM_SGD(learning_rate, momentum=float(momentum), nesterov=bool(nesterov))
