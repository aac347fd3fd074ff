"""LLM-as-judge rewards: rubric scores and pairwise verdicts, pluggable backends.

Pick a backend (:class:`CallableBackend`, :class:`OpenAIBackend` for any
OpenAI-compatible server, :class:`TransformersBackend` for a local model), wrap it in
a :class:`Judge` (scale, cache, prompt templates) and hand a :class:`JudgeReward` to
TRL. Failed or unparsable judgements become ``None`` rewards and are counted in
``Judge.stats_``.
"""

from taskorder.rewards.judge.backends import (
    CallableBackend,
    JudgeBackendError,
    OpenAIBackend,
    TransformersBackend,
)
from taskorder.rewards.judge.cache import JudgementCache, cache_key
from taskorder.rewards.judge.core import Judge, JudgeReward, parse_score, parse_verdict

__all__ = [
    "CallableBackend",
    "Judge",
    "JudgeBackendError",
    "JudgeReward",
    "JudgementCache",
    "OpenAIBackend",
    "TransformersBackend",
    "cache_key",
    "parse_score",
    "parse_verdict",
]
