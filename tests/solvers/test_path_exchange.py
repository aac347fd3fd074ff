"""Segment exchange (A B C D -> A C B D) in the adjacent-objective search (issue 17)."""

import itertools

import numpy as np
import pytest

from taskorder.solvers.heuristics import path_search
from taskorder.solvers.heuristics.budget import Budget
from taskorder.solvers.heuristics.path_search import PathState, search_path
from taskorder.solvers.problem import Constraints, Problem


def _path_value(weights: np.ndarray, order) -> float:
    return float(sum(weights[a, b] for a, b in itertools.pairwise(order)))


def _exchanges(n_tasks: int):
    """Every (cut, last of B, last of C) with B and C non-empty."""
    for cut in range(-1, n_tasks - 2):
        for last_b in range(cut + 1, n_tasks - 1):
            for last_c in range(last_b + 1, n_tasks):
                yield cut, last_b, last_c


def _exchanged(order, cut, last_b, last_c):
    o = list(order)
    return o[: cut + 1] + o[last_b + 1 : last_c + 1] + o[cut + 1 : last_b + 1] + o[last_c + 1 :]


@pytest.mark.parametrize("seed", range(5))
def test_the_best_exchange_through_every_cut_in_every_role_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n_tasks = 9
    weights = rng.normal(size=(n_tasks, n_tasks))
    state = PathState(weights, rng.permutation(n_tasks), edges=[])
    table, arcs = state._exchange_tables()
    for cut in range(-1, n_tasks):
        for role in range(3):
            gain, move = state._best_exchange(table, arcs, cut, role)
            candidates = [m for m in _exchanges(n_tasks) if m[role] == cut]
            if not candidates:
                assert gain == -np.inf
                continue
            assert move[role] == cut
            moved = _exchanged(state.order, *move)
            assert gain == pytest.approx(_path_value(weights, moved) - state.value)
            best = max(
                _path_value(weights, _exchanged(state.order, *m)) - state.value for m in candidates
            )
            assert gain == pytest.approx(best)


def test_an_exchange_descent_ends_where_no_exchange_improves_and_keeps_the_constraints():
    rng = np.random.default_rng(7)
    n_tasks = 10
    weights = rng.normal(size=(n_tasks, n_tasks))
    edges = [(4, 2), (0, 9)]
    start = [4, 2, 0, 1, 3, 5, 6, 7, 8, 9]
    state = PathState(weights, start, edges)
    before = state.value
    gain, moved = state.exchange()
    assert gain > 0 and state.value == pytest.approx(before + gain) and moved
    assert state.value == pytest.approx(_path_value(weights, state.order))
    position = {task: k for k, task in enumerate(state.order.tolist())}
    assert position[4] < position[2] and position[0] < position[9]
    for move in _exchanges(n_tasks):
        moved = _exchanged(state.order, *move)
        if state.feasible(np.array(moved)):
            assert _path_value(weights, moved) <= state.value + 1e-9


def test_the_search_uses_exchanges_only_up_to_its_size_and_is_reproducible(monkeypatch):
    rng = np.random.default_rng(3)
    n_tasks = 40
    weights = rng.random((n_tasks, n_tasks))
    problem = Problem(weights, "adjacent", Constraints(n_tasks, predecessors=(0,) * n_tasks))
    start = [list(range(n_tasks))]

    def run():
        budget = Budget(time_limit=None, max_rounds=30, patience=30)
        return search_path(problem, start, budget, np.random.default_rng(0))

    with_exchange = run()
    assert run() == with_exchange  # same seed, same answer (untimed)
    monkeypatch.setattr(path_search, "EXCHANGE_MAX_TASKS", n_tasks - 1)
    or_opt_only = run()
    assert with_exchange[1] == pytest.approx(_path_value(weights, with_exchange[0]))
    assert with_exchange[1] >= or_opt_only[1] - 1e-9


def test_a_timed_constrained_adjacent_solve_keeps_first_last_and_before():
    from taskorder import TransferMatrix, solve

    rng = np.random.default_rng(11)
    n_tasks = 120
    names = [f"t{k}" for k in range(n_tasks)]
    matrix = TransferMatrix(names, rng.normal(size=(n_tasks, n_tasks)))
    before = (("t5", "t3"), ("t90", "t10"), ("t7", "t8"))
    result = solve(
        matrix,
        objective="adjacent",
        method="local",
        time_limit=1.5,
        first="t1",
        last="t2",
        before=before,
    )
    order = list(result.order)
    assert order[0] == "t1" and order[-1] == "t2"
    assert all(order.index(a) < order.index(b) for a, b in before)
