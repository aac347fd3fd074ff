"""examples/trl_gpu.py trains float32 master weights (bf16 autocast) at a constant LR.

At the example's learning rate (1e-6) AdamW moves each weight by about 1e-6, below
bf16's resolution for most weights: bf16 weights barely change (measured on the toy
model: 0.45 % of weights in 5 steps), float32 weights all do.
"""

import importlib.util
from pathlib import Path

from taskorder.schedule import Schedule, Stage
from taskorder.trl.apply import apply_schedule

from .conftest import TINY_GRPO

REPO = Path(__file__).parents[2]


def _example():
    spec = importlib.util.spec_from_file_location("trl_gpu", REPO / "examples" / "trl_gpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def brevity(completions=None, **kwargs):
    """A reward that varies within every group, so every step has a gradient."""
    return [-len(str(completion)) / 10 for completion in completions]


def _fraction_changed(model_dir, tasks, output_dir, dtype, grpo):
    from trl import GRPOTrainer

    from taskorder.trl.data import multitask_dataset
    from taskorder.trl.grpo_args import load_policy, make_grpo_config, quiet_trainer

    model, tokenizer = load_policy(model_dir, dtype=dtype)
    before = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[brevity],
        args=make_grpo_config(output_dir, grpo),
        train_dataset=multitask_dataset(tasks),
        processing_class=tokenizer,
    )
    quiet_trainer(trainer)
    apply_schedule(trainer, Schedule([Stage("qa", steps=3)]))
    trainer.train()
    after = trainer.model.state_dict()
    changed = sum(int((before[name] != after[name]).sum()) for name in before)
    return changed / sum(tensor.numel() for tensor in before.values())


def test_settings_on_a_bf16_gpu():
    example = _example()
    args = example.build_parser().parse_args(["models/any"])
    dtype, grpo = example.training_settings(args, cuda=True, bf16=True)
    assert dtype == "float32" and grpo["bf16"] is True
    assert grpo["lr_scheduler_type"] == "constant" and grpo["learning_rate"] == 1e-6
    assert example.training_settings(args, cuda=False, bf16=False)[1]["bf16"] is False


def test_float32_master_weights_move_at_the_example_learning_rate(toy_world, toy_tasks, tmp_path):
    example = _example()
    model_dir, _ = toy_world
    args = example.build_parser().parse_args([str(model_dir)])
    dtype, grpo = example.training_settings(args, cuda=True, bf16=True)
    grpo = {
        **grpo,
        **{
            k: TINY_GRPO[k]
            for k in ("num_generations", "per_device_train_batch_size", "max_completion_length")
        },
    }
    grpo["gradient_checkpointing"] = False
    # The example's settings on CPU: float32 weights, bf16 autocast, lr 1e-6, constant.
    master = _fraction_changed(model_dir, toy_tasks, tmp_path / "fp32", dtype, grpo)
    # What it did before: the same run with the weights themselves in bf16.
    bf16_weights = _fraction_changed(model_dir, toy_tasks, tmp_path / "bf16", "bfloat16", grpo)
    assert master > 0.99
    assert bf16_weights < 0.05
