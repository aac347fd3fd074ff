"""The insertion neighbourhood of the linear ordering (``all_pairs``) objective.

An *insertion* takes the task at position ``p`` out of the order and puts it back at
position ``q``. With ``D = W - W.T`` and the order ``o``, moving ``e = o[p]`` collects
``sum_{k=q}^{p-1} D[e, o[k]]`` when moving left and ``-sum_{k=p+1}^{q} D[e, o[k]]`` when
moving right: a running sum along the row of ``D`` seen in the current order. Keeping
``C[p, k] = sum_{j<k} D[o[p], o[j]]`` (the row prefix sums, ``n x (n + 1)``) makes every
insertion's gain a difference of two entries, ``C[p, p] - C[p, k]``, where ``k <= p``
targets position ``k`` and ``k > p`` targets position ``k - 1``. So the best insertion of
*every* task is one ``argmin`` per row: an O(n^2) vectorised sweep rather than O(n^3).

After a move only the prefix columns between its two ends change, each by the moved
task's column of ``D``, so :class:`InsertionTable` updates them in O(n * span) instead of
rebuilding the table. Moves whose spans do not overlap do not change each other's gains, so
:meth:`InsertionTable.descend` applies a whole set of them per sweep.

Constraints: a task may not move left past a required predecessor nor right past a
required successor; the allowed targets form one interval per row, recomputed from the
constraint edges in O(edges) per sweep.
"""

from __future__ import annotations

import numpy as np

__all__ = ["InsertionTable"]

_TOLERANCE = 1e-9


