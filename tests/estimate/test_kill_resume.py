"""A real SIGKILL of a CLI campaign in a subprocess, then a resume."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taskorder import read_matrix
from taskorder.estimate import make_plan, run_campaign
from tests.estimate.helpers import make_slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
output_dir = "out"
[runner]
kind = "python"
factory = "tests.estimate.helpers:make_slow"
options = {{ delay = {delay} }}
[plan]
repeats = 2
steps = 5
seed = 11
[executor]
kind = "{executor}"
workers = {workers}
"""


def cli(config: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from taskorder.cli import main; main()",
            "probe",
            str(config),
            "--quiet",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=config.parent,
    )


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        status = Path(f"/proc/{pid}/status")
        if status.exists() and "State:\tZ" in status.read_text():
            return  # exited, not yet reaped by init
        assert time.monotonic() < deadline, f"worker {pid} outlived the killed coordinator"
        time.sleep(0.05)


def done_count(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return db.execute("SELECT count(*) FROM probes WHERE status='done'").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


@pytest.mark.parametrize("executor, workers", [("inprocess", 1), ("process", 2)])
def test_sigkill_mid_campaign_then_resume_equals_uninterrupted(tmp_path, executor, workers):
    config = tmp_path / "campaign.toml"
    config.write_text(CONFIG.format(delay=0.1, executor=executor, workers=workers))
    store = tmp_path / "out" / "campaign.sqlite"
    process = cli(config)
    deadline = time.monotonic() + 60
    while done_count(store) < 8:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "campaign made no progress"
        time.sleep(0.02)
    workers_before_kill = children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    for pid in workers_before_kill:  # pool workers do not linger as orphans
        wait_gone(pid, timeout=10)
    killed_at = done_count(store)
    assert 8 <= killed_at < 20  # genuinely mid-run

    resumed = cli(config)
    _out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()

    runner = make_slow(delay=0.0)
    reference = run_campaign(
        runner, make_plan(runner.tasks, repeats=2, steps=5, seed=11), tmp_path / "ref"
    )
    assert read_matrix(tmp_path / "out" / "matrix.json") == reference.estimate.matrix
    assert read_matrix(tmp_path / "out" / "entropy.json") == reference.estimate.entropy

    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT key, status, attempts, runs FROM probes").fetchall()
    assert len(rows) == 20 and all(status == "done" for _, status, _, _ in rows)
    assert all(runs == 1 for *_, runs in rows), "a finished probe ran again"
    restarted = [key for key, _, attempts, _ in rows if attempts > 1]
    assert len(restarted) <= workers  # only probes in flight at the kill were redone
    assert all(attempts <= 2 for _, _, attempts, _ in rows)
