"""Results at scale (issue 26): how fast `hpo-run report`, the HTML report and the
dashboard open a study of 1,000 / 10,000 / 100,000 trials.

Builds each study once on SQLite through the public API (`optimize`, the `random`
strategy, a cheap objective of four parameters, one of them categorical; every 10th
trial reports three steps and is pruned, every 10th another five steps and completes,
every 50th fails) and caches the files under a temporary directory. Then, in one run and
each in its own process, times:

- load: `load_study` alone (in-process CPU seconds, printed by the child);
- text: `hpo-run report --storage DB --study scale`;
- html: `hpo-run report --storage DB --study scale --html FILE`;
- dashboard: `hpo-run dashboard --port P` started as a subprocess; once it listens, the
  requests the study page makes first (`/study/scale`, `/api/studies/scale/trials`, then
  `/api/studies/scale/figures`), timed from the first GET to the last byte.

Each command's CPU seconds and peak resident memory come from `os.wait4` (the server's
from /proc). `--baseline REV` runs the same commands on the `hpo_framework` package of a
git revision (exported with `git archive` into a temporary directory and put first on
PYTHONPATH), side by side in the same run.

    .venv/bin/python benchmarks/results_scale.py                     # 1k, 10k, 100k
    .venv/bin/python benchmarks/results_scale.py --sizes 1000,10000 --baseline HEAD~3

Writes benchmarks/results/results-scale.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CACHE = Path(tempfile.gettempdir()) / "hpo-results-scale"
STUDY = "scale"
SPACE = {"x": {"type": "float", "low": -5, "high": 5},
         "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
         "layers": {"type": "int", "low": 1, "high": 8},
         "optimizer": {"type": "categorical", "choices": ["sgd", "adam", "rmsprop"]}}
PENALTY = {"sgd": 0.5, "adam": 0.0, "rmsprop": 0.2}


def objective(params: dict, trial: object) -> float:
    from hpo_framework.errors import TrialPruned

    n = trial.number
    base = (params["x"] - 1) ** 2 + abs(math.log10(params["lr"]) + 2) \
        + 0.1 * params["layers"] + PENALTY[params["optimizer"]]
    if n % 10 == 7:
        for step in range(3):
            trial.report(base + 1.0 / (step + 1), step)
        raise TrialPruned("pruned at step 2")
    if n % 50 == 13:
        raise ValueError("diverged")
    if n % 10 == 3:
        for step in range(5):
            trial.report(base + 1.0 / (step + 1), step)
    return base


def build(n: int) -> tuple[Path, float | None]:
    """The cached study of ``n`` trials (built when missing): its path, build seconds."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"scale-{n}.db"
    took_file = path.with_suffix(".build-cpu-s")
    if path.is_file():
        return path, float(took_file.read_text()) if took_file.is_file() else None
    sys.path.insert(0, str(ROOT))
    from hpo_framework.api import optimize

    partial = path.with_suffix(".partial.db")
    for p in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        p.unlink(missing_ok=True)
    start = time.process_time()
    optimize(objective, SPACE, strategy="random", n_trials=n, storage=partial, study=STUDY,
             seed=0)
    took = time.process_time() - start
    partial.rename(path)
    took_file.write_text(f"{took:.2f}")
    return path, took


