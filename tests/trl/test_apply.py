"""apply_schedule on a real GRPOTrainer: what the trainer actually consumed, step by step."""

from collections import Counter

import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule, Stage
from taskorder.trl.apply import apply_schedule
from taskorder.trl.sampler import split_counts

from .conftest import TaskRecorder, make_trainer

SCHEDULE = Schedule(
    [
        Stage("arithmetic", steps=2),
        Stage("qa", steps=2),
        Stage({"describe": 0.25, "arithmetic": 0.75}, steps=2),
    ]
)


@pytest.mark.parametrize(
    "grpo",
    [
        pytest.param({}, id="one-generation-per-step"),
        pytest.param(
            {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 2}, id="grad-accum-2"
        ),
        pytest.param(
            {"num_iterations": 2, "per_device_train_batch_size": 8}, id="num-iterations-2"
        ),
    ],
)
def test_trainer_consumes_exactly_the_scheduled_tasks(toy_world, toy_tasks, tmp_path, grpo):
    model_dir, _ = toy_world
    recorder = TaskRecorder()
    trainer = make_trainer(model_dir, toy_tasks, tmp_path, extra_rewards=[recorder], **grpo)
    sampler = apply_schedule(trainer, SCHEDULE)
    resolved = sampler.schedule
    trainer.train()
    assert trainer.state.global_step == resolved.total_steps == 6
    # One reward call per generation, at the global step the generation starts.
    generations = sum(sampler.generations_per_stage)
    assert len(recorder.calls) == generations
    for step, tasks in recorder.calls:
        stage = resolved[resolved.stage_index_at(step)]
        assert set(tasks) <= set(stage.task_names), (step, tasks)
        assert len(tasks) == 8  # generation batch: 2 prompts x 4 generations
        groups = [tasks[k : k + 4] for k in range(0, 8, 4)]
        assert all(len(set(group)) == 1 for group in groups)
    by_stage = Counter()
    for step, tasks in recorder.calls:
        for task in tasks:
            by_stage[(resolved.stage_index_at(step), task)] += 1
    rows_per_stage = 8 * generations // 3
    assert by_stage[(0, "arithmetic")] == by_stage[(1, "qa")] == rows_per_stage
    # The mixed stage: 25 % describe, 75 % arithmetic prompts (each prompt x 4 generations),
    # rounded by largest remainder when the stage holds too few prompts to split exactly.
    expected = split_counts(rows_per_stage // 4, {"describe": 0.25, "arithmetic": 0.75})
    assert by_stage[(2, "describe")] == 4 * expected["describe"]
    assert by_stage[(2, "arithmetic")] == 4 * expected["arithmetic"]
    if rows_per_stage == 16:
        assert expected == {"describe": 1, "arithmetic": 3}


def test_passes_are_resolved_from_the_trainer_geometry(toy_world, toy_tasks, tmp_path):
    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks, tmp_path)
    sampler = apply_schedule(
        trainer, Schedule([Stage("qa", passes=1.0), Stage("arithmetic", steps=1)])
    )
    assert sampler.schedule.steps == (12, 1)  # 24 rows / 2 prompts per step
    assert trainer.args.max_steps == 13


def test_refusals(toy_world, toy_tasks, tmp_path):
    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks, tmp_path)
    with pytest.raises(InvalidParameterError, match="no row"):
        apply_schedule(trainer, Schedule([Stage("poetry", steps=1)]))
    with pytest.raises(InvalidParameterError, match="'topic' column"):
        apply_schedule(trainer, SCHEDULE, task_column="topic")
    trainer.args.max_steps = 3
    with pytest.raises(InvalidParameterError, match="max_steps"):
        apply_schedule(trainer, SCHEDULE)
    with pytest.raises(InvalidParameterError, match="GRPOTrainer"):
        apply_schedule(object(), SCHEDULE)
