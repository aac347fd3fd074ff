"""Training schedules: ordered stages, each one task or a mixture of tasks.

A :class:`Schedule` is what taskorder hands to a trainer: an ordered list of
:class:`Stage` objects. A stage trains either one task or a mixture
``{task: proportion}`` (joint training), for a length given in optimizer **steps**
or in **passes** over the stage's training rows. Passes are turned into steps by
:meth:`Schedule.resolve` once the batch geometry of the trainer is known.

The same type serves sequential curricula (one task per stage, the order returned by
:func:`taskorder.solve`) and joint or mixed curricula (several tasks per stage).
It is plain Python (no torch); the TRL adapter (:mod:`taskorder.trl`) consumes it.

Examples
--------
>>> schedule = Schedule.from_order(["math", "qa"], steps=10)
>>> schedule.tasks, schedule.total_steps, schedule.boundaries
(('math', 'qa'), 20, (10, 20))
>>> mixed = Schedule([Stage("math", steps=4), Stage({"math": 0.25, "qa": 0.75}, steps=8)])
>>> mixed.stage_index_at(3), mixed.stage_index_at(4)
(0, 1)
>>> Schedule.from_dict(mixed.to_dict()) == mixed
True
>>> online = Schedule([Stage("math", steps=4), Stage(["math", "qa"], steps=8, online="sec")])
>>> online.is_online, online.to_dict()["stages"][1]
(True, {'online': 'sec', 'tasks': ['math', 'qa'], 'steps': 8})
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from taskorder.checks import check_float, check_int
from taskorder.exceptions import InvalidParameterError

__all__ = ["Schedule", "Stage"]

_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Stage:
    """One stage of a schedule: a task (or a mixture of tasks) and a length.

    Parameters
    ----------
    tasks : str or mapping of str to float
        One task name, or ``{task: proportion}`` with positive proportions that sum
        to 1 (a mixed stage: each generation batch draws prompts in these proportions).
    steps : int, optional
        Length in optimizer steps. Exactly one of ``steps`` and ``passes`` is given.
    passes : float, optional
        Length in passes over the stage's training rows (for a mixture: passes over
        the union of its tasks' rows). Turned into steps by :meth:`Schedule.resolve`.
    name : str, optional
        A label for logs; defaults to the task name, ``"mix(a+b)"`` or ``"sec(a+b)"``.
    online : str, optional
        An *online* stage: the name of a policy of :mod:`taskorder.online` (``sec``,
        ``tac``, ``worst_task``) that chooses the mixture of every generation batch
        from training signals. ``tasks`` is then the task set (a list of names, or a
        mapping whose proportions are ignored: the stored mixture is uniform, used
        only to resolve passes).

    Raises
    ------
    InvalidParameterError
        If a name is empty, a proportion is not positive or they do not sum to 1, the
        length is missing, doubled or not positive, or ``online`` is not a known policy
        or has fewer than two tasks.

    Examples
    --------
    >>> Stage("math", steps=5).mixture
    {'math': 1.0}
    >>> Stage({"a": 0.5, "b": 0.5}, passes=1.0).label
    'mix(a+b)'
    >>> Stage(["a", "b"], steps=4, online="sec").label
    'sec(a+b)'
    """

    tasks: str | Mapping[str, float] | Sequence[str] = field(compare=False)
    steps: int | None = None
    passes: float | None = None
    name: str | None = None
    online: str | None = None
    _mixture: tuple[tuple[str, float], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        raw = self._raw_mixture()
        if not raw:
            raise InvalidParameterError(
                "The 'tasks' parameter of Stage must name at least one task."
            )
        mixture: dict[str, float] = {}
        for task, proportion in raw.items():
            if not isinstance(task, str) or not task.strip():
                raise InvalidParameterError(
                    f"The 'tasks' parameter of Stage must use non-empty task names. Got {task!r}."
                )
            # the proportion of that task in the stage
            mixture[task] = check_float(
                proportion, f"tasks.{task}", "Stage", minimum=0, low_open=True
            )
        total = sum(mixture.values())
        if abs(total - 1.0) > _TOLERANCE:
            raise InvalidParameterError(
                f"The proportions of a mixed Stage must sum to 1. Got {mixture} (sum {total:.6g})."
            )
        object.__setattr__(self, "_mixture", tuple(mixture.items()))
        if (self.steps is None) == (self.passes is None):
            raise InvalidParameterError(
                "A Stage needs exactly one length: 'steps' (optimizer steps) or 'passes' "
                f"(passes over its rows). Got steps={self.steps!r}, passes={self.passes!r}."
            )
        if self.steps is not None:
            check_int(self.steps, "steps", "Stage")
        if self.passes is not None:
            check_float(self.passes, "passes", "Stage", minimum=0, low_open=True)

    def _raw_mixture(self) -> dict[Any, Any]:
        """``{task: proportion}`` as given; an online stage's task set becomes uniform."""
        if isinstance(self.tasks, str):
            return {self.tasks: 1.0}
        if self.online is None:
            if not isinstance(self.tasks, Mapping):
                raise InvalidParameterError(
                    "The 'tasks' parameter of Stage must be a task name or {task: proportion}; "
                    f"a list of tasks needs online='sec', 'tac' or 'worst_task'. Got {self.tasks!r}."
                )
            return dict(self.tasks)
        from taskorder.online.policies import POLICIES

        if self.online not in POLICIES:
            raise InvalidParameterError(
                f"Unknown online policy {self.online!r} for a Stage; use one of "
                f"{', '.join(POLICIES)}."
            )
        names = list(self.tasks)
        if len(names) < 2 or len(set(names)) != len(names):
            raise InvalidParameterError(
                f"An online Stage ({self.online}) chooses between tasks: give at least two "
                f"distinct task names. Got {names!r}."
            )
        return dict.fromkeys(names, 1.0 / len(names))

    @property
    def mixture(self) -> dict[str, float]:
        """``{task: proportion}``; ``{task: 1.0}`` for a single-task stage."""
        return dict(self._mixture)

    @property
    def task_names(self) -> tuple[str, ...]:
        """The stage's tasks, in the order given."""
        return tuple(task for task, _ in self._mixture)

    @property
    def is_mixed(self) -> bool:
        """True when the stage trains more than one task."""
        return len(self.mixture) > 1

    @property
    def label(self) -> str:
        """``name`` if set, else the task name or ``mix(a+b)``."""
        if self.name:
            return self.name
        if self.online is not None:
            return f"{self.online}({'+'.join(self.task_names)})"
        return self.task_names[0] if not self.is_mixed else f"mix({'+'.join(self.task_names)})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"task": name}``, ``{"mix": {...}}`` or ``{"online": p, "tasks": [...]}``."""
        data: dict[str, Any]
        if self.online is not None:
            data = {"online": self.online, "tasks": list(self.task_names)}
        elif self.is_mixed:
            data = {"mix": dict(self.mixture)}
        else:
            data = {"task": self.task_names[0]}
        data["steps" if self.steps is not None else "passes"] = (
            self.steps if self.steps is not None else self.passes
        )
        if self.name:
            data["name"] = self.name
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stage:
        """Inverse of :meth:`to_dict`; unknown keys are refused."""
        keys = {"task", "mix", "tasks", "online", "steps", "passes", "name"}
        unknown = sorted(set(data) - keys)
        if unknown:
            raise InvalidParameterError(
                "A stage accepts the keys task or mix (or online with tasks), steps or passes, "
                f"and name. Got {unknown}."
            )
        if "online" in data:
            if "tasks" not in data or "task" in data or "mix" in data:
                raise InvalidParameterError(
                    f"An online stage needs 'tasks' (a list of names) and neither 'task' nor "
                    f"'mix'. Got {dict(data)!r}."
                )
            tasks = data["tasks"]
        elif "tasks" in data or ("task" in data) == ("mix" in data):
            raise InvalidParameterError(
                f"A stage needs exactly one of 'task' (one name) or 'mix' ({{task: proportion}}); "
                f"'tasks' goes with 'online'. Got {dict(data)!r}."
            )
        else:
            tasks = data["task"] if "task" in data else data["mix"]
        return cls(
            tasks,
            steps=data.get("steps"),
            passes=data.get("passes"),
            name=data.get("name"),
            online=data.get("online"),
        )


