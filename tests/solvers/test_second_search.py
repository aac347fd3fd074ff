"""The second memetic search in another process (issue 17: both cores on large instances)."""

import time

import numpy as np
import pytest

from taskorder import TransferMatrix, solve
from taskorder.objectives import evaluate
from taskorder.solvers.heuristics import second_search
from taskorder.solvers.heuristics.second_search import SecondSearch
from taskorder.solvers.problem import Constraints, Problem

two_cores = pytest.mark.skipif(second_search.cores() < 2, reason="needs 2 cores")


def _matrix(n_tasks: int, seed: int) -> TransferMatrix:
    rng = np.random.default_rng(seed)
    weights = rng.integers(0, 100, (n_tasks, n_tasks)).astype(float)
    np.fill_diagonal(weights, np.nan)
    return TransferMatrix([f"t{i}" for i in range(n_tasks)], weights)


@two_cores
def test_a_timed_large_solve_runs_it_and_returns_an_exact_value_on_time():
    matrix = _matrix(second_search.MIN_TASKS + 19, 0)
    began = time.perf_counter()
    result = solve(matrix, method="local", time_limit=3.0, seed=1)
    wall = time.perf_counter() - began
    assert wall <= 3.0 * 1.05 + 0.5
    note = result.extras["second_search"]
    assert note.startswith(("better: ", "not better: ")), note
    assert result.objective == pytest.approx(evaluate(matrix, result.order))
    if note.startswith("better"):
        assert result.extras["found_by"] == "local search (second process)"


def test_untimed_and_small_runs_stay_in_one_process():
    untimed = solve(_matrix(second_search.MIN_TASKS, 1), method="local", seed=0)
    assert "second_search" not in untimed.extras
    small = solve(_matrix(second_search.MIN_TASKS - 1, 1), method="local", time_limit=2.5)
    assert "second_search" not in small.extras


def test_a_child_past_its_deadline_is_killed_and_gives_no_answer(monkeypatch):
    # No grace and a deadline already past: the parent cannot wait at all, so the child
    # (still starting a Python) cannot have answered. With the real 0.25 s grace a fast
    # machine's child can answer its start order in time, which is allowed.
    monkeypatch.setattr(second_search, "GRACE_SECONDS", 0.0)
    n_tasks = 150
    weights = _matrix(n_tasks, 2).pair_weights()
    problem = Problem(weights, "all_pairs", Constraints(n_tasks, predecessors=(0,) * n_tasks))
    search = SecondSearch(problem, [list(range(n_tasks))], 0, deadline=time.time() - 1.0)
    began = time.perf_counter()
    answer = search.result()
    assert time.perf_counter() - began <= 0.2
    assert answer is None
    assert search._process.poll() is not None  # killed, not left running


def test_the_child_answers_an_order_that_honours_the_constraints():
    n_tasks = 120
    weights = _matrix(n_tasks, 3).pair_weights()
    predecessors = [0] * n_tasks
    predecessors[5] = 1 << 7  # task 7 before task 5
    constraints = Constraints(n_tasks, before=((7, 5),), predecessors=tuple(predecessors))
    problem = Problem(weights, "all_pairs", constraints)
    start = list(range(n_tasks))
    start.remove(7)
    start.insert(0, 7)
    search = SecondSearch(problem, [start], 0, deadline=time.time() + 2.0)
    answer = search.result()
    assert answer is not None
    order, value, rounds = answer
    assert sorted(order) == list(range(n_tasks)) and order.index(7) < order.index(5)
    assert value == pytest.approx(problem.value(order)) and rounds > 0
