"""Shared fixtures of the TRL adapter tests: one tiny offline model per session."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("trl")
pytest.importorskip("datasets")

import torch

# Tiny models gain nothing from intra-op threads, and on a shared machine OpenMP
# spin-waiting makes two threads up to 10x slower than one.
torch.set_num_threads(1)

warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

TINY_GRPO = {
    "num_generations": 4,
    "per_device_train_batch_size": 8,
    "max_completion_length": 6,
    "learning_rate": 5e-3,
    "temperature": 1.0,
}
TINY_EVAL = {"n_samples": 2, "max_new_tokens": 6, "max_prompts": 6, "batch_size": 8}


@pytest.fixture(scope="session")
def toy_world(tmp_path_factory):
    """``(model_dir, rows)``: a warmed-up tiny Qwen2 and the three toy tasks' rows."""
    from taskorder.trl.toy import build_toy_model_dir

    folder = tmp_path_factory.mktemp("toy_model")
    return build_toy_model_dir(folder, warmup_steps=40, n_train=24, n_eval=6, hidden_size=32)


@pytest.fixture(scope="session")
def toy_tasks(toy_world):
    from taskorder.trl.data import RLTask
    from taskorder.trl.toy import TOY_REWARDS

    _, rows = toy_world
    return [RLTask(name, train, held, TOY_REWARDS[name]) for name, (train, held) in rows.items()]


@pytest.fixture(scope="session")
def toy_files(toy_world, tmp_path_factory):
    """The toy tasks written as JSONL; the ``tasks`` section of a train config."""
    from taskorder.trl.toy import write_toy_task_files

    _, rows = toy_world
    return write_toy_task_files(rows, tmp_path_factory.mktemp("toy_data"))


def make_trainer(model_dir, tasks, output_dir, *, extra_rewards=(), **grpo):
    """A plain GRPOTrainer over every task's rows, one routed reward per task."""
    from trl import GRPOTrainer

    from taskorder.trl.data import multitask_dataset
    from taskorder.trl.grpo_args import load_policy, make_grpo_config, quiet_trainer
    from taskorder.trl.reward_specs import for_task

    model, tokenizer = load_policy(model_dir)
    settings = {**TINY_GRPO, **grpo}
    seed = settings.pop("seed", 0)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[*extra_rewards, *(for_task(t.name, t.reward_function()) for t in tasks)],
        args=make_grpo_config(output_dir, settings, seed=seed),
        train_dataset=multitask_dataset(tasks),
        processing_class=tokenizer,
    )
    quiet_trainer(trainer)
    return trainer


class TaskRecorder:
    """A reward function that records the task column of every batch it is shown."""

    __name__ = "recorder"

    def __init__(self):
        self.calls = []

    def __call__(self, completions=None, task=None, trainer_state=None, **kwargs):
        self.calls.append((trainer_state.global_step, list(task)))
        return [None] * len(completions)


def pytest_collection_modifyitems(config, items):
    """Mark every test of this folder ``trl`` (deselect with ``-m 'not trl'``)."""
    folder = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.fspath).startswith(folder):
            item.add_marker(pytest.mark.trl)
