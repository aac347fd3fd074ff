"""Format reward: does the completion follow the required layout, exactly?

The default layout is one ``<think>...</think>`` block followed by one
``<answer>...</answer>`` block and nothing else (surrounding whitespace allowed),
with no nested or repeated tags. Any regular expression can replace it; it must
match the *whole* completion (``re.fullmatch``). No column is read, so the reward
applies to every row.
"""

from __future__ import annotations

import re

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards._common import RewardFunction

__all__ = ["THINK_ANSWER_PATTERN", "FormatReward", "format_reward"]

THINK_ANSWER_PATTERN = (
    r"\s*<think>(?:(?!</?think>|</?answer>).)*</think>"
    r"\s*<answer>(?:(?!</?think>|</?answer>).)*\S(?:(?!</?think>|</?answer>).)*</answer>\s*"
)
"""Think block, then a non-empty answer block, nothing else; no nested or extra tags."""


class FormatReward(RewardFunction):
    """Reward ``match_reward`` when the whole completion matches ``pattern``, else ``miss_reward``.

    Parameters
    ----------
    pattern : str or re.Pattern, default THINK_ANSWER_PATTERN
        Regular expression the *entire* completion must match.
    flags : int, default re.DOTALL
        Flags used to compile ``pattern`` when it is a string.
    match_reward, miss_reward : float, default 1.0 and 0.0
        Rewards for a match and for anything else.
    name : str, default "format_reward"
        The ``__name__`` TRL logs the reward under.

    Examples
    --------
    >>> reward = FormatReward()
    >>> reward(completions=["<think>2+2</think>\\n<answer>4</answer>",
    ...                     "<think>2+2</think> 4",
    ...                     "<think>a</think><answer>4</answer><answer>5</answer>",
    ...                     [{"role": "assistant", "content": "<think>x</think><answer>y</answer>"}]])
    [1.0, 0.0, 0.0, 1.0]
    >>> FormatReward(pattern=r"Answer: \\d+")(completions=["Answer: 12", "Answer: twelve"])
    [1.0, 0.0]
    """

    def __init__(
        self,
        *,
        pattern: str | re.Pattern = THINK_ANSWER_PATTERN,
        flags: int = re.DOTALL,
        match_reward: float = 1.0,
        miss_reward: float = 0.0,
        name: str = "format_reward",
    ):
        if isinstance(pattern, str):
            try:
                re.compile(pattern, flags)
            except re.error as error:
                raise InvalidParameterError(
                    "The 'pattern' parameter of FormatReward must be a valid regular expression. "
                    f"Got {pattern!r}, which fails with: {error}."
                ) from error
        elif not isinstance(pattern, re.Pattern):
            raise InvalidParameterError(
                "The 'pattern' parameter of FormatReward must be a string or a compiled "
                f"re.Pattern. Got {type(pattern).__name__} instead."
            )
        self.pattern = pattern
        self.flags = flags
        self.match_reward = float(match_reward)
        self.miss_reward = float(miss_reward)
        self.__name__ = name

    def score(self, text, row):
        compiled = (
            self.pattern
            if isinstance(self.pattern, re.Pattern)
            else re.compile(self.pattern, self.flags)
        )
        return self.match_reward if compiled.fullmatch(text) else self.miss_reward


format_reward = FormatReward()
"""Ready-made :class:`FormatReward` for ``<think>...</think><answer>...</answer>``."""
