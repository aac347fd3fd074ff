"""Probe-campaign wall time vs number of tasks and workers, on the built-in learner.

Run: ``PYTHONPATH=src python benchmarks/probes.py [--n 4 6 8] [--workers 1 2]
[--steps 40] [--mode exact] [--ray]``. Not a test (speed belongs in benchmarks); it
prints the table quoted in ``docs/estimator.md``.

``--fidelity`` instead runs probe -> validate over several learner worlds and both
training modes and prints one row of fidelity numbers per instance (also quoted in
``docs/estimator.md``).

Every row is a complete campaign into a fresh folder (n first-stage and n(n-1)
second-stage probes, every task evaluated after each, ``repeats`` times, one SQLite
store, first-stage states written atomically). ``bare loop`` is the same training
and evaluation in a plain Python loop with no store, no state files and no
executor: the difference is the coordinator's overhead. ``same`` checks that the
matrix equals the in-process one bit for bit.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from taskorder.estimate import make_plan, run_campaign
from taskorder.estimate.executors import make_executor
from taskorder.learner import make_learner


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


def fidelity(args) -> None:
    """probe -> validate on several worlds; one row per (mode, n, world seed)."""
    from taskorder.estimate import validate

    models = ("backward_only", "additive", "multiplicative")
    print(
        f"repeats={args.repeats} steps={args.steps} validation seeds={args.seeds} "
        f"orders={'all' if args.all_orders else f'{args.n_random} random + specials'}"
    )
    head = (
        f"{'mode':>7} {'n':>2} {'world':>5} "
        + " ".join(f"{m[:13]:>13}" for m in models)
        + f" {'ceiling':>7} {'solver%':>7} {'rank%':>6} {'bwo%':>6} {'mult%':>6} {'rand%':>6} {'gain':>16}"
    )
    print(head)
    for mode in args.modes:
        for n in args.n:
            for world in args.world_seeds:
                runner = make_learner(n_structured=2, n_open=n - 2, mode=mode, seed=world)
                plan = make_plan(runner.tasks, repeats=args.repeats, steps=args.steps)
                with tempfile.TemporaryDirectory() as folder:
                    estimate = run_campaign(runner, plan, folder).estimate
                report = validate(
                    runner,
                    estimate.matrix,
                    seeds=args.seeds,
                    steps=args.steps,
                    all_orders=args.all_orders and n <= 6,
                    n_random=args.n_random,
                    executor="process" if args.workers[-1] > 1 else "inprocess",
                    workers=args.workers[-1],
                )
                real, gain = report.realised, report.gains
                print(
                    f"{mode:>7} {n:>2} {world:>5} "
                    + " ".join(f"{report.models[m]['spearman']:>+13.2f}" for m in models)
                    + f" {report.noise_ceiling['ceiling']:>7.2f} {real['solver']['percentile']:>7.0f}"
                    f" {real['rank_rule']['percentile']:>6.0f}"
                    f" {real['best:backward_only']['percentile']:>6.0f}"
                    f" {real['best:multiplicative']['percentile']:>6.0f}"
                    f" {real.get('random_mean', {}).get('percentile', float('nan')):>6.0f}"
                    f" {gain['recommended_minus_reference']:>+8.4f}±{gain['se']:.4f}",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[4, 6, 8], help="task counts")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="process-pool sizes")
    parser.add_argument("--steps", type=int, default=40, help="steps per stage")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--mode", default="exact", choices=["exact", "sampled"])
    parser.add_argument("--ray", action="store_true", help="also time a local Ray instance")
    parser.add_argument("--fidelity", action="store_true", help="probe -> validate sweep instead")
    parser.add_argument("--modes", nargs="+", default=["exact", "sampled"])
    parser.add_argument("--world-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seeds", type=int, default=6, help="validation seeds per order")
    parser.add_argument("--all-orders", action="store_true", help="validate all n! orders (n <= 6)")
    parser.add_argument("--n-random", type=int, default=20)
    args = parser.parse_args()
    if args.fidelity:
        fidelity(args)
        return

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


if __name__ == "__main__":
    main()
