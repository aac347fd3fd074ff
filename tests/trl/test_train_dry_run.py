"""``taskorder train --dry-run`` refuses what training would refuse only once it starts."""

import json

import pytest
from typer.testing import CliRunner

from taskorder.cli import app

from .conftest import TINY_GRPO
from .test_train_cli import write_config

cli = CliRunner()


def _broken(tmp_path, toy_files, case):
    """The config changes of each refused case."""
    if case == "missing-model":
        return {"model": str(tmp_path / "no_such_model")}
    if case == "unknown-reward":
        return {"tasks": {**toy_files, "qa": {**toy_files["qa"], "reward": "nonsense"}}}
    if case == "num-generations":
        return {"grpo": {**TINY_GRPO, "num_generations": 3}}  # 8 completions per generation
    if case == "grpo-temperature-0":
        return {"grpo": {**TINY_GRPO, "temperature": 0.0}}
    if case == "eval-temperature-0":
        return {"evaluation": {"n_samples": 2, "temperature": 0.0}}
    if case == "partial-generation":  # one step per stage, two steps per generation
        return {
            "grpo": {**TINY_GRPO, "num_iterations": 2},
            "schedule": {"order": ["qa", "arithmetic", "describe"], "steps_per_stage": 1},
        }
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing-model", "no_such_model does not exist; expected a local directory"),
        ("unknown-reward", "Unknown reward 'nonsense'"),
        ("num-generations", "generation_batch_size (8) must be divisible by num_generations (3)"),
        ("grpo-temperature-0", "The GRPO setting 'temperature' must be positive"),
        ("eval-temperature-0", "set n_samples=1 or a positive temperature"),
        ("partial-generation", "stage lengths must be multiples of 2"),
    ],
)
def test_dry_run_refuses_what_training_would(tmp_path, toy_world, toy_files, case, message):
    path = write_config(tmp_path, toy_world, toy_files, **_broken(tmp_path, toy_files, case))
    result = cli.invoke(app, ["train", str(path), "--dry-run"])
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_dry_run_of_a_valid_config_shows_the_steps(tmp_path, toy_world, toy_files):
    path = write_config(tmp_path, toy_world, toy_files, grpo={**TINY_GRPO, "num_iterations": 2})
    result = cli.invoke(app, ["train", str(path), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["steps"] == [2, 2, 2]
    shown = cli.invoke(app, ["train", str(path), "--dry-run"])
    assert "optimizer steps per stage: [2, 2, 2]" in shown.stdout


def test_a_real_run_refuses_bad_settings_before_loading_anything(tmp_path, toy_world, toy_files):
    path = write_config(tmp_path, toy_world, toy_files, grpo={**TINY_GRPO, "temperature": 0.0})
    result = cli.invoke(app, ["train", str(path)])
    assert result.exit_code == 1
    assert "The GRPO setting 'temperature' must be positive" in result.stderr
    assert not (tmp_path / "out").exists()
