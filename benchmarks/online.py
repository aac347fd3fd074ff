"""Online schedules vs offline planning on the built-in learner: dev tuning, held-out report.

Run (resumable: worlds already in a CSV are skipped; ``--fresh`` starts that CSV over)::

    python benchmarks/online.py --split dev --mode exact       # tuning grid, dev worlds
    python benchmarks/online.py --split dev --mode sampled
    python benchmarks/online.py --split heldout --mode exact   # compare's methods, defaults
    python benchmarks/online.py --split heldout --mode sampled
    python benchmarks/online.py --overhead                     # TAC's alignment cost
    python benchmarks/online.py --summary                      # markdown from the CSVs only

Worlds: the rule of ``benchmarks/evidence.py`` (:func:`world_spec`, ``make_learner(n_s,
n_o, seed=w, mode=mode)``, default configuration: 40 steps per stage, n = 3..5 tasks).

- **dev** (world seeds 0-49; ``--worlds K`` runs the first K): the defaults the papers
  do not fix are chosen here only. Each online policy runs one online stage of
  ``n * 40`` steps per option value of a small grid (``GRID``), ``DEV_SEEDS`` seeds,
  beside joint training from the same base states; the choice is the value with the
  best mean gain over joint across dev worlds and both modes.
- **heldout** (world seeds 1000-1015, never used for a choice): :func:`taskorder.compare.compare`
  with ``HELDOUT_METHODS``, ``--seeds`` seeds (default 4), library defaults, and the
  matrix of a full probe campaign (``n + n(n-1)`` probes, 2 repeats, as ``taskorder
  probe`` and ``benchmarks/evidence.py``) whose training steps are the probed methods' cost.
- **overhead**: per held-out world and mode, the same online stage timed with
  ``tac(transfer=0)`` (same decisions as ``sec``, plus per-task gradients and cosines)
  and with ``sec``, interleaved, ``OVERHEAD_REPEATS`` times; the ratio of medians.

Outputs under ``benchmarks/results/``: ``online_dev_<mode>.csv`` (world x option row),
``online_heldout_<mode>.csv`` (world x method row), ``online_overhead.csv`` and
``online_summary.md`` (min / median / max over worlds; regenerated after every run).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from evidence import world_spec  # the world rule, written once

from taskorder.compare import compare
from taskorder.estimate import make_plan, run_campaign
from taskorder.learner import LEARNER_VERSION, make_learner
from taskorder.learner.online import train_online
from taskorder.online import make_policy
from taskorder.seeds import derive_seed

RESULTS = Path(__file__).parent / "results"
SPLITS = {"dev": range(50), "heldout": range(1000, 1016)}
MODES = ("exact", "sampled")
HELDOUT_METHODS = ("solver", "refresh", "hybrid", "joint", "sec", "tac", "worst_task")
DEV_SEEDS = 2
OVERHEAD_REPEATS = 5
#: Dev grid: (policy, options) pairs; the first entry of each policy is the paper's form.
GRID = [
    *(("sec", {"alpha": a, "tau": t}) for a in (0.5, 1.0) for t in (0.05, 0.1, 0.2, 0.5, 1.0)),
    *(("tac", {"alpha": 0.5, "tau": 0.2, "transfer": x}) for x in (0.5, 1.0, 2.0)),
    *(("worst_task", {"eta": e}) for e in (0.5, 1.0, 2.0, 4.0)),
    # added after the first 14 exact worlds showed SEC best at its most uniform setting:
    # TAC at that setting (TAC is SEC plus the transfer term), and worst_task's slower rates
    *(("tac", {"alpha": 1.0, "tau": 1.0, "transfer": x}) for x in (0.5, 1.0, 2.0)),
    *(("worst_task", {"eta": e}) for e in (0.1, 0.25)),
]
#: What each policy is tuned for on the dev worlds: the mean score (sec, tac) or the
#: worst task's score (worst_task, whose aim it is), each as a gain over joint training.
TUNED_ON = {"sec": "gain_vs_joint_pct", "tac": "gain_vs_joint_pct", "worst_task": "worst_gain"}
DEV_FIELDS = [
    "split", "mode", "world", "n_structured", "n_open", "policy", "options", "seeds",
    "score", "joint", "gain_vs_joint_pct", "worst_task", "joint_worst_task", "learner_version",
]  # fmt: skip
HELDOUT_FIELDS = [
    "split", "mode", "world", "n_structured", "n_open", "method", "kind", "seeds",
    "total_steps", "score", "std", "seed_min", "seed_max", "worst_task", "gain_vs_joint_pct",
    "p_vs_joint", "probe_steps", "overhead_s", "online_elapsed_s", "cost_steps",
    "best_online", "gain_vs_best_online_pct", "p_vs_best_online", "worth_probes",
    "order", "learner_version",
]  # fmt: skip
OVERHEAD_FIELDS = ["mode", "world", "n_tasks", "steps", "sec_s", "tac_s", "ratio", "alignment_s"]


def _csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        if new:
            writer.writeheader()
        writer.writerows(rows)


def _done(path: Path) -> set[int]:
    if not path.exists():
        return set()
    with path.open() as handle:
        return {int(row["world"]) for row in csv.DictReader(handle)}


def _scores(runner, state, seed: int) -> np.ndarray:
    return np.array([runner.evaluate(state, t, seed=seed).score for t in runner.tasks])


def _dev_done(path: Path) -> set[tuple[int, str, str]]:
    return {(int(r["world"]), r["policy"], r["options"]) for r in _read(path)}


def _key(entry: tuple[str, dict]) -> tuple[str, str]:
    return entry[0], json.dumps(entry[1], sort_keys=True)


def dev_world(world: int, mode: str, skip: set[tuple[int, str, str]] = frozenset()) -> list[dict]:
    """The grid entries not in ``skip`` and joint training, on one dev world."""
    n_s, n_o = world_spec(world)
    runner = make_learner(n_s, n_o, seed=world, mode=mode)
    steps = len(runner.tasks) * runner.config.stage_steps
    grid = [entry for entry in GRID if (world, *_key(entry)) not in skip]
    joint, joint_worst, runs = [], [], {k: [] for k in range(len(grid))}
    for s in range(DEV_SEEDS):
        base = runner.initial_state(derive_seed(world, "online-dev", "init", s))
        eval_seed = derive_seed(world, "online-dev", "eval", s)
        mix = {t: 1.0 / len(runner.tasks) for t in runner.tasks}
        final = runner.train(base, mix, steps=steps, seed=derive_seed(world, "online-dev", s))
        scores = _scores(runner, final, eval_seed)
        joint.append(scores.mean())
        joint_worst.append(scores.min())
        for k, (name, options) in enumerate(grid):
            policy = make_policy(
                name, runner.tasks, seed=derive_seed(world, "policy", s), **options
            )
            seed = derive_seed(world, "online-dev", s)
            stage = train_online(runner, base, policy, steps=steps, seed=seed)
            runs[k].append(_scores(runner, stage.state, eval_seed))
    rows = []
    for k, (name, options) in enumerate(grid):
        scores = np.array(runs[k])
        score, ref = float(scores.mean()), float(np.mean(joint))
        rows.append({
            "split": "dev", "mode": mode, "world": world, "n_structured": n_s, "n_open": n_o,
            "policy": name, "options": json.dumps(options, sort_keys=True), "seeds": DEV_SEEDS,
            "score": score, "joint": ref, "gain_vs_joint_pct": (score - ref) / ref * 100,
            "worst_task": float(scores.min(axis=1).mean()),
            "joint_worst_task": float(np.mean(joint_worst)), "learner_version": LEARNER_VERSION,
        })  # fmt: skip
    return rows


def heldout_world(world: int, mode: str, seeds: int) -> list[dict]:
    """compare's methods on one held-out world, with a 2-repeat probe campaign."""
    n_s, n_o = world_spec(world)
    runner = make_learner(n_s, n_o, seed=world, mode=mode)
    stage_steps = runner.config.stage_steps
    with tempfile.TemporaryDirectory() as folder:
        plan = make_plan(runner.tasks, repeats=2, steps=stage_steps, seed=world)
        matrix = run_campaign(runner, plan, Path(folder)).estimate.matrix
    probe_steps = sum(p.steps for p in plan.probes() if p.kind != "base")
    report = compare(
        runner, methods=HELDOUT_METHODS, seeds=seeds, seed=world, matrix=matrix,
        probe_steps=probe_steps, reference="joint",
    )  # fmt: skip
    planning = {item["method"]: item for item in report.planning}
    rows = []
    for name, result in report.methods.items():
        item = report.comparison(name, "joint")
        verdict = planning.get(name, {})
        rows.append({
            "split": "heldout", "mode": mode, "world": world, "n_structured": n_s,
            "n_open": n_o, "method": name, "kind": result.kind, "seeds": seeds,
            "total_steps": result.total_steps, "score": result.mean, "std": result.std,
            "seed_min": float(result.seed_means.min()),
            "seed_max": float(result.seed_means.max()),
            "worst_task": float(result.scores.min(axis=1).mean()),
            "gain_vs_joint_pct": 0.0 if item is None else item.gain_pct,
            "p_vs_joint": "" if item is None or np.isnan(item.p_value) else item.p_value,
            "probe_steps": result.probe_steps, "overhead_s": result.overhead_s,
            "online_elapsed_s": result.elapsed_s, "cost_steps": result.cost_steps,
            "best_online": verdict.get("best_online", ""),
            "gain_vs_best_online_pct": verdict.get("gain_pct", ""),
            "p_vs_best_online": verdict.get("p_value", "") if verdict else "",
            "worth_probes": verdict.get("worth_probes", ""),
            "order": " > ".join(report.probe["orders"]["solver"]) if name in planning else "",
            "learner_version": LEARNER_VERSION,
        })  # fmt: skip
    return rows


