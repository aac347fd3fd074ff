"""The LP phase of the MIP: one HiGHS model updated in place vs the model rebuilt each round."""

import numpy as np
import pytest
from solver_cases import random_matrix

from taskorder import InvalidParameterError
from taskorder.solvers import make_problem
from taskorder.solvers.exact.highs_lp import IncrementalLP, incremental_lp_available
from taskorder.solvers.exact.ilp import solve_ilp
from taskorder.solvers.exact.triangles import precedence_matrix, violated_triangles
from taskorder.solvers.integer_weights import integer_weights
from taskorder.solvers.problem import Constraints

pytest.importorskip("ortools")
needs_incremental = pytest.mark.skipif(
    not incremental_lp_available(),
    reason="SciPy's bundled HiGHS (scipy.optimize._highspy) is missing",
)


def problem_for(n_tasks, seed, objective="all_pairs", **constraints):
    matrix = random_matrix(n_tasks, seed, forward=True, own=True)
    return make_problem(matrix, objective, Constraints.from_names(matrix, **constraints))


@needs_incremental
@pytest.mark.parametrize("objective", ["all_pairs", "max_min"])
@pytest.mark.parametrize("seed", range(4))
def test_both_lp_modes_prove_the_same_optimum(objective, seed):
    problem = problem_for(12, seed, objective)
    incremental = solve_ilp(problem, lp="incremental", seed=seed)
    rebuilt = solve_ilp(problem, lp="rebuild", seed=seed)
    assert incremental.status == rebuilt.status == "optimal"
    assert incremental.value == pytest.approx(rebuilt.value, abs=1e-9)
    assert incremental.extras["lp"] == "incremental" and rebuilt.extras["lp"] == "rebuild"


@needs_incremental
def test_constraints_hold_in_the_incremental_mode():
    problem = problem_for(14, 3, first="t5", before=[("t2", "t1")])
    solution = solve_ilp(problem, lp="incremental")
    assert solution.order[0] == 5
    assert solution.order.index(2) < solution.order.index(1)


@needs_incremental
def test_rows_can_be_dropped_and_added_again_without_changing_the_bound():
    problem = problem_for(25, 1)
    model = IncrementalLP(problem, integer_weights(problem))
    bounds = []
    for _ in range(30):
        outcome = model.solve(None)
        assert outcome.proven
        bounds.append(outcome.dual_bound)
        precedence = precedence_matrix(outcome.values[: 25 * 24 // 2], 25)
        triples = violated_triangles(precedence, limit=50)
        if triples.size == 0:
            break
        model.drop_slack_rows(0.0)
        model.add_triangles(triples)
    # each bound is a valid relaxation; with every violated row added the last one is
    # no larger than the first
    assert bounds[-1] <= bounds[0] + 1e-6
    assert np.isfinite(bounds).all()


def test_unknown_lp_mode_names_parameter_expected_and_received():
    with pytest.raises(InvalidParameterError, match=r"'lp'.*'incremental', 'rebuild'.*'simplex'"):
        solve_ilp(problem_for(5, 0), lp="simplex")


def test_incremental_mode_needs_highs():
    with pytest.raises(InvalidParameterError, match=r"'lp'.*backend='highs'"):
        solve_ilp(problem_for(5, 0), lp="incremental", backend="scip")


@needs_incremental
def test_barrier_round_gives_the_simplex_bound_and_a_basis_to_continue_from():
    problem = problem_for(20, 5)
    bounds = {}
    for barrier in (False, True):
        model = IncrementalLP(problem, integer_weights(problem))
        outcome = model.solve(None)
        precedence = precedence_matrix(outcome.values[: 20 * 19 // 2], 20)
        model.add_triangles(violated_triangles(precedence))
        second = model.solve(None, barrier=barrier)
        third = model.solve(None)  # warm simplex after either
        assert second.proven and third.proven
        assert third.dual_bound == pytest.approx(second.dual_bound, abs=1e-6)
        bounds[barrier] = second.dual_bound
    assert bounds[True] == pytest.approx(bounds[False], abs=1e-6)
