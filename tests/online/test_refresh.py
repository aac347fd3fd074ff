"""Refresh planning: within budget, the model's optimum, totals preserved, errors."""

import itertools

import numpy as np
import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.online import plan_refresh, with_refresh


def random_matrix(rng, n, stderr=False):
    tasks = [f"t{i}" for i in range(n)]
    bwt = rng.normal(scale=0.05, size=(n, n)) - 0.02
    se = np.full((n, n), 0.01) if stderr else None
    return TransferMatrix(tasks, bwt, bwt_stderr=se)


@pytest.mark.parametrize("seed", range(20))
def test_plans_stay_within_budget_and_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5))
    matrix = random_matrix(rng, n, stderr=bool(seed % 2))
    order = [matrix.tasks[i] for i in rng.permutation(n)]
    stage_steps, budget, min_steps = 4, int(rng.integers(0, 10)), int(rng.integers(1, 3))
    plan = plan_refresh(
        matrix, order, budget_steps=budget, stage_steps=stage_steps, min_steps=min_steps, z=1.0
    )
    assert plan.total_steps <= budget and plan.unused_steps >= 0
    assert order[-1] not in dict(plan.stages)
    assert [t for t, _ in plan.stages] == [t for t in order if t in dict(plan.stages)]
    for task, steps in plan.stages:
        assert min_steps <= steps <= stage_steps
        assert plan.predicted[task]["net"] > 0
    eligible = [
        t for t in order[:-1]
        if plan.predicted[t]["net"] > 0
        and plan.predicted[t]["forgetting"] > max(0.0, plan.predicted[t]["forgetting_stderr"])
    ]  # fmt: skip
    choices = [0, *range(min_steps, stage_steps + 1)]
    best = 0.0
    for steps in itertools.product(choices, repeat=len(eligible)):
        if sum(steps) <= budget:
            value = sum(s / stage_steps * plan.predicted[t]["net"] for s, t in zip(steps, eligible))
            best = max(best, value)
    assert plan.predicted_gain == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_with_refresh_keeps_the_total(seed):
    rng = np.random.default_rng(100 + seed)
    matrix = random_matrix(rng, 4)
    order = list(matrix.tasks)
    share = float(rng.choice([0.0, 0.1, 0.25, 0.5]))
    main, plan = with_refresh(matrix, order, stage_steps=10, refresh_share=share)
    assert [t for t, _ in main] == order
    assert sum(s for _, s in main) + plan.total_steps == 40


def test_nothing_to_refresh_when_later_training_helps():
    matrix = TransferMatrix(["a", "b", "c"], np.full((3, 3), 0.05))
    plan = plan_refresh(matrix, ["a", "b", "c"], budget_steps=30, stage_steps=10)
    assert plan.stages == () and plan.unused_steps == 30
    assert "no task" in plan.reason


def test_noise_keeps_small_forgetting_out():
    bwt = [[0, -0.01], [0, 0]]
    quiet = TransferMatrix(["a", "b"], bwt, bwt_stderr=[[0, 0.001], [0.001, 0]])
    noisy = TransferMatrix(["a", "b"], bwt, bwt_stderr=[[0, 0.05], [0.05, 0]])
    assert plan_refresh(quiet, ["a", "b"], budget_steps=5, stage_steps=10).stages == (("a", 5),)
    assert plan_refresh(noisy, ["a", "b"], budget_steps=5, stage_steps=10).stages == ()
    assert plan_refresh(noisy, ["a", "b"], budget_steps=5, stage_steps=10, z=0).stages


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"order": ["a"]}, "'order'"),
        ({"budget_steps": -1}, "'budget_steps'"),
        ({"stage_steps": 0}, "'stage_steps'"),
        ({"min_steps": 0}, "'min_steps'"),
        ({"z": -1.0}, "'z'"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, words):
    matrix = TransferMatrix(["a", "b"], [[0, -0.1], [0, 0]])
    args = {"order": ["a", "b"], "budget_steps": 4, "stage_steps": 10, **kwargs}
    with pytest.raises(InvalidParameterError, match=words):
        plan_refresh(matrix, **args)
    with pytest.raises(InvalidParameterError, match="'refresh_share'"):
        with_refresh(matrix, ["a", "b"], stage_steps=10, refresh_share=1.0)
