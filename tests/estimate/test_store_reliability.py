"""Malformed stores and state files, changed records, a grown task list (issue 15)."""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from taskorder.cli import app
from taskorder.estimate import (
    CampaignStore,
    ProbeFailedError,
    load_estimate,
    make_plan,
    run_campaign,
)
from taskorder.estimate.campaign import campaign_guard
from taskorder.estimate.store import STORE_NAME, CampaignStoreError
from taskorder.estimate.worker import state_path
from taskorder.exceptions import TaskorderError
from tests.estimate.helpers import WrappedRunner, small_learner

STEPS = 5
cli = CliRunner()

CONFIG = """
output_dir = "out"
[runner.learner]
n_structured = 1
n_open = 2
mode = "sampled"
[plan]
repeats = 2
steps = 5
{tasks}
"""


@pytest.fixture(scope="module")
def runner():
    return small_learner()


@pytest.fixture(scope="module")
def plan(runner):
    return make_plan(runner.tasks, repeats=2, steps=STEPS)


@pytest.fixture(scope="module")
def reference(runner, plan, tmp_path_factory):
    return run_campaign(runner, plan, tmp_path_factory.mktemp("reference"))


def copy_campaign(reference, folder: Path) -> Path:
    shutil.copytree(reference.directory, folder)
    return folder


def rows_of(folder: Path) -> dict:
    with CampaignStore.open_existing(folder / STORE_NAME) as store:
        return {row["key"]: row for row in store.probes()}


def assert_one_clear_cli_error(result, *needles):
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("taskorder: error:") == 1
    for needle in needles:
        assert str(needle) in result.stderr, result.stderr


# ------------------------------------------------------------------ a grown task list
def test_growing_the_task_list_evaluates_the_new_task_without_training(
    runner, plan, reference, tmp_path
):
    a, b, c = runner.tasks
    small = make_plan(runner.tasks, tasks=[a, b], repeats=2, steps=STEPS)
    run_campaign(runner, small, tmp_path)
    grown = run_campaign(runner, plan, tmp_path)
    off = ~np.eye(3, dtype=bool)
    for matrix in (grown.estimate.matrix, grown.estimate.entropy):
        assert np.isfinite(matrix.forward[off]).all() and np.isfinite(matrix.bwt[off]).all()
    assert grown.estimate.matrix == reference.estimate.matrix
    assert grown.estimate.entropy == reference.estimate.entropy
    assert grown.ran == 2 * (1 + 4) and grown.reused == 2 * (1 + 2 + 2)
    assert any("task list grew" in note and c in note for note in grown.notes)
    rows = rows_of(tmp_path)
    assert rows[f"first/{a}/r0"]["runs"] == 1 and rows["base/r1"]["runs"] == 1  # not retrained
    again = run_campaign(runner, plan, tmp_path)
    assert again.ran == 0 and again.notes == ()


def test_holes_left_by_an_earlier_grown_run_are_filled_on_rerun(runner, plan, reference, tmp_path):
    a, b, c = runner.tasks
    run_campaign(runner, make_plan(runner.tasks, tasks=[a, b], repeats=2, steps=STEPS), tmp_path)
    run_campaign(runner, plan, tmp_path)
    old = [f"{kind}/r{r}" for kind in ("base", f"first/{a}", f"first/{b}") for r in (0, 1)]
    with sqlite3.connect(tmp_path / STORE_NAME) as db:  # what the old code left: holes for c
        db.executemany("DELETE FROM evaluations WHERE probe=? AND task=?", [(k, c) for k in old])
    assert np.isnan(load_estimate(tmp_path).matrix.forward[:2, 2]).all()
    rerun = run_campaign(runner, plan, tmp_path)
    assert rerun.ran == 0 and rerun.estimate.matrix == reference.estimate.matrix
    assert rerun.estimate.entropy == reference.estimate.entropy


