"""Evidence for every number README and docs quote: development vs held-out worlds.

Run (resumable: worlds already in the CSV are skipped; ``--fresh`` starts over)::

    python benchmarks/evidence.py --split heldout --mode exact
    python benchmarks/evidence.py --split heldout --mode sampled
    python benchmarks/evidence.py --split fresh --mode exact     # and --mode sampled
    python benchmarks/evidence.py --split dev --mode exact --worlds 12
    python benchmarks/evidence.py --split dev_noisy          # mode noisy (the split's only)
    python benchmarks/evidence.py --summary     # tables from the committed CSVs only
    python benchmarks/evidence.py --rescore     # recommended rows again, no training

Worlds (one rule, written once in :func:`world_spec`)
-----------------------------------------------------
- **dev**: world seeds 0-49. Defaults (``taskorder.recommend.DEFAULT_ROUTE``) are
  chosen here only; ``--worlds K`` runs the first K.
- **heldout**: world seeds 1000-1007, never used for a choice (run in session 3).
- **fresh**: world seeds 1100-1131, run once in session 4 after every default
  (``DEFAULT_ROUTE``, ``SEPARATION_Z``, re-planning's horizon) was frozen on the
  development worlds; nothing was looked at on them before. The held-out report pools
  ``heldout`` and ``fresh`` (40 worlds per mode) and shows each split too.
- **confirm**: world seeds 1200-1231, same rule. Added in session 5 (2026-11-30) after the
  run-time separability verdict (``SEPARATION_Z`` = 0.5, no rank-rule fallback, re-planning
  as the route when separable; :func:`verdict_choice`) was chosen on the development worlds
  and committed; run once, nothing changed after. Reported on its own, beside the pooled
  ``heldout`` + ``fresh`` worlds.
- **dev_noisy**: world seeds 2000-2023 in the *noisy* regime (mode ``noisy``:
  :data:`NOISY_OPTIONS`). Added and run in session 6 (2026-11-30) so that the verdict is
  chosen on development worlds where orders are often not separable from seed noise; with
  dev 0-49 it is the development set of :func:`noisy_verdict_choice` (the regime, the
  splits and that rule were committed in 26a2b7e before any dev_noisy feature was scored).
- **confirm_noisy**: world seeds 2100-2123, noisy regime. Run once in session 6 after the
  second verdict (``SEPARATION_Z`` = 0.75 on the spread ratio) was committed (f595810),
  nothing changed after; reported on its own, with the former rule beside the current.

World ``w`` has ``MIXES[w % 9]`` = (structured, open) tasks, n = 3..5, so all ``n!``
orders can be trained for the ground truth. Held-out seeds 1000-1007 give the mixes
(2,1) (2,2) (1,3) (3,1) (2,3) (3,2) (1,4) (4,1). The learner is the built-in one with
its default configuration (``make_learner(n_s, n_o, seed=w, mode=mode)``).

What one world costs and measures
---------------------------------
- *truth*: every order trained with ``--seeds`` seeds (validate's seeding); an order's
  value is its mean final score over tasks and seeds. The noise ceiling
  (:func:`taskorder.estimate.validate.noise_ceiling`), the spread of order values
  (sd over orders) and the seed noise (median standard error of an order's mean) say
  whether orders are separable at all.
- *probes*: a full campaign (``n + n(n-1)`` probes, 2 repeats: the default of
  ``taskorder probe``). From it: each outcome model's exact optimum
  (``best:additive`` / ``best:backward_only`` / ``best:multiplicative``), the rank rule,
  and ``recommended`` (:func:`taskorder.recommend.recommend`, what solve / demo /
  validate present; its ``route`` column says which route it took).
- *calibrated*: the cheap design (3n probes, imputed) + ``--curricula`` curricula of one
  seed each, :func:`taskorder.calibrate.calibrated_search`'s final recommendation.
- *replan*: :func:`taskorder.replan.replan_training` (horizon 3), the order it trained
  ("re-planning, if affordable"; ``--no-replan`` skips it). The *plan made once* is the
  ``recommended`` row (the order ``taskorder train`` trains without ``--replan``).
- *joint*: joint multi-task training (``compare``'s reference: one stage, equal
  proportions, ``n * stage_steps`` steps) with the truth's seeds, so paired.
- *random_mean*: the mean of all orders (percentile 50 by definition).

Percentile: :func:`taskorder.percentile.order_percentile` of the method's true value
among all orders' true values (strictly worse plus half the ties; random = 50).
``beats_random``: the method's true value exceeds the mean of all orders. ``stages``:
training stages the method spent (probes, curricula, branches; a stage = ``stage_steps``
steps).

Outputs: ``benchmarks/results/evidence_<split>_<mode>.csv`` (one row per world and
method), ``evidence_<split>_<mode>.jsonl`` (per world: every order's per-seed truth and
the probed matrix, so a new matrix-only route can be scored without training) and ``benchmarks/results/evidence_summary.md`` (min / median / max per method,
regenerated from every CSV present by ``--summary`` and after each run).

Sizing: a world costs about ``seeds * (sum_k n!/(n-k)!)`` stages for the truth (shared
prefixes are trained once: 325 per seed for n = 5) plus about ``5 n^2`` for the rest;
``--seeds`` and ``--worlds`` scale it linearly. ``--time-budget`` stops starting new
worlds after that many seconds (resume later).
"""

