"""Which part of a route found the returned order, and the MIP left behind at the deadline."""

import time

import numpy as np
import pytest
from solver_cases import random_matrix

from taskorder import TransferMatrix, solve
from taskorder.solvers import make_problem
from taskorder.solvers.exact import ilp
from taskorder.solvers.exact.ilp_model import build_ordering_model, solve_mip_before
from taskorder.solvers.integer_weights import integer_weights
from taskorder.solvers.problem import Constraints

pytest.importorskip("ortools")

FOUND_BY = {"mip", "lp rounding", "local search"}


def test_proven_mip_answer_names_its_finder():
    result = solve(random_matrix(20, 4), method="ilp")
    assert result.status == "optimal"
    assert result.extras["found_by"] in FOUND_BY


def test_local_search_answer_names_its_finder():
    result = solve(random_matrix(20, 4), method="local", seed=1)
    assert result.extras["found_by"] == "local search"


def test_time_limited_mip_returns_the_better_of_both_and_says_which():
    rng = np.random.default_rng(1)
    m = TransferMatrix([f"t{i}" for i in range(60)], rng.integers(0, 100, (60, 60)))
    result = solve(m, method="ilp", time_limit=1.0)
    assert result.status == "feasible"
    assert result.extras["found_by"] in FOUND_BY
    # the helper's curve ends at its best value; the answer is at least that good
    assert result.objective >= result.anytime[-1][1] - 1e-9


def test_mip_past_its_deadline_is_left_behind():
    """A deadline already reached: the MIP thread is not waited for."""
    m = random_matrix(40, 2)
    problem = make_problem(m, "all_pairs", Constraints.from_names(m))
    weights = integer_weights(problem)
    model = build_ordering_model(problem, weights, ilp.all_triangles(40), integer=True)
    outcome = solve_mip_before(model, "highs", time.perf_counter())
    assert outcome.values is None and outcome.hit_limit and not outcome.proven