def timed(cmd: list[str], env: dict[str, str]) -> dict:
    """Like :func:`run`, with the child's own CPU seconds and peak RSS from wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=ROOT)
    out_chunks, err_chunks = [], []
    # read both pipes to the end (a report may print more than a pipe holds), then reap
    import threading

    def drain(stream: object, into: list) -> None:
        into.append(stream.read())

    threads = [threading.Thread(target=drain, args=(proc.stdout, out_chunks)),
               threading.Thread(target=drain, args=(proc.stderr, err_chunks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = b"".join(err_chunks).decode()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_mib": usage.ru_maxrss / 1024, "out": b"".join(out_chunks).decode(),
            "err": err}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dashboard(db: Path, env: dict[str, str]) -> dict:
    """Start the dashboard, wait until it listens, time the study page's first GETs."""
    port = free_port()
    server = subprocess.Popen([str(VENV_BIN / "hpo-run"), "dashboard", "--storage", str(db),
                               "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise SystemExit(f"dashboard exited: {server.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("dashboard did not listen within 120 s") from None
                time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        cpu0 = proc_cpu(server.pid)
        out: dict = {"requests": []}
        start = time.perf_counter()
        for path in (f"/study/{STUDY}", f"/api/studies/{STUDY}/trials",
                     f"/api/studies/{STUDY}/figures"):
            t0 = time.perf_counter()
            with urllib.request.urlopen(base + path, timeout=600) as r:
                body = r.read()
            out["requests"].append({"path": path, "wall_s": time.perf_counter() - t0,
                                    "bytes": len(body)})
            if path.endswith("/figures"):
                answer = json.loads(body)
                out["figures"] = sorted(answer["figures"])
                out["pending"] = sorted(answer.get("pending") or [])
        out["wall_s"] = time.perf_counter() - start
        out["cpu_s"] = proc_cpu(server.pid) - cpu0
        # a dashboard that sends the costly figures later ("pending"): poll as the page
        # does until every figure came, and time that too
        polls = 0
        while out["pending"] and polls < 600:
            time.sleep(0.2)
            polls += 1
            with urllib.request.urlopen(f"{base}/api/studies/{STUDY}/figures",
                                        timeout=600) as r:
                answer = json.loads(r.read())
            out["pending"] = sorted(answer.get("pending") or [])
            out["figures"] = sorted(answer["figures"])
        out["all_wall_s"] = time.perf_counter() - start
        out["all_cpu_s"] = proc_cpu(server.pid) - cpu0
        out["peak_mib"] = proc_peak_mib(server.pid)
        return out
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


LOAD = ("import sys, time; from hpo_framework.results import load_study; "
        "t = time.process_time(); v = load_study(sys.argv[1], 'scale'); "
        "print(len(v.trials), time.process_time() - t)")


def measure(db: Path, env: dict[str, str], out_dir: Path) -> dict:
    python = str(VENV_BIN / "python")
    hpo = str(VENV_BIN / "hpo-run")
    load = timed([python, "-c", LOAD, str(db)], env)
    n, load_cpu = load["out"].split()
    text = timed([hpo, "report", "--storage", str(db), "--study", STUDY], env)
    html_path = out_dir / f"{db.stem}.html"
    html = timed([hpo, "report", "--storage", str(db), "--study", STUDY, "--html",
                  str(html_path)], env)
    return {"trials": int(n), "load_cpu_s": float(load_cpu), "load": load, "text": text,
            "text_lines": text["out"].count("\n"), "html": html,
            "html_mib": html_path.stat().st_size / 2**20, "dashboard": dashboard(db, env)}


def baseline_tree(rev: str, into: Path) -> Path:
    """The hpo_framework package of ``rev``, exported into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", rev, "hpo_framework"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def fmt_row(label: str, n: int, m: dict) -> str:
    d = m["dashboard"]
    figs = next(r for r in d["requests"] if r["path"].endswith("/figures"))
    return (f"| {label} | {n:,} | {m['load_cpu_s']:.2f} | {m['load']['peak_mib']:.0f} | "
            f"{m['text']['cpu_s']:.2f} / {m['text']['wall_s']:.2f} | "
            f"{m['text']['peak_mib']:.0f} | {m['text_lines']} | "
            f"{m['html']['cpu_s']:.2f} / {m['html']['wall_s']:.2f} | "
            f"{m['html']['peak_mib']:.0f} | {m['html_mib']:.1f} | "
            f"{d['cpu_s']:.2f} / {d['wall_s']:.2f} | {d['all_cpu_s']:.2f} / "
            f"{d['all_wall_s']:.2f} | {figs['bytes'] / 2**20:.1f} | {d['peak_mib']:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--baseline", default=None,
                    help="a git revision whose results code runs beside this tree's")
    ap.add_argument("--baseline-max", type=int, default=10000,
                    help="the largest study the baseline is run on")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "results-scale.md"))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    builds = {}
    for n in sizes:
        path, took = build(n)
        builds[n] = took
        print(f"study of {n:,} trials: {path}"
              + ("" if took is None else f" (built in {took:.1f} CPU s)"), flush=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120", "NO_COLOR": "1"}
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        variants = [("this tree", env, max(sizes))]
        rev = None
        if args.baseline:
            rev = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout.strip()
            old = baseline_tree(args.baseline, tmp / "baseline")
            variants.append((f"baseline {rev}", {**env, "PYTHONPATH": str(old)},
                             args.baseline_max))
        for n in sizes:
            for label, variant_env, largest in variants:
                if n > largest:
                    continue
                m = measure(CACHE / f"scale-{n}.db", variant_env, tmp)
                results[(label, n)] = m
                row = fmt_row(label, n, m)
                rows.append(row)
                print(row, flush=True)
                print("   dashboard requests: " + ", ".join(
                    f"{r['path']} {r['wall_s']:.2f} s {r['bytes'] / 1024:.0f} KiB"
                    for r in m["dashboard"]["requests"]), flush=True)
    ours = {n: results[("this tree", n)] for n in sizes}
    figures = ", ".join(ours[sizes[-1]]["dashboard"].get("figures", []))
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    lines = [
        "# Results at scale: report, HTML report and dashboard on 1k-100k trials",
        "",
        f"Written by `benchmarks/results_scale.py` (`{' '.join(sys.argv[1:]) or 'no options'}`) "
        f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {cpu}, "
        f"{os.cpu_count()} cores shared with other work (wall times are inflated by the "
        "load; CPU seconds are the fairer measure), Python "
        f"{platform.python_version()}.",
        "",
        "Each study: SQLite, `random` strategy, 4 parameters (x float, lr log float, layers "
        "int, optimizer categorical of 3), 10% pruned after 3 reported steps, 10% more "
        "reporting 5 steps, 2% failed. Every command runs in its own process (interpreter "
        "and imports included). Times are `CPU s / wall s`; peak is the process' peak "
        "resident memory (MiB). Dashboard: the server's CPU and wall time for the study "
        "page's first requests (`/study/scale`, `/api/studies/scale/trials`, "
        "`/api/studies/scale/figures`), after it listens; every figure: until the "
        "figures answer has no figure `pending` (a dashboard that sends costly figures "
        "later), polled every 0.2 s; figures MiB is the first figures answer's size.",
        "",
        "| code | trials | load CPU s | load peak | text report | text peak | text lines | "
        "HTML report | HTML peak | HTML MiB | dashboard first figures | every figure | "
        "figures MiB | server peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Figures the dashboard sends for the largest study: {figures}.",
        "",
        "Build (CPU s, `optimize` with the random strategy on SQLite; cached under "
        f"`{CACHE}` for later runs): " + ", ".join(
            f"{n:,}: " + ("built before, time not kept" if t is None else f"{t:.1f}")
            for n, t in builds.items())
        + ".",
    ]
    if rev:
        ratios = []
        for n in sizes:
            old = results.get((f"baseline {rev}", n))
            if old is None:
                continue
            new = ours[n]
            ratios.append(
                f"- {n:,} trials, CPU seconds baseline / this tree: text report "
                f"{old['text']['cpu_s'] / new['text']['cpu_s']:.1f}x, HTML report "
                f"{old['html']['cpu_s'] / new['html']['cpu_s']:.1f}x, dashboard first figures "
                f"{old['dashboard']['cpu_s'] / new['dashboard']['cpu_s']:.1f}x, every figure "
                f"{old['dashboard']['all_cpu_s'] / new['dashboard']['all_cpu_s']:.1f}x")
        lines += ["", "How much less CPU this tree takes than the baseline:", "", *ratios]
        lines += ["", f"The baseline is the `hpo_framework` package of `{rev}` (before the "
                      "results-at-scale changes; exported with `git archive`, first on "
                      "PYTHONPATH; the plugins, the dashboard included, are this tree's in both): "
                      "the same stored studies, the same commands, in the same "
                      f"run, up to {args.baseline_max:,} trials."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
