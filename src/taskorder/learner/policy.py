"""Softmax policy maths: probabilities, entropy, group rewards and group-relative updates.

Everything here works on one batch of prompts at a time, in *logit space*: a
function returns, per prompt, a vector over the answer vocabulary that the caller
turns into a parameter update with the prompt features (the policy is linear in
its parameters, so ``dW = x^T u`` and ``db = u``).

Two reward kinds, one acceptance mask ``accept`` (bool, shape ``(n_prompts, n_answers)``):

- ``"structured"``: exactly one acceptable answer per prompt; reward 1 if the answer
  is it, else 0.
- ``"open"``: several acceptable answers per prompt; an answer's reward is
  ``1 / c`` if it is acceptable and appears ``c`` times in its group, else 0. A group
  thus earns (number of *distinct* acceptable answers) / G on average, so repeating
  yourself pays nothing: the reward favours varied acceptable answers.

The policy is ``pi = softmax(z)``, whose score is ``grad_z log pi_a = e_a - pi``.
The sampled update of one prompt is ``u = (1/G) sum_g A_g (e_{a_g} - pi)``,
with advantage ``A_g = r_g - mean(r)`` (optionally divided by the group's std).
Its exact expectation over the group, for unscaled advantages, is computed in
closed form by :func:`expected_logit_update`, so "exact" training follows the
mean path of "sampled" training step by step.
"""

from __future__ import annotations

from math import comb

import numpy as np

__all__ = [
    "KINDS",
    "entropy",
    "expected_logit_update",
    "expected_reward",
    "group_rewards",
    "sample_answers",
    "sampled_logit_update",
    "softmax",
]

KINDS = ("structured", "open")

_STD_EPS = 1e-6


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``logits`` (shape ``(n_prompts, n_answers)``).

    Examples
    --------
    >>> softmax(np.array([[0.0, 0.0], [0.0, np.log(3.0)]])).round(3).tolist()
    [[0.5, 0.5], [0.25, 0.75]]
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy in nats of each row of ``probs``.

    Examples
    --------
    >>> entropy(np.array([[0.5, 0.5], [1.0, 0.0]])).round(4).tolist()
    [0.6931, 0.0]
    """
    safe = np.where(probs > 0, probs, 1.0)
    return 0.0 - (probs * np.log(safe)).sum(axis=-1)


def sample_answers(probs: np.ndarray, group_size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``group_size`` answers per prompt (inverse CDF); shape ``(n_prompts, group_size)``.

    Parameters
    ----------
    probs : ndarray, shape (n_prompts, n_answers)
        Answer probabilities per prompt (rows sum to 1).
    group_size : int
        Answers to draw per prompt.
    rng : numpy.random.Generator
        Source of the uniforms (one per answer drawn).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sample_answers(np.array([[0.0, 1.0, 0.0]]), 4, rng).tolist()
    [[1, 1, 1, 1]]
    """
    cdf = np.cumsum(probs, axis=-1)
    uniforms = rng.random((probs.shape[0], group_size))
    answers = (uniforms[:, :, None] >= cdf[:, None, :]).sum(axis=-1)
    return np.minimum(answers, probs.shape[-1] - 1)


def group_rewards(answers: np.ndarray, accept: np.ndarray, kind: str) -> np.ndarray:
    """Reward of every sampled answer; shape of ``answers``, ``(n_prompts, group_size)``.

    Parameters
    ----------
    answers : ndarray of int, shape (n_prompts, group_size)
        Sampled answer indices.
    accept : ndarray of bool, shape (n_prompts, n_answers)
        Which answers each prompt accepts.
    kind : {"structured", "open"}
        ``"structured"``: 1 for an acceptable answer; ``"open"``: ``1 / c`` for an acceptable
        answer that appears ``c`` times in its group (see the module docstring).

    Examples
    --------
    >>> accept = np.array([[True, True, False]])
    >>> group_rewards(np.array([[0, 0, 1, 2]]), accept, "open").tolist()
    [[0.5, 0.5, 1.0, 0.0]]
    >>> group_rewards(np.array([[0, 0, 1, 2]]), accept, "structured").tolist()
    [[1.0, 1.0, 1.0, 0.0]]
    """
    acceptable = np.take_along_axis(accept, answers, axis=1).astype(float)
    if kind == "structured":
        return acceptable
    counts = (answers[:, :, None] == answers[:, None, :]).sum(axis=-1)
    return acceptable / counts


def _inverse_count_mean(p: np.ndarray, n_others: int, offset: int) -> np.ndarray:
    """``E[1 / (offset + B)]`` for ``B ~ Binomial(n_others, p)``, elementwise in ``p``."""
    k = np.arange(n_others + 1)
    coefficients = np.array([comb(n_others, int(i)) for i in k], dtype=float)
    p = p[..., None]
    pmf = coefficients * p**k * (1.0 - p) ** (n_others - k)
    return (pmf / (offset + k)).sum(axis=-1)


