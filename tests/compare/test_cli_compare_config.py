"""``taskorder compare CONFIG``: the same comparison on the runner a config names."""

import json

from typer.testing import CliRunner

from taskorder.cli import app

CONFIG = """
output_dir = "probes"
[runner]
kind = "builtin"
[runner.learner]
n_structured = 1
n_open = 1
n_train_prompts = 16
n_test_prompts = 16
[plan]
steps = 4
repeats = 2
"""


def test_compare_config_uses_the_config_runner_and_its_probe_campaign(tmp_path):
    path = tmp_path / "probe.toml"
    path.write_text(CONFIG)
    args = [
        "compare",
        str(path),
        "--method",
        "solver",
        "--method",
        "joint",
        "--seeds",
        "2",
        "--json",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(report["methods"]) == ["joint", "solver"]
    assert (tmp_path / "probes" / "campaign.sqlite").is_file()  # the config's campaign
    # a second run reuses the finished campaign and gives the same numbers
    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert again["methods"] == report["methods"]


def test_compare_config_refuses_an_unknown_method_as_a_usage_error(tmp_path):
    path = tmp_path / "probe.toml"
    path.write_text(CONFIG)
    result = CliRunner().invoke(app, ["compare", str(path), "--method", "nope"])
    assert result.exit_code == 2  # a --method choice, checked before anything runs
    assert "'nope' is not one of 'solver', 'rank_rule'" in result.output
    assert "Traceback" not in result.output


def test_compare_reports_progress_per_seed_on_stderr():
    result = CliRunner().invoke(
        app,
        [
            "compare",
            "--n-structured",
            "1",
            "--n-open",
            "1",
            "--method",
            "joint",
            "--seeds",
            "2",
            "--stage-steps",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "compare: seed 1/2 done" in result.stderr
    assert "compare: seed 2/2 done" in result.stderr
