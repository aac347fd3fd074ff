"""Solvers: from a transfer matrix to the best training order.

Which method when
-----------------
``"auto"`` (default)
    Picks for you by size, objective and time limit and records why in
    ``SolveResult.method_reason`` (see :func:`choose_method`; thresholds measured in
    docs/solvers.md). For 61-100 tasks (``all_pairs``) with a limit under 30 s and
    input-output-like data it runs the MIP and a local search under one limit
    (:mod:`taskorder.solvers.portfolio`; ``method`` ``"portfolio"`` in the result).
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
``"max_min"``: maximise the lowest predicted final score (unweighted), supported by
``ilp``, ``cpsat``, ``local`` and ``rank``.

One front door
--------------
What to optimise is one :class:`~taskorder.solvers.problem.ProblemSpec` (objective,
constraints, outcome model, entropy terms, noise / risk), passed to :func:`solve` with
the solver settings (``method``, ``time_limit``, ``seed``); ``solve(matrix,
objective="adjacent")`` builds the spec from keywords. :func:`prepare` turns the spec
into the :class:`~taskorder.solvers.problem.Problem` a solver sees: the
``backward_only`` model drops forward transfer, the ``multiplicative`` model becomes a
linear adjacent problem, a max-min problem in logarithms, or (``all_pairs``) a problem
for the methods of :mod:`taskorder.solvers.multiplicative`; entropy floors become constraints and
entropy weights pair weights (:mod:`taskorder.solvers.entropy`); noise solves every plausible
matrix under the same spec (:mod:`taskorder.solvers.robust`). docs/problem.md lists every
combination and the error for those that do not work.

Every solver has the signature ``solver(problem, *, time_limit=None, seed=0)`` and
returns a :class:`~taskorder.solvers.problem.Solution`; :func:`solve` wraps it into a
:class:`~taskorder.result.SolveResult`. Register more with :func:`register_solver`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from taskorder.exceptions import ConstraintError, InvalidParameterError, SolverError
from taskorder.matrix import TransferMatrix
from taskorder.model import predict
from taskorder.objectives import expected_random_value
from taskorder.result import SolveResult
from taskorder.solvers.choose import AUTO_TIME_LIMIT, choose_method
from taskorder.solvers.exact.brute_force import solve_brute_force
from taskorder.solvers.exact.cpsat import solve_cpsat
from taskorder.solvers.exact.dp import MAX_TASKS_ALL_PAIRS, solve_dp
from taskorder.solvers.exact.ilp import solve_ilp
from taskorder.solvers.heuristics.local_search import solve_local
from taskorder.solvers.heuristics.rank import solve_rank
from taskorder.solvers.problem import (
    SOLVER_OBJECTIVES,
    Constraints,
    Problem,
    ProblemSpec,
    Solution,
)

__all__ = [
    "SOLVERS",
    "SUPPORTED_OBJECTIVES",
    "Constraints",
    "Prepared",
    "Problem",
    "ProblemSpec",
    "Solution",
    "choose_method",
    "make_problem",
    "prepare",
    "register_solver",
    "solve",
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


def make_problem(matrix: TransferMatrix, objective: str, constraints: Constraints) -> Problem:
    """The linear :class:`Problem` for ``matrix`` (pair weights and, for ``max_min``, the
    per-task arrays: ``bwt``, ``forward`` or zeros, own scores or zeros)."""
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


@dataclass(frozen=True)
class Prepared:
    """A :class:`ProblemSpec` on a matrix, ready for a solver (built by :func:`prepare`).

    Attributes
    ----------
    problem : Problem
        What the solver optimises.
    value : Problem
        Gives the reported objective of an order; the same object as ``problem`` except
        for the multiplicative ``max_min`` problem (solved in logarithms).
    nonlinear : bool
        True for the multiplicative ``all_pairs`` problem: only
        :data:`~taskorder.solvers.multiplicative.MULTIPLICATIVE_METHODS` solve it.
    bonus : ndarray or None
        The entropy pair weights added to the objective (``entropy_weight``).
    note : str
        How the spec became this problem (empty for the plain additive model).
    """

    problem: Problem
    value: Problem
    nonlinear: bool = False
    bonus: np.ndarray | None = None
    note: str = ""


def prepare(matrix: TransferMatrix, spec: ProblemSpec) -> Prepared:
    """Turn ``spec`` on ``matrix`` into the problem a solver sees (noise fields ignored).

    Raises
    ------
    ConstraintError
        Constraints or entropy floors that name unknown tasks, contradict each other or
        cannot be met.
    InvalidMatrixError
        The multiplicative model without positive own scores; an entropy matrix with
        other tasks.

    Examples
    --------
    >>> m = TransferMatrix(["a", "b"], [[0, -0.2], [0.1, 0]], forward=[[0, 0.5], [0, 0]])
    >>> prepare(m, ProblemSpec()).problem.weights.tolist()
    [[0.0, 0.3], [0.1, 0.0]]
    >>> prepare(m, ProblemSpec(model="backward_only")).problem.weights.tolist()
    [[0.0, -0.2], [0.1, 0.0]]
    """
    constraints = Constraints.from_names(
        matrix, first=spec.first, last=spec.last, before=spec.before
    )
    floors, bonus = (), None
    if spec.entropy is not None:
        from taskorder.solvers.entropy import entropy_terms

        floors, bonus = entropy_terms(
            matrix, spec.entropy, spec.entropy_floor, spec.entropy_weight, spec.entropy_model
        )
    if floors:
        constraints = replace(constraints, floors=floors)
    if spec.model == "multiplicative":
        from taskorder.solvers.multiplicative import multiplicative_problem

        problem, value, note = multiplicative_problem(matrix, spec.objective, constraints, bonus)
        nonlinear = problem.multiplicative and spec.objective == "all_pairs"
        return Prepared(problem, value, nonlinear, bonus, note)
    if spec.model == "backward_only":
        matrix = matrix.replace(forward=None, forward_stderr=None)
    problem = make_problem(matrix, spec.objective, constraints)
    if bonus is not None:
        problem = replace(problem, weights=problem.weights + bonus)
    note = "backward_only model (forward transfer ignored)" if spec.model == "backward_only" else ""
    return Prepared(problem, problem, False, bonus, note)


def _spec(spec: ProblemSpec | None, fields: dict[str, Any]) -> ProblemSpec:
    if spec is None:
        spec = ProblemSpec()
    elif not isinstance(spec, ProblemSpec):
        raise InvalidParameterError(
            f"The 'spec' parameter of solve must be a ProblemSpec. Got {type(spec).__name__}."
        )
    if not fields:
        return spec
    fields = {k: v for k, v in fields.items() if not (k == "before" and v is None)}
    try:
        return spec.replace(**fields)
    except InvalidParameterError as error:
        if "has no field" not in str(error):
            raise
        raise InvalidParameterError(
            f"{error} solve takes these as keywords, plus method, time_limit and seed."
        ) from None


def _check_settings(method: str, time_limit: float | None, seed: int) -> None:
    if method != "auto" and method not in SOLVERS:
        raise InvalidParameterError(
            f"The 'method' parameter of solve must be 'auto' or one of {', '.join(SOLVERS)}. "
            f"Got {method!r}."
        )
    if time_limit is not None and not (
        isinstance(time_limit, (int, float)) and not isinstance(time_limit, bool) and time_limit > 0
    ):
        raise InvalidParameterError(
            "The 'time_limit' parameter of solve must be a positive number of seconds. "
            f"Got {time_limit!r} instead."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidParameterError(
            f"The 'seed' parameter of solve must be an integer. Got {seed!r}."
        )


def solve(
    matrix: TransferMatrix,
    spec: ProblemSpec | None = None,
    *,
    method: str = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    **fields: Any,
) -> SolveResult:
    """Find the training order that maximises ``spec``'s objective under ``matrix``.

    Parameters
    ----------
    matrix : TransferMatrix
        Complete (no missing entries); see :data:`taskorder.SIGN_CONVENTION`.
    spec : ProblemSpec, optional
        What to optimise: objective (see :mod:`taskorder.objectives`), constraints,
        outcome model, entropy terms, noise / risk (see
        :class:`~taskorder.solvers.problem.ProblemSpec` and docs/problem.md).
        Default: ``ProblemSpec()``, the plain linear ordering problem.
    method : str
        ``"auto"`` or a name in :data:`SOLVERS` (see the module docstring).
    time_limit : float, optional
        Seconds the solver may spend (under noise: each of the solves). With
        ``method="auto"`` and no limit, the chosen anytime or MIP method gets
        :data:`AUTO_TIME_LIMIT` seconds (said in ``method_reason``).
    seed : int
        Seed for randomised solvers, the random-order baseline and noise draws.
    **fields
        :class:`ProblemSpec` fields as keywords (``objective="adjacent"``,
        ``first="math"``, ``entropy=...``, ``risk="quantile"``, ...); they override
        the fields of ``spec``.

    Returns
    -------
    SolveResult
        ``objective_name`` says exactly what ``objective`` is
        (:data:`taskorder.result.OBJECTIVE_NAMES`); ``robustness`` and ``entropy`` are
        set when the spec asks for noise or entropy.

    Raises
    ------
    InvalidParameterError
        Unknown method, field or value; a method that does not handle the problem;
        fields that do not combine; noise without standard errors or samples.
    ConstraintError
        Constraints or floors that name unknown tasks, contradict each other or cannot
        be met.
    MissingEntriesError
        The matrix has missing entries.
    InvalidMatrixError
        The multiplicative model without positive own scores.

    Examples
    --------
    >>> m = TransferMatrix(["math", "code", "poetry"],
    ...                    [[0, 0.02, -0.10], [0.01, 0, -0.08], [0.03, 0.02, 0]])
    >>> result = solve(m)
    >>> result.order, result.status
    (('poetry', 'math', 'code'), 'optimal')
    >>> round(result.objective, 2), round(result.baselines["random_mean"], 3)
    (0.07, -0.05)
    >>> spec = ProblemSpec(objective="max_min", last="code")
    >>> solve(m, spec).order, solve(m, objective="max_min", last="code").objective_name
    (('poetry', 'math', 'code'), 'max_min')
    """
    spec = _spec(spec, fields)
    _check_settings(method, time_limit, seed)
    if spec.noisy:
        from taskorder.solvers.robust import solve_under_noise

        return solve_under_noise(matrix, spec, method=method, time_limit=time_limit, seed=int(seed))
    return _solve_point(matrix, spec, method, time_limit, int(seed))


def _route(
    prepared: Prepared, method: str, time_limit: float | None
) -> tuple[Solver, str, str, float | None]:
    """``(solver, method name, reason, time limit)`` for ``prepared``."""
    problem = prepared.problem
    n_tasks, objective = problem.n_tasks, problem.objective
    floors = bool(problem.constraints.floors)
    if prepared.nonlinear:
        from taskorder.solvers.multiplicative import route_multiplicative

        return route_multiplicative(problem, method, time_limit)
    if method != "auto" and objective not in SUPPORTED_OBJECTIVES.get(method, SOLVER_OBJECTIVES):
        raise InvalidParameterError(
            f"The {method!r} method does not handle objective={objective!r}; methods that do: "
            f"{', '.join(m for m, objs in SUPPORTED_OBJECTIVES.items() if objective in objs)}."
        )
    if floors and method not in ("dp", "brute"):
        if method != "auto" or n_tasks > MAX_TASKS_ALL_PAIRS:
            raise ConstraintError(
                "Entropy floors are exact constraints of the subset DP and brute force only "
                f"(n <= {MAX_TASKS_ALL_PAIRS}). Got method {method!r} with n = {n_tasks}."
            )
        return solve_dp, "dp", "entropy floors are checked exactly by the subset DP", time_limit
    if method != "auto":
        return SOLVERS[method], method, "chosen by the caller", time_limit
    method, reason = choose_method(problem, time_limit)
    if method == "portfolio":
        from taskorder.solvers.portfolio import solve_portfolio

        return solve_portfolio, method, reason, time_limit
    if time_limit is None and method in AUTO_TIME_LIMIT:
        time_limit = AUTO_TIME_LIMIT[method]
        reason += f"; no time limit given, so it gets {time_limit:g} s"
    return SOLVERS[method], method, reason, time_limit


def _solve_point(
    matrix: TransferMatrix, spec: ProblemSpec, method: str, time_limit: float | None, seed: int
) -> SolveResult:
    called = time.perf_counter()
    matrix.check_complete()
    prepared = prepare(matrix, spec)
    solver, method, reason, time_limit = _route(prepared, method, time_limit)
    if prepared.note:
        reason = f"{prepared.note}; {reason}"
    start = time.perf_counter()
    solver_limit = _solver_time_limit(time_limit, start - called, matrix.n_tasks)
    solution = solver(prepared.problem, time_limit=solver_limit, seed=seed)
    elapsed = time.perf_counter() - start
    value_problem = prepared.value
    if sorted(solution.order) != list(
        range(matrix.n_tasks)
    ) or not value_problem.constraints.satisfied_by(solution.order):
        raise SolverError(f"Solver {method!r} returned an invalid order {solution.order}.")
    order = tuple(matrix.tasks[t] for t in solution.order)
    value = value_problem.value(solution.order)
    bound = solution.bound
    extras = dict(solution.extras)
    anytime = list(extras.pop("anytime", []))
    if value_problem is not prepared.problem:  # solved in logarithms: report exact values
        bound = (
            value
            if solution.status == "optimal"
            else (None if bound is None else float(np.exp(bound)))
        )
        anytime = [(t, float(np.exp(v))) for t, v in anytime]
    prediction = predict(
        matrix,
        order,
        model=spec.model,
        objective="all_pairs" if spec.objective == "max_min" else spec.objective,
    )
    entropy = None
    if spec.entropy is not None:
        from taskorder.solvers.entropy import entropy_outcome

        entropy = entropy_outcome(matrix, spec, order, prepared, value)
    return SolveResult(
        order=order,
        objective=value,
        objective_name="all_pairs+entropy" if prepared.bonus is not None else spec.objective,
        bound=bound,
        status=solution.status,
        method=method,
        method_reason=reason,
        elapsed_s=elapsed,
        predicted=prediction.scores,
        predicted_mean=prediction.mean,
        baselines=_baselines(value_problem, seed=seed),
        anytime=anytime,
        extras=extras,
        model=spec.model,
        entropy=entropy,
    )


#: Seconds per matrix cell that ``solve`` spends after the solver returns (checking the
#: order, the prediction, the baselines): about 0.1 s at n = 2,000 on 2 shared cores
#: (benchmarks/results/deadline_post.txt: 5e-8 ends solve 0.0-0.1 s before the limit).
POST_SECONDS_PER_CELL = 5e-8


def _solver_time_limit(time_limit: float | None, spent: float, n_tasks: int) -> float | None:
    """The solver's share of ``time_limit``: minus what ``solve`` spent before it and
    will spend after it, so that the whole call ends near the limit (never below half)."""
    if time_limit is None:
        return None
    overhead = spent + POST_SECONDS_PER_CELL * n_tasks * n_tasks
    return max(0.5 * time_limit, time_limit - overhead)


def _baselines(problem: Problem, *, seed: int, n_samples: int = 200) -> dict[str, float]:
    """Objective of the rank rule and the mean objective of random (feasible) orders."""
    # baselines ignore floors on predicted values: the rank rule does not know them
    problem = replace(problem, constraints=replace(problem.constraints, floors=()))
    rank_value = solve_rank(problem).value
    linear = problem.objective != "max_min" and not problem.multiplicative
    if problem.constraints.empty and linear:
        random_mean = expected_random_value(problem.weights, problem.objective)
    else:
        rng = np.random.default_rng(seed)
        values = []
        for _ in range(n_samples):
            keyed = replace(problem, forgettability=rng.random(problem.n_tasks))
            values.append(solve_rank(keyed).value)
        random_mean = float(np.mean(values))
    return {"rank_rule": rank_value, "random_mean": random_mean}
