"""Outcome models: predict each task's final score after training in a given order.

The additive model (default, ``model="additive"``)
---------------------------------------------------
Assumptions:

1. Each task reaches its *own-stage score* ``s_i`` during its own stage (it saturates:
   how long it trains is fixed, where it comes does not change what it learns).
2. Transfer between two tasks is a constant that depends only on the pair, not on what
   else was trained or in which position: ``bwt[i, j]`` for ``j`` after ``i``,
   ``forward[i, j]`` for ``i`` before ``j`` (see :data:`taskorder.SIGN_CONVENTION`).
3. Effects add up and do not interact.

Then the final score of task ``i`` under an order is::

    final_i = s_i + sum_{j after i} bwt[i, j] + sum_{j before i} forward[j, i]

and the weighted total ``sum_i w_i final_i`` equals ``sum_i w_i s_i`` plus the
``"all_pairs"`` objective. With ``objective="adjacent"`` only the next and previous
stage act: ``final_i = s_i + bwt[i, next(i)] + forward[prev(i), i]``.
``model="backward_only"`` is the published (Omni-Thinker) model: forward transfer
ignored. When own-stage scores are unknown, ``s_i = 0`` and predictions are changes
relative to the own-stage score.

The multiplicative-retention model (``model="multiplicative"``)
----------------------------------------------------------------
Each later task keeps a *fraction* of what task ``i`` has, instead of adding a fixed
amount. The retention of ``i`` under ``j`` is read off the same matrix::

    rho[i, j] = max(0, (s_i + bwt[i, j]) / s_i) = max(0, 1 + bwt[i, j] / s_i)

(the ratio of ``i``'s score after ``j`` to its score before, as probed), and::

    final_i = s_i * prod_{j after i} rho[i, j]

It is the compounding counterpart of ``"backward_only"``: like the published model
it ignores forward transfer, so comparing the two isolates one question (do losses
add or compound?). For a single later task both agree exactly; with several later
tasks losses compound (``0.8 * 0.8``, not ``1 - 0.2 - 0.2``) and a score cannot be
pushed below 0. It needs positive ``own_scores``. With ``objective="adjacent"`` only the
neighbours act, as in the additive model. Orders under this model are not a Linear
Ordering Problem; ``taskorder.solve(matrix, model="multiplicative")`` solves them
(:mod:`taskorder.solvers.multiplicative` says how, per objective).

These assumptions are a hypothesis: validate them (``taskorder validate``) before
trusting a predicted gain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from taskorder.checks import check_choice
from taskorder.exceptions import InvalidMatrixError
from taskorder.matrix import TransferMatrix
from taskorder.objectives import normalize_objective

__all__ = ["MODELS", "Prediction", "predict", "predict_many"]

#: Outcome models accepted by :func:`predict` (see the module docstring).
MODELS = ("additive", "backward_only", "multiplicative")


@dataclass(frozen=True)
class Prediction:
    """Predicted final scores of one order."""

    order: tuple[str, ...]
    scores: dict[str, float]
    mean: float
    relative: bool = field(default=False)

    def to_dict(self) -> dict:
        return {
            "order": list(self.order),
            "scores": self.scores,
            "mean": self.mean,
            "relative_to_own_stage": self.relative,
        }


def predict(
    matrix: TransferMatrix,
    order: Sequence[str],
    *,
    objective: str = "all_pairs",
    model: str = "additive",
) -> Prediction:
    """Predict every task's final score after training in ``order``.

    Parameters
    ----------
    matrix : TransferMatrix
    order : sequence of str
        Every task once, first trained first.
    objective : {"all_pairs", "adjacent"}
        Which stages act on a task: all later/earlier ones, or only the neighbours.
    model : {"additive", "backward_only", "multiplicative"}
        ``"additive"`` uses backward and (if present) forward transfer;
        ``"backward_only"`` ignores forward transfer, as the published method does;
        ``"multiplicative"``: retention ratios (see the module docstring).

    Returns
    -------
    Prediction
        ``scores`` per task and their ``weights``-weighted ``mean``.

    Raises
    ------
    InvalidOrderError
        If ``order`` is not a permutation of the tasks.
    MissingEntriesError
        If the matrix has missing entries.
    InvalidMatrixError
        ``model="multiplicative"`` without positive ``own_scores``.

    Examples
    --------
    >>> m = TransferMatrix(["math", "poetry"], [[0, -0.2], [0.05, 0]],
    ...                    own_scores=[0.7, 0.5])
    >>> p = predict(m, ["poetry", "math"])
    >>> p.scores
    {'poetry': 0.55, 'math': 0.7}
    >>> round(p.mean, 3)
    0.625
    >>> m3 = TransferMatrix(["a", "b", "c"], [[0, -0.2, -0.2], [0, 0, 0], [0, 0, 0]],
    ...                     own_scores=[1.0, 0.5, 0.5])
    >>> additive = predict(m3, ["a", "b", "c"]).scores["a"]
    >>> compounding = predict(m3, ["a", "b", "c"], model="multiplicative").scores["a"]
    >>> round(additive, 6), round(compounding, 6)
    (0.6, 0.64)
    """
    objective = normalize_objective(objective, "predict")
    check_choice(model, MODELS, "model", "predict")
    idx = matrix.order_indices(order)
    matrix.check_complete()
    if model == "multiplicative":
        final = predict_many(matrix, [idx], objective=objective, model=model)[0]
        return _prediction(matrix, idx, final)
    n_tasks = matrix.n_tasks
    own = np.zeros(n_tasks) if matrix.own_scores is None else np.nan_to_num(matrix.own_scores)
    forward = matrix.forward if (model == "additive" and matrix.forward is not None) else None
    if objective == "all_pairs":
        return _prediction(matrix, idx, _final_all_pairs(own, matrix.bwt, forward, idx))
    final = own.copy()
    for position, task in enumerate(idx):  # adjacent: only the neighbours act
        later, earlier = idx[position + 1 : position + 2], idx[max(position - 1, 0) : position]
        final[task] += matrix.bwt[task, later].sum()
        if forward is not None:
            final[task] += forward[earlier, task].sum()
    return _prediction(matrix, idx, final)


def _final_all_pairs(
    own: np.ndarray, bwt: np.ndarray, forward: np.ndarray | None, idx: list[int]
) -> np.ndarray:
    """Final scores under ``all_pairs``: ``own`` plus each task's ``bwt`` row over the
    later tasks and its ``forward`` column over the earlier ones.

    The rows and columns are permuted once (O(n^2), vectorised) so that each task's sums
    run over contiguous slices, in the same order and with the same float result as
    summing ``bwt[task, later]`` and ``forward[earlier, task]`` one task at a time.
    """
    order = np.asarray(idx, dtype=np.intp)
    later_rows = np.take(np.take(bwt, order, axis=0), order, axis=1)
    earlier_rows = None
    if forward is not None:  # earlier_rows[k, l] = forward[order[l], order[k]]
        earlier_rows = np.take(np.take(forward, order, axis=1).T, order, axis=1)
    final = own.copy()
    for position, task in enumerate(idx):
        final[task] += later_rows[position, position + 1 :].sum()
        if earlier_rows is not None:
            final[task] += earlier_rows[position, :position].sum()
    return final


def _prediction(matrix: TransferMatrix, idx: list[int], final: np.ndarray) -> Prediction:
    weights = matrix.weights
    mean = (
        float((weights * final).sum() / weights.sum()) if weights.sum() > 0 else float(final.mean())
    )
    scores = {matrix.tasks[t]: float(final[t]) for t in idx}
    return Prediction(
        order=tuple(matrix.tasks[t] for t in idx),
        scores=scores,
        mean=mean,
        relative=matrix.own_scores is None,
    )


def _retention(matrix: TransferMatrix) -> np.ndarray:
    """``rho[i, j] = max(0, 1 + bwt[i, j] / s_i)``; raises without positive own scores."""
    own = matrix.own_scores
    if own is None or np.isnan(own).any() or (own <= 0).any():
        raise InvalidMatrixError(
            "The multiplicative model needs a positive own-stage score for every task "
            f"(matrix.own_scores). Got {None if own is None else own.tolist()}. Use "
            "model='additive', or a matrix from a probe campaign (it records own scores)."
        )
    rho = np.maximum(0.0, 1.0 + matrix.bwt / own[:, None])
    np.fill_diagonal(rho, 1.0)
    return rho


def predict_many(
    matrix: TransferMatrix,
    orders: Sequence[Sequence[int]] | np.ndarray,
    *,
    objective: str = "all_pairs",
    model: str = "additive",
) -> np.ndarray:
    """Final scores of many orders at once (task indices; no order checks): shape (K, n).

    Row ``k`` holds every task's predicted final score, in matrix task order, for the
    order ``orders[k]``; it equals ``predict(matrix, order).scores`` (vectorised, for
    searches and validation over many orders).

    Parameters
    ----------
    matrix : TransferMatrix
        Complete matrix (no missing entries).
    orders : sequence of sequences of int, or numpy.ndarray
        ``K`` orders as task indices, each a permutation of ``range(n)`` (not checked);
        a flat array is read as rows of ``n``.
    objective : {"all_pairs", "adjacent"}
        Which stages act on a task, as in :func:`predict`.
    model : {"additive", "backward_only", "multiplicative"}
        Outcome model, as in :func:`predict`.

    Returns
    -------
    numpy.ndarray
        Shape ``(K, n)``: predicted final score of each task (matrix task order) per order.

    Raises
    ------
    InvalidParameterError
        If ``objective`` or ``model`` is unknown.
    MissingEntriesError
        If the matrix has missing entries.
    InvalidMatrixError
        ``model="multiplicative"`` without positive ``own_scores``.

    Examples
    --------
    >>> m = TransferMatrix(["a", "b"], [[0, -0.2], [0.05, 0]], own_scores=[0.7, 0.5])
    >>> predict_many(m, [[0, 1], [1, 0]]).round(3).tolist()
    [[0.5, 0.5], [0.7, 0.55]]
    """
    objective = normalize_objective(objective, "predict_many")
    check_choice(model, MODELS, "model", "predict_many")
    matrix.check_complete()
    perms = np.asarray(orders, dtype=np.intp).reshape(-1, matrix.n_tasks)
    positions = np.argsort(perms, axis=1)
    gap = positions[:, None, :] - positions[:, :, None]  # gap[k, i, j] = pos(j) - pos(i)
    later = gap > 0 if objective == "all_pairs" else gap == 1
    own = (
        np.zeros(matrix.n_tasks) if matrix.own_scores is None else np.nan_to_num(matrix.own_scores)
    )
    start = np.broadcast_to(own, perms.shape).copy()
    if model == "additive" and matrix.forward is not None:
        # forward[j, i] counts for task i when j comes before i: later[k, j, i].
        start += np.einsum("kji,ji->ki", later, matrix.forward)
    if model == "multiplicative":
        return start * np.where(later, _retention(matrix)[None], 1.0).prod(axis=2)
    return start + np.einsum("kij,ij->ki", later, matrix.bwt)
