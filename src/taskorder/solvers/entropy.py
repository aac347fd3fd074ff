"""Entropy-aware ordering: predict each task's final output entropy and keep it in bounds.

Structured tasks (math, code) sharpen the policy and lower its output entropy;
open-ended tasks (creative writing, dialogue) need it. A probe campaign measures an
*entropy transfer matrix* with the same layout as the score matrix (a
:class:`~taskorder.TransferMatrix` whose values are entropies, in nats):
``bwt[i, j]`` = change in task ``i``'s mean token entropy from training ``j`` after
``i``, ``forward[i, j]`` = change in ``j``'s entropy from training ``i`` before ``j``,
``own_scores[i]`` = ``i``'s entropy right after its own stage.

The same additive model (:func:`taskorder.predict`) then predicts every task's final
entropy. Two ways to use it, as fields of :class:`~taskorder.solvers.problem.ProblemSpec`
(``objective="all_pairs"``, any outcome model) passed to :func:`taskorder.solve`:

- ``entropy_floor={"creative_writing": 0.8}``: only orders whose predicted final
  entropy for that task is at least 0.8 are allowed (exact with ``method="dp"`` /
  ``"brute"``; a clear :class:`~taskorder.ConstraintError` when no order can do it);
- ``entropy_weight={"creative_writing": 0.5}`` (or one number for every task): adds
  ``weight * (predicted final entropy - own-stage entropy)`` to the objective, trading
  score for entropy (the own-stage entropy is a constant, so this is the same as adding
  ``weight * predicted final entropy``).

:func:`entropy_terms` turns those fields into solver terms (floors and pair weights);
the result's :class:`~taskorder.result.EntropyOutcome` carries the predictions.

For task ``t`` with ``S`` = the set trained before it, the predicted final entropy is
``own_t + sum_{j not in S} bwt[t, j] + sum_{j in S} forward[j, t]``
= ``base_t + sum_{j in S} (forward[j, t] - bwt[t, j])``, which is what the exact
solvers check when they place ``t``.

Two entropy models (``model=``):

``"additive"`` (default)
    The formula above. It can predict impossible negative entropies: on the built-in
    learner 37 % of its predictions for open tasks were negative and the mean absolute
    error was 0.97 nats (benchmarks/entropy_models.py).
``"multiplicative"``
    Each later stage *scales* the entropy: ``H_t = own_t * prod_{j after t} r[t, j]``
    with ``r[t, j] = (own_t + bwt[t, j]) / own_t``, i.e. additive in ``log H``. It never
    predicts a negative entropy (ratios are clipped at a tiny positive value) and uses no
    forward transfer: a forward ratio divides by the *untrained* entropy, which can be
    near zero and blew predictions up in the same measurement. Measured there: no
    negative predictions, mean absolute error 0.34 nats. Floors become ``log`` floors,
    so the exact solvers handle them unchanged; ``entropy_weight`` needs the additive model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from taskorder.checks import check_choice
from taskorder.exceptions import ConstraintError, InvalidMatrixError
from taskorder.matrix import TransferMatrix
from taskorder.solvers.problem import ENTROPY_MODELS, Floor

if TYPE_CHECKING:
    from taskorder.result import EntropyOutcome
    from taskorder.solvers import Prepared
    from taskorder.solvers.problem import ProblemSpec

__all__ = [
    "ENTROPY_MODELS",
    "check_entropy_matrix",
    "entropy_floors",
    "entropy_outcome",
    "entropy_terms",
    "entropy_weights",
    "log_entropy_matrix",
    "predict_entropy",
]

_TINY = 1e-6


def log_entropy_matrix(entropy: TransferMatrix) -> TransferMatrix:
    """The multiplicative model as an additive one in ``log`` entropy.

    ``own -> log(own)``, ``bwt[t, j] -> log((own_t + bwt[t, j]) / own_t)``, no forward
    transfer. Entropies and ratios are clipped at 1e-6 before the logarithm.

    Examples
    --------
    >>> e = TransferMatrix(["math", "poetry"], [[0, -0.1], [-0.5, 0]], own_scores=[0.2, 1.0])
    >>> log_entropy_matrix(e).bwt.round(4).tolist()
    [[0.0, -0.6931], [-0.6931, 0.0]]
    """
    if entropy.own_scores is None or np.isnan(entropy.own_scores).any():
        raise ConstraintError(
            "The multiplicative entropy model needs each task's entropy after its own stage "
            "(own_scores of the entropy matrix). Got none."
        )
    own = np.clip(entropy.own_scores, _TINY, None)
    ratios = np.clip(own[:, None] + entropy.bwt, _TINY, None) / own[:, None]
    bwt = np.log(ratios)
    np.fill_diagonal(bwt, 0.0)
    return TransferMatrix(entropy.tasks, bwt, weights=entropy.weights, own_scores=np.log(own))


def check_entropy_matrix(matrix: TransferMatrix, entropy: TransferMatrix) -> None:
    """Raise unless ``entropy`` covers the same tasks, in the same order, with no gaps."""
    if entropy.tasks != matrix.tasks:
        raise InvalidMatrixError(
            "The entropy matrix must list the same tasks in the same order as the transfer "
            f"matrix {list(matrix.tasks)}. Got {list(entropy.tasks)}."
        )
    entropy.check_complete()


def predict_entropy(
    entropy: TransferMatrix, order: Sequence[str], model: str = "additive"
) -> dict[str, float]:
    """Predicted final entropy of every task under ``model`` (``all_pairs``).

    Parameters
    ----------
    entropy : TransferMatrix
        Entropy transfer matrix (values in nats; see the module docstring), with
        ``own_scores`` = each task's entropy right after its own stage.
    order : sequence of str
        Every task once, first trained first.
    model : {"additive", "multiplicative"}
        Entropy model (see the module docstring).

    Returns
    -------
    dict of str to float
        Predicted final entropy (nats) per task, in ``order``.

    Raises
    ------
    InvalidParameterError
        If ``model`` is unknown.
    InvalidOrderError
        If ``order`` is not a permutation of the tasks.

    Examples
    --------
    >>> e = TransferMatrix(["math", "poetry"], [[0, 0.3], [-0.4, 0]], own_scores=[0.2, 1.0])
    >>> predict_entropy(e, ["poetry", "math"])
    {'poetry': 0.6, 'math': 0.2}
    >>> e = TransferMatrix(["math", "poetry"], [[0, 0.3], [-1.4, 0]], own_scores=[0.2, 1.0])
    >>> predict_entropy(e, ["poetry", "math"])["poetry"] < 0
    True
    >>> round(predict_entropy(e, ["poetry", "math"], model="multiplicative")["poetry"], 6)
    1e-06
    """
    from taskorder.model import predict

    if check_choice(model, ENTROPY_MODELS, "model", "predict_entropy") == "multiplicative":
        logs = predict(log_entropy_matrix(entropy), order).scores
        return {task: float(np.exp(value)) for task, value in logs.items()}
    return predict(entropy, order).scores


def entropy_floors(
    entropy: TransferMatrix, floors: Mapping[str, float], model: str = "additive"
) -> tuple[Floor, ...]:
    """Turn ``{task: minimum final entropy}`` into solver :class:`Floor` constraints.

    With ``model="multiplicative"`` the floors act on ``log`` entropy (a floor at or
    below 0 nats always holds and is left out).

    Parameters
    ----------
    entropy : TransferMatrix
        Entropy transfer matrix (values in nats), with own-stage entropies in ``own_scores``.
    floors : mapping of str to float
        Minimum predicted final entropy (nats) per task name.
    model : {"additive", "multiplicative"}
        Entropy model (see the module docstring).

    Returns
    -------
    tuple of Floor
        One constraint per kept floor, on the entropy matrix's task indices.

    Raises
    ------
    InvalidParameterError
        If ``model`` is unknown.
    ConstraintError
        If a task is unknown, the entropy matrix has no own-stage entropies, or no order
        can reach a floor (the message gives the best reachable value, in nats).
    """
    if check_choice(model, ENTROPY_MODELS, "model", "entropy_floors") == "multiplicative":
        unknown = [task for task in floors if task not in entropy.tasks]
        if unknown:
            raise ConstraintError(
                f"The entropy floor names unknown task {unknown[0]!r}. Known tasks: "
                f"{list(entropy.tasks)}."
            )
        # Additive in log entropy; a floor at or below 0 nats always holds.
        matrix, to_nats, which = log_entropy_matrix(entropy), np.exp, " (multiplicative model)"
        wanted = {task: float(np.log(v)) for task, v in floors.items() if v > 0}
    else:
        if entropy.own_scores is None or np.isnan(entropy.own_scores).any():
            raise ConstraintError(
                "Entropy floors need each task's entropy after its own stage (own_scores of the "
                "entropy matrix). Got none."
            )
        matrix, to_nats, which = entropy, float, ""
        wanted = dict(floors)
    forward = np.zeros_like(matrix.bwt) if matrix.forward is None else matrix.forward
    result = []
    for task, minimum in wanted.items():
        if task not in matrix.tasks:
            raise ConstraintError(
                f"The entropy floor names unknown task {task!r}. Known tasks: {list(matrix.tasks)}."
            )
        t = matrix.index(task)
        base = float(matrix.own_scores[t] + matrix.bwt[t].sum())
        coefficients = forward[:, t] - matrix.bwt[t, :]
        coefficients[t] = 0.0
        floor = Floor(t, base, coefficients, float(minimum), label=f"{task} entropy")
        if floor.best_possible() < floor.minimum - 1e-9:
            raise ConstraintError(
                f"No order can keep {task}'s predicted final entropy{which} at or above "
                f"{floors[task]:g} nats: the most any order reaches is "
                f"{to_nats(floor.best_possible()):.4g}."
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


def entropy_terms(
    matrix: TransferMatrix,
    entropy: TransferMatrix,
    floor: Mapping[str, float] | None,
    weight: float | Mapping[str, float] | None,
    model: str = "additive",
) -> tuple[tuple[Floor, ...], np.ndarray | None]:
    """The solver terms of a spec's entropy fields: ``(floors, bonus pair weights)``.

    Parameters
    ----------
    matrix : TransferMatrix
        The score matrix (the entropy matrix must list the same tasks).
    entropy : TransferMatrix
        Entropy transfer matrix with own-stage entropies.
    floor : mapping of str to float, optional
        Minimum predicted final entropy per task (nats).
    weight : float or mapping, optional
        Objective weight per nat of predicted entropy (additive ``model`` only).
    model : {"additive", "multiplicative"}

    Returns
    -------
    tuple
        The :class:`Floor` constraints (empty without ``floor``) and the pair weights to
        add to the objective (``None`` without ``weight``).

    Raises
    ------
    InvalidMatrixError
        If the entropy matrix lists other tasks or has gaps.
    ConstraintError
        Unknown task names, or a floor no order can reach.

    Examples
    --------
    >>> m = TransferMatrix(["math", "poetry"], [[0, -0.1], [-0.2, 0]])
    >>> e = TransferMatrix(["math", "poetry"], [[0, 0.3], [-0.4, 0]], own_scores=[0.2, 1.0])
    >>> floors, bonus = entropy_terms(m, e, {"poetry": 0.7}, 1.0)
    >>> floors[0].label, bonus.tolist()
    ('poetry entropy', [[0.0, 0.3], [-0.4, 0.0]])
    """
    check_entropy_matrix(matrix, entropy)
    model = check_choice(model, ENTROPY_MODELS, "model", "entropy_terms")
    floors = entropy_floors(entropy, floor, model=model) if floor else ()
    bonus = entropy_weights(entropy, weight) if weight else None
    return floors, bonus


def entropy_outcome(
    matrix: TransferMatrix,
    spec: ProblemSpec,
    order: tuple[str, ...],
    prepared: Prepared | None = None,
    value: float | None = None,
) -> EntropyOutcome:
    """The :class:`~taskorder.result.EntropyOutcome` of ``order`` under ``spec``.

    Parameters
    ----------
    matrix : TransferMatrix
        The score matrix.
    spec : ProblemSpec
        With ``entropy`` set.
    order : tuple of str
    prepared : Prepared, optional
        ``prepare(matrix, spec)``, when already built.
    value : float, optional
        The order's objective, when already known.

    Returns
    -------
    EntropyOutcome
    """
    from taskorder.objectives import order_value
    from taskorder.result import EntropyOutcome
    from taskorder.solvers import prepare

    prepared = prepare(matrix, spec) if prepared is None else prepared
    index = matrix.order_indices(order)
    value = prepared.value.value(index) if value is None else value
    score = bonus = None
    if prepared.bonus is not None:
        bonus = order_value(prepared.bonus, index, "all_pairs")
        score = value - bonus
    return EntropyOutcome(
        model=spec.entropy_model,
        predicted=predict_entropy(spec.entropy, order, model=spec.entropy_model),
        floors=dict(spec.entropy_floor or {}),
        score_objective=score,
        entropy_objective=bonus,
    )
