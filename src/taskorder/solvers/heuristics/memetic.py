"""Memetic search for the linear ordering (``all_pairs``) objective.

A small population of local optima (insertion descent, :mod:`.insertion`) evolves by
order-based crossover: the child keeps a random half of one parent's positions and
fills the rest in the other parent's relative order, then descends to a local optimum
and replaces the worst member if it is better and new. Random insertions mutate
children that come out as copies. When the population stops improving (or collapses to
fewer than two distinct members), every member but the best is replaced: by descents
from random orders up to :data:`RANDOM_START_MAX_TASKS` tasks, else by perturbed
copies of the best whose kick grows with each restart that finds nothing new. The
search never stops on its own before its budget is spent (time limit, rounds, or
patience without a time limit). Every descent checks the budget between sweeps, so a
time limit is honoured at any size. Crossover children that break a precedence constraint are repaired by
list scheduling on their positions, so every member honours the constraints.

References
----------
T. Schiavinotto and T. Stützle, "The linear ordering problem: instances, search space
analysis and algorithms", J. Math. Model. Algorithms 3, 2004 (memetic search with
insertion local search performs best on random instances).
"""

from __future__ import annotations

import numpy as np

from taskorder.solvers.construct import priority_order
from taskorder.solvers.heuristics.budget import Budget
from taskorder.solvers.heuristics.insertion import InsertionTable
from taskorder.solvers.heuristics.insertion_restarts import descend_within
from taskorder.solvers.problem import Problem

__all__ = ["POPULATION_SIZE", "memetic_linear_ordering"]

POPULATION_SIZE = 10
#: Up to this size the population starts from random orders (diverse); above it, from
#: perturbed copies of the best start (a descent from a random order costs seconds).
RANDOM_START_MAX_TASKS = 300
#: Share of children that get a few random insertions before their descent.
MUTATION_RATE = 0.1
#: Share of the initial / restart population drawn as random orders (the rest are
#: perturbed copies of the best).
INIT_RANDOM_SHARE = 1.0
RESTART_RANDOM_SHARE = 1.0
#: Restart when this many population sizes of children in a row were rejected.
STALL_FACTOR = 4


def _random_insertions(
    table: InsertionTable, rng: np.random.Generator, count: int, budget: Budget | None = None
) -> None:
    """Apply ``count`` random constraint-respecting insertions to ``table`` in place;
    stop at the deadline of ``budget`` (checked every 8 moves: each is O(n * span), and a
    restart's kick grows up to n moves, seconds at n = 2,000)."""
    n_tasks = table.n_tasks
    for done in range(count):
        if budget is not None and done % 8 == 7 and budget.time_left() == 0.0:
            return
        p = int(rng.integers(n_tasks))
        limits = table.allowed_range()
        low, high = (0, n_tasks) if limits is None else (int(limits[0][p]), int(limits[1][p]))
        table.move(p, int(rng.integers(low, high + 1)))


