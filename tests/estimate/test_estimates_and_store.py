import math
import sqlite3

import numpy as np
import pytest

from taskorder.estimate import (
    CampaignMismatchError,
    CampaignStore,
    estimate_from_evaluations,
    impute,
    make_plan,
)
from taskorder.exceptions import InvalidMatrixError, InvalidParameterError
from taskorder.matrix import TransferMatrix

TASKS = ("a", "b", "c")


def fake_evaluations(plan, score, entropy=lambda key, task: 1.0, stderr=0.0):
    """Evaluations of every probe of ``plan`` with ``score(key, task)``."""
    return {
        p.key: {
            t: {
                "score": score(p.key, t),
                "entropy": entropy(p.key, t),
                "score_stderr": stderr,
                "n_samples": 0,
            }
            for t in plan.tasks
        }
        for p in plan.probes()
    }


def ground_truth_score(bwt, forward, own, base, noise=None):
    """A score function consistent with the probe design (plus optional per-repeat noise)."""
    index = {t: k for k, t in enumerate(TASKS)}

    def score(key, task):
        parts = key.split("/")
        r = int(parts[-1][1:])
        extra = 0.0 if noise is None else noise[r]
        t = index[task]
        if parts[0] == "base":
            return base[t] + extra
        i = index[parts[1]]
        value = own[t] if t == i else base[t] + forward[i, t]
        if parts[0] == "second":
            j = index[parts[2]]
            value = value + bwt[i, j] if t == i else own[t] if t == j else value
        return value + extra

    return score


def test_estimates_recover_the_defined_quantities():
    rng = np.random.default_rng(0)
    bwt, forward = rng.normal(0, 0.1, (3, 3)), rng.normal(0, 0.1, (3, 3))
    own, base = np.array([0.7, 0.6, 0.5]), np.array([0.2, 0.3, 0.1])
    plan = make_plan(TASKS, repeats=1)
    est = estimate_from_evaluations(
        plan, fake_evaluations(plan, ground_truth_score(bwt, forward, own, base))
    )
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(est.matrix.bwt[off], bwt[off])
    np.testing.assert_allclose(est.matrix.forward[off], forward[off])
    np.testing.assert_allclose(est.matrix.own_scores, own)
    assert est.own_score_change == pytest.approx(dict(zip(TASKS, own - base)))
    assert est.stderr_source == "evaluation" and est.missing == []
    assert np.all(est.matrix.bwt_stderr[off] == 0)


def test_stderr_from_repeats_is_sd_over_sqrt_r():
    plan = make_plan(TASKS, repeats=3)
    zero = np.zeros((3, 3))
    noise = {0: 0.0, 1: 0.0, 2: 0.0}
    shift = {0: 0.0, 1: 0.1, 2: 0.2}  # bwt differs per repeat via the second stage only

    def score(key, task):
        base = ground_truth_score(zero, zero, np.ones(3) * 0.5, np.zeros(3), noise)(key, task)
        if key.startswith("second") and key.split("/")[1] == task:
            return base + shift[int(key[-1])]
        return base

    est = estimate_from_evaluations(plan, fake_evaluations(plan, score))
    assert est.stderr_source == "repeats"
    assert est.matrix.bwt[0, 1] == pytest.approx(0.1)
    assert est.matrix.bwt_stderr[0, 1] == pytest.approx(
        np.std([0, 0.1, 0.2], ddof=1) / math.sqrt(3)
    )


def test_single_repeat_stderr_combines_evaluation_errors():
    plan = make_plan(TASKS, repeats=1)
    est = estimate_from_evaluations(plan, fake_evaluations(plan, lambda k, t: 0.5, stderr=0.03))
    assert est.matrix.bwt_stderr[0, 1] == pytest.approx(math.hypot(0.03, 0.03))


def test_entropy_transfer_matrix_and_own_entropy_change():
    plan = make_plan(TASKS, repeats=1)

    def entropy(key, task):
        # Task b's entropy: 1.0, -0.2 once b is trained, +0.1 once a is trained.
        trained = key.split("/")[1:-1]
        if task != "b":
            return 1.0
        return 1.0 - 0.2 * ("b" in trained) + 0.1 * ("a" in trained)

    est = estimate_from_evaluations(plan, fake_evaluations(plan, lambda k, t: 0.5, entropy))
    assert est.own_entropy_change["b"] == pytest.approx(-0.2)
    assert est.entropy.bwt[1, 0] == pytest.approx(0.1)  # a after b raises b's entropy
    assert est.entropy.forward[0, 1] == pytest.approx(0.1)  # a before b


