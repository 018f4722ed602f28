"""The in-memory storage: what ``storage=":memory:"`` (the API's default) opens.

The same interface and the same answers as the SQLite :class:`~.storage.Storage`, kept
in plain Python objects: no other process can open an in-memory study, so it needs no
SQL, no lease in a table and no JSON on the way in. A write keeps a copy of the trial's
cells (a later change to the trial object does not reach storage, as with a file); a
read encodes them as the file would and decodes them with the file's own code, so
``load_trials`` gives what a file gives (NaN metrics as text, numpy numbers as numbers,
``losses`` and ``curve`` from the directions). A finished trial is never written again,
and a checkpoint is pickled when it is saved, as in a file.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..contracts.trial import Trial
from ..errors import StorageError
from .storage import (
    SCHEMA_VERSION,
    Lease,
    Storage,
    StudyRecord,
    _cells,
    _encoded,
    dumps,
    now,
)

_FINISHED = ("COMPLETE", "FAILED", "PRUNED")


class MemoryStorage(Storage):
    """Studies and trials in this process's memory (``Storage(":memory:")``)."""

    def __init__(self, path: str | Path = ":memory:", *, readonly: bool = False) -> None:
        self.path = ":memory:"
        self.readonly = False
        self.owner = uuid.uuid4().hex
        self.lease_lost: str | None = None
        self.schema_version = SCHEMA_VERSION
        self._vectors = True
        self._identity = None
        self._leases: dict[int, Lease] = {}
        #: name -> (study_id, name, direction, config as JSON, created): a record is read
        #: back as a file's is (a fresh config each time)
        self._studies: dict[str, tuple[int, str, str, str, str]] = {}
        self._attrs: dict[int, dict[str, str]] = {}
        #: study_id -> {number: cells (see storage._cells)}
        self._trials: dict[int, dict[int, tuple]] = {}
        self._checkpoints: dict[tuple[int, int], bytes] = {}

    # the file-only parts ------------------------------------------------------------
    def check_file(self) -> None:
        """Nothing to check: no file can be deleted under it."""

    def close(self) -> None:
        self.release_leases()

    def get_lease(self, study_id: int) -> Lease | None:
        return self._leases.get(study_id)

    def acquire_lease(self, study_id: int, name: str) -> Lease | None:
        """Take the study's lease: only this object can reach its studies, so the one
        a lease can be taken from is an earlier opening in this process (as a file's)."""
        old = self._leases.get(study_id)
        self._leases[study_id] = Lease(study_id, self.owner, socket.gethostname(), os.getpid(),
                                       now(), time.time())
        return None if old is None or old.owner == self.owner else old

    def release_leases(self) -> None:
        self._leases.clear()

    # studies --------------------------------------------------------------------------
    def create_study(self, name: str, direction: str, config: dict[str, Any]) -> StudyRecord:
        if name in self._studies:
            raise StorageError(f"study '{name}' already exists in {self.path}")
        study_id = max((r[0] for r in self._studies.values()), default=0) + 1
        created = now()
        self._studies[name] = (study_id, name, direction, dumps(config), created)
        self._attrs[study_id] = {}
        self._trials[study_id] = {}
        return StudyRecord(study_id, name, direction, config, created)

    def get_study(self, name: str) -> StudyRecord | None:
        row = self._studies.get(name)
        return None if row is None else self._record(row)

    def list_studies(self) -> list[StudyRecord]:
        return [self._record(r) for r in sorted(self._studies.values())]

    def set_study_attr(self, study_id: int, key: str, value: Any) -> None:
        self._study(study_id)[key] = dumps(value)

    def get_study_attrs(self, study_id: int) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._attrs.get(study_id, {}).items()}

    def _study(self, study_id: int) -> dict[str, str]:
        attrs = self._attrs.get(study_id)
        if attrs is None:  # a file's foreign key refuses it the same way
            raise StorageError(f"{self.path} cannot be used: FOREIGN KEY constraint failed "
                               f"(no study {study_id})")
        return attrs

    # trials -------------------------------------------------------------------------
    def add_trial(self, study_id: int, trial: Trial) -> None:
        self._study(study_id)
        trials = self._trials[study_id]
        if trial.number in trials:
            raise StorageError(f"trial {trial.number} already exists in study {study_id} of "
                               f"{self.path}; it was not changed")
        trials[trial.number] = _cells(trial)

    def update_trial(self, study_id: int, trial: Trial) -> None:
        """Keep a trial's new state; a finished trial is never written again."""
        self._study(study_id)
        trials = self._trials[study_id]
        old = trials.get(trial.number)
        if old is None:
            raise StorageError(f"trial {trial.number} is not in study {study_id}")
        if old[0] in _FINISHED:
            raise StorageError(f"trial {trial.number} of study {study_id} is already "
                               f"{old[0]}; a finished trial is never rewritten")
        trials[trial.number] = _cells(trial)

    def load_trials(self, study_id: int,
                    direction: str | Sequence[str] | None = None, *,
                    numbers: Sequence[int] | None = None,
                    after: int | None = None) -> list[Trial]:
        trials = self._trials.get(study_id, {})
        picked: Any = trials
        if numbers is not None or after is not None:  # as a file's: see Storage
            wanted = {int(n) for n in numbers or ()}
            picked = [n for n in trials if n in wanted or (after is not None and n > after)]
        rows = [(n, *_encoded(trials[n])) for n in sorted(picked)]
        return self._trials_of(study_id, rows, self._directions(study_id, direction), True)

    def _config_text(self, study_id: int) -> str | None:
        row = next((r for r in self._studies.values() if r[0] == study_id), None)
        return row[3] if row else None

    # checkpoints of paused trials -----------------------------------------------------
    def save_checkpoint(self, study_id: int, trial: Trial, checkpoint: Any) -> None:
        self._study(study_id)
        self._checkpoints[(study_id, trial.number)] = pickle.dumps(
            {"checkpoint": checkpoint, "intermediate": trial.intermediate},
            protocol=pickle.HIGHEST_PROTOCOL)

    def load_checkpoint(self, study_id: int, number: int) -> dict[str, Any] | None:
        data = self._checkpoints.get((study_id, number))
        if data is None:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # as a file's: a checkpoint that cannot be read is none
            return None

    def checkpointed(self, study_id: int) -> set[int]:
        return {n for s, n in self._checkpoints if s == study_id}

    def drop_checkpoint(self, study_id: int, number: int) -> None:
        self._checkpoints.pop((study_id, number), None)
