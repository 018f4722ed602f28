"""Results of studies with several objectives and constraints: the report's Pareto front,
``report --json``/``--csv``, the front and hypervolume figures, the HTML report, the
dashboard's API and comparisons ranked by hypervolume.

Studies are real SQLite studies made through ``optimize(directions=..., constraints=...)``
with a cheap Python objective; what is expected is computed here from the stored trials
with ``contracts.pareto`` (the shared definitions), never copied from the code under test.
"""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from hpo_framework import optimize
from hpo_framework.cli import cli
from hpo_framework.contracts.pareto import hypervolume, non_dominated
from hpo_framework.contracts.trial import Trial, TrialState
from hpo_framework.results import load_study
from hpo_framework.results.model import StudyView
from hpo_framework.results.stats import hypervolume_curve, reference_point, summary, trial_rows

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0},
         "y": {"type": "float", "low": 0.0, "high": 1.0}}
DIRECTIONS = ["maximize", "minimize"]


def two(p):
    """accuracy-like (maximize) against size-like (minimize): a real trade-off; a few
    configurations fail, so FAILED trials are in the study too."""
    if 0.50 < p["x"] < 0.52:
        raise ValueError("this one fails")
    return [p["x"], p["x"] ** 2 + 0.6 * p["y"]]


def y_at_most_07(trial):
    return [trial.params["y"] - 0.7]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("mo") / "mo.db"
    optimize(two, SPACE, strategy="random", n_trials=60, seed=3, storage=path, study="mo",
             directions=DIRECTIONS, constraints=y_at_most_07)
    optimize(two, SPACE, strategy="random", n_trials=6, seed=4, storage=path, study="small",
             directions=DIRECTIONS, constraints=y_at_most_07)
    optimize(lambda p: [p["x"], p["y"], 1.0 - p["x"] * p["y"]], SPACE, strategy="random",
             n_trials=25, seed=5, storage=path, study="three",
             directions=["minimize", "minimize", "minimize"])
    optimize(lambda p: p["x"] + 0.1 * p["y"], SPACE, strategy="random", n_trials=20,
             seed=6, storage=path, study="single", constraints=lambda t: [0.5 - t.params["x"]])
    optimize(lambda p: (p["x"] - 0.3) ** 2, SPACE, strategy="random", n_trials=8, seed=7,
             storage=path, study="plain")
    return path


def expected_front(view):
    """The numbers of the non-dominated feasible COMPLETE trials, from the raw trials."""
    pool = [t for t in view.trials if t.state is TrialState.COMPLETE
            and (t.constraints is None or all(c <= 0 for c in t.constraints))]
    signs = [1 if d == "minimize" else -1 for d in view.directions]
    losses = [[s * v for s, v in zip(signs, t.values, strict=True)] for t in pool]
    return sorted(pool[i].number for i in non_dominated(losses))