from __future__ import annotations

import argparse
import csv
import functools
import itertools
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from taskorder.active import initial_pairs
from taskorder.calibrate import calibrated_search
from taskorder.compare.schedules import joint, run_schedule
from taskorder.estimate import make_plan, run_campaign, run_curricula
from taskorder.estimate.impute import impute
from taskorder.estimate.validate import noise_ceiling
from taskorder.learner import LEARNER_VERSION, make_learner
from taskorder.percentile import order_percentile
from taskorder.recommend import recommend
from taskorder.replan import replan_training
from taskorder.seeds import derive_seed
from taskorder.solvers import solve

RESULTS = Path(__file__).parent / "results"
SPLITS = {
    "dev": range(50),
    "heldout": range(1000, 1008),
    "fresh": range(1100, 1132),
    "confirm": range(1200, 1232),
    "dev_noisy": range(2000, 2024),
    "confirm_noisy": range(2100, 2124),
}
#: Splits reported as held out (never used for a choice), pooled in the summary.
HELDOUT = ("heldout", "fresh")
#: Run once after the separability verdict was frozen; reported on its own.
CONFIRM = "confirm"
#: Run once after the second verdict (:func:`noisy_verdict_choice`) was frozen.
CONFIRM_NOISY = "confirm_noisy"
#: Ground truth of "orders cannot be separated from noise": the sd of the true order values
#: is at most ``TRUTH_K`` standard errors of one order's 4-seed mean, i.e. at most the sd of
#: one single-seed training run (2 se with 4 seeds): choosing the order moves the result no
#: more than re-running the same order with another seed. Fixed before any verdict was scored.
TRUTH_K = 2.0
#: Thresholds on the verdict's feature scored on the development worlds (:func:`verdict_choice`).
VERDICT_THRESHOLDS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
#: The second choice (:func:`noisy_verdict_choice`): its development splits, candidate
#: features (:func:`verdict_features`) and thresholds.
NOISY_DEV = ("dev", "dev_noisy")
VERDICT_FEATURES = ("gain_z", "spread_z", "outcome_z", "gain_outcome_z")
NOISY_THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
#: Modes a world can be trained in: the learner's two (``exact``, ``sampled``) and ``noisy``.
MODES = ("exact", "sampled", "noisy")
#: The ``noisy`` regime: ``sampled`` mode with the settings of a small real-LM run (few
#: steps per stage, few evaluation prompts scored from one sampled answer each, small
#: groups and batches). Fixed from a truth-only trial on worlds 2000-2004 before any noisy
#: world's probes were scored, so that the true spread of order values is comparable to
#: the seed noise of one order's mean in most worlds, as on the real LM (docs/real-lm.md);
#: the ``dev_noisy`` rows give the spread per world.
NOISY_OPTIONS = {
    "stage_steps": 10,
    "n_test_prompts": 16,
    "eval_groups": 1,
    "group_size": 4,
    "batch_size": 4,
}
MIXES = [(1, 2), (2, 1), (2, 2), (1, 3), (3, 1), (2, 3), (3, 2), (1, 4), (4, 1)]
MODELS = ("additive", "backward_only", "multiplicative")
FIELDS = [
    "split",
    "mode",
    "world",
    "n_structured",
    "n_open",
    "n_orders",
    "method",
    "route",
    "order",
    "value",
    "percentile",
    "beats_random",
    "stages",
    "separable",
    "best_value",
    "mean_value",
    "worst_value",
    "spread",
    "seed_se",
    "ceiling",
    "learner_version",
    "seeds",
]
#: Methods in report order (rows of the summary).
METHODS = [
    "recommended",
    "rank_rule",
    "best:backward_only",
    "best:additive",
    "best:multiplicative",
    "calibrated",
    "replan",
    "random_mean",
    "joint",
]


def world_spec(world: int) -> tuple[int, int]:
    """(structured, open) tasks of world ``world``: ``MIXES[world % 9]``."""
    return MIXES[world % len(MIXES)]


def split_modes(split: str) -> tuple[str, ...]:
    """The modes a split is run in: ``noisy`` for the ``*_noisy`` splits, else both others."""
    return ("noisy",) if split.endswith("_noisy") else ("exact", "sampled")


def learner(world: int, mode: str):
    """World ``world``'s built-in learner in ``mode`` (``noisy``: :data:`NOISY_OPTIONS`)."""
    n_s, n_o = world_spec(world)
    if mode == "noisy":
        return make_learner(n_s, n_o, seed=world, mode="sampled", **NOISY_OPTIONS)
    return make_learner(n_s, n_o, seed=world, mode=mode)


