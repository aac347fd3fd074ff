"""Route each row to the reward of its task (TRL's multi-task pattern).

:func:`task_router` turns ``{"math": math_reward, "code": code_reward}`` into one
reward function. It groups the rows by their ``task`` column, calls each task's
reward once with just its rows (every per-row list is sliced to match; TRL extras
such as ``trainer_state`` pass through untouched) and puts the rewards back in row
order. Rows of an unknown task get ``None`` (or raise with ``strict=True``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards._common import TRL_EXTRAS, batch_size

__all__ = ["task_router"]


def _is_row_list(value, n_rows: int) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str) and len(value) == n_rows


def task_router(
    rewards: Mapping[str, Callable],
    *,
    strict: bool = False,
    task_column: str = "task",
    name: str = "task_reward",
) -> Callable:
    """Build one TRL reward function that dispatches rows by their task.

    Parameters
    ----------
    rewards : mapping of str to callable
        Task name to the reward function scoring that task's rows.
    strict : bool, default False
        Raise :class:`~taskorder.exceptions.InvalidParameterError` for a row whose task
        is not in ``rewards`` instead of returning ``None`` for it.
    task_column : str, default "task"
        The dataset column naming each row's task.
    name : str, default "task_reward"
        The returned function's ``__name__`` (what TRL logs).

    Returns
    -------
    callable
        ``f(prompts=None, completions=..., completion_ids=None, **columns)`` returning
        one float or ``None`` per completion.

    Examples
    --------
    >>> from taskorder.rewards import choice_reward, math_reward
    >>> route = task_router({"math": math_reward, "choice": choice_reward})
    >>> route(completions=["\\\\boxed{4}", "B", "hello"],
    ...       task=["math", "choice", "poetry"],
    ...       answer=["4", "B", None],
    ...       options=[None, ["x", "y"], None])
    [1.0, 1.0, None]
    >>> route.__name__
    'task_reward'
    """
    if not isinstance(rewards, Mapping) or not rewards:
        raise InvalidParameterError(
            "The 'rewards' parameter of task_router must be a non-empty mapping of task name "
            f"to reward function. Got {rewards!r:.80} instead."
        )
    for task, function in rewards.items():
        if not callable(function):
            raise InvalidParameterError(
                f"The 'rewards' parameter of task_router maps task {task!r} to "
                f"{type(function).__name__}, which is not callable."
            )
    routes = dict(rewards)

    def route(prompts=None, completions=None, completion_ids=None, **kwargs):
        n_rows = batch_size(completions, name)
        tasks = kwargs.get(task_column)
        if not _is_row_list(tasks, n_rows):
            raise InvalidParameterError(
                f"{name} needs a {task_column!r} column with one task name per completion "
                f"({n_rows}). Got {tasks!r:.80} instead."
            )
        unknown = sorted({str(task) for task in tasks if task not in routes})
        if strict and unknown:
            raise InvalidParameterError(
                f"{name} got rows of tasks {unknown} that have no reward. Known tasks: "
                f"{sorted(routes)}. Add them or pass strict=False to score them None."
            )
        results: list = [None] * n_rows
        per_row = {"prompts": prompts, "completions": completions, "completion_ids": completion_ids}
        per_row.update(kwargs)
        for task, function in routes.items():
            indices = [i for i, row_task in enumerate(tasks) if row_task == task]
            if not indices:
                continue
            arguments = {
                key: [value[i] for i in indices]
                if key not in TRL_EXTRAS and _is_row_list(value, n_rows)
                else value
                for key, value in per_row.items()
            }
            scores = function(**arguments)
            if len(scores) != len(indices):
                raise InvalidParameterError(
                    f"The reward for task {task!r} returned {len(scores)} rewards for "
                    f"{len(indices)} rows; a reward must return one value per completion."
                )
            for i, score in zip(indices, scores):
                results[i] = None if score is None else float(score)
        return results

    route.__name__ = name
    route.__qualname__ = name
    route.routes = routes
    return route
