"""The transfer matrix: measured effects of training one task on another.

Sign convention (the only one used in taskorder)
------------------------------------------------
``bwt[i, j]`` is the change in the score of task ``i`` caused by training task ``j``
*after* task ``i`` (backward transfer). Negative means ``j`` makes the model forget
``i``; positive means ``j`` helps ``i`` after the fact.

``forward[i, j]`` is the change in the score of task ``j`` caused by training task
``i`` *before* task ``j`` (forward transfer), measured before ``j``'s own stage.

In both arrays the first index is the task trained **earlier**, the second the task
trained **later**. Diagonals carry no meaning and are stored as 0.

Every number (transfer, standard error, weight, own score) must be at most
``MAX_ABS_VALUE`` (1e100) in absolute value: sums over thousands of tasks and squared
standard errors then stay far from float overflow, which would turn objectives into NaN.

Missing (never measured) off-diagonal entries are NaN. They are kept as missing,
never silently read as 0; :func:`taskorder.matrix.TransferMatrix.missing` lists them
and solvers refuse them with :class:`~taskorder.exceptions.MissingEntriesError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidMatrixError, InvalidOrderError, MissingEntriesError
from taskorder.json_matrix import matrix_fields

__all__ = ["MAX_ABS_VALUE", "MAX_TASKS", "SIGN_CONVENTION", "TransferMatrix"]

#: Matrices read from a file or a mapping with more tasks than this are refused.
MAX_TASKS = 5000
#: Largest magnitude accepted for any number of a matrix (see the module docstring).
MAX_ABS_VALUE = 1e100

SIGN_CONVENTION = (
    "bwt[i, j] = change in the score of task i caused by training task j after task i "
    "(negative = forgetting); forward[i, j] = change in the score of task j caused by "
    "training task i before task j. Rows: the task trained earlier; columns: the task "
    "trained later."
)

_OPTIONAL_SQUARE = ("forward", "bwt_stderr", "forward_stderr")


def _square(name: str, values: Any, tasks: Sequence[str], *, allow_nan: bool) -> np.ndarray:
    n_tasks = len(tasks)
    try:
        array = np.array(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidMatrixError(
            f"The {name!r} values must be numbers in an {n_tasks}x{n_tasks} array. Got {error}."
        ) from error
    if array.shape != (n_tasks, n_tasks):
        raise InvalidMatrixError(
            f"The {name!r} array must have shape ({n_tasks}, {n_tasks}), one row and one column "
            f"per task. Got shape {array.shape}."
        )
    np.fill_diagonal(array, 0.0)  # the diagonal is never read: any value there is dropped
    if array.size and max(array.max(), -array.min()) <= MAX_ABS_VALUE:
        array.setflags(write=False)  # all finite and in range (NaN fails the test)
        return array
    bad = np.isinf(array) if allow_nan else ~np.isfinite(array)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InvalidMatrixError(
            f"The {name!r} array must hold finite numbers off the diagonal. "
            f"Got {array[i, j]} at {name}[{tasks[i]!r}, {tasks[j]!r}]."
        )
    huge = np.abs(array) > MAX_ABS_VALUE  # False where NaN (missing)
    if huge.any():
        i, j = np.argwhere(huge)[0]
        raise InvalidMatrixError(
            f"The {name!r} values must be at most {MAX_ABS_VALUE:g} in absolute value (sums "
            f"and squares of larger ones overflow). Got {array[i, j]:g} at {name}[{tasks[i]!r}, {tasks[j]!r}]; rescale "
            "the scores."
        )
    array.setflags(write=False)
    return array


def _vector(name: str, values: Any, tasks: Sequence[str], *, positive: bool) -> np.ndarray:
    if isinstance(values, Mapping):
        unknown = sorted(set(values) - set(tasks))
        if unknown:
            raise InvalidMatrixError(
                f"The {name!r} mapping names unknown tasks {unknown}. Known tasks: {list(tasks)}."
            )
        default = 1.0 if positive else np.nan
        values = [values.get(task, default) for task in tasks]
    try:
        array = np.array(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as error:
        raise InvalidMatrixError(f"The {name!r} values must be numbers. Got {error}.") from error
    if array.shape != (len(tasks),):
        raise InvalidMatrixError(
            f"The {name!r} values must hold one number per task ({len(tasks)}). Got {array.size}."
        )
    if positive and (~np.isfinite(array) | (array < 0)).any():
        raise InvalidMatrixError(
            f"The {name!r} values must be finite and non-negative. Got {array.tolist()}."
        )
    infinite = np.flatnonzero(np.isinf(array))
    if infinite.size:
        k = infinite[0]
        raise InvalidMatrixError(
            f"The {name!r} values must be finite numbers (NaN marks an unknown one). "
            f"Got {array[k]} for task {tasks[k]!r}."
        )
    huge = np.flatnonzero(np.abs(np.nan_to_num(array)) > MAX_ABS_VALUE)
    if huge.size:
        k = huge[0]
        raise InvalidMatrixError(
            f"The {name!r} values must be at most {MAX_ABS_VALUE:g} in absolute value (sums "
            f"of larger ones overflow). Got {array[k]:g} for task {tasks[k]!r}."
        )
    array.setflags(write=False)
    return array


def first_repeat(names: Sequence[str]) -> tuple[int, int] | None:
    """Positions ``(first, second)`` of the first name that appears twice, or ``None``."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            return seen[name], position
        seen[name] = position
    return None


