"""One coordinator per campaign, stale locks, interrupts and `probe status` (issue 15)."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taskorder.cli import app
from taskorder.estimate import make_plan, run_campaign
from taskorder.estimate.lock import LOCK_NAME, CampaignLock, CampaignLockedError, lock_holder
from taskorder.estimate.status import campaign_status
from tests.estimate.helpers import small_learner

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
output_dir = "out"
[runner]
kind = "python"
factory = "tests.estimate.helpers:make_slow"
options = {{ delay = {delay} }}
[plan]
repeats = {repeats}
steps = 5
seed = 11
[executor]
kind = "{executor}"
workers = {workers}
"""


def write_config(folder: Path, delay=0.1, executor="inprocess", workers=1, repeats=2) -> Path:
    config = folder / "campaign.toml"
    config.write_text(
        CONFIG.format(delay=delay, executor=executor, workers=workers, repeats=repeats)
    )
    return config


def start(config: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from taskorder.cli import main; main()",
            "probe",
            *args,
            str(config),
            "--quiet",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=config.parent,
        start_new_session=True,
        # SIGINT as a terminal would deliver it: a test run started in the background
        # (`cmd &` without job control) inherits SIGINT ignored, and Python then keeps
        # ignoring it, so the Ctrl-C case would finish the campaign and exit 0
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def statuses(store: Path) -> dict[str, int]:
    if not store.exists():
        return {}
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return dict(db.execute("SELECT status, count(*) FROM probes GROUP BY status"))
    except sqlite3.OperationalError:
        return {}


def wait_for_done(process: subprocess.Popen, store: Path, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while statuses(store).get("done", 0) < at_least:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "campaign made no progress"
        time.sleep(0.02)


@pytest.mark.slow
def test_a_second_coordinator_is_refused_naming_the_first(tmp_path):
    config = write_config(tmp_path, delay=0.6, repeats=1)  # outlasts the second's start-up
    store = tmp_path / "out" / "campaign.sqlite"
    first = start(config)
    wait_for_done(first, store, 2)
    status = campaign_status(tmp_path / "out")  # read while the first one writes
    assert status["coordinator"]["pid"] == first.pid and status["interrupted"] == 0
    second = start(config)
    _out, err = second.communicate(timeout=60)
    assert first.poll() is None, "the first run must still be running for this test"
    assert second.returncode == 1, err
    assert err.startswith("taskorder: error:") and err.count("\n") == 1 and "Traceback" not in err
    assert f"process {first.pid} on host {socket.gethostname()}" in err
    assert str(tmp_path / "out" / LOCK_NAME) in err
    _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT runs, attempts FROM probes").fetchall()
    assert len(rows) == 10 and all(row == (1, 1) for row in rows)  # nothing recorded twice


@pytest.mark.slow
def test_a_stale_lock_after_sigkill_is_taken_over_and_status_shows_no_running(tmp_path):
    config = write_config(tmp_path)
    out = tmp_path / "out"
    killed = start(config)
    wait_for_done(killed, out / "campaign.sqlite", 3)
    while statuses(out / "campaign.sqlite").get("running") != 1:  # kill inside a probe
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert statuses(out / "campaign.sqlite").get("running") == 1  # what the kill left
    assert lock_holder(out) is None
    status = campaign_status(out)
    assert status["coordinator"] is None and status["interrupted"] == 1
    assert all(kind["running"] == 0 for kind in status["by_kind"].values())
    shown = CliRunner().invoke(app, ["probe", "status", str(out)])
    assert shown.exit_code == 0 and "interrupted" in shown.stdout and "resume" in shown.stdout
    resumed = start(config)
    _out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert f"note: took over the lock {out / LOCK_NAME}" in err and str(killed.pid) in err
    assert (out / LOCK_NAME).read_text() == ""  # released


@pytest.mark.parametrize(
    "executor, workers, group, signum",
    [
        ("inprocess", 1, True, signal.SIGINT),
        ("inprocess", 1, False, signal.SIGTERM),
        pytest.param("process", 2, False, signal.SIGINT, marks=pytest.mark.slow),
        pytest.param("process", 2, False, signal.SIGTERM, marks=pytest.mark.slow),
    ],
)
def test_an_interrupt_leaves_nothing_running_and_says_rerun_resumes(
    tmp_path, executor, workers, group, signum
):
    """Ctrl-C (SIGINT to the process group), or SIGINT / SIGTERM to the coordinator alone
    while its workers are in the middle of long probes (they must not be waited for)."""
    delay = 0.1 if group else 600
    config = write_config(tmp_path, delay=delay, executor=executor, workers=workers)
    store = tmp_path / "out" / "campaign.sqlite"
    process = start(config)
    if group:
        wait_for_done(process, store, 3)
        os.killpg(process.pid, signum)
    else:
        deadline = time.monotonic() + 60
        while statuses(store).get("running", 0) < workers:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        time.sleep(1.0)  # the workers are inside train()
        process.send_signal(signum)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "rerun" in err and "resume" in err and str(store) in err
    assert "running" not in statuses(store)
    assert (tmp_path / "out" / LOCK_NAME).read_text() == ""


def test_a_lock_held_in_this_process_refuses_run_campaign(tmp_path):
    runner = small_learner()
    with CampaignLock(tmp_path):
        with pytest.raises(CampaignLockedError, match=f"process {os.getpid()} on host"):
            run_campaign(runner, make_plan(runner.tasks, steps=2), tmp_path)
        holder = lock_holder(tmp_path)
        assert holder["pid"] == os.getpid() and holder["verified"] is True
    assert run_campaign(runner, make_plan(runner.tasks, steps=2), tmp_path).ran == 10


def test_an_unreadable_lock_record_is_refused_naming_the_file(tmp_path):
    runner = small_learner()
    (tmp_path / LOCK_NAME).write_text("\x00garbage")
    with pytest.raises(CampaignLockedError, match="unreadable lock record") as caught:
        run_campaign(runner, make_plan(runner.tasks, steps=2), tmp_path)
    assert f"delete {tmp_path / LOCK_NAME}" in str(caught.value)


def test_a_lock_from_another_host_is_refused_with_the_way_out(tmp_path):
    runner = small_learner()
    lock = tmp_path / LOCK_NAME
    lock.write_text(json.dumps({"pid": 4242, "host": "gpu-node-7", "started_at": 0}))
    with pytest.raises(CampaignLockedError) as caught:
        run_campaign(runner, make_plan(runner.tasks, steps=2), tmp_path)
    message = str(caught.value)
    assert "process 4242 on host gpu-node-7" in message and f"delete {lock}" in message
    assert lock_holder(tmp_path) == {
        "pid": 4242,
        "host": "gpu-node-7",
        "started_at": 0,
        "verified": False,
    }
    lock.unlink()
    assert run_campaign(runner, make_plan(runner.tasks, steps=2), tmp_path).ran == 10


def test_without_flock_a_live_process_id_still_refuses(tmp_path, monkeypatch):
    """A file system without locks (some NFS mounts): the recorded process is checked."""
    import errno

    import taskorder.estimate.lock as lock_module

    def no_locks(fd, mode):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock_module.fcntl, "flock", no_locks)
    runner = small_learner()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = {"pid": other.pid, "host": socket.gethostname(), "started_at": 0}
        (tmp_path / LOCK_NAME).write_text(json.dumps(record))
        with pytest.raises(CampaignLockedError, match=f"process {other.pid} on host"):
            run_campaign(runner, make_plan(runner.tasks, steps=2), tmp_path)
        assert lock_holder(tmp_path)["pid"] == other.pid
    finally:
        other.kill()
        other.wait()
    result = run_campaign(runner, make_plan(runner.tasks, steps=2), tmp_path)
    assert result.ran == 10 and f"left by process {other.pid}" in result.notes[0]
