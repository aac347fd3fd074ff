"""The problem to solve: what the caller asks for, and what a solver sees.

Two levels:

:class:`ProblemSpec`
    What the caller asks for, in task names: objective, order constraints, outcome
    model, entropy terms and noise / risk. Built once, passed to
    :func:`taskorder.solve`, which turns it into a :class:`Problem` (docs/problem.md
    lists which combinations work and the error for each that does not).
:class:`Problem`
    What a solver sees, on task indices. Every solver in :mod:`taskorder.solvers` has
    the signature ``solver(problem, *, time_limit=None, seed=0) -> Solution``;
    :func:`taskorder.solve` turns the :class:`Solution` into a
    :class:`~taskorder.SolveResult`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from taskorder.exceptions import ConstraintError, InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.model import MODELS
from taskorder.objectives import order_value

__all__ = [
    "ENTROPY_MODELS",
    "RISKS",
    "SOLVER_OBJECTIVES",
    "STATUSES",
    "Constraints",
    "Floor",
    "Problem",
    "ProblemSpec",
    "Solution",
]

#: ``optimal``: proven optimal. ``feasible``: an exact method stopped at its time limit
#: (see ``bound``). ``heuristic``: no optimality claim.
STATUSES = ("optimal", "feasible", "heuristic")

#: Objectives a solver may be asked for: the two of :mod:`taskorder.objectives` and
#: ``"max_min"`` (maximise the lowest predicted final score, see :class:`Problem`).
SOLVER_OBJECTIVES = ("all_pairs", "adjacent", "max_min")

#: How predicted final entropies combine (see :mod:`taskorder.solvers.entropy`).
ENTROPY_MODELS = ("additive", "multiplicative")

#: How an order is chosen under noise (see :mod:`taskorder.solvers.robust`): best expected
#: objective, best lower ``quantile`` of the objective, or highest probability of being
#: optimal.
RISKS = ("mean", "quantile", "probability")


@dataclass(frozen=True)
class Floor:
    """A lower bound on an additive per-task quantity (e.g. predicted final entropy).

    The quantity for ``task`` is ``base + sum_{j before task} coefficients[j]``, which is
    how every additive prediction depends on an order (see :mod:`taskorder.solvers.entropy`).
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
        """No precedence (the mask, where first, last and before are folded) and no floor."""
        return not any(self.predecessors) and not self.floors

    @classmethod
    def from_names(
        cls,
        matrix: TransferMatrix,
        first: str | None = None,
        last: str | None = None,
        before: Sequence[tuple[str, str]] = (),
    ) -> Constraints:
        """Validate named constraints against ``matrix`` and fold them into masks.

        Parameters
        ----------
        matrix : TransferMatrix
            Supplies the task names and their indices.
        first, last : str, optional
            Task that must be trained first / last.
        before : sequence of (str, str)
            Pairs ``(a, b)``: ``a`` must be trained before ``b``.

        Returns
        -------
        Constraints
            On the matrix's task indices, with ``predecessors`` masks (no floors).

        Raises
        ------
        ConstraintError
            For unknown task names, a task before itself, ``first == last``, or
            constraints that form a cycle (the message names it).
        """
        if first is None and last is None and not before:  # nothing to check
            return cls(n_tasks=matrix.n_tasks, predecessors=(0,) * matrix.n_tasks)

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
        edges = list(dict.fromkeys(pairs))
        for k in range(n_tasks):
            if first_i is not None and k != first_i:
                edges.append((first_i, k))
            if last_i is not None and k != last_i:
                edges.append((k, last_i))
        edges = list(dict.fromkeys(edges))
        cycle = _find_cycle(n_tasks, edges)
        if cycle:
            shown = " -> ".join(matrix.tasks[u] for u in [*cycle, cycle[0]])
            raise ConstraintError(
                f"The order constraints contradict each other: they require {shown} "
                "(a cycle), so no order satisfies them."
            )
        predecessors = [0] * n_tasks
        for u, v in edges:
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


