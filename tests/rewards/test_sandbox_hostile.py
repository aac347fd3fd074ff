"""Hostile completions: each must earn 0, return in time and leave no trace.

Every case really runs. ``layer`` selects which defences are on:

- ``all``: the strongest isolation this machine supports plus the audit hook;
- ``os-only``: the operating-system layers alone (audit hook off), skipped where the
  machine offers none (``plain``);
- ``hook-only``: a plain process with rlimits and the audit hook, no namespaces or
  uid drop (what a machine without root or user namespaces gets);
- ``root-net`` / ``root-uid``: the weaker root levels (no mount namespace; uid drop
  only, as in a container without ``CAP_SYS_ADMIN``), with the audit hook; slow, and
  skipped where they do not work;
- ``userns``: the level a non-root machine with user namespaces gets (offered to root
  too, so a root machine tests it), with the audit hook.

Together these are every isolation level this machine offers.
"""

import os
import socket
import threading
import time
import uuid

import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import CodeReward, SandboxLimits, probe_isolation, run_python_tests
from taskorder.rewards._isolation import UID_BASE, UID_COUNT

LIMITS = SandboxLimits(timeout=1.0, memory_bytes=256 << 20, file_size_bytes=1 << 20)


EVERY_LEVEL = ("all", "hook-only", "userns", "root-net", "root-uid")
"""Each isolation level with the audit hook on (``all`` is the strongest, ``hook-only`` is ``plain``)."""


def layers(*fast, only=("all", "os-only", "hook-only", "userns", "root-net", "root-uid")):
    """The layers to test; those not in ``fast`` run only with ``-m slow``."""
    fast = fast or ("all",)
    return [
        layer if layer in fast else pytest.param(layer, marks=pytest.mark.slow) for layer in only
    ]


def run(layer, code, tests=("assert True",), limits=LIMITS):
    if layer == "os-only" and probe_isolation().name == "plain":
        pytest.skip("no operating-system isolation on this machine")
    if layer == "all" and not probe_isolation().safe_for_untrusted:
        pytest.skip("no isolation level safe for untrusted code on this machine")
    isolation = {"hook-only": "plain", "all": "auto", "os-only": "auto"}.get(layer, layer)
    if isolation != "auto":
        try:
            probe_isolation(level=isolation)
        except InvalidParameterError:
            pytest.skip(f"isolation level {isolation!r} does not work on this machine")
    started = time.monotonic()
    result = run_python_tests(
        code, list(tests), limits=limits, isolation=isolation, audit_hook=layer != "os-only"
    )
    elapsed = time.monotonic() - started
    assert elapsed < limits.timeout + 1.5, f"took {elapsed:.1f}s"
    assert leftover_processes() == [], "a sandbox process outlived its run"
    return result


def leftover_processes():
    """Processes under sandbox uids, children of this test process, or in a sandbox directory."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
            uid = int(fields["Uid"].split()[0])
            parent = int(fields["PPid"].split()[0])
            state = fields["State"].split()[0]
        except (OSError, KeyError, ValueError):
            continue
        if state != "Z" and (
            UID_BASE <= uid < UID_BASE + UID_COUNT or parent == os.getpid() or in_sandbox(entry)
        ):
            found.append(int(entry))
    return found


def in_sandbox(pid):
    """Whether the process's working directory is (or was) a sandbox directory."""
    try:
        return "/taskorder-sandbox-" in os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False


def assert_zero(result):
    assert result.fraction_passed == 0.0 and not result.loaded


@pytest.fixture
def outside(tmp_path):
    """Paths outside the sandbox: one in world-writable /tmp, one in a root-only dir."""
    token = uuid.uuid4().hex
    paths = {"tmp": f"/tmp/taskorder-evil-{token}", "private": str(tmp_path / "evil")}
    yield paths
    for path in paths.values():
        if os.path.lexists(path):
            os.remove(path)


@pytest.mark.parametrize("layer", layers())
def test_infinite_loop_is_killed_at_the_timeout(layer):
    result = run(layer, "while True:\n    pass")
    assert result.status == "timeout" and result.returncode == -9
    assert_zero(result)


@pytest.mark.parametrize("layer", layers(only=EVERY_LEVEL))
def test_sleeping_forever_is_killed_at_the_timeout(layer):
    result = run(layer, "import time\ntime.sleep(3600)")
    assert result.status == "timeout"
    assert_zero(result)


@pytest.mark.parametrize("layer", layers("all", "hook-only"))
@pytest.mark.parametrize(
    "code",
    [
        "import os\nwhile True:\n    os.fork()",
        "import subprocess\nsubprocess.Popen(['sleep', '60'])",
        "import os\nassert os.system('sleep 60 &') == 0",
        "import multiprocessing\np = multiprocessing.Process(target=print)\np.start()",
    ],
    ids=["fork-bomb", "subprocess", "os.system", "multiprocessing"],
)
def test_process_creation_fails_and_nothing_is_left_running(layer, code):
    assert_zero(run(layer, code))


