"""The insertion neighbourhood of the linear ordering (``all_pairs``) objective.

An *insertion* takes the task at position ``p`` out of the order and puts it back at
position ``q``. With ``D = W - W.T`` and the order ``o``, moving ``e = o[p]`` collects
``sum_{k=q}^{p-1} D[e, o[k]]`` when moving left and ``-sum_{k=p+1}^{q} D[e, o[k]]`` when
moving right: a running sum along the row of ``D`` seen in the current order. Keeping
``C[p, k] = sum_{j<k} D[o[p], o[j]]`` (the row prefix sums, ``n x (n + 1)``) makes every
insertion's gain a difference of two entries, ``C[p, p] - C[p, k]``, where ``k <= p``
targets position ``k`` and ``k > p`` targets position ``k - 1``. So the best insertion of
*every* task is one ``argmin`` per row: an O(n^2) vectorised sweep rather than O(n^3).

The table's rows are kept by *task* (row ``t`` holds the prefix sums of ``D[t]`` in the
current order), so after a move no row moves: only the prefix columns between its two
ends change, each by the moved task's column of ``D`` (``-D[task]``, as ``D`` is
antisymmetric), and :class:`InsertionTable` updates them in O(n * span) instead of
rebuilding the table. Moves whose spans do not overlap do not change each other's gains, so
:meth:`InsertionTable.descend` applies a whole set of them per sweep.

Constraints: a task may not move left past a required predecessor nor right past a
required successor; the allowed targets form one interval per row, recomputed from the
constraint edges in O(edges) per sweep.
"""

from __future__ import annotations

import numpy as np

from taskorder.objectives import order_value

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
        self._tasks = np.arange(self.n_tasks)
        self.reset(order)

    # ------------------------------------------------------------------ state
    def reset(self, order) -> None:
        """Rebuild the table for ``order`` (O(n^2)); also clears float drift.

        ``prefix[t, k] = sum_{j<k} D[t, order[j]]``: one row per *task*.
        """
        self.order = np.array(order, dtype=np.intp)
        self.position = np.empty(self.n_tasks, dtype=np.intp)
        self.position[self.order] = np.arange(self.n_tasks)
        if getattr(self, "prefix", None) is None:  # kept across resets: no new n x (n + 1)
            self.prefix = np.zeros((self.n_tasks, self.n_tasks + 1))
        np.cumsum(np.take(self.diff, self.order, axis=1), axis=1, out=self.prefix[:, 1:])
        self.value = self.value_from_prefix()
        self._moves_since_reset = 0

    def value_from_prefix(self) -> float:
        """The objective from the table in O(n).

        ``D`` is antisymmetric, so ``sum_{k<l} D[o_k, o_l] = -sum_k prefix[o_k, k]`` and
        the value is ``(sum of all W - sum_k prefix[o_k, k]) / 2``.
        """
        return 0.5 * (self._total - float(self.prefix[self._tasks, self.position].sum()))

    def exact_value(self) -> float:
        """The objective recomputed from scratch (no accumulated rounding), O(n^2)."""
        return order_value(self.weights, self.order, "all_pairs")

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
        limits = self.allowed_range()
        if limits is None:
            target = self.prefix.argmin(axis=1)  # by task
        else:
            lowest, highest = limits[0][self.position], limits[1][self.position]
            outside = (self._columns[None, :] < lowest[:, None]) | (
                self._columns[None, :] > highest[:, None]
            )
            target = np.where(outside, np.inf, self.prefix).argmin(axis=1)
        tasks = self._tasks
        gain = self.prefix[tasks, self.position] - self.prefix[tasks, target]
        return target[self.order], gain[self.order]

    def gain(self, p: int, column: int) -> float:
        """Gain of moving the task at position ``p`` to prefix column ``column``."""
        row = self.prefix[self.order[p]]
        return float(row[p] - row[column])

    def move(self, p: int, column: int) -> None:
        """Move the task at position ``p`` to prefix column ``column`` (see module doc).

        Only the prefix columns between the two ends change, each by the moved task's
        column of ``D``: O(n * span), no re-summation.
        """
        q = column if column <= p else column - 1
        if q == p:
            return
        task = int(self.order[p])
        row = self.prefix[task]
        self.value += float(row[p] - row[column])
        if q < p:
            self.order[q + 1 : p + 1] = self.order[q:p].copy()
        else:
            self.order[p:q] = self.order[p + 1 : q + 1].copy()
        self.order[q] = task
        low, high = (q, p) if q < p else (p, q)
        self.position[self.order[low : high + 1]] = self._tasks[low : high + 1]
        column_of_task = self.diff[task][:, None]  # D[., task] = -D[task, .]
        if q < p:  # new prefix[:, k] = old prefix[:, k - 1] + D[., task] for k in q+1 .. p
            self.prefix[:, q + 1 : p + 1] = self.prefix[:, q:p] - column_of_task
        else:  # new prefix[:, k] = old prefix[:, k + 1] - D[., task] for k in p+1 .. q
            self.prefix[:, p + 1 : q + 1] = self.prefix[:, p + 2 : q + 2] + column_of_task
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
        used = bytearray(self.n_tasks + 1)  # positions already inside an applied move
        total = 0.0
        for p, a, b in zip(positions.tolist(), low.tolist(), high.tolist()):
            if used.find(1, a, b + 1) >= 0:
                continue
            used[a : b + 1] = b"\x01" * (b + 1 - a)
            column = int(target[p])
            total += self.gain(p, column)
            self.move(p, column)
        return total
