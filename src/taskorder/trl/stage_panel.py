"""The stage-end half of the per-task panel: GEM, forgetting, intransigence, worst task.

After each stage ``k`` the :class:`~taskorder.trl.callback.StageCallback` logs, from
the held-out scores of the stages so far:

- ``stage/acc``, ``stage/bwt``, ``stage/fwt``: GEM's metrics
  (:func:`taskorder.metrics.gem_metrics`) on the rows and columns of the stages so far,
  for schedules that train one task per stage, each once (otherwise GEM's matrix is
  not defined and they are not logged); ``bwt``/``fwt`` from the second stage on,
  ``fwt`` only with a baseline record;
- ``task/<t>/forgetting`` and ``stage/forgetting`` (their mean), Chaudhry et al.
  (2018): the best score task ``t`` had at the end of a stage since the first stage
  that trained it, minus its score now, for every task trained before stage ``k``
  (this is :func:`taskorder.metrics.forgetting` for sequential schedules, and extends
  it to mixed, online and refresh stages);
- ``task/<t>/intransigence`` and ``stage/intransigence`` (mean): the reference score
  ``a*_t`` minus the score right after the first stage that trained ``t``; only with
  reference scores;
- ``stage/worst_task_score``: the lowest held-out score over all tasks now.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.metrics import gem_metrics

__all__ = ["stage_panel"]


def _first_training_stage(schedule: Any) -> dict[str, int]:
    first: dict[str, int] = {}
    for index, stage in enumerate(schedule.stages):
        for task in stage.task_names:
            first.setdefault(task, index)
    return first


def stage_panel(
    results: Any, stage: int, reference_scores: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The stage-end metrics after ``stage`` from a run's :class:`StageResults`.

    Parameters
    ----------
    results : StageResults
        Records of the run, including that of ``stage`` (and of every earlier stage).
    stage : int
        The stage just finished.
    reference_scores : mapping of str to float, optional
        ``a*`` per task, for intransigence.

    Returns
    -------
    dict of str to float
        Log keys (see the module docstring) to values.

    Raises
    ------
    InvalidParameterError
        If a stage up to ``stage`` has no record.

    Examples
    --------
    >>> from taskorder.schedule import Schedule
    >>> from taskorder.trl.results import StageRecord, StageResults
    >>> schedule = Schedule.from_order(["a", "b"], steps=2)
    >>> def rec(stage, a, b):
    ...     return StageRecord(stage, str(stage), 2 * stage + 2, {"a": a, "b": b}, {"a": 1, "b": 1})
    >>> results = StageResults(schedule, ["a", "b"], [rec(-1, 0.1, 0.2), rec(0, 0.8, 0.3),
    ...                                               rec(1, 0.6, 0.9)])
    >>> panel = stage_panel(results, 1, {"a": 0.9, "b": 0.95})
    >>> {k: round(v, 6) for k, v in sorted(panel.items())}  # doctest: +NORMALIZE_WHITESPACE
    {'stage/acc': 0.75, 'stage/bwt': -0.2, 'stage/forgetting': 0.2, 'stage/fwt': 0.1,
     'stage/intransigence': 0.075, 'stage/worst_task_score': 0.6, 'task/a/forgetting': 0.2,
     'task/a/intransigence': 0.1, 'task/b/intransigence': 0.05}
    """
    by_stage = {record.stage: record for record in results.records}
    missing = [k for k in range(stage + 1) if k not in by_stage]
    if missing:
        raise InvalidParameterError(
            f"stage_panel after stage {stage} needs the records of stages {missing}."
        )
    now = by_stage[stage].scores
    logs: dict[str, float] = {"stage/worst_task_score": float(min(now.values()))}
    first = _first_training_stage(results.schedule)
    forgetting = {}
    for task, start in first.items():
        if start < stage and task in now:
            best = max(by_stage[k].scores[task] for k in range(start, stage))
            forgetting[task] = best - now[task]
            logs[f"task/{task}/forgetting"] = forgetting[task]
    if forgetting:
        logs["stage/forgetting"] = float(np.mean(list(forgetting.values())))
    if reference_scores:
        gaps = {
            task: float(reference_scores[task]) - by_stage[start].scores[task]
            for task, start in first.items()
            if start <= stage and task in reference_scores
        }
        for task, gap in gaps.items():
            logs[f"task/{task}/intransigence"] = gap
        if gaps:
            logs["stage/intransigence"] = float(np.mean(list(gaps.values())))
    logs.update(_gem_so_far(results, by_stage, stage))
    return logs


def _gem_so_far(results: Any, by_stage: dict[int, Any], stage: int) -> dict[str, float]:
    try:
        order = results.training_order()[: stage + 1]
    except InvalidParameterError:
        return {}  # mixed, online or repeated stages: GEM's matrix is not defined
    R = np.array([[by_stage[k].scores[t] for t in order] for k in range(stage + 1)])
    if stage == 0:
        return {"stage/acc": float(R[0, 0])}
    baseline = results.baseline
    gem = gem_metrics(R, None if baseline is None else [baseline.scores[t] for t in order])
    logs = {"stage/acc": gem.acc, "stage/bwt": gem.bwt}
    if gem.fwt is not None:
        logs["stage/fwt"] = gem.fwt
    return logs
