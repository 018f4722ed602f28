"""Run the tutorial's commands and write docs/tutorial.md from what they printed.

    make tutorial                                # everything (about 25 min on 2 cores)
    .venv/bin/python scripts/tutorial.py --render  # rewrite the doc from the recorded results

Each section's command runs with ``hpo-run ... --json`` in a fresh working folder
(``build/tutorial`` unless ``--workdir``); every study it made is then read back with
``hpo-run report --json``. Both are recorded in ``docs/tutorial/results.json`` with the
wall time and the machine. Figures are copied from the commands' ``--output`` folders
into ``docs/tutorial/``. The doc is rendered from ``docs/tutorial/tutorial.md.in``: every
``{{ name }}`` there is a value computed from the recorded results by :func:`facts`, so
``docs/tutorial.md`` never holds a number the commands did not print
(``tests/test_tutorial.py`` checks this). Rerun it whenever a strategy or backend changes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FIGURES = DOCS / "tutorial"
RESULTS = FIGURES / "results.json"
TEMPLATE = FIGURES / "tutorial.md.in"
OUTPUT = DOCS / "tutorial.md"
HPO_RUN = Path(sys.executable).parent / "hpo-run"
SPACE = "docs/tutorial/notebook-space.yaml"

#: key, the command's arguments (after hpo-run), the studies it makes
SECTIONS: list[tuple[str, list[str], list[str]]] = [
    ("keras12", ["--strategy", "grid,bayes,genetic", "--backend", "keras", "--dataset", "digits",
                 "--space", SPACE, "--trials", "12", "--seed", "0", "--storage", "tutorial.db",
                 "--output", "keras-12"],
     ["compare-keras-digits-grid", "compare-keras-digits-bayes", "compare-keras-digits-genetic"]),
    ("keras54", ["--strategy", "grid,bayes,genetic", "--backend", "keras", "--dataset", "digits",
                 "--space", SPACE, "--trials", "54", "--seed", "0", "--storage", "tutorial.db",
                 "--study", "full-grid", "--output", "keras-54"],
     ["full-grid-grid", "full-grid-bayes", "full-grid-genetic"]),
    ("small", ["--strategy", "bayes,genetic", "--backend", "keras", "--dataset", "digits",
               "--space", SPACE, "--trials", "12", "--seed", "0", "-S", "bayes.n_initial_points=4",
               "-S", "genetic.population_size=4", "--storage", "tutorial.db", "--study",
               "small-budget", "--output", "small"],
     ["small-budget-bayes", "small-budget-genetic"]),
    ("repeats", ["--strategy", "grid,bayes,genetic,random", "--backend", "sklearn", "--dataset",
                 "digits", "--trials", "12", "--repeats", "5", "--seed", "0", "--storage",
                 "tutorial.db", "--output", "sklearn-repeats"],
     [f"compare-sklearn-digits-{s}-seed{k}" for k in range(5)
      for s in ("grid", "bayes", "genetic", "random")]),
    ("heat", ["--strategy", "grid", "--backend", "keras", "--dataset", "digits", "--space",
              "docs/tutorial/two-params.yaml", "--seed", "0", "--storage", "tutorial.db",
              "--study", "lr-by-units", "--output", "heat"],
     ["lr-by-units"]),
]

#: figure in docs/tutorial/ <- file in the working folder
COPIES = {
    "keras12-best-so-far.png": "keras-12/best_so_far.png",
    "keras12-bayes-params.png": "keras-12/compare-keras-digits-bayes/params.png",
    "keras12-genetic-parallel.png": "keras-12/compare-keras-digits-genetic/parallel.png",
    "keras54-best-so-far.png": "keras-54/best_so_far.png",
    "keras54-genetic-generations.png": "keras-54/full-grid-genetic/generations.png",
    "sklearn-repeats-best-so-far.png": "sklearn-repeats/best_so_far.png",
    "lr-by-units-heatmap.png": "heat/heatmap.png",
}


def command_line(args: list[str]) -> str:
    return "hpo-run " + " ".join(args)


def run(workdir: Path, only: list[str] | None) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "docs").mkdir(exist_ok=True)
    shutil.copytree(FIGURES, workdir / "docs" / "tutorial", dirs_exist_ok=True)
    recorded = json.loads(RESULTS.read_text()) if RESULTS.exists() and only else {"sections": {}}
    recorded["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "platform": platform.platform()}
    for key, args, studies in SECTIONS:
        if only and key not in only:
            continue
        print(f"[{key}] {command_line(args)}", file=sys.stderr, flush=True)
        started = time.monotonic()
        proc = subprocess.run([str(HPO_RUN), *args, "--json"], cwd=workdir, capture_output=True,
                              text=True)
        wall = time.monotonic() - started
        if proc.returncode != 0:
            sys.exit(f"[{key}] failed:\n{proc.stderr}")
        reports = {}
        for name in studies:
            rep = subprocess.run([str(HPO_RUN), "report", "--storage", "tutorial.db", "--study",
                                  name, "--json"], cwd=workdir, capture_output=True, text=True,
                                 check=True)
            reports[name] = json.loads(rep.stdout)
        recorded["sections"][key] = {"command": command_line(args), "wall_s": round(wall, 1),
                                     "printed": json.loads(proc.stdout), "studies": reports}
        print(f"[{key}] {wall:.0f} s", file=sys.stderr, flush=True)
    recorded["recorded"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.write_text(json.dumps(recorded, indent=1) + "\n")
    for target, source in COPIES.items():
        if (workdir / source).is_file():
            shutil.copyfile(workdir / source, FIGURES / target)
    return recorded


# the facts the doc quotes ------------------------------------------------------------------
def f4(value: Any) -> str:
    """A score as the tables print it: 4 significant digits."""
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def config_text(config: dict[str, Any] | None) -> str:
    return "-" if not config else ", ".join(f"{k}={f4(v)}" for k, v in config.items())


def minutes(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def _study_facts(prefix: str, report: dict[str, Any]) -> dict[str, str]:
    out = {f"{prefix}.best": f4(report["best_validation"]),
           f"{prefix}.test": f4(report["test_score"]),
           f"{prefix}.config": config_text(report["best_config"]),
           f"{prefix}.best_trial": str(report["best_trial"]),
           f"{prefix}.trials": str(report["trials"]), f"{prefix}.failed": str(report["failed"]),
           f"{prefix}.wall": f"{report['wall_time_s']:.1f}"}
    stats = report.get("strategy_stats") or {}
    if "model_fits" in stats:
        out[f"{prefix}.model_fits"] = str(stats["model_fits"])
    gens = stats.get("generations") if isinstance(stats, dict) else None
    if "population_size" in stats:
        size = int(stats["population_size"])
        out[f"{prefix}.population"] = str(size)
        out[f"{prefix}.first_generation_last"] = str(size - 1)
    if isinstance(gens, list):
        out[f"{prefix}.generations"] = str(len(gens))
        out[f"{prefix}.fresh_generations"] = str(sum(1 for g in gens if g.get("evaluations")))
    for name in report["best_config"] or {}:
        seen = sorted({t[name] for t in report["trials_table"] if t.get(name) is not None},
                      key=lambda v: (str(type(v)), v))
        out[f"{prefix}.values.{name}"] = ", ".join(f4(v) for v in seen)
    values = [t[report["metric"]] for t in report["trials_table"]]
    best = report["best_validation"]
    if best is not None:
        out[f"{prefix}.reached_best_at"] = str(values.index(best))
        scores = [v for v in values if v is not None]
        out[f"{prefix}.worst"] = f4(min(scores))
    return out


def table(rows: list[dict[str, str]], columns: list[tuple[str, str]]) -> str:
    lines = ["| " + " | ".join(h for _, h in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(r[k] for k, _ in columns) + " |" for r in rows]
    return "\n".join(lines)


def facts(recorded: dict[str, Any]) -> dict[str, str]:
    """Every ``{{ name }}`` of the template, computed from the recorded results only."""
    out: dict[str, str] = {"recorded": recorded["recorded"][:10],
                           "cpus": str(recorded["machine"]["cpus"])}
    sections = recorded["sections"]
    cols = [("strategy", "strategy"), ("best", "best validation accuracy"),
            ("test", "test accuracy (best config retrained)"), ("config", "best configuration"),
            ("trials", "trials"), ("failed", "failed"), ("wall", "wall s")]
    for key, prefix in (("keras12", "compare-keras-digits-"), ("keras54", "full-grid-"),
                        ("small", "small-budget-")):
        sec = sections[key]
        out[f"{key}.command_wall"] = minutes(sec["wall_s"])
        rows = []
        for name, report in sec["studies"].items():
            strategy = name[len(prefix):]
            f = _study_facts(f"{key}.{strategy}", report)
            out.update(f)
            rows.append({"strategy": strategy, **{k.split(".")[-1]: v for k, v in f.items()}})
        out[f"{key}.table"] = table(rows, cols)
        scored = [(r["best_validation"], n[len(prefix):]) for n, r in sec["studies"].items()
                  if r["best_validation"] is not None]
        top = max(v for v, _ in scored)
        tied = [n for v, n in scored if v == top]  # a tie names every one of them
        out[f"{key}.winner"] = " and ".join(tied) + (" (tied)" if len(tied) > 1 else "")
    sec = sections["repeats"]
    out["repeats.command_wall"] = minutes(sec["wall_s"])
    agg = sec["printed"]["by_strategy"]
    rows = [{"strategy": a["strategy"], "runs": str(a["runs"]),
             "val": f"{f4(a['best_validation_median'])} [{f4(a['best_validation_min'])}, "
                    f"{f4(a['best_validation_max'])}]",
             "test": f"{f4(a['test_score_median'])} [{f4(a['test_score_min'])}, "
                     f"{f4(a['test_score_max'])}]", "trials": str(a["trials"])} for a in agg]
    out["repeats.table"] = table(rows, [("strategy", "strategy"), ("runs", "runs"),
                                        ("val", "best validation: median [min, max]"),
                                        ("test", "test: median [min, max]"),
                                        ("trials", "trials")])
    out["repeats.best_median"] = max(agg, key=lambda a: a["best_validation_median"])["strategy"]
    out["repeats.worst_median"] = min(agg, key=lambda a: a["best_validation_median"])["strategy"]
    winners = []
    for seed in sorted({r["seed"] for r in sec["printed"]["runs"]}):
        runs = [r for r in sec["printed"]["runs"] if r["seed"] == seed]
        top = max(runs, key=lambda r: (r["best_validation"], -runs.index(r)))
        winners.append(f"seed {seed}: {top['strategy']} ({f4(top['best_validation'])})")
    out["repeats.winners"] = "; ".join(winners)
    sec = sections["heat"]
    out["heat.command_wall"] = minutes(sec["wall_s"])
    out.update(_study_facts("heat", sec["studies"]["lr-by-units"]))
    return out


def render(recorded: dict[str, Any]) -> str:
    values = facts(recorded)
    template = TEMPLATE.read_text()
    missing = sorted(set(re.findall(r"\{\{ *([\w.]+) *\}\}", template)) - set(values))
    if missing:
        raise SystemExit(f"the template names values the results do not give: {missing}")
    return re.sub(r"\{\{ *([\w.]+) *\}\}", lambda m: values[m.group(1)], template)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--render", action="store_true",
                        help="only rewrite docs/tutorial.md from docs/tutorial/results.json")
    parser.add_argument("--only", nargs="*", choices=[k for k, _, _ in SECTIONS],
                        help="rerun these sections, keep the others' recorded results")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "tutorial")
    args = parser.parse_args()
    if args.render:
        recorded = json.loads(RESULTS.read_text())
    else:
        if not args.only and args.workdir.exists():
            shutil.rmtree(args.workdir)
        recorded = run(args.workdir, args.only)
    OUTPUT.write_text(render(recorded))
    print(f"wrote {OUTPUT.relative_to(ROOT)} from {RESULTS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