def _crossover(first: np.ndarray, second: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Order-based crossover: keep ~half of ``first``'s positions, fill in ``second``'s order."""
    n_tasks = first.size

    keep = rng.random(n_tasks) < 0.5
    kept_task = np.zeros(n_tasks, dtype=bool)
    kept_task[first[keep]] = True
    child = first.copy()
    child[~keep] = second[~kept_task[second]]
    return child


def _repair(child: np.ndarray, problem: Problem) -> np.ndarray:
    """Nearest order (by position) that honours the constraints."""
    if problem.constraints.empty:
        return child
    position = np.empty(child.size)
    position[child] = np.arange(child.size)
    return np.array(priority_order(-position, problem.constraints.predecessors), dtype=np.intp)


class _Population:
    def __init__(self, table: InsertionTable, budget: Budget) -> None:
        self.table = table
        self.budget = budget
        self.orders: list[np.ndarray] = []
        self.values: list[float] = []

    def descend(self) -> tuple[np.ndarray, float]:
        """Descend the table (stopping early if the budget runs out); its order and value."""
        descend_within(self.table, self.budget)
        return self.table.order.copy(), self.table.value_from_prefix()

    def descend_from(self, order) -> tuple[np.ndarray, float]:
        self.table.reset(order)
        return self.descend()

    def contains(self, order: np.ndarray, value: float) -> bool:
        return any(
            abs(v - value) <= 1e-9 * max(1.0, abs(value)) and np.array_equal(o, order)
            for o, v in zip(self.orders, self.values)
        )

    def offer(self, order: np.ndarray, value: float, size: int) -> bool:
        if self.contains(order, value):
            return False
        if len(self.orders) < size:
            self.orders.append(order)
            self.values.append(value)
            return True
        worst = int(np.argmin(self.values))
        if value > self.values[worst]:
            self.orders[worst], self.values[worst] = order, value
            return True
        return False

    def best(self) -> tuple[np.ndarray, float]:
        index = int(np.argmax(self.values))
        return self.orders[index], self.values[index]


def _perturbed_copy(pop: _Population, order, rng, strength: int) -> tuple[np.ndarray, float]:
    pop.table.reset(order)
    _random_insertions(pop.table, rng, strength, pop.budget)
    return pop.descend()


def _fill(
    pop, problem, rng, budget, size, random_share, *, count_rounds=False, strength=None
) -> None:
    """Top the population up with random orders (a ``random_share`` of the slots, only
    up to :data:`RANDOM_START_MAX_TASKS` tasks) and perturbed copies of the best."""
    n_tasks = problem.n_tasks
    target = min(size, max(2, n_tasks // 2))
    strength = strength or max(2, n_tasks // 8)
    for attempt in range(3 * size):
        if len(pop.orders) >= target or budget.exhausted():
            break
        if n_tasks <= RANDOM_START_MAX_TASKS and attempt < random_share * target:
            member = pop.descend_from(_repair(rng.permutation(n_tasks), problem))
        else:
            member = _perturbed_copy(pop, pop.best()[0], rng, strength)
        pop.offer(*member, size)
        if count_rounds:
            budget.next_round()
        budget.improved(pop.best()[1])


def memetic_linear_ordering(
    problem: Problem,
    starts: list[list[int]],
    budget: Budget,
    rng: np.random.Generator,
    *,
    population_size: int = POPULATION_SIZE,
) -> tuple[list[int], float]:
    """Run the memetic search from ``starts`` until ``budget`` is exhausted.

    Parameters
    ----------
    problem : Problem
        An ``all_pairs`` problem.
    starts : list of list of int
        Constructive orders that honour the constraints; each is descended first.
    budget : Budget
        Stopping rule; receives the anytime curve. One round is one child.
    rng : numpy.random.Generator

    Returns
    -------
    (order, value)
        The best order found and its value.
    """
    n_tasks = problem.n_tasks
    table = InsertionTable(problem.weights, starts[0], problem.constraints.edges())
    pop = _Population(table, budget)
    budget.improved(table.value)  # a first answer before any descent (large n)
    for start in starts:
        if pop.orders and budget.time_left() == 0.0:
            break  # deadline: no O(n^2) table rebuild for the other starts
        pop.offer(*pop.descend_from(start), population_size)
        budget.improved(pop.best()[1])
    _fill(pop, problem, rng, budget, population_size, INIT_RANDOM_SHARE, count_rounds=True)
    stall, strength = 0, max(2, n_tasks // 8)
    while not budget.exhausted():
        if len(pop.orders) < 2 or stall >= STALL_FACTOR * population_size:
            # converged or collapsed: restart around the best; kick harder each time a
            # restart brings nothing new, so the search keeps moving until its budget ends
            best_order, best_value = pop.best()
            pop.orders, pop.values = [best_order], [best_value]
            _fill(
                pop,
                problem,
                rng,
                budget,
                population_size,
                RESTART_RANDOM_SHARE,
                count_rounds=True,
                strength=strength,
            )
            stall = 0
            strength = max(2, n_tasks // 8) if len(pop.orders) >= 2 else min(n_tasks, 2 * strength)
            continue
        budget.next_round()
        first, second = rng.choice(len(pop.orders), size=2, replace=False)
        child = _repair(_crossover(pop.orders[first], pop.orders[second], rng), problem)
        if rng.random() < MUTATION_RATE:
            pop.table.reset(child)
            _random_insertions(pop.table, rng, 5, budget)
            child = pop.table.order.copy()
        order, value = pop.descend_from(child)
        if pop.contains(order, value) and budget.time_left() != 0.0:  # not after the deadline
            order, value = _perturbed_copy(pop, order, rng, max(2, n_tasks // 20))
        stall = 0 if pop.offer(order, value, population_size) else stall + 1
        budget.improved(pop.best()[1])
    order, value = pop.best()
    return order.tolist(), value
