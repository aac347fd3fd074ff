"""MIP and CP-SAT agree with the subset DP / brute force on seeded random instances."""

import pytest
from solver_cases import HAND_SOLVED, brute_force_max_min, constraints_for, honours, random_matrix

from taskorder import evaluate, solve

pytest.importorskip("ortools")

PAIR_OBJECTIVES = ["all_pairs", "adjacent"]


@pytest.mark.parametrize(
    "bwt, objective, order, value, method",
    [
        (*case, method)
        for case in HAND_SOLVED
        for method in ("cpsat", "ilp", "local")
        if not (method == "ilp" and case[1] == "adjacent")  # the MIP has no path model
    ],
)
def test_hand_solved(bwt, objective, order, value, method):
    from taskorder import TransferMatrix

    result = solve(TransferMatrix(["a", "b", "c"], bwt), method=method, objective=objective)
    assert (result.order, result.objective) == (order, value)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_tasks", [4, 7, 9])
def test_ilp_and_cpsat_equal_dp_all_pairs(n_tasks, seed):
    m = random_matrix(n_tasks, seed, forward=seed % 2 == 1)
    optimum = solve(m, method="dp").objective
    for method in ("ilp", "cpsat"):
        result = solve(m, method=method)
        assert result.status == "optimal"
        assert result.objective == pytest.approx(optimum, abs=1e-9)
        assert result.objective == pytest.approx(evaluate(m, result.order), abs=1e-12)
        assert result.bound >= result.objective
        # float weights are rounded for the proof; the slack is recorded and tiny
        assert result.extras["rounding_error_bound"] < 1e-4 * max(1.0, abs(optimum))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_tasks", [5, 8])
def test_cpsat_equals_dp_adjacent(n_tasks, seed):
    m = random_matrix(n_tasks, seed, forward=True)
    optimum = solve(m, method="dp", objective="adjacent").objective
    result = solve(m, method="cpsat", objective="adjacent")
    assert result.status == "optimal"
    assert result.objective == pytest.approx(optimum, abs=1e-9)


@pytest.mark.parametrize("objective", PAIR_OBJECTIVES)
@pytest.mark.parametrize("seed", range(4))
def test_exact_methods_with_constraints(objective, seed):
    m = random_matrix(8, seed, integer=True)
    kwargs = constraints_for(m, seed)
    optimum = solve(m, method="brute", objective=objective, **kwargs).objective
    methods = ["cpsat"] + (["ilp"] if objective == "all_pairs" else [])
    for method in methods:
        result = solve(m, method=method, objective=objective, **kwargs)
        assert honours(result.order, **kwargs)
        assert result.status == "optimal"
        assert result.objective == optimum
        assert result.bound == result.objective  # integer data: no rounding slack


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("constrained", [False, True])
def test_max_min_exact_methods_equal_brute_force(seed, constrained):
    m = random_matrix(6, seed, forward=True, own=True)
    kwargs = constraints_for(m, seed) if constrained else {}
    optimum = brute_force_max_min(m, **kwargs)
    for method in ("ilp", "cpsat"):
        result = solve(m, method=method, objective="max_min", **kwargs)
        assert result.status == "optimal"
        assert honours(result.order, **kwargs)
        assert result.objective == pytest.approx(optimum, abs=1e-9)
        assert result.objective == pytest.approx(min(result.predicted.values()), abs=1e-12)


def test_max_min_without_own_scores_maximises_the_worst_change():
    m = random_matrix(6, 3)
    result = solve(m, method="ilp", objective="max_min")
    assert result.objective == pytest.approx(brute_force_max_min(m), abs=1e-9)
    assert result.objective == pytest.approx(min(result.predicted.values()), abs=1e-12)
