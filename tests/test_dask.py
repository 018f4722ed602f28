"""--executor dask: a real `dask scheduler` and `dask worker` processes on 127.0.0.1."""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import parallel_helpers
import pytest
from clitools import wait_until

from hpo_framework import optimize

pytest.importorskip("distributed")
pytest.importorskip("hpo_dask")

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """tcp://127.0.0.1:PORT of a scheduler with two single-threaded worker processes."""
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           # a worker death fails the task at once; --retries is the knob under test
           "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    procs = []
    try:
        procs.append(subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port",
             address.rsplit(":", 1)[1], "--no-dashboard"],
            env=env, stdout=open(logs / "scheduler.log", "w"), stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen(
            [str(BIN / "dask"), "worker", address, "--nworkers", "2", "--nthreads", "1",
             "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0",
             "--death-timeout", "60"],
            env=env, stdout=open(logs / "workers.log", "w"), stderr=subprocess.STDOUT))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _cached_datasets() -> list[str]:
    from hpo_framework.jobs import pipeline

    return pipeline.datasets.keys()


@pytest.mark.slow
def test_cli_runs_a_study_on_a_dask_cluster(scheduler, tmp_path, cli_run):
    from distributed import Client

    proc = cli_run("--strategy", "random", "--backend", "sklearn", "--dataset", "digits",
                   "--trials", "4", "--seed", "0", "--no-final-test", "--scheduler", scheduler,
                   "--storage", tmp_path / "d.db", "--json", "-B", "max_iter=3")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [t["state"] for t in out["trials"]] == ["COMPLETE"] * 4
    with Client(scheduler, timeout=30) as client:
        cached = client.run(_cached_datasets)
    # the trials ran on the workers, which got the driver's digits with the objective
    assert any(any("digits" in key for key in keys) for keys in cached.values())


@pytest.mark.slow
def test_a_dask_worker_killed_mid_trial_is_retried(scheduler, tmp_path):
    victim = tmp_path / "victim.pid"
    killed: list[int] = []
    thread = parallel_helpers.kill_when_ready(victim, killed)
    objective = functools.partial(parallel_helpers.victim_at, str(victim))
    study = optimize(objective, parallel_helpers.SPACE, strategy="random", n_trials=4, seed=2,
                     executor="dask", executor_options={"scheduler": scheduler}, retries=1)
    thread.join(5)
    assert killed and killed[0] != os.getpid()
    assert len(study.finished_trials) == 4
    assert all(t.state.value == "COMPLETE" for t in study.trials)
    # the victim's trial was lost with its worker and ran again; so was any trial the
    # scheduler had already queued on that worker (Dask fails every task a dead worker
    # held), each once, while the trials on the other worker ran once
    hit = [t for t in study.trials if t.user_attrs.get("worker_lost")]
    assert hit and [(t.user_attrs["worker_lost"], t.attempts) for t in hit] == [(1, 2)] * len(hit)
    assert [t.attempts for t in study.trials if t not in hit] == [1] * (4 - len(hit))


@pytest.mark.slow
def test_a_dask_trial_past_the_timeout_is_failed_and_its_worker_restarted(scheduler, tmp_path):
    victim = tmp_path / "victim.pid"
    objective = functools.partial(parallel_helpers.victim_at, str(victim))
    started = time.monotonic()
    study = optimize(objective, parallel_helpers.SPACE, strategy="random", n_trials=4, seed=3,
                     executor="dask", executor_options={"scheduler": scheduler},
                     trial_timeout=2.0)
    assert time.monotonic() - started < 60  # the victim would hang for 120 s
    states = [t.state.value for t in study.trials]
    assert states.count("FAILED") == 1 and states.count("COMPLETE") == 3
    failed = next(t for t in study.trials if t.state.value == "FAILED")
    assert failed.error == "timeout: stopped after 2s (--trial-timeout)"
    pid = int(victim.read_text())
    # the worker process running it was replaced
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), "exit of the timed-out worker",
               limit=30)


@pytest.mark.slow
def test_dask_without_an_address_starts_a_local_cluster():
    study = optimize(parallel_helpers.where, parallel_helpers.SPACE, strategy="random",
                     n_trials=4, n_jobs=2, seed=1, executor="dask")
    assert [t.state.value for t in study.trials] == ["COMPLETE"] * 4
    pids = {t.user_attrs["pid"] for t in study.trials}
    assert os.getpid() not in pids


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path, cli_run):
    proc = cli_run("--strategy", "random", "--trials", "1", "--storage", tmp_path / "u.db",
                   "--scheduler", f"tcp://127.0.0.1:{_free_port()}", "-X", "connect_timeout=1")
    assert proc.returncode != 0
    assert "Error: executor 'dask': no workers at tcp://127.0.0.1:" in proc.stderr
    assert "Traceback" not in proc.stderr
