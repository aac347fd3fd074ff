"""The result of :func:`taskorder.solve`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SolveResult"]


@dataclass(frozen=True)
class SolveResult:
    """A solved order with its value, proof status and context.

    Attributes
    ----------
    order : tuple of str
        Task names, first trained first.
    objective : float
        The order's objective value (equals :func:`taskorder.evaluate`).
    objective_name : str
        ``"all_pairs"`` or ``"adjacent"``.
    bound : float or None
        An upper bound on the best achievable value (equal to ``objective`` when
        optimal; ``None`` when no bound is known).
    status : str
        ``"optimal"`` (proven), ``"feasible"`` (exact method stopped early; see
        ``bound``) or ``"heuristic"`` (no claim).
    method : str
        The solver that produced the order.
    method_reason : str
        Why that solver was used (relevant for ``method="auto"``).
    elapsed_s : float
        Wall-clock seconds spent in the solver.
    predicted : dict
        Predicted final score per task (additive model; relative to the own-stage
        score when own scores are unknown).
    predicted_mean : float
        Weighted mean of ``predicted``.
    baselines : dict
        Objective value of reference orders: ``"rank_rule"`` (least to most
        forgettable) and ``"random_mean"`` (mean over random orders).
    anytime : list of (seconds, value)
        Best value found over time, for anytime solvers.
    extras : dict
        Solver-specific details.
    """

    order: tuple[str, ...]
    objective: float
    objective_name: str
    bound: float | None
    status: str
    method: str
    method_reason: str
    elapsed_s: float
    predicted: dict[str, float]
    predicted_mean: float
    baselines: dict[str, float]
    anytime: list[tuple[float, float]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative gap ``(bound - objective) / max(|bound|, 1)``; 0 when optimal."""
        if self.bound is None:
            return None
        return max(0.0, (self.bound - self.objective) / max(abs(self.bound), 1.0))

    def gain_over(self, baseline: str) -> float:
        """``objective - baselines[baseline]``: what the order gains over a reference."""
        return self.objective - self.baselines[baseline]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI's ``--json`` output)."""

        def clean(value: Any) -> Any:
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return value

        return {
            "order": list(self.order),
            "objective": self.objective,
            "objective_name": self.objective_name,
            "status": self.status,
            "bound": clean(self.bound),
            "gap": clean(self.gap),
            "method": self.method,
            "method_reason": self.method_reason,
            "elapsed_s": self.elapsed_s,
            "predicted": self.predicted,
            "predicted_mean": self.predicted_mean,
            "baselines": self.baselines,
            "anytime": [list(point) for point in self.anytime],
            "extras": {k: clean(v) for k, v in self.extras.items()},
        }
