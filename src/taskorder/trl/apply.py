"""Install a :class:`~taskorder.schedule.Schedule` in an existing ``GRPOTrainer``.

TRL has no curriculum API; its maintainers point to overriding
``GRPOTrainer._get_train_sampler`` (huggingface/trl issue #2801). This module is the
only place in taskorder that touches that private hook: :func:`apply_schedule` binds
a :class:`~taskorder.trl.sampler.ScheduleSampler` to it on one trainer instance. No
trainer code is copied or subclassed, so every other part of ``GRPOTrainer``
(generation, rewards, loss, logging, checkpointing) runs unchanged. The one other
private state read, GRPO's micro-step counter and generation buffer (which TRL does
not checkpoint), is kept across resumes by
:class:`~taskorder.trl.generation_state.GenerationStateCallback`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taskorder.exceptions import InvalidParameterError, require
from taskorder.schedule import Schedule

__all__ = ["apply_schedule", "task_sizes"]


class _ScheduledSamplerHook:
    """Callable installed as ``trainer._get_train_sampler``; returns the schedule sampler."""

    def __init__(self, sampler: Any, n_rows: int, max_steps: int) -> None:
        self.sampler = sampler
        self.n_rows = n_rows
        self.max_steps = max_steps

    def __call__(self, dataset: Any = None) -> Any:
        if dataset is not None and len(dataset) != self.n_rows:
            raise InvalidParameterError(
                f"The schedule was planned for a train dataset of {self.n_rows} rows but the "
                f"trainer asked for a sampler over {len(dataset)} rows. Call apply_schedule again "
                "after replacing trainer.train_dataset."
            )
        return self.sampler


def task_sizes(dataset: Any, task_column: str = "task") -> dict[str, int]:
    """Number of rows of each task in a dataset with a task column."""
    return _count(_task_column(dataset, task_column))


def _count(tasks: list[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for task in tasks:
        sizes[task] = sizes.get(task, 0) + 1
    return sizes


def _task_column(dataset: Any, task_column: str) -> list[str]:
    names = list(getattr(dataset, "column_names", None) or [])
    if task_column not in names:
        raise InvalidParameterError(
            f"The train dataset needs a {task_column!r} column naming each row's task. "
            f"Its columns are {names}."
        )
    return [str(task) for task in dataset[task_column]]


def _check_inputs(trainer: Any, schedule: Any) -> Any:
    """The trainer's map-style train dataset, after checking the trainer and the schedule."""
    for name in ("num_generations", "num_iterations", "train_dataset", "args"):
        if not hasattr(trainer, name):
            raise InvalidParameterError(
                f"The 'trainer' parameter of apply_schedule must be a GRPOTrainer (or have its "
                f"batching fields); it has no {name!r}. Got {type(trainer).__name__}."
            )
    dataset = trainer.train_dataset
    if dataset is None or not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise InvalidParameterError(
            "apply_schedule needs a map-style train dataset (datasets.Dataset); an "
            f"IterableDataset cannot be reordered by a sampler. Got {type(dataset).__name__}."
        )
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"The 'schedule' parameter of apply_schedule must be a Schedule. Got "
            f"{type(schedule).__name__}."
        )
    return dataset


