"""Campaign-store errors: one clear message per failure, naming the file and the fix.

SQLite and the file system report a damaged, read-only or full store with codes
(``SQLITE_NOTADB``, ``SQLITE_READONLY``, ``SQLITE_FULL``, ``ENOSPC`` ...) and no file
name. :func:`store_error` turns any of them into a :class:`CampaignStoreError` that
says which file, what went wrong and what to do; nothing recorded is touched.
"""

from __future__ import annotations

import os
import shutil
from errno import ENOSPC
from pathlib import Path

from taskorder.exceptions import TaskorderError

__all__ = ["CampaignStoreError", "damaged_store", "store_error"]


class CampaignStoreError(TaskorderError, RuntimeError):
    """A campaign store cannot be used: damaged, changed on disk, not writable, or disk full."""


#: Below this many free bytes an I/O error is reported as a full disk.
_LOW_SPACE = 1 << 20


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return _LOW_SPACE


def damaged_store(path: Path, detail: str) -> CampaignStoreError:
    return CampaignStoreError(
        f"{path}: not a readable campaign store ({detail}); the file is damaged (truncated or "
        "overwritten). Restore it from a backup, or move it away to start the campaign over "
        "(its finished probes then run again; the states/ folder can stay)."
    )


def store_error(path: Path, doing: str, error: BaseException) -> CampaignStoreError:
    """One clear message, naming the file and the fix, for an sqlite or file-system error.

    Parameters
    ----------
    path : Path
        The store file.
    doing : str
        What failed, completing "could not ...", e.g. ``"open the campaign store"``.
    error : BaseException
        The ``sqlite3`` or ``OSError`` raised (a ``UnicodeDecodeError`` means a damaged file).

    Returns
    -------
    CampaignStoreError
        To raise (the caller chains it to ``error``): disk full, damaged file, locked store,
        folder or store not writable, or else the error's own text.
    """
    name = getattr(error, "sqlite_errorname", None) or type(error).__name__
    text = getattr(error, "strerror", None) or str(error)
    errno_ = getattr(error, "errno", None)
    folder = path.parent
    if (
        name.startswith("SQLITE_FULL")
        or "disk is full" in text
        or errno_ == ENOSPC
        or (name.startswith("SQLITE_IOERR") and _free_bytes(folder) < _LOW_SPACE)
    ):
        return CampaignStoreError(
            f"{path}: could not {doing}: the disk is full ({name}). Free space on it and rerun; "
            "the results recorded so far are kept."
        )
    if (
        name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT"))
        or "not a database" in text
        or "malformed" in text
        or "Could not decode" in text
        or isinstance(error, UnicodeDecodeError)
    ):
        return damaged_store(path, f"{name}: {text}")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return CampaignStoreError(
            f"{path}: could not {doing}: another process kept the store locked for 30 s "
            f"({name}). Wait for it (see 'taskorder probe status') and rerun."
        )
    writable = os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
    if (
        not writable
        or name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"))
        or (isinstance(error, PermissionError))
    ):
        return CampaignStoreError(
            f"{path}: could not {doing}: the campaign folder {folder} or the store is not "
            f"writable ({name}: {text}). Make both writable (the store also writes "
            f"{path.name}-wal and {path.name}-shm beside it), or set another output_dir."
        )
    return CampaignStoreError(f"{path}: could not {doing} ({name}: {text}).")