class InsertionTable:
    """Current order, its value, and every insertion's gain, kept up to date.

    Parameters
    ----------
    weights : ndarray, shape (n, n)
        Pair weights ``W`` (``W[i, j]``: gain of ``i`` before ``j``).
    order : sequence of int
        Starting order (must honour ``edges``).
    edges : sequence of (int, int)
        Required precedences ``(earlier, later)``.

    Examples
    --------
    >>> W = np.array([[0., 1, 5], [3, 0, 0], [0, 4, 0]])
    >>> table = InsertionTable(W, [1, 2, 0])
    >>> table.value
    3.0
    >>> table.descend() > 0, table.order.tolist(), table.value
    (True, [0, 2, 1], 10.0)
    """

    def __init__(self, weights: np.ndarray, order, edges=()) -> None:
        self.weights = np.asarray(weights, dtype=float)
        self.diff = np.ascontiguousarray(self.weights - self.weights.T)
        self.n_tasks = self.weights.shape[0]
        self._total = float(self.weights.sum() - np.trace(self.weights))
        edges = np.asarray(list(edges), dtype=np.intp).reshape(-1, 2)
        self._edge_from, self._edge_to = edges[:, 0], edges[:, 1]
        self._columns = np.arange(self.n_tasks + 1)
        self.reset(order)

    # ------------------------------------------------------------------ state
    def reset(self, order) -> None:
        """Rebuild the table for ``order`` (O(n^2)); also clears float drift."""
        self.order = np.array(order, dtype=np.intp)
        self.position = np.empty(self.n_tasks, dtype=np.intp)
        self.position[self.order] = np.arange(self.n_tasks)
        self.prefix = np.zeros((self.n_tasks, self.n_tasks + 1))
        np.cumsum(self.diff[np.ix_(self.order, self.order)], axis=1, out=self.prefix[:, 1:])
        self.value = self.value_from_prefix()
        self._moves_since_reset = 0

    def value_from_prefix(self) -> float:
        """The objective from the table in O(n).

        ``D`` is antisymmetric, so ``sum_{k<l} D[o_k, o_l] = -sum_k prefix[k, k]`` and the
        value is ``(sum of all W - sum_k prefix[k, k]) / 2``.
        """
        return 0.5 * (self._total - float(np.trace(self.prefix)))

    def exact_value(self) -> float:
        """The objective recomputed from scratch (no accumulated rounding), O(n^2)."""
        permuted_w = self.weights[np.ix_(self.order, self.order)]
        return float(np.triu(permuted_w, k=1).sum())

    # ------------------------------------------------------------------ moves
    def allowed_range(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Per position, the lowest and highest prefix column it may target (None if free)."""
        if self._edge_from.size == 0:
            return None
        n_tasks = self.n_tasks
        lowest = np.zeros(n_tasks, dtype=np.intp)
        highest = np.full(n_tasks, n_tasks, dtype=np.intp)
        pos_from = self.position[self._edge_from]
        pos_to = self.position[self._edge_to]
        np.maximum.at(lowest, pos_to, pos_from + 1)
        np.minimum.at(highest, pos_from, pos_to)
        return lowest, highest

    def best_moves(self) -> tuple[np.ndarray, np.ndarray]:
        """For every position ``p``: the best target column ``k`` and its gain."""
        n_tasks = self.n_tasks
        rows = np.arange(n_tasks)
        limits = self.allowed_range()
        if limits is None:
            target = self.prefix.argmin(axis=1)
        else:
            lowest, highest = limits
            outside = (self._columns[None, :] < lowest[:, None]) | (
                self._columns[None, :] > highest[:, None]
            )
            target = np.where(outside, np.inf, self.prefix).argmin(axis=1)
        gain = self.prefix[rows, rows] - self.prefix[rows, target]
        return target, gain

    def gain(self, p: int, column: int) -> float:
        """Gain of moving the task at position ``p`` to prefix column ``column``."""
        return float(self.prefix[p, p] - self.prefix[p, column])

    def move(self, p: int, column: int) -> None:
        """Move the task at position ``p`` to prefix column ``column`` (see module doc).

        Only the prefix columns between the two ends change, each by the moved task's
        column of ``D``: O(n * span), no re-summation.
        """
        q = column if column <= p else column - 1
        if q == p:
            return
        self.value += self.gain(p, column)
        task = self.order[p]
        low, high = min(p, q), max(p, q)
        moved_row = self.prefix[p].copy()
        if q < p:
            self.order[q + 1 : p + 1] = self.order[q:p].copy()
            self.prefix[q + 1 : p + 1] = self.prefix[q:p]
        else:
            self.order[p:q] = self.order[p + 1 : q + 1].copy()
            self.prefix[p:q] = self.prefix[p + 1 : q + 1]
        self.order[q] = task
        self.prefix[q] = moved_row
        self.position[self.order[low : high + 1]] = np.arange(low, high + 1)
        column_of_task = self.diff[self.order, task][:, None]
        if q < p:  # new prefix[k] = old prefix[k - 1] + D[., task] for k in q+1 .. p
            self.prefix[:, q + 1 : p + 1] = self.prefix[:, q:p] + column_of_task
        else:  # new prefix[k] = old prefix[k + 1] - D[., task] for k in p+1 .. q
            self.prefix[:, p + 1 : q + 1] = self.prefix[:, p + 2 : q + 2] - column_of_task
        self._moves_since_reset += 1

    def descend(self, max_sweeps: int | None = None) -> float:
        """Best-improvement insertion descent to a local optimum; returns the total gain.

        Each sweep finds every task's best insertion, then applies the improving ones
        greedily by gain while their spans do not overlap (their gains add up).
        """
        total, sweeps = 0.0, 0
        while max_sweeps is None or sweeps < max_sweeps:
            sweeps += 1
            target, gain = self.best_moves()
            improving = np.flatnonzero(gain > _TOLERANCE * max(1.0, abs(self.value)) * 1e-3)
            if improving.size == 0:
                break
            improving = improving[np.argsort(-gain[improving], kind="stable")]
            total += self._apply_disjoint(improving, target)
            if self._moves_since_reset > 4 * self.n_tasks:
                self.reset(self.order)
        return total

    def _apply_disjoint(self, positions: np.ndarray, target: np.ndarray) -> float:
        ends = np.where(target[positions] <= positions, target[positions], target[positions] - 1)
        low, high = np.minimum(positions, ends), np.maximum(positions, ends)
        taken: list[tuple[int, int]] = []
        total = 0.0
        for p, a, b in zip(positions.tolist(), low.tolist(), high.tolist()):
            if any(a <= used_high and used_low <= b for used_low, used_high in taken):
                continue
            taken.append((a, b))
            column = int(target[p])
            total += self.gain(p, column)
            self.move(p, column)
        return total
