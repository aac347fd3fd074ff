"""Exact mixed-integer programming for ``all_pairs`` and ``max_min`` (``method="ilp"``).

Model (built by :func:`build_ordering_model`): one binary precedence variable per pair
``i < j`` (see :mod:`.triangles`), the objective on integer-scaled weights
(:mod:`taskorder.solvers.integer_weights`), required precedences as fixed variables
(``problem.constraints.edges()``, first/last included) and, for ``max_min``, a variable
``t`` with ``t <= final_i`` for every task. The ``2 * C(n, 3)`` transitivity rows are
added only when violated, in two phases (:func:`solve_ilp`):

1. **Cutting planes on the LP relaxation.** Solve the LP, add the violated 3-dicycle
   inequalities, repeat until none is violated. On input-output style matrices the
   final LP is often integral, which proves optimality without branching; its value is
   a valid upper bound in any case.
2. **Branch and bound with lazy rows.** Solve the MIP with the rows found so far; if
   the integer solution still has a 3-cycle, add its violated rows and solve again.

Phase 1 keeps one HiGHS model alive across rounds (:mod:`.highs_lp`, SciPy's bundled
HiGHS): new rows are added in place, dual simplex restarts from the last basis, and
slack rows are dropped once they are half of the rows (``lp="incremental"``, the
default). ``lp="rebuild"`` rebuilds the model through OR-tools MathOpt each round, as
before issue 17 (and always with ``backend="scip"``). Phase 2 uses MathOpt. A local
search runs beside them on the second core (the solver releases the GIL) and keeps
the best order, so a run cut short by ``time_limit`` still returns a good order, with
status ``feasible`` and the MIP's best bound; ``extras["found_by"]`` says which part
found the returned order (``"mip"``, ``"lp rounding"`` or ``"local search"``). The
MIP solve runs in a thread that is not waited for past the deadline (HiGHS overruns
the limit it is given). An integer solution with cycles is repaired by sorting tasks
by pairwise wins and descending with insertion moves.

Measured on LOLIB (2 cores, docs/solvers.md): all 50 IO instances (n = 44-79) proved
optimal; random instances (RandA1) of n >= 100 are out of reach, use ``"local"``.

References
----------
M. Grötschel, M. Jünger and G. Reinelt, Operations Research 32(6), 1984.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from taskorder.checks import check_choice
from taskorder.exceptions import InvalidParameterError, SolverError
from taskorder.solvers.exact.ilp_model import (
    build_ordering_model,
    solve_mip_before,
    solve_model,
)
from taskorder.solvers.exact.triangles import (
    order_from_precedence,
    precedence_matrix,
    violated_triangles,
)
from taskorder.solvers.integer_weights import IntegerWeights, integer_weights
from taskorder.solvers.problem import Problem, Solution

__all__ = ["BACKENDS", "LP_MODES", "MAX_CUTS_PER_ROUND", "solve_ilp"]

BACKENDS = ("highs", "scip")
#: How the LP rounds are solved: one HiGHS model updated in place, or rebuilt each round.
LP_MODES = ("incremental", "rebuild")
#: Most violated 3-dicycle rows added per LP round (all of them below this). A cap of
#: 5,000 made the incremental rounds slower, not faster (docs/solvers.md).
MAX_CUTS_PER_ROUND = 20_000
#: Incremental rounds delete the slack 3-dicycle rows once they are this share of them.
SLACK_ROW_SHARE = 0.5
#: An incremental round that follows more new rows than this many times the columns is
#: solved by barrier + crossover instead of warm dual simplex. Off (infinite): with 1.0
#: it helped on MB n = 85 blocks (0.82-0.84x) and hurt on r100a2:70 and usa79 (2.3-2.5x)
#: in benchmarks/results/portfolio_lp_barrier.txt, where it is the "lazy-incremental" route.
BARRIER_ADDED_ROW_RATIO = float("inf")
#: Switch the LP rounds from dual simplex to the barrier method once the rows exceed
#: this many times the columns, or once a simplex round took this many seconds.
BARRIER_ROW_RATIO = 6.0
BARRIER_AFTER_SECONDS = 2.0


@dataclass
class _Progress:
    """What the two phases know so far (integer-scaled objective units)."""

    weights: IntegerWeights
    deadline: float | None
    cuts: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))
    bound: float = float("inf")
    lp_rounds: int = 0
    mip_rounds: int = 0
    proven_order: list[int] | None = None
    #: Which part found the proven order (a FOUND_BY value).
    proven_by: str = ""
    #: Orders found on the way, each with the part that found it.
    candidate_orders: list[tuple[list[int], str]] = field(default_factory=list)
    timed_out: bool = False
    lp_mode: str = "incremental"

    def time_left(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.perf_counter()

    def add_cuts(self, triples: np.ndarray) -> None:
        """Add rows not already known (incremental LP rounds may re-add dropped rows)."""
        self.cuts = np.unique(np.concatenate([self.cuts, triples]), axis=0)


def _out_of_time(progress: _Progress) -> bool:
    left = progress.time_left()
    if left is not None and left <= 0.05:
        progress.timed_out = True
        return True
    return False


def _cutting_plane_lp(problem: Problem, progress: _Progress, backend: str, lp: str) -> None:
    """Phase 1: LP + violated 3-dicycle rows until none is violated (or time runs out)."""
    if lp == "incremental":
        _incremental_lp_rounds(problem, progress)
    else:
        _rebuilt_lp_rounds(problem, progress, backend)


def _lp_round_done(problem: Problem, progress: _Progress, outcome, cap: int) -> np.ndarray | None:
    """Record one LP round; the rows to add next, or None when the phase is over."""
    n_tasks = problem.n_tasks
    progress.lp_rounds += 1
    if outcome.values is None or not outcome.proven:
        progress.timed_out = outcome.hit_limit or progress.timed_out
        return None
    progress.bound = min(progress.bound, outcome.dual_bound)
    precedence = precedence_matrix(outcome.values[: n_tasks * (n_tasks - 1) // 2], n_tasks)
    if _round_lp_solution(problem, progress, precedence):
        return None
    triples = violated_triangles(precedence, limit=cap)
    if triples.size == 0:
        return None
    progress.add_cuts(triples)
    return triples


def _incremental_lp_rounds(problem: Problem, progress: _Progress) -> None:
    """One HiGHS model for all rounds: add at most MAX_CUTS_PER_ROUND rows, drop the
    slack ones, re-solve warm by dual simplex (:mod:`.highs_lp`)."""
    from taskorder.solvers.exact.highs_lp import IncrementalLP

    model = IncrementalLP(problem, progress.weights)
    added = 0
    while not _out_of_time(progress):
        barrier = added > BARRIER_ADDED_ROW_RATIO * model.n_vars
        outcome = model.solve(progress.time_left(), barrier=barrier)
        triples = _lp_round_done(problem, progress, outcome, MAX_CUTS_PER_ROUND)
        if triples is None:
            return
        model.drop_slack_rows(SLACK_ROW_SHARE)
        model.add_triangles(triples)
        added = triples.shape[0]


def _rebuilt_lp_rounds(problem: Problem, progress: _Progress, backend: str) -> None:
    """The model rebuilt through MathOpt each round (before issue 17; also SCIP's way):
    dual simplex, barrier once rows pile up, every row kept."""
    n_tasks = problem.n_tasks
    barrier = False
    while not _out_of_time(progress):
        model = build_ordering_model(problem, progress.weights, progress.cuts, integer=False)
        barrier = (
            barrier or progress.cuts.shape[0] > BARRIER_ROW_RATIO * n_tasks * (n_tasks - 1) / 2
        )
        started = time.perf_counter()
        outcome = solve_model(model, backend, progress.time_left(), integer=False, barrier=barrier)
        barrier = barrier or time.perf_counter() - started > BARRIER_AFTER_SECONDS
        if _lp_round_done(problem, progress, outcome, MAX_CUTS_PER_ROUND) is None:
            return


def _round_lp_solution(problem: Problem, progress: _Progress, precedence: np.ndarray) -> bool:
    """LP rounding heuristic: order by wins, one insertion descent; True if it is proven
    optimal (its integer value reaches the LP bound rounded down)."""
    order = order_from_precedence(precedence, problem.constraints.predecessors)
    if problem.objective == "all_pairs":
        from taskorder.solvers.heuristics.insertion import InsertionTable

        table = InsertionTable(problem.weights, order, problem.constraints.edges())
        table.descend()
        order = table.order.tolist()
    if _incumbent_meets_bound(problem, progress, order):
        progress.proven_order, progress.proven_by = order, "lp rounding"
        return True
    progress.candidate_orders.append((order, "lp rounding"))
    return False


def _branch_and_cut(problem: Problem, progress: _Progress, backend: str) -> None:
    """Phase 2: MIP with the rows so far; add the rows its integer solution violates."""
    n_tasks = problem.n_tasks
    n_pairs = n_tasks * (n_tasks - 1) // 2
    while progress.proven_order is None and not _out_of_time(progress):
        model = build_ordering_model(problem, progress.weights, progress.cuts, integer=True)
        outcome = solve_mip_before(model, backend, progress.deadline)
        progress.mip_rounds += 1
        if outcome.dual_bound is not None:
            progress.bound = min(progress.bound, outcome.dual_bound)
        if outcome.values is None:
            progress.timed_out = True
            return
        precedence = precedence_matrix(np.round(outcome.values[:n_pairs]), n_tasks)
        triples = violated_triangles(precedence)
        order = order_from_precedence(precedence, problem.constraints.predecessors)
        if triples.size == 0 and outcome.proven:
            progress.proven_order, progress.proven_by = order, "mip"
            return
        progress.candidate_orders.append((order, "mip"))
        if outcome.hit_limit:
            progress.timed_out = True
            return
        progress.add_cuts(triples)


def all_triangles(n_tasks: int) -> np.ndarray:
    """Every triple ``i < j < k`` (the full 3-dicycle model), shape ``(C(n, 3), 3)``."""
    from itertools import combinations

    return np.fromiter(
        (t for triple in combinations(range(n_tasks), 3) for t in triple), dtype=np.int64
    ).reshape(-1, 3)


def solve_ilp(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    backend: str = "highs",
    rows: str = "lazy",
    lp: str | None = None,
    helper_to_limit: bool = False,
) -> Solution:
    """Solve ``all_pairs`` or ``max_min`` exactly by MIP with lazy 3-dicycle rows.

    Parameters
    ----------
    problem : Problem
        Objective ``"all_pairs"`` or ``"max_min"``.
    time_limit : float, optional
        Seconds. When it runs out the best order found is returned with status
        ``feasible`` and the best proven bound.
    seed : int
        Seed of the helper local search (the MIP itself is deterministic).
    backend : {"highs", "scip"}
        MIP solver used through OR-tools MathOpt.
    rows : {"lazy", "full"}
        ``"lazy"``: the two phases above. ``"full"``: every 3-dicycle row from the
        start and one MIP solve (no LP phase).
    lp : {"incremental", "rebuild"}, optional
        How the LP rounds run: one HiGHS model updated in place and re-solved warm
        (default with ``backend="highs"`` when SciPy's bundled HiGHS is importable), or the
        model rebuilt and solved from scratch each round (SCIP's only way).
    helper_to_limit : bool
        Let the helper local search run to the time limit instead of stopping after
        ``HELPER_PATIENCE_FACTOR`` times the usual patience without improvement.

    Returns
    -------
    Solution
        ``extras``: ``scale`` and ``rounding_error_bound`` (see
        :mod:`taskorder.solvers.integer_weights`), ``lp_rounds``, ``mip_rounds``,
        ``cuts`` (3-dicycle rows used), ``backend``, ``anytime``.

    Raises
    ------
    InvalidParameterError
        For the ``adjacent`` objective (use ``"cpsat"``) or an unknown backend.

    Examples
    --------
    >>> import numpy as np
    >>> from taskorder.solvers.problem import Constraints, Problem
    >>> W = np.array([[0., 1, 5], [3, 0, 0], [0, 4, 0]])
    >>> solution = solve_ilp(Problem(W, "all_pairs", Constraints(3, predecessors=(0, 0, 0))))
    >>> solution.order, solution.value, solution.status, solution.bound
    ([0, 2, 1], 10.0, 'optimal', 10.0)
    """
    start = time.perf_counter()  # first: checking the LP mode imports SciPy (~1 s loaded)
    if problem.objective == "adjacent":
        raise InvalidParameterError(
            "The 'ilp' method solves the 'all_pairs' and 'max_min' objectives. Got "
            "objective='adjacent'; use method='cpsat' (a circuit model) or 'auto'."
        )
    check_choice(backend, BACKENDS, "backend", "solve_ilp")
    lp = _lp_mode(lp, backend)
    if rows not in ("lazy", "full"):
        raise InvalidParameterError(
            f"The 'rows' parameter of solve_ilp must be 'lazy' or 'full'. Got {rows!r}."
        )
    from taskorder.solvers.heuristics.background import HelperSearch

    deadline = None if time_limit is None else start + time_limit
    weights = integer_weights(problem)
    progress = _Progress(weights=weights, deadline=deadline, lp_mode=lp)
    helper = HelperSearch(problem, time_limit=time_limit, seed=seed, to_limit=helper_to_limit)
    try:
        if rows == "full":
            progress.add_cuts(all_triangles(problem.n_tasks))
        else:
            _cutting_plane_lp(problem, progress, backend, lp)
        if progress.proven_order is None and not progress.timed_out:
            if _incumbent_meets_bound(problem, progress, helper.first_order):
                progress.proven_order, progress.proven_by = helper.first_order, "local search"
            else:
                _branch_and_cut(problem, progress, backend)
    finally:
        helper_order = helper.stop()
    solution = _finish(problem, progress, helper_order, start, backend)
    solution.extras["anytime"] = helper.curve
    return solution


def _lp_mode(lp: str | None, backend: str) -> str:
    """The LP mode to use: the caller's, else incremental where HiGHS allows it."""
    from taskorder.solvers.exact.highs_lp import incremental_lp_available

    if lp is None:
        return "incremental" if backend == "highs" and incremental_lp_available() else "rebuild"
    check_choice(lp, LP_MODES, "lp", "solve_ilp")
    if lp == "incremental" and (backend != "highs" or not incremental_lp_available()):
        raise InvalidParameterError(
            "The 'lp' parameter of solve_ilp can be 'incremental' only with backend='highs' "
            "and a SciPy whose bundled HiGHS exposes scipy.optimize._highspy._core. Got "
            f"lp='incremental' with backend={backend!r}; use lp='rebuild'."
        )
    return lp


def _integer_value(problem: Problem, weights: IntegerWeights, order: list[int]) -> float:
    scaled = Problem(
        weights.weights.astype(float),
        problem.objective,
        problem.constraints,
        bwt=None if weights.bwt is None else weights.bwt.astype(float),
        forward=None if weights.forward is None else weights.forward.astype(float),
        own=None if weights.own is None else weights.own.astype(float),
    )
    return scaled.value(order)


def _incumbent_meets_bound(problem: Problem, progress: _Progress, order: list[int]) -> bool:
    """True if ``order``'s integer value reaches the LP bound (rounded down)."""
    if not np.isfinite(progress.bound):
        return False
    return _integer_value(problem, progress.weights, order) >= np.floor(progress.bound + 1e-6)


def _finish(problem, progress, helper_order, start, backend) -> Solution:
    """Best order among all candidates, with an honest status and bound.

    On integer-scaled data the optimum is proven when some candidate reaches the best
    bound (rounded down). The returned order is the best on the true weights; with
    rounding slack ``E`` it is within ``2 E`` of the true optimum, and the bound adds ``E``.
    """
    weights = progress.weights
    slack = weights.rounding_error_bound
    found = [(progress.proven_order, progress.proven_by), (helper_order, "local search")]
    found = [(o, by) for o, by in [*found, *progress.candidate_orders] if o]
    if not found:
        raise SolverError("The MIP found no order before its time limit; raise the time limit.")
    candidates = [o for o, _ in found]
    integer_best = max(_integer_value(problem, weights, o) for o in candidates)
    # first best: the proven order on ties
    order, found_by = max(found, key=lambda item: problem.value(item[0]))
    value = problem.value(order)
    bound_int = np.floor(progress.bound + 1e-6) if np.isfinite(progress.bound) else np.inf
    proven = progress.proven_order is not None or integer_best >= bound_int
    if proven:
        bound = (
            value if slack <= 1e-9 * max(1.0, abs(value)) else integer_best / weights.scale + slack
        )
    elif np.isfinite(bound_int):
        bound = bound_int / weights.scale + slack
    else:  # stopped before the first LP finished: fall back to the pairwise bound
        from taskorder.solvers.heuristics.local_search import cheap_upper_bound

        bound = cheap_upper_bound(problem)
    return Solution(
        order=[int(t) for t in order],
        value=value,
        bound=float(max(bound, value)),
        status="optimal" if proven else "feasible",
        extras={
            "backend": backend,
            "found_by": found_by,
            "rows": "full" if progress.lp_rounds == 0 and progress.cuts.shape[0] else "lazy",
            "scale": weights.scale,
            "rounding_error_bound": slack,
            "lp": progress.lp_mode,
            "lp_rounds": progress.lp_rounds,
            "mip_rounds": progress.mip_rounds,
            "cuts": int(progress.cuts.shape[0]),
            "stopped_by_time_limit": bool(progress.timed_out and not proven),
            "seconds": time.perf_counter() - start,
        },
    )
