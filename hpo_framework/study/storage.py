"""SQLite journal of studies and trials (the embedded default).

Every write is its own committed transaction, so a killed driver loses nothing that
was recorded. Params, metrics and per-step values are JSON, never pickle.

One driver runs a study at a time: it holds the study's lease (owner, host, pid,
heartbeat). Every trial write checks the lease in the same statement, and a finished
trial (COMPLETE, FAILED, PRUNED) is never written again, by anyone.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..contracts.trial import Trial, TrialState
from ..errors import StorageError, StudyLockedError

SCHEMA_VERSION = 4

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

# version 2: the lease of the driver that runs a study
_LEASES = """
CREATE TABLE IF NOT EXISTS leases (
    study_id INTEGER PRIMARY KEY REFERENCES studies(study_id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started TEXT NOT NULL,
    heartbeat REAL NOT NULL
);
"""

# version 3: the checkpoints of PAUSED trials (a pickled backend state each), kept until
# the trial is resumed to its end or recorded PRUNED
_CHECKPOINTS = """
CREATE TABLE IF NOT EXISTS checkpoints (
    study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (study_id, number)
);
"""

# version 4: several objectives and constraints: a trial's values (JSON list, one per
# objective, as the user defined them) and its constraint values (JSON list, feasible when
# every one is <= 0); NULL for a trial without (every trial of an older file: its values
# are read as [value])
_VECTORS = (("objective_values", "TEXT"), ("constraint_values", "TEXT"))

#: seconds between heartbeats of a lease holder
HEARTBEAT_S = 5.0
#: a lease whose heartbeat is older than this is taken over (HPO_LEASE_TIMEOUT overrides)
LEASE_TIMEOUT_S = 60.0
_FINISHED = "('COMPLETE', 'FAILED', 'PRUNED')"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _json_default(obj: Any) -> Any:
    item = getattr(obj, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):  # an array of several numbers: its list
            pass
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


_plain_json = json.JSONEncoder(allow_nan=False).encode


def dumps(obj: Any) -> str:
    """JSON of ``obj``: numpy scalars and arrays as numbers and lists, NaN and inf as
    strings, anything else JSON cannot hold as its text. Plain JSON-able data (finite
    numbers, text, lists, dicts with text keys: nearly every row) takes one pass."""
    if not obj and type(obj) in (dict, list):  # the empty metrics, attrs and curve
        return "{}" if type(obj) is dict else "[]"
    try:
        return _plain_json(obj)
    except (TypeError, ValueError):  # numpy, NaN/inf, other objects: the careful path
        return json.dumps(_clean(json.loads(json.dumps(obj, default=_json_default))))


@dataclass
class StudyRecord:
    study_id: int
    name: str
    direction: str
    config: dict[str, Any]
    created: str


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return True
    return True


def lease_timeout() -> float:
    try:
        return max(1.0, float(os.environ.get("HPO_LEASE_TIMEOUT", LEASE_TIMEOUT_S)))
    except ValueError:
        return LEASE_TIMEOUT_S


@dataclass
class Lease:
    """Who runs a study: a driver on ``host`` with ``pid``, since ``started``."""

    study_id: int
    owner: str
    host: str
    pid: int
    started: str
    heartbeat: float

    def stale(self, timeout: float) -> bool:
        if self.host == socket.gethostname() and not _pid_alive(self.pid):
            return True  # its process is gone: no need to wait for the heartbeat
        return time.time() - self.heartbeat > timeout


def _cannot_write(path: str) -> str | None:
    """Why the file cannot be written, when the filesystem says so (SQLite's own words
    for it are "unable to open database file" or "disk I/O error")."""
    if path == ":memory:":
        return None
    file = Path(path)
    where = file.parent if not file.exists() else file
    if not os.access(file.parent, os.W_OK) or (file.exists() and not os.access(file, os.W_OK)):
        return "readonly"
    try:
        import shutil

        if shutil.disk_usage(where).free == 0:
            return "database or disk is full"
    except OSError:
        pass
    return None


def _sql_error(path: str, exc: sqlite3.Error, written: str = "") -> StorageError:
    text = str(exc)
    if text in ("unable to open database file", "disk I/O error") or "rollback" in text:
        text = _cannot_write(path) or text
    if "readonly" in text or "read-only" in text:
        return StorageError(f"{path} is read-only: give --storage a file you can write"
                            f"{written}")
    if "disk is full" in text or "disk I/O" in text:
        return StorageError(f"cannot write {path}: {text}{written}; free some space and run "
                            "the same command to resume")
    if "locked" in text:
        return StorageError(f"{path} is locked by another program ({text}); try again when "
                            "it is done")
    return StorageError(f"{path} cannot be used: {text}{written}")


class Storage:
    """One SQLite file (or ``:memory:``). Only the driver holding a study's lease writes
    its trials; ``readonly=True`` opens an existing file for reading and never writes
    (reports, the dashboard), even on a read-only filesystem."""

    def __new__(cls, path: str | Path = "hpo.db", *, readonly: bool = False) -> Storage:
        # ":memory:" is kept in plain Python objects (the same interface, no SQL): a
        # study that no other process can open pays no database on its hot path
        if cls is Storage and str(path) == ":memory:" and not readonly:
            from .memory import MemoryStorage

            return super().__new__(MemoryStorage)
        return super().__new__(cls)

    def __init__(self, path: str | Path = "hpo.db", *, readonly: bool = False) -> None:
        self.path = str(path)
        self.readonly = readonly
        self.owner = uuid.uuid4().hex
        self._leases: dict[int, Lease] = {}
        self._beat: threading.Thread | None = None
        self._beat_stop = threading.Event()
        self.lease_lost: str | None = None
        #: the file's (st_dev, st_ino) when opened: a file deleted or replaced under a
        #: running driver is noticed at its next write, not after the run
        self._identity: tuple[int, int] | None = None
        #: absolute, as SQLite keeps it: an objective that changes directory moves nothing
        self._absolute = os.path.abspath(self.path)
        memory = self.path == ":memory:"
        if memory and readonly:  # SQLite would open (and leave) a file named ':memory:'
            raise StorageError("':memory:' holds no study to read; give --storage PATH of an "
                               "hpo database")
        if not memory:
            file = Path(self.path)
            if readonly and not file.is_file():
                raise StorageError(f"no storage file {self.path}; give --storage PATH of an "
                                   "hpo database")
            if not file.parent.exists():
                raise StorageError(f"storage directory does not exist: {file.parent}")
            if file.exists() and not file.is_file():
                raise StorageError(f"{self.path} is not a regular file; give --storage PATH "
                                   "of an hpo database")
        created = not memory and not readonly and not Path(self.path).exists()
        try:
            self._open()
        except (sqlite3.DatabaseError, StorageError):
            if created and self._size() == 0:  # a full disk: no empty file is left behind
                if getattr(self, "conn", None) is not None:
                    self.conn.close()
                for leftover in ("", "-wal", "-shm", "-journal"):
                    Path(f"{self.path}{leftover}").unlink(missing_ok=True)
            raise
        if not memory:
            self._identity = self._file_identity()

    def _size(self) -> int:
        try:
            return os.stat(self.path).st_size
        except OSError:
            return 0

    def _open(self) -> None:
        try:
            self.conn = self._connect()
            self._check_schema()
        except sqlite3.OperationalError as exc:
            if not self.readonly and _cannot_write(self.path):
                raise _sql_error(self.path, exc) from None
            raise StorageError(f"{self.path} is not a usable hpo database: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path} is not a usable hpo database: {exc}") from None

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._absolute)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def check_file(self) -> None:
        """Raise when the file this storage writes was deleted or replaced since it was
        opened: what was written went to a file no one can open any more."""
        if self._identity is None or self._file_identity() == self._identity:
            return
        try:
            n = self.conn.execute("SELECT count(*) FROM trials").fetchone()[0]
        except sqlite3.Error:
            n = "the"
        self.lease_lost = self.lease_lost or f"{self.path} was deleted or replaced"
        raise StorageError(f"{self.path} was deleted or replaced while this driver wrote to it: "
                           f"the {n} trials it held are lost; this driver stops and writes "
                           "nothing more")

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            uri = Path(self.path).resolve().as_uri()
            if not Path(f"{self.path}-wal").exists():
                # no driver has it open and nothing waits in a WAL: read the file as it is,
                # creating no -shm/-wal beside it (mode=ro would make both and leave them)
                return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None,
                                       check_same_thread=False)
            try:
                conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30,
                                       isolation_level=None, check_same_thread=False)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                # a read-only filesystem: WAL needs a -shm file it cannot make
                return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None,
                                       check_same_thread=False)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _tables(self) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}

    def _check_schema(self) -> None:
        tables = self._tables()
        if tables and "meta" not in tables:
            raise StorageError(f"{self.path} is an SQLite file of something else; it was not "
                               "touched: use another --storage")
        if not tables:
            if self.readonly:
                raise StorageError(f"{self.path} holds no hpo studies yet")
            # one transaction: a driver killed while creating the file leaves nothing half-made
            try:
                self.conn.executescript(
                    f"BEGIN IMMEDIATE;{_SCHEMA}{_LEASES}{_CHECKPOINTS}{_add_vectors(set())}"
                    f"INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
                    "COMMIT;"
                )
            except sqlite3.OperationalError as exc:
                raise _sql_error(self.path, exc) from None
        row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        try:
            version = int(row[0]) if row else 0
        except (TypeError, ValueError):
            raise StorageError(f"{self.path} has a damaged schema version ({row[0]!r}); it "
                               "was not touched") from None
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} was written by a newer hpo-framework (schema {version}); upgrade"
            )
        if version < 1:
            raise StorageError(f"{self.path} has no valid schema version; it was not touched")
        if not self.readonly and self.path != ":memory:":
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
                if version < SCHEMA_VERSION:
                    self._upgrade()
            except sqlite3.OperationalError as exc:
                raise _sql_error(self.path, exc) from None
        self.schema_version = version if self.readonly else SCHEMA_VERSION
        #: whether the trials table has the values and constraints columns (a read-only
        #: file of schema 3 or older has not)
        self._vectors = {c for c, _ in _VECTORS} <= self._trial_columns()

    def _upgrade(self) -> None:
        """Bring an older file to this schema in one transaction: the tables and columns
        each later version added (a driver killed half-way leaves the file as it was)."""
        for attempt in (1, 2):
            script = (f"BEGIN IMMEDIATE;{_LEASES}{_CHECKPOINTS}"
                      f"{_add_vectors(self._trial_columns())}UPDATE meta SET value = "
                      f"'{SCHEMA_VERSION}' WHERE key = 'schema_version';COMMIT;")
            try:
                self.conn.executescript(script)
                return
            except sqlite3.OperationalError as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                # another driver upgraded the file between the look and the write
                if "duplicate column" not in str(exc) or attempt == 2:
                    raise

    def _trial_columns(self) -> set[str]:
        return {r[1] for r in self.conn.execute("PRAGMA table_info(trials)")}

    def _write(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        if self.readonly:
            raise StorageError(f"{self.path} was opened read-only")
        try:
            cur = self.conn.execute(sql, args)
        except sqlite3.OperationalError as exc:
            self.check_file()
            n = self.conn.execute("SELECT count(*) FROM trials").fetchone()[0]
            raise _sql_error(self.path, exc, f" ({n} trials already written stay)") from None
        self.check_file()
        return cur

    def close(self) -> None:
        self.release_leases()
        self.conn.close()

    # leases -------------------------------------------------------------------
    def get_lease(self, study_id: int) -> Lease | None:
        if "leases" not in self._tables():
            return None
        row = self.conn.execute(
            "SELECT study_id, owner, host, pid, started, heartbeat FROM leases "
            "WHERE study_id = ?", (study_id,)).fetchone()
        return None if row is None else Lease(*row)

    def driver_alive(self, study_id: int) -> bool:
        """True while a live driver holds the study's lease (its process is alive, or on
        another host its heartbeat is fresh): what "running" means to a reader."""
        lease = self.get_lease(study_id)
        return lease is not None and not lease.stale(lease_timeout())

    def acquire_lease(self, study_id: int, name: str) -> Lease | None:
        """Take the study's lease; returns the stale lease it took over (or None).

        Raises :class:`StudyLockedError` while another driver's heartbeat is fresh."""
        timeout = lease_timeout()
        host, pid = socket.gethostname(), os.getpid()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                old = self.get_lease(study_id)
                # this same process may take its own lease over (a notebook cell run
                # again): the older Study object then can no longer write
                mine = old is not None and (old.host, old.pid) == (host, pid)
                if old is not None and old.owner != self.owner and not mine \
                        and not old.stale(timeout):
                    ago = time.time() - old.heartbeat
                    raise StudyLockedError(
                        f"study '{name}' in {self.path} is being run by pid {old.pid} on "
                        f"{old.host} since {old.started} (last heartbeat {ago:.0f}s ago); wait "
                        "for it to finish, or run trials in parallel from one driver with "
                        "--n-jobs N (or a Dask cluster: --executor dask)")
                self.conn.execute(
                    "INSERT INTO leases (study_id, owner, host, pid, started, heartbeat) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (study_id) DO UPDATE SET "
                    "owner = excluded.owner, host = excluded.host, pid = excluded.pid, "
                    "started = excluded.started, heartbeat = excluded.heartbeat",
                    (study_id, self.owner, host, pid, now(), time.time()))
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # SQLite rolls back itself on a full disk
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise _sql_error(self.path, exc) from None
        self._leases[study_id] = Lease(study_id, self.owner, host, pid, now(), time.time())
        self._start_heartbeat()
        return None if old is None or old.owner == self.owner else old

    def release_leases(self) -> None:
        self._beat_stop.set()
        if self._beat is not None and self._beat is not threading.current_thread():
            self._beat.join(timeout=HEARTBEAT_S * 2)
        self._beat = None
        for study_id in list(self._leases):
            try:
                self.conn.execute("DELETE FROM leases WHERE study_id = ? AND owner = ?",
                                  (study_id, self.owner))
            except sqlite3.Error:
                pass  # a stale lease is taken over anyway
        self._leases.clear()

    def _start_heartbeat(self) -> None:
        if self._beat is not None or self.path == ":memory:":
            return
        self._beat_stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name="hpo-lease-heartbeat",
                                      daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        try:  # mode=rw: never creates the file (one deleted since it was opened)
            conn = sqlite3.connect(f"{Path(self._absolute).as_uri()}?mode=rw", uri=True,
                                   timeout=30, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            while not self._beat_stop.wait(HEARTBEAT_S):
                for study_id in list(self._leases):
                    try:
                        cur = conn.execute("UPDATE leases SET heartbeat = ? WHERE study_id = ? "
                                           "AND owner = ?", (time.time(), study_id, self.owner))
                    except sqlite3.Error:
                        continue  # busy or full: the next beat tries again
                    if cur.rowcount == 0:
                        self.lease_lost = (f"another driver took over study {study_id} in "
                                           f"{self.path} (this one was silent too long)")
        finally:
            conn.close()

    def _holds(self, study_id: int) -> str:
        """SQL that is true while this storage object holds the study's lease."""
        if study_id not in self._leases:
            return "1"
        return (f"EXISTS (SELECT 1 FROM leases WHERE leases.study_id = {int(study_id)} "
                f"AND leases.owner = '{self.owner}')")

    def _lost(self, study_id: int, what: str) -> StorageError:
        self.lease_lost = self.lease_lost or f"another driver took over study {study_id}"
        return StudyLockedError(f"{what} not written: {self.lease_lost}; this driver stops "
                                "and writes nothing more")

    # studies ------------------------------------------------------------------
    def create_study(self, name: str, direction: str, config: dict[str, Any]) -> StudyRecord:
        try:
            cur = self._write(
                "INSERT INTO studies (name, direction, config, created) VALUES (?, ?, ?, ?)",
                (name, direction, dumps(config), now()),
            )
        except sqlite3.IntegrityError:
            raise StorageError(f"study '{name}' already exists in {self.path}") from None
        return StudyRecord(int(cur.lastrowid), name, direction, config, now())

    def _record(self, row: tuple) -> StudyRecord:
        try:
            config = json.loads(row[3])
        except (TypeError, ValueError):
            raise StorageError(f"study '{row[1]}' in {self.path} has a damaged config row; "
                               "it was not changed") from None
        return StudyRecord(row[0], row[1], row[2], config, row[4])

    def get_study(self, name: str) -> StudyRecord | None:
        row = self.conn.execute(
            "SELECT study_id, name, direction, config, created FROM studies WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else self._record(row)

    def list_studies(self) -> list[StudyRecord]:
        rows = self.conn.execute(
            "SELECT study_id, name, direction, config, created FROM studies ORDER BY study_id"
        ).fetchall()
        return [self._record(r) for r in rows]

    def set_study_attr(self, study_id: int, key: str, value: Any) -> None:
        cur = self._write(
            "INSERT INTO study_attrs (study_id, key, value) SELECT ?, ?, ? WHERE "
            f"{self._holds(study_id)} ON CONFLICT (study_id, key) DO UPDATE SET "
            "value = excluded.value",
            (study_id, key, dumps(value)),
        )
        if cur.rowcount == 0:
            raise self._lost(study_id, f"study attribute '{key}'")

    def get_study_attrs(self, study_id: int) -> dict[str, Any]:
        rows = self.conn.execute(
            "SELECT key, value FROM study_attrs WHERE study_id = ?", (study_id,)
        ).fetchall()
        out = {}
        for k, v in rows:
            try:
                out[k] = json.loads(v)
            except (TypeError, ValueError):
                out[k] = None
        return out

    # trials -------------------------------------------------------------------
    def add_trial(self, study_id: int, trial: Trial) -> None:
        try:
            cur = self._write(
                "INSERT INTO trials (study_id, number, state, params, value, metrics, "
                "intermediate, error, datetime_start, datetime_complete, duration, attempts, "
                "user_attrs, objective_values, constraint_values) SELECT ?, ?, ?, ?, ?, ?, ?, "
                f"?, ?, ?, ?, ?, ?, ?, ? WHERE {self._holds(study_id)}",
                (study_id, trial.number, *self._row(trial)),
            )
        except sqlite3.IntegrityError:
            raise StorageError(f"trial {trial.number} already exists in study {study_id} of "
                               f"{self.path}; it was not changed") from None
        if cur.rowcount == 0:
            raise self._lost(study_id, f"trial {trial.number}")

    def update_trial(self, study_id: int, trial: Trial) -> None:
        """Write a trial's new state; a finished trial is never written again."""
        cur = self._write(
            "UPDATE trials SET state = ?, params = ?, value = ?, metrics = ?, intermediate = ?, "
            "error = ?, datetime_start = ?, datetime_complete = ?, duration = ?, attempts = ?, "
            "user_attrs = ?, objective_values = ?, constraint_values = ? WHERE study_id = ? "
            f"AND number = ? AND state NOT IN {_FINISHED} "
            f"AND {self._holds(study_id)}",
            (*self._row(trial), study_id, trial.number),
        )
        if cur.rowcount == 1:
            return
        row = self.conn.execute("SELECT state FROM trials WHERE study_id = ? AND number = ?",
                                (study_id, trial.number)).fetchone()
        if row is None:
            raise StorageError(f"trial {trial.number} is not in study {study_id}")
        if row[0] in ("COMPLETE", "FAILED", "PRUNED"):
            raise StorageError(f"trial {trial.number} of study {study_id} is already "
                               f"{row[0]}; a finished trial is never rewritten")
        raise self._lost(study_id, f"trial {trial.number}")

    # checkpoints of paused trials ----------------------------------------------------
    def save_checkpoint(self, study_id: int, trial: Trial, checkpoint: Any) -> None:
        """Keep a trial's checkpoint (pickled, with the values it reported up to it),
        replacing an earlier one. Written before the trial is recorded PAUSED: a driver
        killed in between leaves a RUNNING trial with a checkpoint, which the next driver
        takes as paused there (:meth:`load_checkpoint` gives the values back)."""
        import pickle

        number = trial.number
        data = pickle.dumps({"checkpoint": checkpoint, "intermediate": trial.intermediate},
                            protocol=pickle.HIGHEST_PROTOCOL)
        cur = self._write(f"INSERT OR REPLACE INTO checkpoints (study_id, number, data) SELECT "
                          f"?, ?, ? WHERE {self._holds(study_id)}", (study_id, number, data))
        if cur.rowcount == 0:
            raise self._lost(study_id, f"the checkpoint of trial {number}")

    def load_checkpoint(self, study_id: int, number: int) -> dict[str, Any] | None:
        """``{"checkpoint", "intermediate"}`` of a trial, or None when none is kept (or it
        cannot be read)."""
        import pickle

        if "checkpoints" not in self._tables():
            return None
        row = self.conn.execute("SELECT data FROM checkpoints WHERE study_id = ? AND number = ?",
                                (study_id, number)).fetchone()
        if row is None:
            return None
        try:
            return pickle.loads(row[0])
        except Exception:  # written by other library versions: the trial cannot go on
            return None

    def checkpointed(self, study_id: int) -> set[int]:
        """The numbers of the study's trials that have a checkpoint kept."""
        if "checkpoints" not in self._tables():
            return set()
        return {r[0] for r in self.conn.execute(
            "SELECT number FROM checkpoints WHERE study_id = ?", (study_id,))}

    def drop_checkpoint(self, study_id: int, number: int) -> None:
        self._write(f"DELETE FROM checkpoints WHERE study_id = ? AND number = ? AND "
                    f"{self._holds(study_id)}", (study_id, number))

    @staticmethod
    def _row(trial: Trial) -> tuple:
        """The trial's cells as the trials table holds them (from ``state`` on)."""
        return _encoded(_cells(trial))

    def load_trials(self, study_id: int,
                    direction: str | Sequence[str] | None = None, *,
                    numbers: Sequence[int] | None = None,
                    after: int | None = None) -> list[Trial]:
        """The study's trials in number order. ``direction`` (a study's first direction,
        or its list of directions) fills ``loss``/``losses`` and ``curve``; a study with
        several objectives stores its list, which a single direction given here stands
        for. None: neither is filled.

        ``numbers`` and ``after`` read only some trials (a reader that holds the others,
        see ``results.load_study(previous=)``): those numbered in ``numbers`` and those
        numbered above ``after``; either left None selects none by itself (both None:
        every trial)."""
        vectors = ", objective_values, constraint_values" if self._vectors else ""
        select = ("SELECT number, state, params, value, metrics, intermediate, error, "
                  "datetime_start, datetime_complete, duration, attempts, "
                  f"user_attrs{vectors} FROM trials WHERE study_id = ?")
        if numbers is None and after is None:
            rows = self.conn.execute(f"{select} ORDER BY number", (study_id,)).fetchall()
        else:
            found: dict[int, Sequence[Any]] = {}
            wanted = sorted({int(n) for n in numbers or ()})
            for i in range(0, len(wanted), _IN_CHUNK):  # SQLite caps a query's variables
                chunk = wanted[i:i + _IN_CHUNK]
                for row in self.conn.execute(
                        f"{select} AND number IN ({','.join('?' * len(chunk))})",
                        (study_id, *chunk)):
                    found[row[0]] = row
            if after is not None:
                for row in self.conn.execute(f"{select} AND number > ?",
                                             (study_id, int(after))):
                    found[row[0]] = row
            rows = [found[n] for n in sorted(found)]
        return self._trials_of(study_id, rows, self._directions(study_id, direction),
                               bool(vectors))

    def _trials_of(self, study_id: int, rows: Sequence[Sequence[Any]], directions: list[str],
                   vectors: bool) -> list[Trial]:
        """Trials from rows of (number, the table's cells from ``state`` on); a damaged
        row is one StorageError line."""
        trials = []
        for r in rows:
            try:
                t = Trial(
                    number=r[0], state=_STATES.get(r[1]) or TrialState(r[1]),
                    params=_json_cell(r[2]), value=r[3], metrics=_json_cell(r[4]),
                    intermediate=_json_cell(r[5]), error=r[6], datetime_start=r[7],
                    datetime_complete=r[8], duration=r[9], attempts=r[10],
                    user_attrs=_json_cell(r[11]),
                )
                if not isinstance(t.params, dict):
                    raise ValueError("params is not a mapping")
                for column, cell in (("value", r[3]), ("duration", r[9])):
                    if cell is not None and not isinstance(cell, int | float):
                        raise ValueError(f"{column} is {type(cell).__name__} "
                                         f"{str(cell)[:40]!r}, not a number")
                if vectors:
                    value, cell = r[3], r[12]
                    if type(value) is float and cell == f"[{value!r}]":
                        t.values = [value]  # one objective: the value, as JSON wrote it
                    else:
                        t.values = _numbers(cell, "values")
                    t.constraints = None if r[13] is None else _numbers(r[13], "constraints")
            except (TypeError, ValueError) as exc:
                raise StorageError(
                    f"trial {r[0]} of study {study_id} in {self.path} is damaged ({exc}); "
                    "nothing was changed: repair or remove that row, or use another --storage"
                ) from None
            if t.state is TrialState.COMPLETE and t.value is not None:
                if t.values is None:  # written before version 4, or one objective
                    t.values = [float(t.value)]
                if directions and len(directions) == len(t.values):
                    t.losses = [v if d == "minimize" else -v
                                for v, d in zip(t.values, directions, strict=True)]
                    t.loss = t.losses[0]
            if directions and t.intermediate:  # no steps reported: no curve
                t.curve = curve_of(t.intermediate, directions[0])
            trials.append(t)
        return trials

    def _directions(self, study_id: int, given: str | Sequence[str] | None) -> list[str]:
        if given is None:
            return []
        if not isinstance(given, str):
            return list(given)
        text = self._config_text(study_id)
        try:
            stored = json.loads(text).get("directions") if text else None
        except (TypeError, ValueError, AttributeError):
            stored = None
        if isinstance(stored, list) and stored and stored[0] == given:
            return [str(d) for d in stored]
        return [given]

    def _config_text(self, study_id: int) -> str | None:
        """The study's stored config, as JSON text (None: no such study)."""
        row = self.conn.execute("SELECT config FROM studies WHERE study_id = ?",
                                (study_id,)).fetchone()
        return row[0] if row else None


_STATES = {state.value: state for state in TrialState}
#: trial numbers asked for in one ``IN (...)`` of :meth:`Storage.load_trials`
_IN_CHUNK = 500
#: the cells most rows hold (no metrics, attrs or steps): built without the JSON parser
_EMPTY_CELLS = {"{}": dict, "[]": list}


def _json_cell(cell: Any) -> Any:
    make = _EMPTY_CELLS.get(cell) if type(cell) is str else None
    return make() if make is not None else json.loads(cell)


#: the empty cells of every row that has none, shared (cells are only read, never changed)
_NO_MAP: dict[str, Any] = {}
_NO_LIST: list[Any] = []


def _cells(trial: Trial) -> tuple:
    """A trial's cells from ``state`` on, unencoded: params, metrics, intermediate, user
    attrs, values and constraints as copies of the trial's (later changes to the trial do
    not reach them), the value None when it is not finite (a REAL column holds no NaN)."""
    value = trial.value
    if value is not None:
        value = float(value)
        if not math.isfinite(value):
            value = None
    return (
        trial.state.value, dict(trial.params), value,
        dict(trial.metrics) if trial.metrics else _NO_MAP,
        list(trial.intermediate) if trial.intermediate else _NO_LIST, trial.error,
        trial.datetime_start, trial.datetime_complete, trial.duration, trial.attempts,
        dict(trial.user_attrs) if trial.user_attrs else _NO_MAP,
        None if trial.values is None else list(trial.values),
        None if trial.constraints is None else list(trial.constraints),
    )


def _encoded(cells: tuple) -> tuple:
    """:func:`_cells` as the table stores them: the containers as JSON text."""
    (state, params, value, metrics, intermediate, error, start, complete, duration, attempts,
     user_attrs, values, constraints) = cells
    return (state, dumps(params), value, dumps(metrics), dumps(intermediate), error, start,
            complete, duration, attempts, dumps(user_attrs),
            None if values is None else dumps(values),
            None if constraints is None else dumps(constraints))


def _numbers(cell: Any, what: str) -> list[float] | None:
    """A stored JSON list of numbers (NULL: None); anything else is damage."""
    if cell is None:
        return None
    items = json.loads(cell)
    if not isinstance(items, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in items):
        raise ValueError(f"{what} is {str(cell)[:40]!r}, not a list of numbers")
    return [float(x) for x in items]


def _add_vectors(columns: set[str]) -> str:
    """SQL adding the version-4 columns the trials table lacks (``columns``: what it has;
    an empty set for a table being created)."""
    return "".join(f"ALTER TABLE trials ADD COLUMN {name} {kind};"
                   for name, kind in _VECTORS if name not in columns)


def curve_of(intermediate: list[Any], direction: str) -> list[tuple[int, float]]:
    """The pruning signal of stored per-step records: ``value`` in each, as a loss."""
    sign = 1.0 if direction == "minimize" else -1.0
    out = []
    for i, rec in enumerate(intermediate):
        if isinstance(rec, dict) and isinstance(rec.get("value"), int | float):
            out.append((int(rec.get("step", i)), sign * float(rec["value"])))
    return out
