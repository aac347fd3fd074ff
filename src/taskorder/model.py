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

These assumptions are a hypothesis: validate them (``taskorder validate``) before
trusting a predicted gain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.objectives import normalize_objective

__all__ = ["Prediction", "predict", "MODELS"]

MODELS = ("additive", "backward_only")


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
    model : {"additive", "backward_only"}
        ``"additive"`` uses backward and (if present) forward transfer;
        ``"backward_only"`` ignores forward transfer, as the published method does.

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

    Examples
    --------
    >>> m = TransferMatrix(["math", "poetry"], [[0, -0.2], [0.05, 0]],
    ...                    own_scores=[0.7, 0.5])
    >>> p = predict(m, ["poetry", "math"])
    >>> p.scores
    {'poetry': 0.55, 'math': 0.7}
    >>> round(p.mean, 3)
    0.625
    """
    objective = normalize_objective(objective)
    if model not in MODELS:
        raise InvalidParameterError(
            f"The 'model' parameter of predict must be one of {', '.join(MODELS)}. Got {model!r}."
        )
    idx = matrix.order_indices(order)
    matrix.check_complete()
    n_tasks = matrix.n_tasks
    own = np.zeros(n_tasks) if matrix.own_scores is None else np.nan_to_num(matrix.own_scores)
    forward = matrix.forward if (model == "additive" and matrix.forward is not None) else None
    final = own.copy()
    for position, task in enumerate(idx):
        if objective == "all_pairs":
            later, earlier = idx[position + 1 :], idx[:position]
        else:
            later, earlier = idx[position + 1 : position + 2], idx[max(position - 1, 0) : position]
        final[task] += matrix.bwt[task, later].sum()
        if forward is not None:
            final[task] += forward[earlier, task].sum()
    weights = matrix.weights
    mean = float((weights * final).sum() / weights.sum()) if weights.sum() > 0 else float(final.mean())
    scores = {matrix.tasks[t]: float(final[t]) for t in idx}
    return Prediction(
        order=tuple(matrix.tasks[t] for t in idx),
        scores=scores,
        mean=mean,
        relative=matrix.own_scores is None,
    )
