"""Entropy-aware ordering: predict each task's final output entropy and keep it in bounds.

Structured tasks (math, code) sharpen the policy and lower its output entropy;
open-ended tasks (creative writing, dialogue) need it. A probe campaign measures an
*entropy transfer matrix* with the same layout as the score matrix (a
:class:`~taskorder.TransferMatrix` whose values are entropies, in nats):
``bwt[i, j]`` = change in task ``i``'s mean token entropy from training ``j`` after
``i``, ``forward[i, j]`` = change in ``j``'s entropy from training ``i`` before ``j``,
``own_scores[i]`` = ``i``'s entropy right after its own stage.

The same additive model (:func:`taskorder.predict`) then predicts every task's final
entropy. Two ways to use it in :func:`taskorder.solve`:

- ``entropy_floor={"creative_writing": 0.8}``: only orders whose predicted final
  entropy for that task is at least 0.8 are allowed (exact with ``method="dp"`` /
  ``"brute"``; a clear :class:`~taskorder.ConstraintError` when no order can do it);
- ``entropy_weight={"creative_writing": 0.5}`` (or one number for every task): adds
  ``weight * predicted final entropy`` to the objective, trading score for entropy.

For task ``t`` with ``S`` = the set trained before it, the predicted final entropy is
``own_t + sum_{j not in S} bwt[t, j] + sum_{j in S} forward[j, t]``
= ``base_t + sum_{j in S} (forward[j, t] - bwt[t, j])``, which is what the exact
solvers check when they place ``t``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from taskorder.exceptions import ConstraintError, InvalidMatrixError
from taskorder.matrix import TransferMatrix
from taskorder.solvers.problem import Floor

__all__ = ["entropy_floors", "entropy_weights", "predict_entropy", "check_entropy_matrix"]


def check_entropy_matrix(matrix: TransferMatrix, entropy: TransferMatrix) -> None:
    """Raise unless ``entropy`` covers the same tasks, in the same order, with no gaps."""
    if entropy.tasks != matrix.tasks:
        raise InvalidMatrixError(
            "The entropy matrix must list the same tasks in the same order as the transfer "
            f"matrix {list(matrix.tasks)}. Got {list(entropy.tasks)}."
        )
    entropy.check_complete()


def predict_entropy(entropy: TransferMatrix, order: Sequence[str]) -> dict[str, float]:
    """Predicted final entropy of every task (additive model; ``all_pairs``).

    Examples
    --------
    >>> e = TransferMatrix(["math", "poetry"], [[0, 0.3], [-0.4, 0]], own_scores=[0.2, 1.0])
    >>> predict_entropy(e, ["poetry", "math"])
    {'poetry': 0.6, 'math': 0.2}
    """
    from taskorder.model import predict

    return predict(entropy, order).scores


def entropy_floors(entropy: TransferMatrix, floors: Mapping[str, float]) -> tuple[Floor, ...]:
    """Turn ``{task: minimum final entropy}`` into solver :class:`Floor` constraints.

    Raises
    ------
    ConstraintError
        If a task is unknown, the entropy matrix has no own-stage entropies, or no order
        can reach a floor (the message gives the best reachable value).
    """
    if entropy.own_scores is None or np.isnan(entropy.own_scores).any():
        raise ConstraintError(
            "Entropy floors need each task's entropy after its own stage (own_scores of the "
            "entropy matrix). Got none."
        )
    forward = np.zeros_like(entropy.bwt) if entropy.forward is None else entropy.forward
    result = []
    for task, minimum in floors.items():
        if task not in entropy.tasks:
            raise ConstraintError(
                f"The entropy floor names unknown task {task!r}. Known tasks: {list(entropy.tasks)}."
            )
        t = entropy.index(task)
        base = float(entropy.own_scores[t] + entropy.bwt[t].sum())
        coefficients = forward[:, t] - entropy.bwt[t, :]
        coefficients[t] = 0.0
        floor = Floor(t, base, coefficients, float(minimum), label=f"{task} entropy")
        if floor.best_possible() < floor.minimum - 1e-9:
            raise ConstraintError(
                f"No order can keep {task}'s predicted final entropy at or above {minimum:g} nats: "
                f"the most any order reaches is {floor.best_possible():.4g}."
            )
        result.append(floor)
    return tuple(result)


def entropy_weights(entropy: TransferMatrix, weight: float | Mapping[str, float]) -> np.ndarray:
    """Pair weights that add ``weight_t * predicted final entropy of t`` to the objective."""
    if isinstance(weight, Mapping):
        unknown = sorted(set(weight) - set(entropy.tasks))
        if unknown:
            raise ConstraintError(
                f"The entropy weight names unknown tasks {unknown}. Known tasks: {list(entropy.tasks)}."
            )
        vector = [float(weight.get(task, 0.0)) for task in entropy.tasks]
    else:
        vector = [float(weight)] * entropy.n_tasks
    return entropy.replace(weights=vector).pair_weights()
