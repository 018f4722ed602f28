"""Benchmark: the dashboard on a big study: how long its first paint and a poll take.

Builds (once, kept under --dir) a study of N trials with the ``random`` strategy on SQLite:
four parameters (a log float, a float, an int, a categorical), five intermediate values
per trial, one trial in 50 failed; then starts ``hpo-run dashboard`` on it, as a user
does, and times, from a client:

- ``first paint``: what the study page fetches before it can draw: the summary and the
  first page of the trial table, then the figures (cold: the first request after start);
- ``figures again``: the same figures request once cached (same study version);
- ``poll``: an unchanged study's poll (``If-None-Match``: answered 304, no body);
- ``trial``: one trial's own view.

::

    nice .venv/bin/python benchmarks/dashboard_scale.py --trials 10000 --write

Wall time from the client (what a user waits for); the server runs in its own process.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
HPO_RUN = Path(sys.executable).parent / "hpo-run"
SPACE = {"learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
         "dropout": {"type": "float", "low": 0.0, "high": 0.5},
         "units": {"type": "int", "low": 8, "high": 256},
         "optimizer": {"type": "categorical", "choices": ["sgd", "adam", "rmsprop"]}}


def build(path: Path, trials: int) -> None:
    import hpo_framework as hpo

    def objective(params, trial):
        if trial.number % 50 == 7:
            raise ValueError("diverged: loss is nan")
        base = -abs(math.log10(params["learning_rate"]) + 2.5) - params["dropout"] \
            + params["units"] / 512 + {"sgd": 0.0, "adam": 0.3, "rmsprop": 0.1}[params["optimizer"]]
        for step in range(5):
            trial.report(base * (1 - 0.5 ** (step + 1)), step)
        return base

    hpo.optimize(objective, SPACE, strategy="random", n_trials=trials, seed=0, storage=str(path),
                 study="big", direction="maximize")


def get(url: str, etag: str | None = None) -> tuple[int, bytes, str | None, float]:
    request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as r:
            body = r.read()
            return r.status, body, r.headers.get("ETag"), time.perf_counter() - start
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("ETag"), time.perf_counter() - start


def measure(path: Path) -> dict:
    proc = subprocess.Popen([str(HPO_RUN), "dashboard", "--storage", str(path), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[1]
        api = url + "api/studies/big"
        out: dict = {}
        status, body, _, s = get(url + "api/studies")
        out["studies_s"] = round(s, 3)
        status, body, etag, s1 = get(api + "/trials?limit=50")
        assert status == 200, body[:300]
        status, fig_body, fig_etag, s2 = get(api + "/figures")
        assert status == 200, fig_body[:300]
        out["first_paint_s"] = round(s1 + s2, 3)
        out["table_page_s"], out["figures_cold_s"] = round(s1, 3), round(s2, 3)
        out["table_page_kb"], out["figures_kb"] = len(body) // 1024, len(fig_body) // 1024
        out["figures_warm_s"] = round(get(api + "/figures")[3], 3)
        status, body, _, s = get(api + "/figures", fig_etag)
        out["poll_status"], out["poll_bytes"], out["poll_s"] = status, len(body), round(s, 4)
        status, body, _, s = get(api + "/trials/1234")
        out["trial_s"] = round(s, 3)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10000)
    parser.add_argument("--dir", default="/tmp/hpo-dashboard-scale")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    path = Path(args.dir) / f"big{args.trials}.db"
    if not path.exists():
        start = time.perf_counter()
        build(path, args.trials)
        print(f"built {path} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    result = {"trials": args.trials, **measure(path),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"}
    print(json.dumps(result))
    if args.write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"dashboard_scale_{args.trials}.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
