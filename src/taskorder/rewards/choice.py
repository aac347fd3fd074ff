"""Choice reward: short-form QA where the prompt shows the answer among distractors.

:func:`make_choice_prompt` shuffles the correct answer in with its distractors
(seeded) and returns the prompt text, the options in display order and the correct
label. Store ``options`` and ``answer`` (the label) as dataset columns.

:class:`ChoiceReward` reads columns ``options`` (list of option texts, in display
order) and ``answer`` (the correct label such as ``"B"``, or the correct option's
text). Only an unambiguous pick of the correct option scores 1.0; see
:func:`parse_choice` for what counts as a pick.

Expected reward of a random guesser: with ``k`` options a uniform guess is right
with probability ``1/k``, so the plain reward's expectation is ``1/k`` (0.25 for
four options). ``chance_corrected=True`` rescales to ``(r - 1/k) / (1 - 1/k)``:
1.0 for a right pick, ``-1/(k-1)`` for a wrong or unparsable one, 0 in expectation
for a random guesser, which makes rows with different ``k`` comparable.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from string import ascii_uppercase

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards._common import RewardFunction, extract_boxed, extract_tag

__all__ = ["ChoicePrompt", "ChoiceReward", "choice_reward", "make_choice_prompt", "parse_choice"]

DEFAULT_TEMPLATE = (
    "{question}\n\nOptions:\n{options}\n\nAnswer with the letter of the correct option only."
)
_LABEL = re.compile(r"^(?:[Oo]ption\s+)?[(\[]?([A-Z])[)\]]?[.:]?$")
_LABEL_WITH_TEXT = re.compile(r"^[(\[]?([A-Z])[)\].:]\s+(.+)$")
_STATED = re.compile(
    r"^\s*(?:the\s+)?(?:final\s+|correct\s+)?(?:answer|option)\s*(?:is|:)\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class ChoicePrompt:
    """A shuffled multiple-choice prompt.

    Attributes
    ----------
    text : str
        The prompt shown to the model.
    options : tuple of str
        The option texts in display order (store as the ``options`` column).
    label : str
        The correct option's label, e.g. ``"B"`` (store as the ``answer`` column).
    index : int
        The correct option's position in ``options``.
    """

    text: str
    options: tuple[str, ...]
    label: str
    index: int


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(".").casefold()


def make_choice_prompt(
    question: str,
    answer: str,
    distractors,
    seed: int | None,
    *,
    template: str = DEFAULT_TEMPLATE,
) -> ChoicePrompt:
    """Build a prompt that shows ``answer`` shuffled among ``distractors``.

    Parameters
    ----------
    question : str
        The question.
    answer : str
        The correct answer's text.
    distractors : sequence of str
        Wrong answers (at least one, at most 25, all distinct from ``answer``).
    seed : int or None
        Seed of the shuffle; the same seed gives the same order.
    template : str, optional
        Format string with ``{question}`` and ``{options}`` fields.

    Returns
    -------
    ChoicePrompt
        Prompt text, options in display order, the correct label and its index.

    Raises
    ------
    InvalidParameterError
        If there is no distractor, too many, or one equals the answer.

    Examples
    --------
    >>> p = make_choice_prompt("Capital of France?", "Paris", ["Lyon", "Nice", "Lille"], seed=0)
    >>> p.options, p.label
    (('Nice', 'Paris', 'Lyon', 'Lille'), 'B')
    >>> print(p.text)
    Capital of France?
    <BLANKLINE>
    Options:
    A. Nice
    B. Paris
    C. Lyon
    D. Lille
    <BLANKLINE>
    Answer with the letter of the correct option only.
    """
    distractors = list(distractors)
    if not 1 <= len(distractors) <= len(ascii_uppercase) - 1:
        raise InvalidParameterError(
            "The 'distractors' parameter of make_choice_prompt must hold 1 to 25 wrong "
            f"answers. Got {len(distractors)} instead."
        )
    normalised = [_norm(str(option)) for option in [answer, *distractors]]
    if len(set(normalised)) != len(normalised):
        raise InvalidParameterError(
            "The 'answer' and 'distractors' of make_choice_prompt must all differ (after "
            f"ignoring case and spacing). Got answer {answer!r} and distractors {distractors!r}."
        )
    options = [str(answer), *map(str, distractors)]
    order = list(range(len(options)))
    random.Random(seed).shuffle(order)
    shuffled = tuple(options[i] for i in order)
    index = order.index(0)
    lines = "\n".join(f"{ascii_uppercase[i]}. {text}" for i, text in enumerate(shuffled))
    text = template.format(question=question, options=lines)
    return ChoicePrompt(text=text, options=shuffled, label=ascii_uppercase[index], index=index)


def _candidate(text: str) -> str:
    picked = extract_tag(text, "answer")
    if picked is None:
        picked = extract_boxed(text)
    if picked is None:
        stated = _STATED.findall(text)
        picked = stated[-1] if stated else text
    return picked.strip().strip("*$`'\"").strip()


def parse_choice(text: str, options) -> int | None:
    """Return the index of the one option ``text`` picks, or ``None``.

    The answer is read from the last ``<answer>`` block, else the last ``\\boxed{}``,
    else the last "Answer: ..." line, else the whole text. It must then be exactly a
    label (``B``, ``(B)``, ``B.``, ``Option B``), or exactly one option's text (case
    and spacing ignored), or a label followed by exactly that label's text. Anything
    else (two labels, extra words, an unknown label) picks nothing.

    Examples
    --------
    >>> options = ["Lille", "Lyon", "Paris", "Nice"]
    >>> [parse_choice(t, options) for t in ["C", "(C)", "paris", "Answer: C. Paris", "Lyon"]]
    [2, 2, 2, 2, 1]
    >>> [parse_choice(t, options) for t in ["C or D", "E", "It is Paris", "C. Nice"]]
    [None, None, None, None]
    """
    candidate = _candidate(text)
    options = [str(option) for option in options]
    match = _LABEL.match(candidate)
    if match:
        index = ascii_uppercase.index(match.group(1))
        return index if index < len(options) else None
    match = _LABEL_WITH_TEXT.match(candidate)
    if match:
        index = ascii_uppercase.find(match.group(1))
        if 0 <= index < len(options) and _norm(match.group(2)) == _norm(options[index]):
            return index
        return None
    hits = [i for i, option in enumerate(options) if _norm(option) == _norm(candidate)]
    return hits[0] if len(hits) == 1 else None


class ChoiceReward(RewardFunction):
    """Reward 1.0 for picking the correct option, else 0.0 (or chance-corrected).

    Parameters
    ----------
    chance_corrected : bool, default False
        Return ``(r - 1/k) / (1 - 1/k)`` instead of ``r`` (0 in expectation for a
        random guesser among ``k`` options).
    name : str, default "choice_reward"
        The ``__name__`` TRL logs the reward under.

    Examples
    --------
    >>> reward = ChoiceReward()
    >>> options = [["Lille", "Lyon", "Paris", "Nice"]] * 3
    >>> reward(completions=["C", "B", "C or B"], options=options, answer=["C"] * 3)
    [1.0, 0.0, 0.0]
    >>> ChoiceReward(chance_corrected=True)(completions=["C", "B"], options=options[:2],
    ...                                     answer=["Paris", "Paris"])
    [1.0, -0.3333333333333333]
    """

    columns = ("options", "answer")

    def __init__(self, *, chance_corrected: bool = False, name: str = "choice_reward"):
        self.chance_corrected = bool(chance_corrected)
        self.__name__ = name

    def score(self, text, row):
        options, answer = row["options"], row["answer"]
        if options is None or answer is None or isinstance(options, str) or len(options) < 2:
            return None
        options = [str(option) for option in options]
        correct = parse_choice(str(answer), options)
        if correct is None:
            return None  # the answer column names no option: the row is malformed
        reward = 1.0 if parse_choice(text, options) == correct else 0.0
        if self.chance_corrected:
            chance = 1.0 / len(options)
            reward = (reward - chance) / (1.0 - chance)
        return reward


choice_reward = ChoiceReward()
"""Ready-made :class:`ChoiceReward` (plain 0/1 reward, name ``"choice_reward"``)."""
