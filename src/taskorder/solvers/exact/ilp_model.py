"""Build and solve the precedence MIP of :mod:`.ilp` through OR-tools MathOpt.

The model is written straight into a MathOpt ``ModelProto`` with numpy arrays (tens of
thousands of rows in milliseconds; expression objects would take seconds), then solved
by HiGHS or SCIP. :func:`solve_model` reports the solver's own proof status and dual
bound: OR-tools' ``pywraplp`` HiGHS wrapper reports the incumbent as the "best bound"
and ignores the gap parameters, so it cannot give an honest gap at a time limit.

Variables: ids ``0 .. P-1`` are ``x[i, j]`` for pairs ``i < j`` in ``np.triu_indices``
order (1: ``i`` before ``j``); ``max_min`` adds ``t`` (id ``P``), the worst final score.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from taskorder.solvers.exact.triangles import pair_index
from taskorder.solvers.integer_weights import IntegerWeights
from taskorder.solvers.problem import Problem

__all__ = [
    "DEADLINE_GRACE_SECONDS",
    "SOLVER_TIME_SHARE",
    "ModelOutcome",
    "build_ordering_model",
    "solve_mip_before",
    "solve_model",
]

#: Share of the remaining time a MIP solve is given (the rest absorbs HiGHS's overrun).
SOLVER_TIME_SHARE = 0.85


@dataclass(frozen=True)
class ModelOutcome:
    """One solver call: values by variable id, whether it is proven, and the dual bound."""

    values: np.ndarray | None
    objective: float | None
    dual_bound: float | None
    proven: bool
    hit_limit: bool


def _objective_all_pairs(model, weights: np.ndarray, rows, cols) -> None:
    coefficients = (weights[rows, cols] - weights[cols, rows]).astype(float)
    nonzero = np.flatnonzero(coefficients)
    model.objective.maximize = True
    model.objective.offset = float(weights[cols, rows].sum())
    model.objective.linear_coefficients.ids.extend(nonzero.tolist())
    model.objective.linear_coefficients.values.extend(coefficients[nonzero].tolist())


def _max_min_rows(weights: IntegerWeights, index: np.ndarray, worst_id: int):
    """Rows ``t - (final_i - constant_i) <= constant_i``, one per task (see Problem)."""
    bwt, forward, own = weights.bwt, weights.forward, weights.own
    n_tasks = own.size
    rows_out = []
    for task in range(n_tasks):
        later = np.arange(task + 1, n_tasks)  # x[task, j]: task before j
        earlier = np.arange(task)  # x[j, task]: j before task
        constant = own[task] + forward[later, task].sum() + bwt[task, earlier].sum()
        ids = np.concatenate([index[task, later], index[earlier, task]])
        coefficients = np.concatenate(
            [bwt[task, later] - forward[later, task], forward[earlier, task] - bwt[task, earlier]]
        )
        order = np.argsort(ids)
        rows_out.append((ids[order], -coefficients[order].astype(float), float(constant)))
    return rows_out


def build_ordering_model(
    problem: Problem, weights: IntegerWeights, cuts: np.ndarray, *, integer: bool
):
    """The precedence model with the 3-dicycle rows ``cuts`` (triples ``i < j < k``).

    Returns a ``ortools.math_opt.model_pb2.ModelProto``.

    Parameters
    ----------
    problem : Problem
        An ``all_pairs`` or ``max_min`` problem; its precedence constraints become
        variable bounds.
    weights : IntegerWeights
        Integer data: ``weights.weights`` for ``all_pairs``; ``bwt``, ``forward`` and
        ``own`` for ``max_min`` (one ``t <= final score`` row per task).
    cuts : ndarray of int, shape (n_cuts, 3)
        Triples ``(i, j, k)``, ``i < j < k``, whose 3-dicycle rows are added (may be
        empty), e.g. from :func:`~.triangles.violated_triangles`.
    integer : bool
        True: binary pair variables (the MIP); False: the LP relaxation.

    Returns
    -------
    ortools.math_opt.model_pb2.ModelProto
        Variables, rows and ids as described in the module docstring.
    """
    from ortools.math_opt import model_pb2

    n_tasks = problem.n_tasks
    index, (rows, cols) = pair_index(n_tasks)
    n_pairs = rows.size
    max_min = problem.objective == "max_min"
    model = model_pb2.ModelProto(name=f"taskorder_{problem.objective}")
    lower, upper = np.zeros(n_pairs), np.ones(n_pairs)
    for earlier, later in problem.constraints.edges():
        if earlier < later:
            lower[index[earlier, later]] = 1.0
        else:
            upper[index[later, earlier]] = 0.0
    n_vars = n_pairs + (1 if max_min else 0)
    model.variables.ids.extend(range(n_vars))
    model.variables.lower_bounds.extend(lower.tolist() + ([-np.inf] if max_min else []))
    model.variables.upper_bounds.extend(upper.tolist() + ([np.inf] if max_min else []))
    model.variables.integers.extend([integer] * n_vars)
    model.variables.names.extend(
        [f"x_{i}_{j}" for i, j in zip(rows, cols)] + (["t"] if max_min else [])
    )
    next_row = 0
    if max_min:
        model.objective.maximize = True
        model.objective.linear_coefficients.ids.append(n_pairs)
        model.objective.linear_coefficients.values.append(1.0)
        for ids, coefficients, constant in _max_min_rows(weights, index, n_pairs):
            _add_row(
                model,
                next_row,
                np.append(ids, n_pairs),
                np.append(coefficients, 1.0),
                -np.inf,
                constant,
                f"worst_le_final_{next_row}",
            )
            next_row += 1
    else:
        _objective_all_pairs(model, weights.weights, rows, cols)
    _add_triangle_rows(model, index, cuts, next_row)
    return model


def _add_row(model, row_id, ids, coefficients, lower, upper, name) -> None:
    model.linear_constraints.ids.append(row_id)
    model.linear_constraints.lower_bounds.append(lower)
    model.linear_constraints.upper_bounds.append(upper)
    model.linear_constraints.names.append(name)
    matrix = model.linear_constraint_matrix
    matrix.row_ids.extend([row_id] * len(ids))
    matrix.column_ids.extend(np.asarray(ids).tolist())
    matrix.coefficients.extend(np.asarray(coefficients, dtype=float).tolist())


def _add_triangle_rows(model, index: np.ndarray, cuts: np.ndarray, first_row: int) -> None:
    """``0 <= x[i, j] - x[i, k] + x[j, k] <= 1`` per triple (column ids ascending)."""
    count = cuts.shape[0]
    if count == 0:
        return
    i, j, k = cuts[:, 0], cuts[:, 1], cuts[:, 2]
    row_ids = np.arange(first_row, first_row + count)
    constraints = model.linear_constraints
    constraints.ids.extend(row_ids.tolist())
    constraints.lower_bounds.extend([0.0] * count)
    constraints.upper_bounds.extend([1.0] * count)
    constraints.names.extend([f"no_3cycle_{a}_{b}_{c}" for a, b, c in cuts.tolist()])
    columns = np.stack([index[i, j], index[i, k], index[j, k]], axis=1)
    matrix = model.linear_constraint_matrix
    matrix.row_ids.extend(np.repeat(row_ids, 3).tolist())
    matrix.column_ids.extend(columns.ravel().tolist())
    matrix.coefficients.extend(np.tile([1.0, -1.0, 1.0], count).tolist())


def solve_model(
    model_proto, backend: str, time_limit: float | None, *, integer: bool, barrier: bool = False
):
    """Solve with HiGHS (or SCIP); integer objective, so an absolute gap below 1 is a proof.

    ``barrier`` asks for the interior-point method (with crossover) on an LP: much
    faster than dual simplex once the cut rows outnumber the variables several times
    (measured: 28 s instead of 93 s for the LP phase of LOLIB sgb75.01).

    Parameters
    ----------
    model_proto : ortools.math_opt.model_pb2.ModelProto
        A model from :func:`build_ordering_model`.
    backend : {"highs", "scip"}
        ``"highs"`` uses HiGHS; any other value uses SCIP.
    time_limit : float or None
        Seconds. A MIP is given only :data:`SOLVER_TIME_SHARE` of it (HiGHS overruns
        its limit); an LP gets all of it. None: no limit.
    integer : bool
        True for a MIP: the gap tolerances are set so that only a proof of optimality
        (absolute gap below 1) stops the solve early.
    barrier : bool
        Use the barrier method on an LP; ignored when ``integer`` is true.

    Returns
    -------
    ModelOutcome
        Values by variable id and objective (None without a feasible point), the dual
        bound (None when not finite), ``proven`` (termination OPTIMAL) and
        ``hit_limit`` (stopped at a limit, with or without a feasible point).
    """
    from ortools.math_opt.python import mathopt

    model = mathopt.Model.from_model_proto(model_proto)
    params = mathopt.SolveParameters(enable_output=False)
    if barrier and not integer:
        params.lp_algorithm = mathopt.LPAlgorithm.BARRIER
    if integer:
        params.relative_gap_tolerance = 0.0
        params.absolute_gap_tolerance = 0.99
    if time_limit is not None:
        # HiGHS overruns the limit it is given (measured 12.0 s for about 9 s on LOLIB
        # p50-02, 34.5 s for 30 s on the full model of t59b11xx): give it less
        seconds = SOLVER_TIME_SHARE * time_limit if integer else time_limit
        params.time_limit = datetime.timedelta(seconds=max(0.01, seconds))
    solver = mathopt.SolverType.HIGHS if backend == "highs" else mathopt.SolverType.GSCIP
    result = mathopt.solve(model, solver, params=params)
    reason = result.termination.reason
    proven = reason == mathopt.TerminationReason.OPTIMAL
    hit_limit = reason in (
        mathopt.TerminationReason.FEASIBLE,
        mathopt.TerminationReason.NO_SOLUTION_FOUND,
    )
    dual = result.termination.objective_bounds.dual_bound
    values, objective = None, None
    if result.has_primal_feasible_solution():
        values = np.zeros(len(model_proto.variables.ids))
        for variable, value in result.variable_values().items():
            values[variable.id] = value
        objective = result.objective_value()
    return ModelOutcome(
        values=values,
        objective=objective,
        dual_bound=float(dual) if np.isfinite(dual) else None,
        proven=proven,
        hit_limit=hit_limit,
    )


#: Seconds a MIP may run past its deadline before :func:`solve_mip_before` goes on.
DEADLINE_GRACE_SECONDS = 0.25


def solve_mip_before(model_proto, backend: str, deadline: float | None) -> ModelOutcome:
    """:func:`solve_model` for a MIP, returning by ``deadline`` (a ``time.perf_counter``
    value) even when the solver overruns the limit it was given (HiGHS does: 12.0 s for
    about 9 s on LOLIB p50-02).

    The solve runs in a daemon thread (the solver releases the GIL). If it has not
    finished ``DEADLINE_GRACE_SECONDS`` after the deadline, the outcome says "limit hit,
    nothing found" and the thread ends later at the solver's own limit, its result unused.

    Parameters
    ----------
    model_proto : ortools.math_opt.model_pb2.ModelProto
        An integer model from :func:`build_ordering_model`.
    backend : {"highs", "scip"}
        As in :func:`solve_model`.
    deadline : float or None
        A ``time.perf_counter()`` value; the solver is given the time left until it
        (of which :func:`solve_model` passes on :data:`SOLVER_TIME_SHARE`).
        None: solve in the calling thread without a limit.

    Returns
    -------
    ModelOutcome
        The solver's outcome, or ``ModelOutcome(None, None, None, proven=False,
        hit_limit=True)`` if it overran the deadline by more than the grace.

    Raises
    ------
    Exception
        Whatever the solve raised, re-raised in the calling thread.
    """
    import threading
    import time

    if deadline is None:
        return solve_model(model_proto, backend, None, integer=True)
    box: dict = {}
    left = deadline - time.perf_counter()

    def run() -> None:
        try:
            box["outcome"] = solve_model(model_proto, backend, left, integer=True)
        except Exception as error:
            box["error"] = error

    worker = threading.Thread(target=run, daemon=True, name="taskorder-mip")
    worker.start()
    worker.join(max(0.0, deadline - time.perf_counter()) + DEADLINE_GRACE_SECONDS)
    if "error" in box:
        raise box["error"]
    return box.get("outcome", ModelOutcome(None, None, None, proven=False, hit_limit=True))
