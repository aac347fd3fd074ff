"""Entropy-aware ordering: floors are exact constraints, weights trade score for entropy."""

import numpy as np
import pytest

from taskorder import ConstraintError, InvalidParameterError, TransferMatrix, solve
from taskorder.solvers.entropy import entropy_floors, predict_entropy
from tests.instances import random_matrix


def entropy_matrix(scores, seed):
    rng = np.random.default_rng(seed)
    n = scores.n_tasks
    return TransferMatrix(
        scores.tasks,
        rng.normal(0, 0.3, (n, n)),
        forward=rng.normal(0, 0.2, (n, n)),
        own_scores=rng.uniform(0.3, 1.2, n),
    )


def test_predict_entropy_additive():
    e = TransferMatrix(
        ["a", "b", "c"],
        [[0, -0.1, 0.4], [0.2, 0, -0.3], [0, 0, 0]],
        forward=[[0, 0.05, 0], [0, 0, 0.1], [0.2, 0, 0]],
        own_scores=[1, 1, 1],
    )
    pred = predict_entropy(e, ["b", "a", "c"])
    assert pred["a"] == pytest.approx(1 + 0.4 + 0.0)  # bwt[a,c] + forward[b,a]
    assert pred["b"] == pytest.approx(1 + 0.2 - 0.3)
    assert pred["c"] == pytest.approx(1 + 0.1 + 0.0)


@pytest.mark.parametrize("seed", range(8))
def test_floor_dp_equals_brute_and_is_respected(seed):
    m = random_matrix(7, seed)
    e = entropy_matrix(m, seed)
    free = solve(m, method="dp", entropy=e)
    task = min(free.entropy.predicted, key=free.entropy.predicted.get)
    floors = entropy_floors(e, {task: -100})
    best = floors[0].best_possible()
    floor = (free.entropy.predicted[task] + best) / 2  # binds: the free optimum breaks it
    dp = solve(m, method="dp", entropy=e, entropy_floor={task: floor})
    brute = solve(m, method="brute", entropy=e, entropy_floor={task: floor})
    assert dp.objective == pytest.approx(brute.objective)
    assert dp.entropy.predicted[task] >= floor - 1e-9
    assert dp.objective <= free.objective + 1e-9


def test_unreachable_floor_is_a_clear_error():
    m = random_matrix(5, 0)
    e = entropy_matrix(m, 0)
    with pytest.raises(ConstraintError, match="most any order reaches"):
        solve(m, entropy=e, entropy_floor={"t0": 99.0})
    with pytest.raises(ConstraintError, match="unknown task"):
        solve(m, entropy=e, entropy_floor={"zzz": 0.1})


def test_floors_combined_with_precedence_can_be_infeasible():
    m = random_matrix(4, 1)
    bwt = np.zeros((4, 4))
    bwt[0, 1] = -1.0
    e = TransferMatrix(m.tasks, bwt, own_scores=[0.5] * 4)
    # t0 keeps entropy 0.5 only if t1 is trained before it; forcing t0 first makes it impossible
    with pytest.raises(ConstraintError, match="No order satisfies"):
        solve(m, method="dp", entropy=e, entropy_floor={"t0": 0.4}, first="t0")
    ok = solve(m, method="dp", entropy=e, entropy_floor={"t0": 0.4})
    assert ok.order.index("t1") < ok.order.index("t0")


def test_entropy_weight_trades_score_for_entropy():
    m = random_matrix(6, 3)
    e = entropy_matrix(m, 3)
    plain = solve(m, entropy=e)
    heavy = solve(m, entropy=e, entropy_weight={"t2": 1000.0})
    assert heavy.entropy.predicted["t2"] >= plain.entropy.predicted["t2"] - 1e-9
    assert heavy.entropy.predicted["t2"] == pytest.approx(
        entropy_floors(e, {"t2": -100})[0].best_possible()
    )
    assert heavy.entropy.score_objective + heavy.entropy.entropy_objective == pytest.approx(
        heavy.objective
    )


