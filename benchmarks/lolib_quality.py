"""Gap to best-known of ``solve(matrix, time_limit=T, seed=s)`` on LOLIB RandA1 (n >= 150)
and xLOLIB, for two or more source trees in the same run (issue 17).

Each (instance, seed) is solved once per source tree, each run in its own subprocess
(``PYTHONPATH=<tree>``), one at a time and in alternating order, so that every tree sees
the same machine load. Read the differences between trees, not the seconds.

Splits: ``dev`` (:data:`DEV`) are six instances changes are tried on (seeds 0 and 1,
10 s); ``held-out`` are the other eight, run once a change is decided. Raw outputs:
``benchmarks/results/lolib_quality_second_{dev,heldout}.txt`` (the second search in
another process, :mod:`taskorder.solvers.heuristics.second_search`, against the tree
before it).

Run from the repository root, with the code before a change checked out elsewhere::

    git worktree add --detach /tmp/base17 <commit>
    nice -n 5 .venv/bin/python benchmarks/lolib_quality.py --time-limit 10 --seeds 0,1 \\
        --trees before=/tmp/base17/src,after=src > benchmarks/results/lolib_quality_<x>.txt

One line per run: instance, split, n, seed, tree, value, gap to best-known in %, wall
seconds of ``solve``, ``extras["rounds"]`` (children or kicks) and the arm that ran; then
mean and max gap per tree and split, and per instance the mean over seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import lolib

_ROOT = Path(__file__).resolve().parents[1]

#: The worker run in each subprocess: reads one instance, solves it, prints JSON.
_WORKER = """
import json, sys, time
sys.path.insert(0, {bench!r})
import lolib
from taskorder import TransferMatrix, solve
inst = lolib.best_known()[{name!r}]
weights = inst.weights()
matrix = TransferMatrix([f"t{{i}}" for i in range(weights.shape[0])], weights)
began = time.perf_counter()
result = solve(matrix, time_limit={limit!r}, seed={seed!r})
wall = time.perf_counter() - began
print(json.dumps({{"value": float(result.objective), "wall": wall,
                   "rounds": result.extras.get("rounds"),
                   "arm": str(result.extras.get("local_arm", result.method))[:40]}}))
"""


#: The development split (see the module docstring).
DEV = ("t1d150.01", "t1d200.01", "be75eec_150", "t75d11xx_150", "be75eec_250", "tiw56n67_250")


def split_of(inst: lolib.LolibInstance) -> str:
    """``dev`` (in :data:`DEV`) or ``held-out``."""
    return "dev" if inst.name in DEV else "held-out"


def chosen_instances(names: str | None, split: str) -> list[lolib.LolibInstance]:
    """RandA1 with n >= 150 and xLOLIB, optionally restricted to ``names`` or a split."""
    found = [i for i in lolib.instances("RandA1") if i.n_tasks >= 150]
    found += lolib.instances("xLOLIB")
    if names:
        wanted = set(names.split(","))
        found = [i for i in found if i.name in wanted]
    if split != "all":
        found = [i for i in found if split_of(i) == split]
    return found


def run_one(tree: str, name: str, limit: float, seed: int) -> dict:
    """Solve one instance with the sources under ``tree`` in a fresh interpreter."""
    code = _WORKER.format(bench=str(_ROOT / "benchmarks"), name=name, limit=limit, seed=seed)
    env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(rows: list[tuple], trees: list[str]) -> None:
    """Mean / max gap per tree and split, then per instance the mean gap over seeds."""
    print("# summary: tree split runs mean_gap_% max_gap_% mean_rounds")
    for tree in trees:
        for split in ("dev", "held-out", "all"):
            picked = [r for r in rows if r[4] == tree and split in (r[1], "all")]
            if picked:
                gaps = [r[6] for r in picked]
                rounds = [r[8] or 0 for r in picked]
                print(
                    f"# {tree} {split} {len(picked)} {np.mean(gaps):.4f} {max(gaps):.4f} "
                    f"{np.mean(rounds):.0f}"
                )
    print("# per instance: name " + " ".join(f"{t}_mean_gap_%" for t in trees))
    for name in dict.fromkeys(r[0] for r in rows):
        means = [np.mean([r[6] for r in rows if r[0] == name and r[4] == t]) for t in trees]
        print("# " + name + " " + " ".join(f"{m:.4f}" for m in means))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--trees", default="before=/tmp/base17/src,after=src")
    parser.add_argument("--instances", default=None, help="comma-separated names")
    parser.add_argument("--split", default="all", choices=("all", "dev", "held-out"))
    args = parser.parse_args()
    trees = dict(item.split("=", 1) for item in args.trees.split(","))
    seeds = [int(s) for s in args.seeds.split(",")]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    print(f"# {stamp}  argv: {' '.join(sys.argv[1:])}")
    print(f"# trees: {json.dumps(trees)}")
    print("# instance split n seed tree value gap_% wall_s rounds arm")
    rows, flip = [], False
    for inst in chosen_instances(args.instances, args.split):
        for seed in seeds:
            order = list(trees.items())
            order = order[::-1] if flip else order
            flip = not flip
            for label, tree in order:
                out = run_one(tree, inst.name, args.time_limit, seed)
                gap = 100.0 * (inst.best_known - out["value"]) / inst.best_known
                row = (inst.name, split_of(inst), inst.n_tasks, seed, label, out["value"])
                row += (gap, out["wall"], out["rounds"], out["arm"].split(":")[0])
                rows.append(row)
                print(*row[:6], f"{gap:.4f}", f"{out['wall']:.2f}", *row[8:], flush=True)
    summary(rows, list(trees))


if __name__ == "__main__":
    main()
