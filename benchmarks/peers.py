"""taskorder against its peers, same process, same time limit, per instance family.

Every peer gets the same time limit and seed, one after the other in this process, so
the load of a shared machine hits them alike: read the ratios and gap differences, not
the seconds.

``all_pairs`` (linear ordering) peers:

- ``taskorder``: ``solve(matrix, time_limit=T)`` (method auto: MIP or local search).
- ``afternoon``: the restarted insertion local search of ``portfolio.py``
  (:func:`portfolio.baseline_search`, numpy only, independent of the package).
- ``ils``: the package's iterated insertion search alone (:func:`portfolio.ils_search`).
- ``full_mip``: the plain HiGHS MIP with every 3-cycle row in the model from the start
  (``solve_ilp(rows="full")``), for n <= 100 (the row count grows as n^3).

``adjacent`` (best path) peers, on a smaller sample:

- ``taskorder``: ``solve(matrix, objective="adjacent", time_limit=T)``.
- ``ortools_gls``: OR-tools routing (a dummy depot makes the open path a tour), first
  solution by cheapest arc, then guided local search until ``T``.
- ``lkh``: LKH through ``elkai`` where that package is importable (an optional peer,
  never a dependency of taskorder: LKH's licence is non-commercial); skipped otherwise.

Columns: ``gap_%`` is the distance to the LOLIB best-known value (``all_pairs``), else to
the best value any peer found in this run; ``ratio`` is the peer's value over
taskorder's (above 1: the peer is ahead; for objectives below zero, below 1); ``wall_s``
is the peer's wall time. The summary counts, per family and peer, the instances where
taskorder's value is below the peer's.

Run from the repository root (about 10 minutes on 2 shared cores)::

    PYTHONPATH=src nice -n 5 python benchmarks/peers.py --time-limit 10 \\
        > benchmarks/results/peers.txt
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import lolib
from portfolio import baseline_search, ils_search
from solvers import generated_matrix, lolib_matrix

from taskorder import solve

#: The representative subset per family (the instances issue 17 quotes where it names
#: them, else the first and the largest of the family): name -> family.
ALL_PAIRS_SAMPLE = {
    "IO": ("be75np", "usa79"),
    "SGB": ("sgb75.01",),
    "MB": ("r100b2",),
    "RandB": ("p40-05", "p50-02", "p50-15"),
    "RandA1": ("t1d100.03", "t1d150.01"),
    "xLOLIB": ("tiw56n67_150", "tiw56n67_250"),
    "generated": ("500", "1000", "2000"),
}
ADJACENT_SAMPLE = {"RandB": ("p50-02",), "RandA1": ("t1d100.03",), "generated": ("200",)}
#: Largest n the full 3-cycle MIP is run for.
FULL_MIP_MAX_TASKS = 100


def instance(family: str, name: str, seed: int):
    """``(matrix, best_known)``; generated instances have no best-known value."""
    if family == "generated":
        return generated_matrix(int(name), seed), None
    inst = lolib.best_known()[name]
    return lolib_matrix(inst.weights()), inst.best_known


def full_mip(weights: np.ndarray, time_limit: float) -> tuple[float, str]:
    """The plain full 3-cycle MIP (HiGHS): value and status."""
    from taskorder.solvers.exact.ilp import solve_ilp
    from taskorder.solvers.problem import Constraints, Problem

    n_tasks = weights.shape[0]
    problem = Problem(weights, "all_pairs", Constraints(n_tasks, predecessors=(0,) * n_tasks))
    solution = solve_ilp(problem, time_limit=time_limit, rows="full")
    return solution.value, solution.status


def ortools_path(weights: np.ndarray, time_limit: float) -> list[int]:
    """Best open path by OR-tools routing with guided local search (``time_limit`` s)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n_tasks = weights.shape[0]
    scale = 1.0 if np.allclose(weights, np.round(weights)) else 1e6
    cost = np.zeros((n_tasks + 1, n_tasks + 1), dtype=np.int64)  # node n: the depot
    cost[:n_tasks, :n_tasks] = np.round(scale * (weights.max() - weights)).astype(np.int64)
    np.fill_diagonal(cost, 0)
    manager = pywrapcp.RoutingIndexManager(n_tasks + 1, 1, n_tasks)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(cost.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    parameters.time_limit.FromMilliseconds(int(1000 * time_limit))
    assignment = routing.SolveWithParameters(parameters)
    order, index = [], routing.Start(0)
    while not routing.IsEnd(index):
        node = manager.IndexToNode(index)
        if node != n_tasks:
            order.append(node)
        index = assignment.Value(routing.NextVar(index))
    return order


def lkh_path(weights: np.ndarray, time_limit: float) -> list[int] | None:
    """Best open path by LKH (``elkai``), or None when elkai is not importable.

    elkai takes no time limit; it runs its default number of trials. LKH works on
    integer costs, so fractional weights are scaled to integers up to 10^6 first.
    """
    try:
        import elkai
    except ImportError:
        return None
    n_tasks = weights.shape[0]
    cost = np.zeros((n_tasks + 1, n_tasks + 1))
    cost[:n_tasks, :n_tasks] = weights.max() - weights
    np.fill_diagonal(cost, 0.0)
    if not np.array_equal(cost, np.round(cost)) and cost.max() > 0:
        cost = np.round(cost * (1e6 / cost.max()))
    tour = elkai.DistanceMatrix(cost.astype(np.int64).tolist()).solve_tsp()
    start = tour.index(n_tasks)
    tour = tour[start + 1 :] + tour[:start]
    return [t for t in tour if t != n_tasks]


def _row(family, name, n_tasks, peer, value, wall, status="", best=None) -> dict:
    return {
        "objective": "",
        "family": family,
        "instance": name,
        "n": n_tasks,
        "peer": peer,
        "value": value,
        "status": status,
        "wall_s": round(wall, 2),
        "best_known": best,
    }


def all_pairs_rows(time_limit: float, seed: int, families: list[str]) -> list[dict]:
    rows = []
    for family in families:
        for name in ALL_PAIRS_SAMPLE[family]:
            matrix, best = instance(family, name, seed)
            weights, n_tasks = matrix.pair_weights(), matrix.n_tasks
            found = []
            started = time.perf_counter()
            result = solve(matrix, time_limit=time_limit, seed=seed)
            wall = time.perf_counter() - started
            status = f"{result.method}/{result.status}"
            found.append(_row(family, name, n_tasks, "taskorder", result.objective, wall, status))
            for peer, run in (("afternoon", baseline_search), ("ils", ils_search)):
                started = time.perf_counter()
                value = run(weights, time_limit, seed)
                found.append(
                    _row(family, name, n_tasks, peer, value, time.perf_counter() - started)
                )
            if n_tasks <= FULL_MIP_MAX_TASKS:
                started = time.perf_counter()
                value, status = full_mip(weights, time_limit)
                wall = time.perf_counter() - started
                found.append(_row(family, name, n_tasks, "full_mip", value, wall, status))
            rows.extend(_finish(found, "all_pairs", best))
    return rows


def adjacent_rows(time_limit: float, seed: int) -> list[dict]:
    from taskorder.objectives import order_value

    rows = []
    for family, names in ADJACENT_SAMPLE.items():
        for name in names:
            matrix, _ = instance(family, name, seed)
            weights, n_tasks = matrix.pair_weights(), matrix.n_tasks
            found = []
            started = time.perf_counter()
            result = solve(matrix, objective="adjacent", time_limit=time_limit, seed=seed)
            wall = time.perf_counter() - started
            status = f"{result.method}/{result.status}"
            ours = order_value(weights, matrix.order_indices(result.order), "adjacent")
            assert abs(ours - result.objective) <= 1e-6 * max(1.0, abs(ours)), (ours, result)
            found.append(_row(family, name, n_tasks, "taskorder", ours, wall, status))
            for peer, run in (("ortools_gls", ortools_path), ("lkh", lkh_path)):
                started = time.perf_counter()
                order = run(weights, time_limit)
                wall = time.perf_counter() - started
                if order is None:
                    print(f"# {peer}: not importable here, skipped", flush=True)
                    continue
                value = order_value(weights, order, "adjacent")
                found.append(_row(family, name, n_tasks, peer, value, wall))
            rows.extend(_finish(found, "adjacent", None))
    return rows


def _finish(found: list[dict], objective: str, best_known) -> list[dict]:
    """Gaps (to the best-known, else the best of this run) and ratios to taskorder."""
    reference = best_known if best_known is not None else max(r["value"] for r in found)
    ours = found[0]["value"]
    for row in found:
        row["objective"] = objective
        row["best_known"] = best_known
        row["gap_%"] = 100 * (reference - row["value"]) / abs(reference)
        row["ratio"] = row["value"] / ours if ours else float("nan")
        print(json.dumps(row), flush=True)
    return found


def summary(rows: list[dict]) -> None:
    """Per objective, family and peer: mean gap and taskorder's losses to that peer."""
    print("\n# objective family peer instances mean_gap_% max_gap_% taskorder_behind proven")
    keys = dict.fromkeys((r["objective"], r["family"], r["peer"]) for r in rows)
    for objective, family, peer in keys:
        mine = [
            r for r in rows if (r["objective"], r["family"], r["peer"]) == (objective, family, peer)
        ]
        ours = {
            r["instance"]: r["value"]
            for r in rows
            if (r["objective"], r["family"], r["peer"]) == (objective, family, "taskorder")
        }
        tolerance = 1e-9
        behind = sum(
            ours[r["instance"]] < r["value"] - tolerance * max(1.0, abs(r["value"])) for r in mine
        )
        proven = sum("optimal" in r["status"] for r in mine)
        gaps = [r["gap_%"] for r in mine]
        print(
            objective,
            family,
            peer,
            len(mine),
            f"{np.mean(gaps):.4f}",
            f"{np.max(gaps):.4f}",
            "-" if peer == "taskorder" else behind,
            proven,
            flush=True,
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--families", default=",".join(ALL_PAIRS_SAMPLE))
    parser.add_argument("--no-adjacent", action="store_true")
    args = parser.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  argv: {' '.join(sys.argv[1:])}")
    print(f"# sample: {json.dumps(ALL_PAIRS_SAMPLE)}; adjacent: {json.dumps(ADJACENT_SAMPLE)}")
    families = [name for name in args.families.split(",") if name]  # "": adjacent only
    rows = all_pairs_rows(args.time_limit, args.seed, families)
    if not args.no_adjacent:
        rows += adjacent_rows(args.time_limit, args.seed)
    summary(rows)


if __name__ == "__main__":
    main()
