"""Anytime search keeps going until its budget ends; the iterated insertion baseline."""

import numpy as np
import pytest
from solver_cases import constraints_for, honours, random_matrix

from taskorder import TransferMatrix, solve
from taskorder.solvers import make_problem
from taskorder.solvers.heuristics.background import HelperSearch
from taskorder.solvers.heuristics.budget import Budget
from taskorder.solvers.heuristics.insertion_restarts import iterated_insertion
from taskorder.solvers.heuristics.local_search import constructive_starts, solve_local
from taskorder.solvers.problem import Constraints


def problem_for(matrix, **constraints):
    return make_problem(matrix, "all_pairs", Constraints.from_names(matrix, **constraints))


def integer_matrix(n_tasks, seed):
    """Uniform random integers: the cheap bound is never met, the landscape is flat."""
    rng = np.random.default_rng(seed)
    return TransferMatrix(
        [f"t{i}" for i in range(n_tasks)], rng.integers(0, 100, (n_tasks, n_tasks))
    )


@pytest.mark.parametrize("n_tasks, seed", [(6, 0), (8, 1), (12, 2)])
def test_memetic_search_runs_until_its_time_limit(n_tasks, seed):
    # a population that collapses used to end the search early with "search space
    # exhausted" (these three did); now it restarts and stops at the time limit
    solution = solve_local(problem_for(integer_matrix(n_tasks, seed)), time_limit=0.3, seed=0)
    assert solution.status == "heuristic"
    assert solution.extras["stop_reason"] == "time_limit"


def test_memetic_search_without_time_limit_stops_on_patience():
    solution = solve_local(problem_for(random_matrix(8, 2)), seed=0)
    assert solution.extras["stop_reason"].startswith("no improvement") or (
        solution.status == "optimal"
    )


@pytest.mark.slow
def test_helper_search_frees_its_core_after_its_patience():
    from taskorder.solvers.heuristics.background import HELPER_PATIENCE_FACTOR
    from taskorder.solvers.heuristics.local_search import DEFAULT_PATIENCE

    helper = HelperSearch(problem_for(integer_matrix(12, 2)), time_limit=60.0, seed=0)
    helper._thread.join()
    patience = HELPER_PATIENCE_FACTOR * DEFAULT_PATIENCE["all_pairs"]
    assert helper.budget.stop_reason == f"no improvement in {patience} rounds"
    helper.stop()


