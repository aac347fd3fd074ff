"""How well do the entropy models predict final entropies? (built-in learner, all orders)

Run: python benchmarks/entropy_models.py [--mode exact|sampled] [--worlds 0 1 2 3 4 5]

For each world (2 structured + 3 open tasks, one shared starting model) one full probe
campaign gives the entropy transfer matrix; every one of the 120 orders is then trained
(one seed) and each open task's measured final entropy is compared with the prediction of

- additive: ``own + later bwt + earlier forward`` (taskorder.entropy, model="additive");
- additive, no forward: the same without forward transfer;
- multiplicative: ``own * prod (own + bwt) / own`` over later stages (model="multiplicative").

Reported per model over (world, open task) cells: Spearman between predicted and measured
final entropy across orders (median / mean), mean absolute error in nats, and the share of
predictions below zero (impossible).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).parent))
from replan import FixedStart

from taskorder.entropy import predict_entropy
from taskorder.estimate import make_plan, run_campaign, run_curricula
from taskorder.learner import make_learner


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="exact", choices=["exact", "sampled"])
    parser.add_argument("--worlds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    args = parser.parse_args()
    models = {
        "additive": lambda e, o: predict_entropy(e, o),
        "additive, no forward": lambda e, o: predict_entropy(e.replace(forward=None), o),
        "multiplicative": lambda e, o: predict_entropy(e, o, model="multiplicative"),
    }
    cells: dict[str, list[tuple[float, float, float]]] = {name: [] for name in models}
    for world in args.worlds:
        base = FixedStart(make_learner(2, 3, seed=world, mode=args.mode))
        steps = base.runner.config.stage_steps
        with tempfile.TemporaryDirectory() as folder:
            plan = make_plan(base.tasks, steps=steps, seed=world)
            entropy = run_campaign(base, plan, folder).estimate.entropy
        runs = run_curricula(base, list(itertools.permutations(base.tasks)), seeds=1,
                             steps=steps, seed=1)
        for task in [t for t in base.tasks if t.startswith("open")]:
            column = base.tasks.index(task)
            measured = np.array([run.entropy[-1, column] for run in runs])
            for name, model in models.items():
                predicted = np.array([model(entropy, run.order)[task] for run in runs])
                cells[name].append((
                    float(spearmanr(predicted, measured).statistic),
                    float(np.mean(np.abs(predicted - measured))),
                    float(np.mean(predicted < 0)),
                ))
    print(f"mode={args.mode}  worlds={args.worlds}  cells = (world, open task), 120 orders each")
    print(f"{'model':>22} {'spearman med':>12} {'mean':>6} {'MAE (nats)':>10} {'negative':>8}")
    for name, rows in cells.items():
        values = np.array(rows)
        print(f"{name:>22} {np.median(values[:, 0]):12.2f} {values[:, 0].mean():6.2f} "
              f"{values[:, 1].mean():10.3f} {values[:, 2].mean():8.2f}")


if __name__ == "__main__":
    main()