def expected_reward(
    probs: np.ndarray, accept: np.ndarray, kind: str, group_size: int
) -> np.ndarray:
    """Exact expected reward of one sampled answer, per prompt.

    For ``"open"`` this is ``(1/G) * sum_{a acceptable} (1 - (1 - pi_a)^G)``: the
    expected number of distinct acceptable answers in a group, divided by ``G``.

    Parameters
    ----------
    probs : ndarray, shape (n_prompts, n_answers)
        Answer probabilities per prompt.
    accept : ndarray of bool, shape (n_prompts, n_answers)
        Which answers each prompt accepts.
    kind : {"structured", "open"}
        Reward kind (:func:`group_rewards`).
    group_size : int
        Answers per group (``G``); only ``"open"`` rewards depend on it.

    Returns
    -------
    ndarray, shape (n_prompts,)

    Examples
    --------
    >>> accept = np.array([[True, True, False, False]])
    >>> expected_reward(np.array([[0.5, 0.5, 0.0, 0.0]]), accept, "open", 2).tolist()
    [0.75]
    >>> expected_reward(np.array([[0.5, 0.5, 0.0, 0.0]]), accept, "structured", 2).tolist()
    [1.0]
    """
    if kind == "structured":
        return (probs * accept).sum(axis=-1)
    hit = 1.0 - (1.0 - probs) ** group_size
    return (hit * accept).sum(axis=-1) / group_size


def _score_update(coefficients: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``sum_a coefficients_a * (e_a - pi)`` per prompt: a sum of softmax scores."""
    return coefficients - coefficients.sum(axis=-1, keepdims=True) * probs


def sampled_logit_update(
    probs: np.ndarray,
    accept: np.ndarray,
    kind: str,
    group_size: int,
    rng: np.random.Generator,
    *,
    scale_advantage: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One group-relative (GRPO-style) policy-gradient direction per prompt, in logit space.

    Samples ``group_size`` answers per prompt from ``probs``, rewards them, takes
    advantages relative to the group mean (divided by the group std if
    ``scale_advantage``) and returns ``(1/G) sum_g A_g grad_z log pi(a_g)``, shape
    ``(n_prompts, n_answers)``, with the sampled answers.

    Parameters
    ----------
    probs : ndarray, shape (n_prompts, n_answers)
        Answer probabilities per prompt.
    accept : ndarray of bool, shape (n_prompts, n_answers)
        Which answers each prompt accepts.
    kind : {"structured", "open"}
        Reward kind (:func:`group_rewards`).
    group_size : int
        Answers sampled per prompt (``G``).
    rng : numpy.random.Generator
        Source of the samples.
    scale_advantage : bool, default False
        Divide the advantages by the group's reward std (plus a small epsilon).

    Returns
    -------
    update : ndarray, shape (n_prompts, n_answers)
        The logit-space direction per prompt.
    answers : ndarray of int, shape (n_prompts, group_size)
        The sampled answers.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> probs = np.full((1, 3), 1 / 3)
    >>> accept = np.array([[True, False, False]])
    >>> update, answers = sampled_logit_update(probs, accept, "structured", 4, rng)
    >>> bool(abs(update.sum()) < 1e-12), answers.shape
    (True, (1, 4))
    """
    answers = sample_answers(probs, group_size, rng)
    rewards = group_rewards(answers, accept, kind)
    advantages = rewards - rewards.mean(axis=1, keepdims=True)
    if scale_advantage:
        advantages = advantages / (rewards.std(axis=1, keepdims=True) + _STD_EPS)
    coefficients = np.zeros_like(probs)
    rows = np.repeat(np.arange(probs.shape[0]), group_size)
    np.add.at(coefficients, (rows, answers.reshape(-1)), advantages.reshape(-1))
    update = _score_update(coefficients / group_size, probs)
    return update, answers


def expected_logit_update(
    probs: np.ndarray,
    accept: np.ndarray,
    kind: str,
    group_size: int,
) -> np.ndarray:
    """Exact expectation of :func:`sampled_logit_update` (unscaled advantages), per prompt.

    With exchangeable samples, ``E[(1/G) sum_g A_g g(a_g)] = (G-1)/G * sum_a c_a g(a)``
    with ``c_a = pi_a (E[r_1 | a_1 = a] - E[r_2 | a_1 = a])`` and ``g(a) = e_a - pi`` the
    softmax score ``grad_z log pi_a``. For structured rewards ``E[r_2 | a_1]`` is a constant, which
    drops out; for open rewards both conditional means are sums of
    ``E[1/(c + Binomial(n, p))]`` (see the module docstring).

    Parameters
    ----------
    probs : ndarray, shape (n_prompts, n_answers)
        Answer probabilities per prompt.
    accept : ndarray of bool, shape (n_prompts, n_answers)
        Which answers each prompt accepts.
    kind : {"structured", "open"}
        Reward kind (:func:`group_rewards`).
    group_size : int
        Answers per group (``G``).

    Returns
    -------
    ndarray, shape (n_prompts, n_answers)

    Examples
    --------
    >>> probs = np.array([[0.5, 0.25, 0.25]])
    >>> accept = np.array([[False, True, False]])
    >>> expected_logit_update(probs, accept, "structured", 2).round(4).tolist()
    [[-0.0625, 0.0938, -0.0312]]
    """
    G = group_size
    accept = accept.astype(float)
    if kind == "structured":
        coefficients = probs * accept
    else:
        own = accept * _inverse_count_mean(probs, G - 1, 1)
        shared = (
            accept
            * probs
            * (_inverse_count_mean(probs, G - 2, 2) - _inverse_count_mean(probs, G - 2, 1))
        )
        coefficients = probs * (own - shared)
    return (G - 1) / G * _score_update(coefficients, probs)
