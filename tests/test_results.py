"""The results package: imports pointing down only, read-only readers, importances and the
figures' fixes (conditional parameters, trial numbers from 0, held-fixed parameters)."""

import base64
import hashlib
import json
import math
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import run_cli
from test_layout import MODULES, PKG, imports_of

from hpo_framework import optimize
from hpo_framework.contracts.trial import Trial, TrialState
from hpo_framework.results import load_study
from hpo_framework.results.figures import (
    INACTIVE,
    best_so_far_figure,
    heatmap_figure,
    parallel_figure,
    params_figure,
)
from hpo_framework.results.importance import importances
from hpo_framework.results.interactive import (
    contour_spec,
    learning_curves_spec,
    parallel_spec,
    study_figures,
)
from hpo_framework.results.model import StudyView


def test_results_import_only_downwards():
    # _lazy (the PEP 562 loader) is a leaf below every layer: it imports nothing of ours
    assert imports_of(PKG / "_lazy.py", top_level_only=False) & set(MODULES) == set()
    allowed = ("hpo_framework.results", "hpo_framework.contracts.trial",
               "hpo_framework.contracts.pareto", "hpo_framework.space",
               "hpo_framework.errors", "hpo_framework.study.storage", "hpo_framework._lazy")
    files = [p for m, p in MODULES.items() if m.startswith("hpo_framework.results")]
    assert len(files) >= 9
    for path in files:
        bad = {t for t in imports_of(path, top_level_only=False) & set(MODULES)
               if not t.startswith(allowed)}
        assert bad == set(), f"{path.name} imports {bad}"


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_a_report_never_writes_the_file_nor_changes_its_journal(tmp_path):
    db = tmp_path / "ro.db"
    code = ("from hpo_framework import optimize\n"
            "optimize(lambda p: p['x'] ** 2, {'x': {'type': 'float', 'low': -1, 'high': 1}},"
            f" strategy='random', n_trials=5, seed=0, storage={str(db)!r}, study='q')")
    subprocess.run([sys.executable, "-c", code], check=True)  # the writer is gone after
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    conn.close()
    before = _digest(db)
    db.chmod(0o444)  # a reader must not need write access to the file
    try:
        data = json.loads(run_cli("report", "--storage", db, "--study", "q", "--json",
                                  cwd=tmp_path, check=True).stdout)
    finally:
        db.chmod(0o644)
    assert data["trials"] == 5
    assert _digest(db) == before
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone() == ("delete",)


def _view(trials, space, direction="maximize"):
    return StudyView("v", direction, {"strategy": "random", "space": space}, trials)


CONDITIONAL = {
    "model": ["linear", "tree"],
    "alpha": {"type": "float", "low": 1e-3, "high": 1.0, "log": True,
              "condition": {"model": "linear"}},
    "depth": {"type": "int", "low": 1, "high": 6, "condition": {"model": "tree"}},
    "never": {"type": "float", "low": 0, "high": 1, "condition": {"model": "other"}},
}


def _conditional_study():
    trials = []
    for n in range(10):
        params = {"model": "linear", "alpha": 10 ** -(n % 3)} if n % 2 else \
            {"model": "tree", "depth": 1 + n % 6}
        trials.append(Trial(number=n, params=params, state=TrialState.COMPLETE,
                            value=0.5 + 0.04 * n))
    return _view(trials, CONDITIONAL)


def test_conditional_parameters_leave_no_empty_panel_and_no_broken_line():
    view = _conditional_study()
    fig = params_figure(view)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_xlabel()
              and ax.get_xlabel() != "trial number"]
    labels = [ax.get_xlabel() for ax in panels]
    assert labels == ["model", "alpha (log scale) (active in 5 of 10)",
                      "depth (active in 5 of 10)"]  # 'never' is inactive in every trial
    assert len({ax.get_ylim() for ax in panels}) == 1  # one score axis for all panels
    ax = parallel_figure(view).axes[0]
    lines = [ln for ln in ax.lines if len(ln.get_xdata()) == 5]
    assert len(lines) == 10 and all(not any(math.isnan(y) for y in ln.get_ydata())
                                    for ln in lines)
    assert "inactive" in [t.get_text() for t in ax.texts]
    spec = parallel_spec(view)["data"][0]["dimensions"]
    depth = next(d for d in spec if d["label"] == "depth")
    assert depth["values"].count(INACTIVE) == 5 and depth["ticktext"][0] == "inactive"


def test_heatmap_names_the_parameters_held_fixed(tmp_path):
    path = tmp_path / "g.db"
    optimize(lambda p: p["a"] * 10 + p["b"], {"a": {"type": "int", "low": 1, "high": 3},
             "b": [1, 2], "c": ["only"]}, strategy="grid", storage=path, study="g")
    title = heatmap_figure(load_study(path, "g")).axes[0].get_title()
    assert "held fixed: c=only" in title


def test_repeated_strategies_get_one_panel_each(tmp_path):
    path = tmp_path / "r.db"
    space = {"x": {"type": "float", "low": 0, "high": 1}}
    for strategy in ("random", "grid"):
        for seed in (0, 1):
            optimize(lambda p: p["x"], space, strategy=strategy, n_trials=4, seed=seed,
                     storage=path, study=f"{strategy}-{seed}", direction="maximize")
    views = [load_study(path, f"{s}-{k}") for s in ("random", "grid") for k in (0, 1)]
    fig = best_so_far_figure(views)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["random", "grid"]
    assert all(len(ax.collections) == 1 for ax in panels)  # one band per panel, not four


