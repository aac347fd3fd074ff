"""StageCallback in a real two-stage GRPO run: evaluation, logs, checkpoints, R and GEM."""

import math

import pytest
import torch

from taskorder.schedule import Schedule, Stage
from taskorder.trl.apply import apply_schedule
from taskorder.trl.callback import StageCallback, StageCallbackConfig, last_stage_checkpoint
from taskorder.trl.evaluation import EvalConfig
from taskorder.trl.results import StageResults

from .conftest import TINY_EVAL, make_trainer

SCHEDULE = Schedule([Stage("arithmetic", steps=2), Stage("qa", steps=2)])


def brevity(completions=None, **kwargs):
    """A shared shaping reward that always varies within a group, so every step has a gradient."""
    return [-len(str(completion)) / 10 for completion in completions]


def _weights(model):
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


@pytest.fixture(scope="module")
def two_stage_run(toy_world, toy_tasks, tmp_path_factory):
    model_dir, _ = toy_world
    out = tmp_path_factory.mktemp("two_stage")
    trainer = make_trainer(model_dir, toy_tasks, out, extra_rewards=[brevity])
    before = _weights(trainer.model)
    resolved = apply_schedule(trainer, SCHEDULE).schedule
    seen = []
    callback = StageCallback(
        resolved,
        {t.name: (t.eval_rows, t.reward_function()) for t in toy_tasks},
        StageCallbackConfig(
            evaluation=EvalConfig(**TINY_EVAL), results_path=str(out / "stages.json")
        ),
        on_stage_end=seen.append,
    ).attach(trainer)
    trainer.train()
    return trainer, callback, before, out, seen


def test_weights_change_and_per_task_metrics_are_logged(two_stage_run, toy_tasks):
    trainer, _callback, before, _, seen = two_stage_run
    after = _weights(trainer.model)
    assert any(not torch.equal(before[name], after[name]) for name in before)
    logged = {entry["step"]: entry for entry in trainer.state.log_history if "stage" in entry}
    assert sorted(logged) == [0, 2, 4]
    for entry in logged.values():
        for task in toy_tasks:
            assert 0.0 <= entry[f"task/{task.name}/score"] <= 1.0
            assert entry[f"task/{task.name}/entropy"] > 0.0
    # GRPO's own per-step metrics are still logged by the trainer itself.
    assert sum("loss" in entry for entry in trainer.state.log_history) == 4
    assert [record.stage for record in seen] == [-1, 0, 1]


def test_checkpoint_per_stage_and_accuracy_matrix(two_stage_run):
    _, callback, _, out, _ = two_stage_run
    for step in (2, 4):
        assert (out / f"checkpoint-{step}" / "trainer_state.json").is_file()
        assert (out / f"checkpoint-{step}" / "config.json").is_file()
    assert last_stage_checkpoint(out, callback.schedule) == (1, out / "checkpoint-4")
    results = callback.results
    R = results.accuracy_matrix()
    assert R.shape == (2, 2)
    assert R[1, 0] == results.records[-1].scores["arithmetic"]
    gem = results.gem()
    assert math.isclose(gem.bwt, R[1, 0] - R[0, 0])
    assert gem.fwt is not None
    saved = StageResults.load(out / "stages.json")
    assert saved.to_dict() == results.to_dict()
    assert "arithmetic" in results.format_table()


def test_evaluation_does_not_perturb_training(two_stage_run, toy_world, toy_tasks, tmp_path):
    trainer, *_ = two_stage_run
    model_dir, _ = toy_world
    plain = make_trainer(model_dir, toy_tasks, tmp_path, extra_rewards=[brevity])
    apply_schedule(plain, SCHEDULE)
    plain.train()
    with_callback, without = _weights(trainer.model), _weights(plain.model)
    assert all(torch.equal(with_callback[name], without[name]) for name in without)
