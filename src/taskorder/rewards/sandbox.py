"""Run untrusted Python against tests in a separate, locked-down process.

Layers, from the operating system inwards (what this machine supports is probed once
per interpreter by :func:`probe_isolation`; see ``docs/rewards.md`` for what was
verified):

- a fresh ``python -I`` process (isolated mode: no user site, no ``PYTHON*`` variables)
  in a new session, with a stripped environment and a fresh temporary directory as
  its working directory, killed with its process group at a wall-clock timeout;
- as root: a private network namespace (``unshare --net``: no interface but a
  loopback that is down), a private mount namespace where the world-writable
  directories (``/tmp``, ``/var/tmp``, ``/dev/shm``, ``/run/lock``) are read-only
  except the sandbox's own directory, and a drop to an unprivileged uid reserved for
  one sandbox at a time (``setpriv``; no capabilities, ``no_new_privs``), which also
  makes ``RLIMIT_NPROC`` bite (it does not for root);
- without root: the same namespaces in a user namespace when the kernel allows it;
- where the kernel offers Landlock (any uid, no privileges needed): the child confines
  itself so that files can be written, created, removed or linked only inside its
  directory, TCP bind/connect fail, and signals and abstract unix sockets cannot
  reach processes outside the sandbox (:attr:`SandboxResult.landlock` says which ABI
  was enforced);
- inside the process (:mod:`taskorder.rewards._sandbox_child`): resource limits
  (address space, CPU seconds, file size, open files, processes, no core dumps) and an
  audit hook refusing process creation, sockets, ctypes, writes outside the directory
  and introspection that could forge results.

Results come back over a pipe, one line per test, authenticated with a random nonce
the code under test cannot read.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from taskorder.checks import check_float
from taskorder.exceptions import InvalidParameterError
from taskorder.rewards._isolation import (
    IsolationReport,
    SandboxUnavailableError,
    probe_isolation,
    reserved_uid,
)

__all__ = [
    "IsolationReport",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailableError",
    "probe_isolation",
    "require_safe_isolation",
    "run_python_tests",
]


@functools.lru_cache(maxsize=1)
def _child_source() -> str:
    return Path(__file__).with_name("_sandbox_child.py").read_text(encoding="utf-8")


_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed run.

    Parameters
    ----------
    timeout : float, default 5.0
        Wall-clock seconds for the whole run (start-up, code and all tests).
    per_test_timeout : float or None, default None
        Seconds for the code and for each test (``SIGALRM`` inside the child); a test
        that overruns fails and the next one runs. ``None``: only ``timeout`` applies.
    cpu_seconds : int or None, default None
        ``RLIMIT_CPU``; ``None`` means ``ceil(timeout) + 1``.
    memory_bytes : int, default 1 GiB
        ``RLIMIT_AS`` (virtual address space).
    file_size_bytes : int, default 16 MiB
        ``RLIMIT_FSIZE`` (largest file the code may write).
    open_files : int, default 64
        ``RLIMIT_NOFILE``.
    output_bytes : int, default 1 MiB
        Most bytes read back from the child before it is killed.

    Examples
    --------
    >>> SandboxLimits(timeout=2).cpu_limit
    3
    >>> SandboxLimits(timeout=0)
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: The 'timeout' parameter of SandboxLimits must be a finite number > 0. Got 0 instead.
    """

    timeout: float = 5.0
    per_test_timeout: float | None = None
    cpu_seconds: int | None = None
    memory_bytes: int = 1 << 30
    file_size_bytes: int = 16 << 20
    open_files: int = 64
    output_bytes: int = 1 << 20

    def __post_init__(self):
        positive = {
            "timeout": self.timeout,
            "memory_bytes": self.memory_bytes,
            "file_size_bytes": self.file_size_bytes,
            "open_files": self.open_files,
            "output_bytes": self.output_bytes,
        }
        if self.per_test_timeout is not None:
            positive["per_test_timeout"] = self.per_test_timeout
        if self.cpu_seconds is not None:
            positive["cpu_seconds"] = self.cpu_seconds
        for name, value in positive.items():
            check_float(value, name, "SandboxLimits", minimum=0, low_open=True)
        # Python needs a few descriptors to start
        check_float(self.open_files, "open_files", "SandboxLimits", minimum=16)

    @property
    def cpu_limit(self) -> int:
        """The ``RLIMIT_CPU`` value in whole seconds."""
        if self.cpu_seconds is not None:
            return int(self.cpu_seconds)
        return int(-(-self.timeout // 1)) + 1


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of :func:`run_python_tests`.

    Attributes
    ----------
    passed : tuple of bool
        One flag per test; a test that never reported counts as failed.
    status : str
        ``"completed"`` (every test ran), ``"timeout"`` (killed at the wall-clock
        limit), ``"crashed"`` (exited early: ``os._exit``, a limit, a signal),
        ``"output_limit"`` (flooded the result pipe) or ``"error"`` (could not start).
    loaded : bool
        Whether the code itself ran without raising.
    elapsed : float
        Wall-clock seconds of the run.
    isolation : str
        Name of the isolation level used (see :class:`IsolationReport`).
    returncode : int or None
        Exit status of the child (negative: killed by that signal).
    landlock : int
        Landlock ABI version the child confined itself with (0: the kernel offers
        none). 1-3 confine file writes, 4+ also TCP, 6+ also signals and abstract
        unix sockets.
    """

    passed: tuple[bool, ...]
    status: str
    loaded: bool
    elapsed: float
    isolation: str
    returncode: int | None = None
    detail: str = field(default="", compare=False)
    landlock: int = field(default=0, compare=False)

    @property
    def n_passed(self) -> int:
        """Number of tests that passed."""
        return sum(self.passed)

    @property
    def fraction_passed(self) -> float:
        """Fraction of tests that passed (0.0 when there are no tests)."""
        return self.n_passed / len(self.passed) if self.passed else 0.0


def run_python_tests(
    code: str,
    tests,
    *,
    limits: SandboxLimits | None = None,
    isolation: str = "auto",
    audit_hook: bool = True,
    python: str | None = None,
) -> SandboxResult:
    """Run ``code`` and then each test snippet in a sandboxed interpreter.

    Parameters
    ----------
    code : str
        The untrusted program (defines functions, classes...).
    tests : sequence of str
        Snippets run one after another in the code's namespace; a test passes when
        it runs without raising (typically ``assert f(2) == 4``).
    limits : SandboxLimits, optional
        Time, memory and size limits; defaults to :class:`SandboxLimits()`.
    isolation : str, default "auto"
        ``"auto"`` uses the strongest level :func:`probe_isolation` found and refuses
        to run when that level is not safe for untrusted code (``userns``, ``plain``:
        see :func:`require_safe_isolation`). Naming a level uses it as is; ``"plain"``
        (only the process, rlimits and the audit hook) is for trusted code, tests
        and debugging.
    audit_hook : bool, default True
        Install the in-process audit hook. Switch off only to test the OS layers.
    python : str, optional
        Interpreter to run; defaults to ``sys.executable``.

    Returns
    -------
    SandboxResult
        Per-test outcome, status and timing.

    Raises
    ------
    SandboxUnavailableError
        With ``isolation="auto"``, when no level safe for untrusted code works here.

    Examples
    --------
    >>> result = run_python_tests("def double(x):\\n    return 2 * x",
    ...                           ["assert double(2) == 4", "assert double(3) == 5"])
    >>> result.passed, result.status
    ((True, False), 'completed')
    """
    limits = SandboxLimits() if limits is None else limits
    if isinstance(tests, str) or not all(isinstance(test, str) for test in tests):
        raise InvalidParameterError(
            "The 'tests' parameter of run_python_tests must be a list of code strings. "
            f"Got {tests!r:.80} instead."
        )
    if not isinstance(code, str):
        raise InvalidParameterError(
            f"The 'code' parameter of run_python_tests must be a string. Got {type(code).__name__}."
        )
    tests = list(tests)
    python = python or sys.executable
    report = (
        require_safe_isolation(python)
        if isolation == "auto"
        else probe_isolation(python, level=isolation)
    )
    started = time.monotonic()
    with reserved_uid(report.drops_privileges) as uid:
        workdir = tempfile.mkdtemp(prefix="taskorder-sandbox-")
        try:
            nonce = secrets.token_hex(16)
            _write_payload(workdir, uid, code, tests, nonce, limits, audit_hook, uid is not None)
            argv = report.command(workdir, uid, [python, "-I", "-c", _child_source()])
            outcome = _run(argv, workdir, limits)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    return _parse(outcome, nonce, len(tests), elapsed, report.name)


def require_safe_isolation(python: str | None = None) -> IsolationReport:
    """Return the strongest isolation level here if it is safe for untrusted code.

    Parameters
    ----------
    python : str, optional
        Interpreter the sandbox will run; defaults to ``sys.executable``.

    Returns
    -------
    IsolationReport
        A level whose :attr:`~IsolationReport.safe_for_untrusted` is true.

    Raises
    ------
    SandboxUnavailableError
        When the strongest level that works is ``userns`` or ``plain``: the code would
        run under the caller's own uid with only the audit hook between it and the
        caller's files and processes.
    """
    report = probe_isolation(python)
    if not report.safe_for_untrusted:
        raise SandboxUnavailableError(
            f"The code sandbox needs an isolation level safe for untrusted code (one of "
            f"'root-namespaces', 'root-net', 'root-uid'); the strongest that works on this "
            f"machine is {report.name!r}, where the code runs under your own uid and only "
            f"the in-process audit hook guards your files and processes (a compiled "
            f"extension bypasses it). Run the trainer as root (or in a container with "
            f"root), or pass isolation={report.name!r} to accept that risk for code you trust."
        )
    return report


def _write_payload(workdir, uid, code, tests, nonce, limits, audit_hook, own_uid):
    payload = {
        "code": code,
        "tests": tests,
        "nonce": nonce,
        "audit_hook": bool(audit_hook),
        "landlock": True,
        "per_test_timeout": limits.per_test_timeout,
        "limits": {
            "memory_bytes": int(limits.memory_bytes),
            "cpu_seconds": limits.cpu_limit,
            "file_size_bytes": int(limits.file_size_bytes),
            "open_files": int(limits.open_files),
            # Only under a uid of its own does a limit of one process mean "no fork".
            "processes": 1 if own_uid else None,
        },
    }
    path = os.path.join(workdir, "payload.json")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    if uid is not None:
        os.chown(workdir, uid, uid)
        os.chown(path, uid, uid)


def _run(argv, workdir, limits):
    """Start the child, read its result pipe until EOF, the deadline or the byte cap."""
    try:
        process = subprocess.Popen(
            argv,
            cwd=workdir,
            env=dict(_ENV, HOME=workdir, TMPDIR=workdir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as error:
        return {"status": "error", "data": b"", "returncode": None, "detail": str(error)}
    deadline = time.monotonic() + limits.timeout
    chunks, size, status = [], 0, None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while status is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                status = "timeout"
                break
            if not selector.select(timeout=remaining):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limits.output_bytes:
                status = "output_limit"
    if status is None and not _exited(process.pid, max(0.05, deadline - time.monotonic())):
        status = "timeout"
    _kill_group(process)
    process.stdout.close()
    return {
        "status": status,
        "data": b"".join(chunks),
        "returncode": process.returncode,
        "detail": "",
    }


def _exited(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the child to exit, leaving it unreaped (a zombie).

    An unreaped leader keeps its pid, and so its process group id, from being reused
    until :func:`_kill_group` has signalled the group.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the sandbox's process group, then reap its leader.

    The group is signalled even when the leader has already exited: a process it
    forked (past the audit hook) must not outlive the run.
    """
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _parse(outcome, nonce, n_tests, elapsed, isolation) -> SandboxResult:
    passed = [False] * n_tests
    seen, loaded, done, landlock = set(), False, False, 0
    for line in outcome["data"].decode("utf-8", "replace").splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != nonce:
            continue
        key, value = parts[1], parts[2]
        if key == "loaded":
            loaded = value == "1"
        elif key == "landlock" and value.isdigit():
            landlock = int(value)
        elif key == "done":
            done = value == str(n_tests)
        elif key.isdigit() and int(key) < n_tests and key not in seen:
            seen.add(key)
            passed[int(key)] = value == "1"
    status = outcome["status"] or ("completed" if done else "crashed")
    return SandboxResult(
        passed=tuple(passed),
        status=status,
        loaded=loaded,
        elapsed=elapsed,
        isolation=isolation,
        returncode=outcome["returncode"],
        detail=outcome["detail"],
        landlock=landlock,
    )
