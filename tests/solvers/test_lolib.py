"""LOLIB instances with known optima (tests/data/lolib, see README.solvers.md)."""

import pytest
from solver_cases import lolib_matrix

from taskorder import solve
from taskorder.solvers import make_problem
from taskorder.solvers.heuristics.local_search import solve_local
from taskorder.solvers.problem import Constraints

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


@pytest.mark.parametrize("seed", range(3))
def test_local_search_gets_close_on_the_io_instance(seed):
    """A budget in rounds, not seconds: the search stops after 300 rounds without
    improvement, so the answer depends on the seed only, never on the machine's load
    (about 0.3 s on a quiet core; it reaches the optimum for seeds 0-4)."""
    matrix = lolib_matrix("t59b11xx")
    problem = make_problem(matrix, "all_pairs", Constraints.from_names(matrix))
    solution = solve_local(problem, seed=seed, patience=300)
    assert solution.status == "heuristic"
    assert solution.extras["stop_reason"] == "no improvement in 300 rounds"
    assert solution.value >= 0.9995 * 209320
    assert solution.bound >= 209320
