"""One short progress line per optimizer step: step, stage, task, reward.

``taskorder train`` turns off TRL's progress bar (``disable_tqdm``; a bar redrawn in a
log file is noise) and its printer of whole log dicts. :class:`StepProgress` replaces
both with one line per logged step, for example::

    step 12/96  stage 1/3 qa  reward 0.344 (qa 0.344)  loss 0.0123  0.9 s/step  eta 1m16s

A line is written at the first step, at the last step of every stage and of the run,
and otherwise at most once per ``min_interval_s`` seconds, so a long run does not flood
its log. The reward is the mean reward of the completions the step trained on
(``reward`` and ``rewards/<task>/mean`` of GRPO's logs; with ``num_iterations`` or
``steps_per_generation`` above 1 they are logged at generation steps only, and
the steps that reuse a generation show its reward).

:func:`report_steps` makes :func:`~taskorder.trl.apply.apply_schedule` attach one to
every trainer it schedules while the ``with`` block runs, so a caller can ask for
progress from code that builds its trainers itself (the training pipeline, the probe
runner).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from transformers import TrainerCallback

from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule

__all__ = ["StepProgress", "active_step_reporter", "format_duration", "report_steps"]


@dataclass(frozen=True)
class _Reporter:
    sink: Callable[[str], None]
    min_interval_s: float


_REPORTER: contextvars.ContextVar[_Reporter | None] = contextvars.ContextVar(
    "taskorder_step_reporter", default=None
)


@contextlib.contextmanager
def report_steps(sink: Callable[[str], None], *, min_interval_s: float = 10.0) -> Iterator[None]:
    """Within the block, every trainer given to ``apply_schedule`` reports its steps to ``sink``.

    Parameters
    ----------
    sink : callable
        Receives each progress line (without a newline).
    min_interval_s : float, default 10
        Least seconds between two lines, except at the first step and at stage ends.
    """
    if not (isinstance(min_interval_s, (int, float)) and min_interval_s >= 0):
        raise InvalidParameterError(
            f"The 'min_interval_s' parameter of report_steps must be a number of seconds >= 0. "
            f"Got {min_interval_s!r}."
        )
    token = _REPORTER.set(_Reporter(sink, float(min_interval_s)))
    try:
        yield
    finally:
        _REPORTER.reset(token)


def active_step_reporter() -> tuple[Callable[[str], None], float] | None:
    """``(sink, min_interval_s)`` of the enclosing :func:`report_steps`, or ``None``."""
    reporter = _REPORTER.get()
    return None if reporter is None else (reporter.sink, reporter.min_interval_s)


def format_duration(seconds: float) -> str:
    """``"45s"``, ``"3m05s"`` or ``"2h07m"``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class StepProgress(TrainerCallback):
    """Write one line per optimizer step (throttled) to ``sink``.

    Parameters
    ----------
    schedule : Schedule
        The resolved schedule the trainer runs.
    sink : callable
        Receives each line.
    min_interval_s : float, default 10
        Least seconds between two lines, except at the first step and at stage ends.
    """

    def __init__(
        self,
        schedule: Schedule,
        sink: Callable[[str], None],
        *,
        min_interval_s: float = 10.0,
    ) -> None:
        if not isinstance(schedule, Schedule) or not schedule.is_resolved:
            raise InvalidParameterError(
                "The 'schedule' parameter of StepProgress must be a resolved Schedule "
                "(apply_schedule(trainer, schedule).schedule)."
            )
        self.schedule = schedule
        self.sink = sink
        self.min_interval_s = float(min_interval_s)
        self._ends = set(schedule.boundaries)
        self._rewards: dict[str, float] = {}
        self._started: float | None = None
        self._first_step = 0
        self._last_line = -math.inf

    def on_train_begin(self, args, state, control, **kwargs):
        """Start counting at ``state.global_step`` (the resumed step, or 0).

        Parameters
        ----------
        args, state, control
            As ``transformers.TrainerCallback`` passes them.
        **kwargs
            Ignored.
        """
        self._started = None
        self._first_step = state.global_step
        self._rewards = {}
        return control

    def on_step_begin(self, args, state, control, **kwargs):
        """Start the clock at the first step (after any evaluation of the starting model).

        Parameters
        ----------
        args, state, control
            As ``transformers.TrainerCallback`` passes them.
        **kwargs
            Ignored.
        """
        if self._started is None:  # after any evaluation of the starting model
            self._started = time.perf_counter()
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        """Keep the latest rewards of a training log and write a line when one is due.

        Parameters
        ----------
        args, state, control
            As ``transformers.TrainerCallback`` passes them.
        logs : dict, optional
            The logged values; records without ``loss`` (evaluations, the end-of-training
            summary) are ignored.
        **kwargs
            Ignored.
        """
        logs = logs or {}
        if "loss" not in logs:  # evaluation records and the end-of-training summary
            return control
        for key, value in logs.items():
            is_reward = key == "reward" or (key.startswith("rewards/") and key.endswith("/mean"))
            if is_reward and isinstance(value, (int, float)) and math.isfinite(value):
                self._rewards[key] = float(value)
        step, now = state.global_step, time.perf_counter()
        due = now - self._last_line >= self.min_interval_s
        if step == self._first_step + 1 or step in self._ends or due:
            self._last_line = now
            self.sink(self.line(step, logs, now))
        return control

    def line(self, step: int, logs: dict[str, Any], now: float | None = None) -> str:
        """The progress line of optimizer step ``step`` (1-based: steps done).

        Parameters
        ----------
        step : int
            Optimizer steps done; the stage shown is the one this step belongs to.
        logs : dict
            The step's logged values; its ``loss`` is shown when it is a number.
        now : float, optional
            ``time.perf_counter()`` reading for the time per step and the ETA (default:
            read it now).

        Returns
        -------
        str
            Step, stage, rewards (overall and per task of the stage), loss, seconds per
            step and ETA, separated by two spaces.
        """
        total = self.schedule.total_steps
        index = self.schedule.stage_index_at(min(step, total) - 1)
        stage = self.schedule[index]
        parts = [f"step {step}/{total}", f"stage {index + 1}/{len(self.schedule)} {stage.label}"]
        if "reward" in self._rewards:
            per_task = [
                f"{task} {self._rewards[f'rewards/{task}/mean']:.3f}"
                for task in stage.task_names
                if f"rewards/{task}/mean" in self._rewards
            ]
            detail = f" ({', '.join(per_task)})" if per_task else ""
            parts.append(f"reward {self._rewards['reward']:.3f}{detail}")
        if isinstance(logs.get("loss"), (int, float)):
            parts.append(f"loss {logs['loss']:.4g}")
        done = step - self._first_step
        if self._started is not None and done > 0:
            per_step = ((now or time.perf_counter()) - self._started) / done
            parts.append(f"{per_step:.2f} s/step" if per_step < 10 else f"{per_step:.0f} s/step")
            if step < total:
                parts.append(f"eta {format_duration(per_step * (total - step))}")
        return "  ".join(parts)
