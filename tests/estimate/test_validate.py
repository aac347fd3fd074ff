import json
import math

import numpy as np
import pytest

from taskorder.estimate import (
    make_plan,
    noise_ceiling,
    run_campaign,
    run_curricula,
    validate,
)
from taskorder.estimate.validate import _percentile
from taskorder.exceptions import InvalidParameterError
from taskorder.runner import check_runner
from taskorder.seeds import derive_seed
from tests.estimate.helpers import AdditiveToyRunner, small_learner


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(7)
    n = 4
    return AdditiveToyRunner(
        rng.normal(-0.05, 0.1, (n, n)),
        rng.normal(0, 0.05, (n, n)),
        rng.uniform(0.5, 0.9, n),
        rng.uniform(0.1, 0.3, n),
    )


def test_toy_runner_honours_the_protocol(toy):
    check_runner(toy)


def test_when_the_additive_model_holds_validation_reports_perfect_fidelity(toy, tmp_path):
    estimate = run_campaign(toy, make_plan(toy.tasks, steps=1), tmp_path).estimate
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(estimate.matrix.bwt[off], toy.bwt[off])
    np.testing.assert_allclose(estimate.matrix.forward[off], toy.forward[off])
    report = validate(toy, estimate.matrix, seeds=2, steps=1, all_orders=True)
    additive = report.models["additive"]
    assert additive["spearman"] == pytest.approx(1.0) and additive["kendall"] == pytest.approx(1.0)
    assert additive["mae"] == pytest.approx(0.0, abs=1e-12)
    assert report.noise_ceiling["ceiling"] == pytest.approx(1.0)
    # Here the own-stage drift is exactly the forward transfer from earlier tasks.
    assert report.assumptions["own_stage_mae"] > 0
    assert report.assumptions["loss_mae"]["additive"] == pytest.approx(0.0, abs=1e-12)
    assert report.realised["solver"]["rank"] == 1 and report.realised["solver"][
        "percentile"
    ] == pytest.approx(100 - 50 / 24)
    assert report.realised["best:additive"]["rank"] == 1
    assert report.n_orders == 24
    assert (
        report.gains["reference"] == "all orders"
        and report.gains["recommended_minus_reference"] > 0
    )


def test_curricula_share_prefixes_without_changing_results():
    runner = small_learner()
    orders = [runner.tasks, (runner.tasks[0], runner.tasks[2], runner.tasks[1])]
    runs = run_curricula(runner, orders, seeds=2, steps=4, seed=9)
    for run in runs:
        s = run.seed_index
        state = runner.initial_state(derive_seed(9, "validate", "init", s))
        eval_seed = derive_seed(9, "validate", "eval", s)
        rows = [[runner.evaluate(state, t, seed=eval_seed).score for t in run.tasks]]
        for k in range(len(run.order)):
            path = "/".join(run.order[: k + 1])
            state = runner.train(
                state, run.order[k], steps=4, seed=derive_seed(9, "validate", "train", s, path)
            )
            rows.append([runner.evaluate(state, t, seed=eval_seed).score for t in run.tasks])
        np.testing.assert_array_equal(run.scores, rows)
    accuracy, baseline = runs[0].accuracy_matrix()
    assert accuracy.shape == (3, 3) and baseline.shape == (3,)
    assert runs[0].gem().acc == pytest.approx(accuracy[-1].mean())
    alone = run_curricula(runner, orders[:1], seeds=2, steps=4, seed=9)
    np.testing.assert_array_equal(alone[0].scores, runs[0].scores)  # independent of other orders


def test_noise_ceiling_extremes():
    rng = np.random.default_rng(0)
    assert noise_ceiling(np.arange(8.0)[:, None] + np.zeros((8, 4)))["ceiling"] == pytest.approx(
        1.0
    )
    noise = [noise_ceiling(rng.normal(size=(30, 6)), seed=k)["reliability"] for k in range(5)]
    assert abs(np.mean(noise)) < 0.3
    assert math.isnan(noise_ceiling(rng.normal(size=(5, 1)))["ceiling"])


def test_percentile_counts_ties_half():
    values = np.array([1.0, 2.0, 2.0, 3.0, 0.5])
    assert _percentile(values, 3) == (1, 90.0)  # best of 5: 4 worse + half of itself
    assert _percentile(values, 4) == (5, 10.0)
    assert _percentile(values, 1) == (2, pytest.approx(100 * (2 + 0.5 * 2) / 5))
    assert np.mean([_percentile(values, k)[1] for k in range(5)]) == pytest.approx(50.0)


