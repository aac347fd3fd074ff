"""Active probing: a calibrated pair model and a loop that stops early on structured matrices."""

import numpy as np
import pytest

from taskorder import InvalidParameterError, TransferMatrix, evaluate, solve
from taskorder.active import PairModel, active_probe, initial_pairs


def truth(n, seed, interaction=0.1):
    rng = np.random.default_rng(seed)
    bwt = rng.normal(0, 1, n)[:, None] + rng.normal(0, 1, n)[None, :]
    bwt += interaction * rng.normal(0, 1, (n, n))
    return TransferMatrix([f"t{k}" for k in range(n)], bwt)


def measurer(matrix, se, seed):
    rng = np.random.default_rng(seed)
    calls = []

    def measure(pairs):
        calls.append(list(pairs))
        return {p: (matrix.bwt[p] + se * rng.normal(), se) for p in pairs}

    return measure, calls


def test_initial_design_sees_every_row_and_column_twice():
    pairs = initial_pairs(7)
    assert len(pairs) == 14 and len(set(pairs)) == 14
    assert all(i != j for i, j in pairs)
    rows = np.bincount([i for i, _ in pairs], minlength=7)
    cols = np.bincount([j for _, j in pairs], minlength=7)
    assert (rows == 2).all() and (cols == 2).all()


def test_pair_model_predicts_unmeasured_entries_of_an_additive_matrix():
    m = truth(8, 0, interaction=0.0)
    rng = np.random.default_rng(0)
    pairs = [(i, j) for i in range(8) for j in range(8) if i != j]
    chosen = [pairs[k] for k in rng.choice(len(pairs), 30, replace=False)]
    model = PairModel(8).fit({p: (m.bwt[p], 0.01) for p in chosen})
    mean, _sd = model.posterior()
    unmeasured = [p for p in pairs if p not in chosen]
    errors = np.array([mean[p] - m.bwt[p] for p in unmeasured])
    assert np.abs(errors).max() < 0.1


def test_pair_model_intervals_are_calibrated_with_interactions():
    covered, total = 0, 0
    for seed in range(10):
        m = truth(8, seed, interaction=0.5)
        pairs = [(i, j) for i in range(8) for j in range(8) if i != j]
        rng = np.random.default_rng(seed)
        chosen = [pairs[k] for k in rng.choice(len(pairs), 28, replace=False)]
        model = PairModel(8).fit({p: (m.bwt[p] + 0.05 * rng.normal(), 0.05) for p in chosen})
        mean, sd = model.posterior()
        for p in pairs:
            if p not in chosen:
                covered += abs(mean[p] - m.bwt[p]) <= 1.96 * sd[p]
                total += 1
    assert 0.85 <= covered / total <= 1.0


def test_active_probing_stops_early_and_finds_a_near_optimal_order():
    m = truth(9, 3, interaction=0.05)
    measure, calls = measurer(m, 0.02, 1)
    result = active_probe(m.tasks, measure, seed=0, batch_size=4)
    assert result.n_probes <= 9 * 8 // 2  # at most half of the full design
    best = solve(m)
    gap = (best.objective - evaluate(m, result.order)) / (
        best.objective - best.baselines["random_mean"]
    )
    assert gap <= 0.01
    assert sum(len(c) for c in calls) == result.n_probes  # no pair measured twice
    assert result.matrix.imputed.sum() == 9 * 8 - result.n_probes
    assert "regret" in result.stopped_because or "optimal" in result.stopped_because


def test_budget_same_seed_and_bad_parameters():
    m = truth(6, 1, interaction=1.0)
    measure, _ = measurer(m, 0.3, 2)
    a = active_probe(m.tasks, measure, budget=14, seed=5, tolerance=0.0, confidence=1.0)
    assert a.n_probes == 14 and a.stopped_because == "budget spent"
    measure, _ = measurer(m, 0.3, 2)
    b = active_probe(m.tasks, measure, budget=14, seed=5, tolerance=0.0, confidence=1.0)
    assert a.order == b.order and a.history == b.history
    with pytest.raises(InvalidParameterError):
        active_probe(m.tasks, measure, budget=1)


def test_the_problem_spec_constrains_every_solve_and_refuses_other_fields():
    from taskorder import ProblemSpec

    m = truth(6, 2, interaction=0.2)
    free = active_probe(m.tasks, measurer(m, 0.05, 3)[0], seed=0)
    spec = ProblemSpec(first=free.order[-1])
    result = active_probe(m.tasks, measurer(m, 0.05, 3)[0], seed=0, spec=spec)
    assert result.order[0] == free.order[-1]
    assert all(row["order"][0] == free.order[-1] for row in result.history)
    with pytest.raises(InvalidParameterError, match=r"'spec' parameter of active_probe.*model="):
        active_probe(m.tasks, measurer(m, 0.05, 3)[0], spec=ProblemSpec(model="backward_only"))
