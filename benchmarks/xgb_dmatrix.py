"""XGBoost's data per fit: a plain ``DMatrix`` against the ``QuantileDMatrix`` that its
scikit-learn estimators pick for ``hist``, through the ``xgboost`` backend's own ``fit``.

    .venv/bin/python benchmarks/xgb_dmatrix.py        # writes results/xgb-dmatrix.md

For each dataset, ``--configs`` configurations drawn (seeded) from the backend's default
space, each fitted on the ``holdout`` split with early stopping (the backend's defaults,
one thread), once each way, alternating; CPU seconds per fit (``time.process_time``) and
whether the two models' test predictions are equal. Datasets: scikit-learn's
breast_cancer and diabetes, and ``make_classification`` sets of 2,000 rows x 20 features
(the boosting benchmark's ``generated``) and 25,000 x 50 (none downloaded).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def datasets() -> list:
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    import hpo_framework as hpo
    from hpo_framework.jobs.pipeline import load_dataset

    out = [load_dataset("breast_cancer"), load_dataset("diabetes")]
    for rows, cols in ((2000, 20), (25000, 50)):
        x, y = make_classification(n_samples=rows, n_features=cols, n_informative=8,
                                   flip_y=0.05, random_state=0)
        xt, xs, yt, ys = train_test_split(x.astype(np.float32), y, test_size=0.2,
                                          random_state=0, stratify=y)
        out.append(hpo.Dataset(f"generated {rows}x{cols}", xt, yt, xs, ys,
                               task="classification"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", type=int, default=10)
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/xgb-dmatrix.md"))
    args = ap.parse_args()
    import numpy as np
    from hpo_boosting import xgb

    from hpo_framework import Space
    from hpo_framework.builtin.evaluators import Holdout
    from hpo_framework.registry import get_registry

    backend = get_registry().get("backend", "xgboost")(seed=0, n_jobs=1)
    default = xgb.PLAIN_DMATRIX_CELLS
    rows = []
    for dataset in datasets():
        space = Space.from_dict(backend.default_space(dataset))
        rng = random.Random(0)
        xt, yt, xv, yv = Holdout(seed=0).arrays(dataset)
        cpu = {"plain": [], "quantile": []}
        equal = 0
        for _ in range(args.configs):
            params = space.sample(rng)
            preds = {}
            for way in ("quantile", "plain"):
                xgb.PLAIN_DMATRIX_CELLS = default if way == "plain" else 0
                start = time.process_time()
                model = backend.fit(dict(params), xt, yt, dataset, validation=(xv, yv))
                cpu[way].append(time.process_time() - start)
                preds[way] = backend.predict(model, dataset.x_test)
            xgb.PLAIN_DMATRIX_CELLS = default
            equal += bool(np.array_equal(preds["plain"], preds["quantile"]))
        q, p = statistics.median(cpu["quantile"]), statistics.median(cpu["plain"])
        rows.append(f"| {dataset.name} | {len(xt)} x {xt.shape[1]} | {q * 1000:.1f} | "
                    f"{p * 1000:.1f} | {p / q:.2f} | {sum(cpu['plain']) / sum(cpu['quantile']):.2f} "
                    f"| {equal} of {args.configs} |")
        print(rows[-1], flush=True)
    lines = ["# XGBoost's data per fit: plain DMatrix against QuantileDMatrix", "",
             f"Written by `benchmarks/xgb_dmatrix.py --configs {args.configs}`. Machine: "
             f"{os.cpu_count()} cores, no GPU, load average {os.getloadavg()[0]:.1f} at the end. "
             "CPU ms per fit through the `xgboost` backend (early stopping on, one thread), "
             "median over configurations drawn from its default space; `equal`: "
             "configurations whose two models predict the test rows identically.", "",
             "| dataset | training rows x columns | QuantileDMatrix ms | plain DMatrix ms "
             "| ratio of medians | ratio of totals | equal predictions |",
             "|---|---|---|---|---|---|---|"] + rows + [""]
    Path(args.out).write_text("\n".join(lines))


if __name__ == "__main__":
    main()
