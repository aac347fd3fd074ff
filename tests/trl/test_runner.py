"""TRLProbeRunner honours the runner protocol (check_runner) and evaluation is sound."""

import pickle

import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.runner import Evaluation, check_runner
from taskorder.trl.evaluation import EvalConfig, evaluate_policy
from taskorder.trl.grpo_args import load_policy
from taskorder.trl.runner import TRLProbeRunner, TRLRunnerConfig

from .conftest import TINY_EVAL, TINY_GRPO


@pytest.fixture(scope="module")
def runner(toy_world, toy_tasks, tmp_path_factory):
    model_dir, _ = toy_world
    config = TRLRunnerConfig(
        model_path=str(model_dir),
        work_dir=str(tmp_path_factory.mktemp("probe_states")),
        grpo=dict(TINY_GRPO),
        evaluation=EvalConfig(**TINY_EVAL),
    )
    return TRLProbeRunner(toy_tasks, config)


def test_probe_runner_passes_check_runner(runner):
    check_runner(runner, steps=1, seed=0)


def test_train_writes_a_new_state_and_leaves_the_old_one(runner):
    base = runner.initial_state(0)
    trained = runner.train(base, {"qa": 0.5, "describe": 0.5}, steps=1, seed=0)
    assert trained != base and runner.load(trained) == trained
    evaluation = runner.evaluate(trained, "qa", seed=0)
    assert isinstance(evaluation, Evaluation) and evaluation.n_samples == 12
    assert len(runner.config_hash()) == 16 and runner.config_hash() == runner.config_hash()
    copy = pickle.loads(pickle.dumps(runner))  # process-pool executors pickle runners
    assert copy.config_hash() == runner.config_hash() and copy._cached is None
    with pytest.raises(ValueError, match="Unknown tasks"):
        runner.train(base, "poetry", steps=1, seed=0)


def test_evaluate_policy_is_seeded_and_measures_entropy(toy_world, toy_tasks):
    model_dir, _ = toy_world
    model, tokenizer = load_policy(model_dir)
    task = toy_tasks[1]
    config = EvalConfig(**TINY_EVAL)
    first = evaluate_policy(model, tokenizer, task.eval_rows, task.reward_function(), config)
    assert first == evaluate_policy(
        model, tokenizer, task.eval_rows, task.reward_function(), config
    )
    assert first.entropy > 0 and 0 <= first.score <= 1 and first.n_samples == 12
    greedy = EvalConfig(n_samples=1, temperature=0.0, max_new_tokens=6)
    assert (
        evaluate_policy(model, tokenizer, task.eval_rows, task.reward_function(), greedy).n_samples
        == 6
    )


def test_eval_config_cross_checks():
    with pytest.raises(InvalidParameterError, match="n_samples=1"):
        EvalConfig(temperature=0.0, n_samples=4)
    with pytest.raises(InvalidParameterError, match="max_new_tokens"):
        EvalConfig(max_new_tokens=0)


def test_runner_config_refuses_reserved_and_unknown_grpo_fields(toy_world, tmp_path):
    model_dir, _ = toy_world
    with pytest.raises(InvalidParameterError, match="set by taskorder"):
        TRLRunnerConfig(model_path=str(model_dir), work_dir=str(tmp_path), grpo={"max_steps": 3})
    with pytest.raises(InvalidParameterError, match="not GRPOConfig fields"):
        TRLRunnerConfig(
            model_path=str(model_dir), work_dir=str(tmp_path), grpo={"num_generation": 3}
        )
    with pytest.raises(InvalidParameterError, match="config.json"):
        TRLRunnerConfig(model_path=str(tmp_path), work_dir=str(tmp_path))


def test_probe_first_stage_equals_the_runs_first_stage(runner, toy_world, toy_tasks, tmp_path):
    """With a constant LR, a probe stage is the same computation as that stage in a full run."""
    import torch
    from transformers import TrainerCallback

    from taskorder.schedule import Schedule, Stage
    from taskorder.trl.apply import apply_schedule

    from .conftest import make_trainer

    constant = {**runner.config.grpo, "lr_scheduler_type": "constant"}
    saved = runner.config  # settings are frozen: swap in a copy with the constant LR
    runner.config = saved.model_copy(update={"grpo": constant})
    try:
        state = runner.train(runner.initial_state(0), "qa", steps=2, seed=0)
    finally:
        runner.config = saved
    probe_model, _ = load_policy(state)

    class Snapshot(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step == 2:
                self.weights = {k: v.detach().clone() for k, v in model.state_dict().items()}

    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks, tmp_path, lr_scheduler_type="constant")
    apply_schedule(trainer, Schedule([Stage("qa", steps=2), Stage("arithmetic", steps=2)]))
    snapshot = Snapshot()
    trainer.add_callback(snapshot)
    trainer.train()
    expected = probe_model.state_dict()
    assert all(torch.equal(snapshot.weights[k], expected[k]) for k in expected)


def test_train_online_runs_an_online_stage_and_reuses_its_state(runner):
    base = runner.initial_state(0)
    online = runner.train_online(base, ["qa", "describe"], "sec", steps=2, seed=0)
    mixed = runner.train(base, {"qa": 0.5, "describe": 0.5}, steps=2, seed=0)
    assert online != base and online != mixed and runner.load(online) == online
    again = runner.train_online(base, ["qa", "describe"], "sec", steps=2, seed=0)
    assert again == online  # same arguments: the finished state, not a second training
    assert runner.train_online(base, ["qa", "describe"], "tac", steps=2, seed=0) != online
    with pytest.raises(ValueError, match="online policy"):
        runner.train_online(base, ["qa", "describe"], "bandit", steps=2, seed=0)
