"""The runner protocol and check_runner, on the built-in learner and on broken runners."""

from __future__ import annotations

import copy

import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.learner import make_learner
from taskorder.runner import Evaluation, Runner, check_runner
from tests.estimate.helpers import WrappedRunner


@pytest.mark.parametrize("mode", ["exact", "sampled"])
def test_builtin_runner_passes_check_runner(mode):
    runner = make_learner(n_structured=1, n_open=2, mode=mode)
    assert isinstance(runner, Runner)
    check_runner(runner)


def test_check_runner_rejects_non_runner():
    with pytest.raises(InvalidParameterError, match="Runner protocol"):
        check_runner(object())


class _Wrapper(WrappedRunner):
    """Delegates to a built-in runner; subclasses break one rule each."""

    def __init__(self):
        super().__init__(make_learner(n_structured=1, n_open=1, mode="sampled"))


class _Nondeterministic(_Wrapper):
    calls = 0

    def train(self, state, task, *, steps, seed):
        self.calls += 1
        return self.inner.train(state, task, steps=steps, seed=seed + self.calls)


class _Mutating(_Wrapper):
    def train(self, state, task, *, steps, seed):
        new = self.inner.train(state, task, steps=steps, seed=seed)
        state.weights[...] = new.weights
        return new


class _LossySave(_Wrapper):
    def save(self, state, path):
        self.inner.save(self.inner.initial_state(0), path)


class _BadEvaluation(_Wrapper):
    def evaluate(self, state, task, *, seed):
        return {"score": 1.0}


class _TupleTasks(_Wrapper):
    @property
    def tasks(self):
        return list(self.inner.tasks)


@pytest.mark.parametrize(
    ("runner_class", "message"),
    [
        (_Nondeterministic, "same seed"),
        (_Mutating, "must not modify"),
        (_LossySave, "load back"),
        (_BadEvaluation, "must return an Evaluation"),
        (_TupleTasks, "tuple of str"),
    ],
)
def test_check_runner_names_the_breach(runner_class, message):
    with pytest.raises(InvalidParameterError, match=message):
        check_runner(runner_class())


def test_wrapper_itself_is_compliant():
    check_runner(_Wrapper())


def test_evaluation_is_frozen():
    evaluation = Evaluation(score=0.5, entropy=0.1, score_stderr=0.0, n_samples=0)
    with pytest.raises(AttributeError):
        evaluation.score = 1.0  # type: ignore[misc]
    assert copy.copy(evaluation) == evaluation


def test_learner_and_estimate_stay_light():
    import subprocess
    import sys

    code = (
        "import sys, taskorder.estimate, taskorder.learner; "
        "print(sorted(m for m in ('torch', 'trl', 'ray', 'ortools') if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
