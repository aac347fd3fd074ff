"""Anytime local search for every objective (``method="local"``).

- ``all_pairs``: memetic search over insertion local optima (:mod:`.memetic`) or
  iterated insertion search (:mod:`.insertion_restarts`), both with the O(n^2)-per-sweep
  insertion table of :mod:`.insertion`. With a time limit the choice is measured on the
  instance: the best start is descended first (both arms begin so), and if the time
  left buys at least :data:`MEMETIC_MIN_DESCENTS` more descents of that cost the memetic
  search takes over from the local optimum, else the iterated search (a population
  needs many descents; one kick-and-descend round is far cheaper than a first descent).
  The memetic search is far ahead on LOLIB random and xLOLIB (n = 150-250 at 10 s:
  0.01-0.19 % from best-known against 0.56-0.82 % for the iterated search), the two
  within 0.01 % on generated n = 700-1,000 at 5 s; at n = 2,000 a first descent takes
  seconds. Without a time limit (deterministic) the rule is by size:
  :data:`ITERATED_MIN_TASKS`. ``extras["local_arm"]`` says which ran and why.
- ``adjacent``: iterated or-opt search with double-bridge kicks (:mod:`.path_search`).
- ``max_min``: iterated insertion search on (minimum, sum) of final scores
  (:mod:`.max_min_search`).

All start from the better of two constructive orders (net-gain order and the rank
rule), never return anything worse than that start, honour the constraints in every
move, record the anytime curve and report a cheap upper bound.

Stopping: with ``time_limit`` the search improves until the time is up (the
trajectory is fixed by the seed; where it stops depends on machine speed). Without it,
it stops after ``patience`` rounds without improvement (deterministic for a seed).
The time limit is a deadline for the whole call (the bound and the starts count): every
descent checks it between sweeps, and after it only the answer's value is computed
(one O(n^2) pass). When it ends during the first descent (n = 2,000: a first descent
takes seconds), no arm runs and the answer is the order descended so far
(``extras["local_arm"]`` starts with ``none``).
"""

from __future__ import annotations

import time

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.objectives import simple_upper_bound
from taskorder.solvers.construct import net_gain_order
from taskorder.solvers.heuristics import second_search
from taskorder.solvers.heuristics.budget import Budget
from taskorder.solvers.heuristics.insertion import InsertionTable
from taskorder.solvers.heuristics.insertion_restarts import descend_within, iterated_insertion
from taskorder.solvers.heuristics.max_min_search import MaxMinState, search_max_min
from taskorder.solvers.heuristics.memetic import memetic_linear_ordering
from taskorder.solvers.heuristics.path_search import PathState, search_path
from taskorder.solvers.heuristics.rank import solve_rank
from taskorder.solvers.problem import Problem, Solution

__all__ = [
    "DEFAULT_PATIENCE",
    "ITERATED_MIN_TASKS",
    "MEMETIC_MIN_DESCENTS",
    "cheap_upper_bound",
    "constructive_starts",
    "quick_descent",
    "search",
    "solve_local",
]

#: Without a time limit, from this many tasks on ``all_pairs`` uses the iterated
#: insertion search instead of the memetic search (see the module docstring).
ITERATED_MIN_TASKS = 700

#: With a time limit, the memetic search runs when the time left after the first
#: descent is at least this many times that descent's duration. Measured on generated
#: n = 1,000-2,000 (benchmarks/results/portfolio_arms_generated.txt, portfolio_arms_2000.txt):
#: the iterated search ahead with about 0.2 and 2.7 descents left, the memetic search
#: ahead with about 6 and 6.5.
MEMETIC_MIN_DESCENTS = 5.0

#: Rounds without improvement before a run without time limit stops.
DEFAULT_PATIENCE = {"all_pairs": 60, "adjacent": 200, "max_min": 100}


def cheap_upper_bound(problem: Problem) -> float:
    """A bound no order can beat, computed in O(n^2).

    ``all_pairs``: ``sum_{i<j} max(W[i, j], W[j, i])``. ``adjacent``: the ``n - 1``
    largest row maxima. ``max_min``: the smallest ``own_i + sum_j max(bwt[i, j],
    forward[j, i])`` (each task's best case).
    """
    if problem.objective != "max_min":
        return simple_upper_bound(problem.weights, problem.objective)
    best_case = np.maximum(problem.bwt, problem.forward.T)
    np.fill_diagonal(best_case, 0.0)
    return float((problem.own + best_case.sum(axis=1)).min())


def constructive_starts(problem: Problem) -> list[list[int]]:
    """Net-gain (Borda) order and the rank rule, without duplicates; both honour constraints."""
    starts = [net_gain_order(problem), solve_rank(problem).order]
    return [list(order) for i, order in enumerate(starts) if order not in starts[:i]]


