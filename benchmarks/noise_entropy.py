"""Noise-aware and entropy-aware orders, checked in reality on the built-in learner.

Run: python benchmarks/noise_entropy.py [--mode sampled] [--worlds 0 1 2] [--seeds 6]

Per learner world (2 structured + 3 open-ended tasks): a probe campaign with 3 repeats gives
the score matrix with standard errors and the entropy matrix. Then
1. noise: the point-estimate optimum vs the risk-averse choice (``risk="quantile"``, 10 %),
   both trained with ``--seeds`` seeds: realised mean final score and worst seed;
2. entropy: a floor on the open task whose predicted final entropy is lowest under the
   unconstrained optimum, set halfway to the best reachable value; the floored order is
   trained and its measured final entropy compared with the floor.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np

from taskorder import solve
from taskorder.entropy import entropy_floors
from taskorder.estimate import make_plan, run_campaign
from taskorder.estimate.curricula import run_curricula
from taskorder.learner import make_learner
from taskorder.robust import solve_robust


def realised(runner, order, seeds, steps):
    runs = run_curricula(runner, [order], seeds=seeds, steps=steps, seed=4242)
    means = np.array([np.mean(list(run.final.values())) for run in runs])
    entropy = {task: float(np.mean([run.entropy[-1][run.tasks.index(task)] for run in runs]))
               for task in runner.tasks}
    return means, entropy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="sampled")
    parser.add_argument("--worlds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seeds", type=int, default=6)
    args = parser.parse_args()
    print(f"mode={args.mode}, seeds={args.seeds}")
    for world in args.worlds:
        runner = make_learner(2, 3, seed=world, mode=args.mode)
        steps = runner.config.stage_steps
        with tempfile.TemporaryDirectory() as folder:
            estimate = run_campaign(runner, make_plan(runner.tasks, repeats=3, steps=steps, seed=world), folder).estimate
        scores = estimate.matrix.replace(forward=None, forward_stderr=None)
        point = solve(scores)
        careful = solve_robust(scores, risk="quantile", quantile=0.1, n_samples=200, seed=world)
        p_mean, _ = realised(runner, point.order, args.seeds, steps)
        r_mean, _ = realised(runner, careful.order, args.seeds, steps)
        print(f"world {world}: P(point order optimal) = {careful.extras['candidates'][0]['p_optimal'] if careful.order == point.order else next(c['p_optimal'] for c in careful.extras['candidates'] if tuple(c['order']) == point.order):.2f}")
        print(f"  point  {' > '.join(point.order)}: realised mean {p_mean.mean():.4f}, worst seed {p_mean.min():.4f}")
        print(f"  q10    {' > '.join(careful.order)}: realised mean {r_mean.mean():.4f}, worst seed {r_mean.min():.4f}"
              f"{'  (same order)' if careful.order == point.order else ''}")
        entropy = estimate.entropy
        free = solve(scores, entropy=entropy)
        predicted = free.extras["predicted_entropy"]
        open_tasks = [t for t in runner.tasks if t.startswith("open")]
        task = min(open_tasks, key=predicted.get)
        best = entropy_floors(entropy, {task: -1e9})[0].best_possible()
        floor = (predicted[task] + best) / 2
        floored = solve(scores, entropy=entropy, entropy_floor={task: floor})
        _, measured_free = realised(runner, free.order, args.seeds, steps)
        f_mean, measured = realised(runner, floored.order, args.seeds, steps)
        print(f"  entropy floor {task} >= {floor:.3f}: free order predicted {predicted[task]:.3f}, "
              f"measured {measured_free[task]:.3f}; floored order {' > '.join(floored.order)} predicted "
              f"{floored.extras['predicted_entropy'][task]:.3f}, measured {measured[task]:.3f} "
              f"({'respected' if measured[task] >= floor else 'NOT respected'}); score cost "
              f"{p_mean.mean() - f_mean.mean():+.4f}")


if __name__ == "__main__":
    main()
