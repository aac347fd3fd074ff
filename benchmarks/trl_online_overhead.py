"""Overhead of ``tac``'s per-task gradients, as a ratio to the rest of the same GRPO step.

One real run per method: SmolLM2-135M-Instruct (``taskorder model prepare smollm2``),
the suite's ``arithmetic`` and ``choice`` tasks, one online ``tac`` stage, CPU. The
panel's :class:`~taskorder.trl.task_gradients.TaskGradients` times the work it does
for the per-task gradients (``seconds``); a callback times every optimizer step end
to end. For each step the overhead ratio is ``gradient time / (step time - gradient
time)``: what the gradient signal adds to a step that otherwise ran unchanged (same
generation, same loss, same backward). Both methods are measured, in alternating runs:

- ``backward`` (the default): reads the final norm's output gradient in GRPO's own
  backward, so the cost is a hook and one elementwise product per micro-step;
- ``autograd``: one extra ``torch.autograd.grad`` per task on the loss's graph (each
  recomputes TRL's fused LM head over the batch).

The first step of every run is dropped (warm-up). Reported: median and quartiles of
the per-step ratio over all kept steps. Runs on a shared machine: the ratio is within
one step, so load slows numerator and denominator alike, but the spread is wide.

Usage::

    PYTHONPATH=src python benchmarks/trl_online_overhead.py [--steps 6] [--repeats 2] [--threads 1]

Output: ``benchmarks/results/trl_online_overhead.txt`` (raw per-step rows, then the summary).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "trl_online_overhead.txt"


def run_once(model_dir: Path, tasks, folder: Path, steps: int, method: str, seed: int):
    from transformers import TrainerCallback
    from trl import GRPOTrainer

    from taskorder.schedule import Schedule, Stage
    from taskorder.trl.apply import apply_schedule
    from taskorder.trl.data import multitask_dataset
    from taskorder.trl.grpo_args import load_policy, make_grpo_config, quiet_trainer
    from taskorder.trl.panel import TaskPanel
    from taskorder.trl.reward_specs import for_task

    model, tokenizer = load_policy(model_dir)
    settings = {
        "num_generations": 4,
        "per_device_train_batch_size": 8,
        "max_completion_length": 16,
        "learning_rate": 1e-6,
        "temperature": 1.0,
    }
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[for_task(t.name, t.reward_function()) for t in tasks],
        args=make_grpo_config(folder, settings, seed=seed),
        train_dataset=multitask_dataset(tasks),
        processing_class=tokenizer,
    )
    quiet_trainer(trainer)
    panel = TaskPanel(trainer, gradients=True, gradient_method=method).install()
    trainer._taskorder_panel = panel
    names = [t.name for t in tasks]
    apply_schedule(trainer, Schedule([Stage(names, steps=steps, online="tac")]))
    rows = []

    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.start, self.grad = time.perf_counter(), panel.task_gradients.seconds

        def on_step_end(self, args, state, control, **kwargs):
            step_s = time.perf_counter() - self.start
            grad_s = panel.task_gradients.seconds - self.grad
            rows.append((state.global_step, step_s, grad_s))

    trainer.add_callback(Timer())
    trainer.train()
    return rows, panel.task_gradients.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(args.threads)
    from taskorder.trl.config import load_train_config
    from taskorder.trl.model_source import resolve_model
    from taskorder.trl.pipeline import build_tasks
    from taskorder.trl.suite import write_suite

    lines = [
        "# trl_online_overhead: SmolLM2-135M-Instruct, CPU, tac online stage, arithmetic+choice",
        (
            f"# steps={args.steps} repeats={args.repeats} threads={args.threads} "
            "num_generations=4 batch=8 max_completion_length=16"
        ),
        "# method repeat step step_s grad_s ratio",
    ]
    ratios: dict[str, list[float]] = {"backward": [], "autograd": []}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = load_train_config(
            write_suite(Path(tmp) / "suite", tasks=["arithmetic", "choice"], n_train=32, n_eval=4)
        )
        model_dir = resolve_model(config.model)
        tasks = build_tasks(config)
        for repeat in range(args.repeats):
            for method, kept in ratios.items():  # alternate the two methods
                folder = Path(tmp) / f"{method}-{repeat}"
                rows, sizes[method] = run_once(
                    model_dir, tasks, folder, args.steps, method, seed=repeat
                )
                for step, step_s, grad_s in rows[1:]:
                    ratio = grad_s / (step_s - grad_s)
                    kept.append(ratio)
                    lines.append(f"{method} {repeat} {step} {step_s:.3f} {grad_s:.4f} {ratio:.5f}")
                print(lines[-1], flush=True)
    lines.append("# summary: per-step overhead ratio grad_s / (step_s - grad_s)")
    for method, values in ratios.items():
        q1, median, q3 = statistics.quantiles(values, n=4)
        lines.append(
            f"{method}: {sizes[method]} numbers per task, n={len(values)} steps, "
            f"median {100 * median:.3f} % (quartiles {100 * q1:.3f}-{100 * q3:.3f} %)"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[-3:]))


if __name__ == "__main__":
    main()