def overhead_world(world: int, mode: str) -> dict:
    """Median wall time of the same stage with tac(transfer=0) and with sec."""
    n_s, n_o = world_spec(world)
    runner = make_learner(n_s, n_o, seed=world, mode=mode)
    steps = len(runner.tasks) * runner.config.stage_steps
    base = runner.initial_state(0)
    times = {"sec": [], "tac": []}
    alignment = []
    for _ in range(OVERHEAD_REPEATS):
        sec = make_policy("sec", runner.tasks)  # tac below makes the same decisions
        same = {"alpha": sec.alpha, "tau": sec.tau, "transfer": 0.0}
        for name, options in (("sec", {}), ("tac", same)):
            policy = make_policy(name, runner.tasks, seed=0, **options)
            tick = time.perf_counter()
            stage = train_online(runner, base, policy, steps=steps, seed=world)
            times[name].append(time.perf_counter() - tick)
            if name == "tac":
                alignment.append(stage.alignment_s)
    sec, tac = statistics.median(times["sec"]), statistics.median(times["tac"])
    return {
        "mode": mode, "world": world, "n_tasks": n_s + n_o, "steps": steps, "sec_s": sec,
        "tac_s": tac, "ratio": tac / sec, "alignment_s": statistics.median(alignment),
    }  # fmt: skip


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _spread(values: list[float], digits: int = 3) -> str:
    if not values:
        return "-"
    v = sorted(values)
    return f"{statistics.median(v):.{digits}f} [{v[0]:.{digits}f}, {v[-1]:.{digits}f}]"


