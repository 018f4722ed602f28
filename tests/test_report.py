"""Reports from storage: `hpo-run report`, exports, plots and the HTML report."""

import csv
import io
import json
import math
import re
import subprocess
import sys

import pytest
from clitools import run_cli

from hpo_framework import Storage, optimize
from hpo_framework.contracts.trial import Trial, TrialState
from hpo_framework.results import best_so_far, load_study, summary
from hpo_framework.results.exports import to_markdown
from hpo_framework.results.figures import (
    best_so_far_figure,
    generations_figure,
    heatmap_figure,
    parallel_figure,
    params_figure,
)

SPACE = {
    "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "n_layers": {"type": "int", "low": 1, "high": 3},
    "optimizer": ["adam", "sgd"],
}


def score(p):
    """A smooth accuracy-like objective with its best near lr=0.01, adam."""
    return 0.95 - 0.05 * (math.log10(p["learning_rate"]) + 2) ** 2 \
        - 0.02 * p["n_layers"] - (0.1 if p["optimizer"] == "sgd" else 0.0)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "r.db"
    optimize(score, SPACE, strategy="random", n_trials=8, seed=5, storage=path, study="demo",
             direction="maximize")
    return path


def test_report_prints_every_trial_and_the_best_configuration(db, tmp_path):
    study = load_study(db, "demo")
    proc = run_cli("report", "--study", "demo", "--storage", db, cwd=tmp_path, check=True)
    best = study.best_trial
    assert "study demo: 8 trials" in proc.stdout
    assert f"best trial {best.number}:" in proc.stdout
    assert f"optimizer={best.params['optimizer']}" in proc.stdout
    assert "8 trials (0 failed, 0 pruned), finished" in proc.stdout


