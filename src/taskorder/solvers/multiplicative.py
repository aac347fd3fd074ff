"""The multiplicative outcome model as ordering problems and solver methods.

:func:`taskorder.solve` handles every outcome model of :mod:`taskorder.model` through
one :class:`~taskorder.solvers.problem.ProblemSpec`; this module holds what the
multiplicative-retention model needs (``final_i = own_i * prod_{j after i} rho[i, j]``):

``objective="adjacent"``
    Only the next stage acts, so ``w_i * (final_i - own_i)`` is
    ``w_i * max(-own_i, bwt[i, next(i)])``: an ordinary (linear) adjacent problem on those
    pair weights, solved by any method that handles ``adjacent``.
``objective="max_min"``
    ``min_i final_i`` is largest where ``min_i log final_i`` is, and ``log final_i`` is
    additive (``log own_i + sum_{j after i} log rho[i, j]``): an ordinary max-min problem
    in logarithms (ratios clipped at 1e-12), solved by any method that handles
    ``max_min``; the reported value is the exact ``min_i final_i``.
``objective="all_pairs"``
    Not a linear ordering problem. Two methods with the common solver signature:
    :func:`solve_multiplicative_dp` (``method="dp"``; exact, a subset DP: placing task
    ``i`` after the set ``S`` fixes its final score, since every task not in ``S`` comes
    after it; up to :data:`MAX_TASKS_DP` tasks; honours entropy floors) and
    :func:`solve_multiplicative_search` (``method="local"``; starts from linearisations,
    each a linear ordering problem solved by
    :func:`~taskorder.solvers.heuristics.local_search.solve_local`, then insertion moves
    scored on the exact objective, with kicks; no proof). ``method="rank"`` gives the
    rank rule. ``"auto"`` takes the DP up to the linear DP's threshold (16 tasks) and the
    search beyond. Measured against the DP on seeded instances of 12-20 tasks: the search
    reached the optimum in all 12, in 0.1-0.9 s; at 40 tasks it stops by itself in 3-5 s;
    at 80 tasks a 5-10 s budget is not enough for one full descent from every start
    (about 100 s to converge).

Call it through :func:`taskorder.solve`: ``solve(matrix, model="multiplicative")``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from taskorder.exceptions import ConstraintError, InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.model import _retention
from taskorder.solvers.construct import priority_order
from taskorder.solvers.exact.dp import unwind_order
from taskorder.solvers.problem import Constraints, Problem, Solution

__all__ = [
    "MAX_TASKS_DP",
    "MULTIPLICATIVE_METHODS",
    "multiplicative_problem",
    "route_multiplicative",
    "solve_multiplicative_dp",
    "solve_multiplicative_search",
]

#: Largest task count :func:`solve_multiplicative_dp` accepts (2^n subsets; measured on 2
#: shared cores: 0.4-0.6 s at 16 tasks, 0.8-2.3 s at 18, 4-8 s at 20).
MAX_TASKS_DP = 20

#: Retention ratios are clipped at this value before a logarithm.
_TINY = 1e-12

#: Linearisations :func:`solve_multiplicative_search` follows from each start at most.
_MAX_LINEARISATIONS = 10

#: Kicks without improvement after which :func:`solve_multiplicative_search` stops when
#: it has no time limit (it reached the subset DP's optimum on all 12 seeded instances
#: of 12-20 tasks measured, in 0.1-0.9 s).
_KICKS = 10

#: The most seconds :func:`solve_multiplicative_search` runs without a time limit (40
#: tasks take 4-6 s to stop by patience; 80 tasks would take about 100 s).
_MAX_SECONDS_WITHOUT_LIMIT = 10.0


def multiplicative_problem(
    matrix: TransferMatrix,
    objective: str,
    constraints: Constraints,
    bonus: np.ndarray | None = None,
) -> tuple[Problem, Problem, str]:
    """The multiplicative model of ``matrix`` as ``(solver problem, value problem, note)``.

    The solver problem is what a solver optimises; the value problem gives the reported
    objective (they differ only for ``max_min``, solved in logarithms). ``bonus`` adds
    linear pair weights (entropy terms, ``all_pairs`` only). ``note`` says how the model
    was turned into a problem.

    Parameters
    ----------
    matrix : TransferMatrix
        Complete matrix with ``own_scores`` (used as the scores the retention ratios act on).
    objective : {"all_pairs", "adjacent", "max_min"}
        Already normalised objective.
    constraints : Constraints
        Order constraints (and floors) on the matrix's task indices.
    bonus : numpy.ndarray, optional
        Extra linear pair weights added to the ``all_pairs`` value (ignored otherwise).

    Returns
    -------
    tuple of (Problem, Problem, str)
        The problem to optimise, the problem whose value is reported, and a note.

    Raises
    ------
    InvalidMatrixError
        Without a positive own-stage score for every task.

    Examples
    --------
    >>> m = TransferMatrix(["a", "b"], [[0, -0.3], [-0.1, 0]], own_scores=[0.6, 0.5])
    >>> solver, value, note = multiplicative_problem(m, "adjacent", Constraints.from_names(m))
    >>> solver.weights.tolist(), value.value([1, 0]), note.split(":")[0]
    ([[0.0, -0.3], [-0.1, 0.0]], -0.1, 'multiplicative model as a linear adjacent problem')
    """
    rho = _retention(matrix)
    own, weights, n_tasks = matrix.own_scores, matrix.weights, matrix.n_tasks
    forget = matrix.forgettability()
    if objective == "adjacent":
        pair = weights[:, None] * np.maximum(-own[:, None], matrix.bwt)
        np.fill_diagonal(pair, 0.0)
        problem = Problem(pair, "adjacent", constraints, forgettability=forget)
        return (
            problem,
            problem,
            ("multiplicative model as a linear adjacent problem: w_i * max(-own_i, bwt[i, next])"),
        )
    if objective == "max_min":
        logs = np.log(np.clip(rho, _TINY, None))
        np.fill_diagonal(logs, 0.0)
        linear = matrix.replace(forward=None, forward_stderr=None).pair_weights()
        solver = Problem(
            linear,
            "max_min",
            constraints,
            forgettability=forget,
            bwt=logs,
            forward=np.zeros((n_tasks, n_tasks)),
            own=np.log(own),
        )
        value = Problem(
            linear, "max_min", constraints, forgettability=forget, own=own, retention=rho
        )
        return solver, value, "multiplicative model as max-min of log final scores"
    linear = np.zeros((n_tasks, n_tasks)) if bonus is None else bonus
    problem = Problem(
        linear,
        "all_pairs",
        constraints,
        forgettability=forget,
        own=own,
        retention=rho,
        task_weights=weights,
    )
    return problem, problem, "multiplicative model (not a linear ordering problem)"


def _check_multiplicative(problem: Problem, method: str) -> None:
    if not problem.multiplicative or problem.objective != "all_pairs":
        raise InvalidParameterError(
            f"The {method} multiplicative solver takes an all_pairs problem with retention "
            f"ratios. Got objective={problem.objective!r}, retention "
            f"{'given' if problem.multiplicative else 'None'}."
        )


def _gains(problem: Problem, bits: np.ndarray) -> np.ndarray:
    """``gains[s, i]``: objective collected by placing ``i`` right after the set ``bits[s]``."""
    rho, own = problem.retention, problem.own
    positive = rho > 0
    logs = np.where(positive, np.log(np.where(positive, rho, 1.0)), 0.0)
    zeros = (~positive).astype(float)
    np.fill_diagonal(logs, 0.0)
    np.fill_diagonal(zeros, 0.0)
    before_log, before_zero = bits @ logs.T, bits @ zeros.T  # [s, i]: sums over j in S
    after_log = logs.sum(axis=1)[None, :] - before_log
    after_zero = zeros.sum(axis=1)[None, :] - before_zero
    final = np.where(after_zero > 0.5, 0.0, own[None, :] * np.exp(after_log))
    return problem.task_weights[None, :] * (final - own[None, :]) + bits @ problem.weights


def solve_multiplicative_dp(
    problem: Problem, *, time_limit: float | None = None, seed: int = 0
) -> Solution:
    """Exact optimum of a multiplicative ``all_pairs`` problem by a DP over subsets.

    Parameters
    ----------
    problem : Problem
        ``objective="all_pairs"`` with ``retention`` (see :func:`multiplicative_problem`).
    time_limit : float, optional
        Unused (the DP is not interruptible); accepted for the common signature.
    seed : int
        Unused; accepted for the common signature.

    Returns
    -------
    Solution
        Status ``"optimal"``; ties go to the first task index placed.

    Raises
    ------
    InvalidParameterError
        More than :data:`MAX_TASKS_DP` tasks, or not a multiplicative problem.
    ConstraintError
        When no order meets the precedences and floors together.

    Examples
    --------
    >>> m = TransferMatrix(["a", "b", "c"], [[0, -0.3, -0.3], [-0.1, 0, 0], [0, -0.2, 0]],
    ...                    own_scores=[0.6, 0.5, 0.4])
    >>> problem = multiplicative_problem(m, "all_pairs", Constraints.from_names(m))[0]
    >>> solution = solve_multiplicative_dp(problem)
    >>> solution.order, round(solution.value, 4), solution.status
    ([1, 2, 0], -0.1, 'optimal')
    """
    _check_multiplicative(problem, "subset-DP")
    n_tasks = problem.n_tasks
    if n_tasks > MAX_TASKS_DP:
        raise InvalidParameterError(
            f"The multiplicative subset DP accepts at most {MAX_TASKS_DP} tasks. Got "
            f"{n_tasks}; use method='local' or 'auto'."
        )
    start = time.perf_counter()
    masks = np.arange(1 << n_tasks, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(n_tasks)) & 1).astype(np.int8)
    sizes = bits.sum(axis=1)
    by_size = np.argsort(sizes, kind="stable")
    edges = np.searchsorted(sizes[by_size], np.arange(n_tasks + 1))
    best = np.full(masks.size, -np.inf)
    best[0] = 0.0
    parent = np.full(masks.size, -1, dtype=np.int8)
    predecessors = np.array(problem.constraints.predecessors or (0,) * n_tasks, dtype=np.int64)
    floors = problem.constraints.floors
    for size in range(n_tasks):
        layer = by_size[edges[size] : edges[size + 1]]
        layer = layer[np.isfinite(best[layer])]
        if not layer.size:
            continue
        layer_bits = bits[layer].astype(float)
        gains = _gains(problem, layer_bits)
        for task in range(n_tasks):
            ok = ((layer >> task) & 1 == 0) & (layer & predecessors[task] == predecessors[task])
            for floor in floors:
                if floor.task == task:
                    ok &= floor.base + layer_bits @ floor.coefficients >= floor.minimum - 1e-9
            targets = layer[ok] | (1 << task)
            values = best[layer[ok]] + gains[ok, task]
            better = values > best[targets] + 1e-12
            best[targets[better]] = values[better]
            parent[targets[better]] = task
    order = unwind_order(parent, n_tasks, best)
    value = problem.value(order)
    return Solution(
        order=order,
        value=value,
        bound=value,
        status="optimal",
        extras={"subsets": int(masks.size), "seconds": time.perf_counter() - start},
    )


def _secant_weights(problem: Problem, order: Sequence[int], logs: np.ndarray) -> np.ndarray:
    """``W[i, j]``: the exact change of ``w_i * final_i`` from putting ``j`` after ``i``
    rather than before it, every other task staying where it is in ``order``."""
    position = np.empty(problem.n_tasks, dtype=np.intp)
    position[np.asarray(order, dtype=np.intp)] = np.arange(problem.n_tasks)
    after = position[None, :] > position[:, None]
    after_log = (logs * after).sum(axis=1)
    without = problem.own[:, None] * np.exp(after_log[:, None] - logs * after)  # j left out
    pair = problem.task_weights[:, None] * without * (problem.retention - 1.0)
    np.fill_diagonal(pair, 0.0)
    return pair


def _values(problem: Problem, orders: np.ndarray) -> np.ndarray:
    """:meth:`Problem.value` of many orders (rows of task indices) at once."""
    positions = np.argsort(orders, axis=1)
    later = positions[:, None, :] > positions[:, :, None]  # later[k, i, j]: j after i
    final = problem.own * np.where(later, problem.retention[None], 1.0).prod(axis=2)
    return (final - problem.own) @ problem.task_weights + (later * problem.weights).sum(axis=(1, 2))


def _descend(problem: Problem, order: list[int], deadline: float | None) -> tuple[list[int], float]:
    """Insertion descent on the exact objective: each task in turn moves to its best place
    (within its precedence interval) while that improves the value."""
    edges = problem.constraints.edges()
    value, improved = problem.value(order), True
    while improved and (deadline is None or time.perf_counter() < deadline):
        improved = False
        for task in list(order):
            if deadline is not None and time.perf_counter() >= deadline:
                break
            rest = [t for t in order if t != task]
            where = {t: k for k, t in enumerate(rest)}
            low = max((where[u] + 1 for u, v in edges if v == task), default=0)
            high = min((where[v] for u, v in edges if u == task), default=len(rest))
            places = np.array([rest[:q] + [task] + rest[q:] for q in range(low, high + 1)])
            values = _values(problem, places)
            best = int(np.argmax(values))
            if values[best] > value + 1e-12 * max(1.0, abs(value)):
                order, value, improved = places[best].tolist(), float(values[best]), True
    return order, value


def _kick(order: list[int], problem: Problem, rng: np.random.Generator, moves: int) -> list[int]:
    """``order`` after ``moves`` random insertions that keep every precedence."""
    order = list(order)
    for _ in range(moves):
        task = order.pop(int(rng.integers(len(order))))
        order.insert(int(rng.integers(len(order) + 1)), task)
        if not problem.constraints.satisfied_by(order):  # nearest order by position that fits
            position = np.empty(len(order))
            position[order] = np.arange(len(order))
            order = priority_order(-position, problem.constraints.predecessors)
    return order


def solve_multiplicative_search(
    problem: Problem, *, time_limit: float | None = None, seed: int = 0
) -> Solution:
    """Local search for a multiplicative ``all_pairs`` problem (no proof).

    Starts: the rank rule's order; the optimum of the additive counterpart
    (``w_i * own_i * (rho[i, j] - 1)``, by the package's local search); and, from each,
    iterated linearisation (putting ``j`` after ``i`` rather than before changes the
    objective by ``w_i * final_i^(-j) * (rho[i, j] - 1)`` with the rest of the order
    fixed: a linear ordering problem, solved again by the local search, while it finds
    new orders). Each start then descends by insertion moves on the exact objective (the
    linear searches cannot evaluate a product), and the best order is kicked with random
    insertions and descended again: until ``time_limit``; without one, until
    :data:`_KICKS` kicks in a row find nothing better (deterministic for a seed), or
    :data:`_MAX_SECONDS_WITHOUT_LIMIT` seconds at most.

    Parameters
    ----------
    problem : Problem
        ``objective="all_pairs"`` with ``retention``; no floors.
    time_limit : float, optional
        Seconds in all (the search uses them); see above for the search without it.
    seed : int
        Seed of the local searches and the kicks.

    Returns
    -------
    Solution
        Status ``"heuristic"``; never worse than its starting orders.

    Raises
    ------
    ConstraintError
        With entropy floors (only the subset DP checks them).

    Examples
    --------
    >>> m = TransferMatrix(["a", "b", "c"], [[0, -0.3, -0.3], [-0.1, 0, 0], [0, -0.2, 0]],
    ...                    own_scores=[0.6, 0.5, 0.4])
    >>> problem = multiplicative_problem(m, "all_pairs", Constraints.from_names(m))[0]
    >>> solve_multiplicative_search(problem).order
    [1, 2, 0]
    """
    from dataclasses import replace

    from taskorder.solvers.heuristics.local_search import solve_local
    from taskorder.solvers.heuristics.rank import solve_rank

    _check_multiplicative(problem, "search")
    if problem.constraints.floors:
        raise ConstraintError(
            "Entropy floors are exact constraints of the subset DP only; use method='dp' "
            f"(n <= {MAX_TASKS_DP}) for the multiplicative model with floors."
        )
    start = time.perf_counter()
    deadline = start + (_MAX_SECONDS_WITHOUT_LIMIT if time_limit is None else time_limit)
    rng = np.random.default_rng(seed)
    logs = np.log(np.clip(problem.retention, _TINY, None))

    def linear_solve(pair: np.ndarray) -> list[int]:
        linear = replace(
            problem,
            weights=pair + problem.weights,
            retention=None,
            task_weights=None,
            own=None,
            forgettability=None,
        )
        return solve_local(linear, time_limit=None, seed=seed).order

    additive = problem.task_weights[:, None] * problem.own[:, None] * (problem.retention - 1.0)
    np.fill_diagonal(additive, 0.0)
    starts = [solve_rank(problem).order, linear_solve(additive)]
    enough = start + 0.3 * (deadline - start)  # most of the time goes to the exact descents
    for order in list(starts):  # follow the secant model while it finds new orders
        for _ in range(_MAX_LINEARISATIONS):
            if time.perf_counter() >= enough:
                break
            order = linear_solve(_secant_weights(problem, order, logs))
            if order in starts:
                break
            starts.append(order)
    starts.sort(key=problem.value, reverse=True)  # the best start descends first
    best, value = max((_descend(problem, list(o), deadline) for o in starts), key=lambda r: r[1])
    curve, kicks, since = [(time.perf_counter() - start, value)], 0, 0
    while time.perf_counter() < deadline and (time_limit is not None or since < _KICKS):
        kicks, since = kicks + 1, since + 1
        order, candidate = _descend(problem, _kick(best, problem, rng, 3), deadline)
        if candidate > value + 1e-12 * max(1.0, abs(value)):
            best, value, since = order, candidate, 0
            curve.append((time.perf_counter() - start, value))
    order = best
    return Solution(
        order=list(order),
        value=value,
        bound=None,
        status="heuristic",
        extras={
            "starts": len(starts),
            "kicks": kicks,
            "anytime": curve,
            "seconds": time.perf_counter() - start,
        },
    )


#: Methods for the multiplicative model with ``all_pairs`` (not a linear ordering problem).
MULTIPLICATIVE_METHODS = ("dp", "local", "rank")


def route_multiplicative(
    problem: Problem, method: str, time_limit: float | None
) -> tuple[object, str, str, float | None]:
    """``(solver, method name, reason, time limit)`` for a multiplicative ``all_pairs`` problem.

    ``"auto"`` takes the subset DP up to the linear DP's threshold (or with floors) and
    :func:`solve_multiplicative_search` beyond (without a time limit it stops after
    :data:`_KICKS` kicks without improvement).

    Parameters
    ----------
    problem : Problem
        A multiplicative ``all_pairs`` problem (with retention ratios), possibly with floors.
    method : str
        ``"auto"`` or one of :data:`MULTIPLICATIVE_METHODS`.
    time_limit : float or None
        Seconds the caller allows; passed through unchanged.

    Returns
    -------
    tuple
        The solver function, the method name, the reason it was chosen, and the time limit
        to pass to the solver.

    Raises
    ------
    InvalidParameterError
        A method other than ``"auto"`` or :data:`MULTIPLICATIVE_METHODS`.
    ConstraintError
        Floors with a method other than the DP, or more than :data:`MAX_TASKS_DP` tasks.
    """
    from taskorder.solvers.choose import THRESHOLDS
    from taskorder.solvers.heuristics.rank import solve_rank

    n_tasks = problem.n_tasks
    floors = bool(problem.constraints.floors)
    methods = {
        "dp": solve_multiplicative_dp,
        "local": solve_multiplicative_search,
        "rank": solve_rank,
    }
    if method != "auto" and method not in methods:
        raise InvalidParameterError(
            "With model='multiplicative' and objective='all_pairs' the 'method' parameter of "
            f"solve must be 'auto' or one of {', '.join(MULTIPLICATIVE_METHODS)} (the value "
            f"is not a linear ordering objective). Got {method!r}."
        )
    if floors and (method not in ("auto", "dp") or n_tasks > MAX_TASKS_DP):
        raise ConstraintError(
            "Entropy floors with the multiplicative model are exact constraints of its "
            f"subset DP only (n <= {MAX_TASKS_DP}). Got method {method!r} with n = {n_tasks}."
        )
    if method != "auto":
        return methods[method], method, "chosen by the caller", time_limit
    dp_max = THRESHOLDS["all_pairs"]["dp"]
    if n_tasks <= dp_max or floors:
        bound = f"<= {dp_max}" if n_tasks <= dp_max else f"<= {MAX_TASKS_DP} with entropy floors"
        return (
            solve_multiplicative_dp,
            "dp",
            (f"n = {n_tasks} {bound}: the subset DP over retention products proves the optimum"),
            time_limit,
        )
    return (
        solve_multiplicative_search,
        "local",
        (
            f"n = {n_tasks} > {dp_max}: linearisation starts and insertion descent on the exact "
            "objective (no proof)"
            + (
                ""
                if time_limit is not None
                else f"; no time limit given, so it stops after {_KICKS} "
                f"kicks without improvement or {_MAX_SECONDS_WITHOUT_LIMIT:g} s"
            )
        ),
        time_limit,
    )
