"""The campaign store: one SQLite file recording every probe of a campaign.

Tables
------
``meta``
    ``guard_hash`` (what a probe's result depends on: the runner's config hash,
    steps, campaign seed, estimator version), ``guard`` (the same as readable JSON),
    ``plan`` (the latest plan, JSON), ``created_at``.
``probes``
    One row per probe: key, kind, tasks, repeat, seeds, ``status`` (``pending``,
    ``running``, ``done``, ``failed``), ``attempts`` (times it was started),
    ``runs`` (times a result was recorded: 1 for every finished probe), the state
    path, timings, worker and last error.
``evaluations``
    One row per (probe, evaluated task): score, entropy, score standard error,
    number of samples and a checksum of those values.

Crash safety
------------
Only the coordinator writes (workers return results), and only one coordinator
runs per campaign (:mod:`taskorder.estimate.lock`). A result and the probe's
``done`` status are written in one transaction, so a killed process leaves every
probe either finished with all its evaluations or not finished. On reopening,
probes left ``running`` are reset to ``pending`` and run again; finished probes
never are. The database uses write-ahead logging, so ``taskorder probe status`` can
read it while a campaign runs.

Damage
------
A new store is written under a temporary name and renamed into place, so a store
file is never empty or half-created by taskorder: an empty, truncated or foreign
file is refused (``PRAGMA integrity_check`` on opening), never taken for a new
campaign. Every evaluation carries a checksum of its values; a value changed on
disk afterwards is refused when read. Every SQLite or file-system failure (damaged
file, read-only folder, full disk) becomes one
:class:`~taskorder.estimate.store_errors.CampaignStoreError` naming the file and
the fix (see :mod:`taskorder.estimate.store_errors`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from hashlib import sha256
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

from taskorder.estimate.plan import Probe, ProbePlan
from taskorder.estimate.store_errors import CampaignStoreError, damaged_store, store_error
from taskorder.estimate.store_integrity import (
    PROBE_COLUMNS,
    add_missing_checksums,
    check_records,
    evaluation_checksum,
    probe_checksum,
)
from taskorder.exceptions import TaskorderError

__all__ = [
    "ESTIMATOR_VERSION",
    "STORE_NAME",
    "CampaignMismatchError",
    "CampaignStore",
    "CampaignStoreError",
    "probe_from_row",
]

#: File name of the store inside a campaign's output folder.
STORE_NAME = "campaign.sqlite"
#: Bumped when a change to the estimator changes what a probe records.
ESTIMATOR_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS probes (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('base', 'first', 'second')),
    task TEXT,
    later TEXT,
    repeat INTEGER NOT NULL,
    depends_on TEXT,
    init_seed INTEGER NOT NULL,
    train_seed INTEGER NOT NULL,
    eval_seed INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    runs INTEGER NOT NULL DEFAULT 0,
    state_path TEXT,
    train_s REAL,
    eval_s REAL,
    started_at REAL,
    finished_at REAL,
    worker TEXT,
    error TEXT,
    checksum TEXT
);
CREATE TABLE IF NOT EXISTS evaluations (
    probe TEXT NOT NULL REFERENCES probes(key),
    task TEXT NOT NULL,
    score REAL NOT NULL,
    entropy REAL NOT NULL,
    score_stderr REAL NOT NULL,
    n_samples INTEGER NOT NULL,
    checksum TEXT,
    PRIMARY KEY (probe, task)
);
"""


# Columns every store has (``checksum`` columns are added to older stores on opening).
_COLUMNS = {
    "meta": {"key", "value"},
    "probes": {
        *PROBE_COLUMNS,
        *("status", "attempts", "runs", "state_path", "train_s", "eval_s", "started_at"),
        *("finished_at", "worker", "error"),
    },
    "evaluations": {"probe", "task", "score", "entropy", "score_stderr", "n_samples"},
}


class CampaignMismatchError(TaskorderError, ValueError):
    """A campaign store was made with a different configuration than the one given."""


