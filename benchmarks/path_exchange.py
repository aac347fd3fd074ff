"""Segment exchange in the ``adjacent`` local search: before / after and LKH (issue 17).

``solve(matrix, objective="adjacent", method="local", time_limit=T, seed=s)`` with the
or-opt neighbourhood alone (``EXCHANGE_MAX_TASKS = 0``, the search before) and with
segment exchanges at any size, one after the other in the same process, plus LKH
through ``elkai`` where importable and n <= 300 (an optional peer, not a dependency; it
takes minutes beyond). The neighbourhood and its size limit
(:data:`~taskorder.solvers.heuristics.path_search.EXCHANGE_MAX_TASKS`) were chosen on the
``dev`` instances (generated n = 200 with matrix seeds 0 and 1, n = 500, 1,000 and 2,000
with seed 0); ``held-out`` (generated n = 150 and 300, LOLIB RandA1 t1d150.01) was run once
after. ``wall`` shows the deadline kept.

Run from the repository root::

    PYTHONPATH=src nice -n 5 python benchmarks/path_exchange.py --time-limit 10 \\
        > benchmarks/results/path_exchange.txt

One JSON line per run (value, gap to the best value of the instance in the run, in %),
then per split and variant the mean and largest gap and the wins against or-opt alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from peers import instance, lkh_path

from taskorder import solve
from taskorder.objectives import order_value
from taskorder.solvers.heuristics import path_search

DEV = (
    ("generated", "200", 0),
    ("generated", "200", 1),
    ("generated", "500", 0),
    ("generated", "1000", 0),
    ("generated", "2000", 0),
)
#: LKH (elkai has no time limit) only up to this size.
LKH_MAX_TASKS = 300
HELD_OUT = (("generated", "150", 2), ("generated", "300", 3), ("RandA1", "t1d150.01", 0))


def runs(time_limit: float, seeds: list[int]) -> list[dict]:
    rows = []
    default = path_search.EXCHANGE_MAX_TASKS
    for split, cases in (("dev", DEV), ("held-out", HELD_OUT)):
        for family, name, matrix_seed in cases:
            matrix, _ = instance(family, name, matrix_seed)
            weights = matrix.pair_weights()
            found = []
            for seed in seeds:
                for variant, limit in (("or-opt", 0), ("exchange", 10**9)):
                    path_search.EXCHANGE_MAX_TASKS = limit
                    began = time.perf_counter()
                    result = solve(
                        matrix,
                        objective="adjacent",
                        method="local",
                        time_limit=time_limit,
                        seed=seed,
                    )
                    wall = time.perf_counter() - began
                    value = order_value(weights, matrix.order_indices(result.order), "adjacent")
                    found.append({"variant": variant, "seed": seed, "value": value, "wall": wall})
            path_search.EXCHANGE_MAX_TASKS = default
            began = time.perf_counter()
            order = lkh_path(weights, time_limit) if matrix.n_tasks <= LKH_MAX_TASKS else None
            if order is not None:
                value = order_value(weights, order, "adjacent")
                wall = time.perf_counter() - began
                found.append({"variant": "lkh", "seed": None, "value": value, "wall": wall})
            best = max(row["value"] for row in found)
            for row in found:
                row.update(split=split, instance=f"{family}:{name}:{matrix_seed}")
                row["gap_%"] = 100 * (best - row["value"]) / abs(best)
                print(json.dumps(row), flush=True)
            rows.extend(found)
    return rows


def summary(rows: list[dict]) -> None:
    print("\n# split variant runs mean_gap_% max_gap_% better_than_or_opt")
    for split in ("dev", "held-out"):
        mine = [r for r in rows if r["split"] == split]
        or_opt = {(r["instance"], r["seed"]): r["value"] for r in mine if r["variant"] == "or-opt"}
        for variant in ("or-opt", "exchange", "lkh"):
            chosen = [r for r in mine if r["variant"] == variant]
            if not chosen:
                continue
            gaps = [r["gap_%"] for r in chosen]
            wins = sum(
                r["value"] > or_opt[(r["instance"], r["seed"])]
                for r in chosen
                if variant == "exchange"
            )
            print(
                f"{split} {variant} {len(chosen)} {sum(gaps) / len(gaps):.3f} {max(gaps):.3f} "
                + (f"{wins}/{len(chosen)}" if variant == "exchange" else "-")
            )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}  argv: {' '.join(sys.argv[1:])}")
    print(f"# default EXCHANGE_MAX_TASKS = {path_search.EXCHANGE_MAX_TASKS}")
    summary(runs(args.time_limit, [int(s) for s in args.seeds.split(",")]))


if __name__ == "__main__":
    main()
