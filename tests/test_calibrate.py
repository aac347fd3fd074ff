"""Calibrated outcome model: exact posterior, and a search that overcomes a wrong prior."""

import itertools

import numpy as np
import pytest

from taskorder import InvalidParameterError, TransferMatrix, solve
from taskorder.calibrate import PrecedenceModel, calibrated_search, precedence_features


def linear_world(n, seed):
    """A ground truth linear in precedence features (test fixture for the search itself)."""
    rng = np.random.default_rng(seed)
    beta = rng.normal(0, 1, n * (n - 1) // 2)
    tasks = [f"t{k}" for k in range(n)]

    def outcome(order):
        return float(0.5 + beta @ precedence_features([tasks.index(t) for t in order], n))

    # the matrix whose additive prediction equals the truth (up to a constant)
    weights = np.zeros((n, n))
    i, j = np.triu_indices(n, k=1)
    weights[i, j], weights[j, i] = beta * n, -beta * n
    return tasks, outcome, TransferMatrix(tasks, weights)


def test_probe_prior_alone_reproduces_the_additive_ranking():
    tasks, outcome, exact_prior = linear_world(5, 0)
    model = PrecedenceModel(exact_prior).fit([], [])
    orders = list(itertools.permutations(range(5)))
    predicted = [model.predict(o)[0] for o in orders]
    truth = [outcome([tasks[k] for k in o]) for o in orders]
    assert np.corrcoef(predicted, truth)[0, 1] > 0.999


def test_posterior_learns_the_truth_from_curricula():
    tasks, outcome, prior = linear_world(5, 1)
    wrong = prior.replace(bwt=-prior.bwt)  # a prior pointing the wrong way
    rng = np.random.default_rng(0)
    orders = [list(rng.permutation(5)) for _ in range(40)]
    y = [outcome([tasks[k] for k in o]) for o in orders]
    model = PrecedenceModel(wrong, noise_sd=0.01).fit(orders, y)
    assert model.mean_[1] < 0  # the probe scale flipped sign
    best = solve(model.as_matrix()).order
    assert best == solve(prior).order


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_search_overcomes_a_wrong_prior(seed):
    tasks, outcome, prior = linear_world(5, seed)
    wrong = prior.replace(bwt=-prior.bwt)
    search = calibrated_search(wrong, lambda o: (outcome(o), 0.0), n_curricula=8, seed=seed)
    all_values = sorted(outcome(p) for p in itertools.permutations(tasks))
    rank = np.searchsorted(all_values, outcome(search.order), side="right") / len(all_values)
    prior_rank = np.searchsorted(all_values, outcome(solve(wrong).order), side="right") / len(all_values)
    assert prior_rank < 0.05 and rank >= 0.9
    assert len(search.observed) == 8
    assert outcome(search.best_observed) == max(r["outcome"] for r in search.observed)


def test_search_is_deterministic_and_validates():
    tasks, outcome, prior = linear_world(4, 3)
    a = calibrated_search(prior, lambda o: (outcome(o), 0.0), n_curricula=3, seed=1)
    b = calibrated_search(prior, lambda o: (outcome(o), 0.0), n_curricula=3, seed=1)
    assert a.order == b.order and a.observed == b.observed
    with pytest.raises(InvalidParameterError):
        calibrated_search(prior, lambda o: (0.0, 0.0), n_curricula=0)