def _valued_starts(problem: Problem) -> list[tuple[float, list[int]]]:
    """:func:`constructive_starts` with their values (the rank rule's value is reused)."""
    rank = solve_rank(problem)
    net_gain = list(net_gain_order(problem))
    valued = [(problem.value(net_gain), net_gain)]
    if list(rank.order) != net_gain:
        valued.append((rank.value, list(rank.order)))
    return valued


def quick_descent(problem: Problem, starts: list[list[int]]) -> list[int]:
    """The best of ``starts`` after one local descent each (no perturbation)."""
    best, best_value = None, -np.inf
    for start in starts:
        if problem.objective == "all_pairs":
            table = InsertionTable(problem.weights, start, problem.constraints.edges())
            table.descend()
            order = table.order.tolist()
        elif problem.objective == "adjacent":
            state = PathState(problem.weights, start, problem.constraints.edges())
            state.descend()
            order = state.order.tolist()
        else:
            state = MaxMinState(problem, start)
            state.descend()
            order = state.order.tolist()
        value = problem.value(order)
        if value > best_value:
            best, best_value = order, value
    return [int(t) for t in best]


def search(
    problem: Problem, starts: list[list[int]], budget: Budget, rng: np.random.Generator
) -> list[int]:
    """Run the objective's search from ``starts`` until ``budget`` is spent.

    Parameters
    ----------
    problem : Problem
        Any objective: ``all_pairs`` uses the memetic or the iterated insertion search
        (chosen as the module docstring says);
        ``adjacent`` uses :func:`~.path_search.search_path`; ``max_min`` uses
        :func:`~.max_min_search.search_max_min`.
    starts : list of list of int
        Orders that honour the constraints, e.g. from :func:`constructive_starts`, the
        best first (``all_pairs`` with a time limit descends ``starts[0]`` first).
    budget : Budget
        Stopping rule; receives the anytime curve.
    rng : numpy.random.Generator
        Source of every random choice.

    Returns
    -------
    list of int
        The best order found.
    """
    return _search(problem, starts, budget, rng)[0]


def _search(
    problem: Problem,
    starts: list[list[int]],
    budget: Budget,
    rng: np.random.Generator,
    second_seed: int | None = None,
) -> tuple[list[int], float | None]:
    """:func:`search`, plus the order's ``problem.value`` when the search computed it
    (None otherwise): spares :func:`solve_local` an O(n^2) evaluation. ``second_seed``:
    the memetic search may start a second one in another process (:mod:`.second_search`)."""
    if problem.objective == "all_pairs":
        order, value = _linear_ordering(problem, starts, budget, rng, second_seed)
    elif problem.objective == "adjacent":
        order, value = search_path(problem, starts, budget, rng)[0], None
    else:
        order, value = search_max_min(problem, starts, budget, rng)[0], None
    return [int(t) for t in order], value


def _linear_ordering(
    problem: Problem,
    starts: list[list[int]],
    budget: Budget,
    rng: np.random.Generator,
    second_seed: int | None = None,
) -> tuple[list[int], float | None]:
    """``all_pairs``: the memetic or the iterated insertion search (module docstring);
    the order and its value when known exactly (see :func:`_search`)."""
    n_tasks = problem.n_tasks
    if budget.time_limit is None:
        iterated = n_tasks >= ITERATED_MIN_TASKS
        budget.notes["local_arm"] = (
            f"{'iterated insertion' if iterated else 'memetic'} search (no time limit: "
            f"by size, n = {n_tasks} {'>=' if iterated else '<'} {ITERATED_MIN_TASKS})"
        )
        if iterated:
            return iterated_insertion(problem, starts, budget, rng)
        return memetic_linear_ordering(problem, starts, budget, rng)[0], None
    start = starts[0]  # the best start first (solve_local sorts them; O(n^2) per value)
    if budget.time_left() == 0.0:  # the starts took the time: no O(n^2) table
        budget.notes["local_arm"] = "none: the time limit ended before the first descent"
        budget.exhausted()  # records the stop reason
        return [int(t) for t in start], None
    table = InsertionTable(problem.weights, start, problem.constraints.edges())
    budget.improved(table.value)  # a first answer before the first descent (large n)
    began = budget.elapsed()
    descend_within(table, budget)
    descent_s = max(budget.elapsed() - began, 1e-6)
    first = [int(t) for t in table.order]
    budget.improved(table.value)
    left = budget.time_left() or 0.0
    if left == 0.0:  # deadline-bound (large n): no arm, no further O(n^2) step
        budget.notes["local_arm"] = (
            f"none: the time limit ended in the first descent ({descent_s:.3g} s)"
        )
        budget.exhausted()
        return first, None
    memetic = left >= MEMETIC_MIN_DESCENTS * descent_s
    budget.notes["local_arm"] = (
        f"{'memetic' if memetic else 'iterated insertion'} search: first descent "
        f"{descent_s:.3g} s, {left:.3g} s left ({left / descent_s:.3g} descents; memetic "
        f"from {MEMETIC_MIN_DESCENTS:g})"
    )
    others = [list(order) for order in starts if list(order) != list(start)]
    if memetic:
        return _memetic(problem, [first, *others], budget, rng, second_seed)
    return iterated_insertion(problem, [first], budget, rng, table=table)


