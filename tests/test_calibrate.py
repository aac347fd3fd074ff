"""Calibrated outcome model: exact posterior, and a search that overcomes a wrong prior."""

import itertools
import json

import numpy as np
import pytest

from taskorder import InvalidParameterError, TransferMatrix, solve
from taskorder.calibrate import PrecedenceModel, calibrated_search, precedence_features


def linear_world(n, seed):
    """A ground truth linear in precedence features (test fixture for the search itself)."""
    rng = np.random.default_rng(seed)
    beta = rng.normal(0, 1, n * (n - 1) // 2)
    tasks = [f"t{k}" for k in range(n)]

    def outcome(order):
        return float(0.5 + beta @ precedence_features([tasks.index(t) for t in order], n))

    # the matrix whose additive prediction equals the truth (up to a constant)
    weights = np.zeros((n, n))
    i, j = np.triu_indices(n, k=1)
    weights[i, j], weights[j, i] = beta * n, -beta * n
    return tasks, outcome, TransferMatrix(tasks, weights)


def test_probe_prior_alone_reproduces_the_additive_ranking():
    tasks, outcome, exact_prior = linear_world(5, 0)
    model = PrecedenceModel(exact_prior).fit([], [])
    orders = list(itertools.permutations(range(5)))
    predicted = [model.predict(o)[0] for o in orders]
    truth = [outcome([tasks[k] for k in o]) for o in orders]
    assert np.corrcoef(predicted, truth)[0, 1] > 0.999


def test_posterior_learns_the_truth_from_curricula():
    tasks, outcome, prior = linear_world(5, 1)
    wrong = prior.replace(bwt=-prior.bwt)  # a prior pointing the wrong way
    rng = np.random.default_rng(0)
    orders = [list(rng.permutation(5)) for _ in range(40)]
    y = [outcome([tasks[k] for k in o]) for o in orders]
    model = PrecedenceModel(wrong, noise_sd=0.01).fit(orders, y)
    assert model.mean_[1] < 0  # the probe scale flipped sign
    best = solve(model.as_matrix()).order
    assert best == solve(prior).order


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_search_overcomes_a_wrong_prior(seed):
    tasks, outcome, prior = linear_world(5, seed)
    wrong = prior.replace(bwt=-prior.bwt)
    search = calibrated_search(wrong, lambda o: (outcome(o), 0.0), n_curricula=8, seed=seed)
    all_values = sorted(outcome(p) for p in itertools.permutations(tasks))

    def share_at_or_below(order):
        return np.searchsorted(all_values, outcome(order), side="right") / len(all_values)

    rank, prior_rank = share_at_or_below(search.order), share_at_or_below(solve(wrong).order)
    assert prior_rank < 0.05 and rank >= 0.9
    assert len(search.observed) == 8
    assert outcome(search.best_observed) == max(r["outcome"] for r in search.observed)


def test_search_is_deterministic_and_validates():
    _tasks, outcome, prior = linear_world(4, 3)
    a = calibrated_search(prior, lambda o: (outcome(o), 0.0), n_curricula=3, seed=1)
    b = calibrated_search(prior, lambda o: (outcome(o), 0.0), n_curricula=3, seed=1)
    assert a.order == b.order and a.observed == b.observed
    with pytest.raises(InvalidParameterError):
        calibrated_search(prior, lambda o: (0.0, 0.0), n_curricula=0)


# --------------------------------------------------------------------------- on a runner
class CountingRunner:
    """Delegates to a runner and counts training stages."""

    def __init__(self, runner):
        self.runner, self.stages = runner, 0

    def __getattr__(self, name):
        return getattr(self.runner, name)

    @property
    def tasks(self):
        return self.runner.tasks

    def train(self, state, task, *, steps, seed):
        self.stages += 1
        return self.runner.train(state, task, steps=steps, seed=seed)


def _learner():
    from taskorder.learner import make_learner

    return make_learner(n_structured=2, n_open=2, mode="sampled", seed=5)


def test_run_calibrated_is_the_campaign_path_then_the_search(tmp_path):
    """Same prior as cheap probes through run_campaign + impute, same search as by hand."""
    from taskorder.active import initial_pairs
    from taskorder.calibrate import run_calibrated
    from taskorder.estimate import impute, make_plan, run_campaign, run_curricula
    from taskorder.seeds import derive_seed

    runner = CountingRunner(_learner())
    result = run_calibrated(runner, tmp_path / "a", n_curricula=3, steps=5, seed=2)
    n = len(runner.tasks)
    assert result.stages == {"probes": 3 * n, "curricula": 3 * n} and runner.stages == 6 * n

    names = runner.tasks
    pairs = [(names[i], names[j]) for i, j in initial_pairs(n)]
    plan = make_plan(names, pairs=pairs, steps=5, seed=2)
    cheap = run_campaign(runner.runner, plan, tmp_path / "b").estimate.matrix
    assert np.array_equal(result.campaign.estimate.matrix.bwt, cheap.bwt, equal_nan=True)
    prior = impute(cheap.replace(forward=None, bwt_stderr=None, forward_stderr=None))
    assert np.array_equal(result.prior.bwt, prior.bwt) and result.prior.imputed.sum() == n * (n - 3)
    steps = iter(range(3))

    def run(order):
        seed = derive_seed(2, "calibrated", next(steps))
        (done,) = run_curricula(runner.runner, [order], seeds=1, steps=5, seed=seed)
        return float(np.mean(list(done.final.values()))), 0.0

    by_hand = calibrated_search(prior, run, n_curricula=3, seed=2)
    assert result.search.order == by_hand.order and result.search.observed == by_hand.observed
    assert result.search.predicted == pytest.approx(by_hand.predicted)
    saved = json.loads((tmp_path / "a" / "calibrated.json").read_text())
    assert saved["order"] == list(by_hand.order) and len(saved["curricula"]) == 3
    assert saved["stages"] == {"probes": 12, "curricula": 12}


def test_run_calibrated_resumes_probes_and_curricula(tmp_path):
    from taskorder.calibrate import run_calibrated

    first = run_calibrated(CountingRunner(_learner()), tmp_path, n_curricula=2, steps=5)
    again_runner = CountingRunner(_learner())
    again = run_calibrated(again_runner, tmp_path, n_curricula=3, steps=5)
    assert again.campaign.ran == 0 and again.campaign.reused == first.campaign.ran
    assert [row["reused"] for row in again.curricula] == [True, True, False]
    assert again.search.observed[:2] == first.search.observed
    assert again_runner.stages == len(again_runner.tasks)  # only the third curriculum trained
    log = (tmp_path / "calibrated_curricula.jsonl").read_text().splitlines()
    assert len(log) == 3
    # other steps, another runner configuration: nothing is replayed
    other = run_calibrated(CountingRunner(_learner()), tmp_path / "x", n_curricula=1, steps=6)
    assert [row["reused"] for row in other.curricula] == [False]


def test_run_calibrated_seeds_per_curriculum_and_parameter_errors(tmp_path):
    from taskorder.calibrate import run_calibrated

    runner = _learner()
    result = run_calibrated(runner, tmp_path / "s", n_curricula=1, steps=5, curriculum_seeds=3)
    (row,) = result.curricula
    assert len(row["per_seed"]) == 3 and row["stderr"] > 0
    assert row["outcome"] == pytest.approx(np.mean(row["per_seed"]))
    for changes, message in (
        ({"n_curricula": 0}, "'n_curricula' parameter of run_calibrated must be an integer >= 1"),
        ({"curriculum_seeds": 0}, "'curriculum_seeds'"),
        ({"impute_method": "mean"}, "'impute_method' parameter of run_calibrated must be one of"),
    ):
        kwargs = {"n_curricula": 1, "steps": 5, **changes}
        with pytest.raises(InvalidParameterError, match=message):
            run_calibrated(runner, tmp_path / "bad", **kwargs)
    assert not (tmp_path / "bad").exists()  # refused before anything ran


def test_a_curriculum_line_cut_by_a_kill_runs_again_and_the_log_stays_readable(tmp_path):
    from taskorder.calibrate import CURRICULA_LOG, run_calibrated

    run_calibrated(_learner(), tmp_path, n_curricula=2, steps=5)
    log = tmp_path / CURRICULA_LOG
    lines = log.read_text().splitlines()
    log.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])  # killed mid-write
    again = run_calibrated(_learner(), tmp_path, n_curricula=2, steps=5)
    assert [row["reused"] for row in again.curricula] == [True, False]
    third = run_calibrated(_learner(), tmp_path, n_curricula=2, steps=5)
    assert [row["reused"] for row in third.curricula] == [True, True]
    assert third.search.observed == again.search.observed