def test_unmeasured_pairs_are_missing_not_zero_and_unfinished_probes_too():
    plan = make_plan(TASKS, pairs=[("a", "b"), ("b", "c")])
    evaluations = fake_evaluations(plan, lambda k, t: 0.5)
    del evaluations["second/b/c/r0"]
    est = estimate_from_evaluations(plan, evaluations)
    assert set(est.missing) == {("a", "c"), ("b", "a"), ("b", "c"), ("c", "a"), ("c", "b")}
    assert np.isnan(est.matrix.bwt[1, 2]) and est.matrix.bwt[0, 1] == 0.0
    assert est.matrix.forward is not None and not np.isnan(est.matrix.forward[1, 2])


def test_row_col_imputation_is_exact_for_an_additive_matrix():
    rng = np.random.default_rng(1)
    n = 5
    true = 0.3 + rng.normal(size=(n, 1)) + rng.normal(size=(1, n))
    np.fill_diagonal(true, 0)
    holes = true.copy()
    holes[0, 3] = holes[2, 1] = holes[4, 0] = np.nan
    m = TransferMatrix([f"t{k}" for k in range(n)], holes, bwt_stderr=np.full((n, n), 0.01))
    filled = impute(m, "row_col")
    np.testing.assert_allclose(filled.bwt, true, atol=1e-6)
    assert filled.imputed.sum() == 3 and filled.imputed[0, 3]
    assert np.isnan(filled.bwt_stderr[0, 3]) and filled.bwt_stderr[0, 1] == 0.01
    assert impute(m, "zero").bwt[0, 3] == 0.0
    assert impute(m, "row_mean").bwt[0, 3] == pytest.approx(np.nanmean(np.delete(holes[0], [0, 3])))


def test_impute_errors():
    nan = float("nan")
    m = TransferMatrix(["a", "b"], [[0, nan], [nan, 0]])
    with pytest.raises(InvalidMatrixError, match="no measured"):
        impute(m)
    with pytest.raises(InvalidParameterError, match="'method'"):
        impute(m, "mean")


def test_store_refuses_another_configuration(tmp_path):
    path = tmp_path / "c.sqlite"
    store = CampaignStore(path, {"runner_config_hash": "abc", "steps": 10})
    store.close()
    CampaignStore(path, {"runner_config_hash": "abc", "steps": 10}).close()
    with pytest.raises(CampaignMismatchError, match="steps") as info:
        CampaignStore(path, {"runner_config_hash": "abc", "steps": 11})
    assert isinstance(info.value, ValueError)


def test_store_resets_running_probes_and_counts_attempts(tmp_path):
    plan = make_plan(TASKS)
    store = CampaignStore(tmp_path / "c.sqlite", {"x": 1})
    store.register(plan)
    store.register(plan)  # idempotent
    store.mark_running("base/r0")
    store.record(
        {
            "key": "base/r0",
            "evaluations": {
                "a": {"score": 1.0, "entropy": 0.5, "score_stderr": 0.0, "n_samples": 0}
            },
            "state_path": None,
            "train_s": 0.0,
            "eval_s": 0.1,
            "started_at": 0.0,
            "finished_at": 1.0,
            "worker": "w",
        }
    )
    store.mark_running("first/a/r0")
    store.close()
    store = CampaignStore(tmp_path / "c.sqlite", {"x": 1})
    assert store.reset_interrupted() == ["first/a/r0"]
    rows = {r["key"]: r for r in store.probes()}
    assert rows["base/r0"]["status"] == "done" and rows["base/r0"]["runs"] == 1
    assert rows["first/a/r0"]["status"] == "pending" and rows["first/a/r0"]["attempts"] == 1
    assert store.evaluations() == {
        "base/r0": {"a": {"score": 1.0, "entropy": 0.5, "score_stderr": 0.0, "n_samples": 0}}
    }
    store.close()


def test_store_is_readable_while_a_writer_holds_it(tmp_path):
    store = CampaignStore(tmp_path / "c.sqlite", {"x": 1})
    store.register(make_plan(TASKS))
    reader = sqlite3.connect(tmp_path / "c.sqlite")
    assert reader.execute("SELECT count(*) FROM probes").fetchone()[0] == 10
    reader.close()
    store.close()