def _task_names(tasks: Sequence[str]) -> tuple[str, ...]:
    """``tasks`` as a tuple; raise unless they are at least 2 unique non-empty strings."""
    tasks = tuple(tasks)
    for position, task in enumerate(tasks):
        if not isinstance(task, str) or not task.strip():
            raise InvalidMatrixError(
                f"Task names must be non-empty strings. Got {task!r} at position {position}."
            )
    repeat = first_repeat(tasks)
    if repeat is not None:
        first, second = repeat
        raise InvalidMatrixError(
            f"Task names must be unique. Got {tasks[first]!r} at positions {first} and {second}."
        )
    if len(tasks) < 2:
        raise InvalidMatrixError(
            f"A transfer matrix needs at least 2 tasks to order. Got {len(tasks)}."
        )
    return tasks


def _imputed_mask(imputed: Any, n_tasks: int) -> np.ndarray:
    """The ``imputed`` argument as an ``(n_tasks, n_tasks)`` bool array (all False if None)."""
    if imputed is None:
        return np.zeros((n_tasks, n_tasks), dtype=bool)
    try:
        mask = np.array(imputed, dtype=bool)
    except (TypeError, ValueError):
        lengths = [len(row) if hasattr(row, "__len__") else None for row in imputed]
        raise InvalidMatrixError(
            f"The 'imputed' mask must be {n_tasks} rows of {n_tasks} booleans. "
            f"Got rows of lengths {lengths}."
        ) from None
    if mask.shape != (n_tasks, n_tasks):
        raise InvalidMatrixError(
            f"The 'imputed' mask must have shape ({n_tasks}, {n_tasks}). Got {mask.shape}."
        )
    return mask


