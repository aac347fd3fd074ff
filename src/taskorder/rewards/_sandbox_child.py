"""Bootstrap that runs inside the sandbox process (passed to ``python -I -c``).

Importing this module does nothing; :mod:`taskorder.rewards.sandbox` reads its source
and runs it as ``__main__`` in a fresh interpreter whose working directory is the
sandbox's temporary directory. There it

1. reads ``payload.json`` (code, tests, nonce, limits) and deletes it;
2. lowers resource limits (address space, CPU time, file size, open files, core
   dumps and, when the sandbox runs under its own uid, the number of processes);
3. keeps a private duplicate of stdout for results and points fds 0, 1 and 2 at
   ``/dev/null``;
3b. where the kernel offers Landlock, restricts itself for good: files may be
   written, created, removed or linked only inside the directory (and ``/dev/null``),
   no TCP bind or connect (Landlock ABI 4+), no signals to processes and no abstract
   unix sockets outside its own domain (ABI 6+); the ABI used is reported;
4. installs an audit hook (PEP 578) that refuses process creation, sockets, ctypes,
   writes outside the directory, reads of ``/proc`` and ``/sys``, frame and
   garbage-collector introspection, signal handling and further audit hooks;
5. runs the code, then each test, and reports ``<nonce> <index> <1|0>`` per test.

Everything the harness needs after step 5 starts is bound to local names first, so
code that patches builtins or modules cannot change how results are written.
"""

__all__ = ["main"]


def main():
    import json
    import os
    import sys

    _exec, _compile, _len, _write = exec, compile, len, os.write
    _BaseException, _enumerate, _exit = BaseException, enumerate, os._exit

    with open("payload.json", encoding="utf-8") as handle:
        payload = json.load(handle)
    os.remove("payload.json")
    nonce = payload.pop("nonce")
    _apply_limits(payload["limits"])
    out = _private_result_fd()
    landlock = _restrict_with_landlock(os.getcwd()) if payload.get("landlock", True) else 0
    _write(out, f"{nonce} landlock {landlock}\n".encode())
    setitimer = _install_alarm()
    if payload["audit_hook"]:
        sys.addaudithook(_make_hook(os.path.realpath(os.getcwd())))

    per_test = payload["per_test_timeout"] or 0.0
    namespace = {"__name__": "solution", "__builtins__": __builtins__}
    try:
        setitimer(per_test)
        _exec(_compile(payload["code"], "<solution>", "exec"), namespace)
        loaded = "1"
    except _BaseException:
        loaded = "0"
    finally:
        setitimer(0.0)
    _write(out, f"{nonce} loaded {loaded}\n".encode())

    for index, test in _enumerate(payload["tests"]):
        passed = "0"
        if loaded == "1":
            try:
                setitimer(per_test)
                _exec(_compile(test, f"<test {index}>", "exec"), namespace)
                passed = "1"
            except _BaseException:
                passed = "0"
            finally:
                setitimer(0.0)
        _write(out, f"{nonce} {index} {passed}\n".encode())
    _write(out, f"{nonce} done {_len(payload['tests'])}\n".encode())
    _exit(0)


def _apply_limits(limits):
    """Lower soft and hard resource limits (``None``: leave that one alone)."""
    import resource

    for name, value in (
        ("RLIMIT_AS", limits["memory_bytes"]),
        ("RLIMIT_CPU", limits["cpu_seconds"]),
        ("RLIMIT_FSIZE", limits["file_size_bytes"]),
        ("RLIMIT_NOFILE", limits["open_files"]),
        ("RLIMIT_CORE", 0),
        ("RLIMIT_NPROC", limits["processes"]),
    ):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))


