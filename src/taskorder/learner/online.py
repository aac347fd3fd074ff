"""Online stages of the built-in learner: an online policy picks every batch's mixture.

An online stage is one GRPO stage (one KL reference, one Adam state, as
:meth:`BuiltinRunner.train <taskorder.learner.runner.BuiltinRunner.train>`) over the
policy's tasks, except that before every generation batch the mixture is
``policy.weights()``, and after it the policy reads the learner's own signals for that
batch (:class:`~taskorder.online.policies.TaskSignal`), per task:

- ``mean_abs_advantage``: mean ``|A|`` of the task's completions; in exact mode its
  exact expectation over the groups, ``sum_a pi_old(a) E[|A_1| | a_1 = a]``;
- ``mean_reward``: mean reward of those completions (exact mode: expected reward);
- ``groups``: prompts of the task in the batch (exact mode: the expected count, at
  least 1, since every prompt is in the expected batch);
- ``gradient`` (only for a policy with ``needs_gradients``, i.e. TAC): the task's part
  of the batch's first policy gradient, flattened. The batch's gradient is the sum of
  these parts, so the update itself is unchanged; the extra cost is keeping them apart
  and the cosines (``OnlineStage.alignment_s`` times it).

Every decision is logged (:class:`~taskorder.online.policies.Decision`: weights, drawn
counts, signals). ``stop_after`` ends the stage early with an
:class:`OnlineCheckpoint` (parameters, reference, Adam moments, the sampling stream,
the policy's state, the log); :func:`resume_online` continues it, and the result is
bit-identical to the uninterrupted stage.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.learner import policy as softmax_policy
from taskorder.learner.runner import _TRAIN_STREAM, BuiltinRunner, LearnerState
from taskorder.learner.training import Adam, _generation, _inner_updates, _objective_gradient
from taskorder.online.policies import Decision, TaskSignal

__all__ = ["OnlineCheckpoint", "OnlineStage", "resume_online", "train_online"]


@dataclass(frozen=True, eq=False)
class OnlineCheckpoint:
    """Everything needed to continue an online stage exactly.

    Attributes
    ----------
    state : LearnerState
        Parameters after ``batch`` batches (``steps`` and ``prompts_seen`` included).
    reference : tuple of ndarray
        The stage-start ``(weights, bias)`` (KL reference).
    adam : dict
        ``first``/``second`` moments (lists of arrays) and ``count``.
    rng : dict
        State of the stage's sampling stream.
    policy : dict
        ``policy.state_dict()`` at the checkpoint.
    batch, steps, seed : int
        Batches done, batches of the whole stage, the stage's seed.
    tasks : tuple of str
        The stage's tasks (the policy's).
    decisions : tuple of Decision
        The log so far.
    """

    state: LearnerState
    reference: tuple[np.ndarray, np.ndarray]
    adam: dict[str, Any]
    rng: dict[str, Any]
    policy: dict[str, Any]
    batch: int
    steps: int
    seed: int
    tasks: tuple[str, ...]
    decisions: tuple[Decision, ...]

    def save(self, runner: BuiltinRunner, path: str | os.PathLike[str]) -> None:
        """Write to ``path`` (``.npz``: arrays, plus the rest as one JSON string)."""
        meta = {
            "config_hash": runner.config_hash(),
            "steps_done": self.state.steps,
            "adam_count": self.adam["count"],
            "rng": self.rng,
            "policy": self.policy,
            "batch": self.batch,
            "steps": self.steps,
            "seed": self.seed,
            "tasks": list(self.tasks),
            "decisions": [d.to_dict() for d in self.decisions],
        }
        arrays = {
            "weights": self.state.weights,
            "bias": self.state.bias,
            "prompts_seen": self.state.prompts_seen,
            "ref_weights": self.reference[0],
            "ref_bias": self.reference[1],
            "first_w": self.adam["first"][0],
            "first_b": self.adam["first"][1],
            "second_w": self.adam["second"][0],
            "second_b": self.adam["second"][1],
        }
        with open(path, "wb") as handle:
            np.savez(handle, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, runner: BuiltinRunner, path: str | os.PathLike[str]) -> OnlineCheckpoint:
        """Read a checkpoint written by :meth:`save` for a runner of the same configuration."""
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            if meta["config_hash"] != runner.config_hash():
                raise InvalidParameterError(
                    "The 'path' parameter of OnlineCheckpoint.load must name a checkpoint of a "
                    f"runner with config hash {runner.config_hash()}. Got {meta['config_hash']}."
                )
            a = {key: archive[key] for key in archive.files if key != "meta"}
        state = LearnerState(a["weights"], a["bias"], a["prompts_seen"], int(meta["steps_done"]))
        adam = {
            "first": [a["first_w"], a["first_b"]],
            "second": [a["second_w"], a["second_b"]],
            "count": int(meta["adam_count"]),
        }
        decisions = tuple(Decision.from_dict(d) for d in meta["decisions"])
        return cls(
            state, (a["ref_weights"], a["ref_bias"]), adam, meta["rng"], meta["policy"],
            int(meta["batch"]), int(meta["steps"]), int(meta["seed"]), tuple(meta["tasks"]),
            decisions,
        )  # fmt: skip


@dataclass(frozen=True)
class OnlineStage:
    """What :func:`train_online` returns.

    Attributes
    ----------
    state : LearnerState
        The state reached (at the checkpoint, if the stage stopped early).
    decisions : tuple of Decision
        One per batch trained so far (all batches of the stage, across resumes).
    checkpoint : OnlineCheckpoint or None
        Set when ``stop_after`` ended the stage before its last batch.
    elapsed_s : float
        Wall-clock seconds of this call.
    alignment_s : float
        Seconds of this call spent on the policy's own work: ``weights()``,
        ``update()`` (TAC's cosines included) and, for a gradient-reading policy, the
        bookkeeping of the per-task gradients (flattening, attaching). The per-task
        gradients themselves are not counted: they are the terms of the batch's
        gradient, computed either way.
    """

    state: LearnerState
    decisions: tuple[Decision, ...]
    checkpoint: OnlineCheckpoint | None
    elapsed_s: float
    alignment_s: float


def _signals(config, tasks, parts, drawn) -> dict[str, TaskSignal]:
    """Per-task signals of one generation batch (tasks absent from it get ``groups=0``)."""
    out = {task.name: TaskSignal(task.name, 0.0, 0.0, 0) for task in tasks}
    for part in parts:
        task = tasks[part.index]
        if part.answers is None:  # exact: expectations over the groups
            abs_adv = float((part.old_probs * (part.positive + part.negative)).sum(axis=1).mean())
            reward = softmax_policy.expected_reward(
                part.old_probs, task.train_accept, task.kind, config.group_size
            )
            groups = max(1, round(float(drawn[part.index])))
            out[task.name] = TaskSignal(task.name, abs_adv, float(reward.mean()), groups)
        else:
            abs_adv = float(np.abs(part.advantages).mean())
            groups = int(drawn[part.index])
            out[task.name] = TaskSignal(task.name, abs_adv, float(part.rewards.mean()), groups)
    return out


def _first_gradient(config, params, parts, signals, tasks) -> tuple[list[np.ndarray], float]:
    """The batch's first gradient, summed from per-task parts; attach each part to its signal.

    Returns the gradient and the seconds spent on the bookkeeping only (the parts
    themselves are the gradient's own terms).
    """
    total = [np.zeros_like(params[0]), np.zeros_like(params[1])]
    spent = 0.0
    for part in parts:
        grad_w, grad_b = _objective_gradient(config, params, [part])
        total[0] += grad_w
        total[1] += grad_b
        tick = time.perf_counter()
        name = tasks[part.index].name
        old = signals[name]
        flat = np.concatenate([grad_w.ravel(), grad_b.ravel()])
        signals[name] = TaskSignal(name, old.mean_abs_advantage, old.mean_reward, old.groups, flat)
        spent += time.perf_counter() - tick
    return total, spent


def _check_policy(runner: BuiltinRunner, policy: Any, where: str):
    names = getattr(policy, "tasks", None)
    if not hasattr(policy, "weights") or not hasattr(policy, "update") or not names:
        raise InvalidParameterError(
            f"The 'policy' parameter of {where} must be an online policy "
            f"(taskorder.online.make_policy). Got {type(policy).__name__}."
        )
    unknown = [t for t in names if t not in runner.tasks]
    if unknown:
        raise InvalidParameterError(
            f"The 'policy' parameter of {where} must be over tasks of the runner "
            f"{list(runner.tasks)}. Got tasks {unknown} it does not have."
        )
    if runner.config.update != "grpo":
        raise InvalidParameterError(
            f"{where} needs a learner with update='grpo'. Got update={runner.config.update!r}."
        )
    return [runner.world_.task(t) for t in names]


def _run(runner, checkpoint: OnlineCheckpoint, policy, stop_after) -> OnlineStage:
    start = time.perf_counter()
    config = runner.config
    tasks = _check_policy(runner, policy, "train_online")
    if tuple(policy.tasks) != checkpoint.tasks:
        raise InvalidParameterError(
            f"The 'policy' parameter of resume_online must be over the checkpoint's tasks "
            f"{list(checkpoint.tasks)}. Got {list(policy.tasks)}."
        )
    policy.load_state_dict(checkpoint.policy)
    state = checkpoint.state
    params = [state.weights.copy(), state.bias.copy()]
    reference = [checkpoint.reference[0].copy(), checkpoint.reference[1].copy()]
    adam = Adam(params, config.resolved_learning_rate)
    adam.first = [m.copy() for m in checkpoint.adam["first"]]
    adam.second = [m.copy() for m in checkpoint.adam["second"]]
    adam.count = checkpoint.adam["count"]
    rng = np.random.default_rng()
    rng.bit_generator.state = checkpoint.rng
    index = np.array([runner.tasks.index(t.name) for t in tasks])
    seen = state.prompts_seen.copy()
    decisions = list(checkpoint.decisions)
    wants_gradients = bool(getattr(policy, "needs_gradients", False))
    end = checkpoint.steps if stop_after is None else min(checkpoint.steps, stop_after)
    alignment_s = 0.0
    for batch in range(checkpoint.batch, end):
        tick = time.perf_counter()
        weights = policy.weights()
        alignment_s += time.perf_counter() - tick
        proportions = np.array([weights[t.name] for t in tasks])
        parts, drawn = _generation(config, params, reference, tasks, proportions, rng)
        seen[index] += drawn
        signals = _signals(config, tasks, parts, drawn)
        first = None
        if wants_gradients:
            first, spent = _first_gradient(config, params, parts, signals, tasks)
            alignment_s += spent
        _inner_updates(config, params, adam, parts, first)
        tick = time.perf_counter()
        policy.update(signals)
        alignment_s += time.perf_counter() - tick
        counts = {t.name: float(c) for t, c in zip(tasks, drawn)}
        decisions.append(Decision(batch, weights, counts, Decision.log_signals(signals)))
    done = LearnerState(params[0], params[1], seen, state.steps + end - checkpoint.batch)
    stopped = None
    if end < checkpoint.steps:
        stopped = OnlineCheckpoint(
            done,
            (reference[0], reference[1]),
            {"first": adam.first, "second": adam.second, "count": adam.count},
            rng.bit_generator.state,
            policy.state_dict(),
            end,
            checkpoint.steps,
            checkpoint.seed,
            checkpoint.tasks,
            tuple(decisions),
        )
    return OnlineStage(done, tuple(decisions), stopped, time.perf_counter() - start, alignment_s)


def _check_count(name: str, value: Any, where: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InvalidParameterError(
            f"The {name!r} parameter of {where} must be an int >= {low}. Got {value!r}."
        )
    return int(value)


def train_online(
    runner: BuiltinRunner,
    state: LearnerState,
    policy: Any,
    *,
    steps: int | None = None,
    seed: int,
    stop_after: int | None = None,
) -> OnlineStage:
    """Train ``state`` for one online stage of ``steps`` batches, mixtures chosen by ``policy``.

    Parameters
    ----------
    runner : BuiltinRunner
        A learner with ``update="grpo"``.
    state : LearnerState
        Starting point (the stage's KL reference); not modified.
    policy : OnlinePolicy
        Over a subset of ``runner.tasks``; it is updated in place, batch by batch.
    steps : int, optional
        Batches of the stage (default ``runner.config.stage_steps``).
    seed : int
        Seed of the stage's sampling (the same stream as ``runner.train``'s).
    stop_after : int, optional
        Stop after this many batches and return a checkpoint (see :func:`resume_online`).

    Returns
    -------
    OnlineStage

    Examples
    --------
    >>> from taskorder.learner import make_learner
    >>> from taskorder.online import make_policy
    >>> runner = make_learner(n_structured=1, n_open=1, mode="sampled")
    >>> policy = make_policy("sec", runner.tasks, seed=0)
    >>> stage = train_online(runner, runner.initial_state(seed=0), policy, steps=5, seed=0)
    >>> len(stage.decisions), stage.state.steps, int(stage.state.prompts_seen.sum())
    (5, 5, 80)
    >>> sorted(stage.decisions[0].weights.items())
    [('open_0', 0.5), ('structured_0', 0.5)]
    """
    runner._check_state(state, "train_online")
    seed = runner._check_seed(seed, "train_online")
    steps = runner.config.stage_steps if steps is None else steps
    steps = _check_count("steps", steps, "train_online", 0)
    if stop_after is not None:
        stop_after = _check_count("stop_after", stop_after, "train_online", 0)
    _check_policy(runner, policy, "train_online")
    rng = np.random.default_rng([seed, _TRAIN_STREAM])
    params = [state.weights, state.bias]
    start = OnlineCheckpoint(
        state,
        (state.weights.copy(), state.bias.copy()),
        {"first": [np.zeros_like(p) for p in params],
         "second": [np.zeros_like(p) for p in params], "count": 0},
        rng.bit_generator.state,
        policy.state_dict(),
        0,
        steps,
        seed,
        tuple(policy.tasks),
        (),
    )  # fmt: skip
    return _run(runner, start, policy, stop_after)


def resume_online(
    runner: BuiltinRunner,
    checkpoint: OnlineCheckpoint,
    policy: Any,
    *,
    stop_after: int | None = None,
) -> OnlineStage:
    """Continue the stage of ``checkpoint``; ``policy`` is built as the original one was.

    The policy's state is replaced by the checkpoint's, so the continued stage takes
    exactly the decisions and reaches exactly the state of the uninterrupted one.
    ``stop_after`` counts batches from the start of the stage.

    Parameters
    ----------
    runner : BuiltinRunner
        A runner of the configuration the checkpoint was taken with.
    checkpoint : OnlineCheckpoint
        Where the stage stopped (:attr:`OnlineStage.checkpoint`, or :meth:`OnlineCheckpoint.load`).
    policy : OnlinePolicy
        Built with the same arguments as the interrupted stage's policy; its state is replaced.
    stop_after : int, optional
        Stop again after this many batches of the stage (at least ``checkpoint.batch``).

    Returns
    -------
    OnlineStage
    """
    if not isinstance(checkpoint, OnlineCheckpoint):
        raise InvalidParameterError(
            "The 'checkpoint' parameter of resume_online must be an OnlineCheckpoint. "
            f"Got {type(checkpoint).__name__}."
        )
    if stop_after is not None:
        stop_after = _check_count("stop_after", stop_after, "resume_online", checkpoint.batch)
    return _run(runner, checkpoint, policy, stop_after)
