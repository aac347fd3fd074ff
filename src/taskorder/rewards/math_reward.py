"""Math reward: extract the final answer and compare it with the gold answer.

Column read: ``answer`` (the gold final answer, a string or a number). Rows whose
``answer`` is missing or ``None`` get ``None`` (not applicable).

Extraction (:func:`extract_final_answer`) looks, in order, for the last
``<answer>...</answer>`` block, the last ``\\boxed{...}``, the last
"answer is X" / "Answer: X", and finally the last number in the text. Equivalence
(:func:`taskorder.rewards._equivalence.answers_match`) is numeric and symbolic,
with math-verify when installed, else sympy.
"""

from __future__ import annotations

import re

from taskorder.checks import check_choice, check_int
from taskorder.rewards._common import RewardFunction, extract_boxed, extract_tag
from taskorder.rewards._equivalence import EQUIVALENCE_BACKENDS, answers_match

__all__ = ["MathReward", "extract_final_answer", "math_reward"]

_ANSWER_IS = re.compile(
    r"(?:final\s+answer|answer)\s*(?:is|:|=)\s*:?\s*(.+?)\s*(?:\.?\s*$|\.\s)",
    re.IGNORECASE | re.MULTILINE,
)
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:\s*/\s*\d+)?")


def extract_final_answer(text: str) -> str | None:
    """Extract the final answer of a worked solution.

    Parameters
    ----------
    text : str
        The completion.

    Returns
    -------
    str or None
        The answer text, or ``None`` when nothing answer-like is found.

    Examples
    --------
    >>> extract_final_answer(r"2+2 is \\boxed{4}.")
    '4'
    >>> extract_final_answer("So the answer is 3/4.")
    '3/4'
    >>> extract_final_answer("We get 12 apples, then 15.")
    '15'
    >>> extract_final_answer("<think>7?</think><answer>8</answer>")
    '8'
    >>> extract_final_answer("I do not know") is None
    True
    """
    tagged = extract_tag(text, "answer")
    if tagged is not None:
        return extract_boxed(tagged) or tagged or None
    boxed = extract_boxed(text)
    if boxed is not None:
        return boxed or None
    stated = _ANSWER_IS.findall(text)
    if stated:
        answer = stated[-1].strip().strip("*").strip().strip("$").strip()
        if answer:
            return answer
    numbers = _NUMBER.findall(text)
    return numbers[-1].replace(" ", "") if numbers else None


class MathReward(RewardFunction):
    """Reward 1.0 when the final answer equals the ``answer`` column, else 0.0.

    Parameters
    ----------
    timeout_seconds : int, default 2
        Limit per parse/compare step for math-verify (main thread only).
    backend : {"auto", "math-verify", "sympy"}, default "auto"
        Equivalence checker; ``"auto"`` prefers math-verify.
    name : str, default "math_reward"
        The ``__name__`` TRL logs the reward under.

    Examples
    --------
    >>> reward = MathReward()
    >>> reward(completions=[r"\\boxed{0.5}", "The answer is 2.", "no idea"],
    ...        answer=["1/2", "3", None])
    [1.0, 0.0, None]
    """

    columns = ("answer",)

    def __init__(
        self, *, timeout_seconds: int = 2, backend: str = "auto", name: str = "math_reward"
    ):
        # whole seconds: signal.alarm takes nothing else
        self.timeout_seconds = check_int(timeout_seconds, "timeout_seconds", "MathReward")
        self.backend = check_choice(backend, EQUIVALENCE_BACKENDS, "backend", "MathReward")
        self.__name__ = name

    def score(self, text, row):
        gold = row["answer"]
        if gold is None or (isinstance(gold, str) and not gold.strip()):
            return None
        predicted = extract_final_answer(text)
        if predicted is None:
            return 0.0
        same = answers_match(
            predicted, str(gold), timeout_seconds=self.timeout_seconds, backend=self.backend
        )
        return 1.0 if same else 0.0


math_reward = MathReward()
"""Ready-made :class:`MathReward` with default settings (name ``"math_reward"``)."""
