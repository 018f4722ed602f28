"""Results of large studies (issue 26) and the categorical contour (issue 28): what a
figure cannot show is sampled or aggregated and its title says so, tables show the best
and the last rows and say how to see the rest, the learning-curve legend stays short.

The limits are lowered with monkeypatch so that small studies exercise them quickly;
benchmarks/results_scale.py measures the real sizes (1,000 to 100,000 trials)."""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner

from hpo_framework import optimize
from hpo_framework.cli.report import report_command
from hpo_framework.contracts.trial import Trial, TrialState
from hpo_framework.results import html as html_mod
from hpo_framework.results import importance as importance_mod
from hpo_framework.results import interactive, load_study
from hpo_framework.results.model import StudyView
from hpo_framework.results.stats import best_so_far, finished_in_order

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0},
         "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
         "opt": {"type": "categorical", "choices": ["sgd", "adam", "rmsprop"]}}
PENALTY = {"sgd": 1.0, "adam": 0.0, "rmsprop": 0.5}


def _trials(n: int, curves: bool = False) -> list[Trial]:
    out = []
    for i in range(n):
        x = (i * 0.618) % 1.0
        lr = 10 ** (-4 + 3 * ((i * 0.377) % 1.0))
        opt = ["sgd", "adam", "rmsprop"][i % 3]
        value = (x - 0.3) ** 2 + PENALTY[opt]
        pruned = i % 4 == 1
        steps = [{"step": s, "value": value + 1 / (s + 1)} for s in range(2 if pruned else 4)]
        out.append(Trial(number=i, params={"x": x, "lr": lr, "opt": opt},
                         state=TrialState.PRUNED if pruned else TrialState.COMPLETE,
                         value=None if pruned else value,
                         intermediate=steps if curves else [],
                         datetime_start=f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}",
                         datetime_complete=f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}"))
    return out


def _view(n: int, curves: bool = False) -> StudyView:
    return StudyView("big", "minimize", {"strategy": "random", "space": SPACE},
                     _trials(n, curves))


def test_scatters_draw_a_sample_that_keeps_the_best_and_say_so(monkeypatch):
    monkeypatch.setattr(interactive, "MAX_POINTS", 40)
    view = _view(200)
    best = view.best_trial.number
    complete = len(view.complete_trials)
    slices = interactive.slices_spec(view)
    panels = [d for d in slices["data"] if d["name"] in ("x", "lr", "opt")]
    assert [len(d["x"]) for d in panels] == [40, 40, 40]
    assert all(f"trial {best}" in d["text"] for d in panels)
    assert f"(40 of {complete} complete trials shown: a random sample" in \
        slices["layout"]["title"]["text"]
    parallel = interactive.parallel_spec(view)
    assert len(parallel["data"][0]["dimensions"][0]["values"]) == 40
    assert f"(40 of {complete} lines shown" in parallel["layout"]["title"]["text"]
    # the same sample every time (seeded), so a page that polls does not flicker
    assert interactive.slices_spec(view)["data"][0]["x"] == panels[0]["x"]


def test_best_so_far_keeps_only_where_the_step_line_changes(monkeypatch):
    monkeypatch.setattr(interactive, "MAX_POINTS", 30)
    view = _view(200)
    spec = interactive.best_so_far_spec([view])
    line, dots = spec["data"]
    assert len(line["x"]) < 30
    # the compressed step line (shape hv) has the same value at every finished trial
    full = dict(zip([t.number for t in finished_in_order(view)], best_so_far(view),
                    strict=True))
    for number, value in full.items():
        k = max(i for i, x in enumerate(line["x"]) if x <= number)
        assert line["y"][k] == value
    assert line["x"][-1] == max(full) and len(dots["x"]) == 30
    assert "dots shown" in spec["layout"]["title"]["text"]


def test_many_learning_curves_name_only_the_best_and_draw_the_rest_faint():
    view = _view(120, curves=True)
    spec = interactive.learning_curves_spec(view)
    named = [d for d in spec["data"] if d.get("showlegend", True)]
    assert len(named) == interactive.NAMED_CURVES + 2  # the best 5, the others, the pruned
    ranked = sorted(view.complete_trials, key=lambda t: (t.value, t.number))
    best_names = [d["name"] for d in named if d["name"].startswith("trial ")]
    assert best_names == [f"trial {ranked[0].number} (best)"] + [
        f"trial {t.number}" for t in ranked[1:interactive.NAMED_CURVES]]
    others = next(d for d in named if "other trials" in d["name"])
    pruned = next(d for d in named if "pruned trials" in d["name"])
    n_pruned = sum(t.state is TrialState.PRUNED for t in view.trials)
    assert pruned["x"].count(None) == n_pruned and pruned["line"]["dash"] == "dot"
    assert others["x"].count(None) == 120 - n_pruned - interactive.NAMED_CURVES
    assert others["opacity"] < 0.5
    title = spec["layout"]["title"]["text"]
    assert "learning curves of 120 trials" in title and "the best 5 complete trials named" \
        in title and f"the other {120 - interactive.NAMED_CURVES} faint" in title


