"""Shared plumbing for reward functions: the TRL calling convention, text and columns.

TRL's ``GRPOTrainer`` calls every custom reward function as
``f(prompts=..., completions=..., completion_ids=..., **columns)`` where each value
in ``columns`` is a list with one element per completion (dataset columns repeated
once per generation), plus a few non-list extras (``trainer_state``, ``log_metric``,
``log_extra``). It expects a list of floats back, one per completion, where ``None``
means "this reward does not apply to this row" (turned into NaN and ignored).

:class:`RewardFunction` implements that convention once; each reward only says how
to score one row, or overrides :meth:`RewardFunction.score_batch` to score a batch.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from taskorder.exceptions import InvalidParameterError

__all__ = [
    "RewardFunction",
    "batch_size",
    "completion_text",
    "extract_boxed",
    "extract_tag",
    "prompt_text",
    "row_columns",
]

logger = logging.getLogger("taskorder.rewards")

# Keyword arguments TRL passes that are not per-row dataset columns.
TRL_EXTRAS = frozenset({"trainer_state", "log_metric", "log_extra"})


def completion_text(completion: Any) -> str | None:
    """Return the text of one completion, standard or conversational.

    Parameters
    ----------
    completion : str or list of dict or None
        A plain string (standard format) or a list of ``{"role", "content"}``
        messages (conversational format; the assistant messages are joined).

    Returns
    -------
    str or None
        The text, or ``None`` when ``completion`` holds no text.

    Examples
    --------
    >>> completion_text("The answer is 4.")
    'The answer is 4.'
    >>> completion_text([{"role": "assistant", "content": "4"}])
    '4'
    >>> completion_text(None) is None
    True
    """
    if completion is None:
        return None
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        content = completion.get("content")
        return content if isinstance(content, str) else None
    if isinstance(completion, Sequence):
        parts = [
            message.get("content")
            for message in completion
            if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant"
        ]
        texts = [part for part in parts if isinstance(part, str)]
        return "\n".join(texts) if texts else None
    return None


def prompt_text(prompt: Any) -> str | None:
    """Return a prompt as text; a conversation becomes ``role: content`` lines.

    Examples
    --------
    >>> prompt_text("What is 2+2?")
    'What is 2+2?'
    >>> prompt_text([{"role": "system", "content": "Be brief."},
    ...              {"role": "user", "content": "What is 2+2?"}])
    'system: Be brief.\\nuser: What is 2+2?'
    """
    if prompt is None or isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        lines = [
            f"{message.get('role', 'user')}: {message.get('content', '')}"
            for message in prompt
            if isinstance(message, Mapping)
        ]
        return "\n".join(lines)
    return str(prompt)


def extract_tag(text: str, tag: str) -> str | None:
    """Return the stripped content of the last ``<tag>...</tag>`` block, or ``None``.

    Examples
    --------
    >>> extract_tag("<think>hm</think><answer> 42 </answer>", "answer")
    '42'
    >>> extract_tag("42", "answer") is None
    True
    """
    name = re.escape(tag)
    found = re.findall(rf"<{name}>(.*?)</{name}>", text, re.DOTALL | re.IGNORECASE)
    return found[-1].strip() if found else None


def extract_boxed(text: str) -> str | None:
    """Return the content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced.

    Examples
    --------
    >>> extract_boxed(r"so \\boxed{\\frac{1}{2}} is it")
    '\\\\frac{1}{2}'
    >>> extract_boxed("no box") is None
    True
    """
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    position = text.index("{", start) + 1
    depth = 1
    for index in range(position, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[position:index].strip()
    return None  # unbalanced: no answer


def batch_size(completions: Any, function: str) -> int:
    """Check that ``completions`` is a list and return its length."""
    if not isinstance(completions, Sequence) or isinstance(completions, str):
        raise InvalidParameterError(
            f"The 'completions' parameter of {function} must be a list with one completion per "
            f"row. Got {type(completions).__name__} instead."
        )
    return len(completions)


def row_columns(columns: Mapping[str, Any], names: Sequence[str], n_rows: int, function: str):
    """Split the named list columns into one dict per row; a missing column gives ``None``.

    Examples
    --------
    >>> row_columns({"answer": ["4", None]}, ["answer", "options"], 2, "f")
    [{'answer': '4', 'options': None}, {'answer': None, 'options': None}]
    """
    per_row: list[dict[str, Any]] = [{} for _ in range(n_rows)]
    for name in names:
        values = columns.get(name)
        if values is None:
            values = [None] * n_rows
        elif not isinstance(values, Sequence) or isinstance(values, str) or len(values) != n_rows:
            got = len(values) if isinstance(values, Sequence) else type(values).__name__
            raise InvalidParameterError(
                f"The {name!r} column passed to {function} must be a list with one value per "
                f"completion ({n_rows}). Got {got} instead."
            )
        for row, value in zip(per_row, values):
            row[name] = value
    return per_row


class RewardFunction:
    """Base class of the rewards: a TRL-compatible callable with a ``__name__``.

    Subclasses set :attr:`columns` (the dataset columns they read) and implement
    :meth:`score` (one row) or :meth:`score_batch` (all rows). Rows whose completion
    holds no text get ``None``. Counts of scored and skipped rows accumulate in
    ``stats_`` (a :class:`collections.Counter`); when TRL passes ``log_metric``, the
    fraction of skipped rows of each batch is logged as ``<name>/skipped``.
    """

    columns: tuple[str, ...] = ()
    __name__ = "reward"

    def __call__(self, prompts=None, completions=None, completion_ids=None, **kwargs):
        n_rows = batch_size(completions, self.__name__)
        texts = [completion_text(completion) for completion in completions]
        rows = row_columns(kwargs, self.columns, n_rows, self.__name__)
        if prompts is not None:
            if isinstance(prompts, str) or len(prompts) != n_rows:
                raise InvalidParameterError(
                    f"The 'prompts' parameter of {self.__name__} must be a list with one prompt "
                    f"per completion ({n_rows}). Got {prompts!r:.80} instead."
                )
            for row, prompt in zip(rows, prompts):
                row["prompt"] = prompt_text(prompt)
        rewards = self.score_batch(texts, rows)
        self._record(rewards, kwargs.get("log_metric"))
        return rewards

    def score_batch(self, texts: list[str | None], rows: list[dict[str, Any]]):
        """Score every row; the default calls :meth:`score` row by row."""
        return [None if text is None else self.score(text, row) for text, row in zip(texts, rows)]

    def score(self, text: str, row: dict[str, Any]) -> float | None:  # pragma: no cover
        """Score one completion text given its row's columns; ``None`` = not applicable."""
        raise NotImplementedError

    @property
    def stats_(self) -> Counter:
        """Counts of ``scored`` and ``skipped`` rows (and reward-specific events) so far."""
        if "_stats" not in self.__dict__:
            self.__dict__["_stats"] = Counter()
        return self.__dict__["_stats"]

    def _count(self, key: str, amount: int = 1) -> None:
        lock = self.__dict__.setdefault("_stats_lock", threading.Lock())
        with lock:
            self.stats_[key] += amount

    def _record(self, rewards: list, log_metric: Any) -> None:
        skipped = sum(reward is None for reward in rewards)
        self._count("scored", len(rewards) - skipped)
        self._count("skipped", skipped)
        if callable(log_metric) and rewards:
            try:
                log_metric(f"{self.__name__}/skipped", skipped / len(rewards))
            except Exception:  # logging must never stop training
                logger.debug("log_metric failed for %s", self.__name__, exc_info=True)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_stats_lock", None)
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.__name__!r})"
