"""``taskorder compare`` with the online methods: cost column, planning verdict, JSON."""

import json

from typer.testing import CliRunner

from taskorder.cli import app

runner = CliRunner()
ARGS = ["compare", "--n-structured", "1", "--n-open", "1", "--seeds", "2", "--stage-steps", "3"]
METHODS = ["solver", "hybrid", "joint", "sec", "tac", "worst_task"]


def _methods():
    return [part for name in METHODS for part in ("--method", name)]


def test_table_has_costs_and_the_planning_verdict():
    result = runner.invoke(app, [*ARGS, *_methods()])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "cost" in out and "probe campaign" in out and "step equivalents" in out
    assert "worth its probes" in out
    for name in METHODS:
        assert name in out


def test_json_carries_costs_and_planning():
    result = runner.invoke(app, [*ARGS, *_methods(), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["methods"]["sec"]["cost"]["probe_steps"] == 0
    assert data["methods"]["solver"]["cost"]["probe_steps"] == (2 + 2) * 3
    assert data["methods"]["tac"]["cost"]["overhead_steps"] > 0
    assert {item["method"] for item in data["planning"]} == {"solver", "hybrid"}


def test_unknown_method_is_a_usage_error():
    result = runner.invoke(app, [*ARGS, "--method", "ucb"])
    assert result.exit_code == 2
    assert "ucb" in result.stderr and "sec" in result.stderr
