"""Benchmark: the dashboard server's CPU on a big study that keeps changing (issue 26).

On a copy of the 10,000-trial study of ``dashboard_scale.py`` (built there if missing),
a writer in this process holds the study's lease and adds trials as a driver does, while
``hpo-run dashboard`` serves it; measured from /proc (user + system CPU of the server):

- ``per_version``: one more trial finishes; the page's request (figures and the first 100
  rows, ``If-None-Match``, ``have=``) is repeated every 0.25 s until it shows the new
  version; the server's CPU from the write until it is idle again (load, rows, figures,
  importances), the median of ``--versions`` such trials;
- ``busy``: a trial finishes every ``--every`` s for ``--seconds`` s while one page polls
  every second as the page does; the server's CPU per second, and the versions the page
  saw.

The dashboard plugin and the framework as at git revision ``--baseline`` (a worktree,
first on ``PYTHONPATH``) and as they are now, each on a fresh copy of the same file::

    nice -n 10 .venv/bin/python benchmarks/dashboard_incremental.py --baseline HEAD~1 --write
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_scale import (  # noqa: E402
    ROOT,
    baseline_checkout,
    build,
    finish,
    get,
    server_cpu,
)

HPO_RUN = Path(sys.executable).parent / "hpo-run"


def serve(path: Path, tree: Path | None) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ)
    if tree is not None:  # the baseline's framework and plugin first
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [
            str(tree), str(tree / "plugins" / "hpo-dashboard"), env.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([str(HPO_RUN), "dashboard", "--storage", str(path), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    url = proc.stdout.readline().split()[1]
    idle(proc)
    return proc, url


def idle(proc: subprocess.Popen, looks: int = 4) -> float:
    """Wait until the server's CPU time stays put for ``looks`` looks 0.25 s apart."""
    last, still = server_cpu(proc), 0
    while still < looks:
        time.sleep(0.25)
        now = server_cpu(proc)
        still, last = (still + 1, last) if now == last else (0, now)
    return last


class Writer:
    """The study's driver: adds trials to it, each RUNNING then COMPLETE."""

    def __init__(self, path: Path) -> None:
        from hpo_framework.study.storage import Storage

        self.storage = Storage(path)
        self.record = self.storage.get_study("big")
        self.storage.acquire_lease(self.record.study_id, "big")
        self.next = max(t.number for t in self.storage.load_trials(self.record.study_id)) + 1
        self.running = None

    def start(self) -> None:
        from hpo_framework.contracts.trial import Trial, TrialState
        from hpo_framework.study.storage import now

        n = self.next
        self.next += 1
        self.running = Trial(number=n, state=TrialState.RUNNING, datetime_start=now(),
                             attempts=1, params={"learning_rate": 0.01, "dropout": 0.1,
                                                 "units": 8 + n % 200, "optimizer": "adam"})
        self.storage.add_trial(self.record.study_id, self.running)

    def finish(self) -> None:
        from hpo_framework.contracts.trial import TrialState
        from hpo_framework.study.storage import now

        t = self.running
        t.state, t.value, t.values = TrialState.COMPLETE, -0.5 - t.number * 1e-6, None
        t.intermediate = [{"step": s, "value": t.value * (1 - 0.5 ** (s + 1))}
                          for s in range(5)]
        t.datetime_complete, t.duration = now(), 0.2
        self.storage.update_trial(self.record.study_id, t)
        self.running = None

    def close(self) -> None:
        self.storage.release_leases()
        self.storage.close()


class Page:
    """The study page's request, as the page sends it (etag, the figures it holds)."""

    def __init__(self, url: str) -> None:
        self.api = url + "api/studies/big/figures?nested=1&limit=100"
        self.etag = self.tag = self.version = None
        self.versions: set[str] = set()

    def ask(self) -> int:
        url = self.api + (f"&have={self.tag}" if self.tag else "")
        status, body, etag, _ = get(url, self.etag)
        if status == 200:
            answer = json.loads(body)
            self.etag, self.tag = etag, answer["figures_tag"]
            self.version = answer["version"]
            self.versions.add(self.version)
        return status


