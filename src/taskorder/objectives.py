"""Objectives: how good an order is under a transfer matrix.

Both objectives use the pair weights ``W = matrix.pair_weights()``, where ``W[i, j]``
(``i`` trained before ``j``) is ``w_i * bwt[i, j] + w_j * forward[i, j]``
(see :data:`taskorder.SIGN_CONVENTION`). Both are maximised.

``"all_pairs"``
    Every later task affects every earlier one (the additive model):
    ``value(p) = sum_{k < l} W[p_k, p_l]``. Maximising it is the Linear Ordering
    Problem (LOP) on ``W``.
``"adjacent"``
    Only the next stage matters: ``value(p) = sum_k W[p_k, p_{k+1}]``. Maximising it
    is a longest Hamiltonian path (an open asymmetric TSP).

Under the additive model both equal ``sum_i w_i * (final_i - own_i)``, the weighted
predicted change of each task's score; :func:`taskorder.solve` reports that same
quantity under the other outcome models too (and ``"max_min"``, the lowest final
score), as :data:`taskorder.result.OBJECTIVE_NAMES` lists.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from taskorder.checks import check_choice
from taskorder.matrix import TransferMatrix

__all__ = [
    "OBJECTIVES",
    "evaluate",
    "expected_random_value",
    "normalize_objective",
    "order_value",
    "simple_upper_bound",
    "upper_triangle_sum",
]

OBJECTIVES = ("all_pairs", "adjacent")


def normalize_objective(objective: str, owner: str = "normalize_objective") -> str:
    """Return the canonical objective name (``"all-pairs"`` is accepted for ``"all_pairs"``).

    ``owner`` is the function named in the error for an unknown objective.

    Examples
    --------
    >>> normalize_objective("All-Pairs")
    'all_pairs'
    >>> normalize_objective("max_min", "evaluate")
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: The 'objective' parameter of evaluate must be one of 'all_pairs', 'adjacent'. Got 'max_min' instead.
    """
    name = str(objective).strip().lower().replace("-", "_")
    if name not in OBJECTIVES:
        check_choice(objective, OBJECTIVES, "objective", owner)
    return name


def order_value(weights: np.ndarray, order: Sequence[int], objective: str) -> float:
    """Objective value of an order given as indices into ``weights`` (no checks).

    Parameters
    ----------
    weights : numpy.ndarray
        Square pair weights ``W`` (``W[i, j]``: ``i`` trained before ``j``), as
        :meth:`TransferMatrix.pair_weights` returns them; no missing entries.
    order : sequence of int
        Every row index of ``weights`` once, first trained first.
    objective : {"all_pairs", "adjacent"}
        Already normalised; anything but ``"all_pairs"`` is scored as ``"adjacent"``.

    Returns
    -------
    float
        The objective value (higher is better).
    """
    idx = np.asarray(order, dtype=np.intp)
    if objective == "all_pairs":
        return upper_triangle_sum(np.take(np.take(weights, idx, axis=0), idx, axis=1))
    return float(weights[idx[:-1], idx[1:]].sum())


def upper_triangle_sum(square: np.ndarray) -> float:
    """``sum_{k < l} square[k, l]``; overwrites ``square``'s lower triangle (and diagonal).

    Gives the same float as ``np.triu(square, k=1).sum()`` for a C-contiguous array (the
    same n x n buffer is summed, with exact zeros in the same places) without the mask
    and the copy ``np.triu`` makes: about half the time at n = 2,000.
    """
    for row in range(square.shape[0]):
        square[row, : row + 1] = 0.0
    return float(square.sum())


def evaluate(matrix: TransferMatrix, order: Sequence[str], objective: str = "all_pairs") -> float:
    """Objective value of ``order`` (task names) under ``matrix``.

    Parameters
    ----------
    matrix : TransferMatrix
    order : sequence of str
        Every task once, first trained first.
    objective : {"all_pairs", "adjacent"}

    Returns
    -------
    float
        Total weighted transfer the order collects (higher is better).

    Raises
    ------
    InvalidOrderError
        If ``order`` is not a permutation of the matrix's tasks.
    MissingEntriesError
        If the matrix has missing entries.

    Examples
    --------
    >>> m = TransferMatrix(["a", "b", "c"], [[0, -3, 1], [2, 0, -1], [0, 4, 0]])
    >>> evaluate(m, ["a", "b", "c"]), evaluate(m, ["c", "b", "a"])
    (-3.0, 6.0)
    >>> evaluate(m, ["c", "b", "a"], objective="adjacent")
    6.0
    """
    objective = normalize_objective(objective, "evaluate")
    idx = matrix.order_indices(order)
    matrix.check_complete()
    return order_value(matrix.pair_weights(), idx, objective)


def expected_random_value(weights: np.ndarray, objective: str) -> float:
    """Exact mean objective over all ``n!`` orders (no constraints).

    For ``all_pairs`` each pair is in either order with probability 1/2; for
    ``adjacent`` each ordered pair is adjacent with probability ``1/n``.
    """
    n_tasks = weights.shape[0]
    off = weights[~np.eye(n_tasks, dtype=bool)]
    if objective == "all_pairs":
        return float(off.sum() / 2.0)
    return float(off.sum() / n_tasks)


def simple_upper_bound(weights: np.ndarray, objective: str) -> float:
    """A cheap valid upper bound on the maximum (constraints only lower the maximum).

    ``all_pairs``: ``sum_{i<j} max(W[i, j], W[j, i])``. ``adjacent``: every task but the
    last leaves by one arc, so the sum of the ``n - 1`` largest row maxima.
    """
    n_tasks = weights.shape[0]
    if objective == "all_pairs":
        return upper_triangle_sum(np.maximum(weights, weights.T))
    masked = np.where(np.eye(n_tasks, dtype=bool), -np.inf, weights)
    row_best = np.sort(masked.max(axis=1))[::-1]
    return float(row_best[: n_tasks - 1].sum())
