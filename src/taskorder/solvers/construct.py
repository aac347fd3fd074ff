"""Constructive orders shared by the solvers: list scheduling under precedence.

:func:`priority_order` places, at each position, the highest-priority task whose
required predecessors are already placed, so its output always honours the problem's
constraints. The exact solvers use it to repair an integer solution with cycles into an
order (priority = number of pairwise "wins"), the local search to build its start.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from taskorder.solvers.problem import Problem

__all__ = ["net_gain_order", "predecessor_matrix", "priority_order"]


def predecessor_matrix(problem: Problem) -> np.ndarray:
    """Boolean ``(n, n)`` array: ``[j, u]`` is True when ``u`` must come before ``j``."""
    n_tasks = problem.n_tasks
    matrix = np.zeros((n_tasks, n_tasks), dtype=bool)
    for u, v in problem.constraints.edges():
        matrix[v, u] = True
    return matrix


def priority_order(priority: Sequence[float], predecessors: Sequence[int]) -> list[int]:
    """Highest priority first, never before a required predecessor (ties: lower index).

    Parameters
    ----------
    priority : sequence of float
        One number per task; larger goes earlier.
    predecessors : sequence of int
        Bitmask per task of the tasks that must precede it (``Constraints.predecessors``);
        empty means no constraints.

    Examples
    --------
    >>> priority_order([0.0, 5.0, 3.0], [0, 0b001, 0])
    [2, 0, 1]
    """
    n_tasks = len(priority)
    masks = list(predecessors) or [0] * n_tasks
    if not any(masks):
        return [int(t) for t in np.lexsort((np.arange(n_tasks), -np.asarray(priority, float)))]
    successors: list[list[int]] = [[] for _ in range(n_tasks)]
    missing = [0] * n_tasks
    for task, mask in enumerate(masks):
        while mask:
            lowest = mask & -mask
            successors[lowest.bit_length() - 1].append(task)
            missing[task] += 1
            mask ^= lowest
    ready = [(-float(priority[t]), t) for t in range(n_tasks) if missing[t] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, task = heapq.heappop(ready)
        order.append(task)
        for later in successors[task]:
            missing[later] -= 1
            if missing[later] == 0:
                heapq.heappush(ready, (-float(priority[later]), later))
    return order


def net_gain_order(problem: Problem) -> list[int]:
    """Order by ``sum_j (W[i, j] - W[j, i])``, the net gain of ``i`` going first.

    This is the Borda count of the linear ordering problem (Becker's quotient's
    cheap cousin): a task that gains more from preceding the others than it loses by
    following them goes earlier. Honours the constraints.
    """
    weights = problem.weights
    return priority_order((weights - weights.T).sum(axis=1), problem.constraints.predecessors)
