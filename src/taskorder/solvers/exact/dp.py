"""Exact subset dynamic programming for both objectives.

``all_pairs`` (Linear Ordering): ``f(T)`` is the best value of an order of the set ``T``
placed first; appending ``j`` to ``S`` collects ``sum_{i in S} W[i, j]``. Time
``O(2^n n^2)`` (a matrix product per layer), memory ``O(2^n)``: about 1 s at n = 20 and
a few seconds at n = 23 on a laptop core.

``adjacent`` (Held–Karp): ``g(T, j)`` is the best path over ``T`` ending at ``j``. Time
``O(2^n n^2)``, memory ``O(2^n n)``, so it stops at smaller ``n``.

Constraints enter as predecessor masks: ``j`` may be appended to ``S`` only when all of
``j``'s required predecessors are in ``S``.

References
----------
M. Held and R. M. Karp, "A dynamic programming approach to sequencing problems",
J. SIAM 10(1), 1962.
"""

from __future__ import annotations

import time

import numpy as np

from taskorder.exceptions import ConstraintError, InvalidParameterError, SolverError
from taskorder.solvers.problem import Problem, Solution

__all__ = ["MAX_TASKS_ADJACENT", "MAX_TASKS_ALL_PAIRS", "solve_dp"]

MAX_TASKS_ALL_PAIRS = 24
MAX_TASKS_ADJACENT = 20
_CHUNK = 1 << 15


def solve_dp(problem: Problem, *, time_limit: float | None = None, seed: int = 0) -> Solution:
    """Solve exactly by subset dynamic programming (status ``optimal``).

    Parameters
    ----------
    problem : Problem
    time_limit : float, optional
        Seconds; checked between layers. Exceeding it raises :class:`SolverError`
        (the DP has no incumbent to return before it finishes).
    seed : int
        Unused (the DP is deterministic); accepted for a common signature.

    Raises
    ------
    InvalidParameterError
        If ``n`` exceeds 24 (``all_pairs``) or 20 (``adjacent``).
    SolverError
        If the time limit is exceeded.

    Examples
    --------
    >>> import numpy as np
    >>> from taskorder.solvers.problem import Constraints, Problem
    >>> W = np.array([[0., 1, 5], [3, 0, 0], [0, 2, 0]])
    >>> solve_dp(Problem(W, "all_pairs", Constraints(3, predecessors=(0, 0, 0)))).order
    [0, 2, 1]
    """
    n_tasks = problem.n_tasks
    limit = MAX_TASKS_ALL_PAIRS if problem.objective == "all_pairs" else MAX_TASKS_ADJACENT
    if n_tasks > limit:
        raise InvalidParameterError(
            f"The subset DP for the {problem.objective!r} objective accepts at most {limit} tasks "
            f"(memory grows as 2^n). Got {n_tasks}; use method='auto'."
        )
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    predecessors = np.array(problem.constraints.predecessors or [0] * n_tasks, dtype=np.int64)
    layers = _layers(n_tasks)
    if problem.objective == "all_pairs":
        order = _linear_ordering(
            problem.weights, predecessors, layers, deadline, problem.constraints.floors
        )
    else:
        if problem.constraints.floors:
            raise InvalidParameterError(
                "Floors on predicted per-task values are supported for the 'all_pairs' objective "
                "only. Got objective 'adjacent'."
            )
        order = _hamiltonian_path(problem.weights, predecessors, layers, deadline)
    value = problem.value(order)
    return Solution(order=order, value=value, bound=value, status="optimal")


def _layers(n_tasks: int) -> list[np.ndarray]:
    sets = np.arange(1 << n_tasks, dtype=np.int64)
    popcount = np.zeros(sets.size, dtype=np.int8)
    for bit in range(n_tasks):
        popcount += ((sets >> bit) & 1).astype(np.int8)
    by_size = np.argsort(popcount, kind="stable")
    bounds = np.cumsum(np.bincount(popcount, minlength=n_tasks + 1))
    return [by_size[bounds[k - 1] : bounds[k]] for k in range(1, n_tasks + 1)]


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.perf_counter() > deadline:
        raise SolverError(
            "The subset DP ran out of time before finishing; raise the time limit or use "
            "method='auto' (which falls back to an anytime solver)."
        )


