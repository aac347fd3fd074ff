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
    One row per (probe, evaluated task): score, entropy, score standard error and
    number of samples.

Crash safety
------------
Only the coordinator writes (workers return results). A result and the probe's
``done`` status are written in one transaction, so a killed process leaves every
probe either finished with all its evaluations or not finished. On reopening,
probes left ``running`` are reset to ``pending`` and run again; finished probes
never are. The database uses write-ahead logging, so ``taskorder probe status`` can
read it while a campaign runs.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from taskorder.estimate.plan import Probe, ProbePlan
from taskorder.exceptions import TaskorderError

__all__ = [
    "ESTIMATOR_VERSION",
    "STORE_NAME",
    "CampaignMismatchError",
    "CampaignStore",
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
    error TEXT
);
CREATE TABLE IF NOT EXISTS evaluations (
    probe TEXT NOT NULL REFERENCES probes(key),
    task TEXT NOT NULL,
    score REAL NOT NULL,
    entropy REAL NOT NULL,
    score_stderr REAL NOT NULL,
    n_samples INTEGER NOT NULL,
    PRIMARY KEY (probe, task)
);
"""


class CampaignMismatchError(TaskorderError, ValueError):
    """A campaign store was made with a different configuration than the one given."""


class CampaignStore:
    """The SQLite record of one probe campaign.

    Parameters
    ----------
    path : str or Path
        The database file (created with its folder if missing).
    guard : dict
        Everything a probe's result depends on (JSON-ready). A new store records
        it; an existing store must hold the same, else :class:`CampaignMismatchError`.

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

    def __init__(self, path: str | Path, guard: dict[str, Any] | None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        with self._transaction():
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
        if guard is not None:
            self._check_guard(guard)

    @classmethod
    def open_existing(cls, path: str | Path) -> CampaignStore:
        """Open a store for reading (no guard check); raises if the file is missing."""
        path = Path(path)
        if not path.is_file():
            raise CampaignMismatchError(
                f"{path}: no campaign store here (run 'taskorder probe' first)."
            )
        return cls(path, None)

    # ------------------------------------------------------------------ helpers
    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: all of it is committed, or none of it."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _check_guard(self, guard: dict[str, Any]) -> None:
        from hashlib import sha256

        text = json.dumps(guard, sort_keys=True, separators=(",", ":"))
        digest = sha256(text.encode()).hexdigest()[:16]
        with self._transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key='guard_hash'").fetchone()
            if row is None:
                self._db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("guard_hash", digest), ("guard", text), ("created_at", str(time.time()))],
                )
                return
        if row["value"] != digest:
            stored = json.loads(self.meta("guard") or "{}")
            changed = sorted(k for k in set(stored) | set(guard) if stored.get(k) != guard.get(k))
            raise CampaignMismatchError(
                f"{self.path}: this campaign store was made with a different configuration "
                f"(changed: {', '.join(changed) or 'unknown'}; stored guard {row['value']}, "
                f"now {digest}). Its results cannot be reused: use another output folder, or "
                "delete the store to start over."
            )

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table, or ``None``."""
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row["value"]

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # ----------------------------------------------------------------- writing
    def register(self, plan: ProbePlan) -> None:
        """Add the plan's probes that are not yet recorded (as ``pending``)."""
        columns = (
            "key",
            "kind",
            "task",
            "later",
            "repeat",
            "depends_on",
            "init_seed",
            "train_seed",
            "eval_seed",
            "steps",
        )
        rows = [tuple(getattr(probe, c) for c in columns) for probe in plan.probes()]
        with self._transaction():
            self._db.executemany(
                f"INSERT OR IGNORE INTO probes ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                rows,
            )
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('plan', ?)", (json.dumps(plan.to_dict()),)
            )

    def reset_interrupted(self) -> list[str]:
        """Reset probes left ``running`` (their process died) to ``pending``; return their keys."""
        with self._transaction():
            keys = [
                r["key"] for r in self._db.execute("SELECT key FROM probes WHERE status='running'")
            ]
            self._db.execute("UPDATE probes SET status='pending' WHERE status='running'")
        return keys

    def reopen(self, keys: Iterable[str], reason: str) -> None:
        """Mark finished probes ``pending`` again (e.g. their state file was deleted)."""
        with self._transaction():
            for key in keys:
                self._db.execute("DELETE FROM evaluations WHERE probe=?", (key,))
                self._db.execute(
                    "UPDATE probes SET status='pending', error=? WHERE key=?", (reason, key)
                )

    def mark_running(self, key: str) -> None:
        """Record that ``key`` was handed to a worker (``attempts += 1``)."""
        with self._transaction():
            self._db.execute(
                "UPDATE probes SET status='running', attempts=attempts+1, started_at=? WHERE key=?",
                (time.time(), key),
            )

    def record(self, result: dict[str, Any]) -> None:
        """Store a worker's result and mark the probe ``done``, in one transaction."""
        key = result["key"]
        with self._transaction():
            self._db.execute("DELETE FROM evaluations WHERE probe=?", (key,))
            self._db.executemany(
                "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (key, task, e["score"], e["entropy"], e["score_stderr"], e["n_samples"])
                    for task, e in result["evaluations"].items()
                ],
            )
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

    def mark_failed(self, key: str, error: str) -> None:
        """Record that ``key`` raised ``error`` (it is retried on the next run)."""
        with self._transaction():
            self._db.execute(
                "UPDATE probes SET status='failed', error=?, finished_at=? WHERE key=?",
                (error[:2000], time.time(), key),
            )

    # ----------------------------------------------------------------- reading
    def probes(self, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Probe rows as dicts (all, or those in ``keys``), sorted by key."""
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

    def evaluations(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{probe key: {task: {score, entropy, score_stderr, n_samples}}}`` of finished probes."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        query = (
            "SELECT e.* FROM evaluations e JOIN probes p ON p.key = e.probe WHERE p.status='done'"
        )
        for row in self._db.execute(query):
            out.setdefault(row["probe"], {})[row["task"]] = {
                "score": row["score"],
                "entropy": row["entropy"],
                "score_stderr": row["score_stderr"],
                "n_samples": row["n_samples"],
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