def _worst_gain(row: dict) -> float:
    """Gain of the worst task's score over joint's worst task, in percent."""
    return (
        (float(row["worst_task"]) - float(row["joint_worst_task"]))
        / float(row["joint_worst_task"])
        * 100
    )


def _gain(row: dict, metric: str) -> float:
    return _worst_gain(row) if metric == "worst_gain" else float(row[metric])


def dev_choice() -> dict[str, tuple[str, float, int]]:
    """Per policy: the options with the best mean gain over joint on its ``TUNED_ON`` metric,
    over the dev worlds of both modes (options run on every dev world of both modes only)."""
    rows = [r for m in MODES for r in _read(RESULTS / f"online_dev_{m}.csv")]
    complete = {(r["mode"], int(r["world"])) for r in rows}
    out = {}
    for policy in ("sec", "tac", "worst_task"):
        gains: dict[str, list[float]] = {}
        for row in rows:
            if row["policy"] == policy:
                gains.setdefault(row["options"], []).append(_gain(row, TUNED_ON[policy]))
        gains = {k: v for k, v in gains.items() if len(v) == len(complete)}
        if gains:
            best = max(gains, key=lambda k: statistics.mean(gains[k]))
            out[policy] = (best, statistics.mean(gains[best]), len(gains[best]))
    return out


def summary() -> str:
    lines = [
        "# Online schedules vs offline planning (built-in learner)",
        "",
        "Generated by `python benchmarks/online.py --summary` from the CSVs next to this file;",
        "see the docstring of `benchmarks/online.py` for what each row is.",
        "",
    ]
    lines += _dev_section()
    for mode in MODES:
        lines += _heldout_section(mode)
    lines += _overhead_section()
    return "\n".join(lines) + "\n"