class Schedule:
    """An ordered sequence of stages.

    Parameters
    ----------
    stages : sequence of Stage
        At least one stage, first trained first. A task may appear in several stages.

    Raises
    ------
    InvalidParameterError
        If there is no stage or an item is not a :class:`Stage`.
    """

    def __init__(self, stages: Iterable[Stage]) -> None:
        stages = tuple(stages)
        if not stages:
            raise InvalidParameterError(
                "The 'stages' parameter of Schedule needs at least one Stage."
            )
        for position, stage in enumerate(stages):
            if not isinstance(stage, Stage):
                raise InvalidParameterError(
                    f"The 'stages' parameter of Schedule must hold Stage objects. Got "
                    f"{type(stage).__name__} at position {position}."
                )
        self.stages: tuple[Stage, ...] = stages

    # ------------------------------------------------------------- constructors
    @classmethod
    def from_order(
        cls, order: Sequence[str], *, steps: int | None = None, passes: float | None = None
    ) -> Schedule:
        """One single-task stage per name in ``order``, all of the same length.

        Parameters
        ----------
        order : sequence of str
            Task names, first trained first; a :class:`taskorder.SolveResult` (its
            ``order`` is used) works too.
        steps, passes : optional
            Every stage's length (exactly one of them).
        """
        order = getattr(order, "order", order)
        if isinstance(order, str):
            raise InvalidParameterError(
                f"The 'order' parameter of Schedule.from_order must be a sequence of task names. "
                f"Got the string {order!r}."
            )
        return cls(Stage(task, steps=steps, passes=passes) for task in order)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Schedule:
        """Build from ``{"stages": [...]}`` (or the bare list), as written by :meth:`to_dict`."""
        stages = data.get("stages") if isinstance(data, Mapping) else data
        if not isinstance(stages, Sequence) or isinstance(stages, str):
            raise InvalidParameterError(
                f"A schedule must be a list of stages or {{'stages': [...]}}. Got {data!r:.120}."
            )
        return cls(Stage.from_dict(stage) for stage in stages)

    def to_dict(self) -> dict[str, Any]:
        """``{"stages": [stage.to_dict(), ...]}``."""
        return {"stages": [stage.to_dict() for stage in self.stages]}

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.stages)

    def __iter__(self):
        return iter(self.stages)

    def __getitem__(self, index: int) -> Stage:
        return self.stages[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and self.stages == other.stages

    def __hash__(self) -> int:
        return hash(self.stages)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{stage.label}:{stage.steps if stage.steps is not None else f'{stage.passes}p'}"
            for stage in self.stages
        )
        return f"Schedule([{parts}])"

    @property
    def tasks(self) -> tuple[str, ...]:
        """Every task named by some stage, in order of first appearance."""
        seen: dict[str, None] = {}
        for stage in self.stages:
            for task in stage.task_names:
                seen.setdefault(task)
        return tuple(seen)

    @property
    def is_online(self) -> bool:
        """True when some stage's mixture is chosen online by a policy."""
        return any(stage.online is not None for stage in self.stages)

    @property
    def is_resolved(self) -> bool:
        """True when every stage has a length in steps."""
        return all(stage.steps is not None for stage in self.stages)

    def _require_resolved(self, what: str) -> None:
        if not self.is_resolved:
            raise InvalidParameterError(
                f"Schedule.{what} needs every stage length in steps; some stages are given in "
                "passes. Call Schedule.resolve(task_sizes, prompts_per_step) first."
            )

    @property
    def steps(self) -> tuple[int, ...]:
        """Length of each stage in optimizer steps."""
        self._require_resolved("steps")
        return tuple(int(stage.steps) for stage in self.stages)  # type: ignore[arg-type]

    @property
    def total_steps(self) -> int:
        """Sum of the stage lengths in optimizer steps."""
        return sum(self.steps)

    @property
    def boundaries(self) -> tuple[int, ...]:
        """The global step at which each stage ends (cumulative lengths)."""
        ends, total = [], 0
        for length in self.steps:
            total += length
            ends.append(total)
        return tuple(ends)

    def stage_index_at(self, step: int) -> int:
        """Index of the stage that trains optimizer step ``step`` (0-based, before it runs)."""
        for index, end in enumerate(self.boundaries):
            if step < end:
                return index
        raise InvalidParameterError(
            f"The 'step' parameter of Schedule.stage_index_at must be below the total of "
            f"{self.total_steps} steps. Got {step}."
        )

    def tail(self, start: int) -> Schedule:
        """The schedule from stage ``start`` on (for resuming after stage ``start - 1``)."""
        if not 0 <= start < len(self.stages):
            raise InvalidParameterError(
                f"The 'start' parameter of Schedule.tail must be in [0, {len(self.stages) - 1}]. "
                f"Got {start}."
            )
        return Schedule(self.stages[start:])

    # -------------------------------------------------------------- resolving
    def resolve(
        self,
        task_sizes: Mapping[str, int],
        prompts_per_step: float,
        *,
        step_multiple: int = 1,
    ) -> Schedule:
        """Turn every length into whole optimizer steps.

        Parameters
        ----------
        task_sizes : mapping of str to int
            Number of training rows (prompts) of each task.
        prompts_per_step : float
            Unique prompts one optimizer step consumes across all processes
            (``generation_batch_size / num_generations`` per generation).
        step_multiple : int, default 1
            Stage lengths are rounded up to a multiple of this (a generation that
            spans several optimizer steps cannot be split between two stages).

        Returns
        -------
        Schedule
            A resolved copy; stages given in passes last
            ``ceil(passes * rows / prompts_per_step)`` steps, rounded up to
            ``step_multiple``. Stages given in steps must already be multiples.

        Raises
        ------
        InvalidParameterError
            If a task has no size, ``prompts_per_step`` is not positive, or a stage in
            steps is not a multiple of ``step_multiple``.

        Examples
        --------
        >>> s = Schedule([Stage("a", passes=2), Stage({"a": 0.5, "b": 0.5}, passes=1)])
        >>> s.resolve({"a": 10, "b": 6}, prompts_per_step=4).steps
        (5, 4)
        """
        step_multiple = check_int(step_multiple, "step_multiple", "Schedule.resolve")
        check_float(
            prompts_per_step, "prompts_per_step", "Schedule.resolve", minimum=0, low_open=True
        )
        missing = [task for task in self.tasks if task not in task_sizes]
        if missing:
            raise InvalidParameterError(
                f"The 'task_sizes' parameter of Schedule.resolve lacks tasks {missing}. "
                f"Got sizes for {sorted(task_sizes)}."
            )
        stages = []
        for position, stage in enumerate(self.stages):
            if stage.steps is not None:
                if stage.steps % step_multiple:
                    raise InvalidParameterError(
                        f"Stage {position} ({stage.label}) lasts {stage.steps} steps, but one "
                        f"generation spans {step_multiple} optimizer steps, so stage lengths must "
                        f"be multiples of {step_multiple}. Change the length, or lower "
                        "steps_per_generation / num_iterations."
                    )
                stages.append(stage)
                continue
            rows = sum(int(task_sizes[task]) for task in stage.task_names)
            steps = max(1, math.ceil(stage.passes * rows / prompts_per_step - _TOLERANCE))
            steps = step_multiple * math.ceil(steps / step_multiple)
            tasks = list(stage.task_names) if stage.online else dict(stage.mixture)
            stages.append(Stage(tasks, steps=steps, name=stage.name, online=stage.online))
        return Schedule(stages)
