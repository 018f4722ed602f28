"""Cheap real objectives for the parallel, fault and Dask tests.

Importable by worker processes and by drivers run as ``python parallel_helpers.py``
(the tests put this directory on PYTHONPATH), so nothing here is a mock: trials run
in real processes and real Dask workers and really sleep, fail or die.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

SPACE = {
    "x": {"type": "float", "low": -5.0, "high": 5.0},
    "n": {"type": "int", "low": 0, "high": 1000},
}


def where(params: dict) -> dict:
    """Sleep a little; report which process ran the trial and when."""
    start = time.time()
    time.sleep(float(os.environ.get("HPO_TEST_SLEEP", "0.3")))
    return {"value": (params["x"] - 1.0) ** 2,
            "user_attrs": {"pid": os.getpid(), "start": start, "end": time.time(),
                           "omp": os.environ.get("OMP_NUM_THREADS"),
                           "tf": os.environ.get("TF_NUM_INTRAOP_THREADS")}}


def short(params: dict) -> float:
    """A trial of 50-375 ms, its length a function of its params (so reruns agree)."""
    time.sleep(0.05 + (params["n"] % 14) / 40.0)
    return (params["x"] - 1.0) ** 2 + params["n"] / 1000.0


def victim(params: dict) -> float:
    """The first trial to get here writes its pid to $HPO_TEST_VICTIM and hangs (until a
    test kills its process); every other trial, and that one's retry, returns at once."""
    return victim_at(os.environ["HPO_TEST_VICTIM"], params)


def victim_at(path: str | Path, params: dict) -> float:
    """:func:`victim` with the pid file given (Dask workers do not see the test's env)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        time.sleep(0.05)
        return params["x"] ** 2
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    time.sleep(120)
    return 0.0


def wait_for_pid(path: Path, timeout: float = 60.0) -> int:
    """The pid a victim trial wrote, once it is there."""
    from clitools import wait_until

    def written() -> int | None:
        text = path.read_text().strip() if path.exists() else ""
        return int(text) if text else None

    return wait_until(written, "victim trial", limit=timeout)


def kill_when_ready(victim: Path, killed: list[int]) -> threading.Thread:
    """SIGKILL the process running the victim trial as soon as it has written its pid (it
    then sleeps in the trial, so the kill lands mid-trial); its pid goes to ``killed``."""
    import signal

    def kill() -> None:
        pid = wait_for_pid(victim)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def drive(storage: str, budget: int, n_jobs: int) -> None:
    """A driver the SIGKILL test starts and kills; the same call resumes the study."""
    from hpo_framework import optimize

    study = optimize(short, SPACE, strategy="random", n_trials=budget, n_jobs=n_jobs, seed=7,
                     storage=storage, study="killed")
    print(len(study.finished_trials), flush=True)


if __name__ == "__main__":
    drive(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))


class DiesAtStart:
    """An objective whose unpickling SIGKILLs the worker the first ``times`` times (a count
    kept in ``path``), the way the OOM killer stops a worker that is starting."""

    def __init__(self, path: str, times: int) -> None:
        self.path, self.times = path, times

    def __reduce__(self):
        return (_maybe_die, (self.path, self.times))

    def __call__(self, params: dict) -> float:
        return (params["x"] - 1.0) ** 2


def _maybe_die(path: str, times: int) -> DiesAtStart:
    import fcntl
    import signal

    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        count = len(fh.read())
        if count < times:
            fh.write("x")
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    obj = DiesAtStart.__new__(DiesAtStart)
    obj.path, obj.times = path, times
    return obj


def blocking(params: dict) -> float:
    """Wait until the file $HPO_TEST_GO exists (a test holds a driver mid-study with it)."""
    go = Path(os.environ["HPO_TEST_GO"])
    (go.parent / f"running-{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.01)
    return (params["x"] - 1.0) ** 2


def drive_blocking(storage: str, budget: int) -> None:
    from hpo_framework import optimize

    study = optimize(blocking, SPACE, strategy="random", n_trials=budget, seed=3,
                     storage=storage, study="held")
    print(len(study.finished_trials), flush=True)
