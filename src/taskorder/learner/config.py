"""Configuration of the built-in learner: one strict settings model.

:class:`LearnerConfig` is a :class:`~taskorder.config_file.StrictModel` like every
other taskorder settings model: unknown fields are errors, values are frozen, and a
bad value raises one :class:`~taskorder.exceptions.InvalidParameterError` naming the
model, the field, what was expected and what was given. In a probe config its fields
are the ``[runner.learner]`` table.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Literal

from pydantic import Field, model_validator

from taskorder.config_file import StrictModel

__all__ = ["LEARNER_VERSION", "LearnerConfig", "make_config"]

#: Bumped whenever a change to the learner's maths changes results for the same
#: config; part of :meth:`LearnerConfig.config_hash`, so probe caches go stale.
LEARNER_VERSION = "2"

#: Default step size of each update rule (``learning_rate=None``).
DEFAULT_LEARNING_RATE = {"grpo": 0.05, "sgd": 20.0}

#: Largest number of count vectors per prompt that exact GRPO enumerates.
MAX_EXACT_CONFIGURATIONS = 20_000


class LearnerConfig(StrictModel):
    """Everything that defines a built-in learner: its tasks, policy and training rule.

    Two seeds play different roles: ``seed`` here fixes the synthetic *world*
    (prompt features, answer keys, the pretrained policy's preferences); the
    ``seed`` passed to ``initial_state``/``train``/``evaluate`` fixes a run.

    Examples
    --------
    >>> config = LearnerConfig(n_structured=1, n_open=1)
    >>> config.mode, config.update, config.stage_steps, config.group_size
    ('exact', 'grpo', 40, 8)
    >>> config.resolved_learning_rate, config.resolved_scale_advantage
    (0.05, True)
    >>> LearnerConfig(n_structured=0, n_open=0)
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Invalid LearnerConfig: n_structured + n_open must be at least 1; raise either of them (got 0 + 0).
    """

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
    update: Literal["grpo", "sgd"] = Field(
        "grpo",
        description="'grpo': the TRL-like update (group-normalised advantages, clipped "
        "ratio objective, KL to the stage-start policy, Adam reset every stage). 'sgd': the "
        "learner of LEARNER_VERSION 1 (policy gradient, plain SGD), kept to reproduce old results.",
    )
    learning_rate: float | None = Field(
        None,
        gt=0.0,
        le=1000.0,
        description=f"Step size; None = {DEFAULT_LEARNING_RATE['grpo']} (Adam) for update='grpo', "
        f"{DEFAULT_LEARNING_RATE['sgd']} (plain SGD) for update='sgd'.",
    )
    stage_steps: int = Field(
        40,
        ge=1,
        le=1_000_000,
        description="Default steps of one stage; a step is one generation batch (followed by "
        "inner_steps optimiser updates with update='grpo').",
    )
    inner_steps: int = Field(
        2,
        ge=1,
        le=64,
        description="Optimiser updates per generation batch (TRL's num_iterations; grpo only).",
    )
    clip_epsilon: float = Field(
        0.2, gt=0.0, lt=1.0, description="Clip range of the policy ratio (grpo only)."
    )
    kl_beta: float = Field(
        0.04, ge=0.0, le=100.0, description="KL penalty to the stage-start policy (grpo only)."
    )
    scale_advantage: bool | None = Field(
        None,
        description="Divide advantages by the group's reward std; None = True for "
        "update='grpo', False for update='sgd' (sgd supports it in sampled mode only).",
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
            raise ValueError(
                "n_structured + n_open must be at least 1; raise either of them "
                f"(got {self.n_structured} + {self.n_open})"
            )
        if self.answers_per_task > self.n_answers:
            raise ValueError(
                f"answers_per_task ({self.answers_per_task}) must not exceed n_answers "
                f"({self.n_answers}); lower answers_per_task or raise n_answers"
            )
        if self.open_acceptable >= self.answers_per_task:
            raise ValueError(
                f"open_acceptable ({self.open_acceptable}) must be below answers_per_task "
                f"({self.answers_per_task}) so that open tasks also have wrong answers"
            )
        if self.pretrained_entropy >= math.log(self.n_answers):
            raise ValueError(
                f"pretrained_entropy ({self.pretrained_entropy}) must be below log(n_answers) = "
                f"{math.log(self.n_answers):.3f}, the entropy of a uniform policy"
            )
        if self.update == "sgd" and self.mode == "exact" and self.scale_advantage:
            raise ValueError(
                "scale_advantage=True has no closed-form expectation with update='sgd' and "
                "mode='exact'; use "
                "mode='sampled', update='grpo' or scale_advantage=False"
            )
        if self.update == "grpo" and self.mode == "exact":
            n_accept = self.open_acceptable if self.n_open else 1
            n_configs = math.comb(self.group_size - 1 + n_accept, n_accept)
            if n_configs > MAX_EXACT_CONFIGURATIONS:
                raise ValueError(
                    f"Exact GRPO enumerates {n_configs} group configurations per prompt for "
                    f"group_size={self.group_size} and open_acceptable={n_accept}, above "
                    f"{MAX_EXACT_CONFIGURATIONS}; lower group_size or open_acceptable, or use "
                    "mode='sampled'"
                )
        return self

    @property
    def resolved_learning_rate(self) -> float:
        """``learning_rate`` with ``None`` resolved for the update rule."""
        if self.learning_rate is not None:
            return self.learning_rate
        return DEFAULT_LEARNING_RATE[self.update]

    @property
    def resolved_scale_advantage(self) -> bool:
        """``scale_advantage`` with ``None`` resolved for the update rule."""
        if self.scale_advantage is not None:
            return self.scale_advantage
        return self.update == "grpo"

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
    """A :class:`LearnerConfig` from keyword fields (the same as ``LearnerConfig(**fields)``).

    Raises
    ------
    InvalidParameterError
        One error naming every bad field, what it expects and what it got (unknown
        fields included), as for every :class:`~taskorder.config_file.StrictModel`.

    Examples
    --------
    >>> make_config(n_open=1).n_open
    1
    >>> make_config(group_size=1, mode="fast")
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Invalid LearnerConfig: mode: Input should be 'exact' or 'sampled' (got 'fast'); group_size: Input should be greater than or equal to 2 (got 1).
    """
    return LearnerConfig(**fields)
