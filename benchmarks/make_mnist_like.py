"""Write an MNIST-shaped ``.npz`` (28x28 uint8 images, 10 classes) that needs no download.

    .venv/bin/python benchmarks/make_mnist_like.py /tmp/mnist-like.npz --train 6000 --test 1000

The images are scikit-learn's digits (8x8, 16 grey levels), each upsampled 3x to 24x24
(bilinear), rotated by a random angle (+-12 degrees), placed at a random offset inside a
28x28 frame (0-4 pixels each way, so the digit moves by up to 4 pixels), scaled to 0-255
and given Gaussian pixel noise (sigma 20), clipped to uint8. Train and test rows come from
disjoint digits images (a stratified 80/20 split of the 1797, seed 0), so a test row is
never a distorted copy of a training image. Same arguments, same file. The arrays are
``x_train (n, 28, 28) uint8, y_train (n,) uint8, x_test, y_test``, as in Keras's
``mnist.npz``: ``--dataset mnist --data-path FILE`` (the keras plugin) reads it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

SIDE = 28
ZOOM = 3  # 8x8 -> 24x24
MAX_SHIFT = SIDE - 8 * ZOOM  # 4
MAX_ANGLE = 12.0
NOISE = 20.0


def distort(images: Any, n: int, rng: Any) -> tuple[Any, Any]:
    """``n`` rows drawn (with replacement) from ``images`` (m, 8, 8), each distorted."""
    import numpy as np
    from scipy import ndimage

    pick = rng.integers(0, len(images), size=n)
    out = np.zeros((n, SIDE, SIDE), dtype=np.float64)
    for row, i in enumerate(pick):
        big = ndimage.zoom(images[i] * (255.0 / 16.0), ZOOM, order=1)
        big = ndimage.rotate(big, rng.uniform(-MAX_ANGLE, MAX_ANGLE), reshape=False, order=1)
        dy, dx = rng.integers(0, MAX_SHIFT + 1, size=2)
        out[row, dy:dy + 8 * ZOOM, dx:dx + 8 * ZOOM] = big
    out += rng.normal(0.0, NOISE, size=out.shape)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), pick


def make(n_train: int, n_test: int, seed: int = 0) -> dict[str, Any]:
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_src_tr, x_src_te, y_src_tr, y_src_te = train_test_split(
        digits.images, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
    rng = np.random.default_rng(seed)
    x_tr, pick_tr = distort(x_src_tr, n_train, rng)
    x_te, pick_te = distort(x_src_te, n_test, rng)
    return {"x_train": x_tr, "y_train": y_src_tr[pick_tr].astype(np.uint8),
            "x_test": x_te, "y_test": y_src_te[pick_te].astype(np.uint8)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="the .npz to write")
    parser.add_argument("--train", type=int, default=6000, help="training rows")
    parser.add_argument("--test", type=int, default=1000, help="test rows")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.train < 10 or args.test < 10:
        parser.error("--train and --test need at least 10 rows each")
    if not args.path.endswith(".npz"):
        parser.error(f"{args.path}: the file name must end in .npz")
    import numpy as np

    arrays = make(args.train, args.test, args.seed)
    Path(args.path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.path, **arrays)
    print(f"wrote {args.path}: {args.train} train / {args.test} test rows, 28x28 uint8, "
          f"10 classes (digits upsampled, rotated, shifted, noised; seed {args.seed})",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