class TransferMatrix:
    """Pairwise transfer between tasks, with task names and optional extras.

    See the module docstring for the sign convention.

    Parameters
    ----------
    tasks : sequence of str
        Unique, non-empty task names. At least two.
    bwt : array-like, shape (n, n)
        Backward transfer; ``bwt[i, j]`` is the change in task ``i``'s score from
        training ``j`` after ``i``. NaN marks a missing off-diagonal entry.
    forward : array-like, shape (n, n), optional
        Forward transfer; ``forward[i, j]`` is the change in task ``j``'s score from
        training ``i`` before ``j``. Defaults to none (treated as 0).
    bwt_stderr, forward_stderr : array-like, shape (n, n), optional
        Standard errors of the entries above.
    weights : sequence or mapping of float, optional
        Importance of each task in the objective (default 1 each).
    own_scores : sequence or mapping of float, optional
        Score of each task right after its own stage (used for predicted final scores).
    imputed : array-like of bool, shape (n, n), optional
        True where a ``bwt`` entry was imputed rather than measured.

    Raises
    ------
    InvalidMatrixError
        If names repeat or are empty, shapes disagree, or values are not finite.

    Examples
    --------
    >>> m = TransferMatrix(["math", "poetry"], [[0, -0.2], [0.05, 0]])
    >>> m.n_tasks, float(m.bwt[0, 1])
    (2, -0.2)
    >>> m.forgettability().tolist()
    [0.2, -0.05]
    """

    def __init__(
        self,
        tasks: Sequence[str],
        bwt: Any,
        *,
        forward: Any = None,
        bwt_stderr: Any = None,
        forward_stderr: Any = None,
        weights: Any = None,
        own_scores: Any = None,
        imputed: Any = None,
    ) -> None:
        tasks = _task_names(tasks)
        n_tasks = len(tasks)
        self.tasks: tuple[str, ...] = tasks
        self._index = {task: position for position, task in enumerate(tasks)}
        self.bwt = _square("bwt", bwt, tasks, allow_nan=True)
        self.forward = (
            None if forward is None else _square("forward", forward, tasks, allow_nan=True)
        )
        self.bwt_stderr = (
            None if bwt_stderr is None else _square("bwt_stderr", bwt_stderr, tasks, allow_nan=True)
        )
        self.forward_stderr = (
            None
            if forward_stderr is None
            else _square("forward_stderr", forward_stderr, tasks, allow_nan=True)
        )
        for name in ("bwt_stderr", "forward_stderr"):
            stderr = getattr(self, name)
            if stderr is not None and (stderr < 0).any():
                raise InvalidMatrixError(f"The {name!r} values must be non-negative.")
        self.weights = (
            np.ones(n_tasks)
            if weights is None
            else _vector("weights", weights, tasks, positive=True)
        )
        self.own_scores = (
            None if own_scores is None else _vector("own_scores", own_scores, tasks, positive=False)
        )
        self.imputed = _imputed_mask(imputed, n_tasks)
        self.imputed.setflags(write=False)

    # ------------------------------------------------------------------ basics
    @property
    def n_tasks(self) -> int:
        """Number of tasks."""
        return len(self.tasks)

    def index(self, task: str) -> int:
        """Position of ``task`` in :attr:`tasks`; raises ``KeyError`` naming known tasks."""
        try:
            return self._index[task]
        except KeyError:
            raise KeyError(f"Unknown task {task!r}. Known tasks: {list(self.tasks)}.") from None

    def order_indices(self, order: Iterable[str]) -> list[int]:
        """Convert an order of task names into indices, checking it is a permutation.

        Raises
        ------
        InvalidOrderError
            If a name is unknown, repeated, or a task is left out.
        """
        order = list(order)
        unknown = [task for task in order if task not in self._index]
        if unknown:
            raise InvalidOrderError(
                f"The order names unknown tasks {unknown}. Known tasks: {list(self.tasks)}."
            )
        seen: set[str] = set()
        repeated = sorted({task for task in order if task in seen or seen.add(task)})
        if repeated:
            raise InvalidOrderError(f"The order repeats tasks {repeated}; each must appear once.")
        left_out = [task for task in self.tasks if task not in seen]
        if left_out:
            raise InvalidOrderError(
                f"The order must contain every task once. It leaves out {left_out}."
            )
        return [self._index[task] for task in order]

    def missing(self) -> list[tuple[str, str]]:
        """Off-diagonal ``bwt`` (or ``forward``) pairs that are NaN, as (earlier, later) names."""
        mask = np.isnan(self.bwt)
        if self.forward is not None:
            mask |= np.isnan(self.forward)
        if not mask.any():  # the common case: no O(n^2) index scan
            return []
        return [(self.tasks[i], self.tasks[j]) for i, j in np.argwhere(mask) if i != j]

    def check_complete(self) -> None:
        """Raise :class:`MissingEntriesError` if any off-diagonal entry is missing."""
        missing = self.missing()
        if missing:
            shown = ", ".join(f"{a}->{b}" for a, b in missing[:8])
            more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            raise MissingEntriesError(
                f"The transfer matrix has {len(missing)} missing entries ({shown}{more}). "
                "Measure them, or impute them before solving (taskorder.estimate.impute; on the "
                "command line: taskorder solve --impute row_col)."
            )

    # ----------------------------------------------------------- derived views
    def forgettability(self) -> np.ndarray:
        """How much each task loses when all others are trained after it: ``-bwt.sum(axis=1)``.

        This is the quantity the published rank rule sorts by (least forgettable first).
        """
        return -np.nansum(self.bwt, axis=1)

    def pair_weights(self) -> np.ndarray:
        """The Linear Ordering weights ``W[i, j] = w_i * bwt[i, j] + w_j * forward[i, j]``.

        ``W[i, j]`` is the gain in the weighted total score from training ``i`` before ``j``.
        """
        weights = self.bwt * self.weights[:, None]
        if self.forward is not None:
            weights = weights + self.forward * self.weights[None, :]
        np.fill_diagonal(weights, 0.0)
        return weights

    def subset(self, tasks: Sequence[str]) -> TransferMatrix:
        """The matrix restricted to ``tasks`` (in that order)."""
        idx = [self.index(task) for task in tasks]
        grid = np.ix_(idx, idx)

        def pick(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[grid]

        return TransferMatrix(
            tasks,
            self.bwt[grid],
            forward=pick(self.forward),
            bwt_stderr=pick(self.bwt_stderr),
            forward_stderr=pick(self.forward_stderr),
            weights=self.weights[idx],
            own_scores=None if self.own_scores is None else self.own_scores[idx],
            imputed=self.imputed[grid],
        )

    def replace(self, **changes: Any) -> TransferMatrix:
        """A copy with some fields replaced (same keywords as the constructor)."""
        fields = {
            "tasks": self.tasks,
            "bwt": self.bwt,
            "forward": self.forward,
            "bwt_stderr": self.bwt_stderr,
            "forward_stderr": self.forward_stderr,
            "weights": self.weights,
            "own_scores": self.own_scores,
            "imputed": self.imputed,
        }
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"replace() got unknown fields {sorted(unknown)}.")
        fields.update(changes)
        return TransferMatrix(fields.pop("tasks"), fields.pop("bwt"), **fields)

    def to_networkx(self):
        """A ``networkx.DiGraph``: one node per task, an edge ``i -> j`` per ordered pair.

        Edge direction is training order (``i`` before ``j``). Edge attributes: ``bwt``
        (= ``bwt[i, j]``), ``forward`` (if present) and ``weight`` (= ``W[i, j]``, see
        :meth:`pair_weights`). Node attributes: ``weight`` and ``own_score`` if known.
        """
        import networkx as nx

        graph = nx.DiGraph(sign_convention=SIGN_CONVENTION)
        for i, task in enumerate(self.tasks):
            attrs = {"weight": float(self.weights[i])}
            if self.own_scores is not None:
                attrs["own_score"] = float(self.own_scores[i])
            graph.add_node(task, **attrs)
        pair = self.pair_weights()
        for i, j in np.argwhere(~np.eye(self.n_tasks, dtype=bool)):
            attrs = {"bwt": float(self.bwt[i, j]), "weight": float(pair[i, j])}
            if self.forward is not None:
                attrs["forward"] = float(self.forward[i, j])
            graph.add_edge(self.tasks[i], self.tasks[j], **attrs)
        return graph

    # ------------------------------------------------------------ conversion
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes ``None``); inverse of :meth:`from_dict`."""

        def listify(array: np.ndarray | None) -> Any:
            if array is None:
                return None
            return [[None if np.isnan(v) else float(v) for v in row] for row in array]

        out: dict[str, Any] = {
            "sign_convention": SIGN_CONVENTION,
            "tasks": list(self.tasks),
            "bwt": listify(self.bwt),
        }
        for name in _OPTIONAL_SQUARE:
            value = getattr(self, name)
            if value is not None:
                out[name] = listify(value)
        out["weights"] = {t: float(w) for t, w in zip(self.tasks, self.weights)}
        if self.own_scores is not None:
            out["own_scores"] = {
                t: (None if np.isnan(s) else float(s)) for t, s in zip(self.tasks, self.own_scores)
            }
        if self.imputed.any():
            out["imputed"] = self.imputed.tolist()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransferMatrix:
        """Build a matrix from :meth:`to_dict` output (validated, unknown keys rejected).

        Raises
        ------
        InvalidMatrixError
            If a key is unknown, a value has the wrong type or shape, a diagonal value is
            not 0, there are more than :data:`MAX_TASKS` tasks, or every weight is 0.
        """
        fields = matrix_fields(data, MAX_TASKS)
        matrix = cls(**fields)
        if not matrix.weights.any():
            raise InvalidMatrixError(
                "field 'weights' must give at least one task a positive weight; with every "
                f"weight 0 every order has the same objective. Got {fields['weights']}."
            )
        return matrix

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TransferMatrix):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        extras = [name for name in _OPTIONAL_SQUARE if getattr(self, name) is not None]
        return f"TransferMatrix(tasks={list(self.tasks)}, extras={extras})"
