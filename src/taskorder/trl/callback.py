"""A ``TrainerCallback`` that evaluates every task at every stage boundary.

At the start of training (optional) and at the end of every stage, the callback
evaluates each task on its held-out prompts (score with the task's reward, mean
token entropy of the sampled completions), logs ``task/<name>/score`` and
``task/<name>/entropy`` through the trainer's loggers, asks the trainer to write a
checkpoint, and appends a :class:`~taskorder.trl.results.StageRecord` to the run's
:class:`~taskorder.trl.results.StageResults` (saved as JSON after every stage), from
which the accuracy matrix ``R``, GEM metrics and measured BWT follow.

The boundaries come from the resolved schedule installed by
:func:`~taskorder.trl.apply.apply_schedule`; the sampler places them exactly, so
the evaluation after step ``b`` sees a model trained on exactly the scheduled rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from transformers import Trainer, TrainerCallback

from taskorder.config_file import StrictModel
from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule
from taskorder.trl.evaluation import EvalConfig, evaluate_policy
from taskorder.trl.results import StageRecord, StageResults

__all__ = ["StageCallback", "StageCallbackConfig", "last_stage_checkpoint"]


class StageCallbackConfig(StrictModel):
    """Settings of :class:`StageCallback`.

    Parameters
    ----------
    evaluation : EvalConfig
        How held-out prompts are sampled and scored.
    evaluate_at_start : bool
        Also evaluate the starting model (the baseline row; needed for FWT).
    checkpoint : bool
        Ask the trainer to save a checkpoint at every stage boundary.
    results_path : str or None
        Where to write the stage results JSON after every stage (main process only).
    panel : bool
        Install the per-task panel (:class:`~taskorder.trl.panel.TaskPanel`): reward,
        entropy, zero-advantage rate and KL per task at every logging step.
    reference_scores : dict of str to float or None
        Each task's score under a reference model (``a*`` of Chaudhry et al.: trained
        on that task alone, e.g. the single-task probes); enables intransigence.
    """

    evaluation: EvalConfig = Field(
        default_factory=EvalConfig, description="Sampling and scoring of held-out prompts."
    )
    evaluate_at_start: bool = Field(
        default=True, description="Evaluate the starting model too (baseline; needed for FWT)."
    )
    checkpoint: bool = Field(
        default=True, description="Save a trainer checkpoint at every stage boundary."
    )
    results_path: str | None = Field(
        default=None, description="JSON file the stage results are written to after each stage."
    )
    panel: bool = Field(default=True, description="Log reward/entropy/zero-advantage/KL per task.")
    reference_scores: dict[str, float] | None = Field(
        default=None, description="Reference score per task (a*), for intransigence."
    )

    @field_validator("results_path", mode="before")
    @classmethod
    def _path_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, Path) else value


class StageCallback(TrainerCallback):
    """Evaluate, log, checkpoint and record every task at every stage boundary.

    Parameters
    ----------
    schedule : Schedule
        The *resolved* schedule the trainer runs (``apply_schedule(...).schedule``).
    eval_tasks : mapping of str to (rows, reward)
        Per task: held-out rows (dicts with ``prompt`` and reward columns) and its TRL
        reward function.
    config : StageCallbackConfig, optional
        Settings.
    results : StageResults, optional
        Records of an interrupted run to continue (stages after the resumed
        checkpoint are dropped when training resumes).
    on_stage_end : callable, optional
        Called with each new :class:`StageRecord` (progress reporting).

    Attributes
    ----------
    results : StageResults
        The records so far.
    stage_metrics : dict of int to dict
        After each stage, what :func:`~taskorder.trl.stage_panel.stage_panel` logged (GEM
        ACC/BWT/FWT, forgetting, intransigence, worst-task score).

    Notes
    -----
    Logging goes through :meth:`transformers.Trainer.log` of the base class, so the
    per-step GRPO metrics buffered by ``GRPOTrainer.log`` are left for the regular
    logging step, and ``control.should_log`` (which ``CallbackHandler.on_log`` clears)
    is restored so that step is still logged. Every process evaluates (generation under ZeRO-3/FSDP needs all
    ranks); only the main process writes the results file.
    """

    def __init__(
        self,
        schedule: Schedule,
        eval_tasks: Mapping[str, tuple[list[dict[str, Any]], Callable[..., Any]]],
        config: StageCallbackConfig | None = None,
        *,
        results: StageResults | None = None,
        on_stage_end: Callable[[StageRecord], None] | None = None,
    ) -> None:
        if not isinstance(schedule, Schedule) or not schedule.is_resolved:
            raise InvalidParameterError(
                "The 'schedule' parameter of StageCallback must be a resolved Schedule (every "
                "stage in steps); pass apply_schedule(trainer, schedule).schedule."
            )
        missing = [task for task in schedule.tasks if task not in eval_tasks]
        if missing:
            raise InvalidParameterError(
                f"The 'eval_tasks' parameter of StageCallback lacks held-out data for {missing}."
            )
        self.schedule = schedule
        self.eval_tasks = dict(eval_tasks)
        self.config = config or StageCallbackConfig()
        self.results = results or StageResults(schedule, list(self.eval_tasks))
        self.on_stage_end = on_stage_end
        self._trainer: Any = None
        self._stage_of_step = {end: index for index, end in enumerate(schedule.boundaries)}
        self.stage_metrics: dict[int, dict[str, float]] = {}

    def attach(self, trainer: Any) -> StageCallback:
        """Register with ``trainer`` (needed for logging), install the panel, return ``self``."""
        self._trainer = trainer
        trainer.add_callback(self)
        if self.config.panel and hasattr(trainer, "_compute_loss"):
            from taskorder.trl.panel import TaskPanel

            TaskPanel.of(trainer)
        return self

    # ------------------------------------------------------------- evaluation
    def evaluate(self, model: Any, tokenizer: Any, *, stage: int, step: int) -> StageRecord:
        """Evaluate every task now and return (not store) the record.

        Parameters
        ----------
        model, tokenizer
            The policy and its tokenizer.
        stage : int
            Stage index (-1: the starting model).
        step : int
            Global optimizer step.
        """
        start = time.perf_counter()
        scores, entropies, stderrs, counts = {}, {}, {}, {}
        for task, (rows, reward) in self.eval_tasks.items():
            evaluation = evaluate_policy(
                model, tokenizer, rows, reward, self.config.evaluation, task=task
            )
            scores[task] = evaluation.score
            entropies[task] = evaluation.entropy
            stderrs[task] = evaluation.score_stderr
            counts[task] = evaluation.n_samples
        label = "start" if stage < 0 else self.schedule.stages[stage].label
        return StageRecord(
            stage=stage,
            label=label,
            step=step,
            scores=scores,
            entropies=entropies,
            stderrs=stderrs,
            n_samples=counts,
            eval_seconds=time.perf_counter() - start,
        )

    def _record(self, record: StageRecord, state: Any) -> None:
        self.results.add(record)
        logs: dict[str, float] = {"stage": float(record.stage)}
        for task in record.scores:
            logs[f"task/{task}/score"] = record.scores[task]
            logs[f"task/{task}/entropy"] = record.entropies[task]
        if record.stage >= 0:
            from taskorder.trl.stage_panel import stage_panel

            metrics = stage_panel(self.results, record.stage, self.config.reference_scores)
            self.stage_metrics[record.stage] = metrics
            logs.update(metrics)
        if self._trainer is not None:
            # CallbackHandler.on_log clears control.should_log; keep the trainer's own
            # decision to log this step's GRPO metrics.
            control = self._trainer.control
            should_log = control.should_log
            Trainer.log(self._trainer, logs)
            self._trainer.control.should_log = should_log
        if self.config.results_path and getattr(state, "is_world_process_zero", True):
            self.results.save(self.config.results_path)
        if self.on_stage_end is not None:
            self.on_stage_end(record)

    # ---------------------------------------------------------------- hooks
    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        """Drop records after the resumed checkpoint; evaluate the starting model.

        Parameters
        ----------
        args, state, control, model, processing_class
            As ``transformers.TrainerCallback`` passes them.
        """
        # Resuming: keep the records of the stages the checkpoint contains, drop later ones.
        finished = [
            index for index, end in enumerate(self.schedule.boundaries) if end <= state.global_step
        ]
        self.results.truncate(max(finished, default=-1) if state.global_step else -2)
        if state.global_step == 0 and self.config.evaluate_at_start:
            record = self.evaluate(model, processing_class, stage=-1, step=0)
            self._record(record, state)
        return control

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        """At a stage boundary: evaluate, log, record, and ask for a checkpoint.

        Parameters
        ----------
        args, state, control, model, processing_class
            As ``transformers.TrainerCallback`` passes them.
        """
        stage = self._stage_of_step.get(state.global_step)
        if stage is None:
            return control
        record = self.evaluate(model, processing_class, stage=stage, step=state.global_step)
        self._record(record, state)
        if self.config.checkpoint:
            control.should_save = True
        return control


def last_stage_checkpoint(output_dir: str | Path, schedule: Schedule) -> tuple[int, Path] | None:
    """The latest complete ``checkpoint-<step>`` at a stage boundary, as ``(stage, path)``."""
    output_dir = Path(output_dir)
    best: tuple[int, Path] | None = None
    for index, end in enumerate(schedule.boundaries):
        path = output_dir / f"checkpoint-{end}"
        # trainer_state.json is the last file Trainer._save_checkpoint writes.
        try:
            state = json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if state.get("global_step") == end:
            best = (index, path)
    return best
