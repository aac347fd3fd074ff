"""The hybrid schedule: plan totals, anchored mixtures, deterministic runs, errors."""

import json

import numpy as np
import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.learner import make_learner
from taskorder.learner.hybrid import run_hybrid
from taskorder.matrix import TransferMatrix
from taskorder.online import AnchoredPolicy, TaskSignal, make_policy, plan_hybrid


def matrix_for(runner, seed=0):
    rng = np.random.default_rng(seed)
    n = len(runner.tasks)
    return TransferMatrix(runner.tasks, rng.normal(scale=0.05, size=(n, n)) - 0.03)


def test_anchored_policy_keeps_the_current_task_share_and_resumes():
    policy = AnchoredPolicy(make_policy("sec", ["a", "b", "c"], seed=2), "c", 0.6)
    rng = np.random.default_rng(0)
    for _ in range(10):
        weights = policy.weights()
        assert weights["c"] >= 0.6 and sum(weights.values()) == pytest.approx(1.0)
        policy.update({t: TaskSignal(t, float(rng.random()), 0.5, 2) for t in "ab"})
    saved = json.loads(json.dumps(policy.state_dict()))
    again = AnchoredPolicy(make_policy("sec", ["a", "b", "c"], seed=2), "c", 0.6)
    again.load_state_dict(saved)
    assert again.weights() == policy.weights()
    with pytest.raises(InvalidParameterError, match="'state'"):
        AnchoredPolicy(make_policy("sec", ["a", "b", "c"], seed=2), "a", 0.6).load_state_dict(saved)


def test_plan_spends_the_curriculum_budget():
    runner = make_learner(2, 2)
    plan = plan_hybrid(matrix_for(runner), stage_steps=10, order=runner.tasks, refresh_share=0.2)
    assert plan.total_steps == 40
    assert [tasks for tasks, _ in plan.stages] == [runner.tasks[: k + 1] for k in range(4)]
    assert "sec" in plan.describe()


@pytest.mark.parametrize("mode", ["exact", "sampled"])
def test_run_is_deterministic_and_spends_the_plan(mode):
    runner = make_learner(1, 2, mode=mode)
    plan = plan_hybrid(matrix_for(runner, 1), stage_steps=4, order=runner.tasks, policy="tac")
    base = runner.initial_state(seed=0)
    first, second = run_hybrid(runner, base, plan, seed=3), run_hybrid(runner, base, plan, seed=3)
    assert first.state == second.state and first.decisions == second.decisions
    assert first.state.steps == plan.total_steps == 12
    for k, stage in enumerate(first.decisions[1:], start=1):
        for decision in stage:
            assert decision.weights[runner.tasks[k]] >= plan.anchor


def test_plan_from_recommend_when_no_order_is_given():
    runner = make_learner(1, 2)
    plan = plan_hybrid(matrix_for(runner, 2), stage_steps=4)
    assert sorted(plan.order) == sorted(runner.tasks) and plan.reason.startswith("recommend")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"policy": "ucb"}, "'policy'"),
        ({"anchor": 1.0}, "'share'"),
        ({"tau": -1.0}, "'tau'"),
        ({"refresh_share": -0.1}, "'refresh_share'"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, words):
    runner = make_learner(1, 1)
    with pytest.raises(InvalidParameterError, match=words):
        plan_hybrid(matrix_for(runner), stage_steps=4, order=runner.tasks, **kwargs)
    with pytest.raises(InvalidParameterError, match="'current'"):
        AnchoredPolicy(make_policy("sec", ["a"]), "b", 0.5)
