"""One progress line per optimizer step (throttled), and no FutureWarning of our making."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from taskorder.schedule import Schedule, Stage
from taskorder.trl.apply import apply_schedule
from taskorder.trl.progress import StepProgress, format_duration, report_steps

from .conftest import make_trainer
from .test_train_cli import write_config

REPO = Path(__file__).parents[2]
SCHEDULE = Schedule(
    [Stage("arithmetic", steps=2), Stage("qa", steps=2), Stage("describe", steps=2)]
)


def scheduled_lines(toy_world, toy_tasks, tmp_path, min_interval_s):
    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks, tmp_path)
    lines = []
    with report_steps(lines.append, min_interval_s=min_interval_s):
        apply_schedule(trainer, SCHEDULE)
        apply_schedule(trainer, SCHEDULE)  # applied again: still one line per step
    trainer.train()
    return lines


def test_one_line_per_step_on_its_stage(toy_world, toy_tasks, tmp_path):
    lines = scheduled_lines(toy_world, toy_tasks, tmp_path, 0)
    assert len(lines) == 6
    for step, line in enumerate(lines, start=1):
        stage = (step - 1) // 2
        task = SCHEDULE[stage].label
        assert line.startswith(f"step {step}/6  stage {stage + 1}/3 {task}  reward "), line
        assert f"({task} " in line and "s/step" in line
    assert "eta" in lines[0] and "eta" not in lines[-1]


def test_lines_are_throttled_but_stage_ends_always_show(toy_world, toy_tasks, tmp_path):
    lines = scheduled_lines(toy_world, toy_tasks, tmp_path, 3600)
    assert [line.split()[1] for line in lines] == ["1/6", "2/6", "4/6", "6/6"]


def test_no_progress_outside_report_steps(toy_world, toy_tasks, tmp_path):
    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks, tmp_path)
    apply_schedule(trainer, SCHEDULE)
    assert not any(isinstance(c, StepProgress) for c in trainer.callback_handler.callbacks)


def test_format_duration():
    assert [format_duration(s) for s in (4.4, 185, 7620)] == ["4s", "3m05s", "2h07m"]


def test_grpo_config_of_a_run_raises_no_future_warning(tmp_path):
    from taskorder.trl.grpo_args import make_grpo_config

    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        args = make_grpo_config(tmp_path, {"gradient_checkpointing": False})
        assert args.gradient_checkpointing is False
        assert make_grpo_config(tmp_path).gradient_checkpointing is True  # TRL's default kept


@pytest.mark.slow
def test_train_cli_prints_step_lines_and_no_warnings(tmp_path, toy_world, toy_files):
    path = write_config(tmp_path, toy_world, toy_files)
    run = subprocess.run(
        [sys.executable, "-c", "from taskorder.cli import main; main()", "train", str(path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    steps = [line for line in run.stderr.splitlines() if line.startswith("taskorder: step ")]
    assert steps[0].startswith("taskorder: step 1/6  stage 1/3 qa  reward ")
    assert steps[-1].startswith("taskorder: step 6/6  stage 3/3 describe  reward ")
    assert "Warning" not in run.stderr and "Loading weights" not in run.stderr
