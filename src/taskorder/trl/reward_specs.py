"""Turn reward names into TRL reward functions, and route them by task.

A reward function follows TRL's convention: it is called as
``f(prompts=..., completions=..., completion_ids=..., **columns)`` with one list
element per completion and returns one float (or ``None``: not applicable) per
completion. :func:`resolve_reward` accepts

- a callable (returned as is);
- ``"package.module:attribute"`` (imported; a class is instantiated without arguments);
- a name from :data:`REWARD_NAMES`, resolved against :mod:`taskorder.rewards` when
  that package provides it, else against the small rule-based stand-ins below.

:func:`for_task` wraps a reward so it scores only the rows of one task and returns
``None`` elsewhere; with one wrapper per task, ``GRPOTrainer`` logs
``rewards/<task>/mean`` for every task of a mixed batch.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from taskorder.exceptions import InvalidParameterError

__all__ = [
    "REWARD_NAMES",
    "resolve_reward",
    "for_task",
    "keyword_judge",
    "last_number_reward",
    "label_reward",
]

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_LABEL = re.compile(r"\b([A-Z])\b")


def _text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):  # conversational: [{"role", "content"}, ...]
        return "\n".join(
            str(message.get("content", ""))
            for message in completion
            if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant"
        )
    return "" if completion is None else str(completion)


def _column(kwargs: Mapping[str, Any], name: str, n_rows: int) -> list[Any]:
    values = kwargs.get(name)
    return [None] * n_rows if values is None else list(values)


def last_number_reward(completions: list[Any], answer: list[Any] | None = None, **_: Any):
    """1.0 when the completion's last number equals ``answer`` numerically, else 0.0.

    Rows without an answer get ``None``. A stand-in for :mod:`taskorder.rewards`'s math
    reward when that package is not installed.

    Examples
    --------
    >>> last_number_reward([" 7", "it is 8", "none"], answer=["7", "7", None])
    [1.0, 0.0, None]
    """
    answers = answer if answer is not None else [None] * len(completions)
    rewards: list[float | None] = []
    for completion, gold in zip(completions, answers):
        if gold is None or str(gold).strip() == "":
            rewards.append(None)
            continue
        numbers = _NUMBER.findall(_text(completion))
        try:
            rewards.append(float(bool(numbers) and float(numbers[-1]) == float(gold)))
        except ValueError:
            rewards.append(float(bool(numbers) and numbers[-1] == str(gold).strip()))
    return rewards


def label_reward(completions: list[Any], answer: list[Any] | None = None, **_: Any):
    """1.0 when the first capital-letter label in the completion equals ``answer``.

    Examples
    --------
    >>> label_reward([" B", "A or B", "x"], answer=["B", "B", "B"])
    [1.0, 0.0, 0.0]
    """
    answers = answer if answer is not None else [None] * len(completions)
    rewards: list[float | None] = []
    for completion, gold in zip(completions, answers):
        if gold is None:
            rewards.append(None)
            continue
        labels = _LABEL.findall(_text(completion))
        rewards.append(float(bool(labels) and labels[0] == str(gold).strip()))
    return rewards


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
        tokens = re.findall(r"[a-z]+", _text(completion).lower())
        if len(tokens) > 24:
            rewards.append(0.0)
            continue
        rewards.append(sum(word.lower() in tokens for word in words) / len(words))
    return rewards


# name -> (attribute in taskorder.rewards that provides it, local stand-in or None)
_REGISTRY: dict[str, tuple[str | None, Callable[..., Any] | None]] = {
    "math": ("taskorder.rewards.math_reward:math_reward", last_number_reward),
    "choice": ("taskorder.rewards.choice:choice_reward", label_reward),
    "format": ("taskorder.rewards.format_reward:format_reward", None),
    "code": ("taskorder.rewards.code:code_reward", None),
    "judge": ("taskorder.rewards.judge:judge_reward", None),
    "keywords": (None, keyword_judge),
    "last_number": (None, last_number_reward),
    "label": (None, label_reward),
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
        raise InvalidParameterError(f"Cannot import the reward module {module_name!r}: {error}.") from error
    try:
        value = getattr(module, attribute)
    except AttributeError:
        raise InvalidParameterError(f"Module {module_name!r} has no attribute {attribute!r}.") from None
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
    taskorder.exceptions.InvalidParameterError: Unknown reward 'nope'. Use one of math, choice, format, code, judge, keywords, last_number, label, or 'package.module:attribute'.
    """
    if callable(spec):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidParameterError(f"A reward must be a name or a callable. Got {spec!r}.")
    if ":" in spec:
        reward = _import(spec)
    elif spec in _REGISTRY:
        path, fallback = _REGISTRY[spec]
        reward = None
        if path is not None:
            try:
                reward = _import(path)
            except InvalidParameterError:
                reward = None
        if reward is None:
            if fallback is None:
                raise InvalidParameterError(
                    f"The reward {spec!r} comes from taskorder.rewards ({path}), which is not "
                    "available in this installation."
                )
            reward = fallback
    else:
        raise InvalidParameterError(
            f"Unknown reward {spec!r}. Use one of {', '.join(REWARD_NAMES)}, or "
            "'package.module:attribute'."
        )
    if not callable(reward):
        raise InvalidParameterError(f"The reward {spec!r} resolved to a non-callable {reward!r}.")
    return reward


class for_task:  # noqa: N801 - reads as a function at call sites: for_task("math", reward)
    """Wrap ``reward`` so it scores only rows whose ``task`` column is ``task``.

    Other rows get ``None``. ``__name__`` is the task name, so TRL logs
    ``rewards/<task>/mean``.

    Examples
    --------
    >>> reward = for_task("arith", last_number_reward)
    >>> reward(completions=["7", "7"], answer=["7", "7"], task=["arith", "qa"])
    [1.0, None]
    """

    def __init__(self, task: str, reward: Callable[..., Any], *, task_column: str = "task") -> None:
        self.task = task
        self.reward = reward
        self.task_column = task_column
        self.__name__ = task

    def __call__(self, prompts=None, completions=None, **kwargs: Any) -> list[float | None]:
        completions = list(completions or [])
        tasks = kwargs.get(self.task_column)
        if tasks is None:
            mine = list(range(len(completions)))
        else:
            mine = [k for k, task in enumerate(tasks) if task == self.task]
        rewards: list[float | None] = [None] * len(completions)
        if not mine:
            return rewards
        sub_kwargs = {
            key: ([value[k] for k in mine] if isinstance(value, list) and len(value) == len(completions) else value)
            for key, value in kwargs.items()
        }
        sub_prompts = None if prompts is None else [prompts[k] for k in mine]
        scored = self.reward(prompts=sub_prompts, completions=[completions[k] for k in mine], **sub_kwargs)
        for k, value in zip(mine, scored):
            rewards[k] = None if value is None else float(value)
        return rewards

    def __repr__(self) -> str:
        return f"for_task({self.task!r}, {self.reward!r})"
