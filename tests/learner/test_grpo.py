"""The GRPO update of the built-in learner: its maths, its stages, and the legacy SGD rule."""

from __future__ import annotations

import numpy as np
import pytest

from taskorder.learner import grpo, make_learner, policy
from taskorder.learner.training import Adam

CASES = [
    ("structured", [[False, True, False, False, False], [True, False, False, False, False]]),
    ("open", [[True, True, False, True, False], [False, True, True, False, False]]),
]


def _policies(rng, n_answers=5):
    old = policy.softmax(rng.normal(size=(2, n_answers)) * 1.5)
    current = policy.softmax(np.log(old) + rng.normal(size=(2, n_answers)) * 0.3)
    reference = policy.softmax(rng.normal(size=(2, n_answers)))
    return current, old, reference


# ------------------------------------------------------------------ maths
@pytest.mark.parametrize("scale", [False, True])
@pytest.mark.parametrize(("kind", "accept"), CASES)
def test_exact_gradient_is_the_mean_of_sampled_gradients(kind, accept, scale):
    """Clipping active (ratios away from 1), KL on, both advantage scalings."""
    rng = np.random.default_rng(0)
    accept = np.array(accept)
    current, old, reference = _policies(rng)
    assert np.any(np.abs(current / old - 1) > 0.2)
    options = {"clip_epsilon": 0.2, "kl_beta": 0.1}
    positive, negative = grpo.expected_advantage_parts(old, accept, kind, 4, scale=scale)
    exact = grpo.expected_gradient(current, old, reference, positive, negative, **options)
    n_draws = 60_000
    answers, advantages = grpo.sample_group_advantages(
        np.repeat(old, n_draws, 0), np.repeat(accept, n_draws, 0), kind, 4, rng, scale=scale
    )
    sampled = grpo.sampled_gradient(
        np.repeat(current, n_draws, 0),
        np.repeat(old, n_draws, 0),
        np.repeat(reference, n_draws, 0),
        answers,
        advantages,
        **options,
    ).reshape(2, n_draws, -1)
    stderr = sampled.std(axis=1) / np.sqrt(n_draws)
    assert np.all(np.abs(sampled.mean(axis=1) - exact) < 5 * stderr + 1e-4)


def test_expected_advantage_parts_match_sampling():
    rng = np.random.default_rng(2)
    probs = policy.softmax(rng.normal(size=(1, 5)))
    accept = np.array([[True, False, True, True, False]])
    positive, negative = grpo.expected_advantage_parts(probs, accept, "open", 4, scale=True)
    answers, advantages = grpo.sample_group_advantages(
        np.repeat(probs, 80_000, 0), np.repeat(accept, 80_000, 0), "open", 4, rng, scale=True
    )
    first, advantage = answers[:, 0], advantages[:, 0]
    for answer in range(5):
        chosen = advantage[first == answer]
        assert np.maximum(chosen, 0).mean() == pytest.approx(positive[0, answer], abs=0.02)
        assert np.maximum(-chosen, 0).mean() == pytest.approx(negative[0, answer], abs=0.02)


def test_a_group_with_equal_rewards_gives_no_signal():
    rewards = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.25, 0.25, 0.25]])
    for scale in (False, True):
        assert not grpo.group_advantages(rewards, scale=scale).any()
    probs = np.full((1, 3), 1 / 3)
    update = grpo.sampled_gradient(
        probs,
        probs,
        probs,
        np.array([[0, 0, 0]]),
        np.zeros((1, 3)),
        clip_epsilon=0.2,
        kl_beta=0.04,
    )
    assert not update.any()


def test_a_certain_policy_gets_no_expected_signal():
    """All G answers right (or all wrong) with certainty: nothing to learn from."""
    probs = np.array([[1.0, 0.0, 0.0]])
    positive, negative = grpo.expected_advantage_parts(
        probs, np.array([[True, False, False]]), "structured", 8, scale=True
    )
    assert not positive.any() and negative[0, 0] == 0.0
    update = grpo.expected_gradient(
        probs, probs, probs, positive, negative, clip_epsilon=0.2, kl_beta=0.0
    )
    assert not update.any()


def test_clipping_stops_the_push_beyond_the_clip_range():
    old = np.array([[0.5, 0.5]])
    options = {"answers": np.array([[0, 1]]), "kl_beta": 0.0, "clip_epsilon": 0.2}
    inside = grpo.sampled_gradient(old, old, old, advantages=np.array([[1.0, 0.0]]), **options)
    beyond = np.array([[0.65, 0.35]])  # ratio of answer 0 is 1.3 > 1.2
    clipped = grpo.sampled_gradient(beyond, old, old, advantages=np.array([[1.0, 0.0]]), **options)
    assert inside[0, 0] > 0 and not clipped.any()
    # a negative advantage on the same answer is not clipped at ratio 1.3
    pulled = grpo.sampled_gradient(beyond, old, old, advantages=np.array([[-1.0, 0.0]]), **options)
    assert pulled[0, 0] < 0