def _linear_ordering(weights, predecessors, layers, deadline, floors=()) -> list[int]:
    n_tasks = weights.shape[0]
    if floors:
        # appending floor task t to S fixes its value: base_t + sum_{i in S} coefficients_t[i]
        floor_tasks = np.array([floor.task for floor in floors])
        floor_coefficients = np.stack([floor.coefficients for floor in floors], axis=1)
        floor_bases = np.array([floor.base for floor in floors])
        floor_minimums = np.array([floor.minimum for floor in floors])
    bits = np.int64(1) << np.arange(n_tasks, dtype=np.int64)
    best = np.full(1 << n_tasks, -np.inf)
    best[0] = 0.0
    last = np.full(1 << n_tasks, -1, dtype=np.int8)
    for layer in layers:
        _check_deadline(deadline)
        for start in range(0, layer.size, _CHUNK):
            sets = layer[start : start + _CHUNK]
            members = (sets[:, None] & bits[None, :]) != 0
            # gain of placing j last in T = sum over i in T of W[i, j] (W[j, j] = 0)
            gains = members.astype(float) @ weights
            allowed = members & ((sets[:, None] & predecessors[None, :]) == predecessors[None, :])
            if floors:
                reached = floor_bases + members.astype(float) @ floor_coefficients
                allowed[:, floor_tasks] &= reached >= floor_minimums - 1e-9
            previous = best[sets[:, None] ^ bits[None, :]]
            candidates = np.where(allowed, previous + gains, -np.inf)
            choice = np.argmax(candidates, axis=1)
            best[sets] = candidates[np.arange(sets.size), choice]
            last[sets] = choice
    return unwind_order(last, n_tasks, best)


def unwind_order(last: np.ndarray, n_tasks: int, best: np.ndarray) -> list[int]:
    """The optimal order of a subset DP: ``last[S]`` is the task placed last in subset ``S``.

    Parameters
    ----------
    last : ndarray of int, shape (2**n_tasks,)
        The last task of each subset's best order.
    n_tasks : int
        Number of tasks.
    best : ndarray, shape (2**n_tasks,)
        Best value per subset; ``-inf`` where no feasible order reaches it.

    Raises
    ------
    ConstraintError
        If no feasible order reaches the full set.
    """
    full = (1 << n_tasks) - 1
    if not np.isfinite(best[full]):
        raise ConstraintError(
            "No order satisfies the constraints (precedences and floors together)."
        )
    order, remaining = [], full
    while remaining:
        task = int(last[remaining])
        order.append(task)
        remaining ^= 1 << task
    return order[::-1]


def _hamiltonian_path(weights, predecessors, layers, deadline) -> list[int]:
    n_tasks = weights.shape[0]
    bits = np.int64(1) << np.arange(n_tasks, dtype=np.int64)
    best = np.full((1 << n_tasks, n_tasks), -np.inf)
    came_from = np.full((1 << n_tasks, n_tasks), -1, dtype=np.int8)
    for task in range(n_tasks):
        if predecessors[task] == 0:
            best[1 << task, task] = 0.0
    for layer in layers[1:]:
        _check_deadline(deadline)
        for start in range(0, layer.size, _CHUNK):
            sets = layer[start : start + _CHUNK]
            for task in range(n_tasks):
                holds = sets[(sets & bits[task]) != 0]
                holds = holds[(holds & predecessors[task]) == predecessors[task]]
                if holds.size == 0:
                    continue
                candidates = best[holds ^ bits[task]] + weights[:, task][None, :]
                choice = np.argmax(candidates, axis=1)
                best[holds, task] = candidates[np.arange(holds.size), choice]
                came_from[holds, task] = choice
    full = (1 << n_tasks) - 1
    end = int(np.argmax(best[full]))
    if not np.isfinite(best[full, end]):
        raise ConstraintError(
            "No order satisfies the constraints (precedences and floors together)."
        )
    order, remaining = [end], full
    while remaining != 1 << order[-1]:
        previous = int(came_from[remaining, order[-1]])
        remaining ^= 1 << order[-1]
        order.append(previous)
    return order[::-1]
