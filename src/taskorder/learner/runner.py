"""The built-in learner as a :class:`~taskorder.runner.Runner`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np

from taskorder.checks import check_choice, check_int
from taskorder.exceptions import InvalidParameterError
from taskorder.learner import policy
from taskorder.learner.config import LearnerConfig, make_config
from taskorder.learner.training import run_stage
from taskorder.learner.world import Task, World, build_world
from taskorder.runner import Evaluation, TaskSpec

__all__ = ["BuiltinRunner", "LearnerState", "make_learner"]

_INIT_STREAM, _TRAIN_STREAM, _EVAL_STREAM = 7201, 7202, 7203


@dataclass(frozen=True, eq=False)
class LearnerState:
    """Parameters of the built-in policy plus a count of what it was trained on.

    Attributes
    ----------
    weights : ndarray, shape (n_features, n_answers)
        ``W`` in ``logits = x @ W + bias``.
    bias : ndarray, shape (n_answers,)
        ``bias`` in the same.
    prompts_seen : ndarray, shape (n_tasks,)
        Training prompts drawn from each task so far (expected counts in exact mode).
    steps : int
        Training steps taken so far.

    Two states are equal when every array is bit-identical.
    """

    weights: np.ndarray
    bias: np.ndarray
    prompts_seen: np.ndarray
    steps: int = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LearnerState):
            return NotImplemented
        return self.steps == other.steps and all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)
            if f.name != "steps"
        )

    __hash__ = None  # type: ignore[assignment]


class BuiltinRunner:
    """A small numpy RL learner implementing the runner protocol.

    See :mod:`taskorder.learner` for the design. The constructor only stores the
    config; the synthetic world is built on first use.

    Parameters
    ----------
    config : LearnerConfig
        Tasks, policy and training rule.

    Examples
    --------
    >>> runner = BuiltinRunner(LearnerConfig(n_structured=1, n_open=1))
    >>> runner.tasks
    ('structured_0', 'open_0')
    >>> base = runner.initial_state(seed=0)
    >>> after = runner.train(base, "structured_0", steps=20, seed=0)
    >>> (runner.evaluate(after, "structured_0", seed=0).score
    ...  > runner.evaluate(base, "structured_0", seed=0).score)
    True
    """

    def __init__(self, config: LearnerConfig) -> None:
        self.config = config

    # ----------------------------------------------------------------- basics
    @cached_property
    def world_(self) -> World:
        """The synthetic tasks (built from ``config.seed`` on first access)."""
        if not isinstance(self.config, LearnerConfig):
            raise InvalidParameterError(
                "The 'config' parameter of BuiltinRunner must be a LearnerConfig. "
                f"Got {type(self.config).__name__}."
            )
        return build_world(self.config)

    @property
    def tasks(self) -> tuple[str, ...]:
        """Task names, structured first."""
        return self.config.task_names

    def config_hash(self) -> str:
        """Stable hash of the config and learner version (see :meth:`LearnerConfig.config_hash`)."""
        return self.config.config_hash()

    def _task(self, task: Any, where: str) -> Task:
        return self.world_.task(check_choice(task, self.tasks, "task", where))

    def _check_state(self, state: Any, where: str) -> LearnerState:
        shape = (self.config.n_features, self.config.n_answers)
        if not isinstance(state, LearnerState) or state.weights.shape != shape:
            raise InvalidParameterError(
                f"The 'state' parameter of {where} must be a LearnerState with weights of shape "
                f"{shape}. Got {type(state).__name__}"
                + (
                    f" with shape {state.weights.shape}."
                    if isinstance(state, LearnerState)
                    else "."
                )
            )
        return state

    @staticmethod
    def _check_seed(seed: Any, where: str) -> int:
        """``seed`` as an int >= 0 (learner.online checks its seeds with this too)."""
        return check_int(seed, "seed", where, minimum=0)

    @staticmethod
    def _probs(weights: np.ndarray, bias: np.ndarray, features: np.ndarray) -> np.ndarray:
        return policy.softmax(features @ weights + bias)

    # ---------------------------------------------------------- initial state
    def initial_state(self, seed: int) -> LearnerState:
        """The pretrained, peaked policy: mean entropy ``config.pretrained_entropy`` nats.

        Its weights point along the world's pretrained key (perturbed by
        ``config.init_noise`` using ``seed``), scaled by bisection so that the mean
        entropy over every task's prompts equals the target.
        """
        seed = self._check_seed(seed, "initial_state")
        rng = np.random.default_rng([self.config.seed, seed, _INIT_STREAM])
        tasks = self.world_.tasks
        features = np.concatenate(
            [np.concatenate([t.train_features, t.test_features]) for t in tasks]
        )
        defaults = np.concatenate(
            [np.concatenate([t.train_default, t.test_default]) for t in tasks]
        )
        n_answers = self.config.n_answers
        # Supervised warm-up in closed form: least-squares logits towards "default answer
        # first, the rest 1/n_answers as likely", then one global scale for the entropy.
        targets = np.zeros((len(features), n_answers))
        targets[np.arange(len(features)), defaults] = np.log(n_answers)
        design = np.hstack([features, np.ones((len(features), 1))])
        direction = np.linalg.lstsq(design, targets, rcond=None)[0]
        direction += self.config.init_noise * direction.std() * rng.normal(size=direction.shape)
        logits = design @ direction

        def mean_entropy(scale: float) -> float:
            return float(policy.entropy(policy.softmax(scale * logits)).mean())

        low, high = 0.0, 1.0
        while mean_entropy(high) > self.config.pretrained_entropy and high < 1e6:
            high *= 2.0
        for _ in range(60):
            middle = 0.5 * (low + high)
            if mean_entropy(middle) > self.config.pretrained_entropy:
                low = middle
            else:
                high = middle
        return LearnerState(
            weights=high * direction[:-1],
            bias=high * direction[-1],
            prompts_seen=np.zeros(len(self.tasks)),
        )

    # ---------------------------------------------------------------- training
    def _proportions(self, task: TaskSpec) -> tuple[list[Task], np.ndarray]:
        if isinstance(task, str):
            return [self._task(task, "train")], np.ones(1)
        if not isinstance(task, Mapping) or not task:
            raise InvalidParameterError(
                "The 'task' parameter of train must be a task name or a non-empty mapping "
                f"{{task name: proportion}}. Got {task!r}."
            )
        weights = np.array([float(value) for value in task.values()])
        if not np.all(np.isfinite(weights)) or np.any(weights <= 0):
            raise InvalidParameterError(
                "The proportions in the 'task' mapping of train must be positive finite numbers "
                f"(they are normalised to sum to 1). Got {dict(task)!r}."
            )
        return [self._task(name, "train") for name in task], weights / weights.sum()

    def train(
        self, state: LearnerState, task: TaskSpec, *, steps: int | None = None, seed: int
    ) -> LearnerState:
        """Train ``state`` on ``task`` for one stage of ``steps`` steps (default ``config.stage_steps``).

        One call is one stage, as one ``GRPOTrainer`` is on the TRL path: with
        ``update="grpo"`` the KL reference is ``state`` and Adam starts afresh
        (see :mod:`taskorder.learner.training`).

        Parameters
        ----------
        state : LearnerState
            Starting point; not modified.
        task : str or mapping of str to float
            A task name, or ``{task: proportion}`` for a mixed stage: every prompt of
            every batch is drawn from task ``t`` with probability ``proportion[t]``
            (normalised). In exact mode the batch is its expectation: every training
            prompt of every task, weighted by proportion.
        steps : int, optional
            Number of steps (generation batches); ``config.stage_steps`` if omitted.
        seed : int
            Seed of the sampling (ignored by exact mode, which has none).

        Returns
        -------
        LearnerState
            The new state, with ``prompts_seen`` and ``steps`` updated.
        """
        state = self._check_state(state, "train")
        seed = self._check_seed(seed, "train")
        steps = self.config.stage_steps if steps is None else steps
        steps = check_int(steps, "steps", "train", minimum=0)
        tasks, proportions = self._proportions(task)
        index = np.array([self.tasks.index(t.name) for t in tasks])
        rng = np.random.default_rng([seed, _TRAIN_STREAM])
        weights, bias, drawn = run_stage(
            self.config, state.weights, state.bias, tasks, proportions, int(steps), rng
        )
        seen = state.prompts_seen.copy()
        seen[index] += drawn
        return LearnerState(weights, bias, seen, state.steps + int(steps))

    # -------------------------------------------------------------- evaluation
    def evaluate(self, state: LearnerState, task: str, *, seed: int) -> Evaluation:
        """Score and entropy of ``state`` on ``task``'s held-out prompts.

        The entropy is always exact (mean over prompts of the policy's entropy).
        The score is the exact expected reward when ``config.resolved_eval_groups``
        is 0 (the default in exact mode); otherwise the mean reward of that many
        sampled groups per prompt, with its standard error (default in sampled mode).

        Parameters
        ----------
        state : LearnerState
            The state to evaluate.
        task : str
            One of :attr:`tasks`.
        seed : int
            Seed of the evaluation sampling (unused when the score is exact).

        Returns
        -------
        Evaluation
            ``score``, ``entropy``, ``score_stderr`` (0 when exact) and ``n_samples``.
        """
        state = self._check_state(state, "evaluate")
        seed = self._check_seed(seed, "evaluate")
        spec = self._task(task, "evaluate")
        probs = self._probs(state.weights, state.bias, spec.test_features)
        entropy = float(policy.entropy(probs).mean())
        n_groups, group = self.config.resolved_eval_groups, self.config.group_size
        if n_groups == 0:
            score = policy.expected_reward(probs, spec.test_accept, spec.kind, group)
            return Evaluation(float(score.mean()), entropy, 0.0, 0)
        rng = np.random.default_rng([seed, _EVAL_STREAM, self.tasks.index(task)])
        repeated = np.repeat(probs, n_groups, axis=0)
        answers = policy.sample_answers(repeated, group, rng)
        accept = np.repeat(spec.test_accept, n_groups, axis=0)
        group_means = policy.group_rewards(answers, accept, spec.kind).mean(axis=1)
        group_means = group_means.reshape(len(probs), n_groups)
        n_prompts = len(probs)
        if n_groups > 1:
            variance = group_means.var(axis=1, ddof=1) / n_groups
            stderr = float(np.sqrt(variance.sum()) / n_prompts)
        else:
            stderr = float(group_means.std(ddof=1) / np.sqrt(n_prompts)) if n_prompts > 1 else 0.0
        return Evaluation(float(group_means.mean()), entropy, stderr, int(answers.size))

    # ----------------------------------------------------------------- storage
    def save(self, state: LearnerState, path: str | os.PathLike[str]) -> None:
        """Write ``state`` to ``path`` as an ``.npz`` archive (the name is kept as given)."""
        state = self._check_state(state, "save")
        with open(path, "wb") as handle:
            np.savez(
                handle,
                weights=state.weights,
                bias=state.bias,
                prompts_seen=state.prompts_seen,
                steps=np.array(state.steps),
                config_hash=np.array(self.config_hash()),
            )

    def load(self, path: str | os.PathLike[str]) -> LearnerState:
        """Read a state written by :meth:`save` with the same configuration."""
        with np.load(path, allow_pickle=False) as archive:
            saved_hash = str(archive["config_hash"])
            if saved_hash != self.config_hash():
                raise InvalidParameterError(
                    f"The 'path' parameter of load must name a state saved by a runner with "
                    f"config hash {self.config_hash()}. Got one saved with {saved_hash}."
                )
            return LearnerState(
                weights=archive["weights"],
                bias=archive["bias"],
                prompts_seen=archive["prompts_seen"],
                steps=int(archive["steps"]),
            )

    def __repr__(self) -> str:
        return f"BuiltinRunner({self.config!r})"


def make_learner(
    n_structured: int = 2, n_open: int = 2, *, seed: int = 0, mode: str = "exact", **options: Any
) -> BuiltinRunner:
    """Build a :class:`BuiltinRunner`; every :class:`LearnerConfig` field is accepted.

    Parameters
    ----------
    n_structured : int, default 2
        Structured tasks (one right answer per prompt).
    n_open : int, default 2
        Open-ended tasks (several acceptable answers per prompt).
    seed : int, default 0
        Seed of the synthetic world (not of a run).
    mode : {"exact", "sampled"}, default "exact"
        Expected updates without sampling noise, or updates from sampled groups.
    **options
        Any other :class:`LearnerConfig` field.

    Returns
    -------
    BuiltinRunner

    Raises
    ------
    InvalidParameterError
        If a field is unknown or out of range (the message names it).

    Examples
    --------
    >>> runner = make_learner(n_structured=1, n_open=2, mode="sampled")
    >>> runner.tasks
    ('structured_0', 'open_0', 'open_1')
    >>> make_learner(mode="fast")
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Invalid LearnerConfig: mode: Input should be 'exact' or 'sampled' (got 'fast').
    """
    config = make_config(n_structured=n_structured, n_open=n_open, seed=seed, mode=mode, **options)
    return BuiltinRunner(config)
