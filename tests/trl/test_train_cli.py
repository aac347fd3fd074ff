"""``taskorder train``: config validation, exit codes, a run, and resume after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from taskorder.cli import app
from taskorder.exceptions import InvalidParameterError
from taskorder.trl.config import load_train_config

from .conftest import TINY_EVAL, TINY_GRPO

REPO = Path(__file__).parents[2]
cli = CliRunner()


def write_config(tmp_path, toy_world, toy_files, *, name="run.yaml", **changes):
    model_dir, _ = toy_world
    config = {
        "model": str(model_dir),
        "output_dir": "out",
        "tasks": toy_files,
        "schedule": {"order": ["qa", "arithmetic", "describe"], "steps_per_stage": 2},
        "grpo": dict(TINY_GRPO),
        "evaluation": {**TINY_EVAL},
    }
    config.update(changes)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"epochs": 3}, "epochs: unknown key (accepted: "),
        (
            {"schedule": {"order": ["qa"], "bwt": "x.csv", "steps_per_stage": 1}},
            "exactly one of 'stages', 'order' or 'bwt'",
        ),
        ({"schedule": {"stages": [{"task": "poetry", "steps": 1}]}}, "not under 'tasks'"),
        ({"schedule": {"stages": [{"task": "qa"}]}}, "exactly one of 'steps' or 'passes'"),
        ({"grpo": {"max_steps": 5}}, "set by taskorder"),
        ({"grpo": {"learning_rat": 1.0}}, "not GRPOConfig fields"),
        ({"evaluation": {"n_samples": 0}}, "evaluation.n_samples"),
    ],
)
def test_invalid_configs_exit_1_with_the_key(tmp_path, toy_world, toy_files, changes, message):
    path = write_config(tmp_path, toy_world, toy_files, **changes)
    with pytest.raises(InvalidParameterError, match="invalid config"):
        load_train_config(path)
    result = cli.invoke(app, ["train", str(path)])
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_toml_config_relative_paths_and_dry_run(tmp_path, toy_world, toy_files):
    model_dir, _ = toy_world
    (tmp_path / "bwt.csv").write_text(
        "task,qa,arithmetic,describe\nqa,,-0.3,-0.2\narithmetic,0.0,,0.0\ndescribe,-0.1,0.0,\n",
        encoding="utf-8",
    )
    tasks = "\n".join(
        f'[tasks.{name}]\ntrain = "{spec["train"]}"\neval = "{spec["eval"]}"\nreward = "{spec["reward"]}"'
        for name, spec in toy_files.items()
    )
    (tmp_path / "run.toml").write_text(
        f'model = "{model_dir}"\noutput_dir = "out"\n[schedule]\nbwt = "bwt.csv"\npasses_per_stage = 1.0\n{tasks}\n',
        encoding="utf-8",
    )
    config = load_train_config(tmp_path / "run.toml")
    assert config.output_dir == tmp_path / "out" and config.schedule.bwt == tmp_path / "bwt.csv"
    result = cli.invoke(app, ["train", str(tmp_path / "run.toml"), "--dry-run", "--json"])
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    order = [stage["task"] for stage in plan["schedule"]["stages"]]
    recommendation = plan["solved"]["recommendation"]  # what solve and demo present too
    assert order == recommendation["order"] and order[0] != "qa"  # qa is the most forgettable
    assert recommendation["route"] == "backward_only"  # a plain CSV has no own scores
    assert plan["tasks"]["qa"] == {"train_rows": 24, "eval_rows": 6}


def _run_cli(config, env=None):
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from taskorder.cli import main; main()",
            "train",
            str(config),
            "--json",
        ],
        cwd=REPO,
        env={
            **os.environ,
            "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
            "OMP_NUM_THREADS": "1",
            **(env or {}),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_from_last_finished_stage(tmp_path, toy_world, toy_files):
    from taskorder.trl.pipeline import run_training

    tasks = {
        **toy_files,
        "qa": {**toy_files["qa"], "reward": "tests.trl.helpers:slow_choice_reward"},
    }
    schedule = {
        "stages": [
            {"task": "arithmetic", "steps": 2},
            {"task": "qa", "steps": 6},
            {"task": "describe", "steps": 2},
        ]
    }
    path = write_config(tmp_path, toy_world, toy_files, tasks=tasks, schedule=schedule)
    out = tmp_path / "out"
    process = _run_cli(path, env={"TASKORDER_TEST_SLOW": "0.5"})
    deadline = time.monotonic() + 240
    while not (out / "checkpoint-2" / "trainer_state.json").is_file():
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "stage 0 never finished"
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "checkpoint-8").exists(), "the run finished stage 1 before it was killed"
    before = json.loads((out / "stages.json").read_text())["records"]
    assert [record["stage"] for record in before] == [-1, 0]

    resumed = _run_cli(path)
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr[-3000:]
    assert "resuming after stage 0 (arithmetic)" in stderr
    result = json.loads(stdout)
    assert result["resumed_from_stage"] == 0
    assert [record["stage"] for record in result["records"]] == [-1, 0, 1, 2]
    assert result["records"][:2] == before
    assert len(result["checkpoints"]) == 3 and "gem" in result

    # The resumed run equals an uninterrupted one (same seed, CPU): resume is exact.
    reference = run_training(
        load_train_config(
            write_config(
                tmp_path,
                toy_world,
                toy_files,
                name="ref.yaml",
                output_dir="ref",
                tasks=tasks,
                schedule=schedule,
            )
        )
    )
    assert [r.scores for r in reference.results.records] == [r["scores"] for r in result["records"]]

    again = cli.invoke(app, ["train", str(path), "--no-resume"])
    assert again.exit_code == 1 and "already holds a run" in again.stderr


def test_train_replan_runs_grpo_stage_by_stage_and_logs_decisions(tmp_path, toy_world, toy_files):
    (tmp_path / "bwt.csv").write_text(
        "task,qa,arithmetic,describe\nqa,,-0.3,-0.2\narithmetic,0.0,,0.0\ndescribe,-0.1,0.0,\n",
        encoding="utf-8",
    )
    path = write_config(
        tmp_path,
        toy_world,
        toy_files,
        schedule={"bwt": str(tmp_path / "bwt.csv"), "steps_per_stage": 1},
    )
    result = cli.invoke(app, ["train", str(path), "--replan", "--horizon", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # First decision from the given matrix (qa is the most forgettable: last), then a
    # probe campaign of the two remaining tasks from the trained model, then the last.
    assert [d["how"] for d in data["decisions"]] == ["given", "probe_matrix", "last"]
    assert data["decisions"][0]["plan"][-1] == "qa" and data["order"][0] != "qa"
    assert sorted(data["order"]) == sorted(data["tasks"])
    assert data["decisions"][1]["probe_stages"] == 2 + 2
    assert len(data["scores"]) == 4 and len(data["scores"][0]) == 3
    out = tmp_path / "out"
    assert json.loads((out / "replan" / "replan.json").read_text())["order"] == data["order"]
    assert (out / "replan" / "stage-1" / "campaign.sqlite").exists()
    # A model directory was saved for the state the probes started from, and the trained
    # model loads with transformers.
    assert (out / "replan" / "states" / "start-1.state" / "config.json").exists()
    assert data["final_path"] == str(out / "replan" / "final.state")
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(data["final_path"]).num_parameters() > 0


def test_train_replan_dry_run_budget_and_no_resume(tmp_path, toy_world, toy_files):
    path = write_config(tmp_path, toy_world, toy_files)  # order, 2 steps per stage
    dry = cli.invoke(app, ["train", str(path), "--replan", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    assert plan["training_stages"] == 15 and plan["grpo_steps"] == 30  # 3 tasks <= horizon 3
    assert plan["first_decision"] == "probe campaign at the starting model"
    assert not (tmp_path / "out").exists()  # nothing trained or written
    shown = cli.invoke(app, ["train", str(path), "--replan", "--dry-run", "--horizon", "1"])
    assert "budget: 14 training stages (28 GRPO steps)" in shown.output  # 9 + 4 + 1
    (tmp_path / "out" / "replan").mkdir(parents=True)
    (tmp_path / "out" / "replan" / "run.json").write_text('{"fingerprint": "x"}')
    refused = cli.invoke(app, ["train", str(path), "--replan", "--no-resume"])
    assert refused.exit_code == 1 and "already holds a re-planning run" in refused.stderr


def test_train_replan_refuses_explicit_stages(tmp_path, toy_world, toy_files):
    path = write_config(
        tmp_path,
        toy_world,
        toy_files,
        schedule={"stages": [{"task": "qa", "steps": 1}, {"task": "describe", "steps": 1}]},
    )
    result = cli.invoke(app, ["train", str(path), "--replan"])
    assert result.exit_code == 1
    assert "--replan needs" in result.stderr and "Traceback" not in result.stderr