@pytest.mark.parametrize("layer", layers())
@pytest.mark.parametrize(
    "code",
    ["x = bytearray(8 << 30)", "chunks = []\nwhile True:\n    chunks.append(bytearray(16 << 20))"],
    ids=["one-huge-block", "growing"],
)
def test_huge_allocation_fails_fast(layer, code):
    result = run(layer, code)
    assert result.status in {"completed", "crashed"}  # MemoryError, not the timeout
    assert_zero(result)


@pytest.mark.parametrize("layer", layers("all", "hook-only"))
@pytest.mark.parametrize(
    "template",
    [
        "open({path!r}, 'w').write('pwned')",
        "import os\nos.symlink({path!r}, 'link')\nopen('link', 'w').write('pwned')",
        (
            "import os\nfd = os.open(os.path.dirname({path!r}), os.O_RDONLY)\n"
            "os.write(os.open(os.path.basename({path!r}), os.O_CREAT | os.O_WRONLY, dir_fd=fd), b'x')"
        ),
        "import shutil\nopen('x', 'w').write('pwned')\nshutil.copy('x', {path!r})",
    ],
    ids=["open", "symlink", "dir_fd", "shutil.copy"],
)
@pytest.mark.parametrize("where", ["tmp", "private"])
def test_writing_outside_the_directory_fails(layer, template, where, outside):
    path = outside[where]
    assert_zero(run(layer, template.format(path=path)))
    assert not os.path.lexists(path)


@pytest.mark.parametrize("layer", layers("all", "hook-only"))
@pytest.mark.parametrize(
    "template",
    [
        "import os\nos.remove({file!r})",
        "import shutil\nshutil.rmtree({folder!r})",
        "import os\nos.rename({file!r}, 'stolen')",
        "open({file!r}, 'w').close()",
    ],
    ids=["remove", "rmtree", "rename", "truncate"],
)
def test_deleting_or_clobbering_files_fails(layer, template, tmp_path):
    folders = [tmp_path / "keep", f"/tmp/taskorder-keep-{uuid.uuid4().hex}"]
    try:
        for folder in map(str, folders):
            os.makedirs(folder)
            os.chmod(folder, 0o777)  # even a world-writable folder
            file = os.path.join(folder, "precious.txt")
            with open(file, "w") as handle:
                handle.write("keep me")
            os.chmod(file, 0o666)  # and a world-writable file
            assert_zero(run(layer, template.format(file=file, folder=folder)))
            with open(file) as handle:
                assert handle.read() == "keep me"
    finally:
        import shutil

        shutil.rmtree(folders[1], ignore_errors=True)


