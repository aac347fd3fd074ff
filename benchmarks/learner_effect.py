"""How much does stage order matter on the built-in learner, against seed noise and joint training?

Development worlds only (world seeds 0-49; nothing here is reported as held-out
evidence). For each world of each task mix, with the learner's default config
(``update="grpo"``, ``stage_steps=40``) in one mode:

- **all orders**: every one of the ``n!`` sequential curricula (one stage of
  ``stage_steps`` per task), run seed 0, shared prefixes trained once;
- **seed noise**: one fixed order (the task list as given) with run seeds 0..S-1
  (a run seed sets the initial-state perturbation and every stage's sampling);
- **joint**: one mixed stage, every task ``1/n``, ``n * stage_steps`` steps, run seed 0
  (equal total steps, as ``taskorder compare`` runs it).

The score of a run is the mean over tasks of the *exact* expected held-out reward
(``eval_groups=0`` in both modes), so the numbers measure training, not evaluation
sampling. A stage's training seed is ``1000 * run seed + stage position``.

Usage::

    python benchmarks/learner_effect.py --mode exact     # writes results/learner_effect_exact.csv
    python benchmarks/learner_effect.py --mode sampled
    python benchmarks/learner_effect.py --mode exact --update sgd   # legacy learner, *_sgd.csv
    python benchmarks/learner_effect.py --summarize      # table from the committed CSVs

Sizing (2 shared CPU cores, each mode's run under ~5 minutes): the 50 development
worlds are split between the mixes (``DESIGN``) instead of running every mix on
every world; 5-task worlds cost ~5x a 4-task world (325 stages vs 64).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from taskorder.learner import make_learner

RESULTS = Path(__file__).parent / "results"
#: (n_structured, n_open) -> development world seeds it runs on (0-49, each used once).
DESIGN = {
    (2, 2): range(20),
    (1, 3): range(20, 30),
    (3, 1): range(30, 40),
    (2, 3): range(40, 50),
}
SEED_RUNS = 5
FIELDS = ["mode", "update", "mix", "world", "kind", "seed", "order", "score", "task_scores"]


def _score(runner, state) -> tuple[float, list[float]]:
    scores = [runner.evaluate(state, task, seed=0).score for task in runner.tasks]
    return float(np.mean(scores)), scores


def _row(mix, world, kind, seed, order, runner, state) -> dict:
    score, scores = _score(runner, state)
    return {
        "mode": runner.config.mode,
        "update": runner.config.update,
        "mix": mix,
        "world": world,
        "kind": kind,
        "seed": seed,
        "order": ">".join(order),
        "score": f"{score:.6f}",
        "task_scores": ";".join(f"{s:.6f}" for s in scores),
    }


def _all_orders(runner, base, seed: int):
    """Yield (order, final state) for every order; shared prefixes are trained once."""

    def extend(prefix, state):
        if len(prefix) == len(runner.tasks):
            yield prefix, state
            return
        for task in runner.tasks:
            if task not in prefix:
                nxt = runner.train(state, task, seed=1000 * seed + len(prefix))
                yield from extend((*prefix, task), nxt)

    yield from extend((), base)


def _sequential(runner, base, order, seed: int):
    state = base
    for position, task in enumerate(order):
        state = runner.train(state, task, seed=1000 * seed + position)
    return state


def run_world(mode: str, mix: tuple[int, int], world: int, update: str = "grpo") -> list[dict]:
    """Every raw row of one world: all orders, seed runs of one order, joint."""
    runner = make_learner(*mix, seed=world, mode=mode, update=update, eval_groups=0)
    label = f"{mix[0]}+{mix[1]}"
    rows = []
    base = runner.initial_state(seed=0)
    for order, state in _all_orders(runner, base, seed=0):
        rows.append(_row(label, world, "order", 0, order, runner, state))
    for seed in range(1, SEED_RUNS):
        state = _sequential(runner, runner.initial_state(seed=seed), runner.tasks, seed)
        rows.append(_row(label, world, "seed", seed, runner.tasks, runner, state))
    steps = len(runner.tasks) * runner.config.stage_steps
    joint = runner.train(base, dict.fromkeys(runner.tasks, 1.0), steps=steps, seed=0)
    rows.append(_row(label, world, "joint", 0, ("joint",), runner, joint))
    return rows


def world_summary(rows: list[dict]) -> dict:
    """Effect sizes of one world from its raw rows."""
    orders = {r["order"]: float(r["score"]) for r in rows if r["kind"] == "order"}
    fixed = next(r["order"] for r in rows if r["kind"] == "seed")
    seeds = [orders[fixed]] + [float(r["score"]) for r in rows if r["kind"] == "seed"]
    joint = float(next(r["score"] for r in rows if r["kind"] == "joint"))
    values = np.array(sorted(orders.values()))
    seed_std = float(np.std(seeds, ddof=1))
    return {
        "order_std": float(values.std(ddof=1)),
        "order_range": float(values[-1] - values[0]),
        "seed_std": seed_std,
        "ratio": float(values.std(ddof=1) / seed_std) if seed_std > 0 else float("inf"),
        "range_over_seed_std": float((values[-1] - values[0]) / seed_std)
        if seed_std > 0
        else float("inf"),
        "best": float(values[-1]),
        "median": float(np.median(values)),
        "worst": float(values[0]),
        "joint": joint,
        "joint_minus_best": joint - float(values[-1]),
        "joint_minus_median": joint - float(np.median(values)),
        "joint_percentile": 100.0 * float(np.mean(values < joint)),
    }


def _spread(values: list[float], digits: int = 3) -> str:
    return (
        f"{statistics.median(values):+.{digits}f} [{min(values):+.{digits}f}, "
        f"{max(values):+.{digits}f}]"
    )


def _table_row(mode: str, update: str, mix: str, worlds: list[list[dict]]) -> str:
    stats = [world_summary(world_rows) for world_rows in worlds]

    def col(key: str) -> list[float]:
        return [s[key] for s in stats]

    wins = sum(s["joint_minus_best"] > 0 for s in stats)
    return (
        f"| {mode} | {update} | {mix} | {len(stats)} | {_spread(col('order_std'))} "
        f"| {_spread(col('seed_std'))} | {_spread(col('ratio'), 1)} "
        f"| {_spread(col('order_range'))} | {_spread(col('joint_minus_best'))} "
        f"| {_spread(col('joint_minus_median'))} "
        f"| {statistics.median(col('joint_percentile')):.0f} "
        f"| {wins}/{len(stats)} |"
    )


def summarize(paths: list[Path]) -> str:
    """The effect-size table (median [min, max] over worlds) from raw CSVs."""
    lines = [
        "median [min, max] over worlds; scores = mean exact held-out reward over tasks",
        (
            "| mode | update | mix | worlds | std over orders | seed std | ratio "
            "| range (best-worst) | joint - best | joint - median | joint pct among orders "
            "| joint > best |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path in paths:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        groups: dict[tuple[str, str, str], dict[str, list[dict]]] = {}
        for row in rows:
            for mix in (row["mix"], "all"):
                groups.setdefault((row["mode"], row["update"], mix), {}).setdefault(
                    row["world"], []
                ).append(row)
        for key in sorted(groups, key=lambda key: key[2] == "all"):
            lines.append(_table_row(*key, list(groups[key].values())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["exact", "sampled"])
    parser.add_argument(
        "--update", choices=["grpo", "sgd"], default="grpo", help="sgd: the legacy learner."
    )
    parser.add_argument("--summarize", action="store_true", help="Only print the table.")
    parser.add_argument("--max-worlds", type=int, default=None, help="Per mix (smoke runs).")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.summarize:
        paths = [
            RESULTS / f"learner_effect_{mode}{suffix}.csv"
            for suffix in ("", "_sgd")
            for mode in ("exact", "sampled")
        ]
        print(summarize([p for p in paths if p.exists()]))
        return 0
    if args.mode is None:
        parser.error("give --mode exact|sampled, or --summarize")
    suffix = "" if args.update == "grpo" else f"_{args.update}"
    out = args.out or RESULTS / f"learner_effect_{args.mode}{suffix}.csv"
    start = time.perf_counter()
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for mix, worlds in DESIGN.items():
            for world in itertools.islice(worlds, args.max_worlds):
                writer.writerows(run_world(args.mode, mix, world, args.update))
                handle.flush()
            print(f"{mix}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(summarize([out]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