class Counting:
    """Delegates to a runner and counts training stages."""

    def __init__(self, runner):
        self.runner, self.calls = runner, 0

    def __getattr__(self, name):
        return getattr(self.runner, name)

    @property
    def tasks(self):
        return self.runner.tasks

    def train(self, state, task, *, steps, seed):
        self.calls += 1
        return self.runner.train(state, task, steps=steps, seed=seed)


def truth(runner, steps: int, seeds: int, root: int):
    """Every order's per-seed mean final score, validate's seeding (root seed ``root``)."""
    orders = list(itertools.permutations(runner.tasks))
    table: dict[tuple, list[float]] = {}
    for run in run_curricula(runner, orders, seeds=seeds, steps=steps, seed=root):
        table.setdefault(run.order, []).append(float(np.mean(list(run.final.values()))))
    return orders, np.array([table[o] for o in orders])


def joint_values(runner, steps: int, seeds: int, root: int) -> list[float]:
    """Joint training from the truth's initial states, evaluated with its seeds."""
    out = []
    for s in range(seeds):
        state = runner.initial_state(derive_seed(root, "validate", "init", s))
        state = run_schedule(
            runner,
            state,
            joint(runner.tasks, steps),
            seed_of=lambda k, s=s: derive_seed(root, "evidence", "joint", s, k),
        )
        eval_seed = derive_seed(root, "validate", "eval", s)
        out.append(
            float(np.mean([runner.evaluate(state, t, seed=eval_seed).score for t in runner.tasks]))
        )
    return out


def run_world(
    world: int, mode: str, seeds: int, curricula: int, do_replan: bool
) -> tuple[list[dict], dict]:
    n_s, n_o = world_spec(world)
    runner = learner(world, mode)
    steps = runner.config.stage_steps
    n = len(runner.tasks)
    root = derive_seed(world, "evidence", "truth")
    orders, per_seed = truth(runner, steps, seeds, root)
    values = per_seed.mean(axis=1)
    real = dict(zip(orders, values))
    seed_se = (
        float(np.median(per_seed.std(axis=1, ddof=1) / math.sqrt(seeds))) if seeds > 1 else math.nan
    )
    common = {
        "n_structured": n_s,
        "n_open": n_o,
        "n_orders": len(orders),
        "best_value": float(values.max()),
        "mean_value": float(values.mean()),
        "worst_value": float(values.min()),
        "spread": float(values.std(ddof=1)),
        "seed_se": seed_se,
        "ceiling": noise_ceiling(per_seed, seed=world)["ceiling"],
        "learner_version": LEARNER_VERSION,
        "seeds": seeds,
    }
    rows = []

    def add(method, order, stages, route="", value=None, separable=""):
        value = real[tuple(order)] if value is None else value
        rows.append(
            {
                **common,
                "method": method,
                "route": route,
                "separable": separable,
                "order": " > ".join(order) if order else "",
                "value": float(value),
                "percentile": order_percentile(values, value),
                "beats_random": bool(value > values.mean() + 1e-12),
                "stages": stages,
            }
        )

    with tempfile.TemporaryDirectory() as folder:
        counting = Counting(runner)
        plan = make_plan(runner.tasks, repeats=2, steps=steps, seed=world)
        matrix = run_campaign(counting, plan, Path(folder) / "full").estimate.matrix
        probe_stages = counting.calls
        rec = recommend(matrix, seed=world)
        add("recommended", rec.order, probe_stages + n, route=rec.route, separable=rec.separable)
        bwt_only = matrix.replace(forward=None, forward_stderr=None)
        add("rank_rule", solve(bwt_only, method="rank").order, probe_stages + n, route="rank_rule")
        for model in MODELS:  # the model's exact optimum (recommend's route=model)
            check = recommend(matrix, route=model, seed=world)
            add(
                f"best:{model}",
                check.order,  # backward_only's when an own score is 0 (multiplicative)
                probe_stages + n,
                route=check.route,
                separable=check.separable,
            )

        counting = Counting(runner)
        pairs = [(runner.tasks[i], runner.tasks[j]) for i, j in initial_pairs(n)]
        cheap = run_campaign(
            counting,
            make_plan(runner.tasks, pairs=pairs, steps=steps, seed=world),
            Path(folder) / "cheap",
        ).estimate.matrix
        prior = impute(cheap.replace(forward=None, bwt_stderr=None, forward_stderr=None))

        calls = itertools.count(1)

        def run_one(order):
            result = run_curricula(
                counting,
                [order],
                seeds=1,
                steps=steps,
                seed=derive_seed(world, "evidence", "calibrated", next(calls)),
            )
            return float(np.mean(list(result[0].final.values()))), 0.0

        search = calibrated_search(prior, run_one, n_curricula=curricula, seed=world)
        add("calibrated", search.order, counting.calls + n)

        if do_replan:
            counting = Counting(runner)
            result = replan_training(counting, Path(folder) / "replan", steps=steps, seed=world)
            add("replan", result.order, counting.calls)
    rows.append(
        {
            **common,
            "method": "random_mean",
            "route": "",
            "order": "",
            "separable": "",
            "value": float(values.mean()),
            "percentile": 50.0,
            "beats_random": False,
            "stages": n,
        }
    )
    add("joint", None, n, value=float(np.mean(joint_values(runner, steps, seeds, root))))
    raw = {
        "world": world,
        "orders": [list(o) for o in orders],
        "per_seed": per_seed.tolist(),
        "matrix": matrix.to_dict(),
    }
    return rows, raw