@pytest.fixture
def listener():
    """A TCP server on 127.0.0.1 that records every connection it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                accepted.append(connection.recv(100))
                connection.close()
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("layer", layers("all", "hook-only"))
def test_network_is_unreachable(layer, listener):
    port, accepted = listener
    code = (
        "import socket\n"
        f"s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "s.sendall(b'leak')"
    )
    assert_zero(run(layer, code))
    assert_zero(
        run(layer, "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=1)")
    )
    time.sleep(0.3)
    assert accepted == []


@pytest.mark.parametrize("layer", layers("all", "hook-only"))
def test_signalling_the_parent_fails(layer):
    """Were this not blocked, it would kill the pytest process itself."""
    assert_zero(run(layer, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"))
    assert_zero(run(layer, "import os, signal\nos.kill(1, signal.SIGTERM)"))


@pytest.mark.parametrize("layer", layers())
def test_file_size_is_capped(layer):
    assert_zero(run(layer, "open('big', 'wb').write(b'x' * (8 << 20))"))
    check = "try:\n    open('big', 'wb').write(b'x' * (8 << 20))\nexcept OSError:\n    pass"
    result = run(layer, check, ["import os\nassert os.path.getsize('big') <= 1 << 20"])
    assert result.passed == (True,)


@pytest.mark.parametrize("layer", layers())
def test_flooding_the_result_pipe_is_cut_off(layer):
    code = "import os\nwhile True:\n    for fd in (1, 2, 3, 4):\n        os.write(fd, b'x' * 65536)"
    result = run(layer, code)
    assert result.status in {"output_limit", "timeout", "crashed"}
    assert_zero(result)


@pytest.mark.parametrize("layer", layers(only=EVERY_LEVEL))
@pytest.mark.parametrize(
    "code",
    [
        # guessing the protocol without the nonce
        (
            "import os\nfor fd in range(3, 10):\n    try:\n        os.write(fd, b'x 0 1\\nx done 1\\n')\n"
            "    except OSError:\n        pass\nos._exit(0)"
        ),
        # hunting the nonce in the harness's frame, memory or heap
        "import sys\nsys._getframe(1).f_locals",
        "try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__.tb_frame.f_back.f_locals",
        "open('/proc/self/mem', 'rb')",
        "import gc\ngc.get_objects()",
        "import signal",
        "import ctypes",
    ],
    ids=["guess-protocol", "getframe", "traceback-frame", "proc-mem", "gc", "signal", "ctypes"],
)
def test_forging_results_fails(layer, code):
    result = run(layer, code, ["assert False"])
    assert result.passed == (False,)


@pytest.mark.parametrize("layer", layers("all", "hook-only", only=EVERY_LEVEL))
def test_patching_builtins_cannot_forge_a_pass(layer):
    code = (
        "import builtins, os, json\n"
        "builtins.str = lambda *a: '0 1'\nbuiltins.BaseException = int\n"
        "json.dumps = lambda *a, **k: 'x'\nos.write = lambda *a: 0\n"
    )
    result = run(layer, code, ["assert False", "assert False"])
    assert result.passed == (False, False)


def test_code_reward_gives_every_hostile_completion_zero(outside, listener):
    port, accepted = listener
    hostile = [
        "while True:\n    pass",
        "import os\nwhile True:\n    os.fork()",
        "x = bytearray(8 << 30)",
        f"open({outside['tmp']!r}, 'w').write('x')",
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)",
        "import os\nos.kill(os.getppid(), 9)",
    ]
    # Each completion would pass its test if its hostile line did not stop it.
    completions = [f"```python\n{code}\ndef f():\n    return 1\n```" for code in hostile]
    reward = CodeReward(limits=LIMITS, max_workers=2)
    started = time.monotonic()
    assert reward(completions=completions, tests=[["assert f() == 1"]] * len(hostile)) == [0.0] * 6
    assert time.monotonic() - started < 2 * (LIMITS.timeout + 1.5)
    assert not os.path.exists(outside["tmp"]) and accepted == []
    assert leftover_processes() == []
    # and the sandbox still works afterwards
    assert reward(completions=["def f():\n    return 1"], tests=[["assert f() == 1"]]) == [1.0]


@pytest.mark.parametrize("layer", layers("all", "hook-only", only=EVERY_LEVEL))
def test_reading_the_tests_through_an_audit_hook_fails(layer):
    """A hook of the code's own would see each test's source at compile time."""
    code = (
        "import re, sys\nseen = []\n"
        "sys.addaudithook(lambda event, args: seen.append(str(args[0])) "
        "if event == 'compile' else None)\n"
        "def f():\n    numbers = re.findall(r'\\d+', seen[-1]) if seen else []\n"
        "    return int(numbers[-1]) if numbers else None"
    )
    result = run(layer, code, ["assert f() == 48151623"])
    assert result.loaded and result.passed == (False,)
    # the same code, run without our hook, does read its test: the attack is real
    if probe_isolation().name != "plain":
        assert run("os-only", code, ["assert f() == 48151623"]).passed == (True,)


@pytest.fixture
def victim():
    """A world-writable file in world-writable /tmp that the code must not change."""
    path = f"/tmp/taskorder-victim-{uuid.uuid4().hex}"
    with open(path, "w") as handle:
        handle.write("keep me\n")
    os.chmod(path, 0o666)
    yield path
    os.remove(path)


@pytest.mark.parametrize("layer", layers("all", "hook-only", only=EVERY_LEVEL))
def test_a_hard_link_to_an_outside_file_cannot_write_it(layer, victim):
    # Each would pass its test if the hostile lines did not stop it.
    code = f"import os\nos.link({victim!r}, 'alias')\nopen('alias', 'a').write('pwned')\n"
    assert_zero(run(layer, code + "def f():\n    return 1", ["assert f() == 1"]))
    with open(victim) as handle:
        assert handle.read() == "keep me\n"


@pytest.mark.parametrize("layer", layers("all", "hook-only", only=EVERY_LEVEL))
@pytest.mark.parametrize(
    "template",
    [
        "import sqlite3\nsqlite3.connect({path!r}).execute('create table t (x)')",
        (
            "import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute(\"attach {path!r} as e\")\n"
            "c.execute('create table e.t (x)')"
        ),
        "import readline\nreadline.write_history_file({path!r})",
    ],
    ids=["sqlite-connect", "sqlite-attach", "readline-history"],
)
@pytest.mark.parametrize("where", ["tmp", "private"])
def test_c_modules_that_open_files_themselves_cannot_write_outside(layer, template, where, outside):
    path = outside[where]
    code = template.format(path=path) + "\ndef f():\n    return 1"
    assert_zero(run(layer, code, ["assert f() == 1"]))
    assert not os.path.lexists(path)


@pytest.mark.parametrize("layer", layers("all", "hook-only", only=EVERY_LEVEL))
def test_a_process_forked_past_the_hook_dies_with_the_run(layer):
    """The audit hook off stands for code that forks from a compiled extension."""
    if layer == "all" and not probe_isolation().safe_for_untrusted:
        pytest.skip("no isolation level safe for untrusted code on this machine")
    isolation = {"hook-only": "plain", "all": "auto"}.get(layer, layer)
    if isolation != "auto":
        try:
            probe_isolation(level=isolation)
        except InvalidParameterError:
            pytest.skip(f"isolation level {isolation!r} does not work on this machine")
    # The leader exits at once; its child closes the result pipe and sleeps.
    code = (
        "import os, time\nif os.fork() == 0:\n    os.closerange(3, 64)\n    time.sleep(60)\n"
        "os._exit(0)"
    )
    result = run_python_tests(code, [], limits=LIMITS, isolation=isolation, audit_hook=False)
    # Under a uid of its own RLIMIT_NPROC = 1 refuses the fork ("completed"); else it forks.
    forked = not probe_isolation(level=isolation).drops_privileges
    assert result.status == ("crashed" if forked else "completed")
    time.sleep(0.1)
    assert leftover_processes() == [], "a forked process outlived its run"


def test_auto_refuses_a_machine_without_a_safe_level():
    """Run as an unprivileged uid: ``auto`` finds ``userns`` or ``plain`` and refuses."""
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to act as an unprivileged user")
    script = (
        "import os, sys\n"
        "from taskorder.rewards import CodeReward, SandboxUnavailableError, probe_isolation\n"
        "from taskorder.rewards import run_python_tests\n"
        "python = '/usr/bin/python3' if os.access('/usr/bin/python3', os.X_OK) else sys.executable\n"
        "level = probe_isolation(python).name\n"
        "assert level in ('userns', 'plain'), level\n"
        "reward = CodeReward(python=python)\n"
        "for attempt in (lambda: run_python_tests('x = 1', ['assert x == 1'], python=python),\n"
        "                lambda: reward(completions=['x = 1'], tests=[['assert x == 1']])):\n"
        "    try:\n"
        "        attempt()\n"
        "    except SandboxUnavailableError as error:\n"
        "        assert repr(level) in str(error) and f'isolation={level!r}' in str(error), error\n"
        "    else:\n"
        "        raise SystemExit('ran untrusted code at ' + level)\n"
        "result = run_python_tests('x = 1', ['assert x == 1'], isolation=level, python=python)\n"
        "assert result.passed == (True,) and result.isolation == level, result\n"
        "print('refused', level)\n"
    )
    source = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "src")
    uid = str(UID_BASE + UID_COUNT + 7)  # not a sandbox uid, so nothing of ours is killed
    completed = subprocess.run(
        [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            sys.executable,
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": source},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("refused")


def landlock_abi():
    """The Landlock ABI the sandbox confines itself with here (0: none)."""
    return run_python_tests("pass", [], limits=LIMITS, isolation="plain").landlock


@pytest.mark.parametrize(
    ("template", "abi"),
    [
        ("open({path!r}, 'w').write('pwned')", 1),
        ("import os\nos.link({victim!r}, 'alias')\nopen('alias', 'a').write('pwned')", 1),
        ("import sqlite3\nsqlite3.connect({path!r}).execute('create table t (x)')", 1),
        ("import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute(\"attach {path!r} as e\")", 1),
        ("import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1).send(b'x')", 4),
        ("import os\nos.kill(os.getppid(), 0)", 6),  # signal 0: only asks whether it could
    ],
    ids=["write-tmp", "link-append", "sqlite-connect", "sqlite-attach", "tcp-connect", "signal"],
)
def test_landlock_alone_holds_at_plain(template, abi, outside, victim, listener):
    """``plain`` with the audit hook off, run as root: only Landlock stands in the way."""
    found = landlock_abi()
    if found < abi:
        pytest.skip(f"the kernel offers Landlock ABI {found}; this case needs {abi}")
    port, accepted = listener
    code = template.format(path=outside["tmp"], victim=victim, port=port)
    result = run_python_tests(
        code + "\ndef f():\n    return 1",
        ["assert f() == 1"],
        limits=LIMITS,
        isolation="plain",
        audit_hook=False,
    )
    assert result.landlock == found
    assert_zero(result)
    assert not os.path.lexists(outside["tmp"])
    with open(victim) as handle:
        assert handle.read() == "keep me\n"
    time.sleep(0.2)
    assert accepted == []
