"""One training stage of the built-in learner: the GRPO update (default) and legacy SGD.

A stage is one call of :meth:`BuiltinRunner.train`, as one ``GRPOTrainer`` is one
stage on the TRL path: the reference policy is the stage's starting policy and the
Adam state starts from zero.

``update="grpo"``, per step:

1. **Generation batch.** ``batch_size`` prompts; in a mixed stage each prompt's task
   is drawn by the stage's proportions (multinomial counts), then the prompt
   uniformly among that task's training prompts. ``group_size`` answers per prompt
   from the current policy ``pi_old``, rewards (0/1 for structured tasks, graded
   for open ones), group-normalised advantages.
2. **Inner iterations.** ``inner_steps`` Adam updates (TRL's ``num_iterations``) on
   that batch, each along the gradient of the clipped ratio objective with the KL
   penalty to the stage-start policy (:mod:`taskorder.learner.grpo`), averaged over
   all completions of the batch.

In exact mode step 1 is replaced by its expectation: every training prompt of every
task of the stage, weighted by ``share / n_prompts``, with the advantage parts
computed in expectation over the groups; step 2 is unchanged. ``update="sgd"``
is the previous learner (expected or sampled policy gradient, plain SGD).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from taskorder.learner import grpo, policy
from taskorder.learner.config import LearnerConfig
from taskorder.learner.world import Task

__all__ = ["Adam", "run_stage"]

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


class Adam:
    """Adam (torch's defaults: betas 0.9/0.999, eps 1e-8, no weight decay), for ascent.

    Examples
    --------
    >>> adam = Adam([np.zeros(2)], learning_rate=0.1)
    >>> adam.step([np.array([3.0, -0.01])])[0].round(6).tolist()
    [0.1, -0.1]
    """

    def __init__(self, params: list[np.ndarray], learning_rate: float) -> None:
        self.params = params
        self.learning_rate = learning_rate
        self.first = [np.zeros_like(p) for p in params]
        self.second = [np.zeros_like(p) for p in params]
        self.count = 0

    def step(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """Move every parameter (in place) along its ascent direction; return them."""
        beta1, beta2 = ADAM_BETAS
        self.count += 1
        for param, grad, first, second in zip(self.params, grads, self.first, self.second):
            first *= beta1
            first += (1 - beta1) * grad
            second *= beta2
            second += (1 - beta2) * grad * grad
            first_hat = first / (1 - beta1**self.count)
            second_hat = second / (1 - beta2**self.count)
            param += self.learning_rate * first_hat / (np.sqrt(second_hat) + ADAM_EPS)
        return self.params


@dataclass(frozen=True)
class _Part:
    """One task's share of a generation batch (fixed during the inner iterations)."""

    features: np.ndarray
    weight: float  # multiplies features.T @ update
    old_probs: np.ndarray
    ref_probs: np.ndarray
    positive: np.ndarray | None = None  # exact mode: expected advantage parts
    negative: np.ndarray | None = None
    answers: np.ndarray | None = None  # sampled mode: the group and its advantages
    advantages: np.ndarray | None = None
    rewards: np.ndarray | None = None  # sampled mode: the group's rewards
    index: int = 0  # the task's position in the stage's task list


def _probs(weights: np.ndarray, bias: np.ndarray, features: np.ndarray) -> np.ndarray:
    return policy.softmax(features @ weights + bias)


def _draw_counts(
    config: LearnerConfig, proportions: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    if len(proportions) == 1:
        return np.array([config.batch_size])
    return rng.multinomial(config.batch_size, proportions)


def _generation(
    config: LearnerConfig,
    params: list[np.ndarray],
    reference: list[np.ndarray],
    tasks: list[Task],
    proportions: np.ndarray,
    rng: np.random.Generator,
) -> tuple[list[_Part], np.ndarray]:
    """The parts of one generation batch and the prompts drawn from each task."""
    scale = config.resolved_scale_advantage
    parts = []
    if config.mode == "exact":
        for index, (task, share) in enumerate(zip(tasks, proportions)):
            features = task.train_features
            old = _probs(*params, features)
            positive, negative = grpo.expected_advantage_parts(
                old, task.train_accept, task.kind, config.group_size, scale=scale
            )
            ref = _probs(*reference, features)
            weight = share / len(features)
            parts.append(_Part(features, weight, old, ref, positive, negative, index=index))
        return parts, proportions * config.batch_size
    counts = _draw_counts(config, proportions, rng)
    for index, (task, count) in enumerate(zip(tasks, counts)):
        if count == 0:
            continue
        rows = rng.integers(0, len(task.train_features), size=count)
        features = task.train_features[rows]
        old = _probs(*params, features)
        # grpo.sample_group_advantages, keeping the rewards for the online signals
        answers = policy.sample_answers(old, config.group_size, rng)
        rewards = policy.group_rewards(answers, task.train_accept[rows], task.kind)
        advantages = grpo.group_advantages(rewards, scale=scale)
        ref = _probs(*reference, features)
        weight = 1.0 / config.batch_size
        parts.append(
            _Part(
                features,
                weight,
                old,
                ref,
                answers=answers,
                advantages=advantages,
                rewards=rewards,
                index=index,
            )
        )
    return parts, counts


def _objective_gradient(
    config: LearnerConfig, params: list[np.ndarray], parts: list[_Part]
) -> list[np.ndarray]:
    grad_w, grad_b = np.zeros_like(params[0]), np.zeros_like(params[1])
    options = {"clip_epsilon": config.clip_epsilon, "kl_beta": config.kl_beta}
    for part in parts:
        probs = _probs(*params, part.features)
        if part.answers is None:
            update = grpo.expected_gradient(
                probs, part.old_probs, part.ref_probs, part.positive, part.negative, **options
            )
        else:
            update = grpo.sampled_gradient(
                probs, part.old_probs, part.ref_probs, part.answers, part.advantages, **options
            )
        grad_w += part.weight * (part.features.T @ update)
        grad_b += part.weight * update.sum(axis=0)
    return [grad_w, grad_b]


def _grpo_stage(
    config: LearnerConfig,
    params: list[np.ndarray],
    tasks: list[Task],
    proportions: np.ndarray,
    steps: int,
    rng: np.random.Generator,
) -> np.ndarray:
    reference = [p.copy() for p in params]
    adam = Adam(params, config.resolved_learning_rate)
    seen = np.zeros(len(tasks))
    for _ in range(steps):
        parts, drawn = _generation(config, params, reference, tasks, proportions, rng)
        seen += drawn
        _inner_updates(config, params, adam, parts)
    return seen


def _inner_updates(
    config: LearnerConfig,
    params: list[np.ndarray],
    adam: Adam,
    parts: list[_Part],
    first: list[np.ndarray] | None = None,
) -> None:
    """The ``inner_steps`` Adam updates of one batch (``first``: its first gradient, if known)."""
    for k in range(config.inner_steps):
        adam.step(
            first if k == 0 and first is not None else _objective_gradient(config, params, parts)
        )


def _sgd_gradient(
    config: LearnerConfig,
    params: list[np.ndarray],
    tasks: list[Task],
    proportions: np.ndarray,
    rng: np.random.Generator,
) -> tuple[list[np.ndarray], np.ndarray]:
    grad_w, grad_b = np.zeros_like(params[0]), np.zeros_like(params[1])
    if config.mode == "exact":
        for task, share in zip(tasks, proportions):
            probs = _probs(*params, task.train_features)
            update = policy.expected_logit_update(
                probs, task.train_accept, task.kind, config.group_size
            )
            grad_w += share / len(update) * (task.train_features.T @ update)
            grad_b += share / len(update) * update.sum(axis=0)
        return [grad_w, grad_b], proportions * config.batch_size
    counts = _draw_counts(config, proportions, rng)
    for task, count in zip(tasks, counts):
        if count == 0:
            continue
        rows = rng.integers(0, len(task.train_features), size=count)
        features = task.train_features[rows]
        update, _ = policy.sampled_logit_update(
            _probs(*params, features),
            task.train_accept[rows],
            task.kind,
            config.group_size,
            rng,
            scale_advantage=config.resolved_scale_advantage,
        )
        grad_w += features.T @ update / config.batch_size
        grad_b += update.sum(axis=0) / config.batch_size
    return [grad_w, grad_b], counts


def _sgd_stage(
    config: LearnerConfig,
    params: list[np.ndarray],
    tasks: list[Task],
    proportions: np.ndarray,
    steps: int,
    rng: np.random.Generator,
) -> np.ndarray:
    seen = np.zeros(len(tasks))
    for _ in range(steps):
        grads, drawn = _sgd_gradient(config, params, tasks, proportions, rng)
        seen += drawn
        for param, grad in zip(params, grads):
            param += config.resolved_learning_rate * grad
    return seen


def run_stage(
    config: LearnerConfig,
    weights: np.ndarray,
    bias: np.ndarray,
    tasks: list[Task],
    proportions: np.ndarray,
    steps: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train copies of ``weights``/``bias`` for one stage; return them and prompts drawn per task.

    Parameters
    ----------
    config : LearnerConfig
        The learner's training rule (``update``, ``mode``, batch and group sizes, rates).
    weights, bias : ndarray
        The stage's starting parameters (copied, not modified); with ``update="grpo"`` also
        the KL reference.
    tasks : list of Task
        The stage's tasks.
    proportions : ndarray, shape (len(tasks),)
        Share of each task in every batch (sums to 1).
    steps : int
        Generation batches of the stage.
    rng : numpy.random.Generator
        The stage's sampling stream (unused in exact mode).

    Returns
    -------
    weights, bias : ndarray
        The trained parameters.
    seen : ndarray, shape (len(tasks),)
        Prompts drawn from each task (their expectation in exact mode).

    Examples
    --------
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> start = runner.initial_state(seed=0)
    >>> tasks = list(runner.world_.tasks)
    >>> weights, bias, seen = run_stage(runner.config, start.weights, start.bias, tasks,
    ...                                 np.array([0.5, 0.5]), 2, np.random.default_rng(0))
    >>> seen.tolist(), bool(np.array_equal(weights, start.weights))
    ([16.0, 16.0], False)
    """
    params = [weights.copy(), bias.copy()]
    stage = _grpo_stage if config.update == "grpo" else _sgd_stage
    seen = stage(config, params, tasks, proportions, steps, rng)
    return params[0], params[1], seen