def test_a_categorical_parameter_gets_a_category_axis_and_no_interpolation():
    view = _view(60)
    spec = interactive.contour_spec(view, "x", "opt")
    surface = spec["data"][0]
    assert surface["type"] == "heatmap"  # cells, never a contour across categories
    assert spec["layout"]["yaxis"]["type"] == "category"
    assert surface["y"] == ["sgd", "adam", "rmsprop"]
    # each cell is the mean of its trials: the sgd row's mean is adam's + 1 cell by cell
    rows = dict(zip(surface["y"], surface["z"], strict=True))
    for sgd, adam in zip(rows["sgd"], rows["adam"], strict=True):
        if sgd is not None and adam is not None:
            assert sgd > adam
    assert "never interpolated" in spec["layout"]["title"]["text"]
    both = interactive.contour_spec(view, "opt", "x")
    assert both["layout"]["xaxis"]["type"] == "category" and both["data"][0]["type"] == \
        "heatmap"


def test_a_numeric_contour_interpolates_few_trials_and_averages_many(monkeypatch):
    few = interactive.contour_spec(_view(40), "x", "lr")
    assert few["data"][0]["type"] == "contour" and len(few["data"][0]["z"]) == 30
    monkeypatch.setattr(interactive, "CONTOUR_POINTS", 20)
    many = interactive.contour_spec(_view(400), "x", "lr")
    surface = many["data"][0]
    assert surface["type"] == "contour" and isinstance(surface["z"][0], list)
    assert len(surface["x"]) == len(surface["y"]) == int(math.sqrt(300))  # 300 complete
    counts = sum(int(c.split()[0]) for row in surface["text"] for c in row)
    assert counts == 300
    # the lr cells are centred in its log scale
    assert surface["y"][0] == pytest.approx(10 ** (-4 + 3 / 17 / 2))
    assert "mean of the 300 trials in each of 17x17 cells" in many["layout"]["title"]["text"]


def test_timeline_shows_the_last_trials(monkeypatch):
    monkeypatch.setattr(interactive, "MAX_BARS", 25)
    spec = interactive.timeline_spec(_view(100))
    numbers = sorted(n for d in spec["data"] for n in d["y"])
    assert numbers == list(range(75, 100))
    assert "(25 of 100 trials shown: the last 25)" in spec["layout"]["title"]["text"]


def test_importances_of_many_trials_use_the_correlation_ratio(monkeypatch):
    monkeypatch.setattr(importance_mod, "FOREST_TRIALS", 50)
    view = _view(200)
    result = importance_mod.importances(view)
    assert result["method"] == "correlation ratio" and result["trials"] == 150
    shares = result["importances"]
    assert list(shares)[0] == "opt" and shares["lr"] < 0.05  # lr has no effect at all
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
    assert "over 150 complete trials" in result["note"]
    assert importance_mod.importances(view) == result  # cached, and a copy each time
    assert importance_mod.importances(view) is not result


def test_html_and_text_tables_show_the_best_and_the_last_and_say_how_to_see_all(
        tmp_path, monkeypatch):
    db = tmp_path / "t.db"
    study = optimize(lambda p: (p["x"] - 0.123) ** 2, {"x": {"type": "float", "low": 0,
                                                               "high": 1}},
                     strategy="random", n_trials=30, storage=db, study="s", seed=1)
    best = study.best_trial.number
    monkeypatch.setattr(html_mod, "TABLE_ROWS", 10)
    page = html_mod.study_html(load_study(db, "s"), tmp_path / "r.html").read_text()
    table = page.split("<h3>Trials</h3>", 1)[1].split("</table>", 1)[0]
    assert table.count("<tr") == 11  # a header and 10 rows
    assert "10 of 30 trials shown" in table and "--study s --csv" in table
    assert "class=\"best\"" in table
    def report(*args: str) -> str:  # in-process: the command's own code, no start-up
        result = CliRunner().invoke(report_command, ["--storage", str(db), "--study", "s",
                                                     *args])
        assert result.exit_code == 0, result.output
        return result.output

    text = report("--rows", "6")
    assert "6 of 30 trials shown: the best 1 and the last 5" in " ".join(text.split())
    assert "all 30 trials: --rows 0" in text
    listed = [line.split()[1] for line in text.splitlines()
              if line.startswith("│") and line.split()[1].isdigit()]
    expected = sorted({best, *range(25, 30)}) if best < 25 else list(range(24, 30))
    assert [int(n) for n in listed] == expected
    every = report("--rows", "0")
    assert "trials shown" not in every and "--rows 0" not in every
    assert len([line for line in every.splitlines()
                if line.startswith("│") and line.split()[1].isdigit()]) == 30


def test_the_html_report_of_a_large_study_draws_in_a_browser(tmp_path):
    """Plotly accepts the sampled, binned and merged specs: every figure is drawn, the
    contour over a categorical parameter is a heatmap on a category axis, and 120 learning
    curves make a legend of 7 entries."""
    from pathlib import Path

    from browser import CHROMIUM, Browser

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    page = html_mod.study_html(_view(120, curves=True), tmp_path / "big.html")
    with Browser() as b:
        b.goto(page.as_uri())
        count = b.evaluate("document.querySelectorAll('figure.figure').length")
        assert count >= 6
        # the figures are drawn one per frame: wait for the last
        assert b.wait_for("[...document.querySelectorAll('figure.figure > div')].filter("
                          "d => d._fullLayout && d.querySelector('.main-svg')).length"
                          f" === {count}")
        contour = "document.querySelector('figure[data-kind=contour] .js-plotly-plot')"
        assert b.evaluate(f"{contour}._fullData[0].type") == "heatmap"
        assert b.evaluate(f"{contour}._fullLayout.yaxis.type") == "category" or \
            b.evaluate(f"{contour}._fullLayout.xaxis.type") == "category"
        legend = b.evaluate("document.querySelectorAll("
                            "'figure[data-kind=learning_curves] .legend .traces').length")
        assert legend == interactive.NAMED_CURVES + 2
