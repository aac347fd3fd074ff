"""How well do the entropy models predict final entropies? (built-in learner, all orders)

Run::

    python benchmarks/entropy_models.py --split heldout --mode exact
    python benchmarks/entropy_models.py --split heldout --mode sampled

Worlds: the rule of ``benchmarks/evidence.py`` (``SPLITS``, ``world_spec``): the built-in
GRPO-like learner with its default configuration, ``make_learner(*MIXES[w % 9], seed=w,
mode=mode)``; held-out seeds are reported, development seeds may be used to try things.
For each world (one shared starting model) one full probe campaign gives the entropy
transfer matrix; every one of the ``n!`` orders is then trained (one seed) and each open
task's measured final entropy is compared with the prediction of

- additive: ``own + later bwt + earlier forward`` (taskorder.solvers.entropy, model="additive");
- additive, no forward: the same without forward transfer;
- multiplicative: ``own * prod (own + bwt) / own`` over later stages (model="multiplicative").

Raw output, one row per (world, open task, model):
``benchmarks/results/entropy_models_<split>_<mode>.csv`` with the Spearman correlation
between predicted and measured final entropy across orders (empty when a model predicts
the same value for every order), the mean absolute error in nats and the share of
predictions below zero (impossible). ``benchmarks/report.py`` renders the table.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).parent))
from evidence import RESULTS, SPLITS, world_spec
from replan import FixedStart

from taskorder.estimate import make_plan, run_campaign, run_curricula
from taskorder.learner import LEARNER_VERSION, make_learner
from taskorder.solvers.entropy import predict_entropy

FIELDS = [
    "split",
    "mode",
    "world",
    "n_structured",
    "n_open",
    "task",
    "n_orders",
    "model",
    "spearman",
    "mae",
    "negative_share",
    "learner_version",
]
MODELS = {
    "additive": lambda e, o: predict_entropy(e, o),
    "additive, no forward": lambda e, o: predict_entropy(e.replace(forward=None), o),
    "multiplicative": lambda e, o: predict_entropy(e, o, model="multiplicative"),
}


def run_world(world: int, mode: str) -> list[dict]:
    n_s, n_o = world_spec(world)
    base = FixedStart(make_learner(n_s, n_o, seed=world, mode=mode))
    steps = base.runner.config.stage_steps
    with tempfile.TemporaryDirectory() as folder:
        plan = make_plan(base.tasks, steps=steps, seed=world)
        entropy = run_campaign(base, plan, folder).estimate.entropy
    runs = run_curricula(
        base, list(itertools.permutations(base.tasks)), seeds=1, steps=steps, seed=1
    )
    rows = []
    for task in [t for t in base.tasks if t.startswith("open")]:
        column = base.tasks.index(task)
        measured = np.array([run.entropy[-1, column] for run in runs])
        for name, model in MODELS.items():
            predicted = np.array([model(entropy, run.order)[task] for run in runs])
            rho = (
                float(spearmanr(predicted, measured).statistic)
                if np.ptp(predicted) > 0 and np.ptp(measured) > 0
                else ""
            )
            rows.append(
                {
                    "world": world,
                    "n_structured": n_s,
                    "n_open": n_o,
                    "task": task,
                    "n_orders": len(runs),
                    "model": name,
                    "spearman": rho,
                    "mae": float(np.mean(np.abs(predicted - measured))),
                    "negative_share": float(np.mean(predicted < 0)),
                    "learner_version": LEARNER_VERSION,
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="heldout", choices=list(SPLITS))
    parser.add_argument("--mode", default="exact", choices=["exact", "sampled"])
    args = parser.parse_args()
    out = RESULTS / f"entropy_models_{args.split}_{args.mode}.csv"
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for world in SPLITS[args.split]:
            for row in run_world(world, args.mode):
                row = {"split": args.split, "mode": args.mode, **row}
                writer.writerow(
                    {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
                )
            handle.flush()
            print(f"world {world} done", flush=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
