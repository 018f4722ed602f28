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


def values_from_output(out: Any, yv: Any, task: str, epsilon: float) -> dict[str, float]:
    """val_loss as Keras defines it (cross-entropy on probabilities clipped to epsilon, or
    MSE) and val_accuracy, from the model's outputs on the validation rows (on the
    target's scale)."""
    import numpy as np

    if not np.all(np.isfinite(out)):
        raise RuntimeError("the model predicts NaN or infinite values")
    if task == "regression":
        return {"val_loss": float(np.mean((out.reshape(len(out)) - yv) ** 2))}
    proba = np.clip(out / out.sum(axis=1, keepdims=True), epsilon, 1.0 - epsilon)
    yv = np.asarray(yv, dtype=np.int64)
    return {"val_loss": float(-np.mean(np.log(proba[np.arange(len(yv)), yv]))),
            "val_accuracy": float(np.mean(out.argmax(axis=1) == yv))}


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