def test_importances_find_the_parameter_that_matters():
    trials = []
    for n in range(30):
        lr, units, noise = 10 ** (-3 + (n * 7 % 30) / 15), 5 + (n * 11) % 11, (n * 13) % 7
        trials.append(Trial(number=n, params={"lr": lr, "units": units, "noise": noise},
                            state=TrialState.COMPLETE, value=-(math.log10(lr) + 2) ** 2))
    space = {"lr": {"type": "float", "low": 1e-3, "high": 10.0, "log": True},
             "units": {"type": "int", "low": 5, "high": 15},
             "noise": {"type": "int", "low": 0, "high": 6}}
    result = importances(_view(trials, space))
    shares = result["importances"]
    assert list(shares)[0] == "lr" and shares["lr"] > 0.8
    assert abs(sum(shares.values()) - 1) < 1e-3
    assert result["method"] == "random-forest permutation importance"
    assert importances(_view(trials, space)) == result  # seeded: the same every time
    few = importances(_view(trials[:3], space))
    assert few["importances"] == {} and "at least 4" in few["note"]


def test_report_json_and_table_carry_importances(tmp_path):
    db = tmp_path / "i.db"
    optimize(lambda p: p["a"] + 0.001 * p["b"], {"a": {"type": "float", "low": 0, "high": 1},
             "b": {"type": "float", "low": 0, "high": 1}}, strategy="random", n_trials=12,
             seed=1, storage=db, study="imp", direction="maximize")
    data = json.loads(run_cli("report", "--storage", db, "--json", cwd=tmp_path,
                              check=True).stdout)
    assert list(data["importances"]["importances"]) == ["a", "b"]
    assert data["setup"]["strategy"] == "random"
    text = run_cli("report", "--storage", db, cwd=tmp_path, check=True).stdout
    assert "parameter importances" in text
    assert "random-forest permutation importance" in text
    row = next(line for line in text.splitlines() if line.strip(" │|").startswith("a "))
    assert f"{data['importances']['importances']['a']:.3f}" in row


def test_learning_curves_mark_pruned_trials_and_contour_takes_any_pair():
    space = {"a": {"type": "float", "low": 0, "high": 1},
             "b": {"type": "float", "low": 0, "high": 1}, "c": ["x", "y"]}
    trials = [Trial(number=n, params={"a": n / 10, "b": (n * 3 % 10) / 10, "c": "xy"[n % 2]},
                    state=TrialState.PRUNED if n in (2, 5) else TrialState.COMPLETE,
                    value=None if n in (2, 5) else n / 10,
                    intermediate=[{"step": s, "value": n / 10 * s / 3} for s in
                                  range(2 if n in (2, 5) else 4)]) for n in range(8)]
    view = _view(trials, space)
    curves = learning_curves_spec(view)["data"]
    names = [c["name"] for c in curves if c.get("showlegend", True)]
    assert "trial 2 (pruned)" in names and "trial 5 (pruned)" in names
    assert "trial 7 (best)" in names
    pruned = next(c for c in curves if c["name"] == "trial 2 (pruned)")
    assert pruned["line"]["dash"] == "dot" and pruned["x"] == [0, 1]
    spec = contour_spec(view, "a", "c")
    assert spec["pair"] == ["a", "c"] and spec["layout"]["yaxis"]["type"] == "category"
    with pytest.raises(ValueError, match="two different parameters"):
        contour_spec(view, "a", "a")
    assert {"best_so_far", "slices", "parallel", "contour", "learning_curves"} <= set(
        study_figures(view))


def _report_in_a_process(tmp_path, before: str) -> str:
    """The HTML report of a 4-trial study, written by a fresh process that first runs
    ``before``."""
    db = tmp_path / "p.db"
    code = (f"{before}\n"
            "from hpo_framework import optimize\n"
            "from hpo_framework.results import load_study\n"
            "from hpo_framework.results.html import study_html\n"
            "optimize(lambda p: p['x'], {'x': {'type': 'float', 'low': 0, 'high': 1}}, "
            f"strategy='random', n_trials=4, seed=0, storage={str(db)!r}, study='p')\n"
            f"study_html(load_study({str(db)!r}, 'p'), {str(tmp_path / 'r.html')!r})\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    return (tmp_path / "r.html").read_text()


def test_the_html_report_needs_no_plotly_package(tmp_path):
    """plotly.js is the core's own partial bundle: no plotly package is imported."""
    html = _report_in_a_process(tmp_path, "import sys\nsys.modules['plotly'] = None")
    assert "hpoFigure('fig1'" in html and "plotly.js v4.1.1, a partial bundle" in html
    assert "data:image/png" not in html


def test_an_install_without_the_bundle_embeds_the_pngs(tmp_path):
    html = _report_in_a_process(tmp_path, (
        "from pathlib import Path\nfrom hpo_framework.results import interactive\n"
        "interactive.PLOTLY_JS = Path('/nonexistent/plotly-hpo.min.js')"))
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) >= 3 and "Plotly" not in html
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    assert captions[:3] == ["p: best so far", "p: params", "p: parallel"]
