"""Solver benchmarks: LOLIB quality, scaling, method thresholds, MIP backends.

Run by hand from the repository root (each section prints a table and writes a CSV
under ``benchmarks/results/``; ``--markdown`` prints the tables for docs/solvers.md)::

    PYTHONPATH=src python benchmarks/solvers.py lolib --families IO --time-limit 60
    PYTHONPATH=src python benchmarks/solvers.py lolib --families RandA1,xLOLIB --time-limit 10
    PYTHONPATH=src python benchmarks/solvers.py scaling --sizes 10,20,50,100,200,500,1000
    PYTHONPATH=src python benchmarks/solvers.py thresholds
    PYTHONPATH=src python benchmarks/solvers.py quality --time-limit 10
    PYTHONPATH=src python benchmarks/solvers.py backends

LOLIB data: ``$TASKORDER_LOLIB`` or ``../shared/benchmarks/lolib`` (see lolib.py).
Timings depend on the machine and on what else runs on it; the numbers in
docs/solvers.md say where they were measured.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import lolib

from taskorder import TransferMatrix, solve

RESULTS = Path(__file__).parent / "results"
#: Instances per family in the default LOLIB sample (all for IO, RandA1, xLOLIB).
SAMPLE = {"IO": None, "SGB": 5, "MB": 6, "RandA1": None, "RandB": 6, "Spec": 8, "xLOLIB": None}


# ------------------------------------------------------------------ helpers
def write_csv(name: str, rows: list[dict]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def print_table(rows: list[dict], markdown: bool) -> None:
    columns = list(rows[0])
    cells = [[_fmt(row[c]) for c in columns] for row in rows]
    if markdown:
        print("| " + " | ".join(columns) + " |")
        print("|" + "|".join("---" for _ in columns) + "|")
        for line in cells:
            print("| " + " | ".join(line) + " |")
        return
    widths = [max(len(c), *(len(line[k]) for line in cells)) for k, c in enumerate(columns)]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for line in cells:
        print("  ".join(v.rjust(w) for v, w in zip(line, widths)))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


def lolib_matrix(weights: np.ndarray) -> TransferMatrix:
    return TransferMatrix([f"t{i}" for i in range(weights.shape[0])], weights)


def generated_matrix(n_tasks: int, seed: int, noise: float = 0.3) -> TransferMatrix:
    """A transfer-like matrix: low-rank interference plus noise, with forward transfer.

    Task ``i`` has a forgettability ``f_i`` and an interference strength ``s_j``;
    similar tasks (random 4-d embeddings) interfere less: ``bwt[i, j] = -f_i s_j (1 -
    sim_ij) / 2 + noise``, ``forward[i, j] = 0.3 s_i sim_ij + noise``. Scores ~ 0.01-0.1.
    """
    rng = np.random.default_rng(seed)
    embedding = rng.normal(size=(n_tasks, 4))
    embedding /= np.linalg.norm(embedding, axis=1, keepdims=True)
    similarity = embedding @ embedding.T
    forgettability = rng.gamma(2.0, 0.02, n_tasks)
    strength = rng.gamma(2.0, 0.5, n_tasks)
    bwt = -np.outer(forgettability, strength) * (1 - similarity) / 2
    bwt += noise * 0.02 * rng.normal(size=(n_tasks, n_tasks))
    forward = 0.3 * 0.02 * strength[:, None] * similarity + noise * 0.01 * rng.normal(
        size=(n_tasks, n_tasks)
    )
    own = rng.uniform(0.3, 0.8, n_tasks)
    return TransferMatrix(
        [f"task{i}" for i in range(n_tasks)], bwt, forward=forward, own_scores=own
    )


# ------------------------------------------------------------------ LOLIB
def pick_instances(families: list[str], sample: bool) -> list[lolib.LolibInstance]:
    chosen = []
    for family in families:
        found = [i for i in lolib.instances(family) if i.best_known is not None]
        count = SAMPLE.get(family) if sample else None
        if count is not None and len(found) > count:
            step = len(found) / count
            found = [found[int(k * step)] for k in range(count)]
        chosen.extend(found)
    return chosen


def run_lolib(args) -> list[dict]:
    rows = []
    for inst in pick_instances(args.families.split(","), not args.all):
        matrix = lolib_matrix(inst.weights())
        result = solve(matrix, method=args.method, time_limit=args.time_limit, seed=args.seed)
        best, random_mean = inst.best_known, result.baselines["random_mean"]
        rank = result.baselines["rank_rule"]
        span = best - random_mean
        rows.append(
            {
                "instance": inst.name,
                "family": inst.family,
                "n": inst.n_tasks,
                "best_known": best,
                "value": round(result.objective),
                "gap_%": 100 * (best - result.objective) / best,
                "at_best": result.objective >= best,
                "proven": result.status == "optimal",
                "bound_gap_%": 100 * (result.gap or 0.0),
                "seconds": round(result.elapsed_s, 2),
                "method": result.method,
                "rank_rule": round(rank),
                "rank_gap_%": 100 * (best - rank) / best,
                "random_mean": round(random_mean),
                "random_gap_%": 100 * (best - random_mean) / best,
                "rank_closes_%": 100 * (rank - random_mean) / span,
                "we_close_%": 100 * (result.objective - random_mean) / span,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def summarise_lolib(rows: list[dict]) -> list[dict]:
    out = []
    for family in dict.fromkeys(r["family"] for r in rows):
        group = [r for r in rows if r["family"] == family]
        seconds = [r["seconds"] for r in group]
        out.append(
            {
                "family": family,
                "instances": len(group),
                "n": f"{min(r['n'] for r in group)}-{max(r['n'] for r in group)}",
                "proven": sum(r["proven"] for r in group),
                "at_best_known": sum(r["at_best"] for r in group),
                "within_0.1%": sum(r["gap_%"] <= 0.1 for r in group),
                "mean_gap_%": statistics.mean(r["gap_%"] for r in group),
                "max_gap_%": max(r["gap_%"] for r in group),
                "median_s": statistics.median(seconds),
                "total_s": sum(seconds),
                "rank_closes_%": statistics.mean(r["rank_closes_%"] for r in group),
                "we_close_%": statistics.mean(r["we_close_%"] for r in group),
            }
        )
    return out


# ------------------------------------------------------------------ scaling
_SCALING_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
from solvers import generated_matrix
from taskorder import solve
m = generated_matrix({n}, {seed})
start = time.perf_counter()
r = solve(m, method={method!r}, time_limit={time_limit})
wall = time.perf_counter() - start
print(json.dumps({{"method": r.method, "status": r.status, "objective": r.objective,
    "bound": r.bound, "gap": r.gap, "rank_rule": r.baselines["rank_rule"],
    "random_mean": r.baselines["random_mean"], "solver_s": r.elapsed_s, "wall_s": wall,
    "anytime_points": len(r.anytime), "first_point_s": r.anytime[0][0] if r.anytime else None,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run_scaling(args) -> list[dict]:
    rows = []
    for n_tasks in (int(s) for s in args.sizes.split(",")):
        code = _SCALING_CHILD.format(
            bench=str(Path(__file__).parent),
            n=n_tasks,
            seed=args.seed,
            method=args.method,
            time_limit=args.time_limit,
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        data = json.loads(out.stdout.strip().splitlines()[-1])
        span = data["objective"] - data["random_mean"]
        rows.append(
            {
                "n": n_tasks,
                "method": data["method"],
                "status": data["status"],
                "objective": data["objective"],
                "gap_to_bound_%": 100 * (data["gap"] or 0.0),
                "rank_closes_%": 100 * (data["rank_rule"] - data["random_mean"]) / span
                if span
                else 100.0,
                "solver_s": round(data["solver_s"], 2),
                "wall_s": round(data["wall_s"], 2),
                "peak_rss_mb": round(data["peak_rss_mb"]),
                "anytime_points": data["anytime_points"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


# ------------------------------------------------------------------ thresholds
DEFAULT_PLAN = [
    ("all_pairs", "dp", [12, 14, 16, 18, 20, 22]),
    ("all_pairs", "ilp", [20, 30, 50, 80, 100, 120]),
    ("all_pairs", "cpsat", [15, 20, 30, 40]),
    ("adjacent", "dp", [10, 12, 13, 14, 16, 18]),
    ("adjacent", "cpsat", [15, 20, 30, 40, 50, 60, 80, 100, 150]),
    ("max_min", "ilp", [10, 15, 20, 30, 40, 50]),
    ("max_min", "cpsat", [10, 15, 20, 30, 40, 60, 80]),
]


def parse_plan(text: str) -> list[tuple[str, str, list[int]]]:
    """``"adjacent:cpsat:80,100;max_min:cpsat:40"`` -> [(objective, method, sizes), ...]."""
    plan = []
    for part in text.split(";"):
        objective, method, sizes = part.split(":")
        plan.append((objective, method, [int(s) for s in sizes.split(",")]))
    return plan


def run_thresholds(args) -> list[dict]:
    """Seconds per method and size on generated matrices (time limit ``args.time_limit``)."""
    plan = parse_plan(args.plan) if args.plan else DEFAULT_PLAN
    rows = []
    for objective, method, sizes in plan:
        for n_tasks in sizes:
            m = generated_matrix(n_tasks, args.seed)
            start = time.perf_counter()
            result = solve(m, method=method, objective=objective, time_limit=args.time_limit)
            rows.append(
                {
                    "objective": objective,
                    "method": method,
                    "n": n_tasks,
                    "status": result.status,
                    "seconds": round(time.perf_counter() - start, 3),
                    "gap_%": round(100 * (result.gap or 0.0), 4),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


# ------------------------------------------------------------------ heuristic quality
def run_quality(args) -> list[dict]:
    """Local search (``--time-limit`` s) against the proven optimum (CP-SAT / MIP, 120 s);
    ``--plan`` (``objective:exact_method:n,n;...``) replaces the default plan."""
    plan = (
        parse_plan(args.plan)
        if args.plan
        else [
            ("adjacent", "cpsat", [30, 60, 100]),
            ("max_min", "cpsat", [20, 40, 60]),
            ("all_pairs", "ilp", [30, 60, 80]),
        ]
    )
    rows = []
    for objective, exact_method, sizes in plan:
        for n_tasks in sizes:
            m = generated_matrix(n_tasks, args.seed)
            exact = solve(m, method=exact_method, objective=objective, time_limit=120)
            local = solve(m, method="local", objective=objective, time_limit=args.time_limit)
            scale = max(abs(exact.objective), 1e-12)
            rows.append(
                {
                    "objective": objective,
                    "n": n_tasks,
                    "exact_method": exact_method,
                    "exact_status": exact.status,
                    "exact_s": round(exact.elapsed_s, 2),
                    "local_s": round(local.elapsed_s, 2),
                    "local_gap_%": 100 * (exact.objective - local.objective) / scale,
                    "rank_gap_%": 100 * (exact.objective - local.baselines["rank_rule"]) / scale,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


# ------------------------------------------------------------------ backends
def run_backends(args) -> list[dict]:
    """HiGHS vs SCIP (our lazy MIP) and CP-SAT (full model) on a few IO instances."""
    from taskorder.solvers import make_problem
    from taskorder.solvers.exact.cpsat import solve_cpsat
    from taskorder.solvers.exact.ilp import solve_ilp
    from taskorder.solvers.problem import Constraints

    bk = lolib.best_known()
    rows = []
    for name in args.instances.split(","):
        inst = bk[name]
        matrix = lolib_matrix(inst.weights())
        problem = make_problem(matrix, "all_pairs", Constraints.from_names(matrix))
        runs = [
            (
                "MathOpt HiGHS, LP cuts + lazy",
                lambda problem=problem: solve_ilp(problem, time_limit=args.time_limit),
            ),
            (
                "MathOpt SCIP, LP cuts + lazy",
                lambda problem=problem: solve_ilp(
                    problem, time_limit=args.time_limit, backend="scip"
                ),
            ),
            (
                "CP-SAT, full 3-cycle model",
                lambda problem=problem: solve_cpsat(problem, time_limit=args.time_limit),
            ),
        ]
        for label, run in runs:
            start = time.perf_counter()
            solution = run()
            rows.append(
                {
                    "instance": name,
                    "n": inst.n_tasks,
                    "solver": label,
                    "status": solution.status,
                    "value": round(solution.value),
                    "best_known": inst.best_known,
                    "seconds": round(time.perf_counter() - start, 2),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "section", choices=["lolib", "scaling", "thresholds", "quality", "backends"]
    )
    parser.add_argument("--families", default="IO,SGB,MB,RandA1,RandB,Spec,xLOLIB")
    parser.add_argument("--all", action="store_true", help="every instance, not the sample")
    parser.add_argument("--method", default="auto")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--sizes", default="10,20,50,100,200,500,1000")
    parser.add_argument("--instances", default="t59b11xx,be75np,stabu70,usa79")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plan", default="", help="thresholds: objective:method:n,n;...")
    parser.add_argument("--tag", default="", help="suffix of the CSV file name")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    runner = {
        "lolib": run_lolib,
        "scaling": run_scaling,
        "thresholds": run_thresholds,
        "quality": run_quality,
        "backends": run_backends,
    }[args.section]
    rows = runner(args)
    name = args.section + (f"_{args.tag}" if args.tag else "")
    print(f"\nwrote {write_csv(name, rows)}")
    print_table(rows, args.markdown)
    if args.section == "lolib":
        summary = summarise_lolib(rows)
        print(f"wrote {write_csv(name + '_summary', summary)}")
        print_table(summary, args.markdown)


if __name__ == "__main__":
    main()
