"""method='auto', objective handling and errors of solve()."""

import numpy as np
import pytest
from solver_cases import random_matrix

from taskorder import InvalidParameterError, TransferMatrix, solve
from taskorder.solvers import SOLVERS, choose_method, make_problem
from taskorder.solvers.choose import AUTO_TIME_LIMIT, THRESHOLDS
from taskorder.solvers.problem import Constraints


def structured_matrix(n_tasks, seed=0):
    """Near-acyclic (input-output-like): a hidden order that a descent recovers."""
    rng = np.random.default_rng(seed)
    weights = rng.random((n_tasks, n_tasks)) * np.where(np.triu(np.ones((n_tasks, n_tasks))), 10, 1)
    hidden = rng.permutation(n_tasks)
    return TransferMatrix([f"t{i}" for i in range(n_tasks)], weights[np.ix_(hidden, hidden)])


def chosen(n_tasks, objective, time_limit=None, matrix=None):
    m = structured_matrix(n_tasks) if matrix is None else matrix
    problem = make_problem(m, objective, Constraints.from_names(m))
    return choose_method(problem, time_limit)


def test_random_like_data_goes_to_local_search_by_its_slack_share():
    from taskorder.solvers.choose import SLACK_LOCAL, SLACK_LOCAL_SHORT, slack_share

    structured, random_like = structured_matrix(40), random_matrix(40, 0)
    low = slack_share(make_problem(structured, "all_pairs", Constraints.from_names(structured)))
    high = slack_share(make_problem(random_like, "all_pairs", Constraints.from_names(random_like)))
    assert low < SLACK_LOCAL_SHORT <= high
    assert chosen(40, "all_pairs", 5.0, matrix=random_like)[0] == "local"
    assert chosen(40, "all_pairs", 5.0)[0] == "ilp"
    method = chosen(40, "all_pairs", 60.0, matrix=random_like)[0]
    assert method == ("local" if high >= SLACK_LOCAL else "ilp")


@pytest.mark.parametrize(
    "n_tasks, objective, method",
    [
        (8, "all_pairs", "dp"),
        (THRESHOLDS["all_pairs"]["dp"], "all_pairs", "dp"),
        (THRESHOLDS["all_pairs"]["dp"] + 1, "all_pairs", "ilp"),
        (THRESHOLDS["all_pairs"]["ilp"] + 1, "all_pairs", "local"),
        (10, "adjacent", "dp"),
        (THRESHOLDS["adjacent"]["dp"] + 1, "adjacent", "cpsat"),
        (THRESHOLDS["adjacent"]["cpsat"] + 1, "adjacent", "local"),
        (10, "max_min", "cpsat"),
        (THRESHOLDS["max_min"]["cpsat"] + 1, "max_min", "local"),
    ],
)
def test_auto_thresholds(n_tasks, objective, method):
    picked, reason = chosen(n_tasks, objective)
    assert picked == method
    assert f"n = {n_tasks}" in reason


def test_short_time_limit_sends_large_mips_to_the_portfolio_or_local_search_by_slack():
    from taskorder.solvers.choose import (
        ILP_LARGE_MIN_SECONDS,
        ILP_SMALL_MAX_TASKS,
        SLACK_PORTFOLIO,
        slack_share,
    )

    n_tasks = ILP_SMALL_MAX_TASKS + 10
    short = ILP_LARGE_MIN_SECONDS - 1
    structured, random_like = structured_matrix(n_tasks), random_matrix(n_tasks, 0)
    for m in (structured, random_like):
        slack = slack_share(make_problem(m, "all_pairs", Constraints.from_names(m)))
        method, reason = chosen(n_tasks, "all_pairs", time_limit=short, matrix=m)
        assert method == ("portfolio" if slack < SLACK_PORTFOLIO else "local")
        assert f"slack share {slack:.2f}" in reason or method == "local"
    assert chosen(n_tasks, "all_pairs", time_limit=short)[0] == "portfolio"
    assert chosen(n_tasks, "all_pairs", time_limit=short, matrix=random_like)[0] == "local"
    assert chosen(n_tasks, "all_pairs", time_limit=ILP_LARGE_MIN_SECONDS)[0] == "ilp"
    assert chosen(n_tasks, "all_pairs")[0] == "ilp"
    assert chosen(ILP_SMALL_MAX_TASKS, "all_pairs", time_limit=1.0)[0] == "ilp"


