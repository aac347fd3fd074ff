"""Training schedules compared at equal total steps: curricula, joint, interleaved, blocks.

Every builder returns a :class:`taskorder.schedule.Schedule` of step-sized stages (the
type the TRL adapter trains from), and spends ``n_tasks * stage_steps`` steps in all,
and gives every task ``stage_steps`` steps' worth of prompts:

``sequential(order)``
    One single-task stage per task, in ``order`` (a curriculum).
``joint(tasks)``
    One mixed stage ``{task: 1/n}`` of ``n * stage_steps`` steps (multi-task training).
``interleaved(tasks)``
    ``rounds`` round-robin passes over the tasks, each stage a single task of
    ``stage_steps / rounds`` steps (the remainder goes to the first rounds).
``blocks(groups)``
    One mixed stage per group of tasks (e.g. structured, then open-ended), each of
    ``len(group) * stage_steps`` steps with equal proportions.

:func:`run_schedule` trains any of them through the runner protocol, and trains an online
stage (``Stage(tasks, steps=..., online="sec")``) with its policy on the built-in learner.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from taskorder.checks import check_int
from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule, Stage

__all__ = ["blocks", "group_by_prefix", "interleaved", "joint", "run_schedule", "sequential"]


def _equal(tasks: Sequence[str]) -> str | dict[str, float]:
    """One task, or equal proportions (a mixed Stage needs shares summing to 1)."""
    if len(tasks) == 1:
        return tasks[0]
    return {task: 1.0 / len(tasks) for task in tasks}


def _check_tasks(tasks: Sequence[str], where: str) -> tuple[str, ...]:
    tasks = tuple(tasks)
    if not tasks or len(set(tasks)) != len(tasks):
        raise InvalidParameterError(
            f"The 'tasks' parameter of {where} must list distinct task names. Got {list(tasks)}."
        )
    return tasks


def sequential(order: Sequence[str], stage_steps: int) -> Schedule:
    """A curriculum: each task once, in ``order``.

    Examples
    --------
    >>> sequential(["a", "b"], 10)
    Schedule([a:10, b:10])
    """
    check_int(stage_steps, "stage_steps", "sequential")
    return Schedule(Stage(task, steps=stage_steps) for task in _check_tasks(order, "sequential"))


def joint(tasks: Sequence[str], stage_steps: int) -> Schedule:
    """Joint multi-task training: one stage, equal proportions, ``n * stage_steps`` steps.

    Examples
    --------
    >>> joint(["a", "b"], 10)[0].mixture, joint(["a", "b"], 10).total_steps
    ({'a': 0.5, 'b': 0.5}, 20)
    """
    check_int(stage_steps, "stage_steps", "joint")
    tasks = _check_tasks(tasks, "joint")
    return Schedule([Stage(_equal(tasks), steps=len(tasks) * stage_steps)])


def interleaved(tasks: Sequence[str], stage_steps: int, *, rounds: int | None = None) -> Schedule:
    """Round-robin single-task stages: ``rounds`` passes (default ``n``) over ``tasks``.

    Parameters
    ----------
    tasks : sequence of str
        The tasks, in the order of every round.
    stage_steps : int
        Steps per task over all rounds.
    rounds : int, optional
        Passes over ``tasks``, in ``[1, stage_steps]`` (default ``len(tasks)``); the steps of
        a task are split as evenly as possible, earlier rounds one longer.

    Examples
    --------
    >>> interleaved(["a", "b"], 3)
    Schedule([a:2, b:2, a:1, b:1])
    """
    check_int(stage_steps, "stage_steps", "interleaved")
    tasks = _check_tasks(tasks, "interleaved")
    rounds = len(tasks) if rounds is None else rounds
    rounds = check_int(rounds, "rounds", "interleaved", maximum=stage_steps)  # <= stage_steps
    base, extra = divmod(stage_steps, rounds)
    return Schedule(
        Stage(task, steps=base + (1 if r < extra else 0)) for r in range(rounds) for task in tasks
    )


def group_by_prefix(
    tasks: Sequence[str], prefixes: Sequence[str] = ("structured", "open")
) -> list[tuple[str, ...]]:
    """Group ``tasks`` by name prefix, in the order of ``prefixes``; empty groups are dropped.

    Raises
    ------
    InvalidParameterError
        If a task matches no prefix.

    Examples
    --------
    >>> group_by_prefix(["open_0", "structured_0", "open_1"])
    [('structured_0',), ('open_0', 'open_1')]
    """
    groups = [tuple(t for t in tasks if t.startswith(prefix)) for prefix in prefixes]
    unmatched = [t for t in tasks if not any(t.startswith(p) for p in prefixes)]
    if unmatched:
        raise InvalidParameterError(
            f"The 'prefixes' parameter of group_by_prefix must cover every task; {unmatched} "
            f"match none of {list(prefixes)}. Pass explicit groups instead."
        )
    return [group for group in groups if group]


def blocks(groups: Sequence[Sequence[str]], stage_steps: int) -> Schedule:
    """One mixed stage per group, in order (e.g. structured block, then open-ended block).

    Examples
    --------
    >>> blocks([["s0", "s1"], ["o0"]], 10)
    Schedule([mix(s0+s1):20, o0:10])
    """
    check_int(stage_steps, "stage_steps", "blocks")
    flat = _check_tasks([t for group in groups for t in group], "blocks")
    if not all(groups):
        raise InvalidParameterError(
            f"The 'groups' parameter of blocks has an empty group: {groups}."
        )
    del flat
    return Schedule(Stage(_equal(group), steps=len(group) * stage_steps) for group in groups)


def run_schedule(
    runner: Any,
    state: Any,
    schedule: Schedule,
    *,
    seed_of: Callable[[int], int],
    on_stage: Callable[[int, Any], None] | None = None,
) -> Any:
    """Train ``state`` through ``schedule``; stage ``k`` uses seed ``seed_of(k)``.

    An online stage (``Stage(..., online="sec")``) runs as
    :func:`taskorder.learner.online.train_online` with that policy (default options,
    seeded with ``seed_of(k)``) on the built-in learner (``update="grpo"``), or through
    the runner's own ``train_online(state, tasks, policy, *, steps, seed)`` (the TRL
    runner has one); other runners are refused. ``on_stage(k, state)`` is called after
    each stage (e.g. to record evaluations).

    Parameters
    ----------
    runner : Runner
        Trains the stages (``train``; ``train_online`` for online stages).
    state : state
        The state to start from.
    schedule : Schedule
        Stages given in steps (resolve stages given in passes first).
    seed_of : callable
        ``seed_of(k)``: the seed of stage ``k``.
    on_stage : callable, optional
        Called as ``on_stage(k, state)`` after each stage.

    Returns
    -------
    state
        The state after the last stage.

    Raises
    ------
    InvalidParameterError
        A stage given in passes, or an online stage on a runner without online stages.

    Examples
    --------
    >>> from taskorder.learner import make_learner
    >>> from taskorder.schedule import Schedule, Stage
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> schedule = Schedule([Stage("open_0", steps=2), Stage(list(runner.tasks), steps=3,
    ...                                                       online="sec")])
    >>> run_schedule(runner, runner.initial_state(0), schedule, seed_of=lambda k: k).steps
    5
    """
    for k, stage in enumerate(schedule):
        if stage.steps is None:
            raise InvalidParameterError(
                f"The 'schedule' parameter of run_schedule must give every stage in steps; "
                f"stage {k} ({stage.label}) is given in passes. Resolve it first."
            )
        if getattr(stage, "online", None) is not None:
            state = _online_stage(runner, state, stage, k, seed_of(k))
        else:
            task = stage.tasks if isinstance(stage.tasks, str) else stage.mixture
            state = runner.train(state, task, steps=stage.steps, seed=seed_of(k))
        if on_stage:
            on_stage(k, state)
    return state


def _online_stage(runner: Any, state: Any, stage: Any, k: int, seed: int) -> Any:
    from taskorder.compare.online_methods import online_kind
    from taskorder.learner.online import train_online
    from taskorder.online import make_policy

    kind = online_kind(runner)
    if kind is None:
        raise InvalidParameterError(
            f"Stage {k} ({stage.label}) of the 'schedule' parameter of run_schedule is an online "
            "stage, which needs the built-in learner with update='grpo' or a runner with "
            f"train_online(state, tasks, policy, *, steps, seed). Got {type(runner).__name__}."
        )
    if kind == "runner":
        return runner.train_online(
            state, list(stage.task_names), stage.online, steps=stage.steps, seed=seed
        )
    policy = make_policy(stage.online, stage.task_names, seed=seed)
    return train_online(runner, state, policy, steps=stage.steps, seed=seed).state
