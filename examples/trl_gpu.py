"""GPU demo: the offline pipeline on a real local model (e.g. a 0.5B instruct model).

Same steps as ``examples/trl_offline.py`` (pairwise GRPO probe campaign of BWT on the
campaign path of ``taskorder probe CONFIG``, resumable in ``WORK_DIR/probe``; solve the
order; scheduled GRPO run with per-stage evaluation), shared through
``taskorder.trl.workflow.probe_solve_train``; only the model and the sizes differ.
The three synthetic tasks are sent as chat messages when the tokenizer has a chat
template. The weights stay in float32 (the optimizer's master copy) and the forward
and backward passes run under bf16 autocast when CUDA supports it (``bf16=True``):
AdamW steps of about the learning rate (1e-6) are below bf16's resolution for most
weights, so bf16 weights would barely move. The learning rate is constant, so every
stage trains with the step size its probe measured. Nothing is downloaded; the model
directory must already be on disk.

Run::

    PYTHONPATH=src python examples/trl_gpu.py /models/Qwen2.5-0.5B-Instruct \\
        --work-dir runs/gpu [--probe-steps 20] [--stage-steps 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

INSTRUCTIONS = {
    "arithmetic": "Reply with the number only.",
    "qa": "Reply with the letter of the correct option only.",
    "describe": "Reply with one short phrase of at most eight words.",
}


def chat_rows(rows, task, use_chat):
    """Turn toy rows into chat prompts with a one-line instruction."""
    out = []
    for row in rows:
        row = {k: v for k, v in row.items() if k != "target"}
        text = f"{row['prompt']}\n{INSTRUCTIONS[task]}"
        row["prompt"] = [{"role": "user", "content": text}] if use_chat else text
        out.append(row)
    return out


def training_settings(args: argparse.Namespace, *, cuda: bool, bf16: bool) -> tuple[str, dict]:
    """The model dtype and GRPO settings of the run.

    float32 weights (AdamW's updates of ~1e-6 survive), bf16 autocast where the GPU
    supports it, a constant learning rate, gradient checkpointing on CUDA.
    """
    grpo = {
        "num_generations": args.num_generations,
        "per_device_train_batch_size": args.batch_size,
        "max_completion_length": args.max_completion_length,
        "learning_rate": args.learning_rate,
        "lr_scheduler_type": "constant",
        "bf16": bool(cuda and bf16),
        "gradient_checkpointing": bool(cuda),
    }
    return "float32", grpo


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="local model directory (save_pretrained layout)")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--probe-steps", type=int, default=20)
    parser.add_argument("--stage-steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=1, help="probe repeats (2+: stderr)")
    parser.add_argument("--n-train", type=int, default=256)
    parser.add_argument("--n-eval", type=int, default=64)
    parser.add_argument("--num-generations", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16, help="per-device train batch size")
    parser.add_argument("--learning-rate", type=float, default=1e-6)
    parser.add_argument("--max-completion-length", type=int, default=64)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    warnings.filterwarnings("ignore")

    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from taskorder.trl.data import RLTask
    from taskorder.trl.evaluation import EvalConfig
    from taskorder.trl.toy import TOY_REWARDS, toy_task_rows
    from taskorder.trl.workflow import probe_solve_train

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if not (args.model / "config.json").is_file():
        sys.exit(f"{args.model}: not a model directory (no config.json)")
    device = (
        torch.cuda.get_device_name(0)
        if torch.cuda.is_available()
        else "CPU (no CUDA: this will be slow)"
    )
    print(f"device: {device}", file=sys.stderr)
    use_chat = AutoTokenizer.from_pretrained(args.model).chat_template is not None
    rows = toy_task_rows(n_train=args.n_train, n_eval=args.n_eval, seed=args.seed)
    tasks = [
        RLTask(
            name,
            chat_rows(train, name, use_chat),
            chat_rows(held, name, use_chat),
            TOY_REWARDS[name],
        )
        for name, (train, held) in rows.items()
    ]
    cuda = torch.cuda.is_available()
    dtype, grpo = training_settings(args, cuda=cuda, bf16=cuda and torch.cuda.is_bf16_supported())
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="taskorder_gpu_"))
    started = time.perf_counter()
    report = probe_solve_train(
        args.model,
        tasks,
        work_dir,
        probe_steps=args.probe_steps,
        stage_steps=args.stage_steps,
        grpo=grpo,
        dtype=dtype,
        evaluation=EvalConfig(
            n_samples=4,
            max_prompts=args.n_eval,
            max_new_tokens=args.max_completion_length,
            seed=args.seed,
        ),
        seed=args.seed,
        repeats=args.repeats,
        on_event=lambda message: print(f"  {message}", file=sys.stderr, flush=True),
    )
    print(report.summary())
    print(f"total {time.perf_counter() - started:.1f} s on {device}; outputs in {work_dir}")


if __name__ == "__main__":
    main()
