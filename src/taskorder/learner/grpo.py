"""GRPO maths of the built-in learner: group-normalised advantages, the clipped objective.

Per prompt, ``G`` answers are sampled from the policy ``pi_old`` of the current
generation batch. Each answer ``a_g`` gets a reward ``r_g`` and the group-normalised
advantage ``A_g = (r_g - mean(r)) / (std(r) + 1e-4)`` (``std`` unbiased, as
``GRPOTrainer`` computes it; without scaling ``A_g = r_g - mean(r)``). A group
whose rewards are all equal gives ``A = 0``: no signal.

The objective maximised for every sampled answer is TRL's

``min(rho A, clip(rho, 1 - eps, 1 + eps) A) - beta * k3``,

with ``rho = pi(a) / pi_old(a)`` and the KL estimate
``k3 = pi_ref(a)/pi(a) - log(pi_ref(a)/pi(a)) - 1`` against the stage-start
reference ``pi_ref``; the loss is the mean over all completions of the batch.
Its gradient in logit space is a sum of softmax scores ``e_a - pi``:

- the clipped term contributes ``rho A (e_a - pi)`` while it is not clipped
  (``rho < 1 + eps`` when ``A > 0``, ``rho > 1 - eps`` when ``A < 0``), else 0;
- the KL term contributes ``-beta (1 - pi_ref(a)/pi(a)) (e_a - pi)``.

:func:`sampled_gradient` evaluates that on sampled groups;
:func:`expected_gradient` is its exact expectation over the groups drawn from
``pi_old``: with exchangeable samples it only needs, per answer ``a``, the
conditional means ``E[max(A_1, 0) | a_1 = a]`` and ``E[max(-A_1, 0) | a_1 = a]``,
which :func:`expected_advantage_parts` computes exactly by enumerating the counts
of the other ``G - 1`` answers over the acceptable answers and one "any
unacceptable answer" bucket (every reward is a function of those counts).
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from math import comb, lgamma

import numpy as np

from taskorder.learner.policy import group_rewards, sample_answers

__all__ = [
    "STD_EPS",
    "count_configurations",
    "expected_advantage_parts",
    "expected_gradient",
    "group_advantages",
    "sample_group_advantages",
    "sampled_gradient",
]

#: Added to the group's reward std before dividing, as ``GRPOTrainer`` does.
STD_EPS = 1e-4
_TINY = 1e-300


def group_advantages(rewards: np.ndarray, *, scale: bool) -> np.ndarray:
    """Group-normalised advantages of ``rewards`` (shape ``(n_prompts, group_size)``).

    ``(r - mean) / (std + STD_EPS)`` per row (``std`` with ``ddof=1``) when ``scale``,
    else ``r - mean``; rows whose rewards are all equal get exactly 0.

    Examples
    --------
    >>> group_advantages(np.array([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]), scale=False)
    array([[ 0.75, -0.25, -0.25, -0.25],
           [ 0.  ,  0.  ,  0.  ,  0.  ]])
    >>> group_advantages(np.array([[1.0, 0.0]]), scale=True).round(3).tolist()
    [[0.707, -0.707]]
    """
    advantages = rewards - rewards.mean(axis=1, keepdims=True)
    if scale:
        advantages = advantages / (rewards.std(axis=1, ddof=1, keepdims=True) + STD_EPS)
    advantages[np.ptp(rewards, axis=1) == 0] = 0.0
    return advantages


def sample_group_advantages(
    probs: np.ndarray,
    accept: np.ndarray,
    kind: str,
    group_size: int,
    rng: np.random.Generator,
    *,
    scale: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``group_size`` answers per prompt from ``probs``; return ``(answers, advantages)``.

    Parameters
    ----------
    probs : ndarray, shape (n_prompts, n_answers)
        The sampling policy's answer probabilities per prompt.
    accept : ndarray of bool, shape (n_prompts, n_answers)
        Which answers each prompt accepts.
    kind : {"structured", "open"}
        Reward kind (:func:`taskorder.learner.policy.group_rewards`).
    group_size : int
        Answers sampled per prompt (``G``).
    rng : numpy.random.Generator
        Source of the samples.
    scale : bool
        Divide by the group's reward std (:func:`group_advantages`).

    Returns
    -------
    answers, advantages : ndarray, shape (n_prompts, group_size)
        The sampled answer indices and their group-normalised advantages.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> answers, advantages = sample_group_advantages(
    ...     np.array([[0.0, 1.0]]), np.array([[False, True]]), "structured", 4, rng, scale=True)
    >>> answers.tolist(), advantages.tolist()
    ([[1, 1, 1, 1]], [[0.0, 0.0, 0.0, 0.0]])
    """
    answers = sample_answers(probs, group_size, rng)
    rewards = group_rewards(answers, accept, kind)
    return answers, group_advantages(rewards, scale=scale)