def test_kl_term_pulls_towards_the_reference():
    probs, reference = np.array([[0.8, 0.2]]), np.array([[0.5, 0.5]])
    zero = np.zeros((1, 2))
    update = grpo.expected_gradient(
        probs, probs, reference, zero, zero, clip_epsilon=0.2, kl_beta=1.0
    )
    assert update[0, 0] < 0 < update[0, 1]


def test_adam_first_step_has_the_learning_rate_per_coordinate():
    params = [np.zeros(3)]
    Adam(params, learning_rate=0.05).step([np.array([10.0, -0.001, 0.0])])
    np.testing.assert_allclose(params[0], [0.05, -0.05, 0.0], atol=1e-6)


# ------------------------------------------------------------------ stages
@pytest.mark.parametrize("mode", ["exact", "sampled"])
def test_each_call_is_a_fresh_stage(mode):
    """New reference and fresh Adam per call: two stages of 5 steps are not one of 10."""
    runner = make_learner(1, 1, mode=mode)
    base = runner.initial_state(0)
    once = runner.train(base, "open_0", steps=10, seed=0)
    twice = runner.train(runner.train(base, "open_0", steps=5, seed=0), "open_0", steps=5, seed=0)
    assert once != twice


def test_legacy_sgd_splits_stages_freely_in_exact_mode():
    runner = make_learner(1, 1, update="sgd")
    base = runner.initial_state(0)
    once = runner.train(base, "open_0", steps=10, seed=0)
    twice = runner.train(runner.train(base, "open_0", steps=5, seed=0), "open_0", steps=5, seed=0)
    np.testing.assert_allclose(once.weights, twice.weights, atol=1e-12)


def test_inner_steps_change_the_update():
    one, two = (make_learner(1, 1, inner_steps=k) for k in (1, 2))
    base = one.initial_state(0)
    assert one.train(base, "structured_0", steps=3, seed=0).weights.tolist() != (
        two.train(base, "structured_0", steps=3, seed=0).weights.tolist()
    )


def test_kl_penalty_keeps_the_policy_closer_to_the_stage_start():
    distances = []
    for beta in (0.0, 1.0):
        runner = make_learner(1, 1, kl_beta=beta)
        base = runner.initial_state(0)
        after = runner.train(base, "structured_0", seed=0)
        distances.append(np.abs(after.weights - base.weights).sum())
    assert distances[1] < distances[0]


def test_default_update_is_grpo_and_sgd_reproduces_learner_version_1():
    assert make_learner().config.update == "grpo"
    runner = make_learner(2, 2, update="sgd")
    state = runner.train(runner.initial_state(0), "structured_0", seed=0)
    assert runner.evaluate(state, "structured_0", seed=0).score == pytest.approx(
        0.681069827377216, abs=1e-12
    )
    assert runner.evaluate(state, "open_0", seed=0).score == pytest.approx(
        0.14604290456006297, abs=1e-12
    )
    runner = make_learner(2, 2, update="sgd", mode="sampled")
    state = runner.train(runner.initial_state(0), {"structured_0": 1, "open_0": 1}, seed=0)
    assert runner.evaluate(state, "structured_0", seed=0).score == 0.6728515625
    assert runner.evaluate(state, "open_0", seed=0).score == 0.1728515625


def test_update_rule_is_part_of_the_config_hash():
    assert make_learner().config_hash() != make_learner(update="sgd").config_hash()


def test_exact_mixed_batch_gradient_is_the_mean_of_sampled_batch_gradients():
    """Mixture batches by proportion: their expected gradient is what exact mode uses."""
    from taskorder.learner import training

    exact_runner = make_learner(1, 1, mode="exact", batch_size=8)
    sampled_runner = make_learner(1, 1, mode="sampled", batch_size=8)
    base = exact_runner.initial_state(0)
    old = [base.weights, base.bias]
    rng = np.random.default_rng(0)
    moved = [base.weights + 0.05 * rng.normal(size=base.weights.shape), base.bias]
    tasks, shares = list(exact_runner.world_.tasks), np.array([0.75, 0.25])

    def gradient(runner, rng):
        parts, _ = training._generation(runner.config, old, old, tasks, shares, rng)
        return np.concatenate(
            [g.ravel() for g in training._objective_gradient(runner.config, moved, parts)]
        )

    exact = gradient(exact_runner, rng)
    draws = np.array([gradient(sampled_runner, rng) for _ in range(3000)])
    stderr = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - exact) < 5 * stderr + 1e-4)
