"""Benchmark: the dashboard on a big study: how long its first paint and a poll take.

Builds (once, kept under --dir) a study of N trials with the ``random`` strategy on SQLite:
four parameters (a log float, a float, an int, a categorical), five intermediate values
per trial, one trial in 50 failed; then starts ``hpo-run dashboard`` on it, as a user
does, and times, from a client:

- ``first answer``: the one request the study page draws from (header, the first 100
  rows of the table, every figure), the first after the server started (cold);
- ``figures same version``: that request again (kept per study version);
- ``poll``: an unchanged study's poll (``If-None-Match``: answered 304, no body);
- a sorted page of the table, one trial's own view, the list of studies;
- in headless Chromium, on a fresh server: from opening the study page to its header,
  table and first chart drawn (first paint), and to every chart drawn.

::

    nice .venv/bin/python benchmarks/dashboard_scale.py --trials 10000 --write

``--baseline REV`` measures the browser's first paint only, side by side: the core and the
dashboard plugin as they were at git revision REV (a worktree, first on ``PYTHONPATH``) and
as they are now, alternating, ``--repeat`` times each, each in a fresh Chromium (nothing cached),
on the same file; it writes ``dashboard_paint_N.json`` with the medians and their ratio.

Wall time from the client (what a user waits for), and the server's CPU seconds for
each request (read from /proc: what a loaded machine does not inflate).
The load average is written beside the figures: other work on the machine slows both.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
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


def server_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds the server process used so far (user + system, from /proc)."""
    fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(proc: subprocess.Popen, url: str, etag: str | None = None
          ) -> tuple[int, bytes, str | None, float, float]:
    """get() and the server's CPU seconds for it."""
    before = server_cpu(proc)
    status, body, tag, wall = get(url, etag)
    return status, body, tag, wall, server_cpu(proc) - before


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by a process and every descendant (Chromium's renderers)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(p for p, parent in parents.items() if parent == pid)
    return total


def _serve(path: Path, tree: Path | None = None) -> tuple[subprocess.Popen, str]:
    """The dashboard on a fresh process, once its start-up (the warm-up imports) is done:
    what is measured is the requests, not the imports a user's first seconds hide.
    ``tree``: another checkout whose core and dashboard plugin to serve (both first on
    PYTHONPATH: the plugin alone would run on this checkout's core)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [
            str(tree / "plugins" / "hpo-dashboard"), str(tree), env.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([str(HPO_RUN), "dashboard", "--storage", str(path), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    url = proc.stdout.readline().split()[1]
    last, still = server_cpu(proc), 0
    while still < 5:  # its CPU time unchanged for 5 looks, 0.2 s apart
        time.sleep(0.2)
        now = server_cpu(proc)
        still, last = (still + 1, last) if now == last else (0, now)
    return proc, url


def measure(path: Path, trials: int) -> dict:
    """The API from a client, on a server started just before (cold)."""
    proc, url = _serve(path)
    try:
        api = url + "api/studies/big"
        page = api + "/figures?nested=1&limit=100"  # what the study page asks
        out: dict = {}
        status, body, etag, s, cpu = timed(proc, page)
        assert status == 200, body[:300]
        answer = json.loads(body)
        out["first_answer_s"], out["first_answer_cpu_s"] = round(s, 3), round(cpu, 2)
        out["first_answer_kb"] = len(body) // 1024
        out["pending_in_first"] = answer["all"]["pending"]
        status, body, etag, s, cpu = timed(proc, page)
        out["same_version_s"], out["same_version_cpu_s"] = round(s, 3), round(cpu, 2)
        status, body, _, s, cpu = timed(proc, page, etag)
        out["poll_status"], out["poll_bytes"] = status, len(body)
        out["poll_s"], out["poll_cpu_s"] = round(s, 4), round(cpu, 3)
        status, body, _, s, cpu = timed(proc, api + "/trials?limit=100&sort=value&desc=1")
        out["table_sorted_page_s"], out["table_sorted_page_cpu_s"] = round(s, 3), round(cpu, 2)
        out["table_sorted_page_kb"] = len(body) // 1024
        status, body, _, s, cpu = timed(proc, api + f"/trials/{trials // 2}")
        assert status == 200, body[:300]
        out["trial_view_s"], out["trial_view_cpu_s"] = round(s, 3), round(cpu, 2)
        status, body, _, s, cpu = timed(proc, url + "api/studies")
        out["studies_s"], out["studies_cpu_s"] = round(s, 3), round(cpu, 2)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def browser_paint(path: Path, tree: Path | None = None) -> dict:
    """In headless Chromium (tests/browser.py), on a fresh server: seconds from opening
    the study page to its header, table and first chart drawn, and to every chart drawn."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from browser import Browser

    proc, url = _serve(path, tree)
    try:
        with Browser(timeout=600) as b:
            b.call("Emulation.setDeviceMetricsOverride", session=True, width=1400,
                   height=1800, deviceScaleFactor=1, mobile=False)
            start, cpu, bcpu = time.perf_counter(), server_cpu(proc), tree_cpu(b.proc.pid)
            b.goto(url + "study/big")
            b.wait_for("document.querySelectorAll('#trials tbody tr').length > 0 && "
                       "document.getElementById('summary').textContent && "
                       "document.querySelector('#fig-best_so_far .main-svg')")
            first, first_cpu = time.perf_counter() - start, server_cpu(proc) - cpu
            first_bcpu = tree_cpu(b.proc.pid) - bcpu
            b.wait_for("['importances', 'contour', 'slices', 'parallel', 'learning_curves']"
                       ".every(k => document.querySelector('#fig-' + k + ' .main-svg'))")
            every, every_bcpu = time.perf_counter() - start, tree_cpu(b.proc.pid) - bcpu
            return {"browser_first_paint_s": round(first, 3),
                    "browser_first_paint_server_cpu_s": round(first_cpu, 2),
                    "browser_first_paint_chromium_cpu_s": round(first_bcpu, 2),
                    "browser_every_chart_chromium_cpu_s": round(every_bcpu, 2),
                    "browser_every_chart_s": round(every, 3)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextlib.contextmanager
def baseline_checkout(rev: str) -> Iterator[Path]:
    """A checkout of git revision ``rev`` in a temporary directory (``git worktree``),
    removed afterwards: the code a side-by-side benchmark measures beside this one."""
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="hpo-baseline-"))
    tree = work / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                   check=True, capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def side_by_side(path: Path, trials: int, rev: str, repeat: int) -> dict:
    """First paint of the plugin at ``rev`` and now, alternating in one run."""
    import statistics

    runs: dict[str, list[dict]] = {"before": [], "now": []}
    with baseline_checkout(rev) as tree:
        for _ in range(repeat):
            runs["before"].append(browser_paint(path, tree))
            runs["now"].append(browser_paint(path))
    out: dict = {"trials": trials, "baseline": rev, "repeat": repeat}
    for which, rows in runs.items():
        for key in ("browser_first_paint_s", "browser_first_paint_chromium_cpu_s",
                    "browser_every_chart_s"):
            out[f"{which}_{key}"] = round(statistics.median(r[key] for r in rows), 3)
        out[f"{which}_first_paint_each_s"] = [r["browser_first_paint_s"] for r in rows]
    out["first_paint_ratio_now_to_before"] = round(
        out["now_browser_first_paint_s"] / out["before_browser_first_paint_s"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10000)
    parser.add_argument("--dir", default="/tmp/hpo-dashboard-scale")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--baseline", help="git revision: first paint of its dashboard and "
                        "of this one, side by side")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    path = Path(args.dir) / f"big{args.trials}.db"
    if not path.exists():
        start = time.perf_counter()
        build(path, args.trials)
        print(f"built {path} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    load_before = os.getloadavg()[0]
    if args.baseline:
        result = side_by_side(path, args.trials, args.baseline, args.repeat)
        name = f"dashboard_paint_{args.trials}.json"
    else:
        result = {"trials": args.trials, **measure(path, args.trials), **browser_paint(path)}
        name = f"dashboard_scale_{args.trials}.json"
    finish(result, load_before, name if args.write else None)


def finish(result: dict, load_before: float, name: str | None) -> None:
    """Add the load average (the higher of before and now) and the machine, print the
    result as one JSON line, and write it to ``results/NAME`` when a name is given."""
    result["load_average"] = round(max(load_before, os.getloadavg()[0]), 1)
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    print(json.dumps(result))
    if name is not None:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / name).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