def test_search_keeps_the_constraints_of_its_problem_spec():
    from taskorder import ProblemSpec

    _tasks, outcome, prior = linear_world(5, 4)
    free = calibrated_search(prior, lambda o: (outcome(o), 0.0), n_curricula=3, seed=0)
    last = free.order[0]  # the task the unconstrained search trains first
    spec = ProblemSpec(last=last, before=[(free.order[-1], free.order[1])])
    search = calibrated_search(prior, lambda o: (outcome(o), 0.0), n_curricula=3, seed=0, spec=spec)
    for order in [search.order, *(row["order"] for row in search.observed)]:
        assert order[-1] == last
        assert order.index(free.order[-1]) < order.index(free.order[1])
    with pytest.raises(InvalidParameterError, match=r"'spec' parameter of calibrated_search.*risk"):
        calibrated_search(prior, lambda o: (0.0, 0.0), n_curricula=1, spec=ProblemSpec(risk="mean"))


def test_run_calibrated_passes_its_problem_spec_to_every_solve(tmp_path):
    from taskorder import ProblemSpec
    from taskorder.calibrate import run_calibrated

    runner = _learner()
    last = runner.tasks[0]
    result = run_calibrated(
        runner, tmp_path / "c", n_curricula=2, steps=5, spec=ProblemSpec(last=last)
    )
    assert result.search.order[-1] == last
    assert all(row["order"][-1] == last for row in result.search.observed)
    with pytest.raises(InvalidParameterError, match="'spec' parameter of run_calibrated"):
        run_calibrated(
            runner, tmp_path / "bad", n_curricula=1, steps=5, spec=ProblemSpec(objective="max-min")
        )
    assert not (tmp_path / "bad").exists()  # refused before anything ran
