"""Curriculum vs joint multi-task training vs model merging, at equal training steps.

:func:`compare` trains, from the same base state and for the same total number of
steps (``n_tasks * stage_steps``), every recipe of the comparison and reports final
scores over seeds, relative gains and which differences exceed seed noise:

- curricula: the recommended order (method name ``"solver"``:
  :func:`taskorder.recommend.recommend` on the probed matrix), the rank rule's,
  random orders;
- mixtures (:mod:`~taskorder.compare.schedules`, as :class:`taskorder.schedule.Schedule`): joint multi-task training,
  interleaved round-robin stages, blocks (structured, then open-ended);
- merging (:mod:`~taskorder.compare.merging`): one specialist per task, merged by
  uniform averaging, task arithmetic or TIES (TIES needs torch and peft);
- online schedules (:mod:`~taskorder.compare.online_methods`): ``sec``, ``tac``,
  ``worst_task`` (a policy picks every batch's mixture) and the planned ``refresh`` and
  ``hybrid``; the cost column counts the probe campaign of planned methods and the
  online overhead, and ``report.planning`` says whether planning was worth its probes.

Definitions of gains and the test: :mod:`~taskorder.compare.stats`. Figure:
:func:`~taskorder.compare.figure.compare_bars`.
"""

from taskorder.compare.core import METHODS, CompareReport, Comparison, MethodResult, compare
from taskorder.compare.merging import MERGE_VARIANTS, merge_specialists
from taskorder.compare.schedules import (
    blocks,
    group_by_prefix,
    interleaved,
    joint,
    run_schedule,
    sequential,
)
from taskorder.compare.stats import paired_p_value, relative_gain, relative_performance

__all__ = [
    "MERGE_VARIANTS",
    "METHODS",
    "CompareReport",
    "Comparison",
    "MethodResult",
    "blocks",
    "compare",
    "group_by_prefix",
    "interleaved",
    "joint",
    "merge_specialists",
    "paired_p_value",
    "relative_gain",
    "relative_performance",
    "run_schedule",
    "sequential",
]
