"""Every example in README.md and docs/*.md runs, in the order written, and does what the
text says (issue 28, "Docs").

One test per page, in a fresh temporary directory, with the repo's venv first on PATH and
the clone's `docs/` and `examples/` linked in (the pages' commands are written to run
from a clone's root). The page's fenced blocks are taken in document order:

- a block whose first line is a comment naming a file (`# mynet.py`, `# boosters.yaml`)
  is a file the page tells the user to write: it is written into the directory. When the
  name is a path of this repository (`# docs/tutorial/notebook-space.yaml`), the block
  must instead be that file's text (so the page shows the file that is really there);
- a ```python block runs in one Python session per page, like a reader's interpreter
  (later blocks see what earlier ones defined), with the directory as cwd and on
  sys.path; it must raise nothing, and a `test_*` function it defines is then called (the
  plugin guides' conformance tests);
- a shell line (```bash or a plain block) that starts with a command (`hpo-run`,
  `python`, `pip`, `make`, `nice`, `dask`, `VAR=...`) runs with bash and must exit 0. A
  line `$ COMMAND` followed by lines is a transcript: the command must print those lines
  (numbers may differ: each number matches any number), and when they start with
  `Error:` it must fail with exactly that one line on stderr;
- every `hpo-run` search (not `report`, `--list-plugins`, ...) must end with a
  `stopped: REASON` line (never `stopped: None`) and never say "already complete" (a
  search that ran nothing is not what any page shows); with `--trials N` its table says
  `N trials`; a comparison (`--strategy a,b`, `all`, `--repeats`) prints its `winner:`
  line instead;
- CHECKS adds, per command, what the page's text says of its output (regexes);
- SUBSTITUTE replaces a page's placeholders (`NAME`) with what the page ran before.

Nothing is skipped silently: a block, or a command line, that is not run is listed in
NOT_RUN with the reason (keyed by the start of its first line, or of the command), and
an entry that no longer matches anything fails `test_not_run_entries_are_still_there`.
No marker is needed in the pages themselves.

The pages run examples as written (keras runs of 12-54 trials included), so this file
is the suite's most expensive. Measured on the shared 2-core machine at load 1.5-4:
README 225 s, backends 285 s, multi-objective 142 s; at load 10-35 (3-5x slower):
early-stopping 1,294 s (11 commands then, 9 now), user-guide 327 s, reports ~270 s,
distributed 207 s, metrics-and-data 148 s, the other ten pages 110 s together. See
`--durations` for a run's figures. At load 2-4 the six slow pages (SLOW_PAGES) took
11 minutes together, which would make the suite half as long again, so `make test` runs
the other pages (about 45 s) and the listing check, and skips the six with a line saying
so; `make doc-examples` runs every page.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAGES = ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))
LINKED = ("docs", "examples")  # the clone's folders the pages' commands name

COMMAND_WORDS = {"hpo-run", "python", "pip", "make", "nice", "dask"}
NOT_SEARCH = {"report", "dashboard", "--list-plugins", "--version", "--help"}
TIMEOUT_S = 900  # one command; a hung one fails rather than stalls the suite

# Blocks and command lines not run, with the reason; keyed by the start of the block's
# first line (or of the command line).
NOT_RUN: dict[str, dict[str, str]] = {
    "README.md": {
        "make run": "make run installs the venv and runs in the clone's root; make test is "
                    "the suite this file belongs to (the Makefile's targets are run by CI)",
        "hpo-run --scheduler tcp://HOST:8786": "needs a Dask cluster at a placeholder "
                                               "address; tests/test_dask.py covers --scheduler",
        "hpo-run dashboard": "a server that runs until Ctrl-C; tests/test_dashboard.py",
    },
    "docs/architecture.md": {
        "hpo-run (cli/)": "a picture of the layers, not code",
    },
    "docs/backends.md": {
        "n_layers: {type: int": "the sklearn default space, shown (not a file to write); "
                                "tests/test_backends.py checks the defaults",
        "learning_rate: {type: float, low: 0.001, high: 0.1": "the keras default space, shown",
        "Error: dataset 'mnist' is not cached": "the offline error's text; "
                                                 "tests/test_backends.py::test_mnist_offline_says_"
                                                 "which_file_to_put_where runs it",
        "pip install ./examples/hpo-randomforest": "installs into the shared venv; "
                                                   "tests/test_backends.py::test_randomforest_"
                                                   "example_package_installs_and_runs installs, "
                                                   "runs and uninstalls it",
        "n_estimators: {type: int, low: 50, high: 500}": "a default space, shown",
        "nice .venv/bin/python benchmarks/boosting.py": "a benchmark (minutes), run by hand "
                                                        "into benchmarks/results/",
    },
    "docs/boosting-history.md": {
        "nice .venv/bin/python benchmarks/boosting.py": "a benchmark (minutes), run by hand "
                                                        "into benchmarks/results/",
    },
    "docs/cli.md": {
        "hpo-run [OPTIONS]": "the synopsis",
        "trial 10 [11/12]": "progress lines, shown; tests/test_progress.py",
        "{": "the --json object's shape, shown; tests/test_cli.py",
    },
    "docs/dashboard.md": {
        "hpo-run --strategy bayes --trials 50 &": "starts a server that runs until Ctrl-C; "
                                                  "tests/test_dashboard.py runs the dashboard",
        '{"storage": "hpo.db"': "the JSON API's shape, shown; tests/test_dashboard.py",
        '{"study": {...one row': "the JSON API's shape, shown; tests/test_dashboard.py",
    },
    "docs/distributed.md": {
        "dask scheduler --port 8786": "a Dask cluster on several machines; tests/test_dask.py",
        "dask worker tcp://SCHEDULER-HOST": "a Dask cluster on several machines",
        "hpo-run --strategy bayes --backend keras --dataset digits --trials 100 \\":
            "needs the cluster above (placeholder address)",
        "from dask_jobqueue import SLURMCluster": "needs SLURM and dask-jobqueue",
    },
    "docs/early-stopping.md": {
        "from hpo_framework import TrialPruned, optimize": "a sketch: build, train_one_epoch "
                                                          "and space are the reader's; "
                                                          "tests/test_pruning.py",
        "from hpo_framework import TrialPaused, optimize": "a sketch: build, train_one_epoch "
                                                          "and space are the reader's; "
                                                          "tests/test_pausing.py",
    },
    "docs/metrics-and-data.md": {
        "hpo-run --backend sklearn --dataset houses.csv": "the reader's own files; "
            "tests/test_user_data.py runs CSV and Parquet tables with target= and drop=",
        "hpo-run --backend sklearn --dataset data.csv": "the reader's own file (the iris "
            "line before it runs); tests/test_user_data.py::test_kfold_over_every_row_with_test_size_"
            "zero_and_a_file_metric runs this on a CSV",
    },
    "docs/multi-objective.md": {
        "--metric accuracy,n_params ": "option synopsis",
    },
    "docs/plugins-pruners.md": {
        "class Pruner(Configurable)": "the contract's signatures, not code to run",
        "pauses = True": "the contract's signatures, not code to run",
    },
    "docs/plugins.md": {
        "[project]": "hpo-halton's pyproject.toml: pip installs into the shared venv; "
                     "tests/plugins/hpo-toy is such a package, installed by tests/test_plugins.py",
        "@hookimpl\ndef register_run_options": "an excerpt of the dask plugin",
        "class Strategy(Configurable)": "the contract's signatures, not code to run",
        "class Backend(Configurable)": "the contract's signatures, not code to run",
        "class Evaluator(Configurable)": "the contract's signatures, not code to run",
        "class Executor(Configurable)": "the contract's signatures, not code to run",
    },
    "docs/reports.md": {
        "winner: compare-sklearn-digits-random": "the winner lines' shape; checked on the "
                                                 "comparison above (CHECKS)",
        "Pareto front: 7 trials": "output of `report --study tradeoff`, checked in CHECKS",
        "hpo-run report --storage runs.db": "another database of the reader's (--storage "
                                            "PATH); tests/test_report.py reads other files",
    },
    "docs/strategies.md": {
        "from hpo_framework.testing import StrategyConformance": "a template: hpo_mystrategy "
                                                                "is the reader's plugin",
    },
    "docs/tutorial.md": {
        "hpo-run --strategy grid,bayes,genetic --backend keras --dataset digits \\":
            "the tutorial's runs take about 25 min: `make tutorial` (scripts/tutorial.py) "
            "runs them and rewrites the page; tests/test_results_tutorial.py checks it",
        "hpo-run --strategy bayes,genetic --backend keras": "run by make tutorial (above)",
        "hpo-run --strategy grid,bayes,genetic,random --backend sklearn": "run by make "
                                                                           "tutorial (above)",
        "hpo-run --strategy grid --backend keras --dataset digits \\": "run by make tutorial",
        "hpo-run report --storage tutorial.db": "reads the tutorial's studies: make tutorial",
        "hpo-run --strategy grid,bayes,genetic --backend keras --dataset mnist": "needs "
            "MNIST (not offline); tests/test_backends.py::test_mnist_from_a_local_npz",
    },
    "docs/user-guide.md": {
        "pip install -c constraints.txt": "installs into the venv (make install does it); "
                                          "tests/test_setup.py",
        "learning_rate: {type: float, low: 1.0e-3": "a space shown in the text, not named as "
                                                    "a file",
        "def objective(params, trial):": "a sketch: make_model, train_one_epoch and space are "
                                         "the reader's; tests/test_pruning.py",
        "study = hpo.create_study(space, strategy=\"bayes\"": "a sketch: space, evaluate and "
                                                           "final_score are the reader's",
        "def objective(trial):": "a sketch (`...` stands for training); from-optuna.md runs "
                                 "the full example",
        "study = hpo.optimize(lambda p: [accuracy(p)": "a sketch: accuracy, size and space "
                                                     "are the reader's; multi-objective.md runs "
                                                     "a full example",
        "study 'random-sklearn-digits' in hpo.db": "the line a reused default name prints; "
                                                  "tests/test_study.py",
    },
}

# What a page's text says of a command's output: regexes searched (re.M) in its stdout and
# stderr; keyed by the start of the command line (the first command that matches, in order).
CHECKS: dict[str, list[tuple[str, list[str]]]] = {
    "README.md": [
        ("hpo-run          ", [r"study auto-sklearn-digits: 20 trials",
                               r"^strategy auto: bayes for trials 0-"]),
        ("hpo-run --list-plugins", [r"^pruner asha-promote: recommended"]),
        ("hpo-run --strategy grid,bayes,genetic", [r"^winner: compare-keras-digits-\w+ "]),
        ("hpo-run report --study auto-sklearn-digits", [r"^best trial \d+: validation "]),
        ("python", [r"^\{'x': [\d.]+\} [\d.e-]+$"]),
    ],
    "docs/backends.md": [
        ("hpo-run --strategy bayes --backend sklearn --dataset digits --trials 20",
         [r"^best trial \d+: validation accuracy 0\.\d+$"]),
    ],
    "docs/early-stopping.md": [
        ("hpo-run --strategy bayes --backend keras --pruner asha ", [r"trial\(s\) pruned"]),
        ("hpo-run --list-plugins", [r"^pruner halving:", r"^pruner hyperband:"]),
    ],
    "docs/from-optuna.md": [
        ("python", [r"^\{'x': (1\.9[5-9]|2\.0[0-4])\d*\}$"]),  # within 0.05 of 2
    ],
    "docs/metrics-and-data.md": [  # "The metric's name in the study is what you wrote"
        ("hpo-run --backend sklearn --dataset diabetes --metric my_metrics.py:smape",
         [r"^best trial \d+: validation my_metrics.py:smape [\d.]+$"]),
        ("hpo-run --backend sklearn --dataset iris --metric my_metrics.py:confident_hits",
         [r"^best trial \d+: validation my_metrics.py:confident_hits 0\.\d+$"]),
        ("PYTHONPATH=. hpo-run --dataset iris --metric my_metrics:confident_hits",
         [r"^best trial \d+: validation my_metrics:confident_hits 0\.\d+$"]),
        ("hpo-run --backend sklearn --dataset iris -D test_size=0 --evaluator kfold",
         [r"^best trial \d+: validation accuracy"]),
    ],
    "docs/multi-objective.md": [
        ("python", [r"^\d+ \[0\.\d+, \d+(\.0)?\] \{'units': \d+, 'alpha': "]),  # the front
        # the best with <= 5,000 parameters: 75 * units + 10 <= 5000, units <= 66
        ("python", [r"^0\.\d+ \{'units': ([1-9]|[1-5]\d|6[0-6]), 'alpha': "]),
        ("hpo-run --backend keras --dataset digits --space mlp-space.yaml --strategy bayes "
         "     --trials 40 --seed 0 --metric accuracy,n_params",
         [r"┃ accuracy\s*┃ n_params\s*┃ feasible", r"^best trial \d+: validation accuracy"]),
        ("hpo-run --backend keras --dataset digits --space mlp-space.yaml --strategy bayes "
         "     --trials 40 --seed 0 --metric accuracy,latency_ms",
         [r"Pareto front", r"accuracy \(max\)", r"latency_ms \(min\)"]),
    ],
    "docs/reports.md": [
        ("hpo-run --strategy grid,bayes,genetic --backend keras --trials 12",
         [r"^winner: compare-keras-digits-(grid|bayes|genetic) \(\w+\), best validation "
          r"accuracy [\d.]+, test [\d.]+; the best validation score decides"]),
        ("hpo-run report --study tradeoff", [r"Pareto front: \d+ trials \(feasible, "
                                             r"non-dominated, COMPLETE\)",
                                             r"^hypervolume [\d.]+ against the reference point",
                                             r"^strategy random, 30 trials \(\d+ failed, \d+ "
                                             r"pruned\), finished"]),
    ],
}

SUBSTITUTE: dict[str, dict[str, str]] = {
    # the `report` synopsis's placeholders: studies the page's first commands made
    "docs/reports.md": {
        "--study NAME": "--study compare-keras-digits-bayes",
        "--study a,b,c": "--study compare-keras-digits-grid,compare-keras-digits-bayes,"
                         "compare-keras-digits-genetic",
    },
}


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    text: str

    @property
    def first(self) -> str:
        return next((ln.strip() for ln in self.text.splitlines() if ln.strip()), "")


def blocks(page: str) -> list[Block]:
    """The fenced blocks of a page, in order (indented fences, inside lists, too)."""
    out, lines, i = [], (ROOT / page).read_text().splitlines(), 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, j = m.group(1), i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        body = textwrap.dedent("\n".join(ln[len(indent):] if ln.startswith(indent) else ln
                                         for ln in lines[i + 1:j]))
        out.append(Block(i + 1, m.group(2), body + "\n"))
        i = j + 1
    return out


def named_file(block: Block) -> str | None:
    """`# name.ext` on a block's first line: the file the page tells the user to write."""
    m = re.match(r"#\s*([\w./-]+\.(py|ya?ml|toml|csv|txt|json))\s*$", block.first)
    return m.group(1) if m else None


