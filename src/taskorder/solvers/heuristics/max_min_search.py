"""Iterated insertion search for the ``max_min`` objective (the worst task's final score).

Predicted final scores ``f`` follow :class:`~taskorder.solvers.problem.Problem`. When
task ``e`` moves right past task ``x``, ``x`` gains ``bwt[x, e] - forward[e, x]`` (``e``
now comes after it) and ``e`` gains ``forward[x, e] - bwt[e, x]``; moving left negates
both. For one task all targets are scored at once: running minima of the crossed
tasks' new scores, prefix/suffix minima of the untouched ones, and a running sum for
the moved task, O(n) per task and O(n^2) per sweep.

The minimum alone is flat (most moves do not touch the worst task), so moves are
compared lexicographically: first the minimum, then the sum of final scores.
"""

from __future__ import annotations

import numpy as np

from taskorder.solvers.heuristics.budget import Budget
from taskorder.solvers.problem import Problem

__all__ = ["MaxMinState", "search_max_min"]


class MaxMinState:
    """An order with its final scores, and the best insertion of any task.

    Examples
    --------
    >>> import numpy as np
    >>> from taskorder.solvers.problem import Constraints, Problem
    >>> bwt = np.array([[0.0, -0.2], [0.05, 0.0]])
    >>> p = Problem(bwt, "max_min", Constraints(2, predecessors=(0, 0)), bwt=bwt,
    ...             own=np.array([0.7, 0.5]))
    >>> state = MaxMinState(p, [0, 1])
    >>> round(state.minimum, 3), state.descend() > 0, state.order.tolist(), round(state.minimum, 3)
    (0.5, True, [1, 0], 0.55)
    """

    def __init__(self, problem: Problem, order) -> None:
        self.problem = problem
        self.n_tasks = problem.n_tasks
        self.bwt, self.forward = problem.bwt, problem.forward
        self.edges = np.asarray(problem.constraints.edges(), dtype=np.intp).reshape(-1, 2)
        self.set_order(order)

    def set_order(self, order) -> None:
        self.order = np.array(order, dtype=np.intp)
        self.position = np.empty(self.n_tasks, dtype=np.intp)
        self.position[self.order] = np.arange(self.n_tasks)
        self.final = self.problem.final_scores(self.order)

    @property
    def minimum(self) -> float:
        return float(self.final.min())

    @property
    def key(self) -> tuple[float, float]:
        return float(self.final.min()), float(self.final.sum())

    def _limits(self, p: int) -> tuple[int, int]:
        low, high = 0, self.n_tasks - 1
        task = self.order[p]
        if self.edges.size:
            before = self.edges[self.edges[:, 1] == task, 0]
            after = self.edges[self.edges[:, 0] == task, 1]
            if before.size:
                low = int(self.position[before].max()) + 1
            if after.size:
                high = int(self.position[after].min()) - 1
        return low, high

    def best_insertion(self, p: int) -> tuple[float, float, int]:
        """(new minimum, new sum, target position) of the best move of ``order[p]``."""
        order, final, task, n = self.order, self.final, self.order[p], self.n_tasks
        by_position = final[order]
        crossed_gain = self.bwt[order, task] - self.forward[task, order]  # x's gain, e moves right
        task_gain = self.forward[order, task] - self.bwt[task, order]  # e's gain per x crossed
        inf = np.full(1, np.inf)
        prefix_min = np.concatenate([inf, np.minimum.accumulate(by_position)])  # min over < k
        suffix_min = np.concatenate([np.minimum.accumulate(by_position[::-1])[::-1], inf])
        new_min = np.full(n, -np.inf)
        new_sum = np.full(n, -np.inf)
        base_sum = final.sum()
        if p < n - 1:  # right: targets q = p+1 .. n-1
            moved = by_position[p + 1 :] + crossed_gain[p + 1 :]
            score = final[task] + np.cumsum(task_gain[p + 1 :])
            new_min[p + 1 :] = np.minimum.reduce(
                [
                    np.minimum.accumulate(moved),
                    score,
                    suffix_min[p + 2 :],
                    np.full(n - p - 1, prefix_min[p]),
                ]
            )
            new_sum[p + 1 :] = base_sum + np.cumsum(crossed_gain[p + 1 :] + task_gain[p + 1 :])
        if p > 0:  # left: targets q = p-1 .. 0, stored at index q
            moved = (by_position[:p] - crossed_gain[:p])[::-1]
            score = final[task] - np.cumsum(task_gain[:p][::-1])
            left_min = np.minimum.reduce(
                [
                    np.minimum.accumulate(moved),
                    score,
                    prefix_min[:p][::-1],
                    np.full(p, suffix_min[p + 1]),
                ]
            )
            new_min[:p] = left_min[::-1]
            new_sum[:p] = (base_sum - np.cumsum((crossed_gain[:p] + task_gain[:p])[::-1]))[::-1]
        low, high = self._limits(p)
        new_min[:low], new_min[high + 1 :], new_min[p] = -np.inf, -np.inf, -np.inf
        top = new_min.max()
        tolerance = 1e-12 * max(1.0, abs(top))
        candidates = np.flatnonzero(new_min >= top - tolerance)
        q = int(candidates[np.argmax(new_sum[candidates])])
        return float(new_min[q]), float(new_sum[q]), q

    def move(self, p: int, q: int) -> None:
        """Move ``order[p]`` to position ``q``, updating the final scores in O(n)."""
        if q == p:
            return
        task = self.order[p]
        low, high = min(p, q), max(p, q)
        crossed = self.order[p + 1 : q + 1] if q > p else self.order[q:p]
        sign = 1.0 if q > p else -1.0
        self.final[crossed] += sign * (self.bwt[crossed, task] - self.forward[task, crossed])
        self.final[task] += sign * float(
            (self.forward[crossed, task] - self.bwt[task, crossed]).sum()
        )
        if q > p:
            self.order[p:q] = self.order[p + 1 : q + 1].copy()
        else:
            self.order[q + 1 : p + 1] = self.order[q:p].copy()
        self.order[q] = task
        self.position[self.order[low : high + 1]] = np.arange(low, high + 1)

    def better(self, key: tuple[float, float], than: tuple[float, float]) -> bool:
        tolerance = 1e-12 * max(1.0, abs(than[0]))
        if key[0] > than[0] + tolerance:
            return True
        sum_tolerance = 1e-12 * max(1.0, abs(than[1]))
        return key[0] >= than[0] - tolerance and key[1] > than[1] + sum_tolerance

    def descend(self) -> float:
        """First-improvement insertion descent (lexicographic); returns the min's gain."""
        start = self.minimum
        improved = True
        while improved:
            improved = False
            for task in self.order.tolist():
                p = int(self.position[task])
                new_min, new_sum, q = self.best_insertion(p)
                if q != p and self.better((new_min, new_sum), self.key):
                    self.move(p, q)
                    improved = True
        return self.minimum - start

    def kick(self, rng: np.random.Generator, count: int) -> None:
        """``count`` random constraint-respecting insertions."""
        for _ in range(count):
            p = int(rng.integers(self.n_tasks))
            low, high = self._limits(p)
            self.move(p, int(rng.integers(low, high + 1)))


