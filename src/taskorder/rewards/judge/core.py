"""LLM-as-judge: rubric scores and pairwise verdicts against a reference.

A :class:`Judge` formats a prompt, asks its backend (through the cache), and parses
the reply strictly:

- pointwise: exactly one line ``Score: N`` with ``low <= N <= high``; the reward is
  ``(N - low) / (high - low)`` in [0, 1];
- pairwise: exactly one line ``Winner: A``, ``Winner: B`` or ``Winner: tie``; the
  reward is 1.0 (completion wins), 0.5 (tie) or 0.0 (reference wins). The two
  responses are shown in an order drawn from ``seed`` and the row, so position bias
  does not always favour one side.

A backend failure or an unparsable reply gives ``None`` (TRL skips that reward for
that row), is counted in ``Judge.stats_`` and logged; it never raises.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards._common import RewardFunction, check_count, logger
from taskorder.rewards.judge.backends import CallableBackend
from taskorder.rewards.judge.cache import JudgementCache

__all__ = ["Judge", "JudgeReward", "parse_score", "parse_verdict"]

POINTWISE_TEMPLATE = """You are grading a response against a rubric.

[Question]
{prompt}

[Response]
{completion}

[Rubric]
{rubric}

Grade the response on an integer scale from {low} to {high}, where {high} means it fully \
satisfies the rubric. Reason briefly if you need to, then end with one line of the form \
"Score: N"."""

PAIRWISE_TEMPLATE = """Compare two responses to the same question.

[Question]
{prompt}

[Response A]
{first}

[Response B]
{second}

Which response answers the question better? Reason briefly if you need to, then end with \
one line of the form "Winner: A", "Winner: B" or "Winner: tie"."""

_SCORE = re.compile(r"^[ \t*]*score[ \t*]*:[ \t*]*(\d+)[ \t*.]*$", re.IGNORECASE | re.MULTILINE)
_VERDICT = re.compile(r"^[ \t*]*winner[ \t*]*:[ \t*]*(a|b|tie)[ \t*.]*$", re.IGNORECASE | re.MULTILINE)


def parse_score(reply: str, low: int, high: int) -> int | None:
    """Return N from the one ``Score: N`` line of ``reply`` when in range, else ``None``.

    Examples
    --------
    >>> parse_score("Good work.\\nScore: 8", 1, 10)
    8
    >>> [parse_score(r, 1, 10) for r in ["Score: 11", "Score: 7/10", "I'd say 8", "Score: 3\\nScore: 4"]]
    [None, None, None, None]
    """
    found = _SCORE.findall(reply)
    if len(found) != 1:
        return None
    value = int(found[0])
    return value if low <= value <= high else None


def parse_verdict(reply: str) -> str | None:
    """Return ``"A"``, ``"B"`` or ``"tie"`` from the one ``Winner:`` line, else ``None``.

    Examples
    --------
    >>> parse_verdict("B is clearer.\\nWinner: B"), parse_verdict("Winner: TIE")
    ('B', 'tie')
    >>> parse_verdict("Winner: A\\nWinner: B") is None
    True
    """
    found = _VERDICT.findall(reply)
    if len(found) != 1:
        return None
    verdict = found[0]
    return "tie" if verdict.lower() == "tie" else verdict.upper()


class Judge:
    """Ask a judge model for rubric scores and pairwise verdicts.

    Parameters
    ----------
    backend : callable
        A backend from :mod:`taskorder.rewards.judge.backends`, or any function
        ``prompt -> str`` (wrapped in :class:`CallableBackend`).
    low, high : int, default 1 and 10
        The integer score scale.
    cache : bool or JudgementCache, default True
        ``True``: a fresh in-memory cache; ``False``: none; or a cache to share
        (e.g. ``JudgementCache("judge.sqlite")`` to keep replies on disk).
    seed : int, default 0
        Seed of the order in which pairwise comparisons show the two responses.
    pointwise_template, pairwise_template : str, optional
        Prompt templates (fields ``prompt, completion, rubric, low, high`` and
        ``prompt, first, second``).

    Examples
    --------
    >>> judge = Judge(lambda prompt: "Fine.\\nScore: 7")
    >>> judge.score("What is 2+2?", "4", rubric="Correct and brief.")
    0.6666666666666666
    >>> Judge(lambda prompt: "no idea").score("q", "a", rubric="r") is None
    True
    """

    def __init__(
        self,
        backend,
        *,
        low: int = 1,
        high: int = 10,
        cache=True,
        seed: int = 0,
        pointwise_template: str = POINTWISE_TEMPLATE,
        pairwise_template: str = PAIRWISE_TEMPLATE,
    ):
        if not callable(backend):
            raise InvalidParameterError(
                "The 'backend' parameter of Judge must be a judge backend or a function "
                f"prompt -> str. Got {type(backend).__name__} instead."
            )
        if not (isinstance(low, int) and isinstance(high, int) and low < high):
            raise InvalidParameterError(
                "The 'low' and 'high' parameters of Judge must be integers with low < high. "
                f"Got low={low!r}, high={high!r}."
            )
        if not isinstance(cache, (bool, JudgementCache)):
            raise InvalidParameterError(
                "The 'cache' parameter of Judge must be True, False or a JudgementCache. "
                f"Got {type(cache).__name__} instead."
            )
        self.backend = backend if hasattr(backend, "backend_id") else CallableBackend(backend)
        self.low, self.high, self.seed = low, high, seed
        self.cache = JudgementCache() if cache is True else (cache if cache is not False else None)
        self.pointwise_template = pointwise_template
        self.pairwise_template = pairwise_template
        self.stats_: Counter = Counter()
        self._lock = threading.Lock()

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats_[key] += 1

    def ask(self, prompt: str) -> str | None:
        """Return the backend's reply to ``prompt`` (cached), or ``None`` on failure."""
        self._count("requests")
        backend_id = self.backend.backend_id
        if self.cache is not None:
            cached = self.cache.get(backend_id, prompt)
            if cached is not None:
                self._count("cache_hits")
                return cached
        try:
            reply = self.backend(prompt)
        except Exception as error:  # noqa: BLE001 - a judge failure must never stop training
            self._count("backend_errors")
            logger.warning("Judge backend %s failed: %s", backend_id, error)
            return None
        if not isinstance(reply, str):
            self._count("backend_errors")
            logger.warning("Judge backend %s returned %s, not text", backend_id, type(reply).__name__)
            return None
        if self.cache is not None:
            self.cache.put(backend_id, prompt, reply)
        return reply

    def score(self, prompt: str, completion: str, rubric: str) -> float | None:
        """Rubric score of ``completion`` normalised to [0, 1], or ``None``."""
        text = self.pointwise_template.format(
            prompt=prompt, completion=completion, rubric=rubric, low=self.low, high=self.high
        )
        reply = self.ask(text)
        if reply is None:
            return None
        value = parse_score(reply, self.low, self.high)
        if value is None:
            self._count("unparsable")
            logger.warning("Unparsable judge reply (wanted 'Score: N'): %.200r", reply)
            return None
        return (value - self.low) / (self.high - self.low)

    def compare(self, prompt: str, completion: str, reference: str) -> float | None:
        """1.0 if ``completion`` beats ``reference``, 0.5 for a tie, 0.0 if it loses, or ``None``."""
        digest = hashlib.sha256(f"{self.seed}\0{prompt}\0{completion}".encode()).digest()
        completion_first = digest[0] % 2 == 0
        first, second = (completion, reference) if completion_first else (reference, completion)
        reply = self.ask(self.pairwise_template.format(prompt=prompt, first=first, second=second))
        if reply is None:
            return None
        verdict = parse_verdict(reply)
        if verdict is None:
            self._count("unparsable")
            logger.warning("Unparsable judge reply (wanted 'Winner: A|B|tie'): %.200r", reply)
            return None
        if verdict == "tie":
            return 0.5
        return 1.0 if (verdict == "A") == completion_first else 0.0

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()


