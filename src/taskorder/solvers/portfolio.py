"""The exact route and the anytime search under one time limit (``method="auto"`` only).

``auto`` uses it for ``all_pairs`` with 61-100 tasks, a time limit under
:data:`~taskorder.solvers.choose.ILP_LARGE_MIN_SECONDS` and a low slack share
(:func:`~taskorder.solvers.choose.slack_share` below
:data:`~taskorder.solvers.choose.SLACK_PORTFOLIO`): input-output-like data that the MIP
often proves in seconds (LOLIB usa79, n = 79: 1.2-3.1 s) but not always within a short
limit (Spec econ71-77: no proof at 10 s, and the plain MIP route's answer was up to
0.02 % short where local search reached the best-known: its helper search stops on
patience). Two ways to share the budget (:data:`MODES`):

``"parallel"`` (:data:`PORTFOLIO_MODE`)
    :func:`~taskorder.solvers.exact.ilp.solve_ilp` for the whole limit, its helper local
    search running to the limit on the second core rather than stopping on patience.
``"staged"``
    ``solve_ilp`` for :data:`EXACT_SHARE` of the limit (a proof ends the run), then
    :func:`~taskorder.solvers.heuristics.local_search.solve_local` for what is left.

The best order found by either part is returned. ``status`` is ``optimal`` when the MIP proved
it or the local search reached the MIP's bound, else ``feasible`` with the MIP's bound
(a relaxation's, so valid). ``extras["found_by"]`` names the part that found the order
(``"mip"``, ``"lp rounding"`` or ``"local search"``) and ``extras["portfolio"]`` what
each stage got and gave.
"""

from __future__ import annotations

import time

from taskorder.checks import check_choice, check_float
from taskorder.solvers.exact.ilp import solve_ilp
from taskorder.solvers.heuristics.local_search import solve_local
from taskorder.solvers.problem import Problem, Solution

__all__ = ["EXACT_SHARE", "MODES", "PORTFOLIO_MODE", "solve_portfolio"]

#: Share of the time limit the exact stage gets before the local search takes over.
EXACT_SHARE = 0.5
#: ``"parallel"``: the MIP for the whole limit with its helper local search running to
#: the limit beside it on the second core (instead of stopping on patience).
#: ``"staged"``: the MIP for EXACT_SHARE of the limit, then local search alone.
MODES = ("parallel", "staged")
#: The mode ``auto`` uses: on LOLIB usa79, Spec econ61-77 and RandA2 t2d100.01/.03/.05 at
#: 5 and 10 s it was at least as good as "staged" on all 20 runs (better on econ77 at
#: 5 s) with the same 4 proofs (benchmarks/results/portfolio_route_modes.txt).
PORTFOLIO_MODE = "parallel"


def solve_portfolio(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    exact_share: float = EXACT_SHARE,
    mode: str | None = None,
) -> Solution:
    """The MIP and the local search under one ``time_limit`` (see :data:`MODES`).

    Parameters
    ----------
    problem : Problem
        Objective ``"all_pairs"`` or ``"max_min"`` (those of the MIP).
    time_limit : float, optional
        Seconds for both stages together. Without it the MIP runs alone to its end.
    seed : int
        Seed of both stages.
    exact_share : float
        Share of ``time_limit`` given to the MIP (0 < share <= 1; ``"staged"`` only).
    mode : {"staged", "parallel"}, optional
        See :data:`MODES`; default :data:`PORTFOLIO_MODE`.

    Returns
    -------
    Solution
        The best order found, with the MIP's bound; ``extras`` as
        :func:`~taskorder.solvers.exact.ilp.solve_ilp`'s plus ``portfolio`` (the mode;
        staged: seconds, status and value per stage) and, staged, the local stage's
        ``local_arm`` when it ran.

    Examples
    --------
    >>> import numpy as np
    >>> from taskorder.solvers.problem import Constraints, Problem
    >>> W = np.array([[0., 1, 5], [3, 0, 0], [0, 4, 0]])
    >>> solution = solve_portfolio(Problem(W, "all_pairs", Constraints(3, predecessors=(0, 0, 0))),
    ...                            time_limit=5.0)
    >>> solution.order, solution.status, solution.extras["portfolio"]["mode"]
    ([0, 2, 1], 'optimal', 'parallel')
    """
    mode = PORTFOLIO_MODE if mode is None else mode
    check_choice(mode, MODES, "mode", "solve_portfolio")
    check_float(exact_share, "exact_share", "solve_portfolio", minimum=0, maximum=1, low_open=True)
    start = time.perf_counter()
    if mode == "parallel":
        exact = solve_ilp(problem, time_limit=time_limit, seed=seed, helper_to_limit=True)
        exact.extras["portfolio"] = {"mode": mode, "exact_s": round(time.perf_counter() - start, 3)}
        return exact
    exact_limit = None if time_limit is None else exact_share * time_limit
    exact = solve_ilp(problem, time_limit=exact_limit, seed=seed)
    exact_s = time.perf_counter() - start
    record = {
        "mode": mode,
        "exact_limit_s": exact_limit,
        "exact_s": round(exact_s, 3),
        "exact_status": exact.status,
        "exact_value": exact.value,
        "local_s": 0.0,
    }
    left = None if time_limit is None else time_limit - exact_s
    if exact.status == "optimal" or left is None or left <= 0.05:
        exact.extras["portfolio"] = record
        return exact
    local = solve_local(problem, time_limit=left, seed=seed)
    record.update(local_s=round(time.perf_counter() - start - exact_s, 3), local_value=local.value)
    best = local if local.value > exact.value else exact
    bound = exact.bound if exact.bound is not None else local.bound
    proven = bound is not None and best.value >= bound - 1e-9 * max(1.0, abs(bound))
    extras = dict(exact.extras)
    extras.update(
        found_by=best.extras.get("found_by", "local search"),
        portfolio=record,
        local_arm=local.extras.get("local_arm"),
        anytime=_joined_curve(exact.extras.get("anytime", []), local.extras["anytime"], exact_s),
        stopped_by_time_limit=not proven,
    )
    return Solution(
        order=list(best.order),
        value=best.value,
        bound=None if bound is None else max(bound, best.value),
        status="optimal" if proven else "feasible",
        extras=extras,
    )


def _joined_curve(
    first: list[tuple[float, float]], second: list[tuple[float, float]], offset: float
) -> list[tuple[float, float]]:
    """The anytime curve of both stages: the second shifted by ``offset`` seconds, only
    its points that improve on the best so far."""
    curve = list(first)
    best = max((v for _, v in curve), default=float("-inf"))
    for seconds, value in second:
        if value > best:
            curve.append((offset + seconds, value))
            best = value
    return curve
