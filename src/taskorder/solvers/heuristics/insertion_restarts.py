"""Iterated (restarted) insertion local search for ``all_pairs``.

The plain workhorse of the linear ordering literature: descend with insertion moves
(:class:`~.insertion.InsertionTable`, O(n^2) per vectorised sweep), kick the current
local optimum with a few random insertions, descend again, and keep the result when it
is at least as good (so the walk drifts over plateaus). After ``restart_after``
kicks without a new best, the walk restarts: from a random order up to
:data:`RANDOM_RESTART_MAX_TASKS` tasks (where one descent is cheap), else from the best
order with a strong kick. Every descent checks the deadline between sweeps, so at any
size the search returns at its time limit with the best order so far.

It is the baseline every anytime search here must beat, and one arm of the
portfolio in :mod:`.local_search`.

References
----------
T. Schiavinotto and T. Stützle, "The linear ordering problem: instances, search space
analysis and algorithms", J. Math. Model. Algorithms 3, 2004 (iterated local search
with insertion moves).
"""

from __future__ import annotations

import numpy as np

from taskorder.solvers.heuristics.budget import Budget
from taskorder.solvers.heuristics.insertion import InsertionTable
from taskorder.solvers.problem import Problem

__all__ = ["RANDOM_RESTART_MAX_TASKS", "descend_within", "iterated_insertion"]

#: Above this many tasks a restart kicks the best order hard instead of drawing a random
#: order (one descent from a random order costs seconds at n = 1,000).
RANDOM_RESTART_MAX_TASKS = 150


def descend_within(table: InsertionTable, budget: Budget) -> None:
    """Insertion descent on ``table`` that stops early when ``budget`` is exhausted."""
    while not budget.exhausted():
        if table.descend(max_sweeps=1) <= 0.0:
            return


def _kick(
    table: InsertionTable, rng: np.random.Generator, count: int, budget: Budget | None = None
) -> None:
    """``count`` random insertions that honour the constraints (in place); stops at the
    deadline of ``budget`` (checked every 8 moves: a kick of n / 10 costs ~0.8 s at
    n = 2,000, each move O(n * span))."""
    n_tasks = table.n_tasks
    for done in range(count):
        if budget is not None and done % 8 == 7 and budget.time_left() == 0.0:
            return
        p = int(rng.integers(n_tasks))
        limits = table.allowed_range()
        low, high = (0, n_tasks) if limits is None else (int(limits[0][p]), int(limits[1][p]))
        table.move(p, int(rng.integers(low, high + 1)))


def _random_start(problem: Problem, rng: np.random.Generator) -> list[int]:
    from taskorder.solvers.construct import priority_order

    return priority_order(rng.random(problem.n_tasks), problem.constraints.predecessors)


def iterated_insertion(
    problem: Problem,
    starts: list[list[int]],
    budget: Budget,
    rng: np.random.Generator,
    *,
    kick: int | None = None,
    restart_after: int | None = None,
    table: InsertionTable | None = None,
) -> tuple[list[int], float]:
    """Iterated insertion search from the best of ``starts`` until ``budget`` is spent.

    Parameters
    ----------
    problem : Problem
        An ``all_pairs`` problem.
    starts : list of list of int
        Orders that honour the constraints; the best one (by value) is descended first.
    budget : Budget
        Stopping rule; one round is one kick and descent. Receives the anytime curve.
    rng : numpy.random.Generator
    kick : int, optional
        Random insertions per kick (default ``max(3, n // 25)``, capped at 30).
    restart_after : int, optional
        Kicks without a new best before a restart (default ``max(50, 4 n)``).
    table : InsertionTable, optional
        A table of ``problem`` to search with (its current order is the start and
        ``starts`` is ignored): spares building the O(n^2) table again.

    Returns
    -------
    (order, value)

    Examples
    --------
    >>> from taskorder.solvers.problem import Constraints
    >>> W = np.array([[0., 1, 5], [3, 0, 0], [0, 4, 0]])
    >>> problem = Problem(W, "all_pairs", Constraints(3, predecessors=(0, 0, 0)))
    >>> budget = Budget(time_limit=None, max_rounds=5)
    >>> iterated_insertion(problem, [[1, 2, 0]], budget, np.random.default_rng(0))
    ([0, 2, 1], 10.0)
    """
    n_tasks = problem.n_tasks
    kick = kick or min(30, max(3, n_tasks // 25))
    restart_after = restart_after or max(50, 4 * n_tasks)
    if table is None:
        start = starts[0] if len(starts) == 1 else max(starts, key=problem.value)
        table = InsertionTable(problem.weights, start, problem.constraints.edges())
    budget.improved(table.value)  # a first answer before the first descent (large n)
    descend_within(table, budget)
    best_order, best_value = table.order.copy(), table.exact_value()
    # best_value is problem.value(best_order), bit for bit, until a new best is found
    exact = problem.retention is None and problem.weights.dtype == np.float64
    current_order, current_value = best_order.copy(), best_value
    budget.improved(best_value)
    since_best = 0
    while not budget.exhausted():
        budget.next_round()
        if since_best >= restart_after:
            since_best = 0
            if n_tasks <= RANDOM_RESTART_MAX_TASKS:
                table.reset(_random_start(problem, rng))
            else:
                table.reset(best_order)
                _kick(table, rng, max(kick, n_tasks // 10), budget)
        else:
            _kick(table, rng, kick, budget)
        descend_within(table, budget)
        value = table.value
        tolerance = 1e-12 * max(1.0, abs(current_value))
        if value >= current_value - tolerance:
            table.reset(table.order)  # clears float drift before comparing with the best
            current_order, current_value = table.order.copy(), table.value
            if current_value > best_value + tolerance:
                best_order, best_value = current_order.copy(), current_value
                exact = False
                budget.improved(best_value)
                since_best = 0
                continue
        elif budget.exhausted():
            break  # e.g. the deadline: skip the O(n^2) rebuild only a next round needs
        else:
            table.reset(current_order)
        since_best += 1
    if not exact:  # the table's value carries rounding from its updates: recompute once
        best_value = problem.value(best_order.tolist())
    return [int(t) for t in best_order], best_value