def result_name(split: str, mode: str) -> str:
    """``<split>_<mode>``, or ``<split>`` when the split names its mode (``dev_noisy``)."""
    return split if split.endswith(f"_{mode}") else f"{split}_{mode}"


def csv_path(split: str, mode: str) -> Path:
    """``evidence_<split>_<mode>.csv``; ``evidence_<split>.csv`` when the split names its mode."""
    return RESULTS / f"evidence_{result_name(split, mode)}.csv"


def worlds_in(path: Path) -> set[int]:
    """The ``world`` of every line of a JSON-lines file (empty when it does not exist)."""
    if not path.exists():
        return set()
    return {json.loads(line)["world"] for line in path.read_text(encoding="utf-8").splitlines()}


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def append_rows(path: Path, rows: list[dict]) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )


def spans(worlds: list[int]) -> str:
    """``[0, 1, 2, 7]`` -> ``"0-2, 7"``."""
    parts, start = [], worlds[0]
    for prev, cur in zip(worlds, [*worlds[1:], None]):
        if cur is None or cur != prev + 1:
            parts.append(f"{start}-{prev}" if prev > start else f"{start}")
            start = cur
    return ", ".join(parts)


def summarise(rows: list[dict], title: str) -> list[str]:
    """Markdown: min / median / max percentile per method, and 'beats random' counts."""
    worlds = sorted({int(r["world"]) for r in rows})
    if not worlds:
        return []
    first = {int(r["world"]): r for r in rows}
    ceil = [float(first[w]["ceiling"]) for w in worlds]
    ratio = [
        float(first[w]["spread"]) / float(first[w]["seed_se"])
        if float(first[w]["seed_se"]) > 0
        else math.inf
        for w in worlds
    ]
    routes = sorted({r["route"] for r in rows if r["method"] == "recommended"})
    heading = (
        f"### {title}: {len(worlds)} worlds ({spans(worlds)}), "
        f"{first[worlds[0]]['seeds']} truth seeds, learner v{first[worlds[0]]['learner_version']}"
    )
    noise = (
        f"noise ceiling min / median / max: {min(ceil):.2f} / {np.median(ceil):.2f} / "
        f"{max(ceil):.2f}; spread of order values / seed noise (median): "
        f"{np.median(ratio):.1f}; recommended route(s) taken: {', '.join(routes)}"
    )
    lines = [
        heading,
        "",
        noise,
        "",
        "| method | percentile min | median | max | beats mean random | stages (median) |",
        "|---|---|---|---|---|---|",
    ]
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        pct = [float(r["percentile"]) for r in mine]
        wins = sum(r["beats_random"] == "True" for r in mine)
        stages = np.median([float(r["stages"]) for r in mine])
        beats = "—" if method == "random_mean" else f"{wins} of {len(mine)}"
        lines.append(
            f"| {method} | {min(pct):.1f} | {np.median(pct):.1f} | {max(pct):.1f} | "
            f"{beats} | {stages:.0f} |"
        )
    joint_rows = [r for r in rows if r["method"] == "joint"]
    if joint_rows:
        margin = [float(r["value"]) - float(r["best_value"]) for r in joint_rows]
        wins = sum(m > 0 for m in margin)
        lines += [
            "",
            (
                f"joint training (compare's reference) beats every curriculum order in "
                f"{wins} of {len(joint_rows)} worlds; joint minus the best order's mean "
                f"final score min / median / max: {min(margin):+.4f} / "
                f"{np.median(margin):+.4f} / {max(margin):+.4f}"
            ),
        ]
    rec = [r for r in rows if r["method"] == "recommended"]
    if rec:
        pct = [float(r["percentile"]) for r in rec]
        wins = sum(r["beats_random"] == "True" for r in rec)
        lines += [
            "",
            (
                f"recommended order: median percentile {np.median(pct):.1f} (min "
                f"{min(pct):.1f}, max {max(pct):.1f}); beats the mean random order in "
                f"{wins} of {len(rec)} worlds"
            ),
        ]
        for part in separability(rows):
            lines.append(
                f"- when the tool says the probes are {part['words']} ({part['n']} worlds): "
                f"fixed order {part['fixed']}; re-planning {part['replan']}; true spread of "
                f"order values / seed noise {part['ratio']} (at most {TRUTH_K:g} in "
                f"{part['truth_not_separable']})"
            )
    return [*lines, ""]


