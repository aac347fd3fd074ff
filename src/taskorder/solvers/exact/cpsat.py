"""Exact CP-SAT models for every objective (``method="cpsat"``).

- ``adjacent``: a circuit over the tasks plus one dummy node (``AddCircuit``); the arc
  leaving the dummy picks the first task and the arc entering it the last, so the
  circuit is an open path. Precedence pairs add position variables linked to the arcs.
- ``all_pairs`` and ``max_min``: one Boolean per pair and all 3-dicycle constraints
  (the full model; fine up to a few dozen tasks, see docs/solvers.md).

Weights are scaled to integers (:mod:`taskorder.solvers.integer_weights`); the scale
and the rounding error bound go to ``Solution.extras``. The model is built by one
function and solved by another; OPTIMAL becomes status ``optimal`` and FEASIBLE (time
limit) status ``feasible`` with CP-SAT's best bound. A quick local descent is given as
a hint. CP-SAT uses all cores (``num_workers=0``); with several workers the optimum
*value* is reproducible but, among tied optimal orders, which one is returned may vary.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from taskorder.exceptions import SolverError
from taskorder.solvers.integer_weights import IntegerWeights, integer_weights
from taskorder.solvers.problem import Problem, Solution

__all__ = ["CPSAT_MAX_ABS", "build_path_model", "build_precedence_model", "solve_cpsat"]

#: Integer magnitude target for CP-SAT (exact integer arithmetic; larger than the MIP's).
CPSAT_MAX_ABS = 100_000_000


def build_path_model(model, problem: Problem, weights: IntegerWeights, hint=None):
    """Add the open-path circuit model to ``model``; return the arc literals by (tail, head).

    Parameters
    ----------
    model : ortools.sat.python.cp_model.CpModel
        Receives the variables, constraints, objective and hints (modified in place).
    problem : Problem
        An ``adjacent`` problem; its ``first``, ``last`` and precedence constraints
        become constraints of the model.
    weights : IntegerWeights
        Integer arc weights; ``weights.weights[tail, head]`` is the objective
        coefficient of arc ``tail -> head``.
    hint : sequence of int, optional
        An order of task indices given to CP-SAT as a solution hint.

    Returns
    -------
    dict
        ``{(tail, head): literal}`` for every ordered pair of nodes ``0 .. n_tasks``,
        where node ``n_tasks`` is the dummy that closes the path into a circuit.
    """
    n_tasks = problem.n_tasks
    dummy = n_tasks
    arcs, terms = {}, []
    for tail, head in itertools.permutations(range(n_tasks + 1), 2):
        literal = model.NewBoolVar(f"arc_{tail}_{head}")
        arcs[tail, head] = literal
        if tail != dummy and head != dummy:
            terms.append(int(weights.weights[tail, head]) * literal)
    model.AddCircuit([(t, h, lit) for (t, h), lit in arcs.items()])
    constraints = problem.constraints
    if constraints.first is not None:
        model.Add(arcs[dummy, constraints.first] == 1)
    if constraints.last is not None:
        model.Add(arcs[constraints.last, dummy] == 1)
    if constraints.before:
        position = [model.NewIntVar(0, n_tasks - 1, f"position_{t}") for t in range(n_tasks)]
        for (tail, head), literal in arcs.items():
            if tail == dummy:
                model.Add(position[head] == 0).OnlyEnforceIf(literal)
            elif head != dummy:
                model.Add(position[head] == position[tail] + 1).OnlyEnforceIf(literal)
        for earlier, later in problem.constraints.edges():
            model.Add(position[earlier] < position[later])
    model.Maximize(sum(terms))
    if hint is not None:
        path = [dummy, *hint, dummy]
        used = set(itertools.pairwise(path))
        for key, literal in arcs.items():
            model.AddHint(literal, key in used)
    return arcs


def build_precedence_model(model, problem: Problem, weights: IntegerWeights, hint=None):
    """Add the pairwise-precedence model (all 3-dicycle rows) to ``model``.

    Returns the literals ``before[i, j]`` for ``i < j`` (true: ``i`` before ``j``).

    Parameters
    ----------
    model : ortools.sat.python.cp_model.CpModel
        Receives the variables, constraints, objective and hints (modified in place).
    problem : Problem
        An ``all_pairs`` or ``max_min`` problem; its precedence constraints fix the
        matching literals.
    weights : IntegerWeights
        Integer data: ``weights.weights`` for ``all_pairs``; ``bwt``, ``forward`` and
        ``own`` for ``max_min``, whose model maximises the worst final score.
    hint : sequence of int, optional
        An order of task indices given to CP-SAT as a solution hint.

    Returns
    -------
    dict
        ``{(i, j): literal}`` for every pair ``i < j``.
    """
    n_tasks = problem.n_tasks
    before = {
        (i, j): model.NewBoolVar(f"before_{i}_{j}")
        for i, j in itertools.combinations(range(n_tasks), 2)
    }

    def precedes(i: int, j: int):
        return before[i, j] if i < j else 1 - before[j, i]

    for i, j, k in itertools.combinations(range(n_tasks), 3):
        path = before[i, j] + before[j, k] - before[i, k]
        model.AddLinearConstraint(path, 0, 1)
    for earlier, later in problem.constraints.edges():
        model.Add(precedes(earlier, later) == 1)
    if problem.objective == "max_min":
        bwt, forward, own = weights.bwt, weights.forward, weights.own
        bound = int(np.abs(own).sum() + np.abs(bwt).sum() + np.abs(forward).sum())
        worst = model.NewIntVar(-bound, bound, "worst_final_score")
        for task in range(n_tasks):
            others = [j for j in range(n_tasks) if j != task]
            final = int(own[task]) + sum(
                int(bwt[task, j]) * precedes(task, j) + int(forward[j, task]) * precedes(j, task)
                for j in others
            )
            model.Add(worst <= final)
        model.Maximize(worst)
    else:
        model.Maximize(
            sum(
                int(weights.weights[i, j]) * lit + int(weights.weights[j, i]) * (1 - lit)
                for (i, j), lit in before.items()
            )
        )
    if hint is not None:
        position = {task: k for k, task in enumerate(hint)}
        for (i, j), literal in before.items():
            model.AddHint(literal, position[i] < position[j])
    return before


def _order_from_arcs(solver, arcs, n_tasks: int) -> list[int]:
    successor = {t: h for (t, h), lit in arcs.items() if solver.BooleanValue(lit)}
    order, node = [], successor[n_tasks]
    while node != n_tasks:
        order.append(node)
        node = successor[node]
    return order


def _order_from_precedence(solver, before, n_tasks: int) -> list[int]:
    wins = np.zeros(n_tasks)
    for (i, j), literal in before.items():
        if solver.BooleanValue(literal):
            wins[i] += 1
        else:
            wins[j] += 1
    return [int(t) for t in np.argsort(-wins, kind="stable")]


def solve_cpsat(problem: Problem, *, time_limit: float | None = None, seed: int = 0) -> Solution:
    """Solve any objective exactly with CP-SAT (status ``optimal`` or ``feasible``).

    Parameters
    ----------
    problem : Problem
    time_limit : float, optional
        Seconds; when reached, the best order so far is returned as ``feasible`` with
        CP-SAT's best bound.
    seed : int
        CP-SAT's ``random_seed``.

    Returns
    -------
    Solution
        ``extras``: ``scale``, ``rounding_error_bound``, ``cpsat_status``, ``wall_time``.

    Raises
    ------
    SolverError
        If CP-SAT finds no order within the time limit, or the constraints are infeasible.

    Examples
    --------
    >>> import numpy as np
    >>> from taskorder.solvers.problem import Constraints, Problem
    >>> W = np.array([[0., 1, 5], [3, 0, 0], [0, 2, 0]])
    >>> problem = Problem(W, "adjacent", Constraints(3, predecessors=(0, 0, 0)))
    >>> solution = solve_cpsat(problem)
    >>> solution.order, solution.value, solution.status
    ([1, 0, 2], 8.0, 'optimal')
    """
    from ortools.sat.python import cp_model

    from taskorder.solvers.heuristics.local_search import (
        cheap_upper_bound,
        constructive_starts,
        quick_descent,
    )

    start = time.perf_counter()
    weights = integer_weights(problem, max_abs=CPSAT_MAX_ABS)
    hint = quick_descent(problem, constructive_starts(problem))
    model = cp_model.CpModel()
    if problem.objective == "adjacent":
        variables = build_path_model(model, problem, weights, hint)
    else:
        variables = build_precedence_model(model, problem, weights, hint)
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = int(seed)
    solver.parameters.num_workers = 0
    if time_limit is not None:  # building the model counts against the limit
        solver.parameters.max_time_in_seconds = max(
            0.01, time_limit - (time.perf_counter() - start)
        )
    status = solver.Solve(model)
    if status == cp_model.UNKNOWN:  # time limit before any solution: keep the hint
        return Solution(
            order=hint,
            value=problem.value(hint),
            bound=max(cheap_upper_bound(problem), problem.value(hint)),
            status="feasible",
            extras={
                "scale": weights.scale,
                "rounding_error_bound": weights.rounding_error_bound,
                "cpsat_status": "UNKNOWN",
                "wall_time": solver.WallTime(),
                "bound_kind": "cheap upper bound (CP-SAT found nothing in time)",
            },
        )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError(
            f"CP-SAT ended with status {solver.StatusName(status)} and no order; "
            "check the constraints."
        )
    if problem.objective == "adjacent":
        order = _order_from_arcs(solver, variables, problem.n_tasks)
    else:
        order = _order_from_precedence(solver, variables, problem.n_tasks)
    return _solution(problem, weights, solver, status, order, hint)


def _solution(problem, weights, solver, status, order, hint) -> Solution:
    from ortools.sat.python import cp_model

    proven = status == cp_model.OPTIMAL
    if problem.value(hint) > problem.value(order):
        order = hint  # can only happen when stopped early
    value = problem.value(order)
    slack = weights.rounding_error_bound
    bound = solver.BestObjectiveBound() / weights.scale + slack
    if proven and slack <= 1e-9 * max(1.0, abs(value)):
        bound = value
    return Solution(
        order=order,
        value=value,
        bound=float(max(bound, value)),
        status="optimal" if proven else "feasible",
        extras={
            "scale": weights.scale,
            "rounding_error_bound": slack,
            "cpsat_status": solver.StatusName(status),
            "wall_time": solver.WallTime(),
        },
    )
