"""--n-jobs / optimize(n_jobs=...): trials in spawned worker processes, run at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import parallel_helpers
import pytest

from hpo_framework import Space, get_registry, optimize
from hpo_framework.builtin.process import ProcessExecutor

HERE = Path(__file__).resolve().parent


def _overlap(a, b) -> bool:
    return a.user_attrs["start"] < b.user_attrs["end"] and b.user_attrs["start"] < a.user_attrs["end"]


def test_n_jobs_runs_trials_at_once_in_worker_processes(monkeypatch):
    monkeypatch.setenv("HPO_TEST_SLEEP", "0.4")
    study = optimize(parallel_helpers.where, parallel_helpers.SPACE, strategy="random",
                     n_trials=6, n_jobs=2, seed=1)
    trials = study.trials
    assert [t.state.value for t in trials] == ["COMPLETE"] * 6
    pids = {t.user_attrs["pid"] for t in trials}
    assert os.getpid() not in pids and len(pids) == 2  # two workers, reused across trials
    assert sum(_overlap(a, b) for i, a in enumerate(trials) for b in trials[i + 1:]) >= 3
    # workers cap their math libraries so that 2 workers do not oversubscribe the cores
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    assert {t.user_attrs["omp"] for t in trials} == {threads}
    assert {t.user_attrs["tf"] for t in trials} == {threads}


def test_a_closure_is_shipped_once_and_kept_by_each_worker():
    calls = {"n": 0}
    offset = 10.0

    def objective(params):  # a closure over local state: needs cloudpickle
        calls["n"] += 1
        return {"value": params["x"] + offset,
                "user_attrs": {"pid": os.getpid(), "call": calls["n"]}}

    study = optimize(objective, {"x": {"type": "float", "low": 0, "high": 1}}, strategy="random",
                     n_trials=8, n_jobs=2, seed=3)
    assert all(10.0 <= t.value <= 11.0 for t in study.trials)
    by_pid: dict[int, list[int]] = {}
    for t in study.trials:
        by_pid.setdefault(t.user_attrs["pid"], []).append(t.user_attrs["call"])
    # the objective object lives on in each worker: its counter goes 1, 2, 3, ...
    for calls_seen in by_pid.values():
        assert sorted(calls_seen) == list(range(1, len(calls_seen) + 1))
    assert calls["n"] == 0  # nothing ran in the driver


def test_a_script_without_a_main_guard_still_works(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from hpo_framework import optimize\n"
        "s = optimize(lambda p: p['x'] ** 2, {'x': {'type': 'float', 'low': -1, 'high': 1}},\n"
        "             strategy='random', n_trials=4, n_jobs=2, seed=0)\n"
        "print(len(s.complete_trials))\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "4"
    assert "bootstrapping phase" not in proc.stderr


def test_cli_n_jobs_trains_sklearn_models_in_parallel(tmp_path, cli_run):
    proc = cli_run("--strategy", "random", "--backend", "sklearn", "--dataset", "digits",
                   "--trials", "4", "--n-jobs", "2", "--seed", "0", "--no-final-test",
                   "--storage", tmp_path / "p.db", "--json", "-B", "max_iter=3")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [t["state"] for t in out["trials"]] == ["COMPLETE"] * 4
    assert all(0.0 < t["value"] <= 1.0 for t in out["trials"])
    assert "database is locked" not in proc.stderr


def _running_together(study) -> list[tuple[int, int]]:
    """Pairs of trials whose run times overlapped (from the stored timestamps)."""
    trials = [t for t in study.trials if t.datetime_start and t.datetime_complete]
    return [(a.number, b.number) for i, a in enumerate(trials) for b in trials[i + 1:]
            if a.datetime_start < b.datetime_complete and b.datetime_start < a.datetime_complete]


SMALL_SPACE = {
    "a": {"type": "int", "low": 0, "high": 3},
    "b": {"type": "categorical", "choices": ["p", "q", "r"]},
}


@pytest.mark.filterwarnings("ignore:grid.*skipped")
@pytest.mark.parametrize("name", ["random", "grid", "bayes", "genetic"])
def test_a_batch_never_repeats_a_configuration(name):
    """ask(n) hands out n different configurations, and no two running trials share one."""
    cls = get_registry().get("strategy", name)  # make test installs every one of them
    space = Space.from_dict(SMALL_SPACE)
    strategy = cls(space, seed=0)
    batch = strategy.ask(4)
    assert len(batch) == 4
    assert len({space.key(space.active(p)) for p in batch}) == 4

    def objective(params):
        time.sleep(0.1)
        return params["a"] + {"p": 0, "q": 1, "r": 2}[params["b"]]

    study = optimize(objective, SMALL_SPACE, strategy=name, n_trials=8, n_jobs=3, seed=0)
    assert len(study.finished_trials) == 8
    for i, j in _running_together(study):
        a, b = study.trials[i], study.trials[j]
        assert space.key(a.params) != space.key(b.params), (name, a.params)


def test_process_executor_option_errors_are_one_line(tmp_path, cli_run):
    proc = cli_run("--strategy", "random", "--trials", "1", "--n-jobs", "2", "-X", "threads=0",
                   "--storage", tmp_path / "x.db")
    assert proc.returncode != 0
    assert "Error: executor 'process': option 'threads' must be >= 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    with pytest.raises(Exception, match="unknown option 'bogus'"):
        ProcessExecutor(n_jobs=2, bogus=1)