def _dev_section() -> list[str]:
    rows = [r for m in MODES for r in _read(RESULTS / f"online_dev_{m}.csv")]
    if not rows:
        return []
    worlds = {m: sorted({int(r["world"]) for r in rows if r["mode"] == m}) for m in MODES}
    lines = [
        "## Development worlds: choosing the defaults",
        "",
        (
            f"Worlds: exact {len(worlds['exact'])}, sampled {len(worlds['sampled'])} (seeds "
            f"{DEV_SEEDS}); one online stage of n x 40 steps vs joint training from the same bases."
        ),
        "",
        (
            "| policy | options | worlds x modes | mean score, gain vs joint %: mean | median "
            "[min, max] | worst task, gain vs joint's %: mean |"
        ),
        "|---|---|---:|---:|---|---:|",
    ]
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["policy"], row["options"]), []).append(row)
    for (policy, options), mine in groups.items():
        gains = [float(r["gain_vs_joint_pct"]) for r in mine]
        worst = [_worst_gain(r) for r in mine]
        lines.append(
            f"| {policy} | `{options}` | {len(gains)} | {statistics.mean(gains):+.2f} | "
            f"{_spread(gains, 2)} | {statistics.mean(worst):+.2f} |"
        )
    lines += ["", "Chosen (best mean gain over joint; sec and tac on the mean score, "
              "worst_task on the worst task's score; options run on every dev world): " + "; ".join(
        f"{p} `{o}` ({g:+.2f} %)" for p, (o, g, _) in dev_choice().items()), ""]  # fmt: skip
    return lines


def best_counts(rows: list[dict]) -> dict[str, int]:
    """How many worlds each method is best in (highest ``score``; the first row wins ties)."""
    best: dict[int, dict] = {}
    for r in rows:
        w = int(r["world"])
        if w not in best or float(r["score"]) > float(best[w]["score"]):
            best[w] = r
    counts: dict[str, int] = {}
    for r in best.values():
        counts[r["method"]] = counts.get(r["method"], 0) + 1
    return counts


def _heldout_section(mode: str) -> list[str]:
    rows = _read(RESULTS / f"online_heldout_{mode}.csv")
    if not rows:
        return []
    worlds = sorted({int(r["world"]) for r in rows})
    seeds = rows[0]["seeds"]
    lines = [
        f"## Held-out worlds, {mode} mode",
        "",
        (
            f"Worlds {worlds[0]}-{worlds[-1]} ({len(worlds)}), {seeds} seeds each, every method "
            "n x 40 training steps. Per world: the mean final score over tasks and seeds; "
            "gain and paired t-test (p < 0.05) against joint training; wins = worlds where "
            "the method is significantly better / worse than joint. Cost: training steps "
            "beyond the equal budget (probe campaign for planned methods, online overhead in "
            "step equivalents for online ones), as a multiple of one training run."
        ),
        "",
        (
            "| method | score: median [min, max] | gain vs joint %: median [min, max] | better / "
            "worse than joint | worst task: median | cost (x run): median |"
        ),
        "|---|---|---|---:|---:|---:|",
    ]
    for method in HELDOUT_METHODS:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        gains = [float(r["gain_vs_joint_pct"]) for r in mine]
        sig = [
            r for r in mine if r["p_vs_joint"] not in ("", None) and float(r["p_vs_joint"]) < 0.05
        ]
        better = sum(float(r["gain_vs_joint_pct"]) > 0 for r in sig)
        cost = [float(r["cost_steps"]) / float(r["total_steps"]) for r in mine]
        lines.append(
            f"| {method} | {_spread([float(r['score']) for r in mine], 4)} | "
            f"{_spread(gains, 1) if method != 'joint' else '-'} | "
            f"{f'{better} / {len(sig) - better}' if method != 'joint' else '-'} | "
            f"{statistics.median(float(r['worst_task']) for r in mine):.4f} | "
            f"{statistics.median(cost):.3g} |"
        )
    lines += ["", ("Is offline planning worth its probes? Against the best online method of "
              "each world (highest mean score), at equal training steps:"), "",
              ("| planned method | gain vs best online %: median [min, max] | worlds worth "
              "the probes (significantly better) | significantly worse |"), "|---|---|---:|---:|"]  # fmt: skip
    for method in ("solver", "refresh", "hybrid"):
        mine = [r for r in rows if r["method"] == method and r["gain_vs_best_online_pct"] != ""]
        if not mine:
            continue
        gains = [float(r["gain_vs_best_online_pct"]) for r in mine]
        worth = sum(r["worth_probes"] == "True" for r in mine)
        worse = sum(
            r["p_vs_best_online"] not in ("", None) and float(r["p_vs_best_online"]) < 0.05
            and float(r["gain_vs_best_online_pct"]) < 0 for r in mine
        )  # fmt: skip
        lines.append(f"| {method} | {_spread(gains, 1)} | {worth} of {len(mine)} | {worse} |")
    by_world = {(r["world"], r["method"]): float(r["score"]) for r in rows}
    planned = [
        w for w in {r["world"] for r in rows}
        if by_world.get((w, "refresh")) != by_world.get((w, "solver"))
    ]  # fmt: skip
    lines += [
        "",
        (
            f"`refresh` planned refresh stages in {len(planned)} of {len(worlds)} worlds (in the "
            "others the plan was empty and `refresh` trained the `solver` schedule)."
        ),
    ]
    counts = best_counts(rows)
    lines += ["", "Best method per world (highest mean score): " + ", ".join(
        f"{m} {c}" for m, c in sorted(counts.items(), key=lambda x: -x[1])) + ".", ""]  # fmt: skip
    return lines