def _restrict_with_landlock(home):
    """Confine this process with Landlock where the kernel has it; return the ABI (0: none).

    Handled (so denied unless a rule allows it): every way to write, create, remove,
    link or truncate files (allowed beneath ``home`` only; ``/dev/null`` may be
    written), TCP bind and connect (no rule: denied), signals and abstract unix
    sockets towards processes outside this domain. Reading stays allowed.
    """
    import os

    try:
        import ctypes
    except ImportError:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    create_ruleset, add_rule, restrict_self = 444, 445, 446  # same number on every arch
    abi = libc.syscall(create_ruleset, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return 0
    write_file, truncate = 1 << 1, (1 << 14 if abi >= 3 else 0)
    make_and_remove = sum(1 << bit for bit in (4, 5, 6, 7, 8, 9, 10, 11, 12))
    handled_fs = write_file | make_and_remove | (1 << 13 if abi >= 2 else 0) | truncate
    handled_net = 0b11 if abi >= 4 else 0  # bind and connect TCP
    scoped = 0b11 if abi >= 6 else 0  # abstract unix sockets and signals

    class RulesetAttr(ctypes.Structure):
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    attr = RulesetAttr(handled_fs, handled_net, scoped)
    size = 24 if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(
        create_ruleset, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
    )
    if ruleset < 0:
        return 0
    try:
        for path, allowed in ((home, handled_fs), (os.devnull, write_file | truncate)):
            descriptor = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = PathBeneath(allowed, descriptor)
                if libc.syscall(add_rule, ruleset, 1, ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                    return 0
            finally:
                os.close(descriptor)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            return 0
        if libc.syscall(restrict_self, ruleset, ctypes.c_uint32(0)) != 0:
            return 0
    finally:
        os.close(ruleset)
    return abi


def _private_result_fd():
    """Keep a duplicate of stdout for results; point fds 0, 1 and 2 at /dev/null."""
    import os

    out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    return out


def _install_alarm():
    """Make SIGALRM end the running test; hide ``signal`` from the code; return ``setitimer``.

    The returned function takes seconds (0 disarms).
    """
    import signal
    import sys

    class TestTimeout(BaseException):
        pass

    def on_alarm(signum, frame):
        raise TestTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    setitimer, which = signal.setitimer, signal.ITIMER_REAL
    for module in ("signal", "_signal"):
        sys.modules.pop(module, None)  # re-importing is refused by the audit hook

    def arm(seconds):
        setitimer(which, seconds)

    return arm


# long: one closure on purpose: the hook and its helpers must only reach names bound
# locally here, so the untrusted code cannot patch a module-level helper to steer it.
def _make_hook(home):
    """Build the audit hook; ``home`` (a resolved path) is the only writable directory.

    Only C functions and methods of builtin types are used once the hook is built,
    all bound to local names, so patched modules or builtins cannot steer it.
    """
    import os
    import stat

    blocked_events = {
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.exec",
        "os.system",
        "os.kill",
        "os.killpg",
        "subprocess.Popen",
        "pty.spawn",
        "resource.setrlimit",
        "resource.prlimit",
        "sys._current_frames",
        "sys.settrace",
        "sys.setprofile",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "signal.pthread_kill",
        "os.chroot",
        "sys.remote_exec",
        "syslog.openlog",
        "syslog.syslog",
        "sqlite3.connect",
        "sqlite3.connect/handle",
        "sqlite3.enable_load_extension",
    }
    blocked_modules = {
        "ctypes",
        "_ctypes",
        "cffi",
        "_posixsubprocess",
        "_xxsubinterpreters",
        "_xxinterpchannels",
        "_interpreters",
        "_testcapi",
        "_testinternalcapi",
        "signal",
        "_signal",
        "faulthandler",
        "_posixshmem",
        # C modules that open files themselves, unseen by the "open" event: sqlite
        # (connect, and ATTACH from any connection), dbm files, readline history.
        "sqlite3",
        "_sqlite3",
        "_dbm",
        "_gdbm",
        "readline",
    }
    frame_attributes = {"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"}
    path_events = {
        "os.remove": (0,),
        "os.rmdir": (0,),
        "os.mkdir": (0,),
        "os.rename": (0, 1),
        "os.link": (0, 1),
        "os.symlink": (1,),
        "os.chmod": (0,),
        "os.chown": (0,),
        "os.truncate": (0,),
        "os.utime": (0,),
        "os.setxattr": (0,),
        "os.removexattr": (0,),
        "shutil.rmtree": (0,),
        "os.chdir": (0,),
        "os.mkfifo": (0,),
        "os.mknod": (0,),
    }
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    prefix = home.rstrip("/") + "/"
    lstat, stat_, readlink, getcwd, fspath = os.lstat, os.stat, os.readlink, os.getcwd, os.fspath
    is_link, is_dir, is_reg = stat.S_ISLNK, stat.S_ISDIR, stat.S_ISREG
    isinstance_, str_, bytes_, int_, reversed_ = isinstance, str, bytes, int, reversed
    denied, value_error, import_error, os_error, runtime_error = (
        PermissionError,
        ValueError,
        ImportError,
        OSError,
        RuntimeError,
    )

    def resolve(path, follow_last):
        path = fspath(path)
        if isinstance_(path, bytes_):
            path = path.decode("utf-8", "surrogateescape")
        if not path.startswith("/"):
            path = getcwd() + "/" + path
        pending = [part for part in path.split("/") if part not in ("", ".")]
        pending = list(reversed_(pending))
        parts, links = [], 0
        while pending:
            part = pending.pop()
            if part == "..":
                if parts:
                    parts.pop()
                continue
            candidate = "/" + "/".join(parts + [part])
            if not pending and not follow_last:
                parts.append(part)
                break
            try:
                mode = lstat(candidate).st_mode
            except os_error:
                parts.append(part)
                continue
            if not is_link(mode):
                parts.append(part)
                continue
            links += 1
            if links > 40:
                raise denied("sandbox: too many symbolic links")
            target = readlink(candidate)
            if target.startswith("/"):
                parts = []
            pending.extend(reversed_([p for p in target.split("/") if p not in ("", ".")]))
        return "/" + "/".join(parts)

    def inside(resolved):
        return resolved == home or resolved.startswith(prefix)

    def linked_elsewhere(resolved):
        """A file inside with more than one name may be a hard link to one outside."""
        try:
            info = lstat(resolved)
        except os_error:
            return False
        return is_reg(info.st_mode) and info.st_nlink > 1

    def hook(event, args):
        if event in blocked_events or event.startswith(("socket.", "ctypes.", "_ctypes.")):
            raise denied(f"sandbox: {event} is not allowed")
        if event == "sys.addaudithook":
            # A hook of the code's own would see every test's source as it is compiled.
            # Raising a RuntimeError makes CPython drop the new hook silently.
            raise runtime_error("sandbox: audit hooks are not allowed")
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance_(path, int_):
                return
            resolved = resolve(path, True)
            writing = (mode is not None and any_char(str_(mode), "wax+")) or (
                flags and flags & write_flags
            )
            if resolved == "/dev/null":
                return
            if inside(resolved):
                if writing and linked_elsewhere(resolved):
                    raise denied(f"sandbox: writing {path!r} (a hard link) is not allowed")
                return
            if writing or resolved.startswith(("/proc", "/sys", "/dev")):
                raise denied(f"sandbox: opening {path!r} is not allowed")
            try:
                directory = is_dir(stat_(resolved).st_mode)
            except os_error:
                directory = False
            if directory:
                raise denied(f"sandbox: opening directory {path!r} is not allowed")
        elif event == "sys._getframe":
            raise value_error("call stack is not deep enough")  # what callers expect
        elif event == "object.__getattr__" and args[1] in frame_attributes:
            raise denied("sandbox: frame access is not allowed")
        elif event == "import" and args[0].partition(".")[0] in blocked_modules:
            raise import_error(f"sandbox: importing {args[0]} is not allowed")
        elif event in path_events:
            for position in path_events[event]:
                path = args[position]
                if isinstance_(path, int_):
                    raise denied(f"sandbox: {event} on {path!r} is not allowed")
                resolved = resolve(path, event == "os.chdir")
                if not inside(resolved) or (event == "os.truncate" and linked_elsewhere(resolved)):
                    raise denied(f"sandbox: {event} on {path!r} is not allowed")

    def any_char(text, characters):
        for character in characters:
            if character in text:
                return True
        return False

    return hook


if __name__ == "__main__":
    main()