def _pct_cell(rows: list[dict]) -> str:
    """'min / median / max (k of N above random)' of some rows' percentiles."""
    if not rows:
        return "not run"
    pct = [float(r["percentile"]) for r in rows]
    wins = sum(r["beats_random"] == "True" for r in rows)
    return (
        f"{min(pct):.1f} / {np.median(pct):.1f} / {max(pct):.1f} ({wins} of {len(rows)} above "
        "random)"
    )


def separability(rows: list[dict]) -> list[dict]:
    """World-mode instances split by the tool's run-time verdict (the ``recommended`` row's
    ``separable``), per verdict that occurs: how many, the fixed order's and re-planning's
    percentiles, and the truth's spread of order values / seed noise."""
    rec = [r for r in rows if r["method"] == "recommended"]
    replan = {(r["mode"], r["world"]): r for r in rows if r["method"] == "replan"}
    out = []
    for flag, words in (("True", "separable"), ("False", "not separable")):
        mine = [r for r in rec if r["separable"] == flag]
        if not mine:
            continue
        pct = [float(r["percentile"]) for r in mine]
        ratio = [
            float(r["spread"]) / float(r["seed_se"]) if float(r["seed_se"]) > 0 else math.inf
            for r in mine
        ]
        again = [replan[(r["mode"], r["world"])] for r in mine if (r["mode"], r["world"]) in replan]
        out.append(
            {
                "words": words,
                "n": len(mine),
                "median": float(np.median(pct)),
                "min": min(pct),
                "wins": sum(r["beats_random"] == "True" for r in mine),
                "fixed": _pct_cell(mine),
                "replan": _pct_cell(again),
                "ratio": f"{min(ratio):.1f} / {np.median(ratio):.1f} / {max(ratio):.1f}",
                "truth_not_separable": sum(x <= TRUTH_K for x in ratio),
            }
        )
    return out


def score_routes(split: str) -> dict[str, list[float]]:
    """Realised percentile of every matrix-only route, per world and mode, from the jsonl.

    Routes: each outcome model's optimum and the rank rule (``recommend`` takes the
    default route's order whatever its verdict, so it is the ``DEFAULT_ROUTE`` row): no
    training needed, so a new route is scored on the stored truth of every world.
    """
    from taskorder.matrix import TransferMatrix

    out: dict[str, list[float]] = {}
    for mode in split_modes(split):
        path = csv_path(split, mode).with_suffix(".jsonl")
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            raw = json.loads(line)
            matrix = TransferMatrix.from_dict(raw["matrix"])
            values = np.array(raw["per_seed"]).mean(axis=1)
            real = {tuple(o): v for o, v in zip(raw["orders"], values)}
            for route in (*MODELS, "rank_rule"):
                order = recommend(matrix, route=route, z=0.0, seed=raw["world"]).order
                out.setdefault(route, []).append(order_percentile(values, real[order]))
    return out


def route_choice(split: str = "dev") -> list[str]:
    """Development worlds only: the table ``DEFAULT_ROUTE`` comes from."""
    candidates = score_routes(split)
    if not candidates:
        return []
    size = len(next(iter(candidates.values())))
    lines = [
        f"### Route choice on the development worlds ({size} world-mode instances)",
        "",
        "| route | percentile min | median | mean | max | below 50 |",
        "|---|---|---|---|---|---|",
    ]
    ranked = sorted(
        candidates.items(), key=lambda kv: (np.median(kv[1]), np.mean(kv[1])), reverse=True
    )
    for name, pct in ranked:
        lines.append(
            f"| {name} | {min(pct):.1f} | {np.median(pct):.1f} | {np.mean(pct):.1f} | "
            f"{max(pct):.1f} | {sum(p < 50 for p in pct)} |"
        )
    return [*lines, "", f"highest median (then mean): {ranked[0][0]}", ""]


def _stored(split: str, mode: str) -> list[dict]:
    path = csv_path(split, mode).with_suffix(".jsonl")
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run_noise(matrix, perms: np.ndarray, repeats: int = 2) -> np.ndarray:
    """Predicted sd of one training run's outcome (weighted mean final score), per order.

    Entry ``bwt[i, j]`` of a probe campaign with ``repeats`` repeats has standard error
    ``s_ij``, so one run's effect of training ``j`` after ``i`` varies by ``s_ij *
    sqrt(repeats)``. Along an order, task ``i``'s final score carries that noise for
    every task trained after it (independent stages add variances), plus one evaluation
    of task ``i`` (half the variance of a difference of two scores: ``repeats *
    median_j s_ij**2 / 2``). The outcome is the weighted mean over tasks.
    """
    stderr = np.nan_to_num(matrix.bwt_stderr)
    var = repeats * stderr**2
    off = ~np.eye(matrix.n_tasks, dtype=bool)
    eval_var = np.array([np.median(var[i][off[i]]) / 2 for i in range(matrix.n_tasks)])
    positions = np.argsort(perms, axis=1)
    later = positions[:, None, :] > positions[:, :, None]  # later[k, i, j]: j after i
    weights = matrix.weights / matrix.weights.sum()
    per_task = eval_var[None] + np.einsum("kij,ij->ki", later, var)
    return np.sqrt(per_task @ weights**2)


