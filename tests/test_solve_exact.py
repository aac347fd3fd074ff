"""Exact solvers agree with brute force; every method returns a valid, honestly scored order."""

from pathlib import Path

import numpy as np
import pytest

from taskorder import ConstraintError, InvalidParameterError, MissingEntriesError, evaluate, solve
from taskorder.io import read_lolib
from taskorder.solvers import SOLVERS
from tests.instances import THREE, THREE_BEST_ADJACENT, THREE_BEST_ALL_PAIRS, random_matrix

LOLIB = Path(__file__).parent / "data" / "lolib"
OBJECTIVES = ["all_pairs", "adjacent"]


def constraints_for(matrix, seed):
    rng = np.random.default_rng(seed)
    tasks = list(rng.permutation(matrix.tasks))
    return {
        "first": tasks[0],
        "last": tasks[1],
        "before": [(tasks[2], tasks[3]), (tasks[3], tasks[4])],
    }


def test_three_task_instance_solved_by_hand():
    for method in ("brute", "dp"):
        result = solve(THREE, method=method)
        assert (result.order, result.objective) == THREE_BEST_ALL_PAIRS
        result = solve(THREE, method=method, objective="adjacent")
        assert (result.order, result.objective) == THREE_BEST_ADJACENT


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("n_tasks", [2, 3, 5, 7, 9])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dp_equals_brute_force(objective, n_tasks, seed):
    m = random_matrix(n_tasks, seed, forward=seed % 2 == 1)
    dp = solve(m, method="dp", objective=objective)
    brute = solve(m, method="brute", objective=objective)
    assert dp.status == brute.status == "optimal"
    assert dp.objective == pytest.approx(brute.objective, abs=1e-9)
    assert dp.bound == pytest.approx(dp.objective)


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", range(6))
def test_dp_equals_brute_force_with_constraints(objective, seed):
    m = random_matrix(8, seed, integer=True)
    kwargs = constraints_for(m, seed)
    dp = solve(m, method="dp", objective=objective, **kwargs)
    brute = solve(m, method="brute", objective=objective, **kwargs)
    assert dp.objective == pytest.approx(brute.objective)
    for result in (dp, brute):
        order = list(result.order)
        assert order[0] == kwargs["first"] and order[-1] == kwargs["last"]
        for a, b in kwargs["before"]:
            assert order.index(a) < order.index(b)
    # constraints can only lower the optimum
    assert dp.objective <= solve(m, method="dp", objective=objective).objective + 1e-9


@pytest.mark.parametrize("method", sorted(SOLVERS))
@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("constrained", [False, True])
def test_every_method_returns_a_valid_honestly_scored_order(method, objective, constrained):
    from taskorder.solvers import SUPPORTED_OBJECTIVES

    if objective not in SUPPORTED_OBJECTIVES.get(method, OBJECTIVES):
        with pytest.raises(InvalidParameterError, match="does not handle"):
            solve(random_matrix(4, 0), method=method, objective=objective)
        return
    m = random_matrix(7, 11, forward=True)
    kwargs = constraints_for(m, 3) if constrained else {}
    result = solve(m, method=method, objective=objective, time_limit=5, seed=0, **kwargs)
    assert sorted(result.order) == sorted(m.tasks)
    assert result.objective == pytest.approx(evaluate(m, result.order, objective), abs=1e-9)
    assert result.status in ("optimal", "feasible", "heuristic")
    if result.bound is not None:
        assert result.bound >= result.objective - 1e-6
    if constrained:
        order = list(result.order)
        assert order[0] == kwargs["first"] and order[-1] == kwargs["last"]
        for a, b in kwargs["before"]:
            assert order.index(a) < order.index(b)
    assert set(result.baselines) >= {"rank_rule", "random_mean"}
    assert set(result.predicted) == set(m.tasks)