def search_max_min(
    problem: Problem, starts: list[list[int]], budget: Budget, rng: np.random.Generator
) -> tuple[list[int], float]:
    """Iterated insertion search for ``max_min`` until ``budget`` is spent.

    Parameters
    ----------
    problem : Problem
        A ``max_min`` problem.
    starts : list of list of int
        Orders that honour the constraints; each is descended and the best (by minimum,
        then sum of final scores) is where the kicks begin.
    budget : Budget
        Stopping rule; one round is one kick and descent. Receives the anytime curve of
        the minimum final score.
    rng : numpy.random.Generator
        Source of the kicks.

    Returns
    -------
    (order, value)
        The best order found and its ``problem.value``.
    """
    state = MaxMinState(problem, starts[0])
    best_order, best_key = None, (-np.inf, -np.inf)
    for start in starts:
        state.set_order(start)
        state.descend()
        if best_order is None or state.better(state.key, best_key):
            best_order, best_key = state.order.copy(), state.key
    budget.improved(best_key[0])
    state.set_order(best_order)
    current = best_key
    strength = max(2, problem.n_tasks // 10)
    while not budget.exhausted():
        budget.next_round()
        saved = state.order.copy()
        state.kick(rng, int(rng.integers(1, strength + 1)))
        state.descend()
        if state.better(state.key, best_key):
            best_order, best_key = state.order.copy(), state.key
            budget.improved(best_key[0])
            if budget.rounds_since_improvement:  # tie on the min, better sum
                budget.rounds_since_improvement = 0
        if not state.better(current, state.key):
            current = state.key
        else:
            state.set_order(saved)
        if budget.rounds_since_improvement and budget.rounds_since_improvement % 50 == 0:
            state.set_order(best_order)
            current = best_key
    return best_order.tolist(), float(problem.value(best_order))
