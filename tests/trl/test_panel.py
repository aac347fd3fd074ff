"""The per-task panel: per-task GRPO metrics at every logging step, checked against TRL's own."""

import math

import numpy as np
import pytest
from transformers import TrainerCallback

from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule, Stage
from taskorder.trl.apply import apply_schedule
from taskorder.trl.panel import TaskPanel, generation_task_stats
from taskorder.trl.task_gradients import TaskGradients, final_norm_module

from .conftest import make_trainer

# One task alone first (its panel must equal TRL's global metrics), then a mixture.
SCHEDULE = Schedule([Stage("arithmetic", steps=2), Stage({"arithmetic": 0.5, "qa": 0.5}, steps=2)])


def test_generation_stats_by_hand():
    # groups of 2: a:(1,1) zero-std, b:(0,1), a:(0,1), c:(nan,nan) unscorable
    tasks = ["a", "a", "b", "b", "a", "a", "c", "c"]
    rewards = [1, 1, 0, 1, 0, 1, math.nan, math.nan]
    advantages = [0, 0, -0.7, 0.7, -0.7, 0.7, 0, 0]
    stats = generation_task_stats(tasks, rewards, advantages, 2)
    assert list(stats) == ["a", "b", "c"]
    assert stats["a"].reward == pytest.approx(0.75)
    assert stats["a"].mean_abs_advantage == pytest.approx(0.35)
    assert stats["a"].zero_advantage_rate == 0.5 and stats["a"].groups == 2
    assert stats["b"].zero_advantage_rate == 0.0 and stats["b"].reward == 0.5
    assert math.isnan(stats["c"].reward) and stats["c"].zero_advantage_rate == 1.0


def test_generation_stats_refuse_mixed_groups_and_bad_lengths():
    with pytest.raises(InvalidParameterError, match="mixes tasks"):
        generation_task_stats(["a", "b"], [0, 1], [0, 0], 2)
    with pytest.raises(InvalidParameterError, match="whole number of groups"):
        generation_task_stats(["a", "a", "a"], [0, 1, 1], [0, 0, 0], 2)


@pytest.fixture(scope="module")
def panel_run(toy_world, toy_tasks, tmp_path_factory):
    model_dir, _ = toy_world
    tasks = [t for t in toy_tasks if t.name in ("arithmetic", "qa")]
    trainer = make_trainer(model_dir, tasks, tmp_path_factory.mktemp("panel"), beta=0.1)
    apply_schedule(trainer, SCHEDULE)
    panel = TaskPanel(trainer).install()
    trainer.train()
    steps = [e for e in trainer.state.log_history if "loss" in e]
    return trainer, panel, steps


def test_single_task_panel_equals_trl_global_metrics(panel_run):
    _, _, steps = panel_run
    for entry in steps[:2]:  # stage 0 trains arithmetic alone
        assert entry["panel/arithmetic/entropy"] == pytest.approx(entry["entropy"], rel=1e-5)
        assert entry["panel/arithmetic/kl"] == pytest.approx(entry["kl"], rel=1e-4, abs=1e-7)
        assert entry["panel/arithmetic/reward"] == pytest.approx(entry["reward"], abs=1e-6)
        assert entry["panel/arithmetic/zero_advantage_rate"] == pytest.approx(
            entry["frac_reward_zero_std"]
        )
        assert not any(key.startswith("panel/qa/") for key in entry)


def test_mixed_stage_panel_per_task_and_consistent(panel_run):
    _, _, steps = panel_run
    for entry in steps[2:]:
        present = [t for t in ("arithmetic", "qa") if f"panel/{t}/reward" in entry]
        assert present, entry
        total_groups = sum(entry[f"panel/{t}/groups"] for t in present)
        for task in present:
            # the routed reward of a task scores only its rows: TRL's mean is the task's mean
            assert entry[f"panel/{task}/reward"] == pytest.approx(
                entry[f"rewards/{task}/mean"], abs=1e-6
            )
            for metric in ("entropy", "kl", "abs_advantage", "zero_advantage_rate"):
                assert math.isfinite(entry[f"panel/{task}/{metric}"])
            assert entry[f"panel/{task}/entropy"] > 0
        zero = sum(
            entry[f"panel/{t}/zero_advantage_rate"] * entry[f"panel/{t}/groups"] for t in present
        )
        assert zero / total_groups == pytest.approx(entry["frac_reward_zero_std"])


def test_no_kl_without_a_reference(toy_world, toy_tasks, tmp_path):
    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks[:1], tmp_path)
    apply_schedule(trainer, Schedule([Stage(toy_tasks[0].name, steps=1)]))
    TaskPanel(trainer).install()
    trainer.train()
    entry = next(e for e in trainer.state.log_history if "loss" in e)
    assert f"panel/{toy_tasks[0].name}/entropy" in entry
    assert not any(key.endswith("/kl") for key in entry)


