"""Code reward: run the completion's Python against the row's tests in a sandbox.

Column read: ``tests``, a list of test snippets (each passes when it runs without
raising, e.g. ``"assert add(2, 3) == 5"``) or one string holding a single test
program. Rows without tests get ``None``. The code is taken from the last
```` ```python ```` fenced block of the completion (see :func:`extract_code`).

The reward is the fraction of tests passed, or 1.0/0.0 with ``all_or_nothing``.
Code that times out, crashes, floods its output or tries anything the sandbox
refuses keeps only the tests it passed before that (usually none). Batches run on
a small thread pool, each completion in its own process
(:func:`taskorder.rewards.sandbox.run_python_tests`).
"""

from __future__ import annotations

import re

from taskorder.checks import check_int
from taskorder.exceptions import InvalidParameterError
from taskorder.rewards._common import RewardFunction, logger
from taskorder.rewards.sandbox import SandboxLimits, require_safe_isolation, run_python_tests

__all__ = ["CodeReward", "code_reward", "extract_code"]

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_PYTHON_TAGS = {"python", "py", "python3", "py3"}


def extract_code(text: str) -> str | None:
    """Return the code of a completion: its last Python fenced block.

    Falls back to the last untagged fenced block, then to the whole text when there
    is no fence at all. Returns ``None`` for blank code.

    Examples
    --------
    >>> extract_code("Here:\\n```python\\ndef f():\\n    return 1\\n```\\nDone.")
    'def f():\\n    return 1\\n'
    >>> extract_code("def f(): return 2")
    'def f(): return 2'
    >>> extract_code("```js\\nlet x = 1\\n```") is None
    True
    """
    blocks = _FENCE.findall(text)
    if not blocks:
        return text if text.strip() else None
    python = [code for tag, code in blocks if tag.lower() in _PYTHON_TAGS]
    untagged = [code for tag, code in blocks if not tag]
    chosen = python or untagged
    if not chosen or not chosen[-1].strip():
        return None
    return chosen[-1]


class CodeReward(RewardFunction):
    """Fraction of the row's ``tests`` the completion's code passes, in a sandbox.

    Parameters
    ----------
    limits : SandboxLimits, optional
        Time, memory and size limits per completion.
    all_or_nothing : bool, default False
        Reward 1.0 only when every test passes, else 0.0.
    max_workers : int, default 2
        Completions run in parallel (one process each).
    isolation : str, default "auto"
        Isolation level, see :func:`taskorder.rewards.sandbox.probe_isolation`.
        ``"auto"`` refuses (:class:`~taskorder.rewards.sandbox.SandboxUnavailableError`,
        raised from the first call) on a machine whose strongest level is not safe for
        untrusted code; name ``"userns"`` or ``"plain"`` to accept that risk.
    python : str, optional
        Interpreter for the sandbox (default ``sys.executable``); pick one that an
        unprivileged user can read when the default lives in a private home.
    name : str, default "code_reward"
        The ``__name__`` TRL logs the reward under.

    Examples
    --------
    >>> reward = CodeReward()
    >>> good = "```python\\ndef add(a, b):\\n    return a + b\\n```"
    >>> bad = "```python\\ndef add(a, b):\\n    return a - b\\n```"
    >>> tests = ["assert add(2, 3) == 5", "assert add(0, 0) == 0"]
    >>> reward(completions=[good, bad, good], tests=[tests, tests, None])
    [1.0, 0.5, None]
    """

    columns = ("tests",)

    def __init__(
        self,
        *,
        limits: SandboxLimits | None = None,
        all_or_nothing: bool = False,
        max_workers: int = 2,
        isolation: str = "auto",
        python: str | None = None,
        name: str = "code_reward",
    ):
        if limits is not None and not isinstance(limits, SandboxLimits):
            raise InvalidParameterError(
                "The 'limits' parameter of CodeReward must be a SandboxLimits. "
                f"Got {type(limits).__name__} instead."
            )
        self.limits = limits
        self.all_or_nothing = bool(all_or_nothing)
        self.max_workers = check_int(max_workers, "max_workers", "CodeReward")
        self.isolation = isolation
        self.python = python
        self.__name__ = name

    def score_batch(self, texts, rows):
        from concurrent.futures import ThreadPoolExecutor

        jobs, rewards = {}, [None] * len(texts)
        for index, (text, row) in enumerate(zip(texts, rows)):
            tests = row["tests"]
            if text is None or tests is None:
                continue
            tests = [tests] if isinstance(tests, str) else [str(test) for test in tests]
            if not tests:
                continue
            code = extract_code(text)
            if code is None:
                rewards[index] = 0.0
                continue
            jobs[index] = (code, tests)
        if not jobs:
            return rewards
        if self.isolation == "auto":
            require_safe_isolation(self.python)  # raises into training: no silent zeros
        workers = min(self.max_workers, len(jobs))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox") as pool:
            futures = {index: pool.submit(self._run, *job) for index, job in jobs.items()}
            for index, future in futures.items():
                rewards[index] = future.result()
        return rewards

    def _run(self, code: str, tests: list[str]) -> float:
        try:
            result = run_python_tests(
                code, tests, limits=self.limits, isolation=self.isolation, python=self.python
            )
        except Exception:
            logger.warning(
                "%s: the sandbox failed to run a completion", self.__name__, exc_info=True
            )
            self._count("sandbox_error")
            return 0.0
        self._count(f"status_{result.status}")
        if self.all_or_nothing:
            return 1.0 if result.passed and all(result.passed) else 0.0
        return result.fraction_passed


code_reward = CodeReward()
"""Ready-made :class:`CodeReward` (fraction of tests passed, name ``"code_reward"``)."""
