"""Which operating-system isolation the sandbox can use here, found by trying it.

:func:`probe_isolation` tries the levels below from strongest to weakest, running a
small probe under each and keeping the first whose promises the probe confirms (the
network is unreachable; the uid is neither root nor ours and holds no capability;
``/tmp`` is read-only):

``root-namespaces``
    root: ``unshare --net --mount`` + read-only world-writable directories + ``setpriv``
    to a reserved uid (no capabilities, ``no_new_privs``).
``root-net``
    root: ``unshare --net`` + ``setpriv`` (no mount namespace).
``root-uid``
    root without namespace rights (e.g. a container without ``CAP_SYS_ADMIN``): ``setpriv``.
``userns``
    not root (also offered to root, after the root levels, so that a root machine can
    run what a non-root one gets): ``unshare --user --map-root-user --net --mount`` +
    read-only world-writable directories; files the calling user may write stay writable.
``plain``
    only the process boundary, rlimits and the audit hook.

Only the ``root-*`` levels are :attr:`IsolationReport.safe_for_untrusted`: they run the
code under a uid of its own, so the kernel keeps it off the caller's files and
processes even where the audit hook is bypassed. At ``userns`` and ``plain`` the hook
is the only guard of the caller's files, so ``run_python_tests(isolation="auto")``
refuses to run there (:class:`SandboxUnavailableError`); naming the level explicitly
accepts that risk.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

from taskorder.checks import check_choice
from taskorder.exceptions import InvalidParameterError, TaskorderError

__all__ = [
    "LEVELS",
    "UID_BASE",
    "UID_COUNT",
    "IsolationReport",
    "SandboxUnavailableError",
    "probe_isolation",
    "reserved_uid",
]


class SandboxUnavailableError(TaskorderError, RuntimeError):
    """No isolation level that is safe for untrusted code works on this machine."""


LEVELS = ("root-namespaces", "root-net", "root-uid", "userns", "plain")
UID_BASE = 64000
"""First uid reserved for sandboxes; uids ``UID_BASE .. UID_BASE + UID_COUNT - 1`` are used."""
UID_COUNT = 512
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")

# $1 = the sandbox directory, then the command. Make the mount tree private, keep the
# sandbox directory writable (its own bind mount) and the world-writable directories
# read-only for everything below this process.
_MOUNT_SCRIPT = (
    'set -e; d="$1"; shift; mount --make-rprivate /; mount --bind "$d" "$d"; '
    "for w in " + " ".join(WORLD_WRITABLE) + "; do "
    'if [ -d "$w" ] && [ ! -L "$w" ]; then mount --rbind "$w" "$w"; '
    'mount -o remount,bind,ro "$w"; fi; done; exec "$@"'
)

_PROBE = """
import errno, json, os, socket
result = {"uid": os.getuid()}
with open("/proc/self/status") as status:
    result["caps"] = [l.split()[1] for l in status if l.startswith("CapEff:")][0]
try:
    s = socket.socket(); s.settimeout(1); s.connect(("127.0.0.1", 9)); result["net"] = "open"
except OSError as error:
    result["net"] = "unreachable" if error.errno == errno.ENETUNREACH else "reachable"
try:
    path = os.path.join(os.path.dirname(os.getcwd()), "taskorder-probe-%d" % os.getpid())
    open(path, "w").close(); os.remove(path); result["tmp"] = "writable"
except OSError:
    result["tmp"] = "read-only"
