"""A run stopped by its time limit says so: status, bound and gap, via the API and the CLI."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from taskorder import TransferMatrix, solve
from taskorder.cli import app

pytest.importorskip("ortools")


def hard_matrix(n_tasks=60, seed=0) -> TransferMatrix:
    """Uniform random integers: a flat landscape no exact method closes in a second."""
    rng = np.random.default_rng(seed)
    return TransferMatrix(
        [f"t{i}" for i in range(n_tasks)], rng.integers(0, 100, (n_tasks, n_tasks))
    )


@pytest.mark.parametrize("method", ["ilp", "cpsat"])
def test_exact_method_on_a_time_limit_returns_feasible_with_a_bound(method):
    m = hard_matrix(60 if method == "ilp" else 40)
    result = solve(m, method=method, time_limit=1.0)
    assert result.status == "feasible"
    assert result.bound is not None and result.bound > result.objective
    assert 0 < result.gap < 1
    assert result.objective >= result.baselines["rank_rule"]
    assert sorted(result.order) == sorted(m.tasks)


def test_mip_time_limit_keeps_the_helper_search_order():
    m = hard_matrix(60, seed=1)
    result = solve(m, method="ilp", time_limit=1.0)
    assert result.extras["stopped_by_time_limit"] is True
    assert result.anytime  # the helper local search's curve


def run_cli(*args):
    runner = CliRunner()
    return runner.invoke(app, ["solve", *map(str, args)])


@pytest.mark.parametrize("method, status", [("ilp", "feasible"), ("local", "heuristic")])
def test_cli_json_reports_status_bound_and_gap(tmp_matrix_file, method, status):
    path = tmp_matrix_file(hard_matrix(60))
    out = run_cli(path, "--method", method, "--time-limit", "1", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["status"] == status
    assert data["bound"] > data["objective"]
    assert data["gap"] > 0
    assert data["method"] == method


def test_cli_table_shows_the_gap(tmp_matrix_file):
    path = tmp_matrix_file(hard_matrix(60))
    out = run_cli(path, "--method", "ilp", "--time-limit", "1")
    assert out.exit_code == 0, out.output
    assert "status: feasible" in out.stdout and "gap" in out.stdout


def test_cli_auto_says_which_method_and_why(tmp_matrix_file):
    rng = np.random.default_rng(2)
    m = TransferMatrix([f"t{i}" for i in range(30)], rng.normal(0, 0.05, (30, 30)))
    out = run_cli(tmp_matrix_file(m), "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["method"] == "ilp" and "n = 30" in data["method_reason"]
    assert data["status"] == "optimal"
