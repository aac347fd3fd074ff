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
    """

    name: str
    kind: str
    description: str
    total_steps: int
    scores: np.ndarray
    relative: np.ndarray

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
    """Everything :func:`compare` measured; see :func:`compare` for the definitions."""

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
        }