print(json.dumps(result))
"""


@dataclass(frozen=True)
class IsolationReport:
    """An isolation level and the tools that implement it.

    Attributes
    ----------
    name : str
        One of :data:`LEVELS`.
    network_isolated : bool
        Runs in a network namespace of its own (no reachable network).
    tmp_read_only : bool
        World-writable directories other than the sandbox's are read-only.
    drops_privileges : bool
        Runs under a reserved unprivileged uid, so ``RLIMIT_NPROC`` = 1 forbids forks.
    user_namespace : bool
        Namespaces are created inside an unprivileged user namespace.
    tools : dict
        Absolute paths of ``unshare``, ``setpriv`` and ``sh`` where used.
    """

    name: str
    network_isolated: bool = False
    tmp_read_only: bool = False
    drops_privileges: bool = False
    user_namespace: bool = False
    tools: tuple[tuple[str, str], ...] = ()

    @property
    def safe_for_untrusted(self) -> bool:
        """Whether the kernel, not only the audit hook, keeps the code off the caller's things.

        True for the levels that drop to a uid of their own: file permissions, signals
        and ``RLIMIT_NPROC`` then hold even against code that slips past the audit hook
        (a compiled extension, a gap in the hook). ``userns`` and ``plain`` run as the
        caller, so the hook alone guards the caller's files and processes.
        """
        return self.drops_privileges

    def command(self, workdir: str, uid: int | None, argv: list[str]) -> list[str]:
        """Wrap ``argv`` in the commands that implement this level."""
        tools = dict(self.tools)
        command = list(argv)
        if self.drops_privileges:
            command = [
                tools["setpriv"],
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--no-new-privs",
                "--",
                *command,
            ]
        if self.tmp_read_only:
            command = [tools["sh"], "-c", _MOUNT_SCRIPT, "sh", workdir, *command]
        flags = (
            (["--user", "--map-root-user"] if self.user_namespace else [])
            + (["--net"] if self.network_isolated else [])
            + (["--mount"] if self.tmp_read_only else [])
        )
        if flags:
            command = [tools["unshare"], *flags, "--", *command]
        return command


def _candidates() -> list[IsolationReport]:
    tools = {name: shutil.which(name) for name in ("unshare", "setpriv", "sh", "mount")}
    have = {name for name, path in tools.items() if path}
    paths = tuple((name, path) for name, path in tools.items() if path)
    root = os.geteuid() == 0
    levels = []
    if root and {"unshare", "setpriv", "sh", "mount"} <= have:
        levels.append(IsolationReport("root-namespaces", True, True, True, False, paths))
    if root and {"unshare", "setpriv"} <= have:
        levels.append(IsolationReport("root-net", True, False, True, False, paths))
    if root and "setpriv" in have:
        levels.append(IsolationReport("root-uid", False, False, True, False, paths))
    # Also offered to root, so that a root machine can run (and test) what a machine
    # without root gets; "auto" reaches it only when every root level failed.
    if {"unshare", "sh", "mount"} <= have:
        levels.append(IsolationReport("userns", True, True, False, True, paths))
    levels.append(IsolationReport("plain"))
    return levels


def _confirm(report: IsolationReport, python: str) -> bool:
    """Run the probe under ``report``; ``True`` when every promise holds."""
    with reserved_uid(report.drops_privileges) as uid:
        workdir = tempfile.mkdtemp(prefix="taskorder-probe-")
        try:
            if uid is not None:
                os.chown(workdir, uid, uid)
            argv = report.command(workdir, uid, [python, "-I", "-S", "-c", _PROBE])
            completed = subprocess.run(
                argv,
                cwd=workdir,
                capture_output=True,
                timeout=20,
                env={"PATH": "/usr/bin:/bin"},
                check=False,
            )
            found = json.loads(completed.stdout.decode().strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            return False
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return (
        completed.returncode == 0
        and (
            not report.drops_privileges
            or (found["uid"] not in (0, os.getuid()) and int(found["caps"], 16) == 0)
        )
        and (not report.network_isolated or found["net"] == "unreachable")
        and (not report.tmp_read_only or found["tmp"] == "read-only")
    )


_CACHE: dict[tuple[str, str], IsolationReport] = {}
_CACHE_LOCK = threading.Lock()


def probe_isolation(python: str | None = None, *, level: str = "auto", refresh: bool = False):
    """Return the strongest isolation level that works here (cached per interpreter).

    Parameters
    ----------
    python : str, optional
        Interpreter the sandbox will run; defaults to ``sys.executable``.
    level : str, default "auto"
        ``"auto"`` for the strongest that works, or one of :data:`LEVELS` to require it.
    refresh : bool, default False
        Probe again instead of using the cached answer.

    Returns
    -------
    IsolationReport

    Raises
    ------
    InvalidParameterError
        If ``level`` is unknown, or was named but does not work on this machine.

    Examples
    --------
    >>> probe_isolation(level="plain").name
    'plain'
    >>> probe_isolation().name in LEVELS
    True
    """
    import sys

    check_choice(level, ("auto", *LEVELS), "level", "probe_isolation")
    python = python or sys.executable
    key = (python, level)
    with _CACHE_LOCK:
        if key in _CACHE and not refresh:
            return _CACHE[key]
        candidates = [c for c in _candidates() if level in ("auto", c.name)]
        chosen = next((c for c in candidates if c.name == "plain" or _confirm(c, python)), None)
        if chosen is None:
            raise InvalidParameterError(
                f"The isolation level {level!r} asked of probe_isolation does not work on this "
                f"machine. Use level='auto' to take the strongest one that does."
            )
        _CACHE[key] = chosen
        return chosen


def _lock_dir() -> str:
    path = os.path.join(tempfile.gettempdir(), f"taskorder-sandbox-uids-{os.geteuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    info = os.lstat(path)
    if info.st_uid != os.geteuid() or not os.path.isdir(path) or os.path.islink(path):
        raise PermissionError(f"The sandbox lock directory {path} is not a directory we own.")
    return path


@contextlib.contextmanager
def reserved_uid(needed: bool = True):
    """Reserve one sandbox uid for the duration (``flock``: safe across processes).

    Yields ``None`` when ``needed`` is false. Processes left over under the uid from
    an earlier run are killed before it is handed out and after it is returned.
    """
    if not needed:
        yield None
        return
    directory = _lock_dir()
    while True:
        for uid in range(UID_BASE, UID_BASE + UID_COUNT):
            if _is_real_user(uid):
                continue  # never borrow (or kill the processes of) an account
            with open(os.path.join(directory, str(uid)), "w") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                try:
                    kill_uid(uid)
                    yield uid
                finally:
                    kill_uid(uid)
                    fcntl.flock(handle, fcntl.LOCK_UN)
                return
        time.sleep(0.05)  # every uid busy: wait for one


def _is_real_user(uid: int) -> bool:
    import pwd

    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def kill_uid(uid: int) -> int:
    """SIGKILL every process running under ``uid``; return how many were signalled."""
    killed = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as handle:
                line = next(line for line in handle if line.startswith("Uid:"))
            if int(line.split()[1]) == uid:
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
        except (OSError, StopIteration, ValueError, IndexError):
            continue
    return killed
