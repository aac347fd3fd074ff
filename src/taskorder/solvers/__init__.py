"""Solvers: from a transfer matrix to the best training order.

Which method when
-----------------
``"auto"`` (default)
    Picks for you by size, objective and time limit and records why in
    ``SolveResult.method_reason`` (see :func:`choose_method`; thresholds measured in
    docs/solvers.md).
``"dp"``
    Exact subset dynamic programming; proves optimality. Up to 24 tasks
    (``all_pairs``) or 20 (``adjacent``); time and memory grow as ``2^n``.
``"ilp"``
    Exact MIP (HiGHS through OR-tools) for ``all_pairs`` and ``max_min``: LP cutting
    planes and lazy 3-cycle rows. Proves real-world (input-output) matrices of 44-79
    tasks optimal in about a second; on a time limit returns ``feasible`` with a bound.
``"cpsat"``
    Exact CP-SAT models for every objective; the choice for ``adjacent`` (a circuit
    with a dummy node) beyond the DP's reach.
``"local"``
    Anytime local search for every objective: seconds for hundreds of tasks, an
    anytime curve, a cheap bound, no proof.
``"brute"``
    Enumerates all ``n!`` orders; up to 10 tasks. The test oracle.
``"rank"``
    The published baseline rule (least to most forgettable). Instant, no guarantee.

Objectives: ``"all_pairs"`` and ``"adjacent"`` (see :mod:`taskorder.objectives`), and
``"max_min"``: maximise the lowest predicted final score (the additive model of
:mod:`taskorder.model`, unweighted), supported by ``ilp``, ``cpsat``, ``local`` and
``rank``.

Every solver has the signature ``solver(problem, *, time_limit=None, seed=0)`` and
returns a :class:`~taskorder.solvers.problem.Solution`; :func:`solve` wraps it into a
:class:`~taskorder.result.SolveResult`. Register more with :func:`register_solver`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from taskorder.exceptions import ConstraintError, InvalidParameterError, SolverError
from taskorder.matrix import TransferMatrix
from taskorder.model import predict
from taskorder.objectives import expected_random_value, normalize_objective
from taskorder.result import SolveResult
from taskorder.solvers.choose import AUTO_TIME_LIMIT, choose_method
from taskorder.solvers.exact.brute_force import solve_brute_force
from taskorder.solvers.exact.cpsat import solve_cpsat
from taskorder.solvers.exact.dp import MAX_TASKS_ALL_PAIRS, solve_dp
from taskorder.solvers.exact.ilp import solve_ilp
from taskorder.solvers.heuristics.local_search import solve_local
from taskorder.solvers.heuristics.rank import solve_rank
from taskorder.solvers.problem import SOLVER_OBJECTIVES, Constraints, Problem, Solution

__all__ = [
    "solve",
    "SOLVERS",
    "SUPPORTED_OBJECTIVES",
    "register_solver",
    "choose_method",
    "make_problem",
    "Problem",
    "Constraints",
    "Solution",
]

Solver = Callable[..., Solution]

#: Registered solvers by method name.
SOLVERS: dict[str, Solver] = {
    "brute": solve_brute_force,
    "dp": solve_dp,
    "ilp": solve_ilp,
    "cpsat": solve_cpsat,
    "local": solve_local,
    "rank": solve_rank,
}

#: Objectives each built-in method handles (a registered solver is assumed to handle all).
SUPPORTED_OBJECTIVES: dict[str, tuple[str, ...]] = {
    "brute": ("all_pairs", "adjacent"),
    "dp": ("all_pairs", "adjacent"),
    "ilp": ("all_pairs", "max_min"),
    "cpsat": SOLVER_OBJECTIVES,
    "local": SOLVER_OBJECTIVES,
    "rank": SOLVER_OBJECTIVES,
}


def register_solver(name: str, solver: Solver) -> None:
    """Make ``solver`` available as ``solve(..., method=name)``."""
    SOLVERS[name] = solver


def _objective_name(objective: str) -> str:
    name = str(objective).strip().lower().replace("-", "_")
    if name == "max_min":
        return name
    try:
        return normalize_objective(objective)
    except InvalidParameterError:
        raise InvalidParameterError(
            f"The 'objective' parameter of solve must be one of {', '.join(SOLVER_OBJECTIVES)}. "
            f"Got {objective!r}."
        ) from None


def make_problem(matrix: TransferMatrix, objective: str, constraints: Constraints) -> Problem:
    """The :class:`Problem` a solver sees for ``matrix`` (pair weights and, for
    ``max_min``, the per-task arrays: ``bwt``, ``forward`` or zeros, own scores or zeros)."""
    extra = {}
    if objective == "max_min":
        n_tasks = matrix.n_tasks
        own, forward = matrix.own_scores, matrix.forward
        extra = {
            "bwt": np.array(matrix.bwt),
            "forward": np.zeros((n_tasks, n_tasks)) if forward is None else np.array(forward),
            "own": np.zeros(n_tasks) if own is None else np.nan_to_num(np.array(own)),
        }
    return Problem(
        weights=matrix.pair_weights(),
        objective=objective,
        constraints=constraints,
        forgettability=matrix.forgettability(),
        **extra,
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
    entropy_model: str = "additive",
) -> SolveResult:
    """Find the training order that maximises the objective under ``matrix``.

    Parameters
    ----------
    matrix : TransferMatrix
        Complete (no missing entries); see :data:`taskorder.SIGN_CONVENTION`.
    method : str
        ``"auto"`` or a name in :data:`SOLVERS` (see the module docstring).
    objective : {"all_pairs", "adjacent", "max_min"}
        See :mod:`taskorder.objectives`; ``"max_min"`` maximises the lowest predicted
        final score (see the module docstring).
    first, last : str, optional
        Task that must be trained first / last.
    before : sequence of (str, str)
        Pairs ``(a, b)``: ``a`` must be trained before ``b``.
    time_limit : float, optional
        Seconds the solver may spend. With ``method="auto"`` and no limit, the chosen
        anytime or MIP method gets :data:`AUTO_TIME_LIMIT` seconds (said in
        ``method_reason``).
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
    entropy_model : {"additive", "multiplicative"}
        How final entropies are predicted (:mod:`taskorder.entropy`): the multiplicative
        model never predicts a negative entropy; floors only (no ``entropy_weight``).

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
    called = time.perf_counter()
    objective = _objective_name(objective)
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
    if objective not in SUPPORTED_OBJECTIVES.get(method, SOLVER_OBJECTIVES):
        raise InvalidParameterError(
            f"The {method!r} method does not handle objective={objective!r}; methods that do: "
            f"{', '.join(m for m, objs in SUPPORTED_OBJECTIVES.items() if objective in objs)}."
        )
    matrix.check_complete()
    constraints = Constraints.from_names(matrix, first=first, last=last, before=before)
    problem = make_problem(matrix, objective, constraints)
    from taskorder.entropy import ENTROPY_MODELS

    if entropy_model not in ENTROPY_MODELS:
        raise InvalidParameterError(
            "The 'entropy_model' parameter of solve must be "
            f"{' or '.join(map(repr, ENTROPY_MODELS))}. Got {entropy_model!r}."
        )
    if entropy_floor or entropy_weight:
        problem = _with_entropy(
            problem, matrix, entropy, entropy_floor, entropy_weight, entropy_model
        )
    floors_reason = ""
    if problem.constraints.floors and method not in ("dp", "brute"):
        if method != "auto" or matrix.n_tasks > MAX_TASKS_ALL_PAIRS:
            raise ConstraintError(
                "Entropy floors are exact constraints of the subset DP and brute force only "
                f"(n <= {MAX_TASKS_ALL_PAIRS}). Got method {method!r} with n = {matrix.n_tasks}."
            )
        method, floors_reason = "dp", "entropy floors are checked exactly by the subset DP"
    if floors_reason:
        reason = floors_reason
    elif method == "auto":
        method, reason = choose_method(problem, time_limit)
        if time_limit is None and method in AUTO_TIME_LIMIT:
            time_limit = AUTO_TIME_LIMIT[method]
            reason += f"; no time limit given, so it gets {time_limit:g} s"
    else:
        reason = "chosen by the caller"
    start = time.perf_counter()
    solver_limit = _solver_time_limit(time_limit, start - called, matrix.n_tasks)
    solution = SOLVERS[method](problem, time_limit=solver_limit, seed=int(seed))
    elapsed = time.perf_counter() - start
    if sorted(solution.order) != list(range(matrix.n_tasks)) or not constraints.satisfied_by(
        solution.order
    ):
        raise SolverError(f"Solver {method!r} returned an invalid order {solution.order}.")
    order = tuple(matrix.tasks[t] for t in solution.order)
    # max_min ranks orders by the all-pairs additive model's final scores
    prediction = predict(matrix, order, objective="all_pairs" if objective == "max_min" else objective)
    extras = solution.extras
    if entropy is not None:
        from taskorder.entropy import check_entropy_matrix, predict_entropy
        from taskorder.objectives import order_value

        check_entropy_matrix(matrix, entropy)
        extras["predicted_entropy"] = predict_entropy(entropy, order, model=entropy_model)
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


