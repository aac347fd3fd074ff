"""The types every online policy and sampler share: a batch's signal, a logged decision,
the policy contract.

:class:`TaskSignal` is what a sampler hands a policy after each generation batch, per task;
:class:`Decision` is one logged decision (mixture, drawn counts, signals read);
:class:`OnlinePolicy` is the contract of :mod:`taskorder.online.policies`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Decision", "OnlinePolicy", "TaskSignal"]


@dataclass(frozen=True, eq=False)
class TaskSignal:
    """One task's training signal from one generation batch.

    Attributes
    ----------
    task : str
        Task name.
    mean_abs_advantage : float
        Mean ``|group-normalised advantage|`` over the task's completions in the batch
        (0 if every group was flat).
    mean_reward : float
        Mean reward of those completions.
    groups : int
        Groups (prompts) of this task in the batch; 0 means the task was not drawn and
        its other fields are ignored.
    gradient : ndarray or None
        The task's part of the policy gradient, flattened (only :class:`TACPolicy` reads it).

    Examples
    --------
    >>> TaskSignal("math", mean_abs_advantage=0.6, mean_reward=0.4, groups=3).groups
    3
    """

    task: str
    mean_abs_advantage: float
    mean_reward: float
    groups: int
    gradient: np.ndarray | None = None


@dataclass(frozen=True)
class Decision:
    """One logged decision: the mixture a batch was drawn with and what it drew.

    Attributes
    ----------
    batch : int
        Index of the generation batch within its stage (0-based).
    weights : dict of str to float
        The policy's mixture for that batch.
    counts : dict of str to float
        Groups drawn per task (expected counts where the batch is its expectation).
    signals : dict of str to dict
        What the batch then told the policy, per task: ``mean_abs_advantage``,
        ``mean_reward``, ``groups`` (gradients are not logged). Feeding these back
        through :meth:`as_signals` replays a policy that reads no gradient.

    Examples
    --------
    >>> d = Decision(0, {"a": 0.5, "b": 0.5}, {"a": 3, "b": 5})
    >>> Decision.from_dict(d.to_dict()) == d
    True
    """

    batch: int
    weights: dict[str, float]
    counts: dict[str, float] = field(default_factory=dict)
    signals: dict[str, dict[str, float]] = field(default_factory=dict)

    @staticmethod
    def log_signals(signals: Mapping[str, TaskSignal]) -> dict[str, dict[str, float]]:
        """The loggable part of ``signals`` (everything but the gradients)."""
        return {
            task: {
                "mean_abs_advantage": float(s.mean_abs_advantage),
                "mean_reward": float(s.mean_reward),
                "groups": int(s.groups),
            }
            for task, s in signals.items()
        }

    def as_signals(self) -> dict[str, TaskSignal]:
        """The logged signals as :class:`TaskSignal` objects (without gradients)."""
        return {
            task: TaskSignal(task, v["mean_abs_advantage"], v["mean_reward"], int(v["groups"]))
            for task, v in self.signals.items()
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "batch": self.batch,
            "weights": dict(self.weights),
            "counts": dict(self.counts),
            "signals": {task: dict(v) for task, v in self.signals.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """Inverse of :meth:`to_dict`."""
        return cls(
            int(data["batch"]),
            dict(data["weights"]),
            dict(data.get("counts", {})),
            {task: dict(v) for task, v in data.get("signals", {}).items()},
        )


@runtime_checkable
class OnlinePolicy(Protocol):
    """What a sampler needs from an online policy."""

    name: str
    tasks: tuple[str, ...]

    def weights(self) -> dict[str, float]:
        """Mixture of the next batch: sums to 1, every weight at least the floor."""
        ...

    def update(self, signals: Mapping[str, TaskSignal]) -> None:
        """Read one batch's signals (tasks missing from ``signals`` count as not drawn)."""
        ...

    def state_dict(self) -> dict:
        """JSON-serialisable state, random state included."""
        ...

    def load_state_dict(self, state: dict) -> None:
        """Restore a state written by :meth:`state_dict` of an identically built policy."""
        ...
