"""probe_bwt follows taskorder's sign convention (with a stub runner, no training)."""

import numpy as np

from taskorder.estimate.runner import Evaluation
from taskorder.trl.workflow import probe_bwt


class StubRunner:
    """Scores: 0.1 untrained; 0.6 once trained; training `b` after `a` costs `a` 0.2."""

    tasks = ("a", "b", "c")

    def initial_state(self, seed):
        return ()

    def train(self, state, task, *, steps, seed):
        return (*state, task)

    def evaluate(self, state, task, *, seed):
        score = 0.1
        if task in state:
            score = 0.6
            later = state[state.index(task) + 1 :]
            score -= 0.2 * later.count("b")
        if task == "c" and "a" in state and task not in state:
            score += 0.05  # forward transfer a -> c
        return Evaluation(score=score, entropy=1.0, score_stderr=0.01, n_samples=4)


def test_probe_bwt_signs_and_forward():
    report = probe_bwt(StubRunner(), steps=1)
    m = report.matrix
    a, b, c = (m.index(t) for t in "abc")
    assert np.isclose(m.bwt[a, b], -0.2) and np.isclose(m.bwt[c, b], -0.2)
    assert np.isclose(m.bwt[b, a], 0.0) and np.isclose(m.bwt[a, c], 0.0)
    assert np.isclose(m.forward[a, c], 0.05) and np.isclose(m.forward[b, c], 0.0)
    assert np.allclose(m.own_scores, 0.6)
    assert np.isclose(m.bwt_stderr[a, b], np.hypot(0.01, 0.01))
    assert np.isclose(report.after[("a", "b")]["a"], 0.4) and report.base["c"] == 0.1
