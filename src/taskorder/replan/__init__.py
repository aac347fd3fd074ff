"""Re-planning during training: re-measure from the current model, re-solve what is left.

A plan made once, from probes of the *pretrained* model, assumes that transfer does not
depend on what was trained before. It does: on the built-in learner a task trained late
learns less, and the pairwise model's fidelity is far below its noise ceiling
(docs/estimator.md). :func:`replan_training` trains one stage at a time and, before
every stage, decides again from measurements of the *current* model:

1. **Probe matrix** (while more than ``horizon`` tasks are left): run a probe campaign
   over the remaining tasks, starting from the current state (first stages and
   ``design`` second stages, through the normal store and executors, so it resumes and
   runs in parallel), solve the remaining order exactly, and train its first task. The
   chosen task's first-stage probe *is* that stage: its saved state is loaded, nothing is
   trained twice.
2. **Enumerate** (when ``horizon`` or fewer tasks are left): run every order of the
   remaining tasks from the current state (prefix-shared: 15 stages for 3 tasks) and keep
   the one with the best measured mean final score over *all* tasks, finished ones
   included. The winning branch's states are the training, so nothing is retrained.

Why re-measure rather than update the old matrix with the scores seen so far: under any
pairwise model (additive, multiplicative, backward-only), a finished stage reveals pairs
that involve finished tasks, and those pairs contribute the same amount to every order of
the remaining tasks. Re-solving with them cannot change the remaining order; only new
measurements among the remaining tasks, or of the finished tasks' fate under each
remaining order (the enumeration), can. Every decision is logged with its reason
(:class:`Decision`).

Measured on the built-in learner (5 tasks, 6 worlds, ``benchmarks/replan.py``): see
docs/replanning.md.
"""

from taskorder.replan.core import replan_cost, replan_training
from taskorder.replan.result import Decision, ReplanResult
from taskorder.replan.settings import DESIGNS, ReplanSettings
from taskorder.replan.state import StateRunner

__all__ = [
    "DESIGNS",
    "Decision",
    "ReplanResult",
    "ReplanSettings",
    "StateRunner",
    "replan_cost",
    "replan_training",
]
