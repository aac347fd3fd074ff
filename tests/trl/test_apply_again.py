"""apply_schedule a second time, after swapping the train dataset, as its error message advises."""

import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule, Stage
from taskorder.trl.apply import apply_schedule
from taskorder.trl.data import multitask_dataset

from .conftest import TaskRecorder, make_trainer


def test_apply_again_after_swapping_the_dataset(toy_world, toy_tasks, tmp_path):
    model_dir, _ = toy_world
    recorder = TaskRecorder()
    trainer = make_trainer(model_dir, toy_tasks, tmp_path, extra_rewards=[recorder])
    first = apply_schedule(trainer, Schedule([Stage("arithmetic", steps=3), Stage("qa", steps=3)]))
    assert trainer.args.max_steps == first.schedule.total_steps == 6

    two_tasks = [task for task in toy_tasks if task.name != "arithmetic"]
    trainer.train_dataset = multitask_dataset(two_tasks)
    with pytest.raises(InvalidParameterError, match="Call apply_schedule again"):
        trainer._get_train_sampler(trainer.train_dataset)

    second = apply_schedule(trainer, Schedule([Stage("describe", steps=1), Stage("qa", steps=2)]))
    assert trainer.args.max_steps == second.schedule.total_steps == 3
    trainer.train()
    assert trainer.state.global_step == 3
    assert [set(tasks) for _, tasks in recorder.calls] == [{"describe"}, {"qa"}, {"qa"}]


def test_a_max_steps_set_by_the_user_is_still_checked(toy_world, toy_tasks, tmp_path):
    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks, tmp_path)
    apply_schedule(trainer, Schedule([Stage("qa", steps=2)]))
    trainer.args.max_steps = 5  # the user's, not the previous schedule's
    with pytest.raises(InvalidParameterError, match="max_steps is 5 but the schedule lasts 3"):
        apply_schedule(trainer, Schedule([Stage("qa", steps=3)]))
