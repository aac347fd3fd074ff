"""Brute force over all ``n!`` orders: the test oracle for small ``n``."""

from __future__ import annotations

import itertools
import time

import numpy as np

from taskorder.exceptions import ConstraintError, InvalidParameterError
from taskorder.solvers.problem import Problem, Solution

__all__ = ["MAX_TASKS", "solve_brute_force"]

MAX_TASKS = 10


def solve_brute_force(
    problem: Problem, *, time_limit: float | None = None, seed: int = 0
) -> Solution:
    """Enumerate every order and keep the best feasible one (ties: first in lexicographic order).

    Parameters
    ----------
    problem : Problem
    time_limit : float, optional
        Unused (the enumeration is not interruptible); accepted for a common signature.
    seed : int
        Unused; accepted for a common signature.

    Raises
    ------
    InvalidParameterError
        If the problem has more than ``MAX_TASKS`` (10) tasks.
    """
    n_tasks = problem.n_tasks
    if n_tasks > MAX_TASKS:
        raise InvalidParameterError(
            f"Brute force enumerates n! orders and accepts at most {MAX_TASKS} tasks. "
            f"Got {n_tasks}; use method='dp' or 'auto'."
        )
    start = time.perf_counter()
    perms = np.array(list(itertools.permutations(range(n_tasks))), dtype=np.int8)
    feasible = np.ones(len(perms), dtype=bool)
    positions = np.argsort(perms, axis=1)
    for u, v in problem.constraints.edges():
        feasible &= positions[:, u] < positions[:, v]
    for floor in problem.constraints.floors:
        contributions = floor.coefficients[perms]
        before = np.arange(n_tasks)[None, :] < positions[:, floor.task][:, None]
        reached = floor.base + (contributions * before).sum(axis=1)
        feasible &= reached >= floor.minimum - 1e-9
    if not feasible.any():
        raise ConstraintError(
            "No order satisfies the constraints (precedences and floors together)."
        )
    perms = perms[feasible]
    weights = problem.weights
    values = np.zeros(len(perms))
    if problem.objective == "all_pairs":
        for k in range(n_tasks):
            for m in range(k + 1, n_tasks):
                values += weights[perms[:, k], perms[:, m]]
    else:
        for k in range(n_tasks - 1):
            values += weights[perms[:, k], perms[:, k + 1]]
    best = int(np.argmax(values))
    order = perms[best].tolist()
    value = problem.value(order)
    return Solution(
        order=order,
        value=value,
        bound=value,
        status="optimal",
        extras={"orders_enumerated": int(feasible.size), "seconds": time.perf_counter() - start},
    )
