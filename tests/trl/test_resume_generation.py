"""Resuming a plain GRPOTrainer in the middle of a generation keeps every step on its stage.

With ``num_iterations=2`` or ``steps_per_generation=2`` one generation feeds two
optimizer steps; a checkpoint at an odd step is inside a generation. TRL does not
checkpoint its micro-step counter ``_step`` nor its generation buffer, so without
:class:`~taskorder.trl.generation_state.GenerationStateCallback` the resumed run served
the previous generation's buffer when the next was due and every later stage started
one step late.
"""

import shutil

import pytest
import torch
from transformers import TrainerCallback

from taskorder.schedule import Schedule, Stage
from taskorder.trl.apply import apply_schedule
from taskorder.trl.generation_state import GenerationStateCallback, generation_state_path

from .conftest import make_trainer

SCHEDULE = Schedule(
    [Stage("arithmetic", steps=2), Stage("qa", steps=2), Stage("describe", steps=2)]
)
GEOMETRIES = [
    pytest.param({"num_iterations": 2}, id="num-iterations-2"),
    pytest.param({"steps_per_generation": 2}, id="steps-per-generation-2"),
]


def brevity(completions=None, **kwargs):
    """A shared reward that varies within every group, so every step has a gradient."""
    return [-len(str(completion)) / 10 for completion in completions]


class SaveAtStep(TrainerCallback):
    """Ask for a checkpoint after optimizer step ``step``."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_save = True
        return control


def scheduled_run(toy_world, toy_tasks, output_dir, grpo, *, resume=None):
    """Train SCHEDULE; return the tasks each optimizer step trained on and the weights."""
    model_dir, _ = toy_world
    task_of_prompt = {row["prompt"]: task.name for task in toy_tasks for row in task.train_rows}
    trainer = make_trainer(model_dir, toy_tasks, output_dir, extra_rewards=[brevity], **grpo)
    trained = []
    prepare = trainer._prepare_inputs

    def recording_prepare(generation_batch):
        inputs = prepare(generation_batch)
        prompts = trainer.processing_class.batch_decode(
            inputs["prompt_ids"], skip_special_tokens=True
        )
        trained.append((trainer.state.global_step, {task_of_prompt[p] for p in prompts}))
        return inputs

    trainer._prepare_inputs = recording_prepare
    resolved = apply_schedule(trainer, SCHEDULE).schedule
    trainer.add_callback(SaveAtStep(1))
    trainer.train(resume_from_checkpoint=resume)
    weights = {name: tensor.detach().clone() for name, tensor in trainer.model.state_dict().items()}
    return resolved, trained, weights


def assert_on_schedule(resolved, trained, first_step):
    assert [step for step, _ in trained] == list(range(first_step, resolved.total_steps))
    for step, tasks in trained:
        assert tasks == set(resolved[resolved.stage_index_at(step)].task_names), (step, tasks)


@pytest.mark.parametrize("grpo", GEOMETRIES)
def test_resume_mid_generation_replays_the_uninterrupted_run(toy_world, toy_tasks, tmp_path, grpo):
    resolved, trained, uninterrupted = scheduled_run(toy_world, toy_tasks, tmp_path / "a", grpo)
    assert_on_schedule(resolved, trained, 0)
    state_file = generation_state_path(tmp_path / "a" / "checkpoint-1")
    saved = torch.load(state_file, weights_only=True)
    assert saved["step"] == 1 and saved["buffered_inputs"] is not None  # inside a generation

    # Resume the same run directory from its step-1 checkpoint.
    shutil.copytree(tmp_path / "a" / "checkpoint-1", tmp_path / "b" / "checkpoint-1")
    resolved, trained, resumed = scheduled_run(
        toy_world, toy_tasks, tmp_path / "b", grpo, resume=str(tmp_path / "b" / "checkpoint-1")
    )
    assert_on_schedule(resolved, trained, 1)
    # The buffered generation is served again: the resumed run equals the uninterrupted one.
    assert all(torch.equal(uninterrupted[name], resumed[name]) for name in uninterrupted)


def test_resume_without_the_state_file_stays_on_schedule(toy_world, toy_tasks, tmp_path):
    grpo = {"num_iterations": 2}
    scheduled_run(toy_world, toy_tasks, tmp_path / "a", grpo)
    # A checkpoint from elsewhere (no generation state): the counter is derived from the
    # global step, and the in-progress generation is sampled again from the same prompts.
    resolved, trained, _ = scheduled_run(
        toy_world, toy_tasks, tmp_path / "b", grpo, resume=str(tmp_path / "a" / "checkpoint-1")
    )
    assert_on_schedule(resolved, trained, 1)


def test_one_state_callback_per_trainer(toy_world, toy_tasks, tmp_path):
    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks, tmp_path)
    apply_schedule(trainer, SCHEDULE)
    apply_schedule(trainer, SCHEDULE)
    installed = [
        callback
        for callback in trainer.callback_handler.callbacks
        if isinstance(callback, GenerationStateCallback)
    ]
    assert len(installed) == 1 and installed[0].trainer is trainer