def _overhead_section() -> list[str]:
    rows = _read(RESULTS / "online_overhead.csv")
    if not rows:
        return []
    lines = [
        "## TAC's overhead",
        "",
        (
            f"The same online stage (n x 40 steps) timed {OVERHEAD_REPEATS} times with "
            "`tac(transfer=0)` (same decisions as `sec`, plus per-task gradients and their "
            "cosines) and with `sec`, interleaved; ratio of the median wall times. The "
            "learner's step is tiny (8 x 8 + 8 parameters), so fixed per-batch bookkeeping "
            "weighs more here than where the model's step dominates; timings share the "
            "machine with other jobs (ratios below 1 are that noise)."
        ),
        "",
        "| mode | worlds | tac / sec wall time: median [min, max] | alignment share of the tac stage: median |",
        "|---|---:|---|---:|",
    ]
    for mode in MODES:
        mine = [r for r in rows if r["mode"] == mode]
        if mine:
            share = statistics.median(float(r["alignment_s"]) / float(r["tac_s"]) for r in mine)
            lines.append(
                f"| {mode} | {len(mine)} | {_spread([float(r['ratio']) for r in mine], 3)} | "
                f"{share:.1%} |"
            )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=list(SPLITS))
    parser.add_argument("--mode", choices=MODES, default="exact")
    parser.add_argument("--worlds", type=int, default=None, help="Run the first K worlds.")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--overhead", action="store_true")
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--time-budget", type=float, default=None, help="Seconds; then stop.")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    start = time.perf_counter()
    if args.overhead:
        path = RESULTS / "online_overhead.csv"
        if args.fresh and path.exists():
            path.unlink()
        done = {(r["mode"], int(r["world"])) for r in _read(path)}
        for mode in MODES:
            for world in SPLITS["heldout"]:
                if (mode, world) not in done:
                    _csv(path, OVERHEAD_FIELDS, [overhead_world(world, mode)])
                    print(f"overhead {mode} world {world}", file=sys.stderr)
    elif args.split:
        path = RESULTS / f"online_{args.split}_{args.mode}.csv"
        if args.fresh and path.exists():
            path.unlink()
        done = _done(path) if args.split == "heldout" else set()
        skip = _dev_done(path) if args.split == "dev" else set()
        worlds = list(SPLITS[args.split])[: args.worlds]
        for world in worlds:
            if world in done or all((world, *_key(e)) in skip for e in GRID):
                continue
            if args.time_budget and time.perf_counter() - start > args.time_budget:
                print("time budget reached; run again to resume", file=sys.stderr)
                break
            tick = time.perf_counter()
            if args.split == "dev":
                rows, fields = dev_world(world, args.mode, skip), DEV_FIELDS
            else:
                rows, fields = heldout_world(world, args.mode, args.seeds), HELDOUT_FIELDS
            _csv(path, fields, rows)
            print(f"{args.split} {args.mode} world {world}: {time.perf_counter() - tick:.1f} s",
                  file=sys.stderr)  # fmt: skip
    (RESULTS / "online_summary.md").write_text(summary())
    if args.summary:
        print(summary())


if __name__ == "__main__":
    main()
