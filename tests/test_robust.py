"""Noise-aware ordering: confidence of the answer and risk-averse choices."""

import itertools
from dataclasses import replace

import numpy as np
import pytest

from taskorder import InvalidParameterError, TransferMatrix, evaluate, solve
from taskorder.solvers.robust import sample_matrices
from tests.instances import random_matrix

# Order a->b collects bwt[a, b] = 1.0 (very uncertain); b->a collects bwt[b, a] = 0.9 (certain).
RISKY = TransferMatrix(["a", "b"], [[0, 1.0], [0.9, 0]], bwt_stderr=[[0, 2.0], [0.01, 0]])


def test_point_estimate_prefers_the_risky_order_but_the_quantile_choice_does_not():
    assert solve(RISKY).order == ("a", "b")
    mean = solve(RISKY, n_samples=400, risk="mean", seed=0)
    assert mean.order == ("a", "b")
    careful = solve(RISKY, n_samples=400, risk="quantile", quantile=0.1, seed=0)
    assert careful.order == ("b", "a")
    rows = {r.order: r for r in careful.robustness.candidates}
    assert rows[("a", "b")].quantile_value < 0 < rows[("b", "a")].quantile_value
    # P(a->b optimal) = P(N(1, 2) > N(0.9, 0.01)) ~ 0.52
    assert rows[("a", "b")].p_optimal == pytest.approx(0.52, abs=0.07)
    assert careful.status == "heuristic" and careful.objective == pytest.approx(0.9)


def test_p_optimal_matches_exhaustive_count():
    m = random_matrix(5, 3).replace(bwt_stderr=np.full((5, 5), 0.4))
    result = solve(m, n_samples=60, seed=2, risk="probability")
    draws = sample_matrices(m, 60, seed=2)
    perms = list(itertools.permutations(m.tasks))
    winners = [max(perms, key=lambda p: evaluate(d, p)) for d in draws]
    frequency = winners.count(result.order) / len(draws)
    assert result.robustness.p_optimal == pytest.approx(frequency)
    assert result.robustness.p_optimal == max(r.p_optimal for r in result.robustness.candidates)


def test_bootstrap_samples_and_same_seed_same_answer():
    m = random_matrix(6, 1)
    samples = [
        m.replace(bwt=m.bwt + 0.3 * np.random.default_rng(k).normal(size=m.bwt.shape))
        for k in range(30)
    ]
    a = solve(m, samples=samples, risk="quantile")
    b = solve(m, samples=samples, risk="quantile")
    assert a.order == b.order and a.robustness.n_samples == 30
    assert 0 < a.robustness.p_optimal <= 1 and a.robustness.gaussian is False


def test_constraints_are_kept():
    m = random_matrix(6, 4).replace(bwt_stderr=np.full((6, 6), 0.5))
    result = solve(m, n_samples=40, risk="quantile", first="t3", seed=1)
    assert result.order[0] == "t3"
    assert all(r.order[0] == "t3" for r in result.robustness.candidates)


def test_bad_inputs():
    with pytest.raises(InvalidParameterError, match="standard errors"):
        solve(random_matrix(3, 0), risk="mean")
    with pytest.raises(InvalidParameterError, match="'risk'"):
        solve(RISKY, risk="yolo")
    with pytest.raises(InvalidParameterError, match="'quantile'"):
        solve(RISKY, risk="quantile", quantile=1.5)
    with pytest.raises(InvalidParameterError, match="tasks"):
        solve(RISKY, samples=[random_matrix(2, 0), random_matrix(2, 1)])


def test_risk_keywords_are_the_spec_fields():
    from taskorder.solvers import ProblemSpec

    keywords = solve(RISKY, n_samples=50, risk="quantile", seed=3)
    direct = solve(RISKY, ProblemSpec(risk="quantile", n_samples=50), seed=3)
    assert replace(keywords, elapsed_s=0) == replace(direct, elapsed_s=0)


@pytest.mark.parametrize("objective", ["all_pairs", "adjacent", "max_min"])
def test_every_objective_under_noise_scores_candidates_by_that_objective(objective):
    from taskorder.solvers import ProblemSpec

    m = random_matrix(5, 6).replace(bwt_stderr=np.full((5, 5), 0.3))
    result = solve(m, ProblemSpec(objective=objective, risk="quantile", n_samples=30), seed=4)
    chosen = result.robustness.candidates[0]
    assert chosen.order == result.order and result.objective == pytest.approx(chosen.point_value)
    assert result.objective_name == objective and result.method.startswith("robust[")
    draws = sample_matrices(m, 30, seed=4)
    again = [solve(d, objective=objective).objective for d in draws]
    # each candidate's p_optimal compares it with each draw's own optimum
    assert all(0 <= r.p_optimal <= 1 for r in result.robustness.candidates)
    assert max(r.mean for r in result.robustness.candidates) <= np.mean(again) + 1e-9


def test_max_min_under_noise_is_not_ranked_by_the_point_value():
    """max_min is not linear in the matrix, so risk='mean' uses the sample mean."""
    from taskorder.solvers import ProblemSpec

    m = random_matrix(4, 8).replace(bwt_stderr=np.full((4, 4), 0.8))
    result = solve(m, ProblemSpec(objective="max_min", risk="mean", n_samples=40), seed=0)
    means = [r.mean for r in result.robustness.candidates]
    assert means == sorted(means, reverse=True)