def apply_schedule(
    trainer: Any,
    schedule: Schedule,
    *,
    task_column: str = "task",
    seed: int | None = None,
    policy_options: Mapping[str, Mapping[str, Any]] | None = None,
    decision_log: str | Path | None = None,
    replay: Any = None,
) -> Any:
    """Make ``trainer`` train its dataset stage by stage, as ``schedule`` says.

    Parameters
    ----------
    trainer : trl.GRPOTrainer
        A constructed trainer whose ``train_dataset`` (a map-style ``datasets.Dataset``)
        has a ``task_column``. Any trainer with GRPO's batching fields
        (``num_generations``, ``num_iterations``, ``args.generation_batch_size``,
        ``args.steps_per_generation``) works the same way.
    schedule : Schedule
        Stages in training order. Lengths in passes are resolved against the dataset's
        task sizes and the trainer's batch geometry.
    task_column : str, default "task"
        Column holding each row's task name.
    seed : int, optional
        Seed of the row order within tasks; defaults to ``trainer.args.seed``.
    policy_options : mapping, optional
        Options of the online policies by name (``{"tac": {"transfer": 2.0}}``).
    decision_log : str or Path, optional
        JSONL log of the online decisions; default
        ``<output_dir>/online_decisions.jsonl`` when the schedule has online stages.
    replay : decision log path or records, optional
        Follow logged online decisions instead of asking the policies.

    Returns
    -------
    ScheduleSampler
        The installed sampler; ``sampler.schedule`` is the resolved schedule and
        ``sampler.schedule.boundaries`` the global steps at which stages end.

    Raises
    ------
    InvalidParameterError
        If the dataset is iterable or lacks the task column, a scheduled task has no row,
        a stage is not a whole number of generations, or ``args.max_steps`` is set to
        something other than the schedule's total.

    Notes
    -----
    ``trainer.args.max_steps`` is set to the schedule's total steps (one epoch of the
    sampler). ``shuffle_dataset=False`` keeps each task's rows in dataset order.
    Calling it again (after replacing ``trainer.train_dataset``) replaces the schedule
    and the ``max_steps`` the previous call set.

    A :class:`~taskorder.trl.generation_state.GenerationStateCallback` is added to the
    trainer (once): it stores GRPO's micro-step counter and generation buffer in every
    checkpoint, so a run resumed in the middle of a generation keeps every later stage
    on its scheduled steps. Inside :func:`~taskorder.trl.progress.report_steps` a
    :class:`~taskorder.trl.progress.StepProgress` is attached too (one line per step).

    With online stages (``Stage([...], online="sec")``), a
    :class:`~taskorder.trl.panel.TaskPanel` measures the per-task signals and hands
    them to the sampler's policies, and an
    :class:`~taskorder.trl.online_mixer.OnlineStateCallback` writes the decisions and
    policy states into every checkpoint.
    """
    require("trl", "trl")
    from taskorder.trl.sampler import BatchGeometry, ScheduleSampler

    dataset = _check_inputs(trainer, schedule)
    rows = _task_column(dataset, task_column)
    sizes = _count(rows)
    geometry = BatchGeometry.from_trainer(trainer)
    unknown = [task for task in schedule.tasks if task not in sizes]
    if unknown:
        raise InvalidParameterError(
            f"The schedule trains tasks {unknown} but the train dataset has no row for them. "
            f"Tasks in the dataset: {sorted(sizes)}."
        )
    resolved = schedule.resolve(
        sizes, geometry.prompts_per_step, step_multiple=geometry.step_multiple
    )
    args = trainer.args
    previous = getattr(trainer, "_get_train_sampler", None)
    if isinstance(previous, _ScheduledSamplerHook) and args.max_steps == previous.max_steps:
        args.max_steps = -1  # set by the previous apply_schedule, not by the user
    if args.max_steps is not None and args.max_steps > 0 and args.max_steps != resolved.total_steps:
        raise InvalidParameterError(
            f"The trainer's max_steps is {args.max_steps} but the schedule lasts "
            f"{resolved.total_steps} steps. Set max_steps=-1 (or {resolved.total_steps}) in the "
            "GRPOConfig."
        )
    args.max_steps = resolved.total_steps
    sampler = ScheduleSampler(
        rows,
        resolved,
        geometry,
        seed=args.seed if seed is None else seed,
        shuffle=bool(getattr(trainer, "shuffle_dataset", True)),
        policy_options=policy_options,
        decision_log=(
            Path(args.output_dir) / "online_decisions.jsonl"
            if decision_log is None and resolved.is_online and args.process_index == 0
            else decision_log
        ),
        replay=replay,
    )
    # The one touch of a private TRL hook (see the module docstring and trl issue #2801).
    trainer._get_train_sampler = _ScheduledSamplerHook(sampler, len(dataset), resolved.total_steps)
    _install_generation_state(trainer)
    _install_step_progress(trainer, resolved)
    _install_online(trainer, sampler, task_column)
    return sampler


def _install_online(trainer: Any, sampler: Any, task_column: str) -> None:
    """Connect the panel's signals to the sampler's policies; checkpoint the decisions."""
    from taskorder.trl.online_mixer import OnlineStateCallback

    handler = getattr(trainer, "callback_handler", None)
    if handler is not None:  # a previous apply_schedule's online state is stale
        handler.callbacks = [c for c in handler.callbacks if not isinstance(c, OnlineStateCallback)]
    previous = getattr(trainer, "_taskorder_panel", None)
    if previous is not None:
        previous.listeners = [
            f for f in previous.listeners if not getattr(f, "_from_apply_schedule", False)
        ]
    if sampler.online is None:
        return
    from taskorder.trl.panel import TaskPanel

    panel = TaskPanel.of(trainer, task_column=task_column, gradients=sampler.online.needs_gradients)

    def listener(generation: int, signals: Any) -> None:
        sampler.receive(generation, signals)

    listener._from_apply_schedule = True  # type: ignore[attr-defined]
    panel.listeners.append(listener)
    mixer = sampler.online
    panel.gradient_generations = lambda generation: mixer.needs_gradients_at(generation)
    if handler is not None:
        trainer.add_callback(OnlineStateCallback(sampler.online, panel))


def _install_step_progress(trainer: Any, resolved: Schedule) -> None:
    """Inside :func:`~taskorder.trl.progress.report_steps`, attach a progress line per step."""
    from taskorder.trl.progress import StepProgress, active_step_reporter

    handler = getattr(trainer, "callback_handler", None)
    if handler is None:
        return
    # Replace the line a previous apply_schedule attached (it follows the old schedule).
    handler.callbacks = [
        c for c in handler.callbacks if not getattr(c, "_attached_by_apply_schedule", False)
    ]
    reporter = active_step_reporter()
    if reporter is not None:
        sink, min_interval_s = reporter
        progress = StepProgress(resolved, sink, min_interval_s=min_interval_s)
        progress._attached_by_apply_schedule = True
        trainer.add_callback(progress)


def _install_generation_state(trainer: Any) -> None:
    """Add one :class:`GenerationStateCallback` for ``trainer`` (a no-op without callbacks)."""
    from taskorder.trl.generation_state import GenerationStateCallback

    handler = getattr(trainer, "callback_handler", None)
    if handler is None or not hasattr(trainer, "add_callback"):
        return
    if not any(
        isinstance(callback, GenerationStateCallback) and callback.trainer is trainer
        for callback in handler.callbacks
    ):
        trainer.add_callback(GenerationStateCallback(trainer))