def test_portfolio_route_proves_structured_data_and_says_who_found_the_order():
    from taskorder.solvers.choose import ILP_SMALL_MAX_TASKS

    m = structured_matrix(ILP_SMALL_MAX_TASKS + 5, seed=1)
    result = solve(m, time_limit=20.0)
    assert result.method == "portfolio"
    assert result.status == "optimal" and result.bound == pytest.approx(result.objective)
    assert result.extras["found_by"] in ("mip", "lp rounding", "local search")
    assert result.extras["portfolio"]["mode"] == "parallel"


def test_parallel_portfolio_reports_the_mip_bound_at_its_time_limit():
    from taskorder.solvers.portfolio import solve_portfolio

    m = random_matrix(70, 5)
    problem = make_problem(m, "all_pairs", Constraints.from_names(m))
    solution = solve_portfolio(problem, time_limit=1.5, seed=0, mode="parallel")
    assert solution.status == "feasible" and solution.bound > solution.value
    assert solution.value == pytest.approx(problem.value(solution.order))
    assert solution.extras["stopped_by_time_limit"]
    assert solution.extras["found_by"] in ("mip", "lp rounding", "local search")


def test_portfolio_falls_back_to_local_search_and_keeps_an_honest_bound():
    from taskorder.solvers.portfolio import solve_portfolio

    m = random_matrix(40, 3)
    problem = make_problem(m, "all_pairs", Constraints.from_names(m))
    solution = solve_portfolio(problem, time_limit=1.0, seed=0, exact_share=0.05, mode="staged")
    record = solution.extras["portfolio"]
    assert record["exact_status"] == "feasible" and record["local_s"] > 0
    assert solution.value == max(record["exact_value"], record["local_value"])
    assert solution.value == pytest.approx(problem.value(solution.order))
    assert solution.bound >= solution.value
    assert solution.status == ("optimal" if solution.value >= solution.bound else "feasible")
    by_local = record["local_value"] > record["exact_value"]
    assert (solution.extras["found_by"] == "local search") or not by_local
    assert solution.extras["anytime"][-1][1] <= solution.value + 1e-9


def test_portfolio_refuses_a_bad_exact_share_or_mode():
    from taskorder.solvers.portfolio import solve_portfolio

    m = random_matrix(5, 0)
    problem = make_problem(m, "all_pairs", Constraints.from_names(m))
    with pytest.raises(InvalidParameterError, match="'exact_share'.*solve_portfolio.*Got 0"):
        solve_portfolio(problem, time_limit=1.0, exact_share=0)
    with pytest.raises(InvalidParameterError, match="'mode'.*solve_portfolio.*'both'"):
        solve_portfolio(problem, time_limit=1.0, mode="both")


def test_short_time_limit_skips_the_largest_dp():
    assert chosen(THRESHOLDS["all_pairs"]["dp"], "all_pairs", time_limit=0.01)[0] == "ilp"


def test_auto_without_time_limit_gives_the_method_a_budget(monkeypatch):
    monkeypatch.setitem(AUTO_TIME_LIMIT, "local", 0.5)
    m = random_matrix(THRESHOLDS["all_pairs"]["ilp"] + 5, 0)
    result = solve(m)
    assert result.method == "local"
    assert f"{AUTO_TIME_LIMIT['local']:g} s" in result.method_reason


@pytest.mark.parametrize("spelling", ["max_min", "max-min", "MAX_MIN"])
def test_max_min_spellings(spelling):
    result = solve(random_matrix(5, 1, own=True), objective=spelling)
    assert result.objective_name == "max_min"
    assert result.objective == pytest.approx(min(result.predicted.values()))
    assert set(result.baselines) == {"rank_rule", "random_mean"}


