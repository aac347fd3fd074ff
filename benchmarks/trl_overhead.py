"""Overhead of the schedule adapter per GRPO step, against a plain GRPOTrainer.

Identical workload: both trainers get the same dataset, model, seed and batch
geometry with ``shuffle_dataset=False``, and the scheduled one has a one-stage
schedule over a constant ``group`` column installed with ``apply_schedule``. Its
index stream is then exactly ``RepeatSampler``'s (checked in the test suite), so both
runs generate the same completions and end with the same weights (checked here):
any difference in time is the adapter's. Runs alternate (plain, scheduled, ...)
and each pair gives a ratio; the median pair ratio is reported, for wall time and
for process CPU time (less sensitive to other jobs on a shared machine).

The sampler's own cost for a three-stage schedule with a mixed stage (planning and
iterating the whole index stream) is also timed directly. The stage callback is not
included: evaluating held-out prompts is work the user asks for, not overhead.

Usage::

    PYTHONPATH=src python benchmarks/trl_overhead.py [--steps 30] [--repeats 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path


def build_trainer(model_dir: Path, tasks, output_dir: Path, steps: int):
    from trl import GRPOTrainer

    from taskorder.trl.data import multitask_dataset
    from taskorder.trl.grpo_args import load_policy, make_grpo_config, quiet_trainer
    from taskorder.trl.reward_specs import for_task

    model, tokenizer = load_policy(model_dir)
    settings = {
        "num_generations": 4,
        "per_device_train_batch_size": 8,
        "max_completion_length": 8,
        "learning_rate": 1e-3,
        "logging_steps": 10,
        "shuffle_dataset": False,
    }
    dataset = multitask_dataset(tasks)
    dataset = dataset.add_column("group", ["all"] * len(dataset))
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[for_task(t.name, t.reward_function()) for t in tasks],
        args=make_grpo_config(output_dir, settings, seed=0, max_steps=steps),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    quiet_trainer(trainer)
    return trainer


def timed_run(model_dir, tasks, folder, steps, scheduled: bool):
    """``(wall seconds per step, CPU seconds per step, final weights)`` of one run."""
    from taskorder.schedule import Schedule, Stage
    from taskorder.trl.apply import apply_schedule

    trainer = build_trainer(model_dir, tasks, folder, steps)
    if scheduled:
        apply_schedule(trainer, Schedule([Stage("all", steps=steps)]), task_column="group")
    wall, cpu = time.perf_counter(), time.process_time()
    trainer.train()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    weights = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    return wall / steps, cpu / steps, weights


def sampler_cost(tasks, steps: int, repeats: int = 20) -> float:
    """Seconds per optimizer step spent planning and iterating the schedule sampler."""
    from taskorder.schedule import Schedule, Stage
    from taskorder.trl.sampler import BatchGeometry, ScheduleSampler

    task_of_row = [t.name for t in tasks for _ in t.train_rows]
    geometry = BatchGeometry(4, 2, 1, 1)
    schedule = Schedule(
        [Stage("arithmetic", steps=steps), Stage({"qa": 0.5, "describe": 0.5}, steps=steps)]
    )
    start = time.perf_counter()
    for seed in range(repeats):
        list(ScheduleSampler(task_of_row, schedule, geometry, seed=seed))
    return (time.perf_counter() - start) / (repeats * 2 * steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="GRPO steps per run")
    parser.add_argument("--repeats", type=int, default=7, help="runs per variant (alternating)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1: CPU time is the work done, even on a busy machine)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    import torch
    from transformers.utils import logging as hf_logging

    from taskorder.trl.data import RLTask
    from taskorder.trl.toy import TOY_REWARDS, build_toy_model_dir

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        model_dir, rows = build_toy_model_dir(folder / "model", warmup_steps=100, n_train=64)
        tasks = [RLTask(n, train, held, TOY_REWARDS[n]) for n, (train, held) in rows.items()]
        timed_run(model_dir, tasks, folder / "warm", 3, scheduled=False)  # warm caches
        plain, scheduled = [], []
        for repeat in range(args.repeats):
            plain.append(timed_run(model_dir, tasks, folder / f"p{repeat}", args.steps, False))
            scheduled.append(timed_run(model_dir, tasks, folder / f"s{repeat}", args.steps, True))
        direct = sampler_cost(tasks, args.steps)
    same = all(torch.equal(plain[0][2][k], scheduled[0][2][k]) for k in plain[0][2])
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, {args.steps} steps x {args.repeats} runs each"
    )
    print(f"identical final weights (same work done): {same}")
    for index, label in ((0, "wall"), (1, "CPU ")):
        p = [run[index] for run in plain]
        q = [run[index] for run in scheduled]
        ratios = [b / a for a, b in zip(p, q)]
        print(
            f"{label} ms/step  plain {1000 * statistics.median(p):7.2f}  scheduled "
            f"{1000 * statistics.median(q):7.2f}  median pair ratio {statistics.median(ratios):.4f}  "
            f"(pairs: {', '.join(f'{r:.3f}' for r in ratios)})"
        )
    fastest = min(run[0] for run in plain)
    print(
        f"sampler cost (3 stages, one mixed): {1e6 * direct:.1f} us per step = "
        f"{100 * direct / fastest:.4f} % of the fastest plain step ({1000 * fastest:.1f} ms)"
    )


if __name__ == "__main__":
    main()
