"""Local search: deterministic per seed, never worse than its start, optimal on small cases."""

import numpy as np
import pytest
from solver_cases import brute_force_max_min, constraints_for, honours, random_matrix

from taskorder import InvalidParameterError, solve
from taskorder.solvers import make_problem
from taskorder.solvers.heuristics.local_search import solve_local
from taskorder.solvers.problem import Constraints

OBJECTIVES = ["all_pairs", "adjacent", "max_min"]


def problem_for(matrix, objective, **constraints):
    return make_problem(matrix, objective, Constraints.from_names(matrix, **constraints))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_same_seed_same_answer(objective):
    m = random_matrix(16, 7, forward=True, own=True)
    first = solve(m, method="local", objective=objective, seed=3)
    second = solve(m, method="local", objective=objective, seed=3)
    assert first.order == second.order
    assert first.objective == second.objective
    assert first.extras["rounds"] == second.extras["rounds"]


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", range(3))
def test_never_worse_than_its_start(objective, seed):
    m = random_matrix(30, seed, forward=True, own=True)
    solution = solve_local(problem_for(m, objective), seed=seed, max_rounds=20)
    assert solution.value >= solution.extras["start_value"] - 1e-12
    values = [value for _, value in solution.extras["anytime"]]
    assert values == sorted(values)
    assert values[-1] == pytest.approx(solution.value)


@pytest.mark.parametrize("objective", ["all_pairs", "adjacent"])
@pytest.mark.parametrize("seed", range(4))
def test_reaches_the_optimum_on_small_instances(objective, seed):
    m = random_matrix(9, seed, forward=seed % 2 == 0)
    optimum = solve(m, method="dp", objective=objective).objective
    result = solve(m, method="local", objective=objective, seed=seed)
    assert result.objective == pytest.approx(optimum, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_reaches_the_max_min_optimum_on_small_instances(seed):
    m = random_matrix(7, seed, forward=True, own=True)
    result = solve(m, method="local", objective="max_min", seed=seed)
    assert result.objective == pytest.approx(brute_force_max_min(m), abs=1e-12)


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", range(3))
def test_honours_constraints(objective, seed):
    m = random_matrix(12, seed, forward=True, own=True)
    kwargs = constraints_for(m, seed)
    result = solve(m, method="local", objective=objective, seed=seed, **kwargs)
    assert honours(result.order, **kwargs)
    if objective != "max_min":
        optimum = solve(m, method="dp", objective=objective, **kwargs).objective
        assert result.objective <= optimum + 1e-12


def test_bound_is_valid_and_reported():
    m = random_matrix(10, 1)
    result = solve(m, method="local")
    optimum = solve(m, method="dp").objective
    assert result.bound >= optimum >= result.objective - 1e-12
    assert result.status in ("heuristic", "optimal")
    assert result.extras["bound_kind"].startswith("cheap")


def test_time_limited_run_records_an_anytime_curve():
    rng = np.random.default_rng(0)
    from taskorder import TransferMatrix

    n_tasks = 150
    m = TransferMatrix([f"t{i}" for i in range(n_tasks)], rng.random((n_tasks, n_tasks)))
    result = solve(m, method="local", time_limit=1.0)
    assert result.status == "heuristic"
    assert result.anytime and all(0 <= t <= result.elapsed_s for t, _ in result.anytime)
    assert result.extras["stop_reason"] == "time_limit"
    assert result.objective >= result.baselines["rank_rule"]
    assert result.bound > result.objective and result.gap > 0


@pytest.mark.parametrize("name, value", [("max_rounds", 0), ("patience", -3), ("max_rounds", 1.5)])
def test_bad_parameters_name_parameter_expected_and_received(name, value):
    problem = problem_for(random_matrix(5, 0), "all_pairs")
    with pytest.raises(InvalidParameterError, match=rf"'{name}'.*positive integer.*{value}"):
        solve_local(problem, **{name: value})


def test_constraints_given_as_masks_alone_are_honoured_by_the_memetic_search():
    """``empty`` reads the mask (where first, last and before are folded): a Constraints
    built from ``predecessors`` alone is not empty, and the memetic repair keeps it."""
    from taskorder.solvers.heuristics.budget import Budget
    from taskorder.solvers.heuristics.memetic import memetic_linear_ordering
    from taskorder.solvers.problem import Constraints, Problem

    n_tasks = 60
    rng = np.random.default_rng(3)
    weights = rng.integers(0, 100, (n_tasks, n_tasks)).astype(float)
    np.fill_diagonal(weights, 0.0)
    predecessors = [0] * n_tasks
    predecessors[5] = 1 << 7  # task 7 before task 5
    constraints = Constraints(n_tasks, predecessors=tuple(predecessors))
    assert not constraints.empty and Constraints(n_tasks, predecessors=(0,) * n_tasks).empty
    start = [7, *[t for t in range(n_tasks) if t != 7]]
    budget = Budget(time_limit=None, max_rounds=300, patience=300)
    order, _ = memetic_linear_ordering(
        Problem(weights, "all_pairs", constraints), [start], budget, np.random.default_rng(0)
    )
    assert constraints.satisfied_by(order)
