import numpy as np
import pytest

from taskorder import TransferMatrix, evaluate, gem_metrics, predict
from taskorder.exceptions import InvalidParameterError
from tests.instances import random_matrix


def test_predict_by_hand_with_forward_transfer():
    m = TransferMatrix(
        ["a", "b", "c"],
        [[0, -0.1, -0.2], [0.05, 0, -0.3], [0.0, 0.1, 0]],
        forward=[[0, 0.01, 0.02], [0.03, 0, 0.04], [0.05, 0.06, 0]],
        own_scores=[0.5, 0.6, 0.7],
    )
    p = predict(m, ["b", "a", "c"])
    # b: 0.6 + bwt[b,a] + bwt[b,c] = 0.6 + 0.05 - 0.3
    assert p.scores["b"] == pytest.approx(0.35)
    # a: 0.5 + bwt[a,c] + forward[b,a] = 0.5 - 0.2 + 0.03
    assert p.scores["a"] == pytest.approx(0.33)
    # c: 0.7 + forward[b,c] + forward[a,c] = 0.7 + 0.04 + 0.02
    assert p.scores["c"] == pytest.approx(0.76)
    assert p.mean == pytest.approx((0.35 + 0.33 + 0.76) / 3)
    paper = predict(m, ["b", "a", "c"], model="backward_only")
    assert paper.scores["c"] == pytest.approx(0.7)


def test_adjacent_prediction_uses_only_neighbours():
    m = TransferMatrix(["a", "b", "c"], [[0, -0.1, -0.2], [0.05, 0, -0.3], [0.0, 0.1, 0]])
    p = predict(m, ["a", "b", "c"], objective="adjacent")
    assert p.scores == pytest.approx({"a": -0.1, "b": -0.3, "c": 0.0})
    assert p.relative


@pytest.mark.parametrize("objective", ["all_pairs", "adjacent"])
@pytest.mark.parametrize("seed", range(5))
def test_weighted_prediction_equals_objective_plus_own_scores(objective, seed):
    m = random_matrix(6, seed, forward=True)
    m = m.replace(own_scores=np.linspace(0.2, 0.7, 6))
    order = list(np.random.default_rng(seed).permutation(m.tasks))
    p = predict(m, order, objective=objective)
    w = m.weights
    total = sum(w[m.index(t)] * s for t, s in p.scores.items())
    assert total == pytest.approx((w * m.own_scores).sum() + evaluate(m, order, objective))


def test_predict_rejects_unknown_model():
    m = random_matrix(3, 0)
    with pytest.raises(InvalidParameterError, match="'model'"):
        predict(m, m.tasks, model="quadratic")


def test_gem_metrics_by_hand():
    R = [[0.9, 0.1, 0.2], [0.7, 0.8, 0.3], [0.6, 0.5, 0.85]]
    g = gem_metrics(R, baseline=[0.0, 0.05, 0.1])
    assert g.acc == pytest.approx((0.6 + 0.5 + 0.85) / 3)
    assert g.bwt == pytest.approx(((0.6 - 0.9) + (0.5 - 0.8)) / 2)
    assert g.fwt == pytest.approx(((0.1 - 0.05) + (0.3 - 0.1)) / 2)
    assert gem_metrics(R).fwt is None


@pytest.mark.parametrize("bad", [[[1.0]], [[1, 2, 3]], [[1, np.nan], [1, 1]]])
def test_gem_metrics_rejects_bad_matrices(bad):
    with pytest.raises(InvalidParameterError):
        gem_metrics(bad)
