"""The plotly.js the dashboard serves and the HTML report inlines is a partial bundle
(hpo_framework/results/plotly-hpo.min.js, built by tools/plotly-bundle): only the trace
types the figures use. A figure of a type left out of it would not fail: plotly.js draws an
unknown type as a scatter. So every chart a page or a report draws is checked to keep the
type its spec asked for, in a real browser."""

import subprocess
from pathlib import Path

import pytest
from clitools import BIN
from test_dashboard import _first_line, _stop

import hpo_framework as hpo

SPACE = {"lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
         "dropout": {"type": "float", "low": 0.0, "high": 0.5},
         "units": {"type": "int", "low": 8, "high": 64},
         "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]}}
ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "plugins" / "hpo-dashboard" / "hpo_dashboard" / "static"

#: what each drawn chart asked for against what plotly.js drew
DRAWN = """[...document.querySelectorAll('.js-plotly-plot')].map(d => [d.id,
    d.data.map(t => t.type || 'scatter'), d._fullData.map(t => t.type)])"""


def _objective(params, trial):
    loss = abs(params["lr"] - 0.01) + params["dropout"] + (params["optimizer"] == "sgd") / 3
    for step in range(3):
        trial.report(1 - loss * (step + 1) / 3, step)
    return 1 - loss


@pytest.fixture(scope="module")
def browser():
    from browser import CHROMIUM, Browser

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (make test installs Debian's chromium as root)")
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("bundle") / "b.db"
    hpo.optimize(_objective, SPACE, strategy="random", n_trials=14, seed=0, storage=str(path),
                 study="b", direction="maximize")
    return path


@pytest.fixture(scope="module")
def served(db):
    proc = subprocess.Popen([str(BIN / "hpo-run"), "dashboard", "--storage", str(db), "--port",
                             "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = _first_line(proc).split()[1]
    yield url
    _stop(proc)


def test_the_pages_load_the_partial_bundle_and_not_the_full_one():
    pages = {name: (STATIC / name).read_text() for name in ("study.html", "trial.html",
                                                             "compare.html")}
    for name, text in pages.items():
        assert 'src="/static/plotly-hpo.min.js"' in text, name
        assert "plotly.min.js" not in text, name
    head = (ROOT / "hpo_framework" / "results" / "plotly-hpo.min.js").read_text()[:300]
    assert "plotly.js v4.1.1, a partial bundle" in head and "MIT license" in head


def test_every_chart_keeps_the_trace_type_it_asked_for(served, browser):
    browser.goto(served + "study/b")
    browser.wait_for("['best_so_far', 'importances', 'slices', 'parallel', 'contour', "
                     "'learning_curves', 'timeline'].every(k => "
                     "document.querySelector('#fig-' + k + ' .main-svg'))")
    drawn = browser.evaluate(DRAWN)
    asked = {kind for _, kinds, _ in drawn for kind in kinds}
    assert {"scatter", "bar", "parcoords"} <= asked and asked & {"contour", "heatmap"}, drawn
    assert [(i, a, f) for i, a, f in drawn if a != f] == []
    browser.goto(served + "study/b/trial/3")
    browser.wait_for("document.querySelector('#fig-curve .main-svg')")
    drawn = browser.evaluate(DRAWN)
    assert drawn and [(i, a, f) for i, a, f in drawn if a != f] == []


def test_the_html_report_draws_every_chart_with_its_trace_type(db, browser, tmp_path):
    from hpo_framework.results import load_study
    from hpo_framework.results.html import study_html

    study_html(load_study(str(db), "b"), tmp_path / "r.html")
    browser.goto((tmp_path / "r.html").as_uri())
    count = (tmp_path / "r.html").read_text().count("hpoFigure('fig")
    assert count >= 6
    browser.wait_for(f"document.querySelectorAll('.js-plotly-plot').length >= {count}")
    drawn = browser.evaluate(DRAWN)
    assert len(drawn) == count and {"parcoords", "bar"} <= {k for _, a, _ in drawn for k in a}
    assert [(i, a, f) for i, a, f in drawn if a != f] == []


def test_three_objectives_draw_their_front_in_3d(browser, tmp_path):
    """The front of three objectives is a scatter3d: the bundle has it."""
    from hpo_framework.results import load_study
    from hpo_framework.results.html import study_html

    db = tmp_path / "mo.db"
    hpo.optimize(lambda p: (p["x"], 1 - p["x"], p["y"]),
                 {"x": {"type": "float", "low": 0, "high": 1},
                  "y": {"type": "float", "low": 0, "high": 1}},
                 strategy="random", n_trials=12, seed=0, storage=str(db), study="mo",
                 directions=["minimize"] * 3)
    page = study_html(load_study(str(db), "mo"), tmp_path / "mo.html")
    count = page.read_text().count("hpoFigure('fig")
    browser.goto(page.as_uri())
    browser.wait_for(f"document.querySelectorAll('.js-plotly-plot').length >= {count}")
    drawn = browser.evaluate(DRAWN)
    assert "scatter3d" in {k for _, a, _ in drawn for k in a}, drawn
    assert [(i, a, f) for i, a, f in drawn if a != f] == []


def test_a_trace_type_left_out_of_the_bundle_is_seen(served, browser):
    """The checks above can fail: a pie (not in the bundle) is drawn as something else."""
    browser.goto(served + "study/b")
    browser.wait_for("window.Plotly && document.querySelector('#fig-best_so_far .main-svg')")
    drawn = browser.evaluate("""(() => { const d = document.createElement('div');
        document.body.append(d);
        Plotly.newPlot(d, [{type: 'pie', values: [1, 2]}]);
        return [d.data[0].type, d._fullData.length ? d._fullData[0].type : null]; })()""")
    assert drawn[0] == "pie" and drawn[1] != "pie", drawn