def _objective_coefficients(
    probs: np.ndarray,
    old_probs: np.ndarray,
    ref_probs: np.ndarray,
    positive: np.ndarray,
    negative: np.ndarray,
    clip_epsilon: float,
    kl_beta: float,
) -> np.ndarray:
    """Coefficient of each score ``e_a - pi`` given positive/negative advantage parts."""
    ratio = probs / np.maximum(old_probs, _TINY)
    clipped = positive * (ratio < 1.0 + clip_epsilon) - negative * (ratio > 1.0 - clip_epsilon)
    kl = kl_beta * (1.0 - ref_probs / np.maximum(probs, _TINY)) if kl_beta else 0.0
    return ratio * clipped - kl


def _scores(coefficients: np.ndarray, probs: np.ndarray) -> np.ndarray:
    return coefficients - coefficients.sum(axis=-1, keepdims=True) * probs


def sampled_gradient(
    probs: np.ndarray,
    old_probs: np.ndarray,
    ref_probs: np.ndarray,
    answers: np.ndarray,
    advantages: np.ndarray,
    *,
    clip_epsilon: float,
    kl_beta: float,
) -> np.ndarray:
    """Logit-space gradient of the per-prompt mean objective over its sampled group.

    Parameters
    ----------
    probs, old_probs, ref_probs : ndarray, shape (n_prompts, n_answers)
        Current policy, the policy that sampled the group, the stage-start reference.
    answers, advantages : ndarray, shape (n_prompts, group_size)
        The sampled group and its group-normalised advantages.
    clip_epsilon, kl_beta : float
        Clip range and KL coefficient.

    Returns
    -------
    ndarray, shape (n_prompts, n_answers)
        Ascent direction per prompt (the caller maps it to parameters).

    Examples
    --------
    >>> probs = np.array([[0.5, 0.5]])
    >>> sampled_gradient(probs, probs, probs, np.array([[0, 1]]), np.array([[1.0, -1.0]]),
    ...                  clip_epsilon=0.2, kl_beta=0.0).tolist()
    [[0.5, -0.5]]
    """
    n_prompts, group_size = answers.shape
    rows = np.arange(n_prompts)[:, None]
    picked = probs[rows, answers]
    positive, negative = np.maximum(advantages, 0.0), np.maximum(-advantages, 0.0)
    per_answer = _objective_coefficients(
        picked,
        old_probs[rows, answers],
        ref_probs[rows, answers],
        positive,
        negative,
        clip_epsilon,
        kl_beta,
    )
    coefficients = np.zeros_like(probs)
    np.add.at(coefficients, (np.broadcast_to(rows, answers.shape), answers), per_answer)
    return _scores(coefficients / group_size, probs)


def expected_gradient(
    probs: np.ndarray,
    old_probs: np.ndarray,
    ref_probs: np.ndarray,
    positive: np.ndarray,
    negative: np.ndarray,
    *,
    clip_epsilon: float,
    kl_beta: float,
) -> np.ndarray:
    """Exact expectation of :func:`sampled_gradient` over groups drawn from ``old_probs``.

    ``positive``/``negative`` come from :func:`expected_advantage_parts` for
    ``old_probs``. Then ``E[(1/G) sum_g c(a_g, A_g) g(a_g)] = sum_a pi_old(a) E[c(a, A_1) | a_1 = a]
    g(a)``, and ``c`` is linear in ``max(A, 0)`` and ``max(-A, 0)`` for a fixed answer.

    Parameters
    ----------
    probs, old_probs, ref_probs : ndarray, shape (n_prompts, n_answers)
        Current policy, the policy the groups are drawn from, the stage-start reference.
    positive, negative : ndarray, shape (n_prompts, n_answers)
        ``E[max(A_1, 0) | a_1 = a]`` and ``E[max(-A_1, 0) | a_1 = a]`` for ``old_probs``.
    clip_epsilon, kl_beta : float
        Clip range and KL coefficient.

    Returns
    -------
    ndarray, shape (n_prompts, n_answers)
        Expected ascent direction per prompt, in logit space.

    Examples
    --------
    >>> probs = np.array([[0.5, 0.5]])
    >>> expected_gradient(probs, probs, probs, np.array([[0.5, 0.0]]), np.array([[0.0, 0.5]]),
    ...                   clip_epsilon=0.2, kl_beta=0.04).tolist()
    [[0.25, -0.25]]
    """
    coefficients = old_probs * _objective_coefficients(
        probs, old_probs, ref_probs, positive, negative, clip_epsilon, kl_beta
    )
    return _scores(coefficients, probs)


def count_configurations(group_size: int, n_accept: int) -> int:
    """Count vectors :func:`expected_advantage_parts` enumerates per prompt.

    Examples
    --------
    >>> count_configurations(8, 4), count_configurations(8, 1)
    (330, 8)
    """
    return comb(group_size - 1 + n_accept, n_accept)