class JudgeReward(RewardFunction):
    """TRL reward from a :class:`Judge`: rubric scores or verdicts against a reference.

    Parameters
    ----------
    judge : Judge
        The judge to ask.
    mode : {"rubric", "reference"}, default "rubric"
        ``"rubric"`` reads the ``rubric`` column and scores pointwise; ``"reference"``
        reads the ``reference`` column and compares pairwise.
    max_workers : int, default 1
        Parallel judge requests (useful for HTTP backends).
    name : str, optional
        ``__name__`` for TRL's logs; defaults to ``"judge_rubric"`` / ``"judge_reference"``.

    Examples
    --------
    >>> reward = JudgeReward(Judge(lambda prompt: "Score: 10"))
    >>> reward(prompts=["q1", "q2"], completions=["a1", "a2"], rubric=["be right", None])
    [1.0, None]
    """

    def __init__(self, judge: Judge, *, mode: str = "rubric", max_workers: int = 1, name: str | None = None):
        if not isinstance(judge, Judge):
            raise InvalidParameterError(
                f"The 'judge' parameter of JudgeReward must be a Judge. Got {type(judge).__name__}."
            )
        if mode not in {"rubric", "reference"}:
            raise InvalidParameterError(
                f"The 'mode' parameter of JudgeReward must be 'rubric' or 'reference'. Got {mode!r}."
            )
        self.judge = judge
        self.mode = mode
        self.max_workers = check_count(max_workers, "max_workers", "JudgeReward")
        self.columns = (mode,)
        self.__name__ = name or f"judge_{mode}"

    def score(self, text, row):
        target = row[self.mode]
        if target is None or (isinstance(target, str) and not target.strip()):
            return None
        prompt = row.get("prompt") or ""
        if self.mode == "rubric":
            return self.judge.score(prompt, text, str(target))
        return self.judge.compare(prompt, text, str(target))

    def score_batch(self, texts, rows):
        if self.max_workers == 1:
            return super().score_batch(texts, rows)
        from concurrent.futures import ThreadPoolExecutor

        def one(pair):
            text, row = pair
            return None if text is None else self.score(text, row)

        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="judge") as pool:
            return list(pool.map(one, zip(texts, rows)))
