"""What measuring train_s, latency_ms and n_params costs a trial, and how steady
latency_ms is between trials of the same model (issue 25's measured metrics).

For each backend (sklearn MLP, keras compiled, xgboost) on digits, the same configuration
is evaluated ``--repeats`` times through the hold-out evaluator; for each trial the CPU
time (``time.process_time``) of the whole evaluation and of the measuring alone
(``measure_latency`` + ``n_params``, timed again on the trial's own model) are taken.
Printed and written to ``benchmarks/results/measured-metrics.md``: the measuring's share of
a trial's CPU time (median), and latency_ms per trial (min, median, max and the max/min
ratio, a spread that a comparison between trials must exceed).

    nice .venv/bin/python benchmarks/measured_metrics.py --repeats 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

CONFIGS = {
    "sklearn": ({"max_iter": 10}, {"n_layers": 1, "units_1": 15, "solver": "adam",
                                   "learning_rate_init": 0.01}),
    "keras": ({"epochs": 10}, {"learning_rate": 0.01, "num_dense_layers": 0,
                               "num_dense_nodes": 15, "optimizer": "adam"}),
    "xgboost": ({"n_estimators": 50}, {"max_depth": 3, "learning_rate": 0.3}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backends", default="sklearn,keras,xgboost")
    args = parser.parse_args()

    from hpo_framework.builtin.evaluators import Holdout
    from hpo_framework.contracts.backend import measure_latency
    from hpo_framework.contracts.metrics import get_metric
    from hpo_framework.jobs.pipeline import load_dataset
    from hpo_framework.registry import get_registry

    digits = load_dataset("digits")
    acc = get_metric("accuracy", "classification")
    holdout = Holdout(seed=0)
    x, y, xv, yv = holdout.arrays(digits)
    rows = []
    for name in args.backends.split(","):
        options, params = CONFIGS[name]
        backend = get_registry().get("backend", name)(seed=0, **options)
        holdout.evaluate(backend, dict(params), digits, acc)  # imports, compiles
        shares, latencies, trial_cpu, measure_cpu = [], [], [], []
        for _ in range(args.repeats):
            started = time.process_time()
            out = holdout.evaluate(backend, dict(params), digits, acc)
            total = time.process_time() - started
            latencies.append(out["metrics"]["latency_ms"])
            model = backend.fit(dict(params), x, y, digits)  # the measuring alone, again
            started = time.process_time()
            measure_latency(backend, model, xv)
            backend.n_params(model)
            alone = time.process_time() - started
            backend.release(model)
            shares.append(alone / total)
            trial_cpu.append(total)
            measure_cpu.append(alone)
        rows.append({
            "backend": name, "n_params": out["metrics"].get("n_params"),
            "trial_cpu_s": statistics.median(trial_cpu),
            "measure_cpu_ms": 1000 * statistics.median(measure_cpu),
            "share": statistics.median(shares),
            "lat_min": min(latencies), "lat_med": statistics.median(latencies),
            "lat_max": max(latencies), "lat_ratio": max(latencies) / min(latencies),
        })
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Measured metrics: their cost per trial and the spread of latency_ms",
        "",
        f"`python benchmarks/measured_metrics.py --repeats {args.repeats}` on digits "
        f"(1224 training, 216 validation rows), {platform.machine()}, {os.cpu_count()} "
        f"cores, load average {load:.1f} at the end (a machine shared with other jobs); "
        "CPU time (process_time). The same configuration evaluated "
        f"{args.repeats} times per backend.",
        "",
        "| backend | n_params | trial CPU s (median) | measuring CPU ms (median) | share of "
        "the trial | latency_ms min | median | max | max/min |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['n_params']} | {r['trial_cpu_s']:.3f} | "
                     f"{r['measure_cpu_ms']:.2f} | {100 * r['share']:.2f} % | "
                     f"{r['lat_min']:.5f} | {r['lat_med']:.5f} | {r['lat_max']:.5f} | "
                     f"{r['lat_ratio']:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "measured-metrics.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
