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
    The runner protocol (``taskorder.estimate.runner``) with real GRPO, for probing BWT.
:func:`run_training` / ``taskorder train CONFIG``
    The whole pipeline from a YAML/TOML file (:class:`TrainConfig`), resumable.
:mod:`taskorder.trl.toy`
    A tiny offline model and three synthetic tasks (tests, benchmark, example).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BatchGeometry",
    "EvalConfig",
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
    "TrainConfig",
    "TrainResult",
    "apply_schedule",
    "evaluate_policy",
    "for_task",
    "load_rows",
    "load_train_config",
    "multitask_dataset",
    "resolve_reward",
    "run_training",
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
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'taskorder.trl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
