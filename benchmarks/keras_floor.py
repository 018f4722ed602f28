"""How far the keras backend's compiled trainer is from a hand-written JAX training loop.

The notebook's trial (784-15-10 MLP, relu, softmax cross-entropy, SGD with Nesterov
momentum 0.9, learning rate 0.01, batch 32, 51000 MNIST-shaped rows from
``keras_trial.make_data``) trained two ways in one process, alternately:

- **hand-written**: the fewest operations that train this model in JAX: one jitted
  ``lax.scan`` over an epoch's batches of a plain numpy-free loss and update (no Keras,
  no padding, no masks), the floor for a compiled epoch on this CPU;
- **ours**: ``KerasBackend(trainer="compiled")`` through ``fit_and_score``, the way a study
  runs a trial; its time per epoch is (time of a 17-epoch trial - time of a 7-epoch
  trial) / 10, so building, scoring and set-up cancel out (both lengths are long enough,
  like the notebook's 10 epochs, for the program of one optimizer, the one a 10-epoch
  trial runs).

Both run on the same JAX CPU build with the same threads, so load on the machine slows
them alike; the ratio is the figure to read.

    .venv/bin/python benchmarks/keras_floor.py [--repeats 3] [--write benchmarks/results/keras_floor.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from keras_trial import PARAMS, make_data  # noqa: E402

ROWS, BATCH = 60000, 32


def hand_written(x: Any, y: Any) -> Callable[[], float]:
    """The hand-written loop, compiled once (by this call): a function that trains one more
    epoch and returns its seconds."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    xd, yd = jnp.asarray(x), jnp.asarray(y)
    shapes = [(784, 15), (15,), (15, 10), (10,)]
    params = [jnp.asarray(rng.normal(0, 0.05, s).astype(np.float32)) for s in shapes]
    velocity = [jnp.zeros_like(p) for p in params]
    lr, momentum = PARAMS["learning_rate"], 0.9

    def loss(p: Any, xb: Any, yb: Any) -> Any:
        h = jax.nn.relu(xb @ p[0] + p[1])
        log_p = jax.nn.log_softmax(h @ p[2] + p[3])
        return -jnp.mean(jnp.take_along_axis(log_p, yb[:, None], axis=1))

    grad = jax.value_and_grad(loss)

    @jax.jit
    def epoch(p: Any, v: Any, idx: Any) -> Any:
        def body(carry: Any, rows: Any) -> Any:
            p, v = carry
            value, g = grad(p, xd[rows], yd[rows])
            v = [momentum * vi - lr * gi for vi, gi in zip(v, g, strict=True)]
            p = [pi + momentum * vi - lr * gi for pi, vi, gi in zip(p, v, g, strict=True)]
            return (p, v), value

        (p, v), values = jax.lax.scan(body, (p, v), idx)
        return p, v, values.mean()

    n_full = len(x) // BATCH
    state = [params, velocity]

    def timed_epoch() -> float:
        idx = jnp.asarray(rng.permutation(len(x))[:n_full * BATCH].reshape(n_full, BATCH)
                          .astype(np.int32))
        start = time.perf_counter()
        state[0], state[1], value = epoch(state[0], state[1], idx)
        value.block_until_ready()
        return time.perf_counter() - start

    timed_epoch()  # the compile
    return timed_epoch


def ours(x: Any, y: Any, xv: Any, yv: Any, epochs: int) -> float:
    from hpo_keras import KerasBackend

    from hpo_framework.contracts.backend import fit_and_score
    from hpo_framework.contracts.dataset import Dataset

    data = Dataset("mnist-shape", x, y, x[:10], y[:10], n_classes=10)
    backend = KerasBackend(seed=0, epochs=epochs, trainer="compiled", compile_cache="off")
    start = time.perf_counter()
    fit_and_score(backend, dict(PARAMS), data, x, y, xv, yv)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--write", default=None, help="append the results to this markdown file")
    args = ap.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "jax")
    x_all, y_all = make_data(ROWS)
    n_val = int(ROWS * 0.15)
    x, y, xv, yv = x_all[:-n_val], y_all[:-n_val], x_all[-n_val:], y_all[-n_val:]
    load = os.getloadavg()[0]
    ours(x, y, xv, yv, 7)  # the compile
    hand_epoch = hand_written(x, y)
    hand, mine = [], []
    for _ in range(args.repeats):
        hand.append(hand_epoch())
        short, long = ours(x, y, xv, yv, 7), ours(x, y, xv, yv, 17)
        mine.append((long - short) / 10)
    h, m = statistics.median(hand), statistics.median(mine)
    lines = [
        f"## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"`benchmarks/keras_floor.py --repeats {args.repeats}`",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; load average at start "
        f"{load:.1f}; {len(x)} training rows, batch {BATCH}",
        f"- hand-written JAX epoch (lax.scan, no Keras): median {h:.4f} s "
        f"({', '.join(f'{t:.4f}' for t in hand)})",
        f"- ours (trainer=compiled, (17-epoch trial - 7-epoch trial) / 10): median {m:.4f} s "
        f"({', '.join(f'{t:.4f}' for t in mine)})",
        f"- ours / hand-written: {m / h:.2f}x",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        path = Path(args.write)
        head = "" if path.exists() else "# The compiled trainer against a hand-written JAX loop\n\n"
        with path.open("a") as fh:
            fh.write(head + text + "\n")


if __name__ == "__main__":
    main()