def test_bad_combinations():
    m = random_matrix(4, 0)
    e = entropy_matrix(m, 0)
    with pytest.raises(InvalidParameterError, match="'entropy'"):
        solve(m, entropy_floor={"t0": 0.1})
    with pytest.raises(ConstraintError, match="subset DP and brute force only"):
        solve(m, method="rank", entropy=e, entropy_floor={"t0": -5})
    with pytest.raises(InvalidParameterError, match="all_pairs"):
        solve(m, objective="adjacent", entropy=e, entropy_floor={"t0": -5})
    with pytest.raises(Exception, match="same tasks"):
        solve(m, entropy=random_matrix(4, 1).replace(tasks=list("abcd")), entropy_floor={"a": 0})


def test_multiplicative_model_scales_and_never_goes_negative():
    e = TransferMatrix(
        ["a", "b", "c"],
        [[0, -0.5, -0.9], [0.2, 0, -0.3], [0, 0, 0]],
        forward=[[0, 5.0, 0], [0, 0, 5.0], [5.0, 0, 0]],
        own_scores=[1, 0.6, 0.4],
    )
    additive = predict_entropy(e, ["a", "b", "c"])
    assert additive["a"] == pytest.approx(1 - 0.5 - 0.9)  # negative: impossible
    scaled = predict_entropy(e, ["a", "b", "c"], model="multiplicative")
    assert scaled["a"] == pytest.approx(1 * 0.5 * 0.1)  # (1-0.5)/1 and (1-0.9)/1
    assert scaled["b"] == pytest.approx(0.6 * (0.3 / 0.6))  # forward transfer is not used
    assert scaled["c"] == pytest.approx(0.4)
    assert all(v > 0 for v in predict_entropy(e, ["a", "b", "c"], model="multiplicative").values())


@pytest.mark.parametrize("seed", range(6))
def test_multiplicative_floor_is_exact_and_respected(seed):
    m = random_matrix(6, seed)
    rng = np.random.default_rng(seed)
    own = rng.uniform(0.3, 1.2, 6)
    e = TransferMatrix(m.tasks, rng.uniform(-0.25, 0.25, (6, 6)) * own[:, None], own_scores=own)
    free = solve(m, method="dp", entropy=e, entropy_model="multiplicative")
    predicted = free.entropy.predicted
    task = min(predicted, key=predicted.get)
    floor = predicted[task] * 1.1
    try:
        dp = solve(
            m, method="dp", entropy=e, entropy_floor={task: floor}, entropy_model="multiplicative"
        )
    except ConstraintError as error:
        assert "multiplicative model" in str(error) and "nats" in str(error)
        return
    brute = solve(
        m, method="brute", entropy=e, entropy_floor={task: floor}, entropy_model="multiplicative"
    )
    assert dp.objective == pytest.approx(brute.objective)
    assert dp.entropy.predicted[task] >= floor - 1e-9
    assert dp.order == tuple(dp.order) and dp.objective <= free.objective + 1e-9


def test_multiplicative_model_errors():
    m = random_matrix(4, 0)
    e = entropy_matrix(m, 0).replace(bwt=np.zeros((4, 4)))
    with pytest.raises(ConstraintError, match=r"multiplicative model.*most any order reaches"):
        solve(m, entropy=e, entropy_floor={"t0": 50.0}, entropy_model="multiplicative")
    with pytest.raises(InvalidParameterError, match="entropy_model='additive' only"):
        solve(m, entropy=e, entropy_weight=1.0, entropy_model="multiplicative")
    with pytest.raises(InvalidParameterError, match="'entropy_model'"):
        solve(m, entropy=e, entropy_model="log")
    # A floor at or below zero always holds under a model that never goes negative.
    assert solve(m, entropy=e, entropy_floor={"t0": 0.0}, entropy_model="multiplicative").order