def test_a_grown_campaign_solves_from_the_cli(tmp_path):
    config = tmp_path / "campaign.toml"
    config.write_text(CONFIG.format(tasks='tasks = ["structured_0", "open_0"]'))
    assert cli.invoke(app, ["probe", str(config), "--quiet"]).exit_code == 0
    config.write_text(CONFIG.format(tasks=""))
    grown = cli.invoke(app, ["probe", str(config), "--quiet"])
    assert grown.exit_code == 0, grown.stderr
    assert "note: the task list grew" in grown.stderr
    solved = cli.invoke(app, ["solve", str(tmp_path / "out" / "matrix.json")])
    assert solved.exit_code == 0, solved.stderr


# ------------------------------------------------------------------ malformed stores
@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated", "header only"])
def test_a_malformed_store_is_one_clear_error_and_is_left_alone(
    runner, plan, reference, tmp_path, damage
):
    folder = copy_campaign(reference, tmp_path / "c")
    store = folder / STORE_NAME
    data = store.read_bytes()
    damaged = {
        "empty": b"",
        "garbage": os.urandom(5000),
        "truncated": data[: len(data) // 2],
        "header only": data[:100],
    }[damage]
    store.write_bytes(damaged)
    for call in (lambda: run_campaign(runner, plan, folder), lambda: load_estimate(folder)):
        with pytest.raises(CampaignStoreError, match="campaign store") as caught:
            call()
        assert str(store) in str(caught.value)
        assert "backup" in str(caught.value)  # the fix
    assert store.read_bytes() == damaged  # not turned into a new campaign
    assert len(list((folder / "states").iterdir())) == 6  # nothing computed is lost


def test_malformed_stores_through_the_cli(reference, tmp_path):
    config = tmp_path / "campaign.toml"
    config.write_text(CONFIG.format(tasks=""))
    copy_campaign(reference, tmp_path / "out")
    store = tmp_path / "out" / STORE_NAME
    for content in (b"", b"not a database at all" * 50, store.read_bytes()[:3000]):
        store.write_bytes(content)
        for args in (["probe", config, "--quiet"], ["probe", "status", config]):
            result = cli.invoke(app, [str(a) for a in args])
            assert_one_clear_cli_error(result, store)


def run_the_named_fix(message: str, store: Path) -> None:
    """Run the sqlite3 command that a refusal message gives (with Python's sqlite3)."""
    sql = message.split(f'sqlite3 {store} "', 1)[1].split('" and rerun', 1)[0]
    with sqlite3.connect(store) as db:
        db.executescript(sql)


def test_a_changed_score_is_refused_and_the_named_fix_works(runner, plan, reference, tmp_path):
    folder = copy_campaign(reference, tmp_path / "c")
    a = runner.tasks[0]
    key = f"second/{a}/{runner.tasks[1]}/r0"
    with sqlite3.connect(folder / STORE_NAME) as db:
        db.execute("UPDATE evaluations SET score = score + 0.25 WHERE probe=? AND task=?", (key, a))
    for call in (lambda: run_campaign(runner, plan, folder), lambda: load_estimate(folder)):
        with pytest.raises(CampaignStoreError, match="checksum") as caught:
            call()
        assert str(folder / STORE_NAME) in str(caught.value) and key in str(caught.value)
    run_the_named_fix(str(caught.value), folder / STORE_NAME)
    repaired = run_campaign(runner, plan, folder)
    assert repaired.ran == 1 and repaired.estimate.matrix == reference.estimate.matrix


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE probes SET task='open_0' WHERE key='first/open_1/r1'",
        "UPDATE probes SET key='first/open_9/r1' WHERE key='first/open_1/r1'",
        "UPDATE evaluations SET probe='base/r7' WHERE probe='base/r1' AND task='open_0'",
        "UPDATE evaluations SET task='open_7' WHERE probe='base/r1' AND task='open_0'",
        "DELETE FROM evaluations WHERE probe='first/open_1/r1'",
    ],
)
def test_a_changed_or_lost_record_is_refused_and_the_named_fix_works(
    runner, plan, reference, tmp_path, change
):
    folder = copy_campaign(reference, tmp_path / "c")
    with sqlite3.connect(folder / STORE_NAME) as db:
        db.execute(change)
    with pytest.raises(CampaignStoreError, match="cannot be trusted") as caught:
        load_estimate(folder)
    run_the_named_fix(str(caught.value), folder / STORE_NAME)
    repaired = run_campaign(runner, plan, folder)
    assert repaired.estimate.matrix == reference.estimate.matrix
    assert repaired.estimate.entropy == reference.estimate.entropy