def _find_cycle(n_tasks: int, edges: Sequence[tuple[int, int]]) -> list[int] | None:
    """One directed cycle of ``edges`` as a list of nodes, or ``None`` (iterative DFS)."""
    successors: list[list[int]] = [[] for _ in range(n_tasks)]
    for u, v in edges:
        successors[u].append(v)
    state = [0] * n_tasks  # 0 new, 1 on the current path, 2 done
    for root in range(n_tasks):
        if state[root]:
            continue
        path, stack = [root], [iter(successors[root])]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state[nxt] == 1:
                return path[path.index(nxt) :]
            elif state[nxt] == 0:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(successors[nxt]))
    return None


@dataclass(frozen=True)
class Problem:
    """Pair weights, objective and constraints: everything a solver needs.

    The value of an order (what solvers maximise and :meth:`value` returns):

    - ``"all_pairs"`` / ``"adjacent"``: the Linear Ordering value of ``weights``
      (:mod:`taskorder.objectives`), plus, when ``retention`` is given (the
      multiplicative outcome model, :mod:`taskorder.model`), the weighted predicted
      change ``sum_i task_weights[i] * (final_i - own[i])`` with
      ``final_i = own[i] * prod_{j after i} retention[i, j]``;
    - ``"max_min"``: the lowest predicted final score, ``min_i final_i``, where
      ``final_i = own[i] + sum_{j after i} bwt[i, j] + sum_{j before i} forward[j, i]``
      (the additive model; see :data:`taskorder.SIGN_CONVENTION`) or the multiplicative
      ``final_i`` above when ``retention`` is given.

    For ``max_min``, ``weights`` holds the pair weights of the linear counterpart (the
    rank rule's default forgettability and the cheap bounds use them).

    Examples
    --------
    >>> import numpy as np
    >>> bwt = np.array([[0.0, -0.2], [0.05, 0.0]])
    >>> p = Problem(bwt, "max_min", Constraints(2, predecessors=(0, 0)), bwt=bwt,
    ...             own=np.array([0.7, 0.5]))
    >>> p.final_scores([1, 0]).tolist(), p.value([1, 0])
    ([0.7, 0.55], 0.55)
    >>> keep = np.array([[1.0, 0.5], [1.0, 1.0]])  # b keeps half of a's score
    >>> m = Problem(np.zeros((2, 2)), "all_pairs", Constraints(2, predecessors=(0, 0)),
    ...             own=np.array([0.8, 0.5]), retention=keep, task_weights=np.ones(2))
    >>> m.value([0, 1]), m.value([1, 0])
    (-0.4, 0.0)
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
    #: Own-stage scores (``max_min`` and the multiplicative model); zeros when ``None``.
    own: np.ndarray | None = None
    #: Multiplicative model: ``retention[i, j]`` is the share of ``i``'s score kept when
    #: ``j`` is trained after ``i`` (diagonal 1). ``None`` for the additive model.
    retention: np.ndarray | None = None
    #: Multiplicative model: each task's weight in the objective; ones when ``None``.
    task_weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.forgettability is None:
            object.__setattr__(self, "forgettability", -self.weights.sum(axis=1))
        n_tasks = self.n_tasks
        if self.objective == "max_min" and self.retention is None:
            if self.bwt is None:
                raise ValueError(
                    "The 'bwt' field of Problem is required for objective='max_min'. Got None."
                )
            if self.forward is None:
                object.__setattr__(self, "forward", np.zeros((n_tasks, n_tasks)))
        if self.own is None and (self.objective == "max_min" or self.retention is not None):
            object.__setattr__(self, "own", np.zeros(n_tasks))
        if self.retention is not None and self.task_weights is None:
            object.__setattr__(self, "task_weights", np.ones(n_tasks))

    @property
    def n_tasks(self) -> int:
        return self.weights.shape[0]

    @property
    def multiplicative(self) -> bool:
        """True when final scores follow the multiplicative model (``retention`` given)."""
        return self.retention is not None

    def final_scores(self, order: Sequence[int]) -> np.ndarray:
        """Predicted final score per task (indexed by task) for ``max_min`` and
        multiplicative problems."""
        idx = np.asarray(order, dtype=np.intp)
        position = np.empty(self.n_tasks, dtype=np.intp)
        position[idx] = np.arange(idx.size)
        later = position[None, :] > position[:, None]  # later[i, j]: j trained after i
        if self.retention is not None:
            if self.objective == "adjacent":
                later = position[None, :] == position[:, None] + 1
            return self.own * np.where(later, self.retention, 1.0).prod(axis=1)
        return self.own + (self.bwt * later).sum(axis=1) + (self.forward * later).sum(axis=0)

    def value(self, order: Sequence[int]) -> float:
        if self.objective == "max_min":
            return float(self.final_scores(order).min())
        linear = order_value(self.weights, order, self.objective)
        if self.retention is None:
            return linear
        change = self.task_weights * (self.final_scores(order) - self.own)
        return float(linear + change.sum())


@dataclass
class Solution:
    """A solver's raw answer on task indices."""

    order: list[int]
    value: float
    bound: float | None
    status: str
    extras: dict[str, Any] = field(default_factory=dict)


