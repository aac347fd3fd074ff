"""LOLIB instances with known optima (tests/data/lolib, see README.solvers.md)."""

import pytest
from solver_cases import lolib_matrix

from taskorder import solve

pytest.importorskip("ortools")


@pytest.mark.parametrize("name, optimum", [("pal11", 35), ("pal13", 57)])
@pytest.mark.parametrize("method", ["dp", "ilp", "local"])
def test_small_spec_instances(name, optimum, method):
    result = solve(lolib_matrix(name), method=method, seed=1)
    assert result.objective == optimum
    if method != "local":
        assert result.status == "optimal" and result.bound == optimum


def test_io_instance_n44_proven_optimal_by_the_mip():
    """t59b11xx (n = 44), optimum 209320 (Optsicom, proven): about a second."""
    result = solve(lolib_matrix("t59b11xx"), method="ilp")
    assert result.status == "optimal"
    assert result.objective == 209320
    assert result.bound == 209320
    assert result.gap == 0.0
    assert result.extras["scale"] == 1.0 and result.extras["rounding_error_bound"] == 0.0


def test_auto_picks_the_mip_for_the_io_instance():
    result = solve(lolib_matrix("t59b11xx"))
    assert result.method == "ilp"
    assert "n = 44" in result.method_reason
    assert result.status == "optimal" and result.objective == 209320


def test_local_search_gets_close_on_the_io_instance():
    result = solve(lolib_matrix("t59b11xx"), method="local", time_limit=1.0)
    assert result.status == "heuristic"
    assert result.objective >= 0.999 * 209320
    assert result.bound >= 209320