def test_optimum_beats_baselines_and_random_mean_is_exact():
    m = random_matrix(6, 5)
    result = solve(m, method="dp")
    assert result.objective >= result.baselines["rank_rule"] - 1e-12
    import itertools

    values = [evaluate(m, p) for p in itertools.permutations(m.tasks)]
    assert result.baselines["random_mean"] == pytest.approx(np.mean(values))
    assert result.objective == pytest.approx(max(values))


def test_rank_rule_orders_least_to_most_forgettable():
    m = random_matrix(6, 9)
    result = solve(m, method="rank")
    forget = dict(zip(m.tasks, m.forgettability()))
    assert list(result.order) == sorted(m.tasks, key=lambda t: forget[t])
    assert result.status == "heuristic"


@pytest.mark.parametrize("name, optimum", [("pal11", 35), ("pal13", 57)])
def test_lolib_pal_instances(name, optimum):
    m = read_lolib(LOLIB / name)
    result = solve(m, method="dp")
    assert result.objective == optimum
    assert result.status == "optimal"


def test_contradictory_constraints_are_rejected_naming_the_cycle():
    with pytest.raises(ConstraintError, match="cycle"):
        solve(THREE, before=[("a", "b"), ("b", "c"), ("c", "a")])
    with pytest.raises(ConstraintError, match="both first and last"):
        solve(THREE, first="a", last="a")
    with pytest.raises(ConstraintError, match="cycle"):
        solve(THREE, first="a", before=[("b", "a")])
    with pytest.raises(ConstraintError, match="unknown task 'z'"):
        solve(THREE, last="z")


def test_bad_parameters_are_rejected():
    with pytest.raises(InvalidParameterError, match="'time_limit'.*Got -1"):
        solve(THREE, time_limit=-1)
    with pytest.raises(InvalidParameterError, match="'method'"):
        solve(THREE, method="magic")
    with pytest.raises(InvalidParameterError, match="'objective'"):
        solve(THREE, objective="sideways")
    with pytest.raises(InvalidParameterError, match="at most 10"):
        solve(random_matrix(11, 0), method="brute")


def test_missing_entries_refused():
    m = THREE.replace(bwt=[[0, np.nan, 1], [2, 0, -1], [0, 4, 0]])
    with pytest.raises(MissingEntriesError):
        solve(m)


def test_same_seed_same_answer():
    m = random_matrix(8, 4)
    a = solve(m, first="t1", seed=3)
    b = solve(m, first="t1", seed=3)
    assert a.order == b.order and a.baselines == b.baselines


def probed(n_tasks, seed):
    rng = np.random.default_rng(seed)
    return random_matrix(n_tasks, seed, forward=True).replace(
        bwt=rng.normal(-0.1, 0.2, (n_tasks, n_tasks)), own_scores=rng.uniform(0.3, 0.9, n_tasks)
    )


@pytest.mark.parametrize("objective", ["adjacent", "max_min"])
@pytest.mark.parametrize("seed", range(4))
def test_multiplicative_transformations_are_exact(objective, seed):
    """The multiplicative model as a linear adjacent problem / a max-min problem in logs."""
    import itertools

    from taskorder import predict

    m = probed(6, seed)
    kwargs = constraints_for(m, seed)

    def value(order):
        if objective == "max_min":
            return min(predict(m, order, model="multiplicative").scores.values())
        scores = predict(m, order, objective="adjacent", model="multiplicative").scores
        return sum(w * (scores[t] - s) for t, w, s in zip(m.tasks, m.weights, m.own_scores))

    def ok(order):
        return (
            order[0] == kwargs["first"]
            and order[-1] == kwargs["last"]
            and all(order.index(a) < order.index(b) for a, b in kwargs["before"])
        )

    best = max(value(o) for o in itertools.permutations(m.tasks) if ok(o))
    result = solve(m, model="multiplicative", objective=objective, **kwargs)
    assert result.status == "optimal" and ok(result.order)
    assert result.objective == pytest.approx(best, abs=1e-9)
    assert result.objective == pytest.approx(value(result.order), abs=1e-12)