def report(*args):
    result = CliRunner().invoke(cli, ["report", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_front_is_exactly_the_nondominated_feasible_complete_set(db):
    view = load_study(db, "mo")
    states = {t.state for t in view.trials}
    assert TrialState.FAILED in states  # the study holds the cases the front must skip
    assert any(not t.feasible for t in view.trials if t.state is TrialState.COMPLETE)
    front = sorted(t.number for t in view.pareto_front)
    assert front == expected_front(view)
    assert len(front) >= 3
    assert all(t.feasible and t.state is TrialState.COMPLETE for t in view.pareto_front)
    # a feasible trial off the front is dominated by one on it
    # and an infeasible one that would dominate the front exists or not: either way it is off
    assert not {t.number for t in view.trials if not t.feasible} & set(front)
    for name in ("three",):
        other = load_study(db, name)
        assert sorted(t.number for t in other.pareto_front) == expected_front(other)


def test_report_json_has_the_front_and_directions(db):
    data = json.loads(report("--storage", db, "--study", "mo", "--json"))
    view = load_study(db, "mo")
    assert data["directions"] == DIRECTIONS
    front = data["pareto_front"]
    assert sorted(r["number"] for r in front) == expected_front(view)
    by_number = {t.number: t for t in view.trials}
    for r in front:
        t = by_number[r["number"]]
        assert set(r) == {"number", "values", "params", "constraints"}
        assert r["values"] == t.values and r["params"] == t.params
        assert r["constraints"] == t.constraints and r["constraints"][0] <= 0
    assert data["best_trial"] is None and data["best_config"] is None  # no single best
    assert data["infeasible"] == sum(1 for t in view.trials if t.state is TrialState.COMPLETE
                                     and not t.feasible) > 0
    # the hypervolume against the stated reference point, recomputed here
    ref = data["reference_point"]
    feasible = [t for t in view.trials if t.state is TrialState.COMPLETE and t.feasible]
    worst_acc = min(t.values[0] for t in feasible)
    best_acc = max(t.values[0] for t in feasible)
    assert ref[0] == pytest.approx(worst_acc - 0.1 * (best_acc - worst_acc))
    losses = [[-by_number[n].values[0], by_number[n].values[1]] for n in expected_front(view)]
    assert data["hypervolume"] == pytest.approx(hypervolume(losses, [-ref[0], ref[1]]))


def test_report_table_shows_the_front_with_names_directions_and_counts(db):
    out = report("--storage", db, "--study", "mo")
    view = load_study(db, "mo")
    front = expected_front(view)
    assert f"Pareto front: {len(front)} trials" in out
    assert "values_0 (maximize)" in out and "values_1 (minimize)" in out
    complete = [t for t in view.trials if t.state is TrialState.COMPLETE]
    feasible = sum(t.feasible for t in complete)
    assert f"{feasible} complete trials feasible, {len(complete) - feasible} infeasible" in out
    assert "hypervolume" in out and "reference point" in out
    marked = {int(line.split("│")[1].split()[0]) for line in out.splitlines()
              if line.startswith("│") and line.split("│")[1].strip().endswith("*")}
    assert sorted(marked) == front


def test_csv_has_a_column_per_objective_and_constraint(db):
    rows = list(csv.DictReader(io.StringIO(report("--storage", db, "--study", "mo",
                                                  "--csv"))))
    view = load_study(db, "mo")
    assert {"values_0", "values_1", "constraint_0", "feasible", "pareto"} <= set(rows[0])
    for row, t in zip(rows, view.trials, strict=True):
        assert int(row["number"]) == t.number
        if t.state is TrialState.COMPLETE:
            assert float(row["values_0"]) == t.values[0]
            assert float(row["values_1"]) == t.values[1]
            assert float(row["constraint_0"]) == t.constraints[0]
            assert row["feasible"] == str(t.feasible)
    assert sorted(int(r["number"]) for r in rows if r["pareto"] == "True") == \
        expected_front(view)


def test_constraints_on_one_objective_never_make_an_infeasible_trial_best(db):
    view = load_study(db, "single")
    complete = [t for t in view.trials if t.state is TrialState.COMPLETE]
    infeasible = [t for t in complete if not t.feasible]
    feasible = [t for t in complete if t.feasible]
    assert infeasible and feasible
    assert min(t.value for t in infeasible) < min(t.value for t in feasible)  # would win
    best = min(feasible, key=lambda t: t.value)
    assert view.best_trial.number == best.number
    row = summary(view)
    assert row["best_trial"] == best.number
    assert (row["feasible"], row["infeasible"]) == (len(feasible), len(infeasible))
    marks = {r["number"]: r["feasible"] for r in trial_rows(view)}
    assert {n for n, ok in marks.items() if ok is False} == {t.number for t in infeasible}
    out = report("--storage", db, "--study", "single")
    assert f"{best.number} *" in out and "best feasible" in out
    assert out.count(" NO ") == len(infeasible)
    data = json.loads(report("--storage", db, "--study", "single", "--json"))
    assert data["best_trial"] == best.number


def test_one_objective_studies_report_as_before(db):
    view = load_study(db, "plain")
    assert list(trial_rows(view)[0]) == ["number", "x", "y", "value", "state", "duration_s",
                                         "error", "detail"]
    data = json.loads(report("--storage", db, "--study", "plain", "--json"))
    assert "pareto_front" not in data and "directions" not in data
    assert "infeasible" not in data


def test_progress_lines_give_the_values_and_the_front_size(capsys):
    study = optimize(two, SPACE, strategy="random", n_trials=12, seed=8,
                     directions=DIRECTIONS, constraints=y_at_most_07, show_progress=True)
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("trial ")]
    assert len(lines) == 12
    assert lines[-1].split(" front ")[1].split()[0] == str(len(study.best_trials))
    infeasible = [t for t in study.trials if t.state is TrialState.COMPLETE
                  and not t.feasible]
    assert infeasible and sum(" infeasible " in line for line in lines) == len(infeasible)
    first = study.trials[0]
    assert lines[0].startswith(f"trial 0 [1/12] ({first.values[0]:.4g}, ")


def _front_scatter(fig):
    ax = fig.axes[0]
    return {c.get_label(): c for c in ax.collections}


def test_figures_draw_the_front_and_the_hypervolume(db, tmp_path):
    from hpo_framework.results.figures import hypervolume_figure, pareto_figure, study_plots
    from hpo_framework.results.interactive import pareto_spec, study_figures

    view = load_study(db, "mo")
    front = expected_front(view)
    written = {p.name for p in study_plots(view, tmp_path)}
    assert {"pareto.png", "hypervolume.png"} <= written
    assert "best_so_far.png" not in written
    assert all((tmp_path / n).stat().st_size > 1000 for n in written)
    drawn = _front_scatter(pareto_figure(view))
    infeasible = [t for t in view.trials if t.state is TrialState.COMPLETE and not t.feasible]
    assert len(drawn[f"Pareto front ({len(front)})"].get_offsets()) == len(front)
    assert len(drawn[f"infeasible ({len(infeasible)})"].get_offsets()) == len(infeasible)
    # the front's points are the front's values
    pts = sorted(map(tuple, drawn[f"Pareto front ({len(front)})"].get_offsets().tolist()))
    by_number = {t.number: t for t in view.trials}
    assert pts == sorted(tuple(by_number[n].values) for n in front)
    spec = pareto_spec(view)
    traces = {d["name"]: d for d in spec["data"]}
    assert sorted(traces[f"Pareto front ({len(front)})"]["customdata"]) == front
    assert {"pareto", "hypervolume"} <= set(study_figures(view))
    # the hypervolume curve ends at the front's exact hypervolume, never decreases
    ref = reference_point([view])
    xs, ys = hypervolume_curve(view, ref)
    losses = [[-by_number[n].values[0], by_number[n].values[1]] for n in front]
    assert ys[-1] == pytest.approx(hypervolume(losses, [-ref[0], ref[1]]))
    assert all(a <= b for a, b in zip(ys, ys[1:], strict=False)) and ys[0] < ys[-1]
    fig = hypervolume_figure([view])
    assert "reference point values_0" in fig.axes[0].get_title()
    # three objectives: a 3-D scatter of the front
    three = load_study(db, "three")
    fig = pareto_figure(three)
    assert fig.axes[0].name == "3d"
    n3 = len(expected_front(three))
    assert len(_front_scatter(fig)[f"Pareto front ({n3})"]._offsets3d[0]) == n3


def test_hypervolume_curve_of_10000_trials_uses_few_checkpoints():
    import random

    rng = random.Random(0)
    trials = []
    for i in range(10_000):
        x, y = rng.random(), rng.random()
        trials.append(Trial(i, {"x": x}, TrialState.COMPLETE, value=x, values=[x, y]))
    view = StudyView("big", "minimize", {"directions": ["minimize", "minimize"]}, trials)
    ref = reference_point([view])
    xs, ys = hypervolume_curve(view, ref)
    assert 50 <= len(xs) <= 61 and xs[-1] == 9_999
    front = [t.losses for t in view.pareto_front]
    assert ys[-1] == pytest.approx(hypervolume(front, ref))


@pytest.mark.parametrize("d", [2, 3])
def test_hypervolume_curve_and_front_match_the_definitions_with_ties(d):
    import random

    rng = random.Random(d)
    grid = [0.1, 0.2, 0.5]  # repeated coordinates: ties in one loss, equal points
    trials = []
    for i in range(150):
        values = [rng.choice(grid) if rng.random() < 0.4 else rng.random() for _ in range(d)]
        trials.append(Trial(i, {"x": values[0]}, TrialState.COMPLETE, value=values[0],
                            values=values, constraints=[rng.random() - 0.8]))
    view = StudyView("ties", "minimize", {"directions": ["minimize"] * d}, trials)
    assert sorted(t.number for t in view.pareto_front) == expected_front(view)
    ref = reference_point([view])
    xs, ys = hypervolume_curve(view, ref, checkpoints=150)
    assert xs == list(range(150))
    for k in range(0, 150, 7):
        pool = [t.values for t in trials[:k + 1] if t.feasible]
        assert ys[k] == pytest.approx(hypervolume(pool, ref)), k


def test_html_report_shows_the_front_and_marks_infeasible_rows(db, tmp_path):
    out = tmp_path / "r.html"
    report("--storage", db, "--study", "mo", "--html", out)
    text = out.read_text()
    view = load_study(db, "mo")
    front = expected_front(view)
    assert "<h3>Pareto front</h3>" in text and f"Pareto front: {len(front)} trials" in text
    assert "data-kind='pareto'" in text and "data-kind='hypervolume'" in text
    table = text.split("<table id='front'>")[1].split("</table>")[0]
    assert table.count("<tr>") - 1 == len(front)  # the header row and one per front trial
    infeasible = sum(1 for t in view.trials if t.state is TrialState.COMPLETE
                     and not t.feasible)
    assert text.count('<tr class="infeasible">') == infeasible


def test_comparing_studies_ranks_by_hypervolume_with_a_common_reference(db, tmp_path):
    data = json.loads(report("--storage", db, "--study", "mo,small", "--json"))
    views = [load_study(db, n) for n in ("mo", "small")]
    pool = [t for v in views for t in v.trials if t.state is TrialState.COMPLETE
            and t.feasible]
    lo = [min(-t.values[0] for t in pool), min(t.values[1] for t in pool)]
    hi = [max(-t.values[0] for t in pool), max(t.values[1] for t in pool)]
    ref = [h + 0.1 * (h - lo_) for h, lo_ in zip(hi, lo, strict=True)]
    hvs = {}
    for v in views:
        by_number = {t.number: t for t in v.trials}
        hvs[v.name] = hypervolume([[-by_number[n].values[0], by_number[n].values[1]]
                                   for n in expected_front(v)], ref)
    rows = {r["study"]: r for r in data["runs"]}
    for name, hv in hvs.items():
        assert rows[name]["hypervolume"] == pytest.approx(hv)
        assert rows[name]["reference_point"] == pytest.approx([-ref[0], ref[1]])
    assert hvs["mo"] != hvs["small"]
    assert data["winner"]["decided_by"] == "hypervolume"
    assert data["winner"]["study"] == max(hvs, key=hvs.get)
    out = report("--storage", db, "--study", "mo,small", "--html", tmp_path / "c.html")
    assert "the largest hypervolume of the feasible Pareto front decides" in out
    assert "common to every run" in out
    assert "data-kind='hypervolume'" in (tmp_path / "c.html").read_text()


def test_comparison_object_ranks_by_hypervolume(db, tmp_path):
    from hpo_framework.jobs.compare import Comparison
    from hpo_framework.results.stats import common_hypervolume

    views = [load_study(db, n) for n in ("small", "mo")]
    # one strategy, two seeds: the runs and the per-strategy median/min/max
    comparison = Comparison(["random"], [0, 1], rows=[summary(v) for v in views],
                            views=views)
    common_hypervolume(comparison.rows, comparison.views)
    out = comparison.to_dict()
    winner = out["winner"]
    hvs = [r["hypervolume"] for r in comparison.rows]
    assert winner["decided_by"] == "hypervolume" and hvs[0] != hvs[1]
    assert winner["study"] == comparison.rows[hvs.index(max(hvs))]["study"]
    agg = out["by_strategy"][0]
    assert agg["hypervolume_median"] == pytest.approx(sum(hvs) / 2)
    assert (agg["hypervolume_min"], agg["hypervolume_max"]) == (min(hvs), max(hvs))
    written = {p.name for p in comparison.write(tmp_path)}
    assert "hypervolume.png" in written and "best_so_far.png" not in written
    header = (tmp_path / "summary.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["strategy", "seed", "hypervolume", "pareto_size"]
    assert (tmp_path / "by_strategy.csv").read_text().startswith(
        "strategy,runs,hypervolume_median,hypervolume_min,hypervolume_max")
    assert "largest hypervolume" in (tmp_path / "summary.md").read_text()


# the dashboard: the installed plugin's command, a real server, a real browser ----------
def test_dashboard_shows_the_front_and_ranks_by_hypervolume(db, tmp_path):
    from pathlib import Path

    from test_dashboard import _get, _start, _stop

    view = load_study(db, "mo")
    front = expected_front(view)
    proc, url = _start(db)
    try:
        status, data = _get(url + "api/studies/mo/figures")
        assert status == 200
        assert {"pareto", "hypervolume"} <= set(data["figures"])
        assert "best_so_far" not in data["figures"]
        page = data["page"]
        assert page["objectives"] == ["values_0", "values_1"]
        assert page["directions"] == DIRECTIONS and page["constraints"] == ["constraint_0"]
        assert sorted(r["number"] for r in page["pareto_front"]) == front
        assert sorted(t["number"] for t in page["trials"] if t["pareto"]) == front
        assert page["study"]["pareto_size"] == len(front)
        status, data = _get(url + "api/compare?studies=mo,small")
        assert data["decided_by"] == "hypervolume" and data["hypervolume"] is not None
        best = max(data["studies"], key=lambda r: r["hypervolume"])
        assert data["winner"] == best["study"]
        # the page: the front drawn, its rows marked, the infeasible ones greyed
        from browser import CHROMIUM, Browser

        if not Path(CHROMIUM).exists():
            pytest.skip(f"{CHROMIUM} is missing")
        with Browser() as b:
            b.goto(url + "study/mo")
            drawn = b.wait_for("document.querySelector('#fig-pareto .main-svg') && "
                               "document.getElementById('fig-pareto').data"
                               ".find(d => d.name.startsWith('Pareto front')).x.length")
            assert drawn == len(front)
            marked = b.wait_for("[...document.querySelectorAll('#trials tr.best')]"
                                ".map(r => Number(r.dataset.number)).sort((a, b) => a - b)")
            assert marked == front
            infeasible = sum(1 for t in view.trials if t.state is TrialState.COMPLETE
                             and not t.feasible)
            assert b.evaluate("document.querySelectorAll('#trials tr.infeasible').length") \
                == infeasible
            assert "hypervolume" in b.evaluate("document.getElementById('summary').textContent")
            b.goto(url + "compare?studies=mo,small")
            assert b.wait_for("document.querySelector('#compare tr.winner')?.dataset.study"
                              ) == best["study"]
            assert b.wait_for("document.getElementById('score-head').textContent") == \
                "hypervolume"
    finally:
        _stop(proc)


def test_hpo_run_comparison_ranks_by_hypervolume(tmp_path):
    from clitools import run_cli

    proc = run_cli("--strategy", "grid,random", "--trials", "1", "--backend", "sklearn",
                   "--dataset", "digits", "--seed", "1", "--metric", "accuracy,n_params",
                   "--direction", "maximize,minimize", "--no-final-test", "-B", "max_iter=5",
                   "--storage", "cmp.db", "--json", cwd=tmp_path, check=True)
    data = json.loads(proc.stdout)
    views = [load_study(tmp_path / "cmp.db", f"compare-sklearn-digits-{s}")
             for s in ("grid", "random")]
    pool = [t for v in views for t in v.trials if t.state is TrialState.COMPLETE]
    losses = [[-t.values[0], t.values[1]] for t in pool]
    lo = [min(p[k] for p in losses) for k in (0, 1)]
    hi = [max(p[k] for p in losses) for k in (0, 1)]
    ref = [h + 0.1 * ((h - low) or abs(h) or 1.0) for h, low in zip(hi, lo, strict=True)]
    hvs = [hypervolume([[-t.values[0], t.values[1]] for t in v.trials
                        if t.state is TrialState.COMPLETE], ref) for v in views]
    assert hvs[0] != hvs[1]  # the ranking decides something
    assert [r["hypervolume"] for r in data["runs"]] == pytest.approx(hvs)
    assert all(r["reference_point"] == pytest.approx([-ref[0], ref[1]]) for r in data["runs"])
    assert data["winner"]["decided_by"] == "hypervolume"
    assert data["winner"]["reference"] == "common"
    assert data["winner"]["study"] == views[hvs.index(max(hvs))].name