def test_unknown_objective_lists_max_min():
    with pytest.raises(InvalidParameterError, match="all_pairs, adjacent, max_min.*'sideways'"):
        solve(random_matrix(4, 0), objective="sideways")


@pytest.mark.parametrize("method", ["dp", "brute"])
def test_methods_without_max_min_refuse_it(method):
    with pytest.raises(InvalidParameterError, match=f"'{method}' method does not handle"):
        solve(random_matrix(4, 0), method=method, objective="max_min")


def test_ilp_refuses_adjacent():
    with pytest.raises(InvalidParameterError, match="cpsat"):
        solve(random_matrix(4, 0), method="ilp", objective="adjacent")


def test_every_registered_method_returns_an_honest_value():
    m = random_matrix(7, 4, forward=True, own=True)
    from taskorder import evaluate

    for method in SOLVERS:
        result = solve(m, method=method)
        assert result.objective == pytest.approx(evaluate(m, result.order), abs=1e-12)
        if result.status == "optimal":
            # float data: proven on integer-scaled weights, within the recorded slack
            slack = result.extras.get("rounding_error_bound", 0.0)
            assert result.objective <= result.bound <= result.objective + 2 * slack + 1e-12


def test_integer_weights_error_bound_holds_for_random_orders():
    from taskorder.solvers.integer_weights import integer_weights

    rng = np.random.default_rng(0)
    m = random_matrix(12, 5, forward=True, own=True)
    for objective in ("all_pairs", "adjacent", "max_min"):
        problem = make_problem(m, objective, Constraints.from_names(m))
        iw = integer_weights(problem, max_abs=1000)
        assert iw.rounding_error_bound > 0
        scaled = make_problem(m, objective, Constraints.from_names(m))
        from dataclasses import replace

        scaled = replace(
            problem,
            weights=iw.weights / iw.scale,
            **(
                {}
                if objective != "max_min"
                else {
                    "bwt": iw.bwt / iw.scale,
                    "forward": iw.forward / iw.scale,
                    "own": iw.own / iw.scale,
                }
            ),
        )
        for _ in range(50):
            order = rng.permutation(12)
            assert (
                abs(problem.value(order) - scaled.value(order)) <= iw.rounding_error_bound + 1e-12
            )


def test_a_registered_solver_sees_the_prepared_problem_of_the_spec():
    from taskorder.solvers import SOLVERS, ProblemSpec, register_solver
    from taskorder.solvers.exact.dp import solve_dp

    seen = []

    def spy(problem, *, time_limit=None, seed=0):
        seen.append(problem)
        return solve_dp(problem, time_limit=time_limit, seed=seed)

    register_solver("spy", spy)
    try:
        m = random_matrix(5, 2, forward=True, own=True)
        result = solve(m, ProblemSpec(model="backward_only", last="t1"), method="spy")
    finally:
        del SOLVERS["spy"]
    assert result.method == "spy" and result.order[-1] == "t1"
    assert np.allclose(seen[0].weights, m.replace(forward=None).pair_weights())
    assert result.method_reason.startswith("backward_only model")


@pytest.mark.parametrize(("n_tasks", "method"), [(8, "dp"), (17, "local")])
def test_auto_for_the_multiplicative_all_pairs_problem(n_tasks, method):
    from taskorder.solvers.multiplicative import MULTIPLICATIVE_METHODS

    m = random_matrix(n_tasks, 1, forward=True, own=True)
    result = solve(m, model="multiplicative", time_limit=5 if method == "local" else None)
    assert result.method == method and method in MULTIPLICATIVE_METHODS
    assert result.status == ("optimal" if method == "dp" else "heuristic")
    assert "multiplicative model" in result.method_reason
    with pytest.raises(InvalidParameterError, match="dp, local, rank"):
        solve(m, model="multiplicative", method="cpsat")
