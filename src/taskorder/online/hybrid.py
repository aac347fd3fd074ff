"""The hybrid schedule: stages planned from the measured matrix, mixtures chosen online.

Definition
----------
Given a measured :class:`~taskorder.matrix.TransferMatrix` and ``stage_steps``:

1. **Order.** The fixed order of :func:`taskorder.recommend.recommend` (or one given).
2. **Stages.** Stage ``k`` (0-based) trains on the *current* task ``order[k]`` and the
   tasks before it, ``order[:k+1]``, as one online stage: before every generation
   batch the mixture is ``anchor * current + (1 - anchor) * bandit``, where the bandit
   (``sec`` by default, any of :data:`~taskorder.online.policies.POLICIES`) is a fresh
   policy over ``order[:k+1]`` (:class:`AnchoredPolicy`). The anchor keeps the plan
   a plan (the current task has at least ``anchor`` of every batch); the bandit spends
   the rest where the signals say learning is, earlier tasks included, which is
   rehearsal chosen online. Stage 0 is the first task alone.
3. **Refresh** (optional, ``refresh_share > 0``): every stage gives up
   ``round(refresh_share * stage_steps)`` steps; :func:`~taskorder.online.refresh.plan_refresh`
   spends that budget on short stages of earlier tasks at the end (unused budget goes
   back to the stages).

In all ``len(order) * stage_steps`` steps: the budget of a plain curriculum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from taskorder.checks import check_choice, check_float
from taskorder.exceptions import InvalidParameterError
from taskorder.online.policies import POLICIES, TaskSignal, make_policy
from taskorder.online.refresh import RefreshPlan, with_refresh

__all__ = ["AnchoredPolicy", "HybridPlan", "plan_hybrid"]


class AnchoredPolicy:
    """``share`` of every batch on ``current``, the rest as ``inner`` chooses.

    Parameters
    ----------
    inner : OnlinePolicy
        The bandit over the stage's tasks (``current`` among them).
    current : str
        The anchored task.
    share : float
        Its guaranteed share, in [0, 1).

    Examples
    --------
    >>> policy = AnchoredPolicy(make_policy("sec", ["a", "b"]), "b", 0.5)
    >>> policy.weights()
    {'a': 0.25, 'b': 0.75}
    """

    def __init__(self, inner: Any, current: str, share: float) -> None:
        check_choice(current, getattr(inner, "tasks", ()), "current", "AnchoredPolicy")
        share = check_float(share, "share", "AnchoredPolicy", minimum=0, maximum=1, high_open=True)
        self.inner, self.current, self.share = inner, current, share
        self.name = f"{inner.name}+anchor"
        self.tasks = tuple(inner.tasks)
        self.needs_gradients = bool(getattr(inner, "needs_gradients", False))

    def weights(self) -> dict[str, float]:
        """``share`` on ``current`` plus ``(1 - share)`` times the inner mixture."""
        inner = self.inner.weights()
        mixed = {t: (1 - self.share) * w + (self.share if t == self.current else 0.0)
                 for t, w in inner.items()}  # fmt: skip
        total = sum(mixed.values())
        return {t: w / total for t, w in mixed.items()}

    def update(self, signals: Mapping[str, TaskSignal]) -> None:
        """Pass the signals to the inner policy."""
        self.inner.update(signals)

    def state_dict(self) -> dict:
        return {"current": self.current, "share": self.share, "inner": self.inner.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if state.get("current") != self.current or state.get("share") != self.share:
            raise InvalidParameterError(
                "The 'state' parameter of AnchoredPolicy.load_state_dict must come from a "
                f"policy anchored on {self.current!r} with share {self.share}. Got "
                f"{state.get('current')!r} with share {state.get('share')}."
            )
        self.inner.load_state_dict(state["inner"])


@dataclass(frozen=True)
class HybridPlan:
    """What :func:`plan_hybrid` decided.

    Attributes
    ----------
    order : tuple of str
        The planned order.
    stages : tuple of (tuple of str, int)
        Per stage, its tasks ``order[:k+1]`` (current task last) and its steps.
    refresh : RefreshPlan
        Refresh stages after the main ones (possibly none).
    policy : str
        The bandit of every stage.
    options : dict
        Its options.
    anchor : float
        The current task's guaranteed share.
    reason : str
        Where the order came from.
    """

    order: tuple[str, ...]
    stages: tuple[tuple[tuple[str, ...], int], ...]
    refresh: RefreshPlan
    policy: str
    options: dict[str, Any] = field(default_factory=dict)
    anchor: float = 0.5
    reason: str = ""

    @property
    def total_steps(self) -> int:
        return sum(steps for _, steps in self.stages) + self.refresh.total_steps

    def describe(self) -> str:
        """One line: order, bandit, refresh."""
        refresh = ", ".join(f"{t}:{s}" for t, s in self.refresh.stages) or "none"
        return (
            f"{' > '.join(self.order)}; stage k mixes order[:k+1], {self.anchor:g} on the "
            f"current task, rest by {self.policy}; refresh {refresh}"
        )


def plan_hybrid(
    matrix: Any,
    *,
    stage_steps: int,
    policy: str = "sec",
    anchor: float = 0.5,
    refresh_share: float = 0.1,
    order: Sequence[str] | None = None,
    seed: int = 0,
    **options: Any,
) -> HybridPlan:
    """Plan the hybrid schedule (module docstring) from a measured ``matrix``.

    Parameters
    ----------
    matrix : TransferMatrix
        Complete measured matrix.
    stage_steps : int
        Steps per task (the schedule spends ``n * stage_steps``).
    policy : str, default "sec"
        The bandit within each stage.
    anchor : float, default 0.5
        Guaranteed share of the current task, in [0, 1).
    refresh_share : float, default 0.1
        Share of each stage given to the refresh budget (0: no refresh).
    order : sequence of str, optional
        Use this order instead of :func:`taskorder.recommend.recommend`'s.
    seed : int
        Seed of the recommendation.
    **options
        The bandit's options (:func:`~taskorder.online.policies.make_policy`).

    Examples
    --------
    >>> from taskorder.matrix import TransferMatrix
    >>> m = TransferMatrix(["a", "b"], [[0, -0.2], [0.0, 0]])
    >>> plan = plan_hybrid(m, stage_steps=20, order=["a", "b"], refresh_share=0.25)
    >>> plan.stages, plan.refresh.stages, plan.total_steps
    (((('a',), 15), (('a', 'b'), 15)), (('a', 10),), 40)
    """
    check_choice(policy, POLICIES, "policy", "plan_hybrid")
    make_policy(policy, ["x", "y"], **options)  # options checked now, not mid-training
    AnchoredPolicy(make_policy(policy, ["x", "y"], **options), "x", anchor)
    if order is None:
        from taskorder.recommend import recommend

        recommendation = recommend(matrix, seed=seed)
        order, reason = recommendation.order, f"recommend: {recommendation.reason}"
    else:
        reason = "order given"
    main, refresh = with_refresh(
        matrix, list(order), stage_steps=stage_steps, refresh_share=refresh_share
    )
    stages = tuple((tuple(order[: k + 1]), steps) for k, (_, steps) in enumerate(main))
    return HybridPlan(tuple(order), stages, refresh, policy, dict(options), float(anchor), reason)
