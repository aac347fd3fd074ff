"""The merging baseline gives the stated parameter combination of the specialists."""

import numpy as np
import pytest

from taskorder.compare import merge_specialists
from taskorder.exceptions import InvalidParameterError
from taskorder.learner import LearnerState, make_learner


@pytest.fixture(scope="module")
def trained():
    runner = make_learner(1, 1, mode="exact")
    base = runner.initial_state(3)
    tuned = [runner.train(base, task, steps=5, seed=0) for task in runner.tasks]
    return runner, base, tuned


def test_average_is_the_mean_of_the_specialists(trained):
    runner, base, (a, b) = trained
    merged = merge_specialists(runner, base, [a, b], variant="merge_average")
    assert isinstance(merged, LearnerState)
    np.testing.assert_allclose(merged.weights, (a.weights + b.weights) / 2)
    np.testing.assert_allclose(merged.bias, (a.bias + b.bias) / 2)
    np.testing.assert_array_equal(merged.prompts_seen, a.prompts_seen + b.prompts_seen)
    assert merged.steps == 10


def test_task_arithmetic_adds_the_task_vectors(trained):
    runner, base, (a, b) = trained
    merged = merge_specialists(runner, base, [a, b], variant="merge_task_arithmetic")
    expected = base.weights + (a.weights - base.weights) + (b.weights - base.weights)
    np.testing.assert_allclose(merged.weights, expected)
    np.testing.assert_allclose(merged.bias, a.bias + b.bias - base.bias)
    assert not np.allclose(merged.weights, (a.weights + b.weights) / 2)


def test_unknown_variant_and_unsupported_runner_raise(trained):
    runner, base, tuned = trained
    with pytest.raises(InvalidParameterError, match="variant"):
        merge_specialists(runner, base, tuned, variant="merge_magic")
    with pytest.raises(InvalidParameterError, match="state_to_params"):
        merge_specialists(object(), {"w": 1}, [{"w": 2}], variant="merge_average")


def test_ties_runs_when_torch_and_peft_are_installed(trained):
    pytest.importorskip("torch")
    pytest.importorskip("peft")
    runner, base, tuned = trained
    merged = merge_specialists(runner, base, tuned, variant="merge_ties")
    assert merged.weights.shape == base.weights.shape and np.all(np.isfinite(merged.weights))
