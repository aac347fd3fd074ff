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
that row), is counted in ``Judge.stats_`` and logged; it never raises. A backend
failure also opens a circuit breaker: for ``cooldown`` seconds every further request
(the rest of the batch included) gets ``None`` at once instead of waiting on a dead
judge. An empty or whitespace-only completion is never sent: it gets the scale's
minimum (0.0) without a request.

Batches (:meth:`Judge.ask_many`, used by :class:`JudgeReward`) are asked at once: in
one call of a backend that has a ``batch`` method (:class:`TransformersBackend`
generates them together), else concurrently on up to the backend's ``concurrency``
threads.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter

from taskorder.checks import check_choice, check_float, check_int
from taskorder.exceptions import InvalidParameterError
from taskorder.rewards._common import RewardFunction, logger
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
_VERDICT = re.compile(
    r"^[ \t*]*winner[ \t*]*:[ \t*]*(a|b|tie)[ \t*.]*$", re.IGNORECASE | re.MULTILINE
)


def parse_score(reply: str, low: int, high: int) -> int | None:
    """Return N from the one ``Score: N`` line of ``reply`` when in range, else ``None``.

    Parameters
    ----------
    reply : str
        The judge's reply.
    low, high : int
        The score scale, both ends included.

    Returns
    -------
    int or None
        The score, or ``None`` when there is no such line, more than one, or N is out of
        range.

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
    cooldown : float, default 30.0
        Seconds the circuit breaker stays open after a backend failure: requests in
        that time (the rest of the batch included) get ``None`` without reaching the
        backend. The first request after it tries the backend again. ``0`` turns the
        breaker off.

    Attributes
    ----------
    stats_ : collections.Counter
        ``requests``, ``cache_hits``, ``backend_errors``, ``circuit_open`` (requests
        refused while the breaker was open), ``unparsable`` and ``empty`` (blank
        completions scored without a request).

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
        cooldown: float = 30.0,
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
        self.cooldown = check_float(cooldown, "cooldown", "Judge", minimum=0)  # seconds
        self.backend = backend if hasattr(backend, "backend_id") else CallableBackend(backend)
        self.low, self.high, self.seed = low, high, seed
        self.cache = JudgementCache() if cache is True else (cache if cache is not False else None)
        self.pointwise_template = pointwise_template
        self.pairwise_template = pairwise_template
        self.stats_: Counter = Counter()
        self._lock = threading.Lock()
        self._open_until = 0.0  # monotonic time until which the breaker refuses requests

    def _count(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self.stats_[key] += amount

    def ask(self, prompt: str) -> str | None:
        """Return the backend's reply to ``prompt`` (cached), or ``None`` on failure."""
        return self.ask_many([prompt])[0]

    def ask_many(self, prompts, *, max_workers: int | None = None) -> list[str | None]:
        """Return the backend's replies to ``prompts`` (cached), ``None`` where it failed.

        Parameters
        ----------
        prompts : list of str
            The judge prompts; repeated ones are asked once when caching is on.
        max_workers : int, optional
            Concurrent requests for a backend without a ``batch`` method; defaults to
            the backend's ``concurrency`` attribute (1 when it has none).

        Returns
        -------
        list of str or None
            One reply per prompt, in order.
        """
        prompts = list(prompts)
        replies: list[str | None] = [None] * len(prompts)
        self._count("requests", len(prompts))
        backend_id = self.backend.backend_id
        pending: dict[str, list[int]] = {}
        for index, prompt in enumerate(prompts):
            cached = None if self.cache is None else self.cache.get(backend_id, prompt)
            if cached is not None:
                self._count("cache_hits")
                replies[index] = cached
            elif self.cache is not None and prompt in pending:
                self._count("cache_hits")  # asked once for the whole batch
                pending[prompt].append(index)
            else:
                pending.setdefault(prompt, []).append(index)
        if self.cache is None:
            jobs = [
                (prompt, [index]) for index, prompt in enumerate(prompts) if replies[index] is None
            ]
        else:
            jobs = list(pending.items())
        answers = self._ask_backend([prompt for prompt, _ in jobs], max_workers)
        for (prompt, indices), reply in zip(jobs, answers):
            if reply is None:
                continue
            if self.cache is not None:
                self.cache.put(backend_id, prompt, reply)
            for index in indices:
                replies[index] = reply
        return replies

    def _ask_backend(self, prompts: list[str], max_workers: int | None) -> list[str | None]:
        """Ask the backend (one batch call, or a thread pool), minding the breaker."""
        if not prompts:
            return []
        batch = getattr(self.backend, "batch", None)
        if callable(batch):
            if self._breaker_open(len(prompts)):
                return [None] * len(prompts)
            replies = self._guarded(batch, prompts)
            if isinstance(replies, list) and len(replies) == len(prompts):
                return [self._checked(reply) for reply in replies]
            if replies is not None:  # (None: _guarded counted and logged the failure)
                self._count("backend_errors")
                logger.warning(
                    "Judge backend %s answered a batch of %d with %.80r",
                    self.backend.backend_id,
                    len(prompts),
                    replies,
                )
            return [None] * len(prompts)
        workers = max_workers or getattr(self.backend, "concurrency", 1)
        workers = max(1, min(int(workers), len(prompts)))

        def one(prompt):
            if self._breaker_open(1):
                return None
            return self._checked(self._guarded(self.backend, prompt))

        if workers == 1:
            return [one(prompt) for prompt in prompts]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="judge") as pool:
            return list(pool.map(one, prompts))

    def _guarded(self, function, argument):
        """Call the backend; on failure count, log, open the breaker and return ``None``."""
        try:
            return function(argument)
        except Exception as error:
            self._count("backend_errors")
            with self._lock:
                self._open_until = time.monotonic() + self.cooldown
            logger.warning(
                "Judge backend %s failed: %s Requests in the next %g s get None without asking it.",
                self.backend.backend_id,
                error,
                self.cooldown,
            )
            return None

    def _checked(self, reply):
        if reply is None or isinstance(reply, str):
            return reply
        self._count("backend_errors")
        logger.warning(
            "Judge backend %s returned %s, not text", self.backend.backend_id, type(reply).__name__
        )
        return None

    def _breaker_open(self, n_requests: int) -> bool:
        with self._lock:
            is_open = time.monotonic() < self._open_until
            if is_open:
                self.stats_["circuit_open"] += n_requests
        return is_open

    def pointwise_prompt(self, prompt: str, completion: str, rubric: str) -> str:
        """The judge prompt that asks for a rubric score of ``completion``.

        Parameters
        ----------
        prompt : str
            The question the completion answers.
        completion : str
            The response to score.
        rubric : str
            What a good response does, shown to the judge.

        Returns
        -------
        str
            :attr:`pointwise_template` filled in, with the score scale.
        """
        return self.pointwise_template.format(
            prompt=prompt, completion=completion, rubric=rubric, low=self.low, high=self.high
        )

    def pairwise_prompt(self, prompt: str, completion: str, reference: str) -> tuple[str, bool]:
        """The judge prompt comparing ``completion`` with ``reference``, and whether it is shown first.

        Parameters
        ----------
        prompt : str
            The question both responses answer.
        completion : str
            The response being judged.
        reference : str
            The response it is compared with.

        Returns
        -------
        tuple of (str, bool)
            :attr:`pairwise_template` filled in, and True when ``completion`` is shown as
            response A (the side is a hash of ``seed``, ``prompt`` and ``completion``).
        """
        digest = hashlib.sha256(f"{self.seed}\0{prompt}\0{completion}".encode()).digest()
        completion_first = digest[0] % 2 == 0
        first, second = (completion, reference) if completion_first else (reference, completion)
        text = self.pairwise_template.format(prompt=prompt, first=first, second=second)
        return text, completion_first

    def read_score(self, reply: str | None) -> float | None:
        """Normalised score from a pointwise reply; ``None`` (counted) when unparsable."""
        if reply is None:
            return None
        value = parse_score(reply, self.low, self.high)
        if value is None:
            self._count("unparsable")
            logger.warning("Unparsable judge reply (wanted 'Score: N'): %.200r", reply)
            return None
        return (value - self.low) / (self.high - self.low)

    def read_verdict(self, reply: str | None, completion_first: bool) -> float | None:
        """1.0 / 0.5 / 0.0 from a pairwise reply; ``None`` (counted) when unparsable."""
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

    def score(self, prompt: str, completion: str, rubric: str) -> float | None:
        """Rubric score of ``completion`` normalised to [0, 1], or ``None``.

        A blank completion scores 0.0 (the scale's minimum) without a request.

        Parameters
        ----------
        prompt : str
            The question the completion answers.
        completion : str
            The response to score.
        rubric : str
            What a good response does, shown to the judge.

        Returns
        -------
        float or None
            ``(score - low) / (high - low)``; ``None`` when the backend failed or the reply
            had no readable score.
        """
        if not completion.strip():
            self._count("empty")
            return 0.0
        return self.read_score(self.ask(self.pointwise_prompt(prompt, completion, rubric)))

    def compare(self, prompt: str, completion: str, reference: str) -> float | None:
        """1.0 if ``completion`` beats ``reference``, 0.5 for a tie, 0.0 if it loses, or ``None``.

        A blank completion loses (0.0) without a request.

        Parameters
        ----------
        prompt : str
            The question both responses answer.
        completion : str
            The response being judged.
        reference : str
            The response it is compared with.

        Returns
        -------
        float or None
            The verdict for ``completion``; ``None`` when the backend failed or the reply
            had no readable verdict.
        """
        if not completion.strip():
            self._count("empty")
            return 0.0
        text, completion_first = self.pairwise_prompt(prompt, completion, reference)
        return self.read_verdict(self.ask(text), completion_first)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("cooldown", 30.0)
        self.__dict__.setdefault("_open_until", 0.0)
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
    max_workers : int, optional
        Concurrent judge requests of a batch; defaults to the backend's
        ``concurrency`` (8 for :class:`OpenAIBackend`, 1 for a function). A backend
        with a ``batch`` method (:class:`TransformersBackend`) gets the whole batch
        in one call instead.
    name : str, optional
        ``__name__`` for TRL's logs; defaults to ``"judge_rubric"`` / ``"judge_reference"``.

    Examples
    --------
    >>> reward = JudgeReward(Judge(lambda prompt: "Score: 10"))
    >>> reward(prompts=["q1", "q2"], completions=["a1", "a2"], rubric=["be right", None])
    [1.0, None]
    """

    def __init__(
        self,
        judge: Judge,
        *,
        mode: str = "rubric",
        max_workers: int | None = None,
        name: str | None = None,
    ):
        if not isinstance(judge, Judge):
            raise InvalidParameterError(
                f"The 'judge' parameter of JudgeReward must be a Judge. Got {type(judge).__name__}."
            )
        self.judge = judge
        self.mode = check_choice(mode, ("rubric", "reference"), "mode", "JudgeReward")
        self.max_workers = (
            None if max_workers is None else check_int(max_workers, "max_workers", "JudgeReward")
        )
        self.columns = (mode,)
        self.__name__ = name or f"judge_{mode}"

    def score(self, text, row):
        return self.score_batch([text], [row])[0]

    def score_batch(self, texts, rows):
        """Score the batch with one :meth:`Judge.ask_many` (blank completions: 0.0, no request)."""
        rewards: list[float | None] = [None] * len(texts)
        asked: list[tuple[int, str, bool]] = []  # (row, judge prompt, completion shown first)
        for index, (text, row) in enumerate(zip(texts, rows)):
            target = row[self.mode]
            if text is None or target is None or (isinstance(target, str) and not target.strip()):
                continue
            if not text.strip():
                self.judge._count("empty")
                rewards[index] = 0.0
                continue
            prompt = row.get("prompt") or ""
            if self.mode == "rubric":
                asked.append((index, self.judge.pointwise_prompt(prompt, text, str(target)), True))
            else:
                asked.append((index, *self.judge.pairwise_prompt(prompt, text, str(target))))
        replies = self.judge.ask_many([text for _, text, _ in asked], max_workers=self.max_workers)
        for (index, _, completion_first), reply in zip(asked, replies):
            if self.mode == "rubric":
                rewards[index] = self.judge.read_score(reply)
            else:
                rewards[index] = self.judge.read_verdict(reply, completion_first)
        return rewards
