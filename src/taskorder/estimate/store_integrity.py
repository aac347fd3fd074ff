"""Checksums of campaign-store records: a value changed on disk is refused, never used.

Every probe row carries a checksum of what defines the probe (key, kind, tasks,
repeat, dependency, seeds, steps) and every evaluation row one of its values
(probe, task, score, entropy, standard error, samples). :func:`check_records`
recomputes them and also looks for evaluations of unknown probes and finished
probes without evaluations; the first problem becomes a
:class:`~taskorder.estimate.store_errors.CampaignStoreError` that names the record
and gives the command that makes the next run measure it again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from hashlib import blake2b
from pathlib import Path

from taskorder.estimate.store_errors import CampaignStoreError

__all__ = [
    "PROBE_COLUMNS",
    "add_missing_checksums",
    "check_records",
    "evaluation_checksum",
    "probe_checksum",
]

#: Columns of a ``probes`` row that define the probe (what its checksum covers).
PROBE_COLUMNS = (
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


def _digest(values: Sequence[object]) -> str:
    # repr() of str, int and float is exact and stable across Python versions
    return blake2b(repr(tuple(values)).encode(), digest_size=8).hexdigest()


def probe_checksum(values: Sequence[object]) -> str:
    """Checksum of a probe's defining values (in :data:`PROBE_COLUMNS` order)."""
    return _digest(values)


def evaluation_checksum(
    probe: str, task: str, score: float, entropy: float, stderr: float, n_samples: int
) -> str:
    """Checksum of one evaluation record.

    Parameters
    ----------
    probe : str
        Key of the probe.
    task : str
        Evaluated task.
    score, entropy, stderr : float
        The evaluation's score, mean token entropy and score standard error.
    n_samples : int
        Sampled answers behind the score.

    Returns
    -------
    str
        16 hexadecimal digits (BLAKE2b).

    Examples
    --------
    >>> evaluation_checksum("base/r0", "a", 0.5, 1.0, 0.0, 0)
    '93a31a30a9991409'
    """
    return _digest((probe, task, float(score), float(entropy), float(stderr), int(n_samples)))


_EVALUATION_COLUMNS = ("probe", "task", "score", "entropy", "score_stderr", "n_samples")


def _plain_rows(db: sqlite3.Connection, table: str, columns: Sequence[str]) -> list[tuple]:
    """Rows as plain tuples (much faster than :class:`sqlite3.Row` for checksumming)."""
    cursor = db.cursor()
    cursor.row_factory = None
    return cursor.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()


def _evaluation_row_checksum(row: Sequence[object]) -> str:
    probe, task, score, entropy, stderr, n_samples = row[:6]
    return evaluation_checksum(probe, task, score, entropy, stderr, n_samples)


def _probe_row_checksum(row: Sequence[object]) -> str:
    return probe_checksum(row[: len(PROBE_COLUMNS)])


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def add_missing_checksums(db: sqlite3.Connection) -> bool:
    """Give a store written before checksums existed its checksums (values are trusted).

    Call inside a write transaction. Returns whether anything was added.
    """
    added = False
    for table, columns, checksum, where in (
        ("probes", PROBE_COLUMNS, _probe_row_checksum, "key=?"),
        ("evaluations", _EVALUATION_COLUMNS, _evaluation_row_checksum, "probe=? AND task=?"),
    ):
        if "checksum" in _columns(db, table):
            continue
        db.execute(f"ALTER TABLE {table} ADD COLUMN checksum TEXT")
        keys = slice(0, 1) if table == "probes" else slice(0, 2)
        db.executemany(
            f"UPDATE {table} SET checksum=? WHERE {where}",
            [(checksum(row), *row[keys]) for row in _plain_rows(db, table, columns)],
        )
        added = True
    return added


def _quote(key: str) -> str:
    return "'" + str(key).replace("'", "''") + "'"


def _refuse(path: Path, what: str, sql: str, more: int) -> CampaignStoreError:
    others = f" (and {more} more record(s))" if more else ""
    return CampaignStoreError(
        f"{path}: {what}{others}, so the matrix cannot be trusted. Restore the store from a "
        f'backup; or, to measure that probe again, run: sqlite3 {path} "{sql}" and rerun the '
        "campaign."
    )


def check_records(db: sqlite3.Connection, path: Path) -> None:
    """Raise :class:`CampaignStoreError` for the first record changed or lost on disk.

    Stores opened read-only from before checksums existed are checked for
    consistency only (no checksums to compare).
    """
    has_probe_sums = "checksum" in _columns(db, "probes")
    has_eval_sums = "checksum" in _columns(db, "evaluations")
    extra = ("status", "checksum" if has_probe_sums else "NULL")
    probes = _plain_rows(db, "probes", (*PROBE_COLUMNS, *extra))
    problems: list[tuple[str, str]] = []
    for row in probes:
        if has_probe_sums and row[-1] != _probe_row_checksum(row):
            key = _quote(row[0])
            what = f"the record of probe {row[0]!r} was changed after it was written"
            sql = f"DELETE FROM evaluations WHERE probe={key}; DELETE FROM probes WHERE key={key}"
            problems.append((what + " (checksum mismatch)", sql))
    known = {row[0] for row in probes}
    evaluated: set[str] = set()
    columns = (*_EVALUATION_COLUMNS, "checksum" if has_eval_sums else "NULL")
    for row in _plain_rows(db, "evaluations", columns):
        probe, task = row[0], row[1]
        evaluated.add(probe)
        key = _quote(probe)
        if probe not in known:
            what = f"an evaluation of task {task!r} belongs to no probe ({probe!r})"
            problems.append((what, f"DELETE FROM evaluations WHERE probe={key}"))
        elif has_eval_sums and row[-1] != _evaluation_row_checksum(row):
            what = f"the recorded evaluation of task {task!r} in probe {probe!r} was changed"
            sql = f"DELETE FROM evaluations WHERE probe={key}; UPDATE probes SET status='pending'"
            problems.append((what + " (checksum mismatch)", f"{sql} WHERE key={key}"))
    for row in probes:
        if row[-2] == "done" and row[0] not in evaluated:
            what = f"probe {row[0]!r} is recorded as done but its evaluations are gone"
            problems.append(
                (what, f"UPDATE probes SET status='pending' WHERE key={_quote(row[0])}")
            )
    if problems:
        what, sql = problems[0]
        raise _refuse(path, what, sql, len(problems) - 1)
