"""Re-planning during training vs a plan made once (built-in learner, all orders as truth).

Run: python benchmarks/replan.py [--mode exact|sampled] [--split heldout|dev] [--worlds W ...]
     (horizons; raw output ``benchmarks/results/replan_horizons_<split>_<mode>.csv``, resumable)
     python benchmarks/replan.py --floors [--mode ...] [--split ...]   (entropy floors, below)
     python benchmarks/replan.py --summary [--mode ...] [--split ...]  (floors table, no training)

Worlds: the rule of ``benchmarks/evidence.py`` (``world_spec``): development seeds 0-49,
held-out seeds 1000-1007, ``make_learner(*MIXES[w % 9], seed=w, mode=mode)``.

For each world every order is trained from one
starting model (all methods share it) with 3 training seeds; an order's true value is its
mean final score over tasks and seeds (in exact mode the seeds do not matter). A method's
"percentile" is :func:`taskorder.percentile.order_percentile` of its trained order
among all orders' true values (strictly worse plus half the ties; random = 50). "stages" counts every training stage the method ran (probes, branches and
the training itself; a probe reused as a training stage counts once), by wrapping the
runner with a counter.

- static: one full probe campaign at the starting model, the exact optimum trained
  (what ``taskorder train`` does without ``--replan``): n^2 + n stages.
- static rank rule: the same campaign, the greedy "least to most forgettable" order.
- replan h=H design=D: :func:`taskorder.replan.replan_training` with that horizon and
  second-stage design.
- best of k random: k random complete curricula run (one seed each), the best measured
  kept; k is chosen so its stages match replan h=3 full (equal training budget).

"model pctl" ranks the *delivered model* instead of its order: the exact (noise-free)
mean final score of the model each method hands over (static: its order trained once;
re-planning: its final state; best of k: the run it kept), against the same true values
of all orders. In sampled mode a method that picks among noisy runs can deliver a model
better or worse than its order's average.

With ``--floors``: for each world and each open task, the floor is fixed by a rule set in
advance and independent of every method: the **median, over all n! orders trained once
from the shared start, of that task's final entropy** (so about half of all orders meet
it: it binds and is reachable). Then these are trained and *measured* against it: the
static plan without the floor, the static plan solved with the floor on the probe entropy
matrix under each entropy model (``taskorder solve --entropy-floor``; a refusal counts as
a miss), re-planning without the floor, and re-planning with it (``--horizon``, default 3).
Raw output (one row per world, floor and method, appended per world so a run resumes):
``benchmarks/results/replan_floors_<split>_<mode>.csv``; ``--summary`` prints the table.
(Until 2026-11-30 the floor was set 0.1 nats above the re-planned run's own final
entropy, so the benchmark checked re-planning against a floor derived from itself.)
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from taskorder import solve
from taskorder.estimate import make_plan, run_campaign, run_curricula
from taskorder.learner import make_learner
from taskorder.percentile import order_percentile
from taskorder.replan import replan_training

sys.path.insert(0, str(Path(__file__).parent))
from calibrated import percentile, truth
from evidence import RESULTS, SPLITS, world_spec


class FixedStart:
    """One pretrained model for every method: ``initial_state`` ignores its seed.

    A user re-plans one run from one starting model, so every method and the ground
    truth start from the same state (the learner's ``init_noise`` would otherwise give
    each seed a slightly different world).
    """

    def __init__(self, runner, start_seed: int = 0):
        self.runner, self.start_seed = runner, start_seed

    def __getattr__(self, name):
        return getattr(self.runner, name)

    @property
    def tasks(self):
        return self.runner.tasks

    def initial_state(self, seed):
        return self.runner.initial_state(self.start_seed)

    def config_hash(self):
        return f"{self.runner.config_hash()}-start{self.start_seed}"


class Counting:
    """Delegates to a runner and counts ``train`` calls."""

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


def train_order(runner, order, steps: int, seed: int):
    """One curriculum from the shared start; returns the final state."""
    state = runner.initial_state(0)
    for k, task in enumerate(order):
        state = runner.train(state, task, steps=steps, seed=seed * 100 + k)
    return state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="exact", choices=["exact", "sampled"])
    parser.add_argument(
        "--split",
        default="heldout",
        choices=list(SPLITS),
        help="world seeds and mixes of benchmarks/evidence.py",
    )
    parser.add_argument(
        "--worlds", type=int, nargs="+", default=None, help="world seeds (default: the whole split)"
    )
    parser.add_argument("--floors", action="store_true", help="the entropy-floor table")
    parser.add_argument(
        "--summary",
        action="store_true",
        help="floors table from the committed CSV only (no training)",
    )
    parser.add_argument("--horizon", type=int, default=3, help="re-planning horizon (--floors)")
    parser.add_argument(
        "--entropy-model", default="multiplicative", help="re-planning's entropy model (--floors)"
    )
    args = parser.parse_args()
    if args.summary:
        print(floors_summary(read_csv(floors_path(args.split, args.mode))))
        return None
    if args.floors:
        return floors_table(args)
    args.worlds = args.worlds or list(SPLITS[args.split])
    print(f"mode={args.mode}  split={args.split}  worlds={args.worlds}")
    print(
        "pctl: the trained order's rank among all orders' true values; model pctl: the "
        "delivered model's exact mean final score ranked the same way"
    )
    print(
        f"{'world':>5} {'method':>26} {'stages':>6} {'pctl':>6} {'regret':>7} "
        f"{'model pctl':>10}  order"
    )
    summary: dict[str, list[tuple[float, float, int, float]]] = {}
    out = horizons_path(args.split, args.mode)
    done = {int(r["world"]) for r in read_csv(out)}
    rows: list[dict] = []

    def report(world, name, stages, order, real, delivered):
        pct = percentile(real, order)
        best, worst = max(real.values()), min(real.values())
        regret = (best - real[tuple(order)]) / (best - worst)
        model_pct = order_percentile(list(real.values()), delivered)
        summary.setdefault(name, []).append((pct, regret, stages, model_pct))
        rows.append(
            {
                "split": args.split,
                "mode": args.mode,
                "world": world,
                "n_structured": world_spec(world)[0],
                "n_open": world_spec(world)[1],
                "method": name,
                "stages": stages,
                "order": " > ".join(order),
                "pctl": pct,
                "regret": regret,
                "model_pctl": model_pct,
            }
        )
        print(
            f"{world:>5} {name:>26} {stages:>6} {pct:>6.1f} {regret:>7.3f} {model_pct:>10.1f}  "
            f"{' '.join(order)}",
            flush=True,
        )

    for world in args.worlds:
        if world in done:
            print(f"world {world}: done, skipped", flush=True)
            continue
        rows.clear()
        n_s, n_o = world_spec(world)
        base = FixedStart(make_learner(n_s, n_o, seed=world, mode=args.mode))
        judge = make_learner(n_s, n_o, seed=world, mode=args.mode, eval_groups=0)

        def exact_mean(state, judge=judge, tasks=base.tasks):  # noise-free evaluation
            return float(np.mean([judge.evaluate(state, t, seed=0).score for t in tasks]))

        steps = base.runner.config.stage_steps
        n = len(base.tasks)
        real = truth(base, steps)
        with tempfile.TemporaryDirectory() as folder:
            counting = Counting(base)
            campaign = run_campaign(
                counting, make_plan(base.tasks, steps=steps, seed=world), Path(folder) / "static"
            )
            matrix = campaign.estimate.matrix.replace(forward=None, forward_stderr=None)
            static_stages = counting.calls + n
            for name, method in (("static", "auto"), ("static rank rule", "rank")):
                order = solve(matrix, method=method).order
                delivered = exact_mean(train_order(base, order, steps, world))
                report(world, name, static_stages, order, real, delivered)
            budget = None
            for horizon, design in ((1, "full"), (2, "full"), (3, "full"), (3, "cheap")):
                counting = Counting(base)
                result = replan_training(
                    counting,
                    Path(folder) / f"h{horizon}{design}",
                    steps=steps,
                    horizon=horizon,
                    design=design,
                    seed=world,
                )
                report(
                    world,
                    f"replan h={horizon} {design}",
                    counting.calls,
                    result.order,
                    real,
                    exact_mean(result.final_state),
                )
                if (horizon, design) == (3, "full"):
                    budget = counting.calls
        k = max(1, budget // n)
        rng = np.random.default_rng(world)
        orders = list(real)
        picks = [orders[i] for i in rng.choice(len(orders), size=k, replace=False)]
        finals = [train_order(base, order, steps, 999 + world + i) for i, order in enumerate(picks)]
        measured = [
            np.mean([base.evaluate(f, t, seed=world).score for t in base.tasks]) for f in finals
        ]  # what a user sees: the runner's own (noisy) evaluation
        best = int(np.argmax(measured))
        report(world, f"best of {k} random", k * n, picks[best], real, exact_mean(finals[best]))
        append_csv(out, HORIZON_FIELDS, rows)
    print(
        "\nsummary over worlds (percentile: median / mean / worst; regret = share of the "
        "best-worst range lost, mean / worst; stages: mean; model pctl: median / mean / worst)"
    )
    for name, rows in summary.items():
        pct = np.array([r[0] for r in rows])
        reg = np.array([r[1] for r in rows])
        stages = np.mean([r[2] for r in rows])
        model = np.array([r[3] for r in rows])
        print(
            f"  {name:>26}: pctl {np.median(pct):5.1f} / {pct.mean():5.1f} / {pct.min():5.1f}"
            f"   regret {reg.mean():.3f} / {reg.max():.3f}   stages {stages:5.1f}"
            f"   model pctl {np.median(model):5.1f} / {model.mean():5.1f} / {model.min():5.1f}"
        )


HORIZON_FIELDS = [
    "split",
    "mode",
    "world",
    "n_structured",
    "n_open",
    "method",
    "stages",
    "order",
    "pctl",
    "regret",
    "model_pctl",
]


def horizons_path(split: str, mode: str) -> Path:
    """Raw output of the horizon comparison (one row per world and method, appended per world)."""
    return RESULTS / f"replan_horizons_{split}_{mode}.csv"


FLOOR_FIELDS = [
    "split",
    "mode",
    "world",
    "n_structured",
    "n_open",
    "task",
    "rule",
    "floor",
    "base_entropy",
    "feasible",
    "n_orders",
    "method",
    "order",
    "entropy",
    "met",
    "score",
    "score_pctl",
    "stages",
    "note",
]
#: Methods of the floors table, in report order.
FLOOR_METHODS = [
    "static unconstrained",
    "static additive",
    "static multiplicative",
    "replan unconstrained",
    "replan floored",
]


def floors_path(split: str, mode: str) -> Path:
    return RESULTS / f"replan_floors_{split}_{mode}.csv"


def floors_table(args) -> None:
    """Entropy floors set by a rule fixed in advance, independent of every method.

    Rule (``median``): the floor of an open task is the median, over all ``n!`` orders
    trained once from the shared start, of that task's final entropy. About half of
    all orders meet it, so it binds and it is reachable, and no method's own run enters
    it. Each method's trained model is then measured against it.
    """
    from taskorder.exceptions import ConstraintError

    out = floors_path(args.split, args.mode)
    done = {int(r["world"]) for r in read_csv(out)}
    worlds = args.worlds if args.worlds else list(SPLITS[args.split])
    print(
        f"mode={args.mode} split={args.split} floors: median over all orders of the task's "
        f"final entropy (1 training run per order, shared start); replan horizon {args.horizon}",
        flush=True,
    )
    for world in worlds:
        if world in done:
            print(f"world {world}: done, skipped", flush=True)
            continue
        t0 = time.time()
        n_s, n_o = world_spec(world)
        base = FixedStart(make_learner(n_s, n_o, seed=world, mode=args.mode))
        steps = base.runner.config.stage_steps
        tasks = base.tasks
        n = len(tasks)
        rows = []
        with tempfile.TemporaryDirectory() as folder:
            every = run_curricula(
                base, list(itertools.permutations(tasks)), seeds=1, steps=steps, seed=world
            )
            by_order = {run.order: run for run in every}
            scores = [float(run.scores[-1].mean()) for run in every]
            counting = Counting(base)
            estimate = run_campaign(
                counting, make_plan(tasks, steps=steps, seed=world), Path(folder) / "static"
            ).estimate
            static_stages = counting.calls + n
            matrix = estimate.matrix.replace(forward=None, forward_stderr=None)
            counting = Counting(base)
            free = replan_training(
                counting, Path(folder) / "free", steps=steps, seed=world, horizon=args.horizon
            )
            free_stages = counting.calls
            unconstrained = tuple(solve(matrix).order)
            for task in [t for t in tasks if t.startswith("open")]:
                column = tasks.index(task)
                finals = np.array([run.entropy[-1, column] for run in every])
                floor = float(np.median(finals))
                common = {
                    "split": args.split,
                    "mode": args.mode,
                    "world": world,
                    "n_structured": n_s,
                    "n_open": n_o,
                    "task": task,
                    "rule": "median",
                    "floor": floor,
                    "base_entropy": float(every[0].entropy[0, column]),
                    "feasible": int((finals >= floor).sum()),
                    "n_orders": len(every),
                }

                def add(
                    method,
                    order,
                    entropy,
                    score,
                    stages,
                    note="",
                    common=common,
                    floor=floor,
                    rows=rows,
                    scores=scores,
                ):
                    rows.append(
                        {
                            **common,
                            "method": method,
                            "order": " > ".join(order) if order else "",
                            "entropy": entropy,
                            "met": bool(entropy >= floor),
                            "score": score,
                            "score_pctl": order_percentile(scores, score),
                            "stages": stages,
                            "note": note,
                        }
                    )

                def add_order(
                    method, order, stages, note="", column=column, add=add, by_order=by_order
                ):
                    run = by_order[tuple(order)]
                    add(
                        method,
                        order,
                        float(run.entropy[-1, column]),
                        float(run.scores[-1].mean()),
                        stages,
                        note,
                    )

                add_order("static unconstrained", unconstrained, static_stages)
                for model in ("additive", "multiplicative"):
                    try:
                        order = solve(
                            matrix,
                            entropy=estimate.entropy,
                            entropy_floor={task: floor},
                            entropy_model=model,
                        ).order
                    except ConstraintError:
                        rows.append(
                            {
                                **common,
                                "method": f"static {model}",
                                "order": "",
                                "entropy": "",
                                "met": False,
                                "score": "",
                                "score_pctl": "",
                                "stages": static_stages - n,
                                "note": "refused",
                            }
                        )
                        continue
                    add_order(f"static {model}", order, static_stages)
                add(
                    "replan unconstrained",
                    free.order,
                    float(free.entropy[-1, column]),
                    float(free.scores[-1].mean()),
                    free_stages,
                )
                counting = Counting(base)
                held = replan_training(
                    counting,
                    Path(folder) / f"held-{task}",
                    steps=steps,
                    seed=world,
                    entropy_floor={task: floor},
                    horizon=args.horizon,
                    entropy_model=args.entropy_model,
                )
                note = (
                    "unreachable in last stages"
                    if any("no order meets" in d.reason for d in held.decisions)
                    else ""
                )
                add(
                    "replan floored",
                    held.order,
                    float(held.entropy[-1, column]),
                    float(held.scores[-1].mean()),
                    counting.calls,
                    note,
                )
        append_csv(out, FLOOR_FIELDS, rows)
        for row in rows:
            print(
                f"{world:>5} {row['task']:>7} floor {row['floor']:.3f} feasible "
                f"{row['feasible']}/{row['n_orders']} {row['method']:>22}: "
                f"{row['entropy'] if row['entropy'] == '' else format(row['entropy'], '.3f'):>6} "
                f"{'met' if row['met'] else 'MISS':>4} {row['note']}",
                flush=True,
            )
        print(f"world {world}: {time.time() - t0:.0f} s", flush=True)
    print(floors_summary(read_csv(out)))


def floors_summary(rows: list[dict]) -> str:
    """Markdown table from the raw CSV: floors met per method, score percentile."""
    if not rows:
        return ""
    worlds = sorted({int(r["world"]) for r in rows})
    floors = {(r["world"], r["task"]) for r in rows}
    lines = [
        (
            f"{rows[0]['split']}, {rows[0]['mode']}: {len(floors)} floors in {len(worlds)} "
            f"worlds ({', '.join(map(str, worlds))}); rule: median over all orders of the "
            "task's final entropy"
        ),
        "",
        "| method | floors met | refused | score pctl min / median / max | stages (median) |",
        "|---|---|---|---|---|",
    ]
    for method in FLOOR_METHODS:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        met = sum(r["met"] == "True" for r in mine)
        refused = sum(r["note"] == "refused" for r in mine)
        pct = [float(r["score_pctl"]) for r in mine if r["score_pctl"] != ""]
        pct_text = f"{min(pct):.1f} / {np.median(pct):.1f} / {max(pct):.1f}" if pct else "—"
        stages = np.median([float(r["stages"]) for r in mine])
        lines.append(f"| {method} | {met} of {len(mine)} | {refused} | {pct_text} | {stages:.0f} |")
    share = [
        int(r["feasible"]) / int(r["n_orders"]) for r in rows if r["method"] == FLOOR_METHODS[0]
    ]
    lines += [
        "",
        (
            f"share of all orders meeting a floor (a random order's chance): min / "
            f"median / max {min(share):.2f} / {np.median(share):.2f} / {max(share):.2f}"
        ),
    ]
    return "\n".join(lines) + "\n"


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def append_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )


if __name__ == "__main__":
    sys.exit(main())