def not_run_reason(page: str, text: str) -> str | None:
    for key, reason in NOT_RUN.get(page, {}).items():
        if text.startswith(key):
            return reason
    return None


def logical_lines(text: str) -> list[str]:
    """Shell lines with their `\\` continuations joined."""
    out, cur = [], ""
    for ln in text.splitlines():
        if ln.rstrip().endswith("\\"):
            cur += ln.rstrip()[:-1] + " "
        else:
            out.append(cur + ln)
            cur = ""
    return out + ([cur] if cur else [])


def is_command(line: str) -> bool:
    words = line.split()
    while words and re.match(r"^[A-Z_]+=", words[0]):
        words = words[1:]
    return bool(words) and words[0] in COMMAND_WORDS


@dataclass
class Step:
    kind: str  # "write", "same-file", "python", "shell"
    text: str
    line: int
    path: str | None = None
    expect: list[str] = field(default_factory=list)  # transcript lines


def steps(page: str) -> tuple[list[Step], list[tuple[int, str, str]]]:
    """What the page asks to run, in order; and (line, what, reason) of what is not run."""
    todo, skipped = [], []
    for b in blocks(page):
        key = b.text.strip()
        reason = not_run_reason(page, key) or not_run_reason(page, b.first)
        name = named_file(b)
        if name and (ROOT / name).exists() and name.split("/")[0] in ("docs", "examples"):
            todo.append(Step("same-file", b.text, b.line, path=name))
            continue
        if reason:
            skipped.append((b.line, b.first, reason))
            continue
        if name:
            todo.append(Step("write", b.text, b.line, path=name))
            continue
        if b.lang == "python":
            todo.append(Step("python", b.text, b.line))
            continue
        lines = logical_lines(b.text)
        if not any(is_command(ln.removeprefix("$ ")) for ln in lines):
            skipped.append((b.line, b.first, "NOT LISTED in NOT_RUN: neither a file, Python, "
                                              "nor a command"))
            continue
        for ln in lines:
            s = ln.strip()
            if s.startswith("$ "):
                todo.append(Step("shell", s[2:], b.line))
            elif is_command(s):
                r = not_run_reason(page, s)
                if r:
                    skipped.append((b.line, s, r))
                else:
                    todo.append(Step("shell", s, b.line))
            elif s and not s.startswith("#") and todo and todo[-1].kind == "shell" \
                    and todo[-1].line == b.line:
                todo[-1].expect.append(s)
    return todo, skipped


