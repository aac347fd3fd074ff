"""Training schedules compared at equal total steps: curricula, joint, interleaved, blocks.

A schedule is a tuple of :class:`Stage` (a task spec as the runner protocol takes it,
and a step count). Every builder here spends ``n_tasks * stage_steps`` steps in all,
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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taskorder.estimate.runner import TaskSpec
from taskorder.exceptions import InvalidParameterError

__all__ = [
    "Stage",
    "blocks",
    "group_by_prefix",
    "interleaved",
    "joint",
    "run_schedule",
    "schedule_steps",
    "sequential",
]


@dataclass(frozen=True)
class Stage:
    """One training stage: ``task`` (a name or ``{name: proportion}``) for ``steps`` steps."""

    task: TaskSpec
    steps: int

    def to_dict(self) -> dict[str, Any]:
        task = self.task if isinstance(self.task, str) else dict(self.task)
        return {"task": task, "steps": self.steps}


def _check_steps(stage_steps: int, where: str) -> None:
    if isinstance(stage_steps, bool) or not isinstance(stage_steps, int) or stage_steps < 1:
        raise InvalidParameterError(
            f"The 'stage_steps' parameter of {where} must be a positive int. Got {stage_steps!r}."
        )


def _check_tasks(tasks: Sequence[str], where: str) -> tuple[str, ...]:
    tasks = tuple(tasks)
    if not tasks or len(set(tasks)) != len(tasks):
        raise InvalidParameterError(
            f"The 'tasks' parameter of {where} must list distinct task names. Got {list(tasks)}."
        )
    return tasks


def sequential(order: Sequence[str], stage_steps: int) -> tuple[Stage, ...]:
    """A curriculum: each task once, in ``order``.

    Examples
    --------
    >>> [s.task for s in sequential(["a", "b"], 10)]
    ['a', 'b']
    """
    _check_steps(stage_steps, "sequential")
    return tuple(Stage(task, stage_steps) for task in _check_tasks(order, "sequential"))


def joint(tasks: Sequence[str], stage_steps: int) -> tuple[Stage, ...]:
    """Joint multi-task training: one stage, equal proportions, ``n * stage_steps`` steps.

    Examples
    --------
    >>> joint(["a", "b"], 10)
    (Stage(task={'a': 0.5, 'b': 0.5}, steps=20),)
    """
    _check_steps(stage_steps, "joint")
    tasks = _check_tasks(tasks, "joint")
    return (Stage({task: 1.0 / len(tasks) for task in tasks}, len(tasks) * stage_steps),)


def interleaved(
    tasks: Sequence[str], stage_steps: int, *, rounds: int | None = None
) -> tuple[Stage, ...]:
    """Round-robin single-task stages: ``rounds`` passes (default ``n``) over ``tasks``.

    Examples
    --------
    >>> [(s.task, s.steps) for s in interleaved(["a", "b"], 3)]
    [('a', 2), ('b', 2), ('a', 1), ('b', 1)]
    """
    _check_steps(stage_steps, "interleaved")
    tasks = _check_tasks(tasks, "interleaved")
    rounds = len(tasks) if rounds is None else rounds
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= stage_steps:
        raise InvalidParameterError(
            f"The 'rounds' parameter of interleaved must be an int in [1, stage_steps="
            f"{stage_steps}]. Got {rounds!r}."
        )
    base, extra = divmod(stage_steps, rounds)
    return tuple(
        Stage(task, base + (1 if r < extra else 0)) for r in range(rounds) for task in tasks
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


def blocks(groups: Sequence[Sequence[str]], stage_steps: int) -> tuple[Stage, ...]:
    """One mixed stage per group, in order (e.g. structured block, then open-ended block).

    Examples
    --------
    >>> blocks([["s0", "s1"], ["o0"]], 10)
    (Stage(task={'s0': 0.5, 's1': 0.5}, steps=20), Stage(task={'o0': 1.0}, steps=10))
    """
    _check_steps(stage_steps, "blocks")
    flat = _check_tasks([t for group in groups for t in group], "blocks")
    if not all(groups):
        raise InvalidParameterError(
            f"The 'groups' parameter of blocks has an empty group: {groups}."
        )
    del flat
    return tuple(
        Stage({task: 1.0 / len(group) for task in group}, len(group) * stage_steps)
        for group in groups
    )


def schedule_steps(schedule: Sequence[Stage]) -> int:
    """Total training steps of ``schedule``."""
    return sum(stage.steps for stage in schedule)


def run_schedule(
    runner: Any,
    state: Any,
    schedule: Sequence[Stage],
    *,
    seed_of: Callable[[int], int],
    on_stage: Callable[[int, Any], None] | None = None,
) -> Any:
    """Train ``state`` through ``schedule``; stage ``k`` uses seed ``seed_of(k)``.

    ``on_stage(k, state)`` is called after each stage (e.g. to record evaluations).
    """
    for k, stage in enumerate(schedule):
        task = stage.task if isinstance(stage.task, str) else dict(stage.task)
        state = runner.train(state, task, steps=stage.steps, seed=seed_of(k))
        if on_stage:
            on_stage(k, state)
    return state


def proportions_of(task: TaskSpec) -> Mapping[str, float]:
    """``{task: share}`` of a stage's task spec, normalised to sum to 1."""
    if isinstance(task, str):
        return {task: 1.0}
    total = float(sum(task.values()))
    return {name: float(value) / total for name, value in task.items()}
