"""Precedence variables, 3-dicycle (transitivity) cuts and repair into an order.

The linear ordering polytope in the classical formulation (Grötschel, Jünger and
Reinelt, 1984) has one binary ``x[i, j]`` per pair ``i < j`` (1: ``i`` before ``j``;
``x[j, i] = 1 - x[i, j]``) and, for every triple ``i < j < k``, the 3-dicycle
inequalities ``0 <= x[i, j] + x[j, k] - x[i, k] <= 1``. An integer point satisfying all
of them is a total order; there are ``2 * C(n, 3)`` of them, so the exact solvers add
only the violated ones (:func:`violated_triangles`).

References
----------
M. Grötschel, M. Jünger and G. Reinelt, "A cutting plane algorithm for the linear
ordering problem", Operations Research 32(6), 1984.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from taskorder.solvers.construct import priority_order

__all__ = ["order_from_precedence", "pair_index", "precedence_matrix", "violated_triangles"]


def pair_index(n_tasks: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """``(index, (rows, cols))``: variable id of pair ``i < j`` is ``index[i, j]``.

    Examples
    --------
    >>> index, (rows, cols) = pair_index(3)
    >>> int(index[0, 2]), rows.tolist(), cols.tolist()
    (1, [0, 0, 1], [1, 2, 2])
    """
    index = np.full((n_tasks, n_tasks), -1, dtype=np.int64)
    rows, cols = np.triu_indices(n_tasks, k=1)
    index[rows, cols] = np.arange(rows.size)
    return index, (rows, cols)


def precedence_matrix(values: np.ndarray, n_tasks: int) -> np.ndarray:
    """Full ``(n, n)`` matrix ``X[i, j]`` (``i`` before ``j``) from the ``i < j`` values."""
    rows, cols = np.triu_indices(n_tasks, k=1)
    matrix = np.zeros((n_tasks, n_tasks))
    matrix[rows, cols] = values
    matrix[cols, rows] = 1.0 - values
    return matrix


def violated_triangles(
    precedence: np.ndarray, *, tolerance: float = 1e-6, limit: int | None = None
) -> np.ndarray:
    """Triples ``(i, j, k)``, ``i < j < k``, whose 3-dicycle inequality is violated.

    Sorted by violation, largest first; at most ``limit`` rows. Vectorised per ``i``:
    O(n^3) arithmetic, O(n^2) memory.

    Parameters
    ----------
    precedence : ndarray, shape (n_tasks, n_tasks)
        ``X[i, j]`` (``i`` before ``j``), possibly fractional, e.g. from
        :func:`precedence_matrix`.
    tolerance : float
        A triple counts only when ``x[i, j] + x[j, k] - x[i, k]`` lies more than this
        outside ``[0, 1]``.
    limit : int, optional
        Keep only the ``limit`` most violated triples (default: all).

    Returns
    -------
    ndarray of int64, shape (n_found, 3)
        One ``(i, j, k)`` row per violated triple; shape ``(0, 3)`` when there is none.

    Examples
    --------
    >>> X = precedence_matrix(np.array([1.0, 0.0, 1.0]), 3)  # 0<1, 2<0, 1<2: a cycle
    >>> violated_triangles(X).tolist()
    [[0, 1, 2]]
    """
    n_tasks = precedence.shape[0]
    upper_j, upper_k = np.triu_indices(n_tasks, k=1)
    found, amounts = [], []
    for i in range(n_tasks - 2):
        keep = upper_j > i
        j, k = upper_j[keep], upper_k[keep]
        path = precedence[i, j] + precedence[j, k] - precedence[i, k]
        violation = np.maximum(path - 1.0, -path)
        hit = violation > tolerance
        if hit.any():
            found.append(np.stack([np.full(hit.sum(), i), j[hit], k[hit]], axis=1))
            amounts.append(violation[hit])
    if not found:
        return np.zeros((0, 3), dtype=np.int64)
    triples = np.concatenate(found)
    ranking = np.argsort(-np.concatenate(amounts), kind="stable")
    if limit is not None:
        ranking = ranking[:limit]
    return triples[ranking].astype(np.int64)


def order_from_precedence(precedence: np.ndarray, predecessors: Sequence[int] = ()) -> list[int]:
    """An order from a (possibly cyclic or fractional) precedence matrix.

    Tasks are sorted by "wins" (``sum_j X[i, j]``, the number of tasks they precede),
    most first, while honouring the constraint masks. For a transitive 0/1 matrix this is
    exactly the order it encodes.

    Examples
    --------
    >>> X = precedence_matrix(np.array([0.0, 0.0, 1.0]), 3)  # 1<0, 2<0, 1<2
    >>> order_from_precedence(X)
    [1, 2, 0]
    """
    wins = precedence.sum(axis=1)
    return priority_order(wins, predecessors)
