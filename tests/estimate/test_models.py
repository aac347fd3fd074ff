import itertools

import numpy as np
import pytest

from taskorder import TransferMatrix, predict, solve
from taskorder.exceptions import InvalidMatrixError, InvalidParameterError
from taskorder.model import MODELS, predict_many


def random_matrix(n, seed, own=True):
    rng = np.random.default_rng(seed)
    return TransferMatrix(
        [f"t{k}" for k in range(n)],
        rng.normal(-0.05, 0.1, (n, n)),
        forward=rng.normal(0, 0.05, (n, n)),
        weights=rng.uniform(0.5, 2, n),
        own_scores=rng.uniform(0.4, 0.9, n) if own else None,
    )


def test_multiplicative_model_by_hand():
    m = TransferMatrix(
        ["a", "b", "c"],
        [[0, -0.2, -0.3], [0.1, 0, -0.5], [0, 0, 0]],
        forward=[[0, 0.1, 0.1], [0.1, 0, 0.1], [0.1, 0.1, 0]],
        own_scores=[0.5, 0.4, 0.8],
    )
    p = predict(m, ["a", "b", "c"], model="multiplicative")
    # a keeps (0.5-0.2)/0.5 under b and (0.5-0.3)/0.5 under c; forward is ignored.
    assert p.scores["a"] == pytest.approx(0.5 * 0.6 * 0.4)
    # b loses more than it has under c: retention clipped at 0.
    assert p.scores["b"] == pytest.approx(0.0)
    assert p.scores["c"] == pytest.approx(0.8)
    adjacent = predict(m, ["a", "b", "c"], model="multiplicative", objective="adjacent")
    assert adjacent.scores["a"] == pytest.approx(0.5 * 0.6)
    # One later task: identical to the additive backward-only prediction.
    two = m.subset(["a", "b"])
    assert predict(two, ["a", "b"], model="multiplicative").scores == pytest.approx(
        predict(two, ["a", "b"], model="backward_only").scores
    )


def test_multiplicative_needs_positive_own_scores():
    with pytest.raises(InvalidMatrixError, match="own-stage score"):
        predict(random_matrix(3, 0, own=False), ["t0", "t1", "t2"], model="multiplicative")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("objective", ["all_pairs", "adjacent"])
def test_vectorised_predictions_equal_predict(model, objective):
    m = random_matrix(5, 3)
    perms = np.array(list(itertools.permutations(range(5)))[::7])
    many = predict_many(m, perms, objective=objective, model=model)
    for row, perm in zip(many, perms):
        scores = predict(m, [m.tasks[t] for t in perm], objective=objective, model=model).scores
        assert row == pytest.approx([scores[t] for t in m.tasks])


@pytest.mark.parametrize("seed", range(4))
def test_best_order_enumeration_is_the_brute_force_optimum(seed):
    m = random_matrix(5, seed)
    result = solve(m, model="multiplicative")
    best = max(
        predict(m, order, model="multiplicative").mean for order in itertools.permutations(m.tasks)
    )
    assert result.status == "optimal" and result.method == "dp"  # the multiplicative subset DP
    assert result.predicted_mean == pytest.approx(best)
    # objective: the weighted predicted change, sum_i w_i (final_i - own_i) (OBJECTIVE_NAMES)
    assert result.objective == pytest.approx(m.weights.sum() * best - m.weights @ m.own_scores)
    assert result.baselines["random_mean"] <= best


@pytest.mark.parametrize("seed", range(3))
def test_local_search_is_valid_and_no_worse_than_its_starts(seed):
    m = random_matrix(9, seed)
    result = solve(m, model="multiplicative", method="local", time_limit=2.0, seed=seed)
    assert result.status == "heuristic" and sorted(result.order) == sorted(m.tasks)
    start = solve(m.replace(forward=None), method="rank").order
    assert result.predicted_mean >= predict(m, start, model="multiplicative").mean - 1e-12
    assert result.objective >= result.baselines["rank_rule"] - 1e-12
    assert result.predicted_mean == pytest.approx(
        predict(m, result.order, model="multiplicative").mean
    )


def test_multiplicative_solve_honours_constraints_and_linear_models_match():
    m = random_matrix(6, 1)
    result = solve(m, model="multiplicative", first="t3", before=[("t5", "t0")])
    assert result.order[0] == "t3" and result.order.index("t5") < result.order.index("t0")
    assert solve(m, model="additive").order == solve(m).order
    paper = solve(m, model="backward_only")
    assert paper.order == solve(m.replace(forward=None)).order
    assert paper.model == "backward_only"
    with pytest.raises(InvalidParameterError, match="'model'"):
        solve(m, model="quadratic")
    with pytest.raises(InvalidParameterError, match="'method'"):
        solve(m, model="multiplicative", method="ilp")
