"""hpo-run dashboard: the plugin's command, its JSON API and the pages in a real browser.

A real study runs with hpo-run on digits; the dashboard is the installed plugin started
as a user starts it; the browser is Debian's headless Chromium (tests/browser.py)."""

import hashlib
import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from clitools import BIN, run_cli

from hpo_framework.results import load_study

RUN = ["--strategy", "random", "--backend", "sklearn", "--dataset", "digits", "--seed", "0",
       "--no-final-test", "-B", "max_iter=30"]


def _run_study(cwd, study, trials):
    run_cli(*RUN, "--trials", str(trials), "--storage", "dash.db", "--study", study, cwd=cwd,
            check=True)


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("dash")
    _run_study(cwd, "live", 2)
    _run_study(cwd, "other", 2)
    return cwd / "dash.db"


def _first_line(proc, timeout=60.0):
    """The dashboard's first stdout line ('dashboard: URL ...'), as soon as it is printed."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError("the dashboard printed no address")
        chunk = os.read(proc.stdout.fileno(), 1)
        if not chunk:
            raise AssertionError(f"the dashboard exited: {proc.stderr.read().decode()}")
        line += chunk
    return line.decode()


def _start(storage_path, *args):
    proc = subprocess.Popen([str(BIN / "hpo-run"), "dashboard", "--storage", str(storage_path),
                             "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    line = _first_line(proc)
    return proc, line.split()[1]


def _stop(proc):
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def dashboard(storage):
    proc, url = _start(storage)
    yield url
    _stop(proc)


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_api_lists_the_studies_and_trials_storage_holds(storage, dashboard):
    before = _digest(storage)
    status, data = _get(dashboard + "api/studies")
    assert status == 200
    assert [s["name"] for s in data["studies"]] == ["live", "other"]
    live = load_study(storage, "live")
    row = data["studies"][0]
    assert (row["strategy"], row["backend"], row["dataset"]) == ("random", "sklearn", "digits")
    assert row["trials"] == 2 and row["state"] == "finished"
    assert row["best"] == live.best_trial.value
    status, data = _get(dashboard + "api/studies/live/trials")
    assert status == 200
    assert [t["number"] for t in data["trials"]] == [0, 1]
    assert [t["value"] for t in data["trials"]] == [t.value for t in live.trials]
    assert [t["params"] for t in data["trials"]] == [t.params for t in live.trials]
    assert data["trials"][0]["intermediate"] == live.trials[0].intermediate != []
    status, data = _get(dashboard + "api/studies/lve/trials")
    assert status == 404 and "did you mean 'live'" in data["error"]
    assert _digest(storage) == before  # reading wrote nothing


def test_figures_and_compare_api(dashboard):
    status, data = _get(dashboard + "api/studies/live/figures")
    assert status == 200
    assert {"best_so_far", "slices", "parallel", "contour", "learning_curves",
            "timeline"} <= set(data["figures"])
    assert data["figures"]["best_so_far"]["data"][0]["x"] == [0, 1]
    assert data["importances"]["importances"] == {}  # 2 trials: too few, and it says so
    assert "at least 4" in data["importances"]["note"]
    status, data = _get(dashboard + "api/studies/live/figures?x=n_layers&y=solver")
    assert data["figures"]["contour"]["pair"] == ["n_layers", "solver"]
    status, data = _get(dashboard + "api/studies/live/figures?x=n_layers&y=n_layers")
    assert status == 400 and "two different parameters" in data["error"]
    status, data = _get(dashboard + "api/compare?studies=live,other")
    assert [r["study"] for r in data["studies"]] == ["live", "other"]
    best = max(data["studies"], key=lambda r: r["best_validation"])
    assert data["winner"] == best["study"]
    assert data["studies"][0]["setup"]["evaluator"] == "holdout"


def test_a_non_local_host_says_who_can_see_the_data(storage):
    proc, url = _start(storage, "--host", "0.0.0.0")
    try:
        assert url.startswith("http://0.0.0.0:")
        status, _ = _get(url.replace("0.0.0.0", "127.0.0.1") + "api/studies")
        assert status == 200
    finally:
        _stop(proc)
    err = proc.stderr.read().decode()
    assert "warning: listening on 0.0.0.0" in err and "become visible" in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_storage_is_one_line_and_creates_nothing(tmp_path):
    proc = run_cli("dashboard", "--storage", "nothing.db", "--port", "0", cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "no storage file nothing.db" in proc.stderr
    assert not (tmp_path / "nothing.db").exists()


def test_help_lists_the_command_and_imports_no_server():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom hpo_framework.cli import cli\n"
            "r = CliRunner().invoke(cli, ['--help'])\nassert 'dashboard' in r.output, r.output\n"
            "r = CliRunner().invoke(cli, ['dashboard', '--help'])\nassert '--port' in r.output\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('starlette', 'uvicorn', 'plotly', 'sklearn', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# the browser ----------------------------------------------------------------------------
ROWS = "document.querySelectorAll('#trials tbody tr').length"
DONE = "document.querySelectorAll('#trials tbody td.state-COMPLETE').length"


@pytest.fixture(scope="module")
def browser():  # one Chromium for the module: each test opens its own pages
    from browser import CHROMIUM, Browser

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing and could not be installed (make test installs "
                    "Debian's chromium when run as root: apt-get install chromium)")
    with Browser() as b:
        b.call("Emulation.setDeviceMetricsOverride", session=True, width=1400, height=1800,
               deviceScaleFactor=1, mobile=False)
        yield b


def test_the_pages_follow_a_running_study(storage, dashboard, browser, tmp_path):
    browser.goto(dashboard + "study/live")
    assert browser.wait_for(f"{ROWS} === 2 && {ROWS}") == 2
    # a chart is drawn: Plotly's SVG with the best-so-far line through both trials
    assert browser.wait_for("document.querySelector('#fig-best_so_far .main-svg') && "
                            "document.getElementById('fig-best_so_far').data[0].x.length") == 2
    assert browser.evaluate("document.querySelector('#trials tr.best td').textContent") == \
        str(load_study(storage, "live").best_trial.number)
    browser.evaluate("window.loadedOnce = true")  # gone if the page reloads
    # the same study resumed by another hpo-run while the page is open
    run = subprocess.Popen([str(BIN / "hpo-run"), *RUN, "--trials", "5", "--storage",
                            storage.name, "--study", "live"], cwd=storage.parent,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert browser.wait_for(f"{DONE} >= 3 && window.loadedOnce === true && {DONE}",
                                timeout=300) >= 3
        # every study, while the run goes on
        browser.goto(dashboard)
        done = browser.wait_for("Number(document.querySelector(\"tr[data-study='live'] "
                                "td.trials\")?.textContent)")
        assert 3 <= done <= 5
        browser.goto(dashboard + "study/live")
        assert browser.wait_for(f"{DONE} === 5 && document.getElementById('fig-best_so_far')"
                                ".data[0].x.length === 5", timeout=300)
    finally:
        out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert "locked" not in err  # the dashboard never blocked the study
    assert [t.state.value for t in load_study(storage, "live").trials] == ["COMPLETE"] * 5
    # sorting by the score (the server sorts) puts the best trial first when descending
    browser.evaluate("document.querySelector(\"#trials th[data-key='value']\").click()")
    browser.wait_for("document.querySelector(\"#trials th.sorted-asc[data-key='value']\")")
    browser.evaluate("document.querySelector(\"#trials th[data-key='value']\").click()")
    first = browser.wait_for("document.querySelector(\"#trials th.sorted-desc[data-key='value']\")"
                             " && document.querySelector('#trials tbody tr').dataset.number")
    assert first == str(load_study(storage, "live").best_trial.number)
    browser.evaluate("const f = document.getElementById('filter'); f.value = 'zzz-no-match';"
                     "f.dispatchEvent(new Event('input'))")
    assert browser.wait_for(f"{ROWS} === 0 && document.getElementById('shown').textContent"
                            ) == "0 of 5 trials"
    browser.screenshot(tmp_path / "study.png")
    # two studies side by side, the winner marked
    browser.goto(dashboard + "compare?studies=live,other")
    winner = browser.wait_for("document.querySelector('#compare tr.winner')?.dataset.study")
    assert winner == max(("live", "other"), key=lambda n: load_study(storage, n).best_trial
                         .value)
    assert browser.wait_for("document.getElementById('fig-best_so_far').data?.length") == 2


# one trial's view, cheap polls, the tool bar -----------------------------------------------
KNOWN_SPACE = {"lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
               "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]}}


def _tell_one(study, i):
    """Trial i of the known study: COMPLETE with a 3-step curve and metrics, but every
    4th FAILED with an error and every 5th PRUNED after one step."""
    import hpo_framework as hpo

    trial = study.ask()
    trial.set_user_attr("note", f"hello {i}")
    if i % 4 == 3:
        return study.tell(trial, hpo.TrialState.FAILED, error=f"ValueError: boom {i}")
    steps = 1 if i % 5 == 4 else 3
    for step in range(steps):
        trial.report(0.5 + 0.1 * step + i / 100, step)
    if steps == 1:
        return study.tell(trial, hpo.TrialState.PRUNED)
    return study.tell(trial, 0.7 + i / 100, metrics={"train_s": 0.25 + i, "n_params": 100 * i})


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """A study told by ask-and-tell (auto: each trial says which model proposed it)."""
    import hpo_framework as hpo

    db = tmp_path_factory.mktemp("known") / "known.db"
    with hpo.create_study(KNOWN_SPACE, strategy="auto", storage=db, name="known", seed=0,
                          direction="maximize") as study:
        for i in range(6):
            _tell_one(study, i)
    proc, url = _start(db)
    yield db, url
    _stop(proc)


def _raw(url, etag=None):
    request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.headers.get("ETag"), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("ETag"), exc.read()


def test_a_trial_answers_its_params_curve_metrics_error_and_attributes(known):
    db, url = known
    trials = load_study(db, "known").trials
    status, data = _get(url + "api/studies/known/trials/2")
    assert status == 200
    t = trials[2]
    assert (data["number"], data["state"], data["value"]) == (2, "COMPLETE", t.value)
    assert data["params"] == t.params and data["metrics"] == t.metrics != {}
    assert data["intermediate"] == t.intermediate and len(t.intermediate) == 3
    assert data["user_attrs"]["note"] == "hello 2"
    assert data["user_attrs"]["proposed_by"] == t.user_attrs["proposed_by"]
    assert "proposal_s" in data["user_attrs"]
    assert (data["previous"], data["next"]) == (1, 3)
    curve = data["curve"]["data"][0]
    assert curve["x"] == [0, 1, 2] and curve["y"] == [s["value"] for s in t.intermediate]
    status, data = _get(url + "api/studies/known/trials/3")
    assert (data["state"], data["error"]) == ("FAILED", "ValueError: boom 3")
    assert data["curve"] is None
    status, data = _get(url + "api/studies/known/trials/4")
    assert data["state"] == "PRUNED" and data["error"] is None
    assert len(data["curve"]["data"][0]["x"]) == 1
    status, data = _get(url + "api/studies/known/trials/60")
    assert status == 400 and data["error"] == "study 'known' has no trial 60 (trials 0 to 5)"


def test_the_trial_view_opens_from_the_table_and_from_a_chart(known, browser):
    db, url = known
    view = load_study(db, "known")
    browser.goto(url + "study/known")
    browser.wait_for("document.querySelector(\"#trials tr[data-number='2'] td:nth-child(3)\")")
    browser.evaluate("document.querySelector(\"#trials tr[data-number='2'] td:nth-child(3)\")"
                     ".click()")
    browser.wait_for("location.pathname === '/study/known/trial/2'")
    params = browser.wait_for("[...document.querySelectorAll('#params tr')].length === 2 && "
                              "Object.fromEntries([...document.querySelectorAll('#params tr')]"
                              ".map(r => [r.dataset.key, r.querySelector('td').textContent]))")
    t = view.trials[2]
    assert params == {"lr": f"{t.params['lr']:.4g}", "optimizer": t.params["optimizer"]}
    attrs = browser.evaluate("Object.fromEntries([...document.querySelectorAll('#user-attrs tr')]"
                             ".map(r => [r.dataset.key, r.querySelector('td').textContent]))")
    assert attrs["note"] == "hello 2" and attrs["proposed_by"] == t.user_attrs["proposed_by"]
    assert "proposal_s" in attrs
    metrics = browser.evaluate("[...document.querySelectorAll('#metrics tr')]"
                               ".map(r => r.dataset.key)")
    assert sorted(metrics) == sorted(t.metrics)
    ys = browser.wait_for("document.querySelector('#fig-curve .main-svg') && "
                          "document.getElementById('fig-curve').data[0].y")
    assert ys == [s["value"] for s in t.intermediate]
    assert browser.evaluate("document.getElementById('state').textContent") == "COMPLETE"
    # the failed trial's own URL: its error shown
    browser.goto(url + "study/known/trial/3")
    assert browser.wait_for("document.getElementById('error').textContent") == \
        "ValueError: boom 3"
    # a click on a chart's point (the mouse, through the browser) opens that trial
    browser.goto(url + "study/known")
    box = browser.wait_for(
        "(() => { const d = document.getElementById('fig-best_so_far');"
        " const pts = d && d.querySelectorAll('.scatterlayer .trace:nth-child(2) .point');"
        " if (!pts || !pts.length) return null;"
        " const r = pts[pts.length - 1].getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", session=True, type=kind, x=box[0], y=box[1],
                     button="left", clickCount=1)
    last = max(t.number for t in view.complete_trials)
    browser.wait_for(f"location.pathname === '/study/known/trial/{last}'")
    assert browser.wait_for("document.getElementById('title').textContent") == f"trial {last}"


def test_the_tool_bar_never_covers_a_title(known, browser):
    _, url = known
    browser.goto(url + "study/known")
    browser.wait_for("document.querySelector('#fig-learning_curves .main-svg')")
    overlaps = browser.evaluate("""[...document.querySelectorAll('.js-plotly-plot')]
        .filter(d => d.querySelector('.modebar') && d.querySelector('.gtitle'))
        .map(d => { const m = d.querySelector('.modebar').getBoundingClientRect();
                    const t = d.querySelector('.gtitle').getBoundingClientRect();
                    return [d.id, m.bottom > t.top && t.bottom > m.top && m.right > t.left
                                  && t.right > m.left, m.height > 0 && t.width > 0]; })""")
    assert len(overlaps) >= 4, overlaps
    assert all(seen for _, _, seen in overlaps), overlaps
    assert [i for i, hit, _ in overlaps if hit] == []


def test_unchanged_polls_send_nothing_and_a_new_trial_shows_up(known, browser):
    import hpo_framework as hpo

    db, url = known
    api = url + "api/studies/known/figures?nested=1&limit=100"
    status, etag, body = _raw(api)
    assert status == 200 and etag
    answer = json.loads(body)
    assert "best_so_far" in answer["all"]["figures"]
    status, again, body = _raw(api, etag)
    assert (status, again, body) == (304, etag, b"")  # unchanged: no body at all
    # the figures the page holds are not sent again when only the table's query changes
    status, _, body = _raw(api + "&sort=value&have=" + answer["figures_tag"])
    assert status == 200 and json.loads(body)["all"] is None
    assert json.loads(body)["page"]["trials"][0]["number"] == 0  # sorted: lowest first
    # the page: once drawn, its polls are answered 304 with no body
    browser.goto(url + "study/known")
    n = len(load_study(db, "known").trials)
    browser.wait_for(f"document.querySelectorAll('#trials tbody tr').length === {n}")
    polls = ("performance.getEntriesByType('resource').filter(e => e.name.includes('/figures'))"
             ".map(e => [e.responseStatus, e.encodedBodySize])")
    seen = browser.wait_for(f"{polls}.length >= 5 && {polls}", timeout=60)
    # the first request has the headline chart; the second, at once, the other charts
    first, rest = json.loads(_raw(api + "&headline=1")[2]), answer["all"]
    assert set(first["all"]["figures"]) == {"best_so_far"}
    assert {"slices", "parallel"} <= set(first["all"]["pending"]) & set(rest["figures"])
    assert seen[0][0] == 200 and seen[0][1] > 0 and seen[1][0] == 200 and seen[1][1] > 0
    assert all(entry == [304, 0] for entry in seen[2:]), seen
    # a trial told by another driver shows up in the table, the header and the chart
    with hpo.create_study(KNOWN_SPACE, strategy="auto", storage=db, name="known",
                          seed=0, direction="maximize") as study:
        _tell_one(study, n)
    browser.wait_for(f"document.querySelectorAll('#trials tbody tr').length === {n + 1}")
    assert browser.wait_for(f"document.getElementById('fig-best_so_far').data[0].x.length "
                            f"=== {n + 1}")
    assert f"{n + 1} finished" in browser.evaluate(
        "document.getElementById('summary').textContent")
    status, _, _ = _raw(api, etag)
    assert status == 200  # the study changed: the old etag no longer matches