def truth_values(per_seed: np.ndarray) -> tuple[np.ndarray, float]:
    """The order values (means over the seed columns of ``per_seed``) and the truth's
    ratio: their sd over the median standard error of one order's mean (inf when that
    error is 0). Orders are truly not separable when the ratio is at most ``TRUTH_K``."""
    values = per_seed.mean(axis=1)
    seed_se = float(np.median(per_seed.std(axis=1, ddof=1) / math.sqrt(per_seed.shape[1])))
    return values, float(values.std(ddof=1)) / seed_se if seed_se > 0 else math.inf


def verdict_features(raw: dict, repeats: int = 2) -> dict:
    """Probe-only features of one stored world, and its truth's spread / seed noise.

    ``gain_z``: ``recommend``'s predicted gain of its order over the mean random order,
    in standard deviations of that gain over matrices redrawn within the probes' standard
    errors (the feature ``SEPARATION_Z`` thresholded until session 6). ``spread_z``: the
    sd of every order's predicted value over the median sd of one order's predicted value
    under the same redraws (``recommend``'s ``order_spread / value_sd``, thresholded since). ``outcome_z``: the same predicted sd over orders, against the predicted sd
    of *one training run's* outcome (:func:`run_noise`: each probe entry's run-to-run
    noise, its standard error times sqrt(``repeats``), added up along the whole order, plus
    one evaluation's noise per task); the probe-side twin of ``truth_ratio`` / 2.
    ``gain_outcome_z``: the predicted gain over the same one-run sd. ``truth_ratio``: sd of
    the true order values over the median standard error of one order's mean (the ground
    truth, never seen at run time).
    """
    from taskorder.matrix import TransferMatrix

    matrix = TransferMatrix.from_dict(raw["matrix"])
    rec = recommend(matrix, seed=raw["world"])
    perms = np.array([[matrix.tasks.index(t) for t in o] for o in raw["orders"]])
    run_sd = float(np.median(run_noise(matrix, perms, repeats)))
    _, truth_ratio = truth_values(np.array(raw["per_seed"]))

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else math.inf

    return {
        "gain_z": ratio(rec.predicted_gain, rec.gain_sd),
        "spread_z": ratio(rec.order_spread, rec.value_sd),
        "outcome_z": ratio(rec.order_spread, run_sd),
        "gain_outcome_z": ratio(rec.predicted_gain, run_sd),
        "truth_ratio": truth_ratio,
    }


def verdict_rows(split: str) -> list[dict]:
    """One dict per world and mode: :func:`verdict_features`, and how the fixed order
    (``recommend``'s, rescored from the stored matrix), the multiplicative optimum, the
    rank rule and re-planning (from the CSV) did against the truth. Computed once per
    split and process (``report.py`` asks for the same split from several blocks); the
    caller gets its own copies."""
    return [dict(row) for row in _verdict_rows(split)]


@functools.cache
def _verdict_rows(split: str) -> tuple[dict, ...]:
    from taskorder.matrix import TransferMatrix

    out = []
    for mode in split_modes(split):
        replans = {
            int(r["world"]): r for r in read_rows(csv_path(split, mode)) if r["method"] == "replan"
        }
        for raw in _stored(split, mode):
            matrix = TransferMatrix.from_dict(raw["matrix"])
            values = np.array(raw["per_seed"]).mean(axis=1)
            real = {tuple(o): v for o, v in zip(raw["orders"], values)}
            row = {"split": split, "mode": mode, "world": raw["world"], **verdict_features(raw)}
            for name, route in (
                ("fixed", None),
                ("multiplicative", "multiplicative"),
                ("rank_rule", "rank_rule"),
            ):
                value = real[recommend(matrix, route=route, seed=raw["world"]).order]
                row[f"{name}_pct"] = order_percentile(values, value)
                row[f"{name}_wins"] = bool(value > values.mean() + 1e-12)
            replan = replans.get(raw["world"])
            if replan is not None:
                row["replan_pct"] = float(replan["percentile"])
                row["replan_wins"] = replan["beats_random"] == "True"
            out.append(row)
    return tuple(out)


