"""CPU time per call of the built-in numpy metrics and of scikit-learn's functions on the
same inputs, side by side in one process (why the built-ins stay numpy).

    .venv/bin/python benchmarks/metrics_speed.py [--repeat 30]

For each (rows, classes) it scores the same random labels / probabilities / values with
both, checks they agree, and writes the median CPU time per call (time.process_time over a
batch of calls) to benchmarks/results/metrics-speed.md and -runs.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

from hpo_framework.contracts.metrics import METRICS, score_all

RESULTS = Path(__file__).resolve().parent / "results"


def sklearn_equivalents():
    import sklearn.metrics as skm

    return {
        "accuracy": lambda y, p, pr: skm.accuracy_score(y, p),
        "balanced_accuracy": lambda y, p, pr: skm.balanced_accuracy_score(y, p),
        "f1_macro": lambda y, p, pr: skm.f1_score(y, p, average="macro"),
        "precision_weighted": lambda y, p, pr: skm.precision_score(y, p, average="weighted"),
        "recall_macro": lambda y, p, pr: skm.recall_score(y, p, average="macro"),
        "log_loss": lambda y, p, pr: skm.log_loss(y, pr),
        "roc_auc": lambda y, p, pr: (skm.roc_auc_score(y, pr[:, 1]) if pr.shape[1] == 2
                                     else skm.roc_auc_score(y, pr, multi_class="ovr")),
        "mse": lambda y, p, pr: skm.mean_squared_error(y, p),
        "mae": lambda y, p, pr: skm.mean_absolute_error(y, p),
        "r2": lambda y, p, pr: skm.r2_score(y, p),
    }


def per_call(fn, args, repeat: int) -> float:
    """Median CPU seconds per call over ``repeat`` batches of calls lasting >= 20 ms."""
    fn(*args)
    n = 1
    while True:
        start = time.process_time()
        for _ in range(n):
            fn(*args)
        if time.process_time() - start >= 0.02:
            break
        n *= 2
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(n):
            fn(*args)
        samples.append((time.process_time() - start) / n)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sk = sklearn_equivalents()
    rows = []
    rng = np.random.default_rng(0)
    for n, k in ((200, 2), (200, 10), (20000, 2), (20000, 10)):
        y = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
        pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
        proba = rng.random((n, k)) + 0.01
        proba /= proba.sum(axis=1, keepdims=True)
        yr, pr = rng.normal(size=n), rng.normal(size=n)
        for name, ref in sk.items():
            task = METRICS[name].task
            inputs = (y, pred, proba) if task == "classification" else (yr, pr, None)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours, theirs = METRICS[name].fn(*inputs), ref(*inputs)
                assert abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs)), (name, ours, theirs)
                t_np = per_call(METRICS[name].fn, inputs, args.repeat)
                t_sk = per_call(ref, inputs, args.repeat)
            rows.append({"rows": n, "classes": k if task == "classification" else None,
                         "metric": name, "numpy_us": t_np * 1e6, "sklearn_us": t_sk * 1e6,
                         "ratio": t_sk / t_np})
        t_all = per_call(score_all, ("classification", y, pred, proba), args.repeat)
        rows.append({"rows": n, "classes": k, "metric": "score_all (4 recorded)",
                     "numpy_us": t_all * 1e6, "sklearn_us": None, "ratio": None})
    machine = f"{platform.processor() or platform.machine()}, {platform.python_version()}"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "metrics-speed-runs.json").write_text(json.dumps(
        {"machine": machine, "repeat": args.repeat, "rows": rows}, indent=1))
    lines = ["# Built-in numpy metrics vs scikit-learn, CPU time per call",
             "", f"`benchmarks/metrics_speed.py --repeat {args.repeat}`; {machine}; median of "
             "batches, time.process_time (the machine is shared: CPU time, not wall).",
             "Values agree to 1e-9 on every row (the script asserts it).", "",
             "| rows | classes | metric | numpy us | sklearn us | sklearn / numpy |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        sk_us = "-" if r["sklearn_us"] is None else f"{r['sklearn_us']:.0f}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.1f}x"
        lines.append(f"| {r['rows']} | {r['classes'] or '-'} | {r['metric']} | "
                     f"{r['numpy_us']:.0f} | {sk_us} | {ratio} |")
    (RESULTS / "metrics-speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
