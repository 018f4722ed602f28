"""Per-trial training time by optimizer with the user guide's YAML space on the keras backend
(issue 28: sgd+momentum trials took about 5 s each against 0.1 s for the others).

The space is the user guide's (learning rate, depth, width, adam or sgd, a momentum searched
between 0 and 0.99 for sgd, 10 epochs) in the keras backend's parameter names. Each
variant runs the same `hpo-run --strategy random --backend keras --space SPACE --trials N
--seed S --no-final-test --verbose --json` in a fresh process, one after the other in this
run:

- ``before``: the keras plugin as it was at ``--before`` (the commit before the fix),
  exported with `git archive` and put first on PYTHONPATH;
- ``after``: the plugin of this working tree.

Each variant starts with an empty persistent JAX compilation cache of its own (``-B
compile_cache=DIR``): it compiles what it needs, as a user's first run does. Per optimizer it reports the
trials' recorded ``train_s`` (wall time of fit and score, as every trial records it), and
per variant the compiles the backend announced (``keras: compiling the training program``)
and the CPU time of the whole process (the machine is shared, so CPU time is the steadier
figure).

    .venv/bin/python benchmarks/keras_optimizers.py [--trials 20] [--seed 0]
        [--before 9c13694] [--write benchmarks/results/keras_optimizers.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPACE = """\
learning_rate: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}
num_dense_layers: {type: int, low: 0, high: 3}
num_dense_nodes: {type: int, low: 5, high: 15}
optimizer: {type: categorical, choices: [adam, sgd]}
momentum: {type: float, low: 0.0, high: 0.99, condition: {optimizer: sgd}}
epochs: 10
"""
BEFORE = "9c13694"  # the last commit before the momentum became data in the programs


def export_plugin(rev: str, into: Path) -> Path:
    """The keras plugin's package as it was at ``rev``: the folder to put on PYTHONPATH."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "plugins/hpo-keras/hpo_keras"],
                             check=True, capture_output=True).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "plugins" / "hpo-keras"


def run(variant: str, pythonpath: Path | None, space: Path, args: argparse.Namespace,
        work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    hpo_run = str(Path(sys.executable).with_name("hpo-run"))
    # which hpo_keras the run imports: the exported one for 'before'
    where = subprocess.run([sys.executable, "-c", "import hpo_keras; print(hpo_keras.__file__)"],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    cmd = [hpo_run, "--strategy", "random", "--backend", "keras", "--space", str(space),
           "--trials", str(args.trials), "--seed", str(args.seed), "--no-final-test",
           "--storage", str(work / f"{variant}.db"), "--study", variant,
           "-B", f"compile_cache={work / ('cache-' + variant)}", "--verbose", "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=work)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{variant}: hpo-run failed:\n{proc.stderr[-3000:]}")
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    by_kind: dict[str, list[float]] = {}
    for t in data["trials"]:
        if t["state"] == "COMPLETE":
            by_kind.setdefault(t["params"]["optimizer"], []).append(t["metrics"]["train_s"])
    compiles = sum("keras: compiling the training program" in ln
                   for ln in proc.stderr.splitlines())
    return {"variant": variant, "module": where, "wall_s": wall,
            "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "compiles": compiles, "train_s": by_kind,
            "states": [t["state"] for t in data["trials"]]}


def summary(r: dict) -> list[str]:
    lines = [f"- {r['variant']}: {r['compiles']} compiles announced; whole run {r['wall_s']:.1f} s "
             f"wall, {r['cpu_s']:.1f} s CPU ({r['module']})"]
    for kind, times in sorted(r["train_s"].items()):
        lines.append(f"  - {kind}: {len(times)} trials, train_s median {statistics.median(times):.3f}"
                     f" s, mean {statistics.mean(times):.3f} s, max {max(times):.3f} s, "
                     f"total {sum(times):.1f} s")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--before", default=BEFORE, help="the commit of the 'before' plugin")
    ap.add_argument("--write", default=None, help="append the figures to this markdown file")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        space = work / "space.yaml"
        space.write_text(SPACE)
        old = export_plugin(args.before, work / "before")
        results = [run("before", old, space, args, work), run("after", None, space, args, work)]
    lines = [f"- {platform.machine()} {os.cpu_count()} CPUs (shared with other agents' work), "
             f"digits, random strategy, {args.trials} trials, seed {args.seed}, 10 epochs, "
             f"before = {args.before}"]
    for r in results:
        lines += summary(r)
    med = {r["variant"]: {k: statistics.median(v) for k, v in r["train_s"].items()}
           for r in results}
    for variant in ("before", "after"):
        m = med[variant]
        if "sgd" in m and "adam" in m:
            lines.append(f"- {variant}: median sgd trial / median adam trial = "
                         f"{m['sgd'] / m['adam']:.1f}x")
    b, a = results
    lines.append(f"- CPU time of the whole run, after / before: {a['cpu_s'] / b['cpu_s']:.3f}")
    print("\n".join(lines))
    if args.write:
        from keras_trial import append_section

        append_section(args.write, lines)


if __name__ == "__main__":
    main()
