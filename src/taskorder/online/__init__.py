"""Online schedules: the task mixture chosen per generation batch from training signals.

Offline planning (:func:`taskorder.recommend.recommend`) pays ``n + n(n-1)`` probe
stages up front and then fixes an order. The policies here decide *during* training,
batch by batch, from signals the GRPO step produces anyway, and cost almost nothing:

- ``"sec"`` (:class:`~taskorder.online.policies.SECPolicy`): Self-Evolving Curriculum,
  a non-stationary bandit rewarded by mean ``|advantage|``;
- ``"tac"`` (:class:`~taskorder.online.policies.TACPolicy`): Transfer-Aware Curriculum,
  ``|advantage|`` times one plus the gradient alignment with the other tasks;
- ``"worst_task"`` (:class:`~taskorder.online.policies.WorstTaskPolicy`): multiplicative
  weights towards the task with the lowest running reward (MT-GRPO's aim).

Every policy has one contract (:class:`~taskorder.online.policies.OnlinePolicy`):
``weights()`` gives the next batch's mixture (sums to 1, every weight at least the
floor), ``update(signals)`` reads one batch's :class:`~taskorder.online.policies.TaskSignal`
per task, ``state_dict()``/``load_state_dict()`` make it resumable exactly.

Two schedule shapes use measured transfer and an online policy together:
:mod:`~taskorder.online.refresh` (short refresh stages of earlier tasks at the end,
chosen from the measured BWT under a step budget) and :mod:`~taskorder.online.hybrid`
(the planned order's stages, with a bandit choosing each stage's mixture of the
current and earlier tasks). Numpy only: nothing here imports torch.
"""

from taskorder.online.hybrid import AnchoredPolicy, HybridPlan, plan_hybrid
from taskorder.online.policies import (
    POLICIES,
    Decision,
    OnlinePolicy,
    SECPolicy,
    TACPolicy,
    TaskSignal,
    WorstTaskPolicy,
    make_policy,
)
from taskorder.online.refresh import RefreshPlan, plan_refresh, with_refresh

__all__ = [
    "POLICIES",
    "AnchoredPolicy",
    "Decision",
    "HybridPlan",
    "OnlinePolicy",
    "RefreshPlan",
    "SECPolicy",
    "TACPolicy",
    "TaskSignal",
    "WorstTaskPolicy",
    "make_policy",
    "plan_hybrid",
    "plan_refresh",
    "with_refresh",
]
