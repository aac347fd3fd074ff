"""Refresh stages: short stages of earlier tasks at the end of a schedule, from the measured BWT.

A curriculum forgets: in Math -> Code -> QA -> Creative Writing, math falls from 66.49
to 57.66, and a short math stage at the end brings it back to 66.04 (arXiv 2606.02398).
:func:`plan_refresh` chooses which tasks to refresh and for how long, under a step
budget, from the transfer matrix (sign convention: :mod:`taskorder.matrix`;
``bwt[i, j]`` is the change in task ``i``'s score from training ``j`` after ``i``).

The model (linear in stage length, one stage of ``stage_steps`` = one matrix entry)
------------------------------------------------------------------------------------
For ``order`` and a task ``i`` that is not last:

- ``forgetting_i = -sum_{j after i} bwt[i, j]``: what ``i`` is predicted to have lost
  by the end (positive = lost);
- ``collateral_i = sum_{k != i} bwt[k, i]``: what one full stage of ``i`` trained last
  does to every other task;
- a refresh of ``s`` steps, ``phi = s / stage_steps <= 1``, is predicted to win back
  ``phi * forgetting_i`` and to add ``phi * collateral_i``: net ``phi * net_i``,
  ``net_i = forgetting_i + collateral_i``.

Being linear, the best use of the budget is greedy: tasks with ``net_i > 0`` whose
forgetting clears ``z`` standard errors (when the matrix has ``bwt_stderr``), largest
``net_i`` first, each at most one stage, none shorter than ``min_steps``. Refresh stages
run in the order the tasks were first trained. Budget no task earns is left unused
(``RefreshPlan.unused_steps``) for the caller to give back to the main stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from taskorder.checks import check_float, check_int
from taskorder.exceptions import InvalidParameterError

__all__ = ["RefreshPlan", "plan_refresh", "with_refresh"]


@dataclass(frozen=True)
class RefreshPlan:
    """Refresh stages chosen by :func:`plan_refresh`.

    Attributes
    ----------
    stages : tuple of (str, int)
        ``(task, steps)`` in training order (may be empty).
    budget_steps : int
        The budget given.
    predicted : dict of str to dict
        Per task of the order: ``forgetting``, ``collateral``, ``net`` (for one full
        stage) and ``steps`` granted.
    reason : str
        Why these tasks (or none).
    """

    stages: tuple[tuple[str, int], ...]
    budget_steps: int
    predicted: dict[str, dict[str, float]]
    reason: str

    @property
    def total_steps(self) -> int:
        """Steps the refresh stages spend."""
        return sum(steps for _, steps in self.stages)

    @property
    def unused_steps(self) -> int:
        """Budget left over."""
        return self.budget_steps - self.total_steps

    @property
    def predicted_gain(self) -> float:
        """Sum over refreshed tasks of ``steps / stage_steps * net`` (the model's prediction)."""
        return float(sum(p["gain"] for p in self.predicted.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": [list(s) for s in self.stages],
            "budget_steps": self.budget_steps,
            "unused_steps": self.unused_steps,
            "predicted": self.predicted,
            "predicted_gain": self.predicted_gain,
            "reason": self.reason,
        }


def plan_refresh(
    matrix: Any,
    order: Sequence[str],
    *,
    budget_steps: int,
    stage_steps: int,
    min_steps: int = 1,
    z: float = 1.0,
) -> RefreshPlan:
    """Choose refresh stages for ``order`` within ``budget_steps`` (see the module docstring).

    Parameters
    ----------
    matrix : TransferMatrix
        Measured transfer (``bwt`` complete; ``bwt_stderr`` used when present).
    order : sequence of str
        The planned order of the main stages (a permutation of ``matrix.tasks``).
    budget_steps : int
        Steps the refresh stages may spend in all (>= 0).
    stage_steps : int
        Steps of one main stage: the length the matrix's entries were measured at.
    min_steps : int, default 1
        Shortest refresh stage worth running.
    z : float, default 1.0
        Standard errors the predicted forgetting must clear (``0`` keeps every
        positive forgetting).

    Returns
    -------
    RefreshPlan

    Raises
    ------
    InvalidParameterError
        Bad counts, or an order that is not a permutation of the matrix's tasks.

    Examples
    --------
    >>> from taskorder.matrix import TransferMatrix
    >>> m = TransferMatrix(["math", "code", "qa"],
    ...                    [[0, -0.08, -0.02], [0.01, 0, -0.01], [0.0, 0.0, 0]])
    >>> plan = plan_refresh(m, ["math", "code", "qa"], budget_steps=10, stage_steps=40)
    >>> plan.stages, plan.unused_steps
    ((('math', 10),), 0)
    >>> plan.predicted["math"]["forgetting"], plan.predicted["math"]["net"]
    (0.1, 0.11)
    """
    tasks = list(matrix.tasks)
    if sorted(order) != sorted(tasks) or len(set(order)) != len(tasks):
        raise InvalidParameterError(
            f"The 'order' parameter of plan_refresh must be a permutation of the matrix's tasks "
            f"{tasks}. Got {list(order)}."
        )
    budget = check_int(budget_steps, "budget_steps", "plan_refresh", minimum=0)
    stage_steps = check_int(stage_steps, "stage_steps", "plan_refresh")
    min_steps = check_int(min_steps, "min_steps", "plan_refresh")
    z = check_float(z, "z", "plan_refresh", minimum=0, maximum=1e6, high_open=True)
    matrix.check_complete()
    bwt = np.asarray(matrix.bwt, float)
    se = None if matrix.bwt_stderr is None else np.asarray(matrix.bwt_stderr, float)
    idx = [tasks.index(t) for t in order]
    predicted, candidates = _predict(tasks, idx, bwt, se, z)
    _grant(predicted, candidates, budget, stage_steps, min_steps)
    stages = tuple((t, int(predicted[t]["steps"])) for t in order if predicted[t]["steps"])
    return RefreshPlan(stages, budget, predicted, _reason(stages, budget, min_steps, z))


def _predict(
    tasks: list[str], idx: list[int], bwt: np.ndarray, se: np.ndarray | None, z: float
) -> tuple[dict[str, dict[str, float]], list[tuple[float, int, str]]]:
    """Per task of the order (``idx``: matrix indices in training order): the model's
    forgetting, collateral and net for one full stage (nothing granted yet), and the
    candidates ``(net, position, task)`` worth refreshing."""
    predicted: dict[str, dict[str, float]] = {}
    candidates = []
    for position, i in enumerate(idx):
        later = idx[position + 1 :]
        forgetting = float(-bwt[i, later].sum()) if later else 0.0
        collateral = float(sum(bwt[k, i] for k in idx if k != i))
        noise = float(np.sqrt(np.nansum(se[i, later] ** 2))) if se is not None and later else 0.0
        net = forgetting + collateral
        predicted[tasks[i]] = {
            "forgetting": round(forgetting, 12),
            "collateral": round(collateral, 12),
            "net": round(net, 12),
            "forgetting_stderr": noise,
            "steps": 0,
            "gain": 0.0,
        }
        if later and forgetting > z * noise and forgetting > 0 and net > 0:
            candidates.append((net, position, tasks[i]))
    return predicted, candidates


def _grant(
    predicted: dict[str, dict[str, float]],
    candidates: list[tuple[float, int, str]],
    budget: int,
    stage_steps: int,
    min_steps: int,
) -> None:
    """Give the budget to the candidates, largest net first (earlier first on ties), at most
    one stage each, none shorter than ``min_steps``; write ``steps`` and ``gain`` in place."""
    left = budget
    for net, _, task in sorted(candidates, key=lambda c: (-c[0], c[1])):
        steps = min(stage_steps, left)
        if steps < min_steps:
            break
        predicted[task]["steps"] = steps
        predicted[task]["gain"] = steps / stage_steps * net
        left -= steps


def _reason(stages: tuple[tuple[str, int], ...], budget: int, min_steps: int, z: float) -> str:
    if stages:
        return (
            f"refresh {', '.join(t for t, _ in stages)}: predicted forgetting exceeds "
            f"{z:g} standard error(s) and the harm of one more stage to the others"
        )
    if budget < min_steps:
        return f"budget {budget} below min_steps {min_steps}"
    return "no task is predicted to lose more than refreshing it would cost the others"


def _spread(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` integers differing by at most 1 (larger ones first)."""
    base, extra = divmod(total, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def with_refresh(
    matrix: Any,
    order: Sequence[str],
    *,
    stage_steps: int,
    refresh_share: float = 0.1,
    min_steps: int = 1,
    z: float = 1.0,
) -> tuple[list[tuple[str, int]], RefreshPlan]:
    """Main stages of ``order`` and refresh stages, ``len(order) * stage_steps`` steps in all.

    Every main stage gives up ``round(refresh_share * stage_steps)`` steps to the refresh
    budget; :func:`plan_refresh` spends what it can of it and the rest goes back to the
    main stages (earliest first), so the total never changes.

    Parameters
    ----------
    matrix : TransferMatrix
        Measured transfer, as for :func:`plan_refresh`.
    order : sequence of str
        The planned order of the main stages (a permutation of ``matrix.tasks``).
    stage_steps : int
        Steps of one main stage before the refresh budget is cut from it (>= 1).
    refresh_share : float, default 0.1
        Share of every main stage given to the refresh budget, in ``[0, 1)``.
    min_steps : int, default 1
        Shortest refresh stage worth running (:func:`plan_refresh`).
    z : float, default 1.0
        Standard errors the predicted forgetting must clear (:func:`plan_refresh`).

    Returns
    -------
    (list of (str, int), RefreshPlan)
        The main stages ``(task, steps)`` in order, and the refresh plan to run after them.

    Examples
    --------
    >>> from taskorder.matrix import TransferMatrix
    >>> m = TransferMatrix(["a", "b"], [[0, -0.2], [0.0, 0]])
    >>> main, plan = with_refresh(m, ["a", "b"], stage_steps=20, refresh_share=0.25)
    >>> main, plan.stages
    ([('a', 15), ('b', 15)], (('a', 10),))
    >>> with_refresh(m, ["b", "a"], stage_steps=20)[0]  # nothing worth refreshing
    [('b', 20), ('a', 20)]
    """
    refresh_share = check_float(
        refresh_share, "refresh_share", "with_refresh", minimum=0, maximum=1, high_open=True
    )
    stage_steps = check_int(stage_steps, "stage_steps", "with_refresh")
    cut = round(refresh_share * stage_steps)
    plan = plan_refresh(
        matrix,
        order,
        budget_steps=cut * len(order),
        stage_steps=stage_steps,
        min_steps=min_steps,
        z=z,
    )
    back = _spread(plan.unused_steps, len(order))
    main = [(task, stage_steps - cut + extra) for task, extra in zip(order, back)]
    return main, plan