def test_report_json_and_csv_agree_with_storage(db, tmp_path):
    data = json.loads(run_cli("report", "--study", "demo", "--storage", db, "--json",
                              cwd=tmp_path, check=True).stdout)
    values = [t.value for t in load_study(db, "demo").trials]
    assert data["best_validation"] == max(values)
    assert data["direction"] == "maximize" and data["trials"] == 8 and data["failed"] == 0
    assert [r["value"] for r in data["trials_table"]] == values
    out = run_cli("report", "--study", "demo", "--storage", db, "--csv", cwd=tmp_path,
                  check=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 8
    assert list(rows[0])[:4] == ["number", "learning_rate", "n_layers", "optimizer"]
    assert [float(r["value"]) for r in rows] == values  # full precision, not rounded


def test_report_reads_a_running_study_without_touching_it(db, tmp_path):
    storage = Storage(db)
    record = storage.get_study("demo")
    storage.add_trial(record.study_id, Trial(number=8, params={"learning_rate": 0.01,
                      "n_layers": 1, "optimizer": "adam"}, state=TrialState.RUNNING))
    data = json.loads(run_cli("report", "--study", "demo", "--storage", db, "--json",
                              cwd=tmp_path, check=True).stdout)
    assert data["running"] == 1 and data["trials"] == 8
    text = run_cli("report", "--study", "demo", "--storage", db, cwd=tmp_path, check=True).stdout
    assert "1 still running or queued" in text
    # a reader must not re-queue the trial the way a resuming driver does
    assert storage.load_trials(record.study_id)[-1].state is TrialState.RUNNING


def test_report_errors_are_one_line(db, tmp_path):
    proc = run_cli("report", "--study", "dmo", "--storage", db, cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "no study 'dmo'" in proc.stderr and "did you mean 'demo'" in proc.stderr
    proc = run_cli("report", "--study", "demo", "--storage", "missing.db", cwd=tmp_path)
    assert proc.returncode != 0 and "no storage file missing.db" in proc.stderr
    assert not (tmp_path / "missing.db").exists()  # reading never creates a database


def test_html_report_is_self_contained(db, tmp_path):
    run_cli("report", "--study", "demo", "--storage", db, "--html", "out.html", "--plots",
            "plots", cwd=tmp_path, check=True)
    html = (tmp_path / "out.html").read_text()
    # interactive: Plotly inlined, nothing fetched from anywhere, so it opens offline
    markup = re.sub(r"<script>.*?</script>", "<script></script>", html, flags=re.S)
    assert "<script src" not in markup and not re.search(r"(src|href)=['\"]?https?:", markup)
    assert "Plotly.newPlot" in html and len(html) > 1_000_000  # plotly.min.js is inside
    kinds = re.findall(r"data-kind='(\w+)'", html)
    assert kinds[:4] == ["best_so_far", "importances", "slices", "parallel"]
    assert "contour" in kinds and "timeline" in kinds
    figures = [json.loads(s) for s in re.findall(r"\}\)\((\{.*?\})\);</script>", html)]
    curve = figures[0]["data"][0]
    assert curve["x"] == list(range(8))  # trial numbers from 0, as in the table
    trials = html[html.index("<h3>Trials</h3>"):]
    trials = trials[:trials.index("</table>")]
    assert trials.count("<tr") == 1 + 8 and trials.count('class="best"') == 1
    assert "<th>duration s</th>" in trials  # headers for people, not snake_case
    assert "tmp" not in markup.replace(str(db), "")  # no temporary paths in captions
    assert {p.name for p in (tmp_path / "plots").iterdir()} == {
        "best_so_far.png", "params.png", "parallel.png"}


def test_parameter_plot_uses_log_axis_for_log_parameters(db):
    fig = params_figure(load_study(db, "demo"))
    axes = {ax.get_xlabel(): ax for ax in fig.axes if ax.get_xlabel()}
    assert axes["learning_rate (log scale)"].get_xscale() == "log"
    assert axes["n_layers"].get_xscale() == "linear"
    assert [t.get_text() for t in axes["optimizer"].get_xticklabels()] == ["adam", "sgd"]
    assert all(ax.get_ylabel() == "value" for ax in axes.values())
    labels = [t.get_text() for t in parallel_figure(load_study(db, "demo")).axes[0]
              .get_xticklabels()]
    assert labels == ["learning_rate (log)", "n_layers", "optimizer", "value"]


@pytest.mark.filterwarnings("ignore:grid.*were skipped")
def test_best_so_far_is_the_running_best_and_one_line_per_strategy(tmp_path):
    path = tmp_path / "c.db"
    for strategy in ("random", "grid"):
        optimize(score, SPACE, strategy=strategy, n_trials=6, seed=1, storage=path,
                 study=strategy, direction="maximize")
    views = [load_study(path, "random"), load_study(path, "grid")]
    for v in views:
        values = [t.value for t in v.trials]
        assert best_so_far(v) == [max(values[:i + 1]) for i in range(len(values))]
    ax = best_so_far_figure(views).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["random", "grid"]
    assert ax.get_xlabel() == "trial number"
    # the x-axis counts trials from 0, as the tables do
    assert list(ax.lines[0].get_xdata()) == [t.number for t in views[0].trials] == list(range(6))
    assert "higher is better" in ax.get_ylabel()


def test_heatmap_only_for_a_two_parameter_grid(tmp_path, db):
    path = tmp_path / "g.db"
    optimize(lambda p: p["a"] * 10 + p["b"], {"a": {"type": "int", "low": 1, "high": 3},
             "b": [1, 2]}, strategy="grid", storage=path, study="g")
    fig = heatmap_figure(load_study(path, "g"))
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("a", "b")
    cells = sorted(float(t.get_text()) for t in ax.texts)
    assert cells == [11, 12, 21, 22, 31, 32]
    assert heatmap_figure(load_study(db, "demo")) is None  # three parameters vary


def test_genetic_generation_stats_are_plotted_when_present(db, tmp_path):
    assert generations_figure(load_study(db, "demo")) is None  # random: no stats, no error
    path = tmp_path / "ga.db"
    optimize(score, SPACE, strategy="genetic", n_trials=12, seed=2, storage=path, study="ga",
             direction="maximize", population_size=4)
    view = load_study(path, "ga")
    logged = [g for g in view.attrs["strategy_stats"]["generations"] if "max" in g]
    assert len(logged) >= 2  # the genetic plugin's own per-generation records
    ax = generations_figure(view).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["max", "mean", "min"]
    assert list(ax.lines[0].get_ydata()) == [g["max"] for g in logged]
    assert list(ax.lines[1].get_ydata()) == [g["mean"] for g in logged]
    assert ax.get_xlabel() == "generation" and ax.get_ylabel() == "value"


def test_markdown_summary_escapes_and_formats():
    row = summary(load_study_stub())
    text = to_markdown([row], ["strategy", "best_validation", "best_config"])
    assert text.splitlines()[2] == "| random | 0.5 | x=a\\|b |"


def load_study_stub():
    from hpo_framework.results import StudyView

    t = Trial(number=0, params={"x": "a|b"}, state=TrialState.COMPLETE, value=0.5)
    return StudyView("s", "maximize", {"strategy": "random"}, [t])


def test_help_does_not_import_matplotlib():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom hpo_framework.cli import cli\n"
            "r = CliRunner().invoke(cli, ['--help'])\nassert '--repeats' in r.output\n"
            "r = CliRunner().invoke(cli, ['report', '--help'])\nassert '--html' in r.output\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('matplotlib', 'pandas', 'sklearn')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_single_study_output_dir(tmp_path):
    run_cli("--strategy", "random", "--backend", "sklearn", "--trials", "2", "--seed", "0",
            "--no-final-test", "--output", "out", cwd=tmp_path, check=True)
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} >= {"trials.csv", "study.json", "summary.md",
                                              "report.html", "params.png", "parallel.png"}
    data = json.loads((out / "study.json").read_text())
    assert data["study"] == "random-sklearn-digits" and len(data["trials_table"]) == 2
