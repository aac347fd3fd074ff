"""The Ray executor on a real local Ray instance gives the in-process result."""

import pytest

pytest.importorskip("ray")

from taskorder.estimate import make_plan, run_campaign, run_curricula
from taskorder.estimate.executors import RayExecutor
from tests.estimate.helpers import small_learner

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_campaign_and_curricula_equal_in_process(local_ray, tmp_path):
    runner = small_learner()
    plan = make_plan(runner.tasks, repeats=2, steps=5, seed=4)
    expected = run_campaign(runner, plan, tmp_path / "inprocess")
    result = run_campaign(runner, plan, tmp_path / "ray", executor=RayExecutor())
    assert result.executor == "ray" and result.ran == 20
    assert result.estimate.matrix == expected.estimate.matrix
    assert result.estimate.entropy == expected.estimate.entropy
    assert local_ray.is_initialized()  # an instance it did not start is left running

    orders = [runner.tasks, runner.tasks[::-1]]
    here = run_curricula(runner, orders, seeds=2, steps=5)
    there = run_curricula(runner, orders, seeds=2, steps=5, executor=RayExecutor(workers=2))
    assert [(r.order, r.seed_index, r.scores.tolist()) for r in here] == [
        (r.order, r.seed_index, r.scores.tolist()) for r in there
    ]
