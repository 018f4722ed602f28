"""One keras trial with trainer=fit vs the notebook's plain Keras script, in the same process
(trainer=compiled, the default now, is measured by keras_compiled.py).

The data has MNIST's shape (60000 x 784 float32, 10 classes) but is random, since MNIST
cannot be downloaded here; the labels follow a random linear rule, so there is something
to learn. Both runs train the notebook's trial: a 784-15-10 MLP, SGD with
Nesterov momentum 0.9, batch 32, 10 epochs on the 51000 rows that the notebook's
``validation_split=0.15`` leaves, with the same seed and the same validation rows. Their
per-epoch validation curves are no longer equal: trainer=fit draws its initial
weights and shuffles with numpy (the same on every engine), the plain script from Keras's
engine. The plain script is the notebook's code on
Keras 3: one-hot labels, categorical cross-entropy, ``model.fit(..., validation_split=0.15)``
with the default progress output (sent to /dev/null here), then ``model.evaluate``.

    .venv/bin/python benchmarks/keras_trial.py [--epochs 10] [--keras-backend jax]
        [--write benchmarks/results/keras_trial.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from typing import Any

PARAMS = {"learning_rate": 0.01, "num_dense_layers": 0, "num_dense_nodes": 15, "optimizer": "sgd"}


def append_section(path: str, lines: list[str]) -> None:
    """Append a dated section, headed by the command that wrote it, to a results file."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
                 f"`{' '.join(sys.argv)}`\n\n" + "\n".join(lines) + "\n")


def make_data(rows: int, seed: int = 0) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random((rows, 784), dtype=np.float32)
    # labels a model can learn (the class whose random direction x points most along), so
    # that the validation curves move and their agreement means something
    w = rng.standard_normal((784, 10)).astype(np.float32)
    y = np.argmax((x - 0.5) @ w, axis=1)
    return x, y


def plain_keras(x: Any, y: Any, epochs: int, seed: int, verbose: Any = "auto"
                ) -> tuple[float, list]:
    """The notebook's way: build, compile, model.fit(validation_split=0.15), evaluate."""
    import contextlib

    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    y_onehot = keras.utils.to_categorical(y, 10)
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(15, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=PARAMS["learning_rate"],
                                                 momentum=0.9, nesterov=True),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    n_val = int(len(x) * 0.15)
    start = time.perf_counter()
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        history = model.fit(x, y_onehot, epochs=epochs, batch_size=32, verbose=verbose,
                            validation_split=0.15)
        model.evaluate(x[-n_val:], y_onehot[-n_val:], verbose=verbose)
    return time.perf_counter() - start, history.history["val_loss"]


def ours(x: Any, y: Any, epochs: int, seed: int, engine: str | None) -> tuple[float, list]:
    """One default trial through the framework: the keras backend trains with per-epoch
    reports, then the core scores it (fit_and_score, what the evaluators call)."""
    from hpo_keras.backend import KerasBackend

    from hpo_framework.contracts.backend import fit_and_score
    from hpo_framework.contracts.dataset import Dataset

    n_val = int(len(x) * 0.15)  # the same validation rows as validation_split=0.15
    dataset = Dataset("random-mnist-shape", x, y, x[:10], y[:10], n_classes=10)
    backend = KerasBackend(seed=seed, epochs=epochs, keras_backend=engine, trainer="fit")
    start = time.perf_counter()
    _, steps = fit_and_score(backend, dict(PARAMS), dataset, x[:-n_val], y[:-n_val],
                             x[-n_val:], y[-n_val:])
    return time.perf_counter() - start, [s["val_loss"] for s in steps]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keras-backend", choices=("tensorflow", "jax"), default=None)
    ap.add_argument("--skip-plain", action="store_true", help="time only ours")
    ap.add_argument("--write", default=None, help="append the figures to this markdown file")
    args = ap.parse_args()
    if args.keras_backend:
        os.environ["KERAS_BACKEND"] = args.keras_backend
    from hpo_keras.runtime import import_keras

    keras = import_keras(args.keras_backend)
    x, y = make_data(args.rows, args.seed)
    n_val = int(len(x) * 0.15)
    # warm-up (library loading, first kernels), so that neither run pays it
    ours(x[:2000], y[:2000], 1, args.seed, args.keras_backend)

    t_ours, curve_ours = ours(x, y, args.epochs, args.seed, args.keras_backend)
    print(f"ours:  {t_ours:.1f} s  val_loss per epoch {[round(v, 4) for v in curve_ours]}",
          flush=True)
    lines = [f"- engine {keras.backend.backend()}, keras {keras.__version__}, "
             f"{platform.machine()} {os.cpu_count()} CPUs; {len(x) - n_val} train / {n_val} "
             f"validation rows, {args.epochs} epochs, batch 32",
             f"- ours (keras backend, defaults: steps_per_execution=64): {t_ours:.1f} s"]
    if not args.skip_plain:
        t_plain, curve_plain = plain_keras(x, y, args.epochs, args.seed)
        diff = max(abs(a - b) for a, b in zip(curve_ours, curve_plain, strict=True))
        print(f"plain: {t_plain:.1f} s  val_loss per epoch {[round(v, 4) for v in curve_plain]}")
        print(f"ratio ours/plain: {t_ours / t_plain:.3f}  (goal <= 0.25); "
              f"max |val_loss difference| per epoch: {diff:.2e}")
        lines += [f"- plain Keras, the notebook's way (model.fit, validation_split, progress bar): "
                  f"{t_plain:.1f} s",
                  f"- ratio ours/plain: {t_ours / t_plain:.3f} (goal <= 0.25)",
                  f"- val_loss per epoch, ours:  {[round(v, 4) for v in curve_ours]}",
                  f"- val_loss per epoch, plain: {[round(v, 4) for v in curve_plain]}",
                  f"- largest per-epoch val_loss difference: {diff:.2e}"]
    if args.write:
        append_section(args.write, lines)


if __name__ == "__main__":
    main()