def verdict_choice(
    splits: tuple[str, ...] = ("dev",),
    features: tuple[str, ...] = ("gain_z", "spread_z"),
    thresholds: tuple[float, ...] = VERDICT_THRESHOLDS,
    incumbent: tuple[str, float] = ("gain_z", 3.0),
) -> dict:
    """The run-time separability verdict, chosen on ``splits`` by a rule fixed beforehand.

    1. Route when the verdict says *separable*: the fixed order or re-planning, whichever
       beats the mean random order in more instances (then: higher median percentile).
    2. A verdict is right when it says *separable* and that route beats the mean random
       order, or says *not separable* and the truth's spread / seed noise is at most
       :data:`TRUTH_K`.
    3. Feature (one of ``features``, :func:`verdict_features`) and threshold (one of
       ``thresholds``; separable when the feature exceeds it): most right verdicts; ties
       go to the ``incumbent`` rule (the one in the tool), then to the feature listed
       first, then to the threshold nearest the incumbent's.
    4. Order shown when not separable: the multiplicative optimum or the rank rule,
       whichever has the higher median percentile over the instances called not separable
       (ties, or none called: the multiplicative optimum, i.e. no fallback).

    The first choice (session 5) was ``verdict_choice()``: the development worlds 0-49,
    ``gain_z`` and ``spread_z``, incumbent ``gain_z`` > 3. The second
    (:func:`noisy_verdict_choice`) adds the ``dev_noisy`` worlds and two features.
    """
    rows = [r for split in splits for r in verdict_rows(split) if "replan_pct" in r]
    if not rows:
        return {}
    score = {
        name: (
            sum(r[f"{name}_wins"] for r in rows),
            float(np.median([r[f"{name}_pct"] for r in rows])),
        )
        for name in ("fixed", "replan")
    }
    route = max(score, key=lambda name: score[name])
    table = []
    for feature in features:
        for threshold in thresholds:
            sep = [r for r in rows if r[feature] > threshold]
            not_sep = [r for r in rows if not r[feature] > threshold]
            right = [
                r
                for r in rows
                if (r[route + "_wins"] if r[feature] > threshold else r["truth_ratio"] <= TRUTH_K)
            ]
            by_split = {
                split: sum(r.get("split", split) == split for r in right) for split in splits
            }
            table.append({"feature": feature, "threshold": threshold, "separable": len(sep),
                          "right_separable": sum(r[f"{route}_wins"] for r in sep),
                          "not_separable": len(not_sep),
                          "right_not_separable": sum(r["truth_ratio"] <= TRUTH_K for r in not_sep),
                          "right": len(right), "right_by_split": by_split})  # fmt: skip
    best = max(
        table,
        key=lambda t: (
            t["right"],
            (t["feature"], t["threshold"]) == tuple(incumbent),
            -features.index(t["feature"]),
            -abs(t["threshold"] - incumbent[1]),
        ),
    )
    called = [r for r in rows if not r[best["feature"]] > best["threshold"]]
    medians = {
        name: float(np.median([r[f"{name}_pct"] for r in called])) if called else math.nan
        for name in ("multiplicative", "rank_rule")
    }
    shown = (
        "rank_rule"
        if called and medians["rank_rule"] > medians["multiplicative"]
        else "multiplicative"
    )
    sizes = {split: sum(r.get("split", split) == split for r in rows) for split in splits}
    return {"instances": len(rows), "sizes": sizes, "route_score": score, "route": route,
            "table": table, "chosen": best, "not_separable_order": shown,
            "not_separable_medians": medians, "incumbent": tuple(incumbent),
            "truth_not_separable": sum(r["truth_ratio"] <= TRUTH_K for r in rows)}  # fmt: skip


def noisy_verdict_choice() -> dict:
    """The verdict chosen again, on development worlds that include noisy ones.

    Written down (session 6, 2026-11-30) before any ``dev_noisy`` world's features were
    scored: :func:`verdict_choice` on :data:`NOISY_DEV` (dev 0-49 in both modes, and
    ``dev_noisy`` 2000-2023 in the noisy regime), features :data:`VERDICT_FEATURES`,
    thresholds :data:`NOISY_THRESHOLDS`, incumbent ``gain_z`` > 0.5 (the rule in the tool
    then). If the incumbent keeps the most right verdicts (ties included) it stays.
    """
    return verdict_choice(NOISY_DEV, VERDICT_FEATURES, NOISY_THRESHOLDS, ("gain_z", 0.5))


def verdict_choice_lines(split: str = "dev") -> list[str]:
    """Markdown of :func:`verdict_choice`: the scored thresholds and what the rule picked."""
    choice = verdict_choice((split,))
    if not choice:
        return []
    score = choice["route_score"]
    lines = [
        f"### Separability verdict chosen on the development worlds ({choice['instances']} world-mode instances)",
        "",
        (
            f"Route when separable: re-planning beats the mean random order in {score['replan'][0]} "
            f"(median percentile {score['replan'][1]:.1f}), the fixed order in {score['fixed'][0]} "
            f"({score['fixed'][1]:.1f}): **{choice['route']}**. Truth not separable (spread of order "
            f"values <= {TRUTH_K:g} x seed noise) in {choice['truth_not_separable']} instances."
        ),
        "",
        "| feature | separable when above | called separable (route above random) | called not separable (truth <= 2 x noise) | right |",
        "|---|---|---|---|---|",
    ]
    for t in choice["table"]:
        lines.append(
            f"| {t['feature']} | {t['threshold']:g} | {t['separable']} ({t['right_separable']}) | "
            f"{t['not_separable']} ({t['right_not_separable']}) | {t['right']} |"
        )
    best = choice["chosen"]
    lines += [
        "",
        (
            f"picked by the rule: {best['feature']} > {best['threshold']:g} ({best['right']} of "
            f"{choice['instances']} right); order shown when not separable: "
            f"{choice['not_separable_order']}"
        ),
        "",
    ]
    return lines