def test_a_store_from_before_checksums_gets_them(runner, plan, reference, tmp_path):
    folder = copy_campaign(reference, tmp_path / "c")
    with sqlite3.connect(folder / STORE_NAME) as db:
        db.execute("ALTER TABLE evaluations DROP COLUMN checksum")
    assert run_campaign(runner, plan, folder).estimate.matrix == reference.estimate.matrix
    with sqlite3.connect(folder / STORE_NAME) as db:
        assert db.execute("SELECT count(*) FROM evaluations WHERE checksum IS NULL").fetchone() == (
            0,
        )


def test_a_full_store_is_one_clear_error_and_keeps_what_was_recorded(runner, plan, tmp_path):
    store = CampaignStore(tmp_path / STORE_NAME, campaign_guard(runner, plan))
    store.register(plan)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own 'disk is full'
    big = {
        f"t{k}": {"score": 0.5, "entropy": 1.0, "score_stderr": 0.0, "n_samples": 0}
        for k in range(5000)
    }
    result = {
        "key": "base/r0",
        "evaluations": big,
        "state_path": None,
        "train_s": 0.0,
        "eval_s": 0.0,
        "started_at": 0.0,
        "finished_at": 0.0,
        "worker": "w",
    }
    with pytest.raises(CampaignStoreError, match="disk is full") as caught:
        store.record(result)
    assert str(tmp_path / STORE_NAME) in str(caught.value) and "Free space" in str(caught.value)
    assert store.counts() == {"pending": len(plan.probes())}  # the transaction rolled back
    store.close()


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        check=False,
        capture_output=True,
    )
    return done.returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("free_kb", [0, 16, 64, 128])
