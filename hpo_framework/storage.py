"""SQLite journal of studies and trials (the embedded default).

Every write is its own committed transaction, so a killed driver loses nothing that
was recorded. Params, metrics and per-step values are JSON, never pickle.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import StorageError
from .trial import Trial, TrialState

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    study_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL,
    config TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    trial_id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    value REAL,
    metrics TEXT NOT NULL DEFAULT '{}',
    intermediate TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    datetime_start TEXT,
    datetime_complete TEXT,
    duration REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    user_attrs TEXT NOT NULL DEFAULT '{}',
    UNIQUE (study_id, number)
);
CREATE TABLE IF NOT EXISTS study_attrs (
    study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (study_id, key)
);
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _json_default(obj: Any) -> Any:
    item = getattr(obj, "item", None)
    if callable(item):
        return item()
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    return str(obj)


def _clean(obj: Any) -> Any:
    """NaN and inf are not JSON: store them as strings."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(_clean(json.loads(json.dumps(obj, default=_json_default))))


@dataclass
class StudyRecord:
    study_id: int
    name: str
    direction: str
    config: dict[str, Any]
    created: str


class Storage:
    """One SQLite file (or ``:memory:``). Only the driver process writes to it."""

    def __init__(self, path: str | Path = "hpo.db") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            parent = Path(self.path).parent
            if not parent.exists():
                raise StorageError(f"storage directory does not exist: {parent}")
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path} is not a usable hpo database: {exc}") from None

    def _migrate(self) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise StorageError(f"{self.path} is an SQLite file of something else; use another --storage")
        if not tables:
            # one transaction: a driver killed while creating the file leaves nothing half-made
            self.conn.executescript(
                f"BEGIN IMMEDIATE;{_SCHEMA}INSERT OR IGNORE INTO meta VALUES "
                f"('schema_version', '{SCHEMA_VERSION}');COMMIT;"
            )
        row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} was written by a newer hpo-framework (schema {version}); upgrade"
            )

    def close(self) -> None:
        self.conn.close()

    # studies ------------------------------------------------------------------
    def create_study(self, name: str, direction: str, config: dict[str, Any]) -> StudyRecord:
        try:
            cur = self.conn.execute(
                "INSERT INTO studies (name, direction, config, created) VALUES (?, ?, ?, ?)",
                (name, direction, dumps(config), now()),
            )
        except sqlite3.IntegrityError:
            raise StorageError(f"study '{name}' already exists in {self.path}") from None
        return StudyRecord(int(cur.lastrowid), name, direction, config, now())

    def get_study(self, name: str) -> StudyRecord | None:
        row = self.conn.execute(
            "SELECT study_id, name, direction, config, created FROM studies WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        return StudyRecord(row[0], row[1], row[2], json.loads(row[3]), row[4])

    def list_studies(self) -> list[StudyRecord]:
        rows = self.conn.execute(
            "SELECT study_id, name, direction, config, created FROM studies ORDER BY study_id"
        ).fetchall()
        return [StudyRecord(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def set_study_attr(self, study_id: int, key: str, value: Any) -> None:
        self.conn.execute(
            "INSERT INTO study_attrs (study_id, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (study_id, key) DO UPDATE SET value = excluded.value",
            (study_id, key, dumps(value)),
        )

    def get_study_attrs(self, study_id: int) -> dict[str, Any]:
        rows = self.conn.execute(
            "SELECT key, value FROM study_attrs WHERE study_id = ?", (study_id,)
        ).fetchall()
        return {k: json.loads(v) for k, v in rows}

    # trials -------------------------------------------------------------------
    def add_trial(self, study_id: int, trial: Trial) -> None:
        self.conn.execute(
            "INSERT INTO trials (study_id, number, state, params, value, metrics, intermediate, "
            "error, datetime_start, datetime_complete, duration, attempts, user_attrs) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (study_id, trial.number, *self._row(trial)),
        )

    def update_trial(self, study_id: int, trial: Trial) -> None:
        cur = self.conn.execute(
            "UPDATE trials SET state = ?, params = ?, value = ?, metrics = ?, intermediate = ?, "
            "error = ?, datetime_start = ?, datetime_complete = ?, duration = ?, attempts = ?, "
            "user_attrs = ? WHERE study_id = ? AND number = ?",
            (*self._row(trial), study_id, trial.number),
        )
        if cur.rowcount != 1:
            raise StorageError(f"trial {trial.number} is not in study {study_id}")

    @staticmethod
    def _row(trial: Trial) -> tuple:
        value = trial.value
        if value is not None and not math.isfinite(value):
            value = None
        return (
            trial.state.value, dumps(trial.params), value, dumps(trial.metrics),
            dumps(trial.intermediate), trial.error, trial.datetime_start,
            trial.datetime_complete, trial.duration, trial.attempts, dumps(trial.user_attrs),
        )

    def load_trials(self, study_id: int, direction: str | None = None) -> list[Trial]:
        rows = self.conn.execute(
            "SELECT number, state, params, value, metrics, intermediate, error, datetime_start, "
            "datetime_complete, duration, attempts, user_attrs FROM trials WHERE study_id = ? "
            "ORDER BY number",
            (study_id,),
        ).fetchall()
        trials = []
        for r in rows:
            t = Trial(
                number=r[0], state=TrialState(r[1]), params=json.loads(r[2]), value=r[3],
                metrics=json.loads(r[4]), intermediate=json.loads(r[5]), error=r[6],
                datetime_start=r[7], datetime_complete=r[8], duration=r[9], attempts=r[10],
                user_attrs=json.loads(r[11]),
            )
            if t.state is TrialState.COMPLETE and t.value is not None and direction:
                t.loss = t.value if direction == "minimize" else -t.value
            trials.append(t)
        return trials