def per_version(path: Path, tree: Path | None, versions: int) -> dict:
    proc, url = serve(path, tree)
    writer = Writer(path)
    try:
        page = Page(url)
        writer.start()
        page.ask()  # the page's first answer, then every figure and the importances
        while json.loads(get(page.api)[1])["all"]["pending"]:
            time.sleep(0.25)
        writer.finish()
        page.ask()
        costs, waits = [], []
        for _ in range(versions):
            before = idle(proc)
            shown = page.version
            start = time.perf_counter()
            writer.start()
            writer.finish()
            while page.ask() != 200 or page.version == shown:
                time.sleep(0.25)
            waits.append(time.perf_counter() - start)
            costs.append(idle(proc) - before)
        return {"cpu_per_version_s": round(statistics.median(costs), 3),
                "cpu_each_s": [round(c, 3) for c in costs],
                "seen_after_s": round(statistics.median(waits), 2)}
    finally:
        writer.close()
        proc.terminate()
        proc.wait(timeout=30)


def busy(path: Path, tree: Path | None, seconds: float, every: float) -> dict:
    proc, url = serve(path, tree)
    writer = Writer(path)
    try:
        page = Page(url)
        page.ask()
        while json.loads(get(page.api)[1])["all"]["pending"]:
            time.sleep(0.25)
        idle(proc)
        stop = threading.Event()

        def polling() -> None:
            while not stop.wait(1.0):
                page.ask()

        page.versions.clear()
        poller = threading.Thread(target=polling, daemon=True)
        cpu0, start, finished = server_cpu(proc), time.monotonic(), 0
        poller.start()
        writer.start()
        while time.monotonic() - start < seconds:
            time.sleep(every)
            writer.finish()
            writer.start()
            finished += 1
        stop.set()
        poller.join()
        elapsed, cpu = time.monotonic() - start, server_cpu(proc) - cpu0
        return {"busy_seconds": round(elapsed, 1), "busy_trials_finished": finished,
                "busy_server_cpu_s": round(cpu, 2),
                "busy_cpu_per_s": round(cpu / elapsed, 3),
                "busy_versions_seen": len(page.versions)}
    finally:
        writer.close()
        proc.terminate()
        proc.wait(timeout=30)


def _commit(tree: Path) -> str:
    return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10000)
    parser.add_argument("--dir", default="/tmp/hpo-dashboard-scale")
    parser.add_argument("--baseline", default="HEAD~1",
                        help="git revision measured beside the working tree")
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=0.2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    source = Path(args.dir) / f"big{args.trials}.db"
    if not source.exists():
        build(source, args.trials)
    work = Path(tempfile.mkdtemp(prefix="hpo-dashboard-inc-"))
    load_before = os.getloadavg()[0]
    with baseline_checkout(args.baseline) as tree:
        out: dict = {"trials": args.trials, "baseline": args.baseline,
                     "baseline_commit": _commit(tree), "now_commit": _commit(ROOT)}
        for which, code in (("before", tree), ("now", None)):
            db = work / f"{which}.db"
            shutil.copy(source, db)
            for key, value in per_version(db, code, args.versions).items():
                out[f"{which}_{key}"] = value
            db = work / f"{which}-busy.db"
            shutil.copy(source, db)
            for key, value in busy(db, code, args.seconds, args.every).items():
                out[f"{which}_{key}"] = value
            print(json.dumps(out), file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    out["per_version_ratio_now_to_before"] = round(
        out["now_cpu_per_version_s"] / out["before_cpu_per_version_s"], 3)
    out["busy_ratio_now_to_before"] = round(
        out["now_busy_cpu_per_s"] / out["before_busy_cpu_per_s"], 3)
    finish(out, load_before, f"dashboard_incremental_{args.trials}.json" if args.write
           else None)


if __name__ == "__main__":
    main()