@pytest.mark.parametrize("seed", range(3))
def test_iterated_insertion_never_worse_than_its_start_and_seeded(seed):
    problem = problem_for(random_matrix(30, seed, forward=True))
    starts = constructive_starts(problem)
    runs = [
        iterated_insertion(
            problem, starts, Budget(time_limit=None, max_rounds=30), np.random.default_rng(seed)
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    order, value = runs[0]
    assert sorted(order) == list(range(30))
    assert value == pytest.approx(problem.value(order))
    assert value >= max(problem.value(s) for s in starts) - 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_iterated_insertion_reaches_the_optimum_and_honours_constraints(seed):
    m = random_matrix(9, seed)
    kwargs = constraints_for(m, seed)
    problem = problem_for(m, **kwargs)
    order, value = iterated_insertion(
        problem,
        constructive_starts(problem),
        Budget(time_limit=None, max_rounds=300),
        np.random.default_rng(seed),
    )
    names = tuple(m.tasks[t] for t in order)
    assert honours(names, **kwargs)
    assert value == pytest.approx(solve(m, method="dp", **kwargs).objective, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_full_three_cycle_model_agrees_with_the_dp(seed):
    pytest.importorskip("ortools")
    from taskorder.solvers.exact.ilp import solve_ilp

    m = random_matrix(9, seed)
    kwargs = constraints_for(m, seed)
    solution = solve_ilp(problem_for(m, **kwargs), rows="full")
    assert solution.status == "optimal"
    assert solution.extras["rows"] == "full" and solution.extras["cuts"] == 84  # C(9, 3)
    assert solution.value == pytest.approx(solve(m, method="dp", **kwargs).objective, abs=1e-9)


def test_full_rows_parameter_is_checked():
    from taskorder import InvalidParameterError
    from taskorder.solvers.exact.ilp import solve_ilp

    with pytest.raises(InvalidParameterError, match="'rows'.*'lazy' or 'full'.*'all'"):
        solve_ilp(problem_for(random_matrix(5, 0)), rows="all")


def test_solver_share_of_the_time_limit():
    from taskorder.solvers import POST_SECONDS_PER_CELL, _solver_time_limit

    assert _solver_time_limit(None, 1.0, 100) is None
    expected = 10.0 - 0.5 - POST_SECONDS_PER_CELL * 100**2
    assert _solver_time_limit(10.0, 0.5, 100) == pytest.approx(expected)
    assert _solver_time_limit(2.0, 1.9, 2000) == pytest.approx(1.0)  # never below half


@pytest.mark.parametrize("n_tasks", [700, 40])
def test_local_search_picks_its_engine_by_size(n_tasks, monkeypatch):
    from taskorder.solvers.heuristics import local_search

    called = []
    monkeypatch.setattr(
        local_search, "iterated_insertion", lambda *a, **k: called.append("ils") or (a[1][0], 0)
    )
    monkeypatch.setattr(
        local_search,
        "memetic_linear_ordering",
        lambda *a, **k: called.append("memetic") or (a[1][0], 0),
    )
    local_search.solve_local(problem_for(random_matrix(n_tasks, 0)), max_rounds=1)
    assert called == (["ils"] if n_tasks >= local_search.ITERATED_MIN_TASKS else ["memetic"])


@pytest.mark.parametrize("limit_factor, arm", [(0.0, "memetic"), (1e12, "iterated insertion")])
def test_time_limited_local_search_picks_its_arm_from_the_first_descent(
    limit_factor, arm, monkeypatch
):
    """With a time limit the arm follows the measured first descent: memetic when the
    time left buys MEMETIC_MIN_DESCENTS descents, else iterated; extras say which."""
    from taskorder.solvers.heuristics import local_search

    monkeypatch.setattr(local_search, "MEMETIC_MIN_DESCENTS", limit_factor)
    solution = solve_local(problem_for(integer_matrix(30, 0)), time_limit=0.3, max_rounds=3)
    assert solution.extras["local_arm"].startswith(arm)
    assert "first descent" in solution.extras["local_arm"]


def test_small_instance_with_a_time_limit_runs_the_memetic_search():
    solution = solve_local(problem_for(integer_matrix(40, 1)), time_limit=0.5, max_rounds=5)
    assert solution.extras["local_arm"].startswith("memetic")


@pytest.mark.parametrize("seed", range(4))
def test_insertion_table_stays_exact_after_moves(seed):
    """Rows kept by task: after random moves (and descents) the table equals a fresh one,
    its value is the recomputed objective, and every gain is the recomputed change."""
    from taskorder.objectives import order_value
    from taskorder.solvers.heuristics.insertion import InsertionTable

    rng = np.random.default_rng(seed)
    n_tasks = 9
    weights = rng.integers(0, 20, (n_tasks, n_tasks)).astype(float)
    np.fill_diagonal(weights, 0.0)
    table = InsertionTable(weights, rng.permutation(n_tasks))
    for step in range(30):
        p, column = int(rng.integers(n_tasks)), int(rng.integers(n_tasks + 1))
        before = table.order.tolist()
        gain = table.gain(p, column)
        table.move(p, column)
        after = table.order.tolist()
        assert table.value == pytest.approx(order_value(weights, after, "all_pairs"))
        assert gain == pytest.approx(
            order_value(weights, after, "all_pairs") - order_value(weights, before, "all_pairs")
        )
        if step % 10 == 9:
            table.descend()
        fresh = InsertionTable(weights, table.order)
        np.testing.assert_allclose(table.prefix, fresh.prefix, atol=1e-9)
        target, gains = table.best_moves()
        np.testing.assert_allclose(gains, fresh.best_moves()[1], atol=1e-9)
        assert (gains >= -1e-9).all() and target.shape == (n_tasks,)
