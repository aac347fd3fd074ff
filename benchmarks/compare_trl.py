"""The curriculum vs joint comparison with real GRPO on the offline tiny model (CPU).

Run: python benchmarks/compare_trl.py [--seeds 2] [--stage-steps 16] [--plot compare_trl.png]

Builds the tiny offline model of examples/trl_offline.py (tokenizer trained in-process, random
Qwen2-style model, supervised warm-up), wraps it in TRLProbeRunner and runs
taskorder.compare.compare on it: solver's order, rank rule, a random order, joint, interleaved
and blocks ([arithmetic, qa] then [describe]); merging is skipped for TRL states (see
docs/compare.md).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--n-random", type=int, default=1)
    parser.add_argument("--stage-steps", type=int, default=16)
    parser.add_argument("--plot", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(1)
    from transformers.utils import logging as hf_logging

    from taskorder.compare import compare
    from taskorder.trl.data import RLTask
    from taskorder.trl.evaluation import EvalConfig
    from taskorder.trl.runner import TRLProbeRunner, TRLRunnerConfig
    from taskorder.trl.toy import TOY_REWARDS, build_toy_model_dir

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    work = Path(tempfile.mkdtemp(prefix="taskorder_compare_trl_"))
    start = time.perf_counter()
    model_dir, rows = build_toy_model_dir(
        work / "model", warmup_steps=300, n_train=64, n_eval=32, hidden_size=64, seed=0
    )
    tasks = [RLTask(name, train, held, TOY_REWARDS[name]) for name, (train, held) in rows.items()]
    runner = TRLProbeRunner(
        tasks,
        TRLRunnerConfig(
            model_path=str(model_dir),
            work_dir=str(work / "states"),
            grpo={
                "num_generations": 4,
                "per_device_train_batch_size": 16,
                "max_completion_length": 12,
                "learning_rate": 5e-4,
                "lr_scheduler_type": "constant",
                "temperature": 1.0,
            },
            evaluation=EvalConfig(n_samples=8, max_prompts=32, max_new_tokens=12, seed=0),
        ),
    )
    report = compare(
        runner,
        methods=("solver", "rank_rule", "random", "joint", "interleaved", "blocks"),
        seeds=args.seeds,
        n_random=args.n_random,
        stage_steps=args.stage_steps,
        groups=[["arithmetic", "qa"], ["describe"]],
        probe_dir=work / "probe",
    )
    data = report.to_dict()
    print(json.dumps({k: data[k] for k in data if k != "runs"}, indent=1, default=str)[:6000])
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1, default=str))
    if args.plot:
        from taskorder.compare.figure import compare_bars
        from taskorder.plot import save

        save(compare_bars(report), args.plot)
    print(f"total {time.perf_counter() - start:.0f} s; work dir {work}")


if __name__ == "__main__":
    main()
