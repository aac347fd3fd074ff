"""The published baseline: train tasks from least to most forgettable.

Omni-Thinker (arXiv 2507.14783) ranks tasks by forgettability, the total score a
task loses when the others are trained after it, ``-sum_j bwt[i, j]``, and trains the
least forgettable first, so the most forgettable task comes last and is not
overwritten. With constraints, the rule picks, at each position, the least
forgettable task whose required predecessors are already placed.
"""

from __future__ import annotations

import heapq

from taskorder.solvers.problem import Problem, Solution

__all__ = ["solve_rank"]


def solve_rank(problem: Problem, *, time_limit: float | None = None, seed: int = 0) -> Solution:
    """Order by forgettability, least first, honouring constraints (status ``heuristic``).

    Forgettability comes from ``problem.forgettability`` (the matrix's ``bwt`` row
    sums, negated); ties are broken by task index, so the rule is deterministic.

    Parameters
    ----------
    problem : Problem
        Any objective. The order comes from ``problem.forgettability`` and the
        precedence constraints; ``problem.value`` gives the reported value.
    time_limit : float, optional
        Unused (the rule does not search); accepted for a common signature.
    seed : int
        Unused (the rule is deterministic); accepted for a common signature.

    Returns
    -------
    Solution
        Status ``heuristic``, no bound.

    Raises
    ------
    ConstraintError
        If the constraints hold floors on predicted values.
    """
    if problem.constraints.floors:
        from taskorder.exceptions import ConstraintError

        raise ConstraintError(
            "The rank rule cannot honour floors on predicted values (e.g. entropy floors); "
            "use method='dp', 'brute' or 'auto'."
        )
    n_tasks = problem.n_tasks
    forgettability = problem.forgettability
    predecessors = list(problem.constraints.predecessors or [0] * n_tasks)
    placed = 0
    ready = [(forgettability[t], t) for t in range(n_tasks) if predecessors[t] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    waiting = {t for t in range(n_tasks) if predecessors[t] != 0}
    while ready:
        _, task = heapq.heappop(ready)
        order.append(task)
        placed |= 1 << task
        for other in sorted(waiting):
            if predecessors[other] & placed == predecessors[other]:
                waiting.discard(other)
                heapq.heappush(ready, (forgettability[other], other))
    return Solution(order=order, value=problem.value(order), bound=None, status="heuristic")
