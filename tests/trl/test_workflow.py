"""probe_bwt is the campaign path: same estimate, sign convention, resume, a real GRPO probe."""

import json
import pickle

import numpy as np
import pytest

from taskorder.estimate import estimate_from_evaluations, load_estimate, make_plan, run_campaign
from taskorder.learner import make_learner
from taskorder.runner import Evaluation
from taskorder.trl.workflow import probe_bwt

from .conftest import TINY_EVAL, TINY_GRPO


class KnownTransferRunner:
    """A complete runner with hand-set transfer: 0.1 untrained, 0.6 once trained,
    training ``b`` after a task costs that task 0.2, training ``a`` first lifts ``c`` 0.05."""

    tasks = ("a", "b", "c")

    def initial_state(self, seed):
        return ()

    def train(self, state, task, *, steps, seed):
        return (*state, task)

    def evaluate(self, state, task, *, seed):
        score = 0.1
        if task in state:
            later = state[state.index(task) + 1 :]
            score = 0.6 - 0.2 * later.count("b")
        elif task == "c" and "a" in state:
            score += 0.05
        return Evaluation(score=score, entropy=1.0, score_stderr=0.01, n_samples=4)

    def save(self, state, path):
        with open(path, "wb") as handle:
            pickle.dump(state, handle)

    def load(self, path):
        with open(path, "rb") as handle:
            return pickle.load(handle)

    def config_hash(self):
        return "known-transfer-v1"


def _same(x, y):
    return np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)


def test_signs_forward_and_own_scores(tmp_path):
    result = probe_bwt(KnownTransferRunner(), tmp_path, steps=1)
    m = result.estimate.matrix
    a, b, c = (m.index(t) for t in "abc")
    assert np.isclose(m.bwt[a, b], -0.2) and np.isclose(m.bwt[c, b], -0.2)
    assert np.isclose(m.bwt[b, a], 0.0) and np.isclose(m.bwt[a, c], 0.0)
    assert np.isclose(m.forward[a, c], 0.05) and np.isclose(m.forward[b, c], 0.0)
    assert np.allclose(m.own_scores, 0.6)
    # one repeat: the evaluations' own errors, combined
    assert np.isclose(m.bwt_stderr[a, b], np.hypot(0.01, 0.01))
    assert result.estimate.stderr_source == "evaluation"
    assert result.estimate.base_scores == {"a": 0.1, "b": 0.1, "c": 0.1}


@pytest.mark.parametrize("repeats", [1, 2])
def test_the_estimate_is_exactly_the_campaign_paths(tmp_path, repeats):
    """Values and standard errors equal make_plan + run_campaign + estimate_from_evaluations."""
    runner = make_learner(n_structured=1, n_open=2, mode="sampled", seed=3)
    messages = []
    mine = probe_bwt(
        runner, tmp_path / "w", steps=5, seed=7, repeats=repeats, on_probe=messages.append
    )
    plan = make_plan(runner.tasks, repeats=repeats, steps=5, seed=7)
    reference = run_campaign(runner, plan, tmp_path / "c")
    from taskorder.estimate import CampaignStore
    from taskorder.estimate.campaign import campaign_guard
    from taskorder.estimate.store import STORE_NAME

    store = CampaignStore(tmp_path / "c" / STORE_NAME, campaign_guard(runner, plan))
    try:
        recomputed = estimate_from_evaluations(plan, store.evaluations())
    finally:
        store.close()
    for other in (reference.estimate, recomputed, load_estimate(tmp_path / "w")):
        for name in ("bwt", "bwt_stderr", "forward", "forward_stderr", "own_scores"):
            assert _same(getattr(mine.estimate.matrix, name), getattr(other.matrix, name)), name
        assert _same(mine.estimate.entropy.bwt, other.entropy.bwt)
        assert mine.estimate.stderr_source == other.stderr_source
    assert mine.estimate.stderr_source == ("repeats" if repeats == 2 else "evaluation")
    assert mine.ran == len(plan.probes()) and len(messages) == len(plan.probes())
    assert messages[-1].startswith(f"probe {len(plan.probes())}/{len(plan.probes())}: ")


def test_a_second_call_resumes_and_a_subset_of_tasks(tmp_path):
    runner = make_learner(n_structured=1, n_open=2, seed=1)
    first = probe_bwt(runner, tmp_path, steps=4, tasks=runner.tasks[:2])
    again = probe_bwt(runner, tmp_path, steps=4, tasks=runner.tasks[:2])
    assert first.ran == 5 and again.ran == 0 and again.reused == 5
    assert again.estimate.matrix.tasks == runner.tasks[:2]
    assert _same(first.estimate.matrix.bwt, again.estimate.matrix.bwt)
    # the whole task set reuses the finished probes and runs only the new ones
    grown = probe_bwt(runner, tmp_path, steps=4)
    assert grown.ran == len(make_plan(runner.tasks, steps=4).probes()) - 5


def test_a_grpo_probe_of_the_tiny_model_goes_through_the_store(tmp_path, toy_world, toy_tasks):
    """Two tasks, one GRPO step per stage: base, two first stages, two second stages."""
    from taskorder.trl.evaluation import EvalConfig
    from taskorder.trl.runner import TRLProbeRunner, TRLRunnerConfig

    model_dir, _ = toy_world
    tasks = [t for t in toy_tasks if t.name in ("qa", "arithmetic")]
    runner = TRLProbeRunner(
        tasks,
        TRLRunnerConfig(
            model_path=str(model_dir),
            work_dir=str(tmp_path / "scratch"),
            grpo=dict(TINY_GRPO),
            evaluation=EvalConfig(seed=0, **TINY_EVAL),
            dtype="float32",
        ),
    )
    result = probe_bwt(runner, tmp_path / "probe", steps=1, seed=0)
    assert result.ran == 5 and result.estimate.missing == []
    m = result.estimate.matrix
    assert np.isfinite(m.bwt[~np.eye(2, dtype=bool)]).all()
    assert np.isfinite(m.bwt_stderr[~np.eye(2, dtype=bool)]).all()
    stored = load_estimate(tmp_path / "probe")
    assert _same(stored.matrix.bwt, m.bwt) and _same(stored.matrix.bwt_stderr, m.bwt_stderr)
    assert json.loads(json.dumps(result.estimate.to_dict()))["tasks"] == list(m.tasks)
    assert probe_bwt(runner, tmp_path / "probe", steps=1, seed=0).ran == 0
