"""Probe-campaign wall time vs number of tasks and workers, on the built-in learner.

Run: ``python benchmarks/probes.py [--n 4 6 8] [--workers 1 2] [--steps 40]
[--mode exact] [--ray] [--out benchmarks/results/probes_walltime.csv]``. Not a test
(speed belongs in benchmarks); the raw output (one row per campaign, with the load
average at the start) is what ``benchmarks/report.py`` renders in ``docs/estimator.md``.
How well probes predict orders is measured by ``benchmarks/evidence.py``.

Every row is a complete campaign into a fresh folder (n first-stage and n(n-1)
second-stage probes, every task evaluated after each, ``repeats`` times, one SQLite
store, first-stage states written atomically). ``bare loop`` is the same training
and evaluation in a plain Python loop with no store, no state files and no
executor: the difference is the coordinator's overhead. ``same`` checks that the
matrix equals the in-process one bit for bit.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time

from taskorder.estimate import make_plan, run_campaign
from taskorder.estimate.executors import make_executor
from taskorder.learner import LEARNER_VERSION, make_learner

FIELDS = [
    "mode",
    "steps",
    "repeats",
    "cpus",
    "load_avg",
    "learner_version",
    "n",
    "probes",
    "executor",
    "workers",
    "wall_s",
    "same_matrix",
]


def bare_loop(runner, plan) -> float:
    """Train and evaluate every probe of ``plan`` in a loop (no store, no files)."""
    start = time.perf_counter()
    for r in range(plan.repeats):
        base = runner.initial_state(r)
        [runner.evaluate(base, t, seed=r) for t in plan.tasks]
        first = {}
        for task in plan.tasks:
            first[task] = runner.train(base, task, steps=plan.steps, seed=r)
            [runner.evaluate(first[task], t, seed=r) for t in plan.tasks]
        for earlier, later in plan.pairs:
            state = runner.train(first[earlier], later, steps=plan.steps, seed=r)
            [runner.evaluate(state, t, seed=r) for t in plan.tasks]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[4, 6, 8], help="task counts")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="process-pool sizes")
    parser.add_argument("--steps", type=int, default=40, help="steps per stage")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--mode", default="exact", choices=["exact", "sampled"])
    parser.add_argument("--ray", action="store_true", help="also time a local Ray instance")
    parser.add_argument("--out", type=str, default=None, help="also write the rows to this CSV")
    args = parser.parse_args()
    rows = []

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"mode={args.mode} steps={args.steps} repeats={args.repeats} cpus={os.cpu_count()} "
        f"load average at start={load:.1f}"
    )
    header = f"{'n':>3} {'probes':>6} {'executor':>10} {'workers':>7} {'wall s':>8} {'probes/s':>9} {'vs 1 proc':>9} same"
    print(header)
    print("-" * len(header))
    for n in args.n:
        runner = make_learner(n_structured=n // 2, n_open=n - n // 2, mode=args.mode)
        plan = make_plan(runner.tasks, repeats=args.repeats, steps=args.steps)
        n_probes = len(plan.probes())
        bare = bare_loop(runner, plan)
        print(
            f"{n:>3} {n_probes:>6} {'bare loop':>10} {1:>7} {bare:>8.2f} {n_probes / bare:>9.1f} {'':>9}"
        )
        common = {
            "mode": args.mode,
            "steps": args.steps,
            "repeats": args.repeats,
            "cpus": os.cpu_count(),
            "load_avg": f"{load:.1f}",
            "learner_version": LEARNER_VERSION,
            "n": n,
            "probes": n_probes,
        }
        rows.append(
            {
                **common,
                "executor": "bare loop",
                "workers": 1,
                "wall_s": f"{bare:.3f}",
                "same_matrix": "",
            }
        )
        settings = [("inprocess", 1)] + [("process", w) for w in args.workers]
        if args.ray:
            settings += [("ray", max(args.workers))]
        reference, baseline = None, None
        for kind, workers in settings:
            executor = make_executor(kind, workers=workers if kind != "inprocess" else None)
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                result = run_campaign(runner, plan, folder, executor=executor)
                wall = time.perf_counter() - start
            if reference is None:
                reference = result.estimate.matrix
            if kind == "process" and workers == 1:
                baseline = wall
            ratio = f"{baseline / wall:.2f}x" if baseline else ""
            same = result.estimate.matrix == reference
            print(
                f"{n:>3} {n_probes:>6} {kind:>10} {workers:>7} {wall:>8.2f} {n_probes / wall:>9.1f} {ratio:>9} {same}"
            )
            rows.append(
                {
                    **common,
                    "executor": kind,
                    "workers": workers,
                    "wall_s": f"{wall:.3f}",
                    "same_matrix": same,
                }
            )
    if args.out:
        with open(args.out, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
