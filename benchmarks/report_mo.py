"""What reporting a study with several objectives costs, at 1,000 and 10,000 trials.

For 2 and 3 objectives (random values: the front grows like log(n)^(d-1), as a random
search's does; and a "converged" study whose trials crowd near one front, as NSGA-II's
do), CPU time (time.process_time, the machine is shared) of:

- the feasible Pareto front of the read model (StudyView.pareto_front: a sorted sweep
  for 2 objectives, an archive of the non-dominated points above) beside
  contracts.pareto.non_dominated on the same points (the all-pairs definition);
- the hypervolume curve (results.stats.hypervolume_curve: ~60 checkpoints, incremental
  front) beside the exact hypervolume recomputed at every trial for 1,000 trials;
- summary() (front, reference point, hypervolume) and the Plotly spec of the front, each
  on a fresh view (nothing cached).

Writes benchmarks/results/report-mo.md and report-mo.json. Run:
``.venv/bin/python benchmarks/report_mo.py``.
"""

from __future__ import annotations

import json
import math
import platform
import random
import time
from pathlib import Path

from hpo_framework.contracts.pareto import hypervolume, non_dominated
from hpo_framework.contracts.trial import Trial, TrialState
from hpo_framework.results.interactive import pareto_spec
from hpo_framework.results.model import StudyView
from hpo_framework.results.stats import hypervolume_curve, reference_point, summary

OUT = Path(__file__).parent / "results"


def study(n: int, d: int, kind: str, seed: int = 0) -> StudyView:
    rng = random.Random(seed)
    trials = []
    for i in range(n):
        if kind == "random":
            values = [rng.random() for _ in range(d)]
        else:  # near the sphere's front (DTLZ2-like), as a converging search's trials
            angles = [rng.random() * math.pi / 2 for _ in range(d - 1)]
            radius = 1.0 + abs(rng.gauss(0, 0.05))
            values = []
            for k in range(d):
                v = radius
                for a in angles[:d - 1 - k]:
                    v *= math.cos(a)
                if k > 0:
                    v *= math.sin(angles[d - 1 - k])
                values.append(v)
        trials.append(Trial(i, {"x": values[0]}, TrialState.COMPLETE, value=values[0],
                            values=values, constraints=[rng.random() - 0.9]))
    return StudyView(f"{kind}-{d}d-{n}", "minimize", {"directions": ["minimize"] * d}, trials)


def cpu(fn, *args):
    start = time.process_time()
    out = fn(*args)
    return time.process_time() - start, out


def main() -> None:
    rows = []
    for kind in ("random", "converged"):
        for d in (2, 3):
            for n in (1000, 10_000):
                view = study(n, d, kind)
                pool = view.feasible_trials
                t_front, front = cpu(lambda v=view: v.pareto_front)
                row = {"kind": kind, "objectives": d, "trials": n, "front": len(front),
                       "front_s": round(t_front, 3)}
                if n <= 1000 or d == 2 or kind == "random":
                    t_all, idx = cpu(non_dominated, [t.losses for t in pool])
                    assert sorted(pool[i].number for i in idx) == [t.number for t in front]
                    row["non_dominated_s"] = round(t_all, 3)
                ref = reference_point([view])
                t_curve, (xs, ys) = cpu(hypervolume_curve, view, ref)
                row.update(curve_s=round(t_curve, 3), checkpoints=len(xs))
                exact = hypervolume([t.losses for t in front], ref)
                assert math.isclose(ys[-1], exact, rel_tol=1e-12)
                if n == 1000 and d == 2 and kind == "random":
                    def every_trial(pool=pool, ref=ref):
                        return [hypervolume([t.losses for t in pool[:k + 1]], ref)
                                for k in range(len(pool))]
                    t_naive, _ = cpu(every_trial)
                    row["hv_every_trial_s"] = round(t_naive, 3)
                t_sum, _ = cpu(summary, study(n, d, kind))  # a fresh view: nothing cached
                t_spec, _ = cpu(pareto_spec, study(n, d, kind))
                row.update(summary_s=round(t_sum, 3), pareto_spec_s=round(t_spec, 3))
                rows.append(row)
                print(row, flush=True)
    machine = f"{platform.machine()}, {platform.processor() or 'cpu'}, Python " \
              f"{platform.python_version()} (shared by other jobs: CPU time)"
    OUT.mkdir(exist_ok=True)
    (OUT / "report-mo.json").write_text(json.dumps({"machine": machine, "rows": rows},
                                                   indent=2))
    cols = ["kind", "objectives", "trials", "front", "front_s", "non_dominated_s", "curve_s",
            "checkpoints", "hv_every_trial_s", "summary_s", "pareto_spec_s"]
    lines = [f"# Reporting several objectives: CPU seconds ({machine})", "",
             "front_s: StudyView.pareto_front; non_dominated_s: contracts.pareto."
             "non_dominated on the same feasible points (same answer, checked); curve_s: "
             "hypervolume_curve (its last value checked against the exact hypervolume); "
             "hv_every_trial_s: the exact hypervolume recomputed after every trial "
             "(1,000 trials only); '-' not run (too slow).", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(c, "-")) for c in cols) + " |")
    (OUT / "report-mo.md").write_text("\n".join(lines) + "\n")
    print((OUT / "report-mo.md").read_text())


if __name__ == "__main__":
    main()
