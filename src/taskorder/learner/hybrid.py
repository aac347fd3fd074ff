"""The hybrid schedule on the built-in learner: run a :class:`~taskorder.online.hybrid.HybridPlan`.

The plan (which order, which stages mix which tasks, the refresh stages) is made by
:func:`taskorder.online.hybrid.plan_hybrid` from a measured matrix; this module trains it,
each mixed stage an online stage of :func:`taskorder.learner.online.train_online` whose
policy is an :class:`~taskorder.online.hybrid.AnchoredPolicy`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from taskorder.learner.online import train_online
from taskorder.online.hybrid import AnchoredPolicy, HybridPlan
from taskorder.online.policies import Decision, make_policy

__all__ = ["HybridRun", "run_hybrid", "stage_seed"]

#: Stream label of the hybrid's stage seeds.
_STAGE_STREAM = 7303


@dataclass(frozen=True)
class HybridRun:
    """What :func:`run_hybrid` returns: the final state and each online stage's decisions."""

    state: Any
    decisions: tuple[tuple[Decision, ...], ...]
    alignment_s: float
    elapsed_s: float


def stage_seed(seed: int, k: int) -> int:
    """Seed of stage ``k`` of a hybrid run with root ``seed``."""
    return int(np.random.SeedSequence([seed, _STAGE_STREAM, k]).generate_state(1)[0])


def run_hybrid(runner: Any, state: Any, plan: HybridPlan, *, seed: int) -> HybridRun:
    """Train ``plan`` from ``state`` on the built-in learner, or on any runner with online stages.

    Stage ``k`` is :func:`taskorder.learner.online.train_online` with an
    :class:`AnchoredPolicy` (a single-task stage is plain ``runner.train``); refresh
    stages are plain ``runner.train`` stages. Seeds derive from ``seed`` and the stage.
    A runner with its own ``train_online(state, tasks, policy, *, steps, seed, options)``
    (the TRL runner) trains each mixed stage itself, anchored through the ``anchor``
    option of :func:`taskorder.online.make_policy`; its decisions stay in its own log
    (empty here) and it reports no alignment time.

    Parameters
    ----------
    runner : BuiltinRunner or runner with ``train_online``
        The built-in learner (:func:`taskorder.learner.make_learner`) or a runner that
        trains online stages itself.
    state : LearnerState or the runner's state
        The state to start from.
    plan : HybridPlan
        The stages and refresh stages to run (:func:`taskorder.online.hybrid.plan_hybrid`).
    seed : int
        Root seed; stage ``k`` trains with :func:`stage_seed` ``(seed, k)``.

    Returns
    -------
    HybridRun
        The final state, each stage's decisions (empty for single-task stages), and the
        online stages' summed alignment and elapsed seconds.

    Examples
    --------
    >>> from taskorder.learner import make_learner
    >>> from taskorder.matrix import TransferMatrix
    >>> from taskorder.online.hybrid import plan_hybrid
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> m = TransferMatrix(runner.tasks, [[0, -0.1], [0.0, 0]])
    >>> plan = plan_hybrid(m, stage_steps=4, order=runner.tasks, refresh_share=0.25)
    >>> run = run_hybrid(runner, runner.initial_state(seed=0), plan, seed=0)
    >>> run.state.steps == plan.total_steps, [len(d) for d in run.decisions]
    (True, [0, 3])
    """
    own_online = callable(getattr(runner, "train_online", None))
    decisions, alignment_s, elapsed_s = [], 0.0, 0.0
    for k, (tasks, steps) in enumerate(plan.stages):
        if len(tasks) == 1:
            state = runner.train(state, tasks[0], steps=steps, seed=stage_seed(seed, k))
            decisions.append(())
            continue
        if own_online:  # e.g. the TRL runner: its sampler runs the anchored policy
            started = time.perf_counter()
            options = {**plan.options, "anchor": {"task": tasks[-1], "share": plan.anchor}}
            state = runner.train_online(
                state, list(tasks), plan.policy, steps=steps, seed=stage_seed(seed, k),
                options=options,
            )  # fmt: skip
            decisions.append(())
            elapsed_s += time.perf_counter() - started
            continue
        inner = make_policy(plan.policy, tasks, seed=stage_seed(seed, k), **plan.options)
        stage = train_online(
            runner, state, AnchoredPolicy(inner, tasks[-1], plan.anchor), steps=steps,
            seed=stage_seed(seed, k),
        )  # fmt: skip
        state = stage.state
        decisions.append(stage.decisions)
        alignment_s += stage.alignment_s
        elapsed_s += stage.elapsed_s
    for j, (task, steps) in enumerate(plan.refresh.stages):
        state = runner.train(state, task, steps=steps, seed=stage_seed(seed, len(plan.stages) + j))
    return HybridRun(state, tuple(decisions), alignment_s, elapsed_s)
