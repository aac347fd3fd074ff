"""Configuration of the built-in learner: one validated pydantic model."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from taskorder.exceptions import InvalidParameterError

__all__ = ["LEARNER_VERSION", "LearnerConfig", "make_config"]

#: Bumped whenever a change to the learner's maths changes results for the same
#: config; part of :meth:`LearnerConfig.config_hash`, so probe caches go stale.
LEARNER_VERSION = "1"


class LearnerConfig(BaseModel):
    """Everything that defines a built-in learner: its tasks, policy and training rule.

    Two seeds play different roles: ``seed`` here fixes the synthetic *world*
    (prompt features, answer keys, the pretrained policy's preferences); the
    ``seed`` passed to ``initial_state``/``train``/``evaluate`` fixes a run.

    Examples
    --------
    >>> config = LearnerConfig(n_structured=1, n_open=1)
    >>> config.mode, config.stage_steps, config.group_size
    ('exact', 40, 8)
    >>> LearnerConfig(n_structured=0, n_open=0)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for LearnerConfig
    ...
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_structured: int = Field(2, ge=0, le=16, description="Structured tasks (one right answer).")
    n_open: int = Field(2, ge=0, le=16, description="Open-ended tasks (many acceptable answers).")
    mode: Literal["exact", "sampled"] = Field(
        "exact",
        description="'sampled': group-relative updates from sampled groups (stochastic given "
        "the seed). 'exact': the expectation of that update, no sampling noise.",
    )
    seed: int = Field(0, ge=0, description="Seed of the synthetic world (features, answer keys).")
    n_features: int = Field(8, ge=2, le=256, description="Prompt feature dimension.")
    n_answers: int = Field(8, ge=3, le=256, description="Size of the shared answer vocabulary.")
    answers_per_task: int = Field(
        6,
        ge=2,
        description="Answers a task draws its keys from (a seeded subset of the vocabulary).",
    )
    open_acceptable: int = Field(
        4, ge=2, description="Acceptable answers per prompt of an open-ended task."
    )
    n_topics: int = Field(
        3,
        ge=1,
        le=64,
        description="Latent topics mixed into task prompts; shared topics couple tasks.",
    )
    prompt_noise: float = Field(
        0.8, ge=0.0, le=10.0, description="Per-prompt feature noise around the task's topic mix."
    )
    key_overlap: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Share of every task's answer key that comes from one common key (0: "
        "unrelated keys, 1: one key for all).",
    )
    family_overlap: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Share of the rest of a task's key that it shares with the tasks of its kind.",
    )
    n_train_prompts: int = Field(64, ge=1, le=100_000, description="Training prompts per task.")
    n_test_prompts: int = Field(64, ge=1, le=100_000, description="Held-out prompts per task.")
    pretrained_entropy: float = Field(
        0.5, gt=0.0, description="Mean policy entropy (nats) of the pretrained state."
    )
    init_noise: float = Field(
        0.1, ge=0.0, le=10.0, description="Run-seeded perturbation of the pretrained weights."
    )
    group_size: int = Field(8, ge=2, le=64, description="Answers sampled per prompt (G).")
    batch_size: int = Field(16, ge=1, le=100_000, description="Prompts per step (sampled mode).")
    learning_rate: float = Field(20.0, gt=0.0, le=1000.0, description="Plain SGD step size.")
    stage_steps: int = Field(40, ge=1, le=1_000_000, description="Default steps of one stage.")
    scale_advantage: bool = Field(
        False, description="Divide advantages by the group's std (sampled mode only)."
    )
    eval_groups: int | None = Field(
        None,
        ge=0,
        le=10_000,
        description="Sampled groups per held-out prompt when evaluating; 0 = exact expected "
        "reward; None = 0 in exact mode, 4 in sampled mode.",
    )

    @model_validator(mode="after")
    def _check_cross_fields(self) -> LearnerConfig:
        if self.n_structured + self.n_open < 1:
            raise ValueError("n_structured + n_open must be at least 1; raise either of them.")
        if self.answers_per_task > self.n_answers:
            raise ValueError(
                f"answers_per_task ({self.answers_per_task}) must not exceed n_answers "
                f"({self.n_answers}); lower answers_per_task or raise n_answers."
            )
        if self.open_acceptable >= self.answers_per_task:
            raise ValueError(
                f"open_acceptable ({self.open_acceptable}) must be below answers_per_task "
                f"({self.answers_per_task}) so that open tasks also have wrong answers."
            )
        if self.pretrained_entropy >= math.log(self.n_answers):
            raise ValueError(
                f"pretrained_entropy ({self.pretrained_entropy}) must be below log(n_answers) = "
                f"{math.log(self.n_answers):.3f}, the entropy of a uniform policy."
            )
        if self.mode == "exact" and self.scale_advantage:
            raise ValueError(
                "scale_advantage=True has no closed-form expectation; use mode='sampled' "
                "or set scale_advantage=False."
            )
        return self

    @property
    def resolved_eval_groups(self) -> int:
        """``eval_groups`` with ``None`` resolved for the mode (0 = exact evaluation)."""
        if self.eval_groups is not None:
            return self.eval_groups
        return 0 if self.mode == "exact" else 4

    @property
    def task_names(self) -> tuple[str, ...]:
        """Task names: ``structured_0, ..., open_0, ...``."""
        return tuple(f"structured_{i}" for i in range(self.n_structured)) + tuple(
            f"open_{i}" for i in range(self.n_open)
        )

    def config_hash(self) -> str:
        """Stable 16-hex-digit hash of every field and :data:`LEARNER_VERSION`.

        Examples
        --------
        >>> LearnerConfig().config_hash() == LearnerConfig().config_hash()
        True
        >>> LearnerConfig().config_hash() == LearnerConfig(seed=1).config_hash()
        False
        """
        payload = {"learner_version": LEARNER_VERSION, **self.model_dump(mode="json")}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_config(**fields: Any) -> LearnerConfig:
    """Build a :class:`LearnerConfig`, raising :class:`InvalidParameterError` on bad fields.

    Examples
    --------
    >>> make_config(n_open=1).n_open
    1
    >>> make_config(group_size=1)
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Invalid learner configuration: 'group_size': Input should be greater than or equal to 2 (got 1).
    """
    try:
        return LearnerConfig(**fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])!r}: {item['msg']} (got {item['input']!r})"
            if item["loc"]
            else item["msg"].removeprefix("Value error, ")
            for item in error.errors()
        )
        raise InvalidParameterError(f"Invalid learner configuration: {problems}.") from error