def number_pattern(line: str) -> str:
    """A shown output line as a regex: each number matches any number."""
    parts = re.split(r"(\d+(?:\.\d+)?(?:e[-+]?\d+)?)", line)
    return "".join(r"[-+\d.e]+" if i % 2 else re.escape(p) for i, p in enumerate(parts))


RUNNER = r'''
import io, json, sys, traceback, contextlib
sys.path.insert(0, ".")
ns = {"__name__": "__main__"}
for request in sys.stdin:
    path = json.loads(request)["path"]
    buf, ok = io.StringIO(), True
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            before = set(ns)
            exec(compile(open(path).read(), path, "exec"), ns)
            for name in sorted(set(ns) - before):
                if name.startswith("test_") and callable(ns[name]):
                    ns[name]()
                    print(f"[doc-test] called {name}()")
        except BaseException:
            ok = False
            traceback.print_exc()
    print(json.dumps({"ok": ok, "output": buf.getvalue()}), flush=True)
'''


class Session:
    """One Python interpreter per page, fed one block at a time."""

    def __init__(self, cwd: Path, env: dict):
        (cwd / "_doc_runner.py").write_text(RUNNER)
        self.cwd, self.n = cwd, 0
        self.proc = subprocess.Popen([str(BIN / "python"), "_doc_runner.py"], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, code: str) -> tuple[bool, str]:
        self.n += 1
        path = self.cwd / f"_doc_block_{self.n}.py"
        path.write_text(code)
        self.proc.stdin.write(json.dumps({"path": path.name}) + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            return False, f"the Python session died (exit {self.proc.wait()})"
        data = json.loads(reply)
        return data["ok"], data["output"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def search_checks(cmd: str, out: str) -> list[str]:
    """What every hpo-run search must print."""
    words = shlex.split(cmd, comments=True)
    if words[:1] != ["hpo-run"] or NOT_SEARCH & set(words[1:2] + words):
        return []
    problems = []
    if "already complete" in out:
        problems.append("says 'already complete': it ran nothing")
    strategy = words[words.index("--strategy") + 1] if "--strategy" in words else ""
    if "," in strategy or strategy == "all" or "--repeats" in words:  # a comparison
        if not re.search(r"^winner: \S+ \(\w+\), ", out, re.M):
            problems.append("no `winner: STUDY (STRATEGY), ...` line")
        return problems
    if not re.search(r"^stopped: \w+", out, re.M) or "stopped: None" in out:
        problems.append("no `stopped: REASON` line (or `stopped: None`)")
    if "--trials" in words:
        n = words[words.index("--trials") + 1]
        if not re.search(rf"study \S+: {n} trials?\b", out):
            problems.append(f"its table does not say `{n} trials`")
    return problems


def run_page(page: str, tmp: Path) -> tuple[list[str], list[str]]:
    """Run a page's examples in tmp; returns (failures, log)."""
    for name in LINKED:
        (tmp / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPO_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    env["PYTHONUNBUFFERED"] = "1"
    todo, _ = steps(page)
    checks = list(CHECKS.get(page, []))
    failures, log, session = [], [], None
    try:
        for step in todo:
            where = f"{page}:{step.line}"
            text = step.text
            for old, new in SUBSTITUTE.get(page, {}).items():
                text = text.replace(old, new)
            t0 = time.monotonic()
            if step.kind == "same-file":
                body = "\n".join(step.text.splitlines()[1:]).strip()
                if body not in (ROOT / step.path).read_text():
                    failures.append(f"{where}: the block is not the text of {step.path}")
                continue
            if step.kind == "write":
                target = tmp / step.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(step.text)
                continue
            if step.kind == "python":
                session = session or Session(tmp, env)
                ok, out = session.run(text)
                rc, label = (0 if ok else 1), "python"
                if not ok:
                    failures.append(f"{where}: the Python block raised:\n{out[-3000:]}")
            else:
                proc = subprocess.run(["bash", "-c", text], cwd=tmp, env=env, text=True,
                                      capture_output=True, timeout=TIMEOUT_S)
                rc, out, label = proc.returncode, proc.stdout + proc.stderr, text
                expect_fail = bool(step.expect) and step.expect[0].startswith("Error:")
                if expect_fail:
                    err = proc.stderr.strip().splitlines()
                    if rc == 0 or len(err) != 1:
                        failures.append(f"{where}: `{text}` should fail with one line, got "
                                        f"exit {rc}:\n{out[-2000:]}")
                elif rc != 0:
                    failures.append(f"{where}: `{text}` exited {rc}:\n{out[-3000:]}")
                for shown in step.expect:
                    if shown != "..." and not re.search(number_pattern(shown), out):
                        failures.append(f"{where}: `{text}` did not print the page's line "
                                        f"{shown!r}:\n{out[-2000:]}")
                if rc == 0:
                    failures += [f"{where}: `{text}`: {p}:\n{out[-2000:]}"
                                 for p in search_checks(text, out)]
            for i, (prefix, patterns) in enumerate(checks):
                if label.startswith(prefix) or (prefix == "python" and step.kind == "python"):
                    checks.pop(i)
                    failures += [f"{where}: `{label[:80]}` did not print {p!r}:\n{out[-2000:]}"
                                 for p in patterns if not re.search(p, out, re.M)]
                    break
            log.append(f"{time.monotonic() - t0:6.1f} s  exit {rc}  {where}  {label[:90]}")
            with open(tmp / "_doc_test.log", "a") as f:  # to follow a long page as it runs
                f.write(f"{log[-1]}\n{out}\n")
    finally:
        if session:
            session.close()
    failures += [f"{page}: CHECKS entry {p!r} matched no command" for p, _ in checks]
    return failures, log


#: pages whose examples train for minutes (wall seconds measured on the shared 2-core
#: machine, quiet to busy): `make test` skips them, saying so, to stay near 20 minutes;
#: `make doc-examples` (HPO_DOC_EXAMPLES=all) runs every page, these included
SLOW_PAGES = {
    "README.md": 88, "docs/backends.md": 128, "docs/multi-objective.md": 85,
    "docs/early-stopping.md": 115, "docs/user-guide.md": 58, "docs/reports.md": 184,
}


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run_as_written(page, tmp_path):
    if page in SLOW_PAGES and os.environ.get("HPO_DOC_EXAMPLES") != "all":
        pytest.skip(f"{page}'s examples train for about {SLOW_PAGES[page]} s: "
                    "`make doc-examples` runs every page")
    failures, log = run_page(page, tmp_path)
    print(f"{page}:\n" + "\n".join(log))
    assert not failures, "\n\n".join(failures) + "\n\nran:\n" + "\n".join(log)


def test_not_run_entries_are_still_there():
    """Every NOT_RUN entry names a block or command still on its page (no stale skip), every
    block that is neither run nor listed is flagged, and every listed page exists."""
    assert set(NOT_RUN) | set(CHECKS) | set(SUBSTITUTE) <= set(PAGES)
    problems = []
    for page in PAGES:
        _, skipped = steps(page)
        problems += [f"{page}:{line}: {what!r}: {reason}" for line, what, reason in skipped
                     if reason.startswith("NOT LISTED")]
        used = {reason for _, _, reason in skipped}
        texts = [b.text.strip() for b in blocks(page)] + [
            ln.strip() for b in blocks(page) for ln in logical_lines(b.text)]
        for key, reason in NOT_RUN.get(page, {}).items():
            if not any(t.startswith(key) for t in texts):
                problems.append(f"{page}: NOT_RUN entry {key!r} matches nothing on the page")
            elif reason not in used:
                problems.append(f"{page}: NOT_RUN entry {key!r} is never used")
        text = (ROOT / page).read_text()
        problems += [f"{page}: SUBSTITUTE {old!r} is not on the page"
                     for old in SUBSTITUTE.get(page, {}) if old not in text]
    assert not problems, "\n".join(problems)