@lru_cache(maxsize=32)
def _advantage_table(
    group_size: int, n_accept: int, kind: str, scale: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counts of the other ``G-1`` answers, their log multinomial coefficients, and
    ``max(A_1, 0)``, ``max(-A_1, 0)`` for ``a_1`` in each bucket (last bucket: unacceptable)."""
    buckets, others = n_accept + 1, group_size - 1
    configs = np.array(
        [
            np.bincount(np.array(draw, dtype=int), minlength=buckets)
            for draw in itertools.combinations_with_replacement(range(buckets), others)
        ]
    ).reshape(-1, buckets)
    log_coefficients = lgamma(others + 1) - np.array(
        [sum(lgamma(c + 1) for c in row) for row in configs]
    )
    positive = np.zeros((buckets, len(configs)))
    negative = np.zeros((buckets, len(configs)))
    for first in range(buckets):
        counts = configs.copy()
        counts[:, first] += 1
        acceptable = counts[:, :n_accept].astype(float)
        if kind == "structured":
            reward_each = (acceptable > 0).astype(float)
        else:
            reward_each = np.where(acceptable > 0, 1.0 / np.maximum(acceptable, 1.0), 0.0)
        mean = (acceptable * reward_each).sum(axis=1) / group_size
        squares = (acceptable * reward_each**2).sum(axis=1)
        variance = np.maximum(squares - group_size * mean**2, 0.0) / (group_size - 1)
        own = reward_each[:, first] if first < n_accept else np.zeros(len(configs))
        advantage = own - mean
        if scale:
            advantage = advantage / (np.sqrt(variance) + STD_EPS)
        advantage[variance < 1e-15] = 0.0
        positive[first], negative[first] = np.maximum(advantage, 0), np.maximum(-advantage, 0)
    return configs, log_coefficients, positive, negative


def expected_advantage_parts(
    probs: np.ndarray, accept: np.ndarray, kind: str, group_size: int, *, scale: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``E[max(A_1, 0) | a_1 = a]`` and ``E[max(-A_1, 0) | a_1 = a]`` for every answer ``a``.

    Exact, for groups of ``group_size`` answers drawn from ``probs``.

    Parameters
    ----------
    probs : ndarray, shape (n_prompts, n_answers)
        The policy the groups are drawn from.
    accept : ndarray of bool, shape (n_prompts, n_answers)
        Which answers each prompt accepts; prompts may accept different numbers of answers.
    kind : {"structured", "open"}
        Reward kind (:func:`taskorder.learner.policy.group_rewards`).
    group_size : int
        Answers per group (``G``).
    scale : bool
        Whether advantages are divided by the group's reward std (:func:`group_advantages`).

    Returns
    -------
    tuple of ndarray, each of shape (n_prompts, n_answers)

    Examples
    --------
    >>> probs = np.array([[0.5, 0.5]])
    >>> accept = np.array([[True, False]])
    >>> positive, negative = expected_advantage_parts(probs, accept, "structured", 2, scale=False)
    >>> positive.tolist(), negative.tolist()
    ([[0.25, 0.0]], [[0.0, 0.25]])
    """
    n_accepted = accept.sum(axis=1)
    if np.all(n_accepted == n_accepted[0]):
        return _advantage_parts(probs, accept, kind, group_size, int(n_accepted[0]), scale)
    positive, negative = np.zeros_like(probs), np.zeros_like(probs)
    for n_accept in np.unique(n_accepted):
        rows = n_accepted == n_accept
        positive[rows], negative[rows] = _advantage_parts(
            probs[rows], accept[rows], kind, group_size, int(n_accept), scale
        )
    return positive, negative


def _advantage_parts(
    probs: np.ndarray,
    accept: np.ndarray,
    kind: str,
    group_size: int,
    n_accept: int,
    scale: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`expected_advantage_parts` for prompts that all accept ``n_accept`` answers."""
    configs, log_coefficients, positive, negative = _advantage_table(
        group_size, n_accept, kind, scale
    )
    # acceptable answers of each prompt in index order, then the unacceptable bucket
    accepted = np.argsort(~accept, axis=1, kind="stable")[:, :n_accept]
    rows = np.arange(len(probs))[:, None]
    bucket_probs = probs[rows, accepted]
    other = np.maximum(1.0 - bucket_probs.sum(axis=1, keepdims=True), 0.0)
    buckets = np.hstack([bucket_probs, other])
    # log 0 as a large finite negative, so that a count of 0 contributes exactly 0
    log_probs = np.where(buckets > 0, np.log(np.maximum(buckets, _TINY)), -1e5)
    pmf = np.exp(log_probs @ configs.T + log_coefficients)
    parts = []
    for table in (positive, negative):
        per_bucket = pmf @ table.T
        per_answer = np.repeat(per_bucket[:, -1:], probs.shape[1], axis=1)
        per_answer[rows, accepted] = per_bucket[:, :n_accept]
        parts.append(per_answer)
    return parts[0], parts[1]
