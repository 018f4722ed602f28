"""Benchmark: opening the HTML report of a big study in a browser, side by side with the
code of an earlier revision.

The study is the one ``dashboard_scale.py`` builds (N trials of ``random`` on SQLite, kept
under --dir). ``hpo-run report --html`` writes the report twice: with the code at git
revision REV (a worktree of it, first on ``PYTHONPATH``) and with the code now. Each is
opened ``--repeat`` times, alternating, each time in a fresh headless Chromium (nothing
cached), and timed from opening the file to its first chart drawn and to every chart
drawn. Wall seconds, with the load average beside them, and the file sizes.

::

    .venv/bin/python benchmarks/report_paint.py --trials 10000 --baseline f5d58a3 --write
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HPO_RUN = Path(sys.executable).parent / "hpo-run"
FIRST = "document.querySelector('.js-plotly-plot .main-svg')"


def write_report(db: Path, out: Path, core: Path | None) -> None:
    env = dict(os.environ)
    if core is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(core), env.get("PYTHONPATH")]))
    subprocess.run([str(HPO_RUN), "report", "--storage", str(db), "--study", "big", "--html",
                    str(out)], check=True, env=env, capture_output=True)


def open_once(page: Path) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import Browser

    with Browser(timeout=600) as b:
        b.call("Emulation.setDeviceMetricsOverride", session=True, width=1400, height=1800,
               deviceScaleFactor=1, mobile=False)
        start = time.perf_counter()
        b.goto(page.as_uri())
        b.wait_for(FIRST)
        first = time.perf_counter() - start
        count = page.read_text().count("<figure class='figure'")
        b.wait_for("[...document.querySelectorAll('figure.figure > div')].filter(d => "
                   f"d._fullLayout && d.querySelector('.main-svg')).length >= {count}")
        return {"first_chart_s": round(first, 3),
                "every_chart_s": round(time.perf_counter() - start, 3), "charts": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10000)
    parser.add_argument("--dir", default="/tmp/hpo-dashboard-scale")
    parser.add_argument("--baseline", required=True, help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from dashboard_scale import baseline_checkout, build, finish

    db = Path(args.dir) / f"big{args.trials}.db"
    if not db.exists():
        Path(args.dir).mkdir(parents=True, exist_ok=True)
        build(db, args.trials)
    tmp = Path(tempfile.mkdtemp(prefix="hpo-report-paint-"))
    pages = {"before": tmp / "before.html", "now": tmp / "now.html"}
    load = os.getloadavg()[0]
    with baseline_checkout(args.baseline) as tree:
        write_report(db, pages["before"], tree)
    write_report(db, pages["now"], None)
    runs: dict[str, list[dict]] = {k: [] for k in pages}
    for _ in range(args.repeat):
        for which, page in pages.items():
            runs[which].append(open_once(page))
    out: dict = {"trials": args.trials, "baseline": args.baseline, "repeat": args.repeat}
    for which, rows in runs.items():
        out[f"{which}_mb"] = round(pages[which].stat().st_size / 1e6, 2)
        out[f"{which}_charts"] = rows[0]["charts"]
        for key in ("first_chart_s", "every_chart_s"):
            out[f"{which}_{key}"] = round(statistics.median(r[key] for r in rows), 3)
        out[f"{which}_first_chart_each_s"] = [r["first_chart_s"] for r in rows]
    out["first_chart_ratio_now_to_before"] = round(
        out["now_first_chart_s"] / out["before_first_chart_s"], 2)
    finish(out, load, f"report_paint_{args.trials}.json" if args.write else None)


if __name__ == "__main__":
    main()
