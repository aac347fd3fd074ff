"""How ``method="auto"`` picks a solver (thresholds measured in docs/solvers.md).

The rule, by objective (``n`` tasks), from ``benchmarks/solvers.py thresholds`` on
generated transfer-like matrices and LOLIB (2 shared cores):

``all_pairs``
    ``n <= 16``: ``dp`` (0.13 s at 16; 0.6 s at 18, 2.4 s at 20). ``n <= 60``: ``ilp``
    (0.08-1.2 s at n = 30-50; proves all 50 LOLIB IO matrices, n = 44-79). ``n <= 100``:
    ``ilp`` if the time limit is unset or at least :data:`ILP_LARGE_MIN_SECONDS` (9.6 s
    at n = 80; LOLIB SGB n = 75 needs ~35 s; at n = 100 random-like data stops at the
    limit with a ~0.1 % gap), else ``local``, which finds better orders than a MIP cut
    short at those sizes. Larger: ``local``. CP-SAT's full 3-cycle model already fails
    at n = 30, so it is not used here.
``adjacent``
    ``n <= 13``: ``dp`` (0.01 s). ``n <= 100``: ``cpsat`` circuit model (0.4 s at 30,
    3.4 s at 60, 18-25 s at 80-100; 46 s at 150). Larger: ``local``.
``max_min``
    ``n <= 60``: ``cpsat`` (0.6 s at 30, 4.9 s at 60; no proof at 80 in 60 s). The MIP's
    LP relaxation is weak for max-min (no proof at n = 30 in 30 s). Larger: ``local``.

Above the DP's range, ``all_pairs`` also looks at the **slack share** of the instance
(:func:`slack_share`): how much of the room between a random order and the pairwise
bound a quick insertion descent leaves open. Measured on LOLIB (n <= 100): input-output
0.03-0.12, MB 0.27-0.29, SGB 0.54-0.56, RandB 0.45-0.61, RandA1 0.70-0.72. The MIP proves
the low-slack instances in about a second, but at 5-10 s it proved no RandB instance and
its answer was worse than local search's (benchmarks/results/portfolio_before.txt). So:
slack share >= :data:`SLACK_LOCAL_SHORT` with a time limit under
:data:`ILP_LARGE_MIN_SECONDS` goes to ``local``; slack share >= :data:`SLACK_LOCAL` goes
to ``local`` at any limit (RandA1 t1d100.03 at 30 s: MIP route 0.19 % short, local 0 %).
For ``n = 61-100`` with a limit under :data:`ILP_LARGE_MIN_SECONDS`, a slack share under
:data:`SLACK_PORTFOLIO` (input-output, Spec econ, RandA2: 0.03-0.16; MB 0.27-0.29, SGB
0.54-0.56) goes to ``portfolio`` (:mod:`taskorder.solvers.portfolio`: the MIP and the
local search share the limit) instead of local search alone: usa79 is proven in
seconds there, where local search reached the same value unproven
(benchmarks/results/portfolio_route_10s.txt). The LP gap after the first cut rounds was
measured as a feature too (benchmarks/results/portfolio_route_lp_gap.txt) and is not
cheap: three incremental rounds took 1.5 s on usa79, 9 s on sgb75.01, 25 s on r100b2 and
61 s on t1d100.03; it is as small on SGB and MB (0.002-0.006 of the random-to-bound room),
which the MIP does not prove in 10 s, as on usa79 (0.004), so it does not tell "proven
soon" from "not".

The MIP always uses lazy 3-cycle rows: the full 3-cycle model (``solve_ilp(...,
rows="full")``) was slower on every MB-like matrix measured (leading 50-85 task blocks
of LOLIB MB r100a2-e2, 60 s limit: 1.2-6.0 times the lazy route's time where it proved
the block at all, 6 of 8 proved against 8 of 8; benchmarks/results/portfolio_mb_routes.txt),
so no instance is routed to it.

A time limit shorter than the DP needs at the largest sizes (:data:`DP_SECONDS`) moves
the choice on to the next method. When ``solve`` is called without a time limit, the
MIP, CP-SAT and local search get :data:`AUTO_TIME_LIMIT` seconds.
"""

from __future__ import annotations

from taskorder.solvers.problem import Problem

__all__ = [
    "AUTO_TIME_LIMIT",
    "DP_SECONDS",
    "ILP_LARGE_MIN_SECONDS",
    "ILP_SMALL_MAX_TASKS",
    "SLACK_LOCAL",
    "SLACK_LOCAL_SHORT",
    "SLACK_PORTFOLIO",
    "THRESHOLDS",
    "choose_method",
    "slack_share",
]

#: Slack share from which a time limit under ILP_LARGE_MIN_SECONDS goes to local search.
SLACK_LOCAL_SHORT = 0.3
#: Slack share from which every time limit goes to local search (RandA1-like data).
SLACK_LOCAL = 0.65
#: Below this slack share, n = 61-100 with a limit under ILP_LARGE_MIN_SECONDS goes to the
#: portfolio (MIP first, then local search) instead of local search alone: input-output
#: 0.03-0.14 and Spec econ 0.05-0.16 below it, MB 0.27-0.29 above it.
SLACK_PORTFOLIO = 0.2


