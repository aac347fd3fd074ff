"""Schedules: equal total steps, and mixed stages feed every task in the stated proportions."""

import numpy as np
import pytest

from taskorder.compare import (
    blocks,
    group_by_prefix,
    interleaved,
    joint,
    run_schedule,
    sequential,
)
from taskorder.exceptions import InvalidParameterError
from taskorder.learner import make_learner

TASKS = ("structured_0", "structured_1", "open_0")


@pytest.mark.parametrize(
    "schedule",
    [
        sequential(TASKS, 7),
        joint(TASKS, 7),
        interleaved(TASKS, 7),
        interleaved(TASKS, 7, rounds=2),
        blocks(group_by_prefix(TASKS), 7),
    ],
)
def test_every_schedule_spends_n_times_stage_steps(schedule):
    assert schedule.total_steps == 3 * 7


def test_interleaved_gives_each_task_its_stage_steps():
    stages = interleaved(TASKS, 7, rounds=3)
    per_task = {t: sum(s.steps for s in stages if s.tasks == t) for t in TASKS}
    assert per_task == {t: 7 for t in TASKS}
    assert [s.tasks for s in stages[:3]] == list(TASKS)


def test_group_by_prefix_and_its_errors():
    assert group_by_prefix(["open_1", "structured_0"]) == [("structured_0",), ("open_1",)]
    assert group_by_prefix(["a1", "b1", "a2"], prefixes=("b", "a")) == [("b1",), ("a1", "a2")]
    with pytest.raises(InvalidParameterError, match="math"):
        group_by_prefix(["math", "open_0"])
    with pytest.raises(InvalidParameterError, match="rounds"):
        interleaved(TASKS, 2, rounds=3)
    with pytest.raises(InvalidParameterError, match="distinct"):
        joint(["a", "a"], 3)


def _seen_delta(runner, schedule, seed=0):
    base = runner.initial_state(0)
    final = run_schedule(runner, base, schedule, seed_of=lambda k: seed + k)
    return final.prompts_seen - base.prompts_seen, final.steps - base.steps


def test_exact_joint_stage_consumes_equal_rows_of_every_task():
    runner = make_learner(2, 1, mode="exact", batch_size=12)
    seen, steps = _seen_delta(runner, joint(runner.tasks, 5))
    assert steps == 15
    np.testing.assert_allclose(seen, [15 * 12 / 3] * 3)


def test_sampled_joint_stage_consumes_rows_in_the_stated_proportions():
    runner = make_learner(2, 1, mode="sampled", batch_size=32)
    seen, steps = _seen_delta(runner, joint(runner.tasks, 100))
    assert steps == 300 and seen.sum() == 300 * 32
    # multinomial counts: 9600 rows, share 1/3 each; 4 standard deviations ~ 0.019
    np.testing.assert_allclose(seen / seen.sum(), [1 / 3] * 3, atol=0.02)


def test_sampled_unequal_mixture_and_blocks_consume_the_stated_rows():
    runner = make_learner(2, 1, mode="sampled", batch_size=32)
    base = runner.initial_state(0)
    state = runner.train(base, {"structured_0": 3.0, "open_0": 1.0}, steps=200, seed=1)
    seen = state.prompts_seen - base.prompts_seen
    assert seen[1] == 0 and seen.sum() == 200 * 32
    assert seen[0] / seen.sum() == pytest.approx(0.75, abs=0.02)
    seen, _ = _seen_delta(runner, blocks(group_by_prefix(runner.tasks), 50))
    assert seen[2] == 50 * 32 and seen[0] + seen[1] == 100 * 32
    assert seen[0] / (seen[0] + seen[1]) == pytest.approx(0.5, abs=0.03)


def test_run_schedule_refuses_stages_in_passes():
    from taskorder.schedule import Schedule, Stage

    runner = make_learner(1, 1)
    with pytest.raises(InvalidParameterError, match="passes"):
        run_schedule(
            runner,
            runner.initial_state(0),
            Schedule([Stage("open_0", passes=1.0)]),
            seed_of=lambda k: k,
        )