def _memetic(
    problem: Problem,
    starts: list[list[int]],
    budget: Budget,
    rng: np.random.Generator,
    second_seed: int | None,
) -> tuple[list[int], float | None]:
    """The timed memetic search, with a second one in another process when
    ``second_seed`` is given and enough time is left (:mod:`.second_search`)."""
    left = budget.time_left() or 0.0
    if second_seed is None or left < second_search.MIN_SECONDS:
        return memetic_linear_ordering(problem, starts, budget, rng)[0], None
    try:
        second = second_search.SecondSearch(problem, starts, second_seed, time.time() + left)
    except OSError as error:  # no interpreter to start: one process, as before
        budget.notes["second_search"] = f"not started ({error})"
        return memetic_linear_ordering(problem, starts, budget, rng)[0], None
    try:
        order = memetic_linear_ordering(problem, starts, budget, rng)[0]
        answer = second.result()
    finally:
        second.stop()
    value = problem.value(order)
    if answer is None:
        budget.notes["second_search"] = "no answer in time"
        return order, value
    other, _, rounds = answer
    other_value = problem.value(other)  # exact here, as the parent's value
    better = other_value > value + 1e-9 * max(1.0, abs(value))
    budget.notes["second_search"] = (
        f"{'better' if better else 'not better'}: {other_value:.10g} after {rounds} children"
    )
    if better:
        budget.notes["found_by"] = "local search (second process)"
        budget.improved(other_value)
        return other, other_value
    return order, value


def solve_local(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    max_rounds: int | None = None,
    patience: int | None = None,
) -> Solution:
    """Anytime local search; status ``heuristic`` (``optimal`` only if the bound is met).

    Parameters
    ----------
    problem : Problem
    time_limit : float, optional
        Seconds to keep improving. Without it, the run stops after ``patience`` rounds
        without improvement and is deterministic for ``seed``. With it, ``all_pairs``
        problems of :data:`~.second_search.MIN_TASKS` tasks or more on 2 or more cores
        run a second memetic search in another process (:mod:`.second_search`).
    seed : int
        Seed of every random choice.
    max_rounds : int, optional
        Hard cap on rounds (children or kicks), with or without a time limit.
    patience : int, optional
        Rounds without improvement before stopping when there is no time limit
        (default: :data:`DEFAULT_PATIENCE` for the objective).

    Returns
    -------
    Solution
        ``extras`` holds ``anytime`` (list of (seconds, best value)), ``start_value``,
        ``rounds``, ``stop_reason``, ``found_by`` and, where it ran, ``second_search``
        (whether the second process found a better order).

    Raises
    ------
    InvalidParameterError
        If ``max_rounds`` or ``patience`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> from taskorder.solvers.problem import Constraints, Problem
    >>> W = np.array([[0., 1, 5], [3, 0, 0], [0, 4, 0]])
    >>> solution = solve_local(Problem(W, "all_pairs", Constraints(3, predecessors=(0, 0, 0))))
    >>> solution.order, solution.value, solution.status
    ([0, 2, 1], 10.0, 'heuristic')
    """
    for name, value in (("max_rounds", max_rounds), ("patience", patience)):
        if value is not None and not (isinstance(value, (int, np.integer)) and value > 0):
            raise InvalidParameterError(
                f"The {name!r} parameter of solve_local must be a positive integer. Got {value!r}."
            )
    began = time.perf_counter()  # the time limit counts the bound and the starts too
    bound = cheap_upper_bound(problem)
    budget = Budget(
        start=began,
        time_limit=time_limit,
        max_rounds=max_rounds,
        patience=patience or DEFAULT_PATIENCE[problem.objective],
        target=bound,
    )
    rng = np.random.default_rng(seed)
    valued = sorted(_valued_starts(problem), reverse=True)
    starts = [order for _, order in valued]  # best first: the one descended first
    start_value = valued[0][0]
    second = (
        time_limit is not None
        and problem.n_tasks >= second_search.MIN_TASKS
        and second_search.cores() >= 2
    )
    order, value = _search(problem, starts, budget, rng, seed if second else None)
    if value is None:
        value = problem.value(order)
    proven = value >= bound - 1e-9 * max(1.0, abs(bound))
    return Solution(
        order=[int(t) for t in order],
        value=value,
        bound=max(bound, value),
        status="optimal" if proven else "heuristic",
        extras={
            "anytime": list(budget.curve),
            "start_value": start_value,
            "rounds": budget.rounds,
            "stop_reason": budget.stop_reason or "search space exhausted",
            "bound_kind": "cheap upper bound (pairwise best case)",
            "found_by": "local search",
            **budget.notes,
        },
    )