def rescore(split: str, mode: str) -> int:
    """Recompute the ``recommended`` rows from the jsonl with the current ``recommend``.

    The recommendation is matrix-only, so a change of ``DEFAULT_ROUTE`` or
    ``SEPARATION_Z`` needs no training: the stored matrix and truth suffice.
    Returns the number of rows rewritten.
    """
    from taskorder.matrix import TransferMatrix

    path = csv_path(split, mode)
    rows, raws = read_rows(path), path.with_suffix(".jsonl")
    if not rows or not raws.exists():
        return 0
    stored = {}
    for line in raws.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        stored[raw["world"]] = raw
    changed = 0
    for row in rows:
        raw = stored.get(int(row["world"]))
        if row["method"] != "recommended" or raw is None:
            continue
        values = np.array(raw["per_seed"]).mean(axis=1)
        real = {tuple(o): v for o, v in zip(raw["orders"], values)}
        rec = recommend(TransferMatrix.from_dict(raw["matrix"]), seed=raw["world"])
        value = float(real[rec.order])
        row.update(
            route=rec.route,
            order=" > ".join(rec.order),
            value=f"{value:.6g}",
            percentile=f"{order_percentile(values, value):.6g}",
            beats_random=str(bool(value > values.mean() + 1e-12)),
            separable=str(rec.separable),
        )
        changed += 1
    path.unlink()
    append_rows(path, rows)
    return changed


def write_summary() -> str:
    text = ["# Evidence summary (generated by benchmarks/evidence.py; do not edit)", ""]
    text += route_choice("dev")
    text += verdict_choice_lines("dev")
    for split in SPLITS:
        for mode in split_modes(split):
            text += summarise(read_rows(csv_path(split, mode)), f"{split}, {mode}")
    for mode in ("exact", "sampled"):
        pooled = [row for split in HELDOUT for row in read_rows(csv_path(split, mode))]
        text += summarise(pooled, f"all held-out worlds ({' + '.join(HELDOUT)}), {mode}")
    out = "\n".join(text)
    (RESULTS / "evidence_summary.md").write_text(out + "\n", encoding="utf-8")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=list(SPLITS), default="heldout")
    parser.add_argument(
        "--mode", choices=list(MODES), default=None, help="default: the split's first"
    )
    parser.add_argument("--worlds", type=int, default=None, help="first K worlds of the split")
    parser.add_argument("--seeds", type=int, default=4, help="truth seeds per order")
    parser.add_argument("--curricula", type=int, default=3, help="calibrated search curricula")
    parser.add_argument("--no-replan", action="store_true")
    parser.add_argument("--time-budget", type=float, default=math.inf, help="seconds")
    parser.add_argument("--fresh", action="store_true", help="discard this split/mode's CSV")
    parser.add_argument("--summary", action="store_true", help="only regenerate the summary")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="recompute the recommended rows from the stored matrices, then summarise",
    )
    args = parser.parse_args()
    if args.rescore:
        for split in SPLITS:
            for mode in split_modes(split):
                print(f"{split} {mode}: {rescore(split, mode)} recommended rows recomputed")
    if args.summary or args.rescore:
        print(write_summary())
        return 0
    args.mode = args.mode or split_modes(args.split)[0]
    if args.mode not in split_modes(args.split):
        parser.error(f"--split {args.split} runs in mode(s) {', '.join(split_modes(args.split))}")
    path = csv_path(args.split, args.mode)
    if args.fresh:
        path.unlink(missing_ok=True)
        path.with_suffix(".jsonl").unlink(missing_ok=True)
    done = {int(r["world"]) for r in read_rows(path)}
    worlds = list(SPLITS[args.split])[: args.worlds]
    start = time.perf_counter()
    for world in worlds:
        if world in done:
            continue
        if time.perf_counter() - start > args.time_budget:
            print("time budget spent; resume to run the rest", file=sys.stderr)
            break
        t0 = time.perf_counter()
        rows, raw = run_world(world, args.mode, args.seeds, args.curricula, not args.no_replan)
        append_rows(
            path, [{"split": args.split, "mode": args.mode, "world": world, **r} for r in rows]
        )
        with path.with_suffix(".jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(raw) + "\n")
        pct = {r["method"]: r["percentile"] for r in rows}
        print(
            f"world {world} {world_spec(world)} {time.perf_counter() - t0:.1f} s: "
            + ", ".join(f"{k} {v:.0f}" for k, v in pct.items()),
            flush=True,
        )
    print(write_summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
