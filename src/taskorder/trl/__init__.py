"""TRL adapter: train GRPO stage by stage in a chosen order, and probe transfer with it.

Needs the ``trl`` extra (``pip install 'taskorder[trl]'``). Names are imported on
first use, so ``import taskorder.trl`` alone stays light.

Which piece when
----------------
:func:`apply_schedule`
    You already build a ``trl.GRPOTrainer``: install a :class:`~taskorder.schedule.Schedule`
    on it (the only touch of a private TRL hook, ``_get_train_sampler``).
:class:`StageCallback`
    Evaluate every task at every stage boundary (score, entropy), log, checkpoint,
    and collect the accuracy matrix R and GEM metrics (:class:`StageResults`).
:class:`TRLProbeRunner`
    The runner protocol (``taskorder.runner``) with real GRPO, for probing BWT.
:func:`run_training` / ``taskorder train CONFIG``
    The whole pipeline from a YAML/TOML file (:class:`TrainConfig`), resumable.
:class:`TaskPanel`
    Per-task reward, ``|advantage|``, zero-advantage rate, entropy and KL of a mixed or
    online stage, logged as ``panel/<task>/<metric>`` (:class:`GenerationTaskStats`
    per generation batch); :func:`stage_panel` adds forgetting, intransigence and the
    worst task at every stage end.
:class:`OnlineMixer` / ``Stage(..., online="sec")``
    An online stage: a policy of :mod:`taskorder.online` picks each generation batch's
    mixture from the panel's signals; decisions go to a JSONL log
    (:func:`read_decision_log`) and into checkpoints (:class:`OnlineStateCallback`).
:class:`TaskGradients`
    Each task's part of GRPO's gradient at the final norm (:func:`final_norm_module`),
    for gradient-alignment policies (``tac``).
:mod:`taskorder.trl.toy`
    A tiny offline model and three synthetic tasks (tests, benchmark, example).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "GRADIENT_METHODS",
    "ONLINE_STATE_FILE",
    "BatchGeometry",
    "EvalConfig",
    "GenerationTaskStats",
    "OnlineMixer",
    "OnlineStateCallback",
    "RLTask",
    "Schedule",
    "ScheduleSampler",
    "Stage",
    "StageCallback",
    "StageCallbackConfig",
    "StageRecord",
    "StageResults",
    "TRLProbeRunner",
    "TRLRunnerConfig",
    "TaskGradients",
    "TaskPanel",
    "TrainConfig",
    "TrainResult",
    "apply_schedule",
    "evaluate_policy",
    "final_norm_module",
    "for_task",
    "generation_task_stats",
    "load_rows",
    "load_train_config",
    "multitask_dataset",
    "read_decision_log",
    "resolve_reward",
    "run_training",
    "stage_panel",
]

_WHERE = {
    "Schedule": "taskorder.schedule",
    "Stage": "taskorder.schedule",
    "apply_schedule": "taskorder.trl.apply",
    "ScheduleSampler": "taskorder.trl.sampler",
    "BatchGeometry": "taskorder.trl.sampler",
    "StageCallback": "taskorder.trl.callback",
    "StageCallbackConfig": "taskorder.trl.callback",
    "StageRecord": "taskorder.trl.results",
    "StageResults": "taskorder.trl.results",
    "EvalConfig": "taskorder.trl.evaluation",
    "evaluate_policy": "taskorder.trl.evaluation",
    "TRLProbeRunner": "taskorder.trl.runner",
    "TRLRunnerConfig": "taskorder.trl.runner",
    "RLTask": "taskorder.trl.data",
    "load_rows": "taskorder.trl.data",
    "multitask_dataset": "taskorder.trl.data",
    "resolve_reward": "taskorder.trl.reward_specs",
    "for_task": "taskorder.trl.reward_specs",
    "TrainConfig": "taskorder.trl.config",
    "load_train_config": "taskorder.trl.config",
    "run_training": "taskorder.trl.pipeline",
    "TrainResult": "taskorder.trl.pipeline",
    "TaskPanel": "taskorder.trl.panel",
    "GenerationTaskStats": "taskorder.trl.panel",
    "generation_task_stats": "taskorder.trl.panel",
    "stage_panel": "taskorder.trl.stage_panel",
    "TaskGradients": "taskorder.trl.task_gradients",
    "GRADIENT_METHODS": "taskorder.trl.task_gradients",
    "final_norm_module": "taskorder.trl.task_gradients",
    "OnlineMixer": "taskorder.trl.online_mixer",
    "OnlineStateCallback": "taskorder.trl.online_mixer",
    "ONLINE_STATE_FILE": "taskorder.trl.online_mixer",
    "read_decision_log": "taskorder.trl.online_mixer",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'taskorder.trl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
