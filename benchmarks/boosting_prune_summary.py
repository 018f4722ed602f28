"""Issue 27's pruning goal per library/dataset and method, from ``benchmarks/boosting.py``
runs' JSON (helper HP's candidates; no peers needed, unlike boosting.py's goal table).

    .venv/bin/python benchmarks/boosting_prune_summary.py a-runs.json b-runs.json \
        [--out benchmarks/results/boosting-prune-summary.md]

Per method: rounds over ``auto``'s (same seed; median, min, max), the paired gap of the best
validation to ``auto``'s (boosting.py's ``gap_text``), the goal (rounds <= 0.50 and median
gap <= 2 %, or within the replicates' noise band when ``auto~K`` ran), and the band.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import boosting as b  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("json", nargs="+")
    p.add_argument("--out")
    a = p.parse_args()
    runs = [r for f in a.json for r in json.loads(Path(f).read_text())]
    lines = ["| library, dataset | method | seeds | rounds / auto's | gap to auto (paired) | "
             "noise band (auto~K) | pruning goal |", "|---|---|---|---|---|---|---|"]
    for key in sorted({(r["backend"], r["dataset"]) for r in runs}):
        rs = [r for r in runs if (r["backend"], r["dataset"]) == key]
        methods = list(dict.fromkeys(r["method"] for r in rs))
        band = b.noise_band(rs, [m for m in methods if "~" in m and "+" not in m])
        for m in methods:
            if m == "auto":
                continue
            share = b.paired(rs, m, "auto", "rounds")
            gaps = [g - 1 for g in b.paired(rs, m, "auto", "best_val")]
            few = bool(share) and statistics.median(share) <= 0.5
            ok = few and gaps and statistics.median(gaps) <= b.NOISE
            within = few and gaps and band is not None and statistics.median(gaps) <= band
            goal = ("-" if "+" not in m else "met" if ok else
                    "met within band" if within else "NOT met")
            lines.append(f"| {key[0]}, {key[1]} | {m} | {len(share)} | {b.med(share, 2)} | "
                         f"{b.gap_text(gaps)} | "
                         f"{'-' if band is None else f'{band:.1%}'} | {goal} |")
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
