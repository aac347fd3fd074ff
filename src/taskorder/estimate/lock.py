"""One coordinator per campaign: a lock file in the campaign folder.

Two ``taskorder probe run`` processes on one campaign would both reset the other's
in-flight probes to ``pending`` and record probes twice (with a non-deterministic
runner, one campaign would mix two runs). :class:`CampaignLock` prevents that: the
coordinator holds an exclusive ``flock`` on ``campaign.lock`` for the whole run and
writes its process id, host and start time into it, so a second coordinator is
refused with a message naming the running one.

The kernel releases a ``flock`` when its process dies, even by ``SIGKILL``; the
file's contents stay behind. A lock left by a dead process on the same host is
therefore taken over, with a note. A lock naming another host cannot be checked
from here (``flock`` is not reliable across machines on network file systems), so
it is refused with the instruction to delete the file once that process is gone.
A clean exit empties the file.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Self

from taskorder.estimate.store_errors import store_error
from taskorder.exceptions import TaskorderError

__all__ = ["LOCK_NAME", "CampaignLock", "CampaignLockedError", "lock_holder"]

#: File name of the lock inside a campaign's output folder.
LOCK_NAME = "campaign.lock"

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: process-id check only
    fcntl = None  # type: ignore[assignment]


class CampaignLockedError(TaskorderError, RuntimeError):
    """Another process is running this campaign (it holds the campaign folder's lock)."""


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return True


def _read_holder(fd: int) -> dict[str, Any] | None:
    """The holder recorded in the lock file (``None`` when empty or unreadable)."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        holder = json.loads(text)
    except ValueError:
        return {"pid": None, "host": "unknown", "raw": text[:200]}
    return holder if isinstance(holder, dict) else {"pid": None, "host": "unknown"}


def _describe(holder: dict[str, Any]) -> str:
    if "raw" in holder:
        return f"an unknown process (unreadable lock record {holder['raw']!r})"
    since = holder.get("started_at")
    when = (
        time.strftime(" since %Y-%m-%d %H:%M:%S", time.localtime(since))
        if isinstance(since, (int, float))
        else ""
    )
    return f"process {holder.get('pid')} on host {holder.get('host')}{when}"


def _try_flock(fd: int, mode: int) -> bool | None:
    """``True`` if locked, ``False`` if someone else holds it, ``None`` if no ``flock`` here
    (Windows, or a network file system without locks: the process-id check applies)."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as error:
        if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            return None
        raise
    return True


def _flock_retrying(fd: int, patience: float = 1.0) -> bool | None:
    """Exclusive lock; retry briefly (``probe status`` holds a shared lock for microseconds)."""
    deadline = time.monotonic() + patience
    while (locked := _try_flock(fd, fcntl.LOCK_EX if fcntl else 0)) is False:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return locked


class CampaignLock:
    """The exclusive lock of one campaign folder; use it as a context manager.

    Parameters
    ----------
    directory : str or Path
        The campaign's output folder (created if missing).

    Attributes
    ----------
    path : Path
        The lock file.
    notes : list of str
        After :meth:`acquire`: a note when a stale lock was taken over.

    Raises
    ------
    CampaignLockedError
        From :meth:`acquire`, when another live process holds the lock, or when the
        lock names a process on another host.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with CampaignLock(folder):
    ...     CampaignLock(folder).acquire()
    Traceback (most recent call last):
    ...
    taskorder.estimate.lock.CampaignLockedError: ...
    >>> lock_holder(folder) is None
    True
    """

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / LOCK_NAME
        self.notes: list[str] = []
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`CampaignLockedError` naming its holder."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise store_error(self.path, "take the campaign lock", error) from error
        try:
            holder = self._check(fd)
            me = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": time.time()}
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(me) + "\n").encode())
            os.fsync(fd)
        except OSError as error:
            os.close(fd)
            raise store_error(self.path, "take the campaign lock", error) from error
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        if holder is not None:
            self.notes.append(
                f"took over the lock {self.path} left by {_describe(holder)}, which is no "
                "longer running (its probes that were running go again)"
            )

    def _check(self, fd: int) -> dict[str, Any] | None:
        """Lock ``fd``; return the stale holder to take over, or raise."""
        locked = _flock_retrying(fd)
        if locked is False:
            holder = _read_holder(fd) or {"pid": "unknown", "host": "unknown"}
            raise CampaignLockedError(
                f"{self.path}: this campaign is being run by {_describe(holder)}. Wait for "
                "it to finish (watch it with 'taskorder probe status'), or stop that process; "
                "two runs on one campaign would record probes twice."
            )
        holder = _read_holder(fd)
        if holder is None:
            return None
        if holder.get("host") != socket.gethostname():
            raise CampaignLockedError(
                f"{self.path}: this campaign was started by {_describe(holder)}, which cannot "
                "be checked from this host. If that process is no longer running, delete "
                f"{self.path} and rerun."
            )
        pid = holder.get("pid")
        if locked is None and isinstance(pid, int) and pid != os.getpid() and _pid_alive(pid):
            raise CampaignLockedError(
                f"{self.path}: this campaign is being run by {_describe(holder)}."
            )
        return holder

    def release(self) -> None:
        """Empty the lock file and release the lock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass  # the kernel still drops the flock below; a stale file is taken over later
        finally:
            os.close(fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(directory: str | Path) -> dict[str, Any] | None:
    """The live process running the campaign in ``directory``, or ``None``.

    Returns the recorded ``pid``, ``host`` and ``started_at``, plus ``verified``:
    ``True`` when the lock is held on this host, ``False`` when it names another
    host (which cannot be checked from here).
    """
    path = Path(directory) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        holder = _read_holder(fd)
        locked = _try_flock(fd, fcntl.LOCK_SH if fcntl else 0)
        held = locked is False
        if locked:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    if held:
        return {**(holder or {"pid": "unknown", "host": "unknown"}), "verified": True}
    if holder is None:
        return None
    if holder.get("host") != socket.gethostname():
        return {**holder, "verified": False}
    pid = holder.get("pid")
    if locked is None and isinstance(pid, int) and _pid_alive(pid):
        return {**holder, "verified": True}
    return None
