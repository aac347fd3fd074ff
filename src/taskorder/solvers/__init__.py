"""Solvers: from a transfer matrix to the best training order.

Which method when
-----------------
``"auto"`` (default)
    Picks for you and records why in ``SolveResult.method_reason``.
``"dp"``
    Exact subset dynamic programming; proves optimality. Up to 24 tasks
    (``all_pairs``) or 20 (``adjacent``); time and memory grow as ``2^n``.
``"brute"``
    Enumerates all ``n!`` orders; up to 10 tasks. The test oracle.
``"rank"``
    The published baseline rule (least to most forgettable). Instant, no guarantee.

Every solver has the signature ``solver(problem, *, time_limit=None, seed=0)`` and
returns a :class:`~taskorder.solvers.problem.Solution`; :func:`solve` wraps it into a
:class:`~taskorder.result.SolveResult`. Register more with :func:`register_solver`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from taskorder.exceptions import InvalidParameterError, SolverError
from taskorder.matrix import TransferMatrix
from taskorder.model import predict
from taskorder.objectives import expected_random_value, normalize_objective
from taskorder.result import SolveResult
from taskorder.solvers.exact.brute_force import solve_brute_force
from taskorder.solvers.exact.dp import MAX_TASKS_ADJACENT, MAX_TASKS_ALL_PAIRS, solve_dp
from taskorder.solvers.heuristics.rank import solve_rank
from taskorder.solvers.problem import Constraints, Problem, Solution

__all__ = ["solve", "SOLVERS", "register_solver", "choose_method", "Problem", "Constraints", "Solution"]

Solver = Callable[..., Solution]

#: Registered solvers by method name.
SOLVERS: dict[str, Solver] = {
    "brute": solve_brute_force,
    "dp": solve_dp,
    "rank": solve_rank,
}


def register_solver(name: str, solver: Solver) -> None:
    """Make ``solver`` available as ``solve(..., method=name)``."""
    SOLVERS[name] = solver


def choose_method(problem: Problem, time_limit: float | None) -> tuple[str, str]:
    """The method ``"auto"`` uses for ``problem``, and the reason, as ``(method, reason)``."""
    n_tasks = problem.n_tasks
    dp_limit = MAX_TASKS_ALL_PAIRS - 4 if problem.objective == "all_pairs" else MAX_TASKS_ADJACENT - 3
    if n_tasks <= dp_limit:
        return "dp", f"n = {n_tasks} <= {dp_limit}: the subset DP proves optimality in seconds"
    return "rank", (
        f"n = {n_tasks} > {dp_limit}: too large for the subset DP and no scalable solver is "
        "registered, so the rank rule is used"
    )


def solve(
    matrix: TransferMatrix,
    *,
    method: str = "auto",
    objective: str = "all_pairs",
    first: str | None = None,
    last: str | None = None,
    before: Sequence[tuple[str, str]] = (),
    time_limit: float | None = None,
    seed: int = 0,
    entropy: TransferMatrix | None = None,
    entropy_floor: Mapping[str, float] | None = None,
    entropy_weight: float | Mapping[str, float] | None = None,
) -> SolveResult:
    """Find the training order that maximises the objective under ``matrix``.

    Parameters
    ----------
    matrix : TransferMatrix
        Complete (no missing entries); see :data:`taskorder.SIGN_CONVENTION`.
    method : str
        ``"auto"`` or a name in :data:`SOLVERS` (see the module docstring).
    objective : {"all_pairs", "adjacent"}
        See :mod:`taskorder.objectives`.
    first, last : str, optional
        Task that must be trained first / last.
    before : sequence of (str, str)
        Pairs ``(a, b)``: ``a`` must be trained before ``b``.
    time_limit : float, optional
        Seconds the solver may spend.
    seed : int
        Seed for randomised solvers and the random-order baseline.
    entropy : TransferMatrix, optional
        Entropy transfer matrix (same tasks); see :mod:`taskorder.entropy`. With it the
        result's ``extras["predicted_entropy"]`` holds each task's predicted final entropy.
    entropy_floor : mapping of str to float, optional
        Minimum predicted final entropy per task (needs ``entropy``; ``all_pairs``).
    entropy_weight : float or mapping, optional
        Adds ``weight * predicted final entropy`` per task to the objective; then
        ``objective`` is the combined value and ``extras`` splits it into
        ``score_objective`` and ``entropy_objective``.

    Returns
    -------
    SolveResult

    Raises
    ------
    InvalidParameterError
        Unknown method or objective, a bad time limit, or a problem too large for the method.
    ConstraintError
        Constraints that name unknown tasks or contradict each other.
    MissingEntriesError
        The matrix has missing entries.

    Examples
    --------
    >>> m = TransferMatrix(["math", "code", "poetry"],
    ...                    [[0, 0.02, -0.10], [0.01, 0, -0.08], [0.03, 0.02, 0]])
    >>> result = solve(m)
    >>> result.order, result.status
    (('poetry', 'math', 'code'), 'optimal')
    >>> round(result.objective, 2), round(result.baselines["random_mean"], 3)
    (0.07, -0.05)
    """
    objective = normalize_objective(objective)
    if method != "auto" and method not in SOLVERS:
        raise InvalidParameterError(
            f"The 'method' parameter of solve must be 'auto' or one of {', '.join(SOLVERS)}. "
            f"Got {method!r}."
        )
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise InvalidParameterError(
            "The 'time_limit' parameter of solve must be a positive number of seconds. "
            f"Got {time_limit!r} instead."
        )
    if not isinstance(seed, (int, np.integer)):
        raise InvalidParameterError(f"The 'seed' parameter of solve must be an integer. Got {seed!r}.")
    matrix.check_complete()
    constraints = Constraints.from_names(matrix, first=first, last=last, before=before)
    weights = matrix.pair_weights()
    if entropy_floor or entropy_weight:
        from dataclasses import replace

        from taskorder.entropy import check_entropy_matrix, entropy_floors, entropy_weights

        if entropy is None:
            raise InvalidParameterError(
                "The 'entropy_floor' and 'entropy_weight' parameters of solve need the entropy "
                "transfer matrix ('entropy'). Got none."
            )
        check_entropy_matrix(matrix, entropy)
        if objective != "all_pairs":
            raise InvalidParameterError(
                "Entropy floors and weights use the all_pairs (additive) model. "
                f"Got objective {objective!r}."
            )
        if entropy_floor:
            constraints = replace(constraints, floors=entropy_floors(entropy, entropy_floor))
        if entropy_weight:
            weights = weights + entropy_weights(entropy, entropy_weight)
    problem = Problem(
        weights=weights,
        objective=objective,
        constraints=constraints,
        forgettability=matrix.forgettability(),
    )
    if method == "auto":
        method, reason = choose_method(problem, time_limit)
    else:
        reason = "chosen by the caller"
    start = time.perf_counter()
    solution = SOLVERS[method](problem, time_limit=time_limit, seed=int(seed))
    elapsed = time.perf_counter() - start
    if sorted(solution.order) != list(range(matrix.n_tasks)) or not constraints.satisfied_by(
        solution.order
    ):
        raise SolverError(f"Solver {method!r} returned an invalid order {solution.order}.")
    order = tuple(matrix.tasks[t] for t in solution.order)
    prediction = predict(matrix, order, objective=objective)
    extras = solution.extras
    if entropy is not None:
        from taskorder.entropy import check_entropy_matrix, predict_entropy
        from taskorder.objectives import order_value

        check_entropy_matrix(matrix, entropy)
        extras["predicted_entropy"] = predict_entropy(entropy, order)
        if entropy_weight:
            score_value = order_value(matrix.pair_weights(), solution.order, objective)
            extras["score_objective"] = score_value
            extras["entropy_objective"] = problem.value(solution.order) - score_value
    return SolveResult(
        order=order,
        objective=problem.value(solution.order),
        objective_name=objective,
        bound=solution.bound,
        status=solution.status,
        method=method,
        method_reason=reason,
        elapsed_s=elapsed,
        predicted=prediction.scores,
        predicted_mean=prediction.mean,
        baselines=_baselines(problem, seed=int(seed)),
        anytime=list(extras.pop("anytime", [])),
        extras=extras,
    )


def _baselines(problem: Problem, *, seed: int, n_samples: int = 200) -> dict[str, float]:
    """Objective of the rank rule and the mean objective of random (feasible) orders."""
    from dataclasses import replace

    # baselines ignore floors on predicted values: the rank rule does not know them
    problem = replace(problem, constraints=replace(problem.constraints, floors=()))
    rank_value = solve_rank(problem).value
    if problem.constraints.empty:
        random_mean = expected_random_value(problem.weights, problem.objective)
    else:
        rng = np.random.default_rng(seed)
        values = []
        for _ in range(n_samples):
            keyed = Problem(
                problem.weights,
                problem.objective,
                problem.constraints,
                forgettability=rng.random(problem.n_tasks),
            )
            values.append(solve_rank(keyed).value)
        random_mean = float(np.mean(values))
    return {"rank_rule": rank_value, "random_mean": random_mean}
