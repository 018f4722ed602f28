"""Wall and CPU time of `hpo-run --help` and `hpo-run --list-plugins` (goal: --help under 0.2 s).

    .venv/bin/python benchmarks/cli_startup.py [--runs 20] [--rev REV ...] [--record]

Runs each command in a fresh process, prints min and median wall time and the median CPU
time (user + system of the child: less moved by other processes on a loaded machine), and
checks that no heavy library was imported on the way. Bytecode caching is on, as in a
user's install (the sandbox this project is built in sets PYTHONDONTWRITEBYTECODE=1, which
makes every start compile ~50 modules from source: about 60 ms more); one untimed run
warms the cache.

``--rev REV`` (repeatable) times the code of a git revision instead of the installed tree,
side by side in the same run: each revision is checked out in a temporary worktree, put
first on PYTHONPATH (links to the package and every plugin's modules) with the same
installed distributions and entry points; the runs of the revisions alternate, so a change
in the machine's load touches them alike. ``--record`` writes the table, with the date,
the load and the command, at the top of benchmarks/results/cli_startup.md.
"""

import argparse
import datetime
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "cli_startup.md"
HEAVY = ("tensorflow", "keras", "sklearn", "skopt", "deap", "dask", "distributed", "matplotlib")
COMMANDS = (["--help"], ["--list-plugins"])

ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}


def tree_env(tree: Path | None) -> dict[str, str]:
    """The environment that runs ``tree``'s code (None: the installed tree): one folder on
    PYTHONPATH with a link to each of its top-level modules and packages (one folder, not
    one per plugin: every import looks in each PYTHONPATH folder, which costs a start)."""
    if tree is None:
        return ENV
    links = tree.parent / f"{tree.name}-path"
    links.mkdir()
    for folder in (tree, *sorted(p for p in (tree / "plugins").iterdir() if p.is_dir())):
        for item in folder.iterdir():
            if item.name.startswith("hpo_") and (item.suffix == ".py"
                                                  or (item / "__init__.py").exists()):
                (links / item.name).symlink_to(item)
    return {**ENV, "PYTHONPATH": str(links)}


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``hpo-run ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(BIN / "hpo-run"), *args], capture_output=True, check=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def heavy_imports(args: list[str], env: dict[str, str]) -> list[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", str(BIN / "hpo-run"), *args],
                          capture_output=True, text=True, check=True, env=env)
    found = set()
    for line in proc.stderr.splitlines():
        name = line.rsplit("|", 1)[-1].strip()
        if name.split(".")[0] in HEAVY:
            found.add(name.split(".")[0])
    return sorted(found)


def worktree(rev: str, where: Path) -> Path:
    path = where / rev.replace("/", "_")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(path), rev],
                   check=True)
    return path


def check_tree(tree: Path, env: dict[str, str]) -> None:
    """The revision's own code runs (not the installed tree's)."""
    code = "import hpo_framework, hpo_dask, hpo_bayes; print(hpo_framework.__file__, " \
           "hpo_dask.__file__, hpo_bayes.__file__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env, cwd=tree.parent).stdout.split()
    if not all(Path(path).resolve().is_relative_to(tree.resolve()) for path in out):
        raise SystemExit(f"{tree}: the code comes from {out}, not from the revision")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rev", action="append", default=[],
                        help="a git revision to time side by side (repeatable)")
    parser.add_argument("--record", action="store_true",
                        help="write the table at the top of " + str(RESULTS.relative_to(ROOT)))
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cli-startup-")) if opts.rev else None
    trees: list[tuple[str, Path | None]] = []
    try:
        for rev in opts.rev:
            sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev],
                                 capture_output=True, text=True, check=True).stdout.strip()
            trees.append((f"{rev} ({sha})" if sha != rev else rev, worktree(rev, tmp)))
        if not trees:
            trees.append(("installed tree", None))
        envs = {label: tree_env(tree) for label, tree in trees}
        for label, tree in trees:
            if tree is not None:
                check_tree(tree, envs[label])
        load_before = os.getloadavg()[0]
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for args in COMMANDS:
            for label in envs:  # warm each tree's bytecode cache
                timed(args, envs[label])
            for _ in range(opts.runs):
                for label in envs:  # alternate: the trees see the same load
                    samples.setdefault((label, " ".join(args)), []).append(
                        timed(args, envs[label]))
        load_after = os.getloadavg()[0]
        rows = []
        for args in COMMANDS:
            for label in envs:
                walls, cpus = zip(*samples[(label, " ".join(args))], strict=True)
                heavy = ", ".join(heavy_imports(args, envs[label])) or "none"
                rows.append(f"| hpo-run {' '.join(args)} | {label} | {min(walls):.3f} | "
                            f"{statistics.median(walls):.3f} | {statistics.median(cpus):.3f} | "
                            f"{heavy} |")
    finally:
        for _, tree in trees:
            if tree is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(tree)], check=False)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "benchmarks/cli_startup.py " + " ".join(sys.argv[1:])
    header = (f"`.venv/bin/python {command.strip()}`, {now}, {os.cpu_count()} cores, load "
              f"{load_before:.2f} before / {load_after:.2f} after, {opts.runs} runs each"
              + (" (runs of the trees alternate):" if len(trees) > 1 else ":"))
    table = "\n".join(["| command | code | min s | median s | CPU median s | heavy imports |",
                       "|---|---|---|---|---|---|", *rows])
    print(header)
    print()
    print(table)
    if opts.record:
        old = RESULTS.read_text() if RESULTS.exists() else "# hpo-run start-up\n"
        title, _, rest = old.partition("\n")
        RESULTS.write_text(f"{title}\n\n{header}\n\n{table}\n\nBefore it:\n{rest}")


if __name__ == "__main__":
    main()
