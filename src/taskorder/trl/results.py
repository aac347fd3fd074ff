"""Per-stage measurements of a scheduled run, and the accuracy matrix R they form.

One :class:`StageRecord` per finished stage (plus one for the starting model, stage
``-1``) holds every task's score and entropy. For a sequential schedule that trains
each task once, the records form GEM's accuracy matrix ``R`` (rows: stages, columns:
tasks in training order; see :mod:`taskorder.metrics`), so
:meth:`StageResults.gem` gives the run's measured ACC, BWT and FWT.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.metrics import GEMMetrics, gem_metrics
from taskorder.schedule import Schedule

__all__ = ["StageRecord", "StageResults"]


@dataclass(frozen=True)
class StageRecord:
    """Every task's evaluation after one stage (``stage == -1``: before training).

    Attributes
    ----------
    stage : int
        Stage index in the schedule; -1 for the starting model.
    label : str
        The stage's label (``"start"`` for stage -1).
    step : int
        Global optimizer step at which it was measured.
    scores, entropies, stderrs : dict of str to float
        Per task: mean reward, mean token entropy (nats), standard error of the score.
    n_samples : dict of str to int
        Scored completions per task.
    eval_seconds : float
        Time spent evaluating.
    """

    stage: int
    label: str
    step: int
    scores: dict[str, float]
    entropies: dict[str, float]
    stderrs: dict[str, float] = field(default_factory=dict)
    n_samples: dict[str, int] = field(default_factory=dict)
    eval_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageRecord:
        return cls(**data)


class StageResults:
    """The records of one run, in stage order, with the schedule they belong to.

    Parameters
    ----------
    schedule : Schedule
        The resolved schedule of the run.
    tasks : sequence of str
        Every evaluated task (columns of :meth:`score_table`).
    records : sequence of StageRecord, optional
        Records so far.
    """

    def __init__(
        self, schedule: Schedule, tasks: Sequence[str], records: Sequence[StageRecord] = ()
    ) -> None:
        self.schedule = schedule
        self.tasks = tuple(tasks)
        self.records: list[StageRecord] = sorted(records, key=lambda record: record.stage)

    # ---------------------------------------------------------------- records
    def add(self, record: StageRecord) -> None:
        """Add (or replace) the record of ``record.stage``."""
        self.records = [r for r in self.records if r.stage != record.stage] + [record]
        self.records.sort(key=lambda r: r.stage)

    def truncate(self, last_stage: int) -> None:
        """Drop records of stages after ``last_stage`` (resuming from its checkpoint)."""
        self.records = [r for r in self.records if r.stage <= last_stage]

    @property
    def baseline(self) -> StageRecord | None:
        """The record of the starting model, if measured."""
        return next((r for r in self.records if r.stage == -1), None)

    @property
    def finished_stages(self) -> list[int]:
        """Indices of stages with a record."""
        return [r.stage for r in self.records if r.stage >= 0]

    def score_table(self) -> np.ndarray:
        """Scores as an array, one row per record (stage order), one column per task."""
        return np.array([[r.scores.get(t, np.nan) for t in self.tasks] for r in self.records])

    # --------------------------------------------------------------- GEM view
    def training_order(self) -> tuple[str, ...]:
        """The task order, when every stage trains one task and each task once.

        Raises
        ------
        InvalidParameterError
            If a stage is mixed or a task is trained in two stages.
        """
        order = []
        for index, stage in enumerate(self.schedule.stages):
            if stage.is_mixed:
                raise InvalidParameterError(
                    f"Stage {index} ({stage.label}) mixes tasks; the GEM accuracy matrix needs one "
                    "task per stage. Use score_table() for mixed schedules."
                )
            order.append(stage.task_names[0])
        if len(set(order)) != len(order):
            raise InvalidParameterError(
                f"The schedule trains a task twice ({order}); the GEM accuracy matrix needs each "
                "task once. Use score_table() instead."
            )
        return tuple(order)

    def accuracy_matrix(self) -> np.ndarray:
        """GEM's ``R``: ``R[k, i]`` = score of the ``i``-th trained task after stage ``k``.

        Raises
        ------
        InvalidParameterError
            If the schedule is not one task per stage, or a stage has no record yet.
        """
        order = self.training_order()
        by_stage = {r.stage: r for r in self.records}
        missing = [k for k in range(len(order)) if k not in by_stage]
        if missing:
            raise InvalidParameterError(
                f"Stages {missing} have no evaluation yet; the accuracy matrix needs all "
                f"{len(order)} stages."
            )
        return np.array([[by_stage[k].scores[t] for t in order] for k in range(len(order))])

    def gem(self) -> GEMMetrics:
        """ACC, BWT and FWT (:func:`taskorder.gem_metrics`) of the run; FWT needs a baseline."""
        order = self.training_order()
        baseline = self.baseline
        return gem_metrics(
            self.accuracy_matrix(),
            None if baseline is None else [baseline.scores[t] for t in order],
        )

    # ----------------------------------------------------------------- files
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schedule": self.schedule.to_dict(),
            "tasks": list(self.tasks),
            "records": [r.to_dict() for r in self.records],
        }
        try:
            data["order"] = list(self.training_order())
            data["accuracy_matrix"] = self.accuracy_matrix().tolist()
            data["gem"] = self.gem().to_dict()
        except InvalidParameterError:
            pass
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageResults:
        return cls(
            Schedule.from_dict(data["schedule"]),
            data["tasks"],
            [StageRecord.from_dict(r) for r in data["records"]],
        )

    def save(self, path: str | Path) -> Path:
        """Write JSON atomically (a crash never leaves a half-written file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> StageResults:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InvalidParameterError(f"{path}: not a stage results file ({error}).") from error

    def format_table(self) -> str:
        """A plain-text table: one line per record, ``score/entropy`` per task."""
        width = max(12, *(len(t) + 2 for t in self.tasks))
        header = f"{'stage':<18}{'step':>6}  " + "".join(f"{t:>{width}}" for t in self.tasks)
        lines = [header, "-" * len(header)]
        for r in self.records:
            name = "start" if r.stage < 0 else f"{r.stage}:{r.label}"
            cells = "".join(
                f"{f'{r.scores[t]:.3f}/{r.entropies[t]:.2f}':>{width}}" for t in self.tasks
            )
            lines.append(f"{name[:17]:<18}{r.step:>6}  {cells}")
        return "\n".join(lines)
