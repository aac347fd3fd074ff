"""The result types of :func:`taskorder.compare.compare`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ALPHA", "CompareReport", "Comparison", "MethodResult"]

#: Significance level of the paired t-test.
ALPHA = 0.05


@dataclass(frozen=True)
class MethodResult:
    """Final scores of one method over seeds.

    Attributes
    ----------
    name, kind : str
        ``kind`` is ``"curriculum"``, ``"mixture"`` or ``"merge"``.
    description : str
        The order, or the schedule in words.
    total_steps : int
        Training steps of one seed's run (equal for every method).
    scores : ndarray, shape (seeds, tasks)
        Final score of every task, per seed.
    relative : ndarray, shape (seeds,)
        Mean over tasks of ``score / specialist score`` per seed.
    probe_steps : int
        Training steps of the probe campaign the method needs (``solver``,
        ``rank_rule``, ``refresh``, ``hybrid``: ``n + n(n-1)`` probe stages times the
        repeats); 0 for the others.
    overhead_s, elapsed_s : float
        Mean per seed: seconds of the online policy's own work (its updates, plus
        TAC's per-task gradients and cosines) and seconds of the online stages it is
        part of; 0 for methods without online stages.
    """

    name: str
    kind: str
    description: str
    total_steps: int
    scores: np.ndarray
    relative: np.ndarray
    probe_steps: int = 0
    overhead_s: float = 0.0
    elapsed_s: float = 0.0

    @property
    def overhead_steps(self) -> float:
        """The online overhead in training-step equivalents (seconds over seconds per step)."""
        work = self.elapsed_s - self.overhead_s
        return self.overhead_s / work * self.total_steps if work > 0 else 0.0

    @property
    def cost_steps(self) -> float:
        """What the method costs beyond its ``total_steps``: probes plus online overhead."""
        return self.probe_steps + self.overhead_steps

    @property
    def seed_means(self) -> np.ndarray:
        """Mean final score over tasks, per seed."""
        return self.scores.mean(axis=1)

    @property
    def mean(self) -> float:
        return float(self.seed_means.mean())

    @property
    def std(self) -> float:
        """Standard deviation over seeds (ddof 1; 0 with one seed)."""
        return float(self.seed_means.std(ddof=1)) if len(self.seed_means) > 1 else 0.0

    def to_dict(self, tasks: Sequence[str]) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "total_steps": self.total_steps,
            "mean_score": self.mean,
            "std_score": self.std,
            "seed_means": self.seed_means.tolist(),
            "per_task_mean": dict(zip(tasks, self.scores.mean(axis=0).tolist())),
            "per_task_std": dict(
                zip(
                    tasks,
                    (
                        self.scores.std(axis=0, ddof=1)
                        if len(self.scores) > 1
                        else np.zeros(len(tasks))
                    ).tolist(),
                )
            ),
            "cost": {
                "probe_steps": self.probe_steps,
                "overhead_s": self.overhead_s,
                "online_elapsed_s": self.elapsed_s,
                "overhead_steps": self.overhead_steps,
                "cost_steps": self.cost_steps,
                "cost_ratio": (self.total_steps + self.cost_steps) / self.total_steps,
            },
            "relative_to_specialists": float(self.relative.mean()),
            "relative_to_specialists_std": float(self.relative.std(ddof=1))
            if len(self.relative) > 1
            else 0.0,
        }


@dataclass(frozen=True)
class Comparison:
    """Method ``method`` against ``reference``: relative gain (%) and paired-test p-value."""

    method: str
    reference: str
    gain_pct: float
    p_value: float
    significant: bool

    def to_dict(self) -> dict[str, Any]:
        p = None if math.isnan(self.p_value) else self.p_value
        return {**self.__dict__, "p_value": p}


@dataclass(frozen=True)
class CompareReport:
    """Everything :func:`compare` measured; see :func:`compare` for the definitions.

    ``planning`` has one entry per method that needs probes, when online methods ran
    too: its gain over the best online method, the paired test, the probe cost as a
    multiple of one training run, and ``worth_probes`` (it beats the best online
    method significantly at equal training steps).
    """

    tasks: tuple[str, ...]
    stage_steps: int
    seeds: int
    methods: dict[str, MethodResult]
    specialist: np.ndarray
    reference: str
    comparisons: list[Comparison]
    probe: dict[str, Any] | None
    test: str
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    planning: list[dict[str, Any]] = field(default_factory=list)

    def comparison(self, method: str, reference: str) -> Comparison | None:
        """The comparison of ``method`` against ``reference``, if it was made."""
        for item in self.comparisons:
            if (item.method, item.reference) == (method, reference):
                return item
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": list(self.tasks),
            "stage_steps": self.stage_steps,
            "total_steps": self.stage_steps * len(self.tasks),
            "seeds": self.seeds,
            "methods": {k: m.to_dict(self.tasks) for k, m in self.methods.items()},
            "specialist_mean": dict(zip(self.tasks, self.specialist.mean(axis=0).tolist())),
            "reference": self.reference,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "test": self.test,
            "alpha": ALPHA,
            "probe": self.probe,
            "notes": list(self.notes),
            "elapsed_s": self.elapsed_s,
            "planning": [dict(item) for item in self.planning],
        }