_SPEC_NOTE = "(see docs/problem.md for the combinations that work)"


def _refuse(field_name: str, expected: str, got: Any) -> InvalidParameterError:
    return InvalidParameterError(
        f"The {field_name!r} field of ProblemSpec must be {expected}. Got {got!r}."
    )


@dataclass(frozen=True)
class ProblemSpec:
    """What to optimise, in task names: pass it to :func:`taskorder.solve`.

    Every field has a default, so ``ProblemSpec()`` is the plain linear ordering problem
    (all pairs, additive model, no constraints, no entropy, no noise). Fields that cannot
    be combined raise :class:`~taskorder.InvalidParameterError` here, naming both;
    checks that need the matrix (task names, own scores, standard errors) run in
    :func:`taskorder.solve`. docs/problem.md has the full table.

    Attributes
    ----------
    objective : {"all_pairs", "adjacent", "max_min"}
        ``"all_pairs"``: every later stage acts on every earlier task; ``"adjacent"``:
        only the next stage acts; ``"max_min"``: maximise the lowest predicted final
        score. ``"all-pairs"`` / ``"max-min"`` are accepted.
    first, last : str, optional
        Task that must be trained first / last.
    before : sequence of (str, str)
        Pairs ``(a, b)``: ``a`` must be trained before ``b``.
    model : {"additive", "backward_only", "multiplicative"}
        Outcome model (:mod:`taskorder.model`): how predicted final scores follow from
        the matrix. ``"backward_only"`` drops forward transfer; ``"multiplicative"``
        compounds retention ratios (needs positive ``own_scores``).
    entropy : TransferMatrix, optional
        Entropy transfer matrix (same tasks); the result then carries each task's
        predicted final entropy (:class:`~taskorder.result.EntropyOutcome`).
    entropy_floor : mapping of str to float, optional
        Minimum predicted final entropy per task, in nats (needs ``entropy`` and
        ``objective="all_pairs"``; solved exactly by the subset DP).
    entropy_weight : float or mapping of str to float, optional
        Adds ``weight_t * (predicted final entropy of t - its own-stage entropy)`` to the
        objective (needs ``entropy``, ``objective="all_pairs"`` and
        ``entropy_model="additive"``).
    entropy_model : {"additive", "multiplicative"}
        How final entropies are predicted (:mod:`taskorder.solvers.entropy`).
    risk : {"mean", "quantile", "probability"}, optional
        Solve under noise (:mod:`taskorder.solvers.robust`): draw plausible matrices from the
        standard errors (or use ``samples``), solve each, and pick among the orders that
        came out optimal by expected objective, lower ``quantile``, or probability of
        being optimal. ``None`` (default): solve the point estimate only. Giving
        ``samples`` without ``risk`` means ``risk="mean"``.
    quantile : float
        The lower quantile for ``risk="quantile"``, strictly between 0 and 1.
    n_samples : int
        Gaussian draws when ``samples`` is not given (at least 2).
    samples : sequence of TransferMatrix, optional
        Plausible matrices (e.g. one per probe repeat) instead of Gaussian draws.

    Examples
    --------
    >>> spec = ProblemSpec(objective="max-min", first="math", risk="quantile")
    >>> spec.objective, spec.noisy, spec.constrained
    ('max_min', True, True)
    >>> spec.replace(risk=None).noisy
    False
    >>> ProblemSpec(objective="adjacent", entropy_weight=0.5)
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: The 'entropy_weight' field of ProblemSpec needs the entropy transfer matrix ('entropy'). Got none (see docs/problem.md for the combinations that work).
    """

    objective: str = "all_pairs"
    first: str | None = None
    last: str | None = None
    before: Sequence[tuple[str, str]] = ()
    model: str = "additive"
    entropy: TransferMatrix | None = None
    entropy_floor: Mapping[str, float] | None = None
    entropy_weight: float | Mapping[str, float] | None = None
    entropy_model: str = "additive"
    risk: str | None = None
    quantile: float = 0.1
    n_samples: int = 200
    samples: Sequence[TransferMatrix] | None = None

    def __post_init__(self) -> None:
        objective = str(self.objective).strip().lower().replace("-", "_")
        if objective not in SOLVER_OBJECTIVES:
            raise _refuse("objective", f"one of {', '.join(SOLVER_OBJECTIVES)}", self.objective)
        object.__setattr__(self, "objective", objective)
        object.__setattr__(self, "before", tuple(tuple(pair) for pair in self.before))
        if self.model not in MODELS:
            raise _refuse("model", f"one of {', '.join(MODELS)}", self.model)
        if self.entropy_model not in ENTROPY_MODELS:
            raise _refuse(
                "entropy_model", f"one of {', '.join(ENTROPY_MODELS)}", self.entropy_model
            )
        if self.samples is not None:
            object.__setattr__(self, "samples", tuple(self.samples))
            if self.risk is None:
                object.__setattr__(self, "risk", "mean")
        if self.risk is not None and self.risk not in RISKS:
            raise _refuse("risk", f"one of {', '.join(RISKS)} (or None: no noise)", self.risk)
        if isinstance(self.quantile, bool) or not (
            isinstance(self.quantile, (int, float)) and 0.0 < self.quantile < 1.0
        ):
            raise _refuse("quantile", "a number strictly between 0 and 1", self.quantile)
        if isinstance(self.n_samples, bool) or not (
            isinstance(self.n_samples, (int, np.integer)) and self.n_samples >= 2
        ):
            raise _refuse("n_samples", "an integer >= 2", self.n_samples)
        self._check_entropy()

    def _check_entropy(self) -> None:
        terms = [name for name in ("entropy_floor", "entropy_weight") if getattr(self, name)]
        for name in terms:
            if self.entropy is None:
                raise InvalidParameterError(
                    f"The {name!r} field of ProblemSpec needs the entropy transfer matrix "
                    f"('entropy'). Got none {_SPEC_NOTE}."
                )
            if self.objective != "all_pairs":
                raise InvalidParameterError(
                    f"The {name!r} field of ProblemSpec works with objective='all_pairs' only "
                    "(predicted entropies follow the all-pairs model, and only the subset DP "
                    f"checks floors). Got objective={self.objective!r} {_SPEC_NOTE}."
                )
        if self.entropy_weight and self.entropy_model != "additive":
            raise InvalidParameterError(
                "The 'entropy_weight' field of ProblemSpec adds predicted entropy to the "
                "objective with entropy_model='additive' only (the multiplicative entropy "
                f"model is not linear in the order). Got entropy_model={self.entropy_model!r} "
                f"{_SPEC_NOTE}."
            )

    @property
    def noisy(self) -> bool:
        """True when the spec asks for a solve under noise (``risk`` set)."""
        return self.risk is not None

    @property
    def constrained(self) -> bool:
        """True when the spec has order constraints or entropy floors."""
        return bool(self.first or self.last or self.before or self.entropy_floor)

    def replace(self, **changes: Any) -> ProblemSpec:
        """A copy with ``changes``; unknown field names raise InvalidParameterError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InvalidParameterError(
                f"ProblemSpec has no field {unknown[0]!r}. Fields: {', '.join(sorted(known))}."
            )
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return ProblemSpec(**{**values, **changes})
