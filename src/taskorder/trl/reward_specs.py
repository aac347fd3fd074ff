"""Turn reward names into TRL reward functions, and route them by task.

A reward function follows TRL's convention: it is called as
``f(prompts=..., completions=..., completion_ids=..., **columns)`` with one list
element per completion and returns one float (or ``None``: not applicable) per
completion. :func:`resolve_reward` accepts

- a callable (returned as is);
- ``"package.module:attribute"`` (imported; a class is instantiated without arguments);
- a name from :data:`REWARD_NAMES`: ``math``, ``choice``, ``code`` and ``format`` are
  the ready-made rewards of :mod:`taskorder.rewards`; ``keywords`` is
  :func:`keyword_judge`, a rule-based stand-in for an LLM judge used by the offline
  example (a real judge needs a backend: pass a configured
  ``taskorder.rewards.JudgeReward`` as a callable or an import path).

:func:`for_task` wraps a reward so it scores only the rows of one task and returns
``None`` elsewhere; with one wrapper per task, ``GRPOTrainer`` logs
``rewards/<task>/mean`` for every task of a mixed batch.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import completion_text

__all__ = [
    "REWARD_NAMES",
    "for_task",
    "keyword_judge",
    "resolve_reward",
]


def keyword_judge(completions: list[Any], keywords: list[Any] | None = None, **_: Any):
    """A rule-based judge stand-in: the share of ``keywords`` the completion uses.

    A completion longer than 24 words scores 0 (rambling is not rewarded). Rows
    without keywords get ``None``.

    Examples
    --------
    >>> keyword_judge(["soft fur and purr", "nothing"], keywords=[["fur", "purr", "paws"]] * 2)
    [0.6666666666666666, 0.0]
    """
    lists = keywords if keywords is not None else [None] * len(completions)
    rewards: list[float | None] = []
    for completion, words in zip(completions, lists):
        if not words:
            rewards.append(None)
            continue
        tokens = re.findall(r"[a-z]+", (completion_text(completion) or "").lower())
        if len(tokens) > 24:
            rewards.append(0.0)
            continue
        rewards.append(sum(word.lower() in tokens for word in words) / len(words))
    return rewards


# name -> "module:attribute" of the reward it stands for
_REGISTRY: dict[str, str] = {
    "math": "taskorder.rewards:math_reward",
    "choice": "taskorder.rewards:choice_reward",
    "code": "taskorder.rewards:code_reward",
    "format": "taskorder.rewards:format_reward",
    "keywords": "taskorder.trl.reward_specs:keyword_judge",
}

#: Reward names :func:`resolve_reward` knows.
REWARD_NAMES = tuple(_REGISTRY)


def _import(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise InvalidParameterError(
            f"A reward path must look like 'package.module:attribute'. Got {path!r}."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidParameterError(
            f"Cannot import the reward module {module_name!r}: {error}."
        ) from error
    try:
        value = getattr(module, attribute)
    except AttributeError:
        raise InvalidParameterError(
            f"Module {module_name!r} has no attribute {attribute!r}."
        ) from None
    return value() if isinstance(value, type) else value


def resolve_reward(spec: str | Callable[..., Any]) -> Callable[..., Any]:
    """The TRL reward function named by ``spec`` (see the module docstring).

    Raises
    ------
    InvalidParameterError
        If the name is unknown, the path cannot be imported, or the result is not callable.

    Examples
    --------
    >>> resolve_reward("keywords").__name__
    'keyword_judge'
    >>> resolve_reward("nope")
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Unknown reward 'nope'. Use one of math, choice, code, format, keywords, or 'package.module:attribute' (e.g. a configured taskorder.rewards.JudgeReward).
    """
    if callable(spec):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidParameterError(f"A reward must be a name or a callable. Got {spec!r}.")
    if ":" in spec:
        reward = _import(spec)
    elif spec in _REGISTRY:
        reward = _import(_REGISTRY[spec])
    else:
        raise InvalidParameterError(
            f"Unknown reward {spec!r}. Use one of {', '.join(REWARD_NAMES)}, or "
            "'package.module:attribute' (e.g. a configured taskorder.rewards.JudgeReward)."
        )
    if not callable(reward):
        raise InvalidParameterError(f"The reward {spec!r} resolved to a non-callable {reward!r}.")
    return reward


def for_task(
    task: str, reward: Callable[..., Any], *, task_column: str = "task"
) -> Callable[..., Any]:
    """Wrap ``reward`` so it scores only rows whose ``task_column`` is ``task``.

    Other rows get ``None``. The wrapper's ``__name__`` is the task name, so TRL logs
    ``rewards/<task>/mean`` for each task of a mixed batch. Built on
    :func:`taskorder.rewards.task_router`.

    Parameters
    ----------
    task : str
        The task whose rows ``reward`` scores; also the wrapper's ``__name__``.
    reward : callable
        A TRL reward function (``completions`` and the dataset columns as keywords).
    task_column : str, default "task"
        The dataset column that names each row's task.

    Returns
    -------
    callable
        A reward function returning ``reward``'s value for ``task``'s rows and ``None``
        for the others.

    Examples
    --------
    >>> reward = for_task("arith", resolve_reward("math"))
    >>> reward(completions=["7", "7"], answer=["7", "7"], task=["arith", "qa"])
    [1.0, None]
    """
    from taskorder.rewards import task_router

    return task_router({task: reward}, task_column=task_column, name=task)
