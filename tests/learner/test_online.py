"""Online stages of the built-in learner: logged decisions, replay, exact resume, signals."""

import json

import numpy as np
import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.learner import make_learner
from taskorder.learner.online import OnlineCheckpoint, resume_online, train_online
from taskorder.online import POLICIES, Decision, make_policy


def run(runner, name, steps=8, seed=3, **options):
    policy = make_policy(name, runner.tasks, seed=1, **options)
    return train_online(runner, runner.initial_state(seed=0), policy, steps=steps, seed=seed)


@pytest.mark.parametrize("mode", ["exact", "sampled"])
@pytest.mark.parametrize("name", POLICIES)
def test_same_seed_same_stream_and_state(mode, name):
    runner = make_learner(1, 2, mode=mode)
    first, second = run(runner, name), run(runner, name)
    assert first.decisions == second.decisions
    assert first.state == second.state
    assert len(first.decisions) == 8 and first.state.steps == 8
    for decision in first.decisions:
        assert sum(decision.weights.values()) == pytest.approx(1.0)
        if mode == "sampled":
            assert sum(decision.counts.values()) == runner.config.batch_size


@pytest.mark.parametrize("mode", ["exact", "sampled"])
@pytest.mark.parametrize("name", POLICIES)
def test_resume_from_a_saved_checkpoint_is_exact(mode, name, tmp_path):
    runner = make_learner(1, 2, mode=mode)
    whole = run(runner, name, steps=7)
    policy = make_policy(name, runner.tasks, seed=1)
    part = train_online(runner, runner.initial_state(seed=0), policy, steps=7, seed=3, stop_after=3)
    assert part.checkpoint is not None and len(part.decisions) == 3
    part.checkpoint.save(runner, tmp_path / "mid.npz")
    loaded = OnlineCheckpoint.load(runner, tmp_path / "mid.npz")
    fresh = make_policy(name, runner.tasks, seed=1)
    rest = resume_online(runner, loaded, fresh)
    assert rest.checkpoint is None
    assert rest.state == whole.state
    assert rest.decisions == whole.decisions
    assert fresh.state_dict() == json.loads(json.dumps(fresh.state_dict()))


@pytest.mark.parametrize("name", ["sec", "worst_task"])
def test_logged_signals_replay_to_the_same_decisions(name):
    runner = make_learner(1, 2, mode="sampled")
    stage = run(runner, name, steps=10)
    logged = [Decision.from_dict(json.loads(json.dumps(d.to_dict()))) for d in stage.decisions]
    replay = make_policy(name, runner.tasks, seed=1)
    for decision in logged:
        assert replay.weights() == decision.weights
        replay.update(decision.as_signals())


def test_signals_make_sense_in_exact_mode():
    runner = make_learner(1, 1, mode="exact")
    stage = run(runner, "sec", steps=3)
    signals = stage.decisions[0].signals
    for task, value in signals.items():
        assert 0.0 < value["mean_abs_advantage"] < 2.0
        assert 0.0 < value["mean_reward"] <= 1.0
        assert value["groups"] >= 1
        score = runner.evaluate(runner.initial_state(seed=0), task, seed=0).score
        assert value["mean_reward"] == pytest.approx(score, abs=0.15)  # train vs test prompts


def test_tac_gradients_leave_the_update_unchanged():
    """TAC reads per-task gradient parts; their sum is the gradient SEC's stage takes."""
    runner = make_learner(1, 2, mode="exact")
    state = runner.initial_state(seed=0)
    tac = make_policy("tac", runner.tasks, alpha=0.5, tau=1.0, transfer=0.0)  # SEC's decisions
    sec = make_policy("sec", runner.tasks)
    a = train_online(runner, state, tac, steps=4, seed=0)
    b = train_online(runner, state, sec, steps=4, seed=0)
    assert a.state == b.state
    assert np.any(tac.alignment_ != 0)


def test_a_fixed_single_task_policy_matches_plain_training():
    runner = make_learner(1, 1, mode="sampled")
    state = runner.initial_state(seed=0)
    policy = make_policy("sec", ["structured_0"])
    online = train_online(runner, state, policy, steps=5, seed=4)
    plain = runner.train(state, "structured_0", steps=5, seed=4)
    assert np.array_equal(online.state.weights, plain.weights)


def test_bad_input_is_refused(tmp_path):
    runner = make_learner(1, 1)
    state = runner.initial_state(seed=0)
    with pytest.raises(InvalidParameterError, match="'policy'"):
        train_online(runner, state, object(), seed=0)
    with pytest.raises(InvalidParameterError, match="'policy'"):
        train_online(runner, state, make_policy("sec", ["nope"]), seed=0)
    with pytest.raises(InvalidParameterError, match="'steps'"):
        train_online(runner, state, make_policy("sec", runner.tasks), steps=-1, seed=0)
    with pytest.raises(InvalidParameterError, match="update='grpo'"):
        sgd = make_learner(1, 1, update="sgd")
        train_online(sgd, sgd.initial_state(0), make_policy("sec", sgd.tasks), seed=0)
    part = train_online(
        runner, state, make_policy("sec", runner.tasks), steps=4, seed=0, stop_after=1
    )
    with pytest.raises(InvalidParameterError, match="'policy'"):
        resume_online(runner, part.checkpoint, make_policy("sec", ["structured_0"]))
    with pytest.raises(InvalidParameterError, match="'state'"):
        resume_online(runner, part.checkpoint, make_policy("sec", runner.tasks, tau=0.5))
    part.checkpoint.save(runner, tmp_path / "c.npz")
    with pytest.raises(InvalidParameterError, match="config hash"):
        OnlineCheckpoint.load(make_learner(1, 1, seed=5), tmp_path / "c.npz")