def test_a_full_disk_is_one_clear_error_and_a_rerun_finishes(
    runner, plan, reference, tmp_path, free_kb
):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "2m"):
        pytest.skip("needs root and tmpfs to fill a real disk")
    try:
        a, b, _ = runner.tasks
        run_campaign(runner, make_plan(runner.tasks, tasks=[a, b], repeats=2, steps=STEPS), disk)
        filler = disk / "filler"
        try:  # fill the disk, leaving free_kb
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            filler.write_bytes(b"\0" * max(0, free - free_kb * 1024))
            with open(filler, "ab") as handle:
                while not free_kb:
                    handle.write(b"\0" * 4096)
                    handle.flush()
        except OSError:
            pass
        with pytest.raises(TaskorderError) as caught:
            run_campaign(runner, plan, disk)
        assert isinstance(caught.value, CampaignStoreError), caught.value
        assert "disk is full" in str(caught.value) and str(disk) in str(caught.value)
        filler.unlink()
        assert run_campaign(runner, plan, disk).estimate.matrix == reference.estimate.matrix
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def run_cli_read_only(folder: Path, *args: str) -> tuple[int, str, str]:
    """The CLI with ``folder`` read-only: chmod as a normal user; as root (which
    ignores modes), the CLI runs as 'nobody'."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        try:
            result = cli.invoke(app, list(args))
        finally:
            os.chmod(folder, 0o755)
        return result.exit_code, result.stdout, result.stderr
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv cannot test a read-only folder")
    done = subprocess.run(
        [
            setpriv,
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-c",
            "from taskorder.cli import main; main()",
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=folder.parent,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("with_lock_file", [True, False])
def test_a_read_only_campaign_folder_is_one_clear_error(reference, with_lock_file):
    base = Path(tempfile.mkdtemp(dir="/tmp"))  # traversable by 'nobody'
    try:
        os.chmod(base, 0o755)
        config = base / "campaign.toml"
        config.write_text(CONFIG.format(tasks=""))
        out = copy_campaign(reference, base / "out")
        for path in [out, *out.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        if not with_lock_file:
            (out / "campaign.lock").unlink()
        code, _out, err = run_cli_read_only(out, "probe", str(config), "--quiet")
        assert code == 1, err
        assert "internal error" not in err and "Traceback" not in err
        assert str(out) in err and "not writable" in err
        code, shown, err = run_cli_read_only(out, "probe", "status", str(out))
        assert code == 0 and "20/20 probes done" in shown, err  # reading still works
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ------------------------------------------------------------------ state files
def test_a_truncated_state_file_is_rebuilt_by_the_rerun(runner, plan, reference, tmp_path):
    run_campaign(runner, plan, tmp_path, max_probes=8)  # base and first stages only
    path = state_path(tmp_path / "states", f"first/{runner.tasks[0]}/r0")
    path.write_bytes(path.read_bytes()[:40])
    done = run_campaign(runner, plan, tmp_path)
    assert done.estimate.matrix == reference.estimate.matrix
    assert any(str(path) in note for note in done.notes)
    rows = rows_of(tmp_path)
    assert rows[f"first/{runner.tasks[0]}/r0"]["runs"] == 2  # the rebuild is on record
    assert all(row["status"] == "done" for row in rows.values())


class UnloadableRunner(WrappedRunner):
    """Its states of one task never load back (a broken save/load pair)."""

    def __init__(self, inner, task):
        super().__init__(inner)
        self.task = task

    def load(self, path):
        if f"__{self.task}__" in str(path):
            raise EOFError("unexpected end of data")
        return super().load(path)


def test_a_state_that_stays_unreadable_fails_naming_the_file(runner, plan, tmp_path):
    broken = UnloadableRunner(runner, runner.tasks[1])
    with pytest.raises(ProbeFailedError) as caught:
        run_campaign(broken, plan, tmp_path)
    path = state_path(tmp_path / "states", f"first/{runner.tasks[1]}/r0")
    assert str(path) in str(caught.value) and "EOFError" in str(caught.value)
    rows = rows_of(tmp_path)
    assert rows[f"first/{runner.tasks[1]}/r0"]["runs"] == 2  # rebuilt once, not forever
    done = [k for k, r in rows.items() if r["status"] == "done"]
    assert len(done) == 20 - 2 * 2  # every probe that does not need the broken state


# ------------------------------------------------------------------ fuzzed damage
def damage(data: bytes, rng) -> bytes:
    """One random damage: flipped bytes, a truncation, a zeroed page or a garbage tail."""
    b = bytearray(data)
    mode = rng.choice(["flip", "truncate", "zero page", "garbage tail"])
    if mode == "flip":
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif mode == "truncate":
        b = b[: rng.randrange(len(b))]
    elif mode == "zero page":
        page = rng.randrange(len(b) // 4096)
        b[page * 4096 : (page + 1) * 4096] = bytes(4096)
    else:
        b = b[: rng.randrange(len(b))] + bytes(rng.randrange(256) for _ in range(1000))
    return bytes(b)


@pytest.mark.slow
def test_fuzzed_damage_gives_a_taskorder_error_or_the_unchanged_matrix(
    runner, plan, reference, tmp_path
):
    import random

    rng = random.Random(15)
    data = (reference.directory / STORE_NAME).read_bytes()
    outcomes = {"refused": 0, "unchanged": 0}
    for case in range(300):
        folder = tmp_path / str(case)
        shutil.copytree(reference.directory / "states", folder / "states")
        (folder / STORE_NAME).write_bytes(damage(data, rng))
        for call, args in ((load_estimate, (folder,)), (run_campaign, (runner, plan, folder))):
            try:
                estimate = call(*args)
            except TaskorderError as error:
                assert str(folder / STORE_NAME) in str(error) or "lock" in str(error)
                outcomes["refused"] += 1
                continue
            estimate = getattr(estimate, "estimate", estimate)
            assert estimate.matrix == reference.estimate.matrix, f"case {case}: changed silently"
            assert estimate.entropy == reference.estimate.entropy, f"case {case}: changed silently"
            outcomes["unchanged"] += 1
        shutil.rmtree(folder)
    assert outcomes["refused"] > 500  # the damage was real
