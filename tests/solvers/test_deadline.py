"""The time limit as a wall-clock deadline at large n: fixed costs after the search are
one O(n^2) pass each, and the faster passes give the same floats as before (issue 17)."""

import time

import numpy as np
import pytest
from solver_cases import random_matrix

from taskorder import solve
from taskorder.model import predict
from taskorder.objectives import order_value, upper_triangle_sum
from taskorder.solvers import make_problem
from taskorder.solvers.heuristics.budget import Budget
from taskorder.solvers.heuristics.insertion import InsertionTable
from taskorder.solvers.heuristics.insertion_restarts import iterated_insertion
from taskorder.solvers.heuristics.local_search import constructive_starts, solve_local
from taskorder.solvers.problem import Constraints


def problem_for(matrix):
    return make_problem(matrix, "all_pairs", Constraints(matrix.n_tasks))


@pytest.mark.parametrize("n_tasks, seed", [(1, 0), (2, 1), (7, 2), (130, 3), (301, 4)])
def test_order_value_gives_the_same_float_as_the_masked_sum(n_tasks, seed):
    """Bit for bit, so that orders and values of runs that are not deadline-bound stay."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(n_tasks, n_tasks)) * 10 ** rng.uniform(-3, 3, (n_tasks, n_tasks))
    order = rng.permutation(n_tasks)
    permuted = weights[np.ix_(order, order)]
    assert order_value(weights, order, "all_pairs") == float(np.triu(permuted, k=1).sum())
    assert order_value(weights, order, "adjacent") == float(np.diagonal(permuted, 1).sum())
    square = np.ascontiguousarray(permuted)
    assert upper_triangle_sum(square.copy()) == float(np.triu(square, k=1).sum())


@pytest.mark.parametrize(
    "forward, model", [(False, "additive"), (True, "additive"), (True, "backward_only")]
)
def test_predict_gives_the_same_scores_as_one_task_at_a_time(forward, model):
    matrix = random_matrix(90, 5, forward=forward, own=True)
    order = [matrix.tasks[t] for t in np.random.default_rng(5).permutation(90)]
    idx = matrix.order_indices(order)
    expected = np.nan_to_num(matrix.own_scores).copy()
    for position, task in enumerate(idx):
        expected[task] += matrix.bwt[task, idx[position + 1 :]].sum()
        if forward and model == "additive":
            expected[task] += matrix.forward[idx[:position], task].sum()
    scores = predict(matrix, order, model=model).scores
    assert [scores[matrix.tasks[t]] for t in range(90)] == expected.tolist()


def test_insertion_table_reset_reuses_its_buffer_and_matches_a_fresh_table():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(40, 40))
    np.fill_diagonal(weights, 0.0)
    table = InsertionTable(weights, rng.permutation(40))
    buffer = table.prefix
    for _ in range(3):
        table.descend(max_sweeps=2)
        order = rng.permutation(40)
        table.reset(order)
        assert table.prefix is buffer
        fresh = InsertionTable(weights, order)
        np.testing.assert_array_equal(table.prefix, fresh.prefix)
        assert table.value == fresh.value
        assert table.exact_value() == order_value(weights, order, "all_pairs")


@pytest.mark.parametrize("seed", range(2))
def test_iterated_insertion_on_a_given_table_runs_as_from_its_order(seed):
    problem = problem_for(random_matrix(60, seed))
    start = constructive_starts(problem)[0]
    runs = []
    for table in (None, InsertionTable(problem.weights, start, problem.constraints.edges())):
        budget = Budget(time_limit=None, max_rounds=30)
        rng = np.random.default_rng(seed)
        runs.append(iterated_insertion(problem, [start], budget, rng, table=table))
    assert runs[0] == runs[1]
    assert runs[0][1] == problem.value(runs[0][0])


def test_deadline_in_the_first_descent_ends_the_search_with_few_objective_passes(monkeypatch):
    """A limit shorter than the first descent: the descended-so-far order comes back,
    valid and valued exactly, after at most three O(n^2) objective passes (the two starts
    and the answer; it was seven)."""
    import taskorder.solvers.heuristics.insertion as insertion_module
    import taskorder.solvers.problem as problem_module

    calls = []

    def counted(*args, **kwargs):
        calls.append(args[2])
        return order_value(*args, **kwargs)

    monkeypatch.setattr(problem_module, "order_value", counted)
    monkeypatch.setattr(insertion_module, "order_value", counted)
    problem = problem_for(random_matrix(400, 1))
    solution = solve_local(problem, time_limit=1e-3, seed=0)
    assert solution.extras["local_arm"].startswith("none")
    assert solution.extras["stop_reason"] == "time_limit"
    assert sorted(solution.order) == list(range(400))
    assert solution.value == order_value(problem.weights, solution.order, "all_pairs")
    assert solution.value >= solution.extras["start_value"]
    assert len(calls) <= 3


def test_solve_returns_near_its_time_limit_at_large_n():
    """Generous for 2 shared CI cores: the limit plus 2 s (before issue 17: +0.8 s at
    n = 2,000 with a 0.5 s limit on an idle machine, 13 s for a first answer earlier)."""
    matrix = random_matrix(900, 3)
    began = time.perf_counter()
    result = solve(matrix, time_limit=0.3, seed=0)
    assert time.perf_counter() - began < 0.3 + 2.0
    assert result.method == "local"
    assert result.objective >= result.baselines["rank_rule"]


@pytest.mark.parametrize("kick_name", ["insertion_restarts._kick", "memetic._random_insertions"])
def test_kicks_stop_at_the_deadline(kick_name):
    """A kick of n / 8 random insertions costs ~0.8 s at n = 2,000 (and a memetic
    restart's kick grows up to n moves): past the deadline it stops within 8 moves."""
    import importlib

    module_name, function_name = kick_name.split(".")
    kick = getattr(
        importlib.import_module(f"taskorder.solvers.heuristics.{module_name}"), function_name
    )
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(50, 50))
    moves = []
    for budget in (None, Budget(time_limit=1e-9), Budget(time_limit=None, max_rounds=1)):
        table = InsertionTable(weights, rng.permutation(50))
        kick(table, np.random.default_rng(1), 100, budget)
        moves.append(table._moves_since_reset)
    assert moves[0] >= 90 and moves[1] <= 7 and moves[2] == moves[0]