def test_validate_on_the_learner_reports_everything(tmp_path):
    runner = small_learner()
    estimate = run_campaign(runner, make_plan(runner.tasks, repeats=2, steps=5), tmp_path).estimate
    report = validate(runner, estimate.matrix, seeds=3, steps=5, n_random=2, all_orders=True)
    data = report.to_dict()
    json.dumps(data, allow_nan=False)
    assert set(data["models"]) == {"additive", "backward_only", "multiplicative"}
    assert {"solver", "rank_rule", "random_0", "random_1", "random_mean"} <= set(data["realised"])
    for real in data["realised"].values():
        assert 0 <= real["percentile"] <= 100
    row = data["orders"][0]
    assert set(row["predicted"]) == set(data["models"]) and set(row["gem"]) == {"acc", "bwt", "fwt"}
    assert data["noise_ceiling"]["n_splits"] == 3


def test_validate_skips_a_model_it_cannot_evaluate_and_checks_arguments(toy):
    matrix = run_campaign(toy, make_plan(toy.tasks, steps=1), _tmp()).estimate.matrix
    no_own = matrix.replace(own_scores=None)
    report = validate(toy, no_own, seeds=1, steps=1, n_random=3)
    assert "skipped" in report.models["multiplicative"] and report.notes
    assert math.isnan(report.noise_ceiling["ceiling"])
    with pytest.raises(InvalidParameterError, match="'models'"):
        validate(toy, matrix, models=["quadratic"])
    with pytest.raises(InvalidParameterError, match="'seeds'"):
        validate(toy, matrix, seeds=0)
    big = AdditiveToyRunner(np.zeros((7, 7)), np.zeros((7, 7)), np.ones(7), np.zeros(7))
    big_matrix = run_campaign(big, make_plan(big.tasks, steps=1), _tmp()).estimate.matrix
    with pytest.raises(InvalidParameterError, match="all_orders"):
        validate(big, big_matrix, all_orders=True)


def _tmp():
    import tempfile

    return tempfile.mkdtemp()


def test_validate_presents_the_recommended_order_with_a_verdict(toy, tmp_path):
    estimate = run_campaign(toy, make_plan(toy.tasks, steps=1, repeats=2), tmp_path).estimate
    report = validate(toy, estimate.matrix, seeds=2, steps=1, all_orders=True)
    data = report.to_dict()
    recommended = next(row for row in data["orders"] if "recommended" in row["labels"])
    assert recommended["order"] == data["recommendation"]["order"]
    assert data["recommendation"]["route"] in (
        "additive",
        "backward_only",
        "multiplicative",
        "rank_rule",
    )
    assert data["verdict"][0].startswith("recommended order: realised percentile")
    assert data["verdict"] == report.verdict
    assert "recommended_minus_reference" in data["gains"]


def test_order_test_holds_its_level_under_pure_seed_noise():
    from taskorder.estimate.validate import order_test

    rng = np.random.default_rng(0)
    # every order the same, seeds share a starting-state effect: no order effect
    calls = [
        order_test(rng.normal(size=(12, 4)) + rng.normal(size=4))["matters"] for _ in range(400)
    ]
    assert 0.02 < np.mean(calls) < 0.09  # about the 5 % level


def test_order_test_finds_an_order_effect_the_seeds_share():
    from taskorder.estimate.validate import order_test

    rng = np.random.default_rng(1)
    effect = np.linspace(-1.0, 1.0, 6)[:, None]
    start = 5.0 * rng.normal(size=4)  # large seed effect, paired out by the test
    result = order_test(effect + start + 0.1 * rng.normal(size=(6, 4)))
    assert result["matters"] and result["p"] < 1e-6
    assert (result["df_orders"], result["df_residual"]) == (5, 15)
    assert order_test(np.ones((1, 4)))["matters"] is None  # one order: no test


def test_validate_reports_the_order_test_and_the_verdict_says_it(toy, tmp_path):
    estimate = run_campaign(toy, make_plan(toy.tasks, steps=1, repeats=2), tmp_path).estimate
    report = validate(toy, estimate.matrix, seeds=3, steps=1, all_orders=True)
    test = report.to_dict()["order_test"]
    assert test["df_orders"] == report.n_orders - 1 and test["df_residual"] == 2 * (
        report.n_orders - 1
    )
    assert report.verdict[1].startswith(
        "ORDER MATTERS HERE" if test["matters"] else "ORDER CANNOT BE TOLD APART HERE"
    )
    assert f"over {report.n_orders} orders x seeds" in report.verdict[1]
