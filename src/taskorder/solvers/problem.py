"""The problem a solver sees, and the raw answer it returns.

Every solver in :mod:`taskorder.solvers` has the signature
``solver(problem, *, time_limit=None, seed=0) -> Solution`` and works on task indices;
:func:`taskorder.solve` turns the :class:`Solution` into a :class:`~taskorder.SolveResult`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taskorder.exceptions import ConstraintError
from taskorder.matrix import TransferMatrix
from taskorder.objectives import order_value

__all__ = ["Constraints", "Floor", "Problem", "Solution", "STATUSES", "SOLVER_OBJECTIVES"]

#: ``optimal``: proven optimal. ``feasible``: an exact method stopped at its time limit
#: (see ``bound``). ``heuristic``: no optimality claim.
STATUSES = ("optimal", "feasible", "heuristic")

#: Objectives a solver may be asked for: the two of :mod:`taskorder.objectives` and
#: ``"max_min"`` (maximise the lowest predicted final score, see :class:`Problem`).
SOLVER_OBJECTIVES = ("all_pairs", "adjacent", "max_min")


@dataclass(frozen=True)
class Floor:
    """A lower bound on an additive per-task quantity (e.g. predicted final entropy).

    The quantity for ``task`` is ``base + sum_{j before task} coefficients[j]``, which is
    how every additive prediction depends on an order (see :mod:`taskorder.entropy`).
    """

    task: int
    base: float
    coefficients: np.ndarray
    minimum: float
    label: str = "value"

    def value(self, order: Sequence[int]) -> float:
        before = list(order)[: list(order).index(self.task)]
        return float(self.base + self.coefficients[before].sum())

    def best_possible(self) -> float:
        """The largest value any order could give (every helpful task before it)."""
        return float(self.base + np.clip(self.coefficients, 0, None).sum())


@dataclass(frozen=True)
class Constraints:
    """Order constraints on task indices: a first task, a last task, precedence pairs.

    Build it with :meth:`from_names`, which checks names and consistency.
    ``predecessors[j]`` is a bitmask of tasks that must come before ``j``; ``first``
    and ``last`` are folded into it, so solvers only need this one mask.
    """

    n_tasks: int
    first: int | None = None
    last: int | None = None
    before: tuple[tuple[int, int], ...] = ()
    predecessors: tuple[int, ...] = ()
    floors: tuple[Floor, ...] = ()

    @property
    def empty(self) -> bool:
        return self.first is None and self.last is None and not self.before and not self.floors

    @classmethod
    def from_names(
        cls,
        matrix: TransferMatrix,
        first: str | None = None,
        last: str | None = None,
        before: Sequence[tuple[str, str]] = (),
    ) -> Constraints:
        """Validate named constraints against ``matrix`` and fold them into masks.

        Raises
        ------
        ConstraintError
            For unknown task names, a task before itself, ``first == last``, or
            constraints that form a cycle (the message names it).
        """
        if first is None and last is None and not before:  # nothing to check (no networkx)
            return cls(n_tasks=matrix.n_tasks, predecessors=(0,) * matrix.n_tasks)
        import networkx as nx

        def index(task: str, what: str) -> int:
            if task not in matrix.tasks:
                raise ConstraintError(
                    f"The {what} constraint names unknown task {task!r}. "
                    f"Known tasks: {list(matrix.tasks)}."
                )
            return matrix.index(task)

        n_tasks = matrix.n_tasks
        first_i = None if first is None else index(first, "'first'")
        last_i = None if last is None else index(last, "'last'")
        if first_i is not None and first_i == last_i:
            raise ConstraintError(f"Task {first!r} cannot be both first and last.")
        pairs = []
        for pair in before:
            if len(pair) != 2:
                raise ConstraintError(
                    f"Each 'before' constraint must be a pair (earlier, later). Got {pair!r}."
                )
            a, b = index(pair[0], "'before'"), index(pair[1], "'before'")
            if a == b:
                raise ConstraintError(f"Task {pair[0]!r} cannot be trained before itself.")
            pairs.append((a, b))
        graph = nx.DiGraph()
        graph.add_nodes_from(range(n_tasks))
        graph.add_edges_from(pairs, why="before")
        for k in range(n_tasks):
            if first_i is not None and k != first_i and not graph.has_edge(first_i, k):
                graph.add_edge(first_i, k, why="first")
            if last_i is not None and k != last_i and not graph.has_edge(k, last_i):
                graph.add_edge(k, last_i, why="last")
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            shown = " -> ".join(matrix.tasks[u] for u, _ in cycle) + f" -> {matrix.tasks[cycle[0][0]]}"
            raise ConstraintError(
                f"The order constraints contradict each other: they require {shown} "
                "(a cycle), so no order satisfies them."
            )
        predecessors = [0] * n_tasks
        for u, v in graph.edges:
            predecessors[v] |= 1 << u
        return cls(
            n_tasks=n_tasks,
            first=first_i,
            last=last_i,
            before=tuple(dict.fromkeys(pairs)),
            predecessors=tuple(predecessors),
        )

    def edges(self) -> list[tuple[int, int]]:
        """Every required precedence ``(earlier, later)``, first/last included."""
        edges = []
        for v, mask in enumerate(self.predecessors):
            while mask:  # set bits only: O(n + edges), not O(n^2)
                lowest = mask & -mask
                edges.append((lowest.bit_length() - 1, v))
                mask ^= lowest
        return edges

    def satisfied_by(self, order: Sequence[int]) -> bool:
        """True if the index order honours every constraint (floors included)."""
        position = {task: k for k, task in enumerate(order)}
        if not all(position[u] < position[v] for u, v in self.edges()):
            return False
        return all(floor.value(order) >= floor.minimum - 1e-9 for floor in self.floors)


@dataclass(frozen=True)
class Problem:
    """Pair weights, objective and constraints: everything a solver needs.

    For ``objective="max_min"`` the per-task arrays are needed too: the predicted final
    score of task ``i`` (the additive model of :mod:`taskorder.model`) is
    ``own[i] + sum_{j after i} bwt[i, j] + sum_{j before i} forward[j, i]`` and the
    objective is its minimum over tasks (see :data:`taskorder.SIGN_CONVENTION`).
    ``weights`` still holds the pair weights (the rank rule and bounds use them).

    Examples
    --------
    >>> import numpy as np
    >>> bwt = np.array([[0.0, -0.2], [0.05, 0.0]])
    >>> p = Problem(bwt, "max_min", Constraints(2, predecessors=(0, 0)), bwt=bwt,
    ...             own=np.array([0.7, 0.5]))
    >>> p.final_scores([1, 0]).tolist(), p.value([1, 0])
    ([0.7, 0.55], 0.55)
    """

    weights: np.ndarray
    objective: str
    constraints: Constraints
    #: Per-task forgettability used by the rank rule; defaults to ``-W.sum(axis=1)``.
    forgettability: np.ndarray | None = None
    #: ``max_min`` only: backward transfer, ``bwt[i, j]`` = effect on ``i`` of ``j`` after ``i``.
    bwt: np.ndarray | None = None
    #: ``max_min`` only: forward transfer, ``forward[i, j]`` = effect on ``j`` of ``i`` before
    #: ``j``; zeros when ``None``.
    forward: np.ndarray | None = None
    #: ``max_min`` only: own-stage scores; zeros when ``None`` (final scores are then changes).
    own: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.forgettability is None:
            object.__setattr__(self, "forgettability", -self.weights.sum(axis=1))
        if self.objective == "max_min":
            if self.bwt is None:
                raise ValueError(
                    "The 'bwt' field of Problem is required for objective='max_min'. Got None."
                )
            n_tasks = self.n_tasks
            if self.forward is None:
                object.__setattr__(self, "forward", np.zeros((n_tasks, n_tasks)))
            if self.own is None:
                object.__setattr__(self, "own", np.zeros(n_tasks))

    @property
    def n_tasks(self) -> int:
        return self.weights.shape[0]

    def final_scores(self, order: Sequence[int]) -> np.ndarray:
        """Predicted final score per task (indexed by task) for ``max_min`` problems."""
        idx = np.asarray(order, dtype=np.intp)
        position = np.empty(self.n_tasks, dtype=np.intp)
        position[idx] = np.arange(idx.size)
        later = position[None, :] > position[:, None]  # later[i, j]: j trained after i
        return self.own + (self.bwt * later).sum(axis=1) + (self.forward * later).sum(axis=0)

    def value(self, order: Sequence[int]) -> float:
        if self.objective == "max_min":
            return float(self.final_scores(order).min())
        return order_value(self.weights, order, self.objective)


@dataclass
class Solution:
    """A solver's raw answer on task indices."""

    order: list[int]
    value: float
    bound: float | None
    status: str
    extras: dict[str, Any] = field(default_factory=dict)