class CampaignStore:
    """The SQLite record of one probe campaign.

    Parameters
    ----------
    path : str or Path
        The database file (created with its folder if missing, atomically: a new
        store appears complete with its tables or not at all).
    guard : dict
        Everything a probe's result depends on (JSON-ready). A new store records
        it; an existing store must hold the same, else :class:`CampaignMismatchError`.
    readonly : bool, default False
        Open an existing store for reading only (``probe status``, loading results).

    Raises
    ------
    CampaignStoreError
        The file is empty, damaged or not a campaign store, its folder is not
        writable, or the disk is full. Raised by any method, always naming the file.

    Examples
    --------
    >>> import tempfile, os
    >>> from taskorder.estimate.plan import make_plan
    >>> folder = tempfile.mkdtemp()
    >>> store = CampaignStore(os.path.join(folder, "c.sqlite"), {"runner": "x"})
    >>> store.register(make_plan(["a", "b"]))
    >>> store.counts()
    {'pending': 5}
    >>> CampaignStore(os.path.join(folder, "c.sqlite"), {"runner": "y"})
    Traceback (most recent call last):
    ...
    taskorder.estimate.store.CampaignMismatchError: ...
    """

    def __init__(
        self, path: str | Path, guard: dict[str, Any] | None, *, readonly: bool = False
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if not readonly and not self.path.exists():
            self._create()
        self._db = self._connect()
        try:
            with self._errors("open the campaign store"):
                self._check_integrity()
                if not readonly:
                    self._db.execute("PRAGMA journal_mode=WAL")
                    self._db.execute("PRAGMA synchronous=FULL")
                    self._add_checksums()
            if guard is not None:
                self._check_guard(guard)
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def open_existing(cls, path: str | Path) -> CampaignStore:
        """Open a store for reading (no guard check); raises if the file is missing."""
        path = Path(path)
        if not path.is_file():
            raise CampaignMismatchError(
                f"{path}: no campaign store here (run 'taskorder probe' first)."
            )
        return cls(path, None, readonly=True)

    # ------------------------------------------------------------------ opening
    def _create(self) -> None:
        """Write a new store under a temporary name with its tables, then rename it."""
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.unlink(missing_ok=True)
            db = sqlite3.connect(temporary, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
            finally:
                db.close()
            os.replace(temporary, self.path)
        except (OSError, sqlite3.Error) as error:
            raise store_error(self.path, "create the campaign store", error) from error
        finally:
            for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
                leftover.unlink(missing_ok=True)

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.path.stat().st_size == 0:
                raise CampaignStoreError(
                    f"{self.path}: the campaign store is empty (0 bytes): its records are gone "
                    "(the file was truncated or replaced). Restore it from a backup, or delete "
                    "it to start the campaign over (its finished probes then run again)."
                )
            if self.readonly:
                uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
                if not os.access(self.path.parent, os.W_OK):  # no -shm possible: nothing writes
                    uri += "&immutable=1"
                db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
            else:
                db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        except (OSError, sqlite3.Error, UnicodeDecodeError) as error:
            raise store_error(self.path, "open the campaign store", error) from error
        db.row_factory = sqlite3.Row
        return db

    def _check_integrity(self) -> None:
        problems = [row[0] for row in self._db.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise damaged_store(self.path, "; ".join(map(str, problems[:3])))
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        lacking = {"meta", "probes", "evaluations"} - tables
        if lacking:
            raise CampaignStoreError(
                f"{self.path}: an SQLite file but not a campaign store (no table "
                f"{', '.join(sorted(lacking))}). Point output_dir at another folder, or move "
                "this file away."
            )
        for table, needed in _COLUMNS.items():
            have = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if needed - have:
                missing = ", ".join(sorted(needed - have))
                raise damaged_store(self.path, f"table {table} lacks column(s) {missing}")

    def _add_checksums(self) -> None:
        """Stores written before checksums existed get them (their values are trusted)."""
        tables = ("probes", "evaluations")
        if all(
            "checksum" in {row["name"] for row in self._db.execute(f"PRAGMA table_info({t})")}
            for t in tables
        ):
            return
        with self._transaction("add checksums to the campaign store"):
            add_missing_checksums(self._db)

    # ------------------------------------------------------------------ helpers
    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Translate sqlite errors into :class:`CampaignStoreError` naming the file."""
        try:
            yield
        except (sqlite3.Error, UnicodeDecodeError) as error:  # a damaged schema may not decode
            raise store_error(self.path, doing, error) from error

    @contextmanager
    def _transaction(self, doing: str = "write to the campaign store") -> Iterator[None]:
        """One write transaction: all of it is committed, or none of it."""
        with self._errors(doing):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _check_guard(self, guard: dict[str, Any]) -> None:
        text = json.dumps(guard, sort_keys=True, separators=(",", ":"))
        digest = sha256(text.encode()).hexdigest()[:16]
        with self._transaction("record the campaign's configuration"):
            row = self._db.execute("SELECT value FROM meta WHERE key='guard_hash'").fetchone()
            if row is None:
                self._db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("guard_hash", digest), ("guard", text), ("created_at", str(time.time()))],
                )
                return
        if row["value"] != digest:
            try:
                stored = json.loads(self.meta("guard") or "{}")
            except ValueError:
                stored = {}
            changed = sorted(k for k in set(stored) | set(guard) if stored.get(k) != guard.get(k))
            raise CampaignMismatchError(
                f"{self.path}: this campaign store was made with a different configuration "
                f"(changed: {', '.join(changed) or 'unknown'}; stored guard {row['value']}, "
                f"now {digest}). Its results cannot be reused: use another output folder, or "
                "delete the store to start over."
            )

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table, or ``None``."""
        with self._errors("read the campaign store"):
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row["value"]

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # ----------------------------------------------------------------- writing
    def register(self, plan: ProbePlan) -> None:
        """Add the plan's probes that are not yet recorded (as ``pending``)."""
        rows = []
        for probe in plan.probes():
            values = [getattr(probe, column) for column in PROBE_COLUMNS]
            rows.append((*values, probe_checksum(values)))
        columns = (*PROBE_COLUMNS, "checksum")
        with self._transaction("register the plan's probes"):
            self._db.executemany(
                f"INSERT OR IGNORE INTO probes ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                rows,
            )
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('plan', ?)", (json.dumps(plan.to_dict()),)
            )

    def reset_interrupted(self) -> list[str]:
        """Reset probes left ``running`` (their process died) to ``pending``; return their keys.

        Only the process holding the campaign lock may call it (see
        :mod:`taskorder.estimate.lock`): any other process's probes are in flight.
        """
        with self._transaction("reset interrupted probes"):
            keys = [
                r["key"] for r in self._db.execute("SELECT key FROM probes WHERE status='running'")
            ]
            self._db.execute("UPDATE probes SET status='pending' WHERE status='running'")
        return keys

    def reopen(self, keys: Iterable[str], reason: str) -> None:
        """Mark probes ``pending`` again and drop their evaluations (e.g. a lost state file)."""
        with self._transaction("reopen probes"):
            for key in keys:
                self._db.execute("DELETE FROM evaluations WHERE probe=?", (key,))
                self._db.execute(
                    "UPDATE probes SET status='pending', error=? WHERE key=?", (reason, key)
                )

    def mark_running(self, key: str) -> None:
        """Record that ``key`` was handed to a worker (``attempts += 1``)."""
        with self._transaction("mark a probe running"):
            self._db.execute(
                "UPDATE probes SET status='running', attempts=attempts+1, started_at=? WHERE key=?",
                (time.time(), key),
            )

    def _insert_evaluations(self, key: str, evaluations: dict[str, dict[str, Any]]) -> None:
        rows = []
        for task, e in evaluations.items():
            values = (e["score"], e["entropy"], e["score_stderr"], e["n_samples"])
            rows.append((key, task, *values, evaluation_checksum(key, task, *values)))
        self._db.executemany(
            "INSERT OR REPLACE INTO evaluations "
            "(probe, task, score, entropy, score_stderr, n_samples, checksum) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def record(self, result: dict[str, Any]) -> None:
        """Store a worker's result and mark the probe ``done``, in one transaction."""
        key = result["key"]
        with self._transaction(f"record the result of probe {key}"):
            self._db.execute("DELETE FROM evaluations WHERE probe=?", (key,))
            self._insert_evaluations(key, result["evaluations"])
            self._db.execute(
                "UPDATE probes SET status='done', runs=runs+1, state_path=?, train_s=?, eval_s=?, "
                "started_at=?, finished_at=?, worker=?, error=NULL WHERE key=?",
                (
                    result["state_path"],
                    result["train_s"],
                    result["eval_s"],
                    result["started_at"],
                    result["finished_at"],
                    result["worker"],
                    key,
                ),
            )

    def add_evaluations(self, key: str, evaluations: dict[str, dict[str, Any]]) -> None:
        """Add evaluations of more tasks to the finished probe ``key`` (a grown task list)."""
        with self._transaction(f"record new evaluations of probe {key}"):
            self._insert_evaluations(key, evaluations)

    def mark_failed(self, key: str, error: str) -> None:
        """Record that ``key`` raised ``error`` (it is retried on the next run)."""
        with self._transaction("record a failed probe"):
            self._db.execute(
                "UPDATE probes SET status='failed', error=?, finished_at=? WHERE key=?",
                (error[:2000], time.time(), key),
            )

    # ----------------------------------------------------------------- reading
    def probes(self, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Probe rows as dicts (all, or those in ``keys``), sorted by key."""
        with self._errors("read the campaign store"):
            rows = [dict(r) for r in self._db.execute("SELECT * FROM probes ORDER BY key")]
        if keys is not None:
            wanted = set(keys)
            rows = [r for r in rows if r["key"] in wanted]
        return rows

    def counts(self, keys: Iterable[str] | None = None) -> dict[str, int]:
        """Number of probes per status (all, or those in ``keys``)."""
        counts: dict[str, int] = {}
        for row in self.probes(keys):
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    def evaluated_tasks(self) -> dict[str, set[str]]:
        """``{probe key: tasks it evaluated}`` of finished probes."""
        out: dict[str, set[str]] = {}
        query = "SELECT e.probe, e.task FROM evaluations e JOIN probes p ON p.key = e.probe " + (
            "WHERE p.status='done'"
        )
        with self._errors("read the campaign store"):
            for row in self._db.execute(query):
                out.setdefault(row["probe"], set()).add(row["task"])
        return out

    def verify(self) -> None:
        """Refuse a store whose records were changed or lost on disk.

        Raises
        ------
        CampaignStoreError
            Naming the first such record and the command that makes the next run
            measure it again (see :mod:`taskorder.estimate.store_integrity`).
        """
        with self._errors("read the campaign store"):
            check_records(self._db, self.path)

    def evaluations(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{probe key: {task: {score, entropy, score_stderr, n_samples}}}`` of finished probes.

        Raises
        ------
        CampaignStoreError
            A record was changed on disk after it was written (see :meth:`verify`).
        """
        self.verify()
        out: dict[str, dict[str, dict[str, float]]] = {}
        query = (
            "SELECT e.probe, e.task, e.score, e.entropy, e.score_stderr, e.n_samples "
            "FROM evaluations e JOIN probes p ON p.key = e.probe WHERE p.status='done'"
        )
        with self._errors("read the campaign store"):
            cursor = self._db.cursor()
            cursor.row_factory = None  # plain tuples: several times faster than Row
            rows = cursor.execute(query).fetchall()
        for probe, task, score, entropy, stderr, n_samples in rows:
            out.setdefault(probe, {})[task] = {
                "score": score,
                "entropy": entropy,
                "score_stderr": stderr,
                "n_samples": n_samples,
            }
        return out

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def probe_from_row(row: dict[str, Any]) -> Probe:
    """Rebuild a :class:`Probe` from a ``probes`` row."""
    return Probe(
        row["key"],
        row["kind"],
        row["task"],
        row["later"],
        row["repeat"],
        row["depends_on"],
        row["init_seed"],
        row["train_seed"],
        row["eval_seed"],
        row["steps"],
    )
