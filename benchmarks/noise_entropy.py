"""Noise-aware ordering checked in reality on the built-in learner.

Run::

    python benchmarks/noise_entropy.py --split heldout --mode exact
    python benchmarks/noise_entropy.py --split heldout --mode sampled

Worlds: the rule of ``benchmarks/evidence.py`` (``SPLITS``, ``world_spec``; the built-in
GRPO-like learner with its default configuration). Per world a probe campaign with 3
repeats gives the backward-transfer matrix with standard errors (from the repeats). Then
the point-estimate optimum (``solve``) and the risk-averse choice (``solve(..., risk="quantile")``,
``risk="quantile"``, 10 % quantile, 200 draws) are compared: the probability that the
point order is optimal under the draws, whether the two orders differ, and both orders
trained with ``--seeds`` seeds: realised mean final score and worst seed.

Raw output, one row per world: ``benchmarks/results/noise_entropy_<split>_<mode>.csv``;
``benchmarks/report.py`` renders the summary. (Entropy floors are measured by
``benchmarks/replan.py --floors``, with floors set independently of every method.)
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from evidence import RESULTS, SPLITS, world_spec

from taskorder import solve
from taskorder.estimate import make_plan, run_campaign
from taskorder.estimate.curricula import run_curricula
from taskorder.learner import LEARNER_VERSION, make_learner

FIELDS = [
    "split",
    "mode",
    "world",
    "n_structured",
    "n_open",
    "seeds",
    "p_optimal_point",
    "same_order",
    "point_order",
    "point_mean",
    "point_worst",
    "quantile_order",
    "quantile_mean",
    "quantile_worst",
    "learner_version",
]


def realised(runner, order, seeds: int, steps: int) -> np.ndarray:
    runs = run_curricula(runner, [order], seeds=seeds, steps=steps, seed=4242)
    return np.array([np.mean(list(run.final.values())) for run in runs])


def run_world(world: int, mode: str, seeds: int) -> dict:
    n_s, n_o = world_spec(world)
    runner = make_learner(n_s, n_o, seed=world, mode=mode)
    steps = runner.config.stage_steps
    with tempfile.TemporaryDirectory() as folder:
        plan = make_plan(runner.tasks, repeats=3, steps=steps, seed=world)
        estimate = run_campaign(runner, plan, folder).estimate
    scores = estimate.matrix.replace(forward=None, forward_stderr=None)
    point = solve(scores)
    careful = solve(scores, risk="quantile", quantile=0.1, n_samples=200, seed=world)
    p_point = next(
        (
            c.p_optimal
            for c in careful.robustness.candidates
            if tuple(c.order) == tuple(point.order)
        ),
        0.0,
    )
    point_means = realised(runner, point.order, seeds, steps)
    careful_means = (
        point_means
        if careful.order == point.order
        else realised(runner, careful.order, seeds, steps)
    )
    return {
        "world": world,
        "n_structured": n_s,
        "n_open": n_o,
        "seeds": seeds,
        "p_optimal_point": float(p_point),
        "same_order": careful.order == point.order,
        "point_order": " > ".join(point.order),
        "point_mean": float(point_means.mean()),
        "point_worst": float(point_means.min()),
        "quantile_order": " > ".join(careful.order),
        "quantile_mean": float(careful_means.mean()),
        "quantile_worst": float(careful_means.min()),
        "learner_version": LEARNER_VERSION,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="heldout", choices=list(SPLITS))
    parser.add_argument("--mode", default="exact", choices=["exact", "sampled"])
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    out = RESULTS / f"noise_entropy_{args.split}_{args.mode}.csv"
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for world in SPLITS[args.split]:
            row = {
                "split": args.split,
                "mode": args.mode,
                **run_world(world, args.mode, args.seeds),
            }
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
            handle.flush()
            print(
                f"world {world}: P(point optimal) {row['p_optimal_point']:.2f}, same order "
                f"{row['same_order']}",
                flush=True,
            )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
