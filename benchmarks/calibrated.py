"""Calibrated outcome model vs probe-only prediction at equal training budget (built-in learner).

Run: python benchmarks/calibrated.py [--mode exact|sampled] [--worlds 0 1 2] [--n-open 3]

Budget unit: one training stage (``stage_steps`` steps). A full probe campaign costs
n + n(n-1) = n^2 stages; a curriculum run costs n stages.

- *probe-only*: full campaign (n^2 stages), order = exact optimum of the bwt-only matrix.
- *calibrated*: a cheap campaign (n first stages + the 2n-pair cyclic design, imputed with
  row/column effects: 3n stages), then k curricula chosen by Bayesian optimisation
  (:func:`taskorder.calibrate.calibrated_search`), one seed each; reported for every k, so
  the curve against budget 3n + k n is visible. At k = (n^2 - 3n) / n the budget equals
  probe-only's.
- *full + calibrated*: the full campaign as prior plus k curricula.

Ground truth: every order's mean final score, averaged over 3 seeds (all n! orders run).
"Percentile": :func:`taskorder.percentile.order_percentile` (strictly worse + half ties).

A development tool (default worlds 0-2, the development split of ``benchmarks/evidence.py``):
no page quotes it. The held-out numbers for calibrated search come from
``benchmarks/evidence.py`` (its ``calibrated`` rows), rendered by ``benchmarks/report.py``.
Its old output files (``results_calibrated_*.txt``, old SGD learner) were removed.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile

import numpy as np
from scipy.stats import spearmanr

from taskorder import solve
from taskorder.active import initial_pairs
from taskorder.calibrate import calibrated_search
from taskorder.estimate import make_plan, run_campaign
from taskorder.estimate.curricula import run_curricula
from taskorder.estimate.impute import impute
from taskorder.learner import make_learner
from taskorder.percentile import order_percentile


def truth(runner, steps: int, seeds: int = 3) -> dict[tuple[str, ...], float]:
    orders = list(itertools.permutations(runner.tasks))
    runs = run_curricula(runner, orders, seeds=seeds, steps=steps, seed=12345)
    table: dict[tuple[str, ...], list[float]] = {}
    for run in runs:
        table.setdefault(run.order, []).append(float(np.mean(list(run.final.values()))))
    return {order: float(np.mean(v)) for order, v in table.items()}


def percentile(values: dict, order) -> float:
    """The order's :func:`taskorder.percentile.order_percentile` among all orders' values."""
    return order_percentile(list(values.values()), values[tuple(order)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="exact")
    parser.add_argument("--worlds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-open", type=int, default=3)
    parser.add_argument("--max-curricula", type=int, default=6)
    args = parser.parse_args()
    print(f"mode={args.mode}")
    header = f"{'world':>5} {'method':>22} {'budget':>6} {'pctl':>6} {'spearman':>8}"
    print(header)
    summary: dict[str, list[float]] = {}
    for world in args.worlds:
        runner = make_learner(2, args.n_open, seed=world, mode=args.mode)
        steps = runner.config.stage_steps
        n = len(runner.tasks)
        real = truth(runner, steps)
        orders = list(real)
        observed = np.array([real[o] for o in orders])

        def run_one(order, _counter=[0]):  # noqa: B006 (a fresh counter per world: one def each)
            _counter[0] += 1
            result = run_curricula(runner, [order], seeds=1, steps=steps, seed=777 + _counter[0])
            return float(np.mean(list(result[0].final.values()))), 0.0

        def report(name, budget, order, model=None):
            rho = float("nan")
            if model is not None:
                index = {t: k for k, t in enumerate(runner.tasks)}
                predicted = [model.predict([index[t] for t in o])[0] for o in orders]
                rho = float(spearmanr(predicted, observed).statistic)
            pct = percentile(real, order)
            summary.setdefault(f"{name}@{budget}", []).append(pct)
            print(f"{world:>5} {name:>22} {budget:>6} {pct:>6.1f} {rho:>8.2f}", flush=True)

        with tempfile.TemporaryDirectory() as folder:
            full = run_campaign(
                runner, make_plan(runner.tasks, steps=steps, seed=world), folder + "/full"
            )
            full_matrix = full.estimate.matrix.replace(
                forward=None, bwt_stderr=None, forward_stderr=None
            )
            cheap_pairs = [(runner.tasks[i], runner.tasks[j]) for i, j in initial_pairs(n)]
            cheap = run_campaign(
                runner,
                make_plan(runner.tasks, pairs=cheap_pairs, steps=steps, seed=world),
                folder + "/cheap",
            )
            cheap_matrix = impute(
                cheap.estimate.matrix.replace(forward=None, bwt_stderr=None, forward_stderr=None)
            )
        probe_order = solve(full_matrix).order
        report("probe-only", n * n, probe_order)
        report("rank rule (full probes)", n * n, solve(full_matrix, method="rank").order)
        for name, prior, cost in (("cheap", cheap_matrix, 3 * n), ("full", full_matrix, n * n)):
            search = calibrated_search(prior, run_one, n_curricula=args.max_curricula, seed=world)
            for row in search.observed:
                k = row["step"] + 1
                report(f"calibrated ({name})", cost + k * n, row["recommended"])
                report(f"best seen ({name})", cost + k * n, row["best_observed"])
            report(
                f"calibrated ({name}) final",
                cost + args.max_curricula * n,
                search.order,
                search.model,
            )
    print("\nmedian realised percentile by method@budget:")
    for key, values in summary.items():
        print(f"  {key:>30}: {np.median(values):6.1f}  (min {min(values):.1f}, n={len(values)})")


if __name__ == "__main__":
    main()
