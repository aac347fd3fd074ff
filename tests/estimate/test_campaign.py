import numpy as np
import pytest

from taskorder.estimate import (
    CampaignMismatchError,
    CampaignStore,
    ProbeFailedError,
    load_estimate,
    make_plan,
    run_campaign,
)
from taskorder.estimate.store import STORE_NAME
from taskorder.estimate.worker import state_path
from tests.estimate.helpers import FailingRunner, small_learner

STEPS = 5


@pytest.fixture(scope="module")
def runner():
    return small_learner()


@pytest.fixture(scope="module")
def reference(runner, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    return run_campaign(runner, make_plan(runner.tasks, repeats=2, steps=STEPS), folder)


def store_rows(folder):
    store = CampaignStore.open_existing(folder / STORE_NAME)
    try:
        return store.probes()
    finally:
        store.close()


def test_campaign_measures_a_complete_matrix_with_stderr(reference):
    est = reference.estimate
    off = ~np.eye(3, dtype=bool)
    assert est.missing == [] and est.stderr_source == "repeats"
    assert np.isfinite(est.matrix.bwt[off]).all() and (est.matrix.bwt_stderr[off] > 0).all()
    assert np.abs(est.matrix.bwt[off]).max() > 0.01  # measurable transfer
    assert reference.ran == 2 * (1 + 3 + 6)
    assert all(row["runs"] == 1 and row["attempts"] == 1 for row in store_rows(reference.directory))


def test_rerun_runs_nothing_and_gives_the_same_matrix(runner, reference):
    again = run_campaign(
        runner, make_plan(runner.tasks, repeats=2, steps=STEPS), reference.directory
    )
    assert again.ran == 0 and again.reused == 20
    assert again.estimate.matrix == reference.estimate.matrix
    assert load_estimate(reference.directory).matrix == reference.estimate.matrix


def test_interrupted_campaign_resumes_to_the_same_matrix(runner, reference, tmp_path):
    plan = make_plan(runner.tasks, repeats=2, steps=STEPS)
    partial = run_campaign(runner, plan, tmp_path, max_probes=7)
    assert partial.ran == 7 and partial.estimate.missing
    rest = run_campaign(runner, plan, tmp_path)
    assert rest.ran == 13 and rest.reused == 7
    assert rest.estimate.matrix == reference.estimate.matrix
    assert rest.estimate.entropy == reference.estimate.entropy


def test_a_growing_plan_reuses_finished_probes(runner, reference, tmp_path):
    small = make_plan(
        runner.tasks, pairs=[(runner.tasks[0], runner.tasks[1])], repeats=2, steps=STEPS
    )
    first = run_campaign(runner, small, tmp_path)
    assert len(first.estimate.missing) == 5
    full = run_campaign(runner, make_plan(runner.tasks, repeats=2, steps=STEPS), tmp_path)
    assert full.reused == first.ran and full.estimate.matrix == reference.estimate.matrix


def test_a_different_configuration_is_refused(runner, reference):
    with pytest.raises(CampaignMismatchError, match="steps"):
        run_campaign(runner, make_plan(runner.tasks, steps=STEPS + 1), reference.directory)
    other = small_learner(seed=1)
    with pytest.raises(CampaignMismatchError, match="runner_config_hash"):
        run_campaign(other, make_plan(other.tasks, steps=STEPS), reference.directory)


def test_failed_probes_are_recorded_and_retried(runner, reference, tmp_path):
    switch = tmp_path / "fail"
    switch.write_text("on")
    flaky = FailingRunner(runner, runner.tasks[2], str(switch))
    plan = make_plan(runner.tasks, repeats=2, steps=STEPS)
    with pytest.raises(ProbeFailedError, match="simulated failure"):
        run_campaign(flaky, plan, tmp_path / "run")
    rows = {r["key"]: r for r in store_rows(tmp_path / "run")}
    failed = [k for k, r in rows.items() if r["status"] == "failed"]
    assert failed and all(runner.tasks[2] in key for key in failed)
    assert rows[failed[0]]["error"].startswith("RuntimeError")
    switch.unlink()
    fixed = run_campaign(flaky, plan, tmp_path / "run")
    assert fixed.estimate.matrix == reference.estimate.matrix
    assert all(r["runs"] == 1 for r in store_rows(tmp_path / "run"))


def test_a_lost_first_stage_state_is_rebuilt(runner, reference, tmp_path):
    plan = make_plan(runner.tasks, repeats=2, steps=STEPS)
    run_campaign(runner, plan, tmp_path, max_probes=8)  # base, all first stages, no second
    state_path(tmp_path / "states", f"first/{runner.tasks[0]}/r0").unlink()
    done = run_campaign(runner, plan, tmp_path)
    assert done.estimate.matrix == reference.estimate.matrix
    rows = {r["key"]: r for r in store_rows(tmp_path)}
    assert rows[f"first/{runner.tasks[0]}/r0"]["runs"] == 2  # the rebuild is on record


@pytest.mark.slow
def test_process_pool_gives_the_same_matrix(runner, reference, tmp_path):
    result = run_campaign(
        runner,
        make_plan(runner.tasks, repeats=2, steps=STEPS),
        tmp_path,
        executor="process",
        workers=2,
    )
    assert result.executor == "process"
    assert result.estimate.matrix == reference.estimate.matrix
    assert result.estimate.entropy == reference.estimate.entropy
