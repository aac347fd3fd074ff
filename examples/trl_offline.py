"""Offline CPU demo: probe transfer with GRPO, solve the order, train in that order.

Everything is local and seeded: a tokenizer trained in-process, a random small Qwen2,
a short supervised warm-up (so rewards start above zero), and three synthetic tasks
(arithmetic, distractor QA, an open-ended task scored by a rule-based judge
stand-in). Then ``taskorder.trl.workflow.probe_solve_train`` runs the same pipeline
as ``examples/trl_gpu.py``: a pairwise GRPO probe campaign of BWT (the campaign path of
``taskorder probe CONFIG``: the same plan, seeds, resumable store and estimator, in
``WORK_DIR/probe``), ``taskorder.solve``, and a scheduled GRPO run with a per-stage
evaluation of every task. Rerunning with the same ``--work-dir`` reuses the probes.

Run (a few minutes on 2 CPU cores)::

    PYTHONPATH=src python examples/trl_offline.py [--work-dir runs/offline] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="keep outputs here (default: a temp dir)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup-steps", type=int, default=300, help="supervised warm-up steps")
    parser.add_argument("--probe-steps", type=int, default=32, help="GRPO steps per probe stage")
    parser.add_argument("--stage-steps", type=int, default=32, help="GRPO steps per training stage")
    parser.add_argument(
        "--repeats", type=int, default=1, help="probe repeats (2+: stderr over repeats)"
    )
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (a tiny model needs one)"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    import torch

    torch.set_num_threads(args.threads)

    from transformers.utils import logging as hf_logging

    from taskorder.trl.data import RLTask
    from taskorder.trl.evaluation import EvalConfig
    from taskorder.trl.toy import TOY_REWARDS, build_toy_model_dir
    from taskorder.trl.workflow import probe_solve_train

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="taskorder_offline_"))
    started = time.perf_counter()
    model_dir, rows = build_toy_model_dir(
        work_dir / "model",
        warmup_steps=args.warmup_steps,
        n_train=64,
        n_eval=32,
        hidden_size=64,
        seed=args.seed,
    )
    built = time.perf_counter() - started
    print(f"tiny model built and warmed up in {built:.1f} s: {model_dir}", file=sys.stderr)
    tasks = [RLTask(name, train, held, TOY_REWARDS[name]) for name, (train, held) in rows.items()]
    report = probe_solve_train(
        model_dir,
        tasks,
        work_dir,
        probe_steps=args.probe_steps,
        stage_steps=args.stage_steps,
        grpo={
            "num_generations": 4,
            "per_device_train_batch_size": 16,
            "max_completion_length": 12,
            "learning_rate": args.learning_rate,
            # constant: every stage trains with the step size its probe used
            "lr_scheduler_type": "constant",
            "temperature": 1.0,
        },
        evaluation=EvalConfig(n_samples=8, max_prompts=32, max_new_tokens=12, seed=args.seed),
        seed=args.seed,
        repeats=args.repeats,
        on_event=lambda message: print(f"  {message}", file=sys.stderr, flush=True),
    )
    report.timings = {"build+warm-up": built, **report.timings}
    print(report.summary())
    print(f"total {time.perf_counter() - started:.1f} s; outputs in {work_dir}")


if __name__ == "__main__":
    main()
