"""Reward functions for multi-task GRPO with TRL, routed by a ``task`` column.

Every reward here is a TRL custom reward function: call it as
``f(prompts=..., completions=..., **columns)`` with one list element per
completion (plain strings or conversational message lists); it returns one float
per completion, or ``None`` where it does not apply (TRL then ignores it for that
row). Pass them to ``GRPOTrainer(reward_funcs=[...])`` directly, or combine them
with :func:`task_router`.

Which reward to pick
--------------------
=====================  ==================  ================================================
Reward                 Columns read        Scores
=====================  ==================  ================================================
:data:`math_reward`    ``answer``          final answer numerically/symbolically equal (0/1)
:data:`choice_reward`  ``options``,        the one option picked is the correct one (0/1,
                       ``answer``          or chance-corrected); build prompts with
                                           :func:`make_choice_prompt`
:data:`code_reward`    ``tests``           fraction of tests passed in a sandbox
:data:`format_reward`  (none)              whole completion matches a layout regex (0/1)
:class:`JudgeReward`   ``rubric`` or       an LLM judge's rubric score in [0, 1], or win/
                       ``reference``       tie/lose (1/0.5/0) against a reference
=====================  ==================  ================================================

The ready-made instances use default settings; build your own with
:class:`MathReward`, :class:`ChoiceReward`, :class:`CodeReward`,
:class:`FormatReward` to change them. Heavy dependencies (math-verify, sympy,
torch, transformers) are imported only when a reward first needs them.

Examples
--------
>>> from taskorder.rewards import task_router, math_reward, choice_reward, format_reward
>>> reward = task_router({"math": math_reward, "choice": choice_reward})
>>> reward(completions=["\\\\boxed{12}", "A"], task=["math", "choice"],
...        answer=["12", "B"], options=[None, ["red", "blue"]])
[1.0, 0.0]
"""

from taskorder.rewards._common import (
    RewardFunction,
    completion_text,
    extract_boxed,
    extract_tag,
    prompt_text,
)
from taskorder.rewards._equivalence import answers_match, equivalence_backend
from taskorder.rewards.choice import (
    ChoicePrompt,
    ChoiceReward,
    choice_reward,
    make_choice_prompt,
    parse_choice,
)
from taskorder.rewards.code_reward import CodeReward, code_reward, extract_code
from taskorder.rewards.format_reward import THINK_ANSWER_PATTERN, FormatReward, format_reward
from taskorder.rewards.judge import (
    CallableBackend,
    Judge,
    JudgeBackendError,
    JudgementCache,
    JudgeReward,
    OpenAIBackend,
    TransformersBackend,
)
from taskorder.rewards.math_reward import MathReward, extract_final_answer, math_reward
from taskorder.rewards.router import task_router
from taskorder.rewards.sandbox import (
    IsolationReport,
    SandboxLimits,
    SandboxResult,
    SandboxUnavailableError,
    probe_isolation,
    require_safe_isolation,
    run_python_tests,
)

__all__ = [
    "THINK_ANSWER_PATTERN",
    "CallableBackend",
    "ChoicePrompt",
    "ChoiceReward",
    "CodeReward",
    "FormatReward",
    "IsolationReport",
    "Judge",
    "JudgeBackendError",
    "JudgeReward",
    "JudgementCache",
    "MathReward",
    "OpenAIBackend",
    "RewardFunction",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailableError",
    "TransformersBackend",
    "answers_match",
    "choice_reward",
    "code_reward",
    "completion_text",
    "equivalence_backend",
    "extract_boxed",
    "extract_code",
    "extract_final_answer",
    "extract_tag",
    "format_reward",
    "make_choice_prompt",
    "math_reward",
    "parse_choice",
    "probe_isolation",
    "prompt_text",
    "require_safe_isolation",
    "run_python_tests",
    "task_router",
]