def slack_share(problem: Problem) -> float:
    """``(bound - descent) / (bound - random mean)``: the share of the room between a
    random order and the pairwise bound that a quick insertion descent leaves open
    (``all_pairs``; O(n^2) per sweep, milliseconds at n = 100)."""
    from taskorder.solvers.heuristics.local_search import (
        cheap_upper_bound,
        constructive_starts,
        quick_descent,
    )

    weights = problem.weights
    bound = cheap_upper_bound(problem)
    random_mean = 0.5 * float(weights.sum() - weights.trace())
    room = bound - random_mean
    if room <= 1e-12 * max(1.0, abs(bound)):
        return 0.0
    value = problem.value(quick_descent(problem, constructive_starts(problem)))
    return float((bound - value) / room)


#: Largest n for each (objective, method) that "auto" sends to that method.
THRESHOLDS: dict[str, dict[str, int]] = {
    "all_pairs": {"dp": 16, "ilp": 100},
    "adjacent": {"dp": 13, "cpsat": 100},
    "max_min": {"cpsat": 60},
}

#: Above this many tasks (all_pairs), "auto" uses the MIP only with a time limit of at
#: least ILP_LARGE_MIN_SECONDS (or none).
ILP_SMALL_MAX_TASKS = 60
ILP_LARGE_MIN_SECONDS = 30.0

#: Time budget "auto" gives a method when the caller sets none.
AUTO_TIME_LIMIT: dict[str, float] = {"ilp": 60.0, "cpsat": 60.0, "local": 10.0}

#: Measured subset-DP seconds (2 cores) at the largest n "auto" uses it for.
DP_SECONDS: dict[str, float] = {"all_pairs": 0.3, "adjacent": 0.3}


def choose_method(problem: Problem, time_limit: float | None) -> tuple[str, str]:
    """The method ``"auto"`` uses for ``problem`` and why, as ``(method, reason)``.

    Examples
    --------
    >>> import numpy as np
    >>> from taskorder.solvers.problem import Constraints, Problem
    >>> problem = Problem(np.zeros((50, 50)), "all_pairs", Constraints(50, predecessors=(0,) * 50))
    >>> choose_method(problem, None)[0], choose_method(problem, 0.5)[0]
    ('ilp', 'ilp')
    >>> choose_method(Problem(np.zeros((500, 500)), "adjacent",
    ...                       Constraints(500, predecessors=(0,) * 500)), None)[0]
    'local'
    """
    n_tasks, objective = problem.n_tasks, problem.objective
    limits = THRESHOLDS[objective]
    dp_max = limits.get("dp")
    dp_in_time = time_limit is None or time_limit >= DP_SECONDS.get(objective, 0.0)
    if dp_max is not None and n_tasks <= dp_max and (dp_in_time or n_tasks <= dp_max - 4):
        return "dp", (
            f"n = {n_tasks} <= {dp_max}: the subset DP proves the optimum in well under a second"
        )
    if objective == "all_pairs" and n_tasks <= limits["ilp"]:
        short = time_limit is not None and time_limit < ILP_LARGE_MIN_SECONDS
        slack = slack_share(problem)
        if slack >= SLACK_LOCAL or (short and slack >= SLACK_LOCAL_SHORT):
            return "local", (
                f"n = {n_tasks}, slack share {slack:.2f} (random-like data"
                + (f", {time_limit:g} s limit" if short else "")
                + "): the MIP would not prove it in time and local search finds better "
                "orders (no proof; cheap bound reported)"
            )
    for method in ("ilp", "cpsat"):
        if method in limits and n_tasks <= limits[method]:
            if (
                method == "ilp"
                and n_tasks > ILP_SMALL_MAX_TASKS
                and time_limit is not None
                and time_limit < ILP_LARGE_MIN_SECONDS
            ):
                slack = slack_share(problem)
                if slack < SLACK_PORTFOLIO:
                    return "portfolio", (
                        f"n = {n_tasks} with a {time_limit:g} s limit, slack share {slack:.2f} "
                        "(input-output-like data): the MIP and a local search share the "
                        "limit; the best order either finds is returned with the MIP's bound"
                    )
                return "local", (
                    f"n = {n_tasks} with a {time_limit:g} s limit: a MIP of this size needs "
                    f"about {ILP_LARGE_MIN_SECONDS:g} s to prove anything, so anytime local "
                    "search (no proof; cheap bound reported)"
                )
            what = {
                ("ilp", "all_pairs"): "the MIP with lazy 3-cycle rows proves real matrices of "
                "this size optimal in seconds",
                ("cpsat", "max_min"): "CP-SAT proves max-min orders of this size in seconds",
                ("cpsat", "adjacent"): "CP-SAT's circuit model proves paths of this size "
                "optimal in seconds to tens of seconds",
            }[method, objective]
            return method, (
                f"n = {n_tasks} <= {limits[method]} ({objective}): {what}; on its time limit "
                "it returns the best order found with a bound"
            )
    return "local", (
        f"n = {n_tasks} is beyond the exact methods' measured range for {objective}: "
        "anytime local search (no proof; cheap bound reported)"
    )