def test_bad_inputs_are_refused(toy_world, toy_tasks, tmp_path):
    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks[:1], tmp_path)
    with pytest.raises(InvalidParameterError, match="'nope' column"):
        TaskPanel(trainer, task_column="nope")
    with pytest.raises(InvalidParameterError, match="'method'.*Got 'forward'"):
        TaskGradients(trainer.model, 2, "forward")
    assert final_norm_module(trainer.model) is trainer.model.model.norm
    for name, parameter in trainer.model.named_parameters():
        parameter.requires_grad_("norm" not in name)
    with pytest.raises(InvalidParameterError, match="no module named '...norm'"):
        final_norm_module(trainer.model)


class NormGradient(TrainerCallback):
    """The final norm's gradient right before each optimizer step (no clipping)."""

    def __init__(self, module):
        self.module, self.grads = module, []

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        self.grads.append(self.module.weight.grad.detach().double().clone())
        return control


@pytest.mark.parametrize("method", ["backward", "autograd"])
def test_task_gradients_are_the_parts_of_grpo_gradient(toy_world, toy_tasks, tmp_path, method):
    model_dir, _ = toy_world
    tasks = [t for t in toy_tasks if t.name in ("arithmetic", "qa")]
    trainer = make_trainer(model_dir, tasks, tmp_path, extra_rewards=[brevity], max_grad_norm=0.0)
    apply_schedule(trainer, Schedule([Stage({"arithmetic": 0.5, "qa": 0.5}, steps=2)]))
    panel = TaskPanel(trainer, gradients=True, gradient_method=method).install()
    delivered = []
    panel.listeners.append(lambda generation, signals: delivered.append(signals))
    recorder = NormGradient(final_norm_module(trainer.model))
    trainer.add_callback(recorder)
    trainer.train()
    assert len(delivered) == 2 and panel.task_gradients.seconds > 0
    for signals, grad in zip(delivered, recorder.grads):
        parts = {t: s.gradient * s.groups * trainer.num_generations for t, s in signals.items()}
        assert all(v.shape == (trainer.model.config.hidden_size,) for v in parts.values())
        total = sum(parts.values())
        if method == "backward":  # exactly GRPO's gradient, split by task
            np.testing.assert_allclose(total, grad.numpy(), rtol=1e-4, atol=1e-9)
        else:  # the on-policy surrogate points the same way (scaled by batch and accumulation)
            cosine = total @ grad.numpy() / np.linalg.norm(total) / np.linalg.norm(grad.numpy())
            assert cosine == pytest.approx(1.0, abs=1e-4)


def brevity(completions=None, **kwargs):
    """A shared reward that varies within every group, so every task has a gradient."""
    return [-len(str(completion)) / 10 for completion in completions]


def test_stage_end_panel_in_a_real_sequential_run(toy_world, toy_tasks, tmp_path):
    import numpy as np

    from taskorder.metrics import forgetting, gem_metrics, intransigence
    from taskorder.trl.callback import StageCallback, StageCallbackConfig
    from taskorder.trl.evaluation import EvalConfig

    from .conftest import TINY_EVAL

    model_dir, _ = toy_world
    order = ["arithmetic", "qa", "describe"]
    trainer = make_trainer(model_dir, toy_tasks, tmp_path)
    resolved = apply_schedule(trainer, Schedule.from_order(order, steps=1)).schedule
    reference = {"arithmetic": 0.9, "qa": 0.8, "describe": 0.7}
    callback = StageCallback(
        resolved,
        {t.name: (t.eval_rows, t.reward_function()) for t in toy_tasks},
        StageCallbackConfig(evaluation=EvalConfig(**TINY_EVAL), reference_scores=reference),
    ).attach(trainer)
    trainer.train()
    R = callback.results.accuracy_matrix()
    baseline = [callback.results.baseline.scores[t] for t in order]
    last = {e["stage"]: e for e in trainer.state.log_history if "stage" in e}[2.0]
    gem = gem_metrics(R, baseline)
    assert last["stage/acc"] == pytest.approx(gem.acc)
    assert last["stage/bwt"] == pytest.approx(gem.bwt)
    assert last["stage/fwt"] == pytest.approx(gem.fwt)
    assert last["stage/forgetting"] == pytest.approx(forgetting(R).mean())
    assert last["stage/intransigence"] == pytest.approx(
        intransigence(R, [reference[t] for t in order]).mean()
    )
    assert last["stage/worst_task_score"] == pytest.approx(R[-1].min())
    assert callback.stage_metrics[2] == {
        k: v
        for k, v in last.items()
        if "/" in k and (k.startswith("stage/") or k.endswith(("forgetting", "intransigence")))
    }
    # the per-step panel came with the callback
    assert any("panel/qa/entropy" in e for e in trainer.state.log_history)
    assert np.isfinite(R).all()
