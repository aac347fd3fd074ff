"""compare's online methods: equal steps, costs counted, planning verdict, skips, errors."""

import json

import numpy as np
import pytest

from taskorder.compare import compare
from taskorder.exceptions import InvalidParameterError
from taskorder.learner import make_learner
from taskorder.matrix import TransferMatrix
from tests.estimate.helpers import WrappedRunner

ONLINE = ("solver", "refresh", "hybrid", "joint", "sec", "tac", "worst_task")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    runner = make_learner(1, 2, mode="sampled")
    return compare(
        runner,
        methods=ONLINE,
        seeds=2,
        stage_steps=5,
        probe_dir=tmp_path_factory.mktemp("probe"),
    )


def test_every_method_spends_the_same_steps(report):
    assert set(report.methods) == set(ONLINE)
    assert {m.total_steps for m in report.methods.values()} == {15}
    kinds = {name: m.kind for name, m in report.methods.items()}
    assert kinds["sec"] == "online" and kinds["hybrid"] == "planned" and kinds["joint"] == "mixture"


def test_costs_count_probes_for_planned_methods_and_overhead_for_online_ones(report):
    probe_steps = report.probe["training_steps"]
    assert probe_steps == (3 + 3 * 2) * 5
    for name in ("solver", "refresh", "hybrid"):
        assert report.methods[name].probe_steps == probe_steps
    for name in ("sec", "tac", "worst_task"):
        method = report.methods[name]
        assert method.probe_steps == 0 and 0 < method.overhead_s < method.elapsed_s
        assert 0 < method.cost_steps == method.overhead_steps
    assert report.methods["joint"].cost_steps == 0
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["methods"]["solver"]["cost"]["probe_steps"] == probe_steps


def test_planning_verdict_against_the_best_online_method(report):
    best = max(("sec", "tac", "worst_task"), key=lambda m: report.methods[m].mean)
    assert [item["method"] for item in report.planning] == ["solver", "refresh", "hybrid"]
    for item in report.planning:
        assert item["best_online"] == best
        assert item["probe_cost_runs"] == pytest.approx(item["probe_steps"] / 15)
        assert item["worth_probes"] == (
            item["gain_pct"] > 0 and item["p_value"] is not None and item["p_value"] < 0.05
        )


def test_same_seed_same_scores():
    runner = make_learner(1, 2, mode="sampled")
    matrix = TransferMatrix(runner.tasks, -0.05 * (1 - np.eye(3)))
    args = {
        "methods": ["sec", "tac", "hybrid"],
        "seeds": 1,
        "stage_steps": 3,
        "matrix": matrix,
        "reference": "sec",
    }
    first, second = compare(runner, **args), compare(runner, **args)
    for name in args["methods"]:
        assert np.array_equal(first.methods[name].scores, second.methods[name].scores)
    assert any("probe cost" in note for note in first.notes)


def test_refresh_uses_the_budget_or_gives_it_back():
    runner = make_learner(1, 2, mode="exact")
    # a and b make each other forget, c gains from a after it: the best order is c, a, b,
    # a loses 0.3 and a refresh of a is predicted to win 0.3 - 0.35 + 0.2 > 0
    a, b, c = 0, 1, 2
    bwt = np.zeros((3, 3))
    bwt[a, b], bwt[b, a], bwt[c, a] = -0.3, -0.35, 0.2
    forgetting = TransferMatrix(runner.tasks, bwt)
    helping = TransferMatrix(runner.tasks, 0.1 * (1 - np.eye(3)))
    for matrix, refreshed in ((forgetting, True), (helping, False)):
        report = compare(
            runner, methods=["refresh"], seeds=1, stage_steps=10, matrix=matrix, probe_steps=90,
            reference="refresh",
        )  # fmt: skip
        assert report.methods["refresh"].total_steps == 30
        assert bool(report.probe["refresh"]["stages"]) == refreshed
        assert report.methods["refresh"].probe_steps == 90


def test_runners_without_online_stages_skip_online_methods_with_notes():
    runner = WrappedRunner(make_learner(1, 1))
    report = compare(runner, methods=["joint", "sec", "hybrid"], seeds=1, stage_steps=2, n_random=0)
    assert set(report.methods) == {"joint"}
    assert sum("skipped" in note for note in report.notes) == 2


def test_bad_policy_options_are_refused_before_training():
    runner = make_learner(1, 1)
    with pytest.raises(InvalidParameterError, match="'tau'"):
        compare(
            runner, methods=["sec"], seeds=1, stage_steps=2, reference="sec",
            policy_options={"sec": {"tau": 0}},
        )  # fmt: skip
    with pytest.raises(InvalidParameterError, match="'methods'"):
        compare(runner, methods=["ucb"], seeds=1, stage_steps=2)


def test_run_schedule_trains_online_stages_with_their_policy():
    from taskorder.compare import run_schedule
    from taskorder.learner.online import train_online
    from taskorder.online import make_policy
    from taskorder.schedule import Schedule, Stage

    runner = make_learner(1, 2, mode="sampled")
    base = runner.initial_state(0)
    schedule = Schedule([Stage(list(runner.tasks), steps=4, online="tac")])
    state = run_schedule(runner, base, schedule, seed_of=lambda k: 7)
    policy = make_policy("tac", runner.tasks, seed=7)
    assert state == train_online(runner, base, policy, steps=4, seed=7).state
    with pytest.raises(InvalidParameterError, match="online stage"):
        run_schedule(WrappedRunner(runner), base, schedule, seed_of=lambda k: 7)


class _OwnOnlineStages(WrappedRunner):
    """A runner with its own ``train_online`` (as the TRL runner), on the real learner."""

    def train_online(self, state, tasks, policy, *, steps, seed, options=None):
        from taskorder.learner.online import train_online
        from taskorder.online import make_policy

        chosen = make_policy(policy, tasks, seed=seed, **(options or {}))
        return train_online(self.inner, state, chosen, steps=steps, seed=seed).state


def test_runners_with_their_own_online_stages_run_the_online_methods():
    inner = make_learner(1, 2, mode="sampled")
    args = {"methods": ["sec", "hybrid", "joint"], "seeds": 2, "stage_steps": 3, "n_random": 0}
    matrix = TransferMatrix(inner.tasks, -0.05 * (1 - np.eye(3)))
    own = compare(_OwnOnlineStages(inner), matrix=matrix, probe_steps=27, **args)
    builtin = compare(inner, matrix=matrix, probe_steps=27, **args)
    assert np.array_equal(own.methods["sec"].scores, builtin.methods["sec"].scores)
    assert own.methods["sec"].overhead_s == 0 and builtin.methods["sec"].overhead_s > 0
    # the hybrid's anchored stages through the runner's own train_online: the same training
    assert np.array_equal(own.methods["hybrid"].scores, builtin.methods["hybrid"].scores)
    with pytest.raises(InvalidParameterError, match="'policy_options'"):
        compare(_OwnOnlineStages(inner), policy_options={"sec": {"tau": 0.5}}, **args)
    from taskorder.compare import run_schedule
    from taskorder.schedule import Schedule, Stage

    schedule = Schedule([Stage(list(inner.tasks), steps=3, online="worst_task")])
    base = inner.initial_state(0)
    assert run_schedule(_OwnOnlineStages(inner), base, schedule, seed_of=lambda k: 1) == (
        run_schedule(inner, base, schedule, seed_of=lambda k: 1)
    )