#: Seconds per matrix cell that ``solve`` spends after the solver returns (checking the
#: order, the prediction, the baselines): about 1 s at n = 2,000 on 2 shared cores.
POST_SECONDS_PER_CELL = 2.5e-7


def _solver_time_limit(time_limit: float | None, spent: float, n_tasks: int) -> float | None:
    """The solver's share of ``time_limit``: minus what ``solve`` spent before it and
    will spend after it, so that the whole call ends near the limit (never below half)."""
    if time_limit is None:
        return None
    overhead = spent + POST_SECONDS_PER_CELL * n_tasks * n_tasks
    return max(0.5 * time_limit, time_limit - overhead)


def _with_entropy(problem, matrix, entropy, entropy_floor, entropy_weight, model) -> Problem:
    """``problem`` with entropy floors added to its constraints and entropy weight to its pairs."""
    from taskorder.entropy import check_entropy_matrix, entropy_floors, entropy_weights

    if entropy is None:
        raise InvalidParameterError(
            "The 'entropy_floor' and 'entropy_weight' parameters of solve need the entropy "
            "transfer matrix ('entropy'). Got none."
        )
    check_entropy_matrix(matrix, entropy)
    if problem.objective != "all_pairs":
        raise InvalidParameterError(
            "Entropy floors and weights use the all_pairs (additive) model. "
            f"Got objective {problem.objective!r}."
        )
    if entropy_weight and model != "additive":
        raise InvalidParameterError(
            "The 'entropy_weight' parameter of solve adds predicted entropy to the objective "
            f"with the additive model only. Got entropy_model={model!r}."
        )
    if entropy_floor:
        floors = entropy_floors(entropy, entropy_floor, model=model)
        problem = replace(problem, constraints=replace(problem.constraints, floors=floors))
    if entropy_weight:
        problem = replace(problem, weights=problem.weights + entropy_weights(entropy, entropy_weight))
    return problem


def _baselines(problem: Problem, *, seed: int, n_samples: int = 200) -> dict[str, float]:
    """Objective of the rank rule and the mean objective of random (feasible) orders."""
    # baselines ignore floors on predicted values: the rank rule does not know them
    problem = replace(problem, constraints=replace(problem.constraints, floors=()))
    rank_value = solve_rank(problem).value
    if problem.constraints.empty and problem.objective != "max_min":
        random_mean = expected_random_value(problem.weights, problem.objective)
    else:
        rng = np.random.default_rng(seed)
        values = []
        for _ in range(n_samples):
            keyed = replace(problem, forgettability=rng.random(problem.n_tasks))
            values.append(solve_rank(keyed).value)
        random_mean = float(np.mean(values))
    return {"rank_rule": rank_value, "random_mean": random_mean}
