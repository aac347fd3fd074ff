"""The result of :func:`taskorder.solve`, with typed parts for noise and entropy."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["OBJECTIVE_NAMES", "EntropyOutcome", "RobustCandidate", "Robustness", "SolveResult"]

#: What :attr:`SolveResult.objective` is, by :attr:`SolveResult.objective_name`
#: (``w_i`` are the matrix's task weights, ``final_i`` the predicted final scores under
#: :attr:`SolveResult.model`, ``own_i`` the own-stage scores; see docs/problem.md).
OBJECTIVE_NAMES: dict[str, str] = {
    "all_pairs": "sum_i w_i * (final_i - own_i), every later stage acting on every "
    "earlier task (additive model: the Linear Ordering value of the pair weights)",
    "adjacent": "sum_i w_i * (final_i - own_i), only the next stage acting on each task",
    "max_min": "min_i final_i, the lowest predicted final score (unweighted)",
    "all_pairs+entropy": "the all_pairs value plus sum_t weight_t * (predicted final "
    "entropy of t - its own-stage entropy); EntropyOutcome splits the two",
}


def _clean(value: Any) -> Any:
    """JSON-ready: non-finite floats become ``None``, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


@dataclass(frozen=True)
class RobustCandidate:
    """One candidate order of a solve under noise, scored over the plausible matrices.

    Attributes
    ----------
    order : tuple of str
    p_optimal : float
        Share of plausible matrices on which this order is at least as good as that
        matrix's own solved order.
    optimal_in_draws : int
        How many plausible matrices solved to exactly this order.
    mean : float
        Mean objective over the plausible matrices.
    quantile_value : float
        The lower ``quantile`` of its objective over them.
    point_value : float
        Its objective on the point estimate.
    """

    order: tuple[str, ...]
    p_optimal: float
    optimal_in_draws: int
    mean: float
    quantile_value: float
    point_value: float


@dataclass(frozen=True)
class Robustness:
    """How sure the answer is under noise (``ProblemSpec.risk``; :mod:`taskorder.solvers.robust`).

    Attributes
    ----------
    risk : str
        ``"mean"``, ``"quantile"`` or ``"probability"``: how the order was chosen.
    quantile : float
    n_samples : int
        Plausible matrices used.
    p_optimal : float
        ``p_optimal`` of the chosen order.
    candidates : tuple of RobustCandidate
        Up to 20, best first by the risk criterion.
    gaussian : bool
        True for draws from the standard errors, False for given samples.
    """

    risk: str
    quantile: float
    n_samples: int
    p_optimal: float
    candidates: tuple[RobustCandidate, ...]
    gaussian: bool = True


@dataclass(frozen=True)
class EntropyOutcome:
    """Predicted final entropies of the order and the entropy terms of the objective.

    Attributes
    ----------
    model : str
        The entropy model (``"additive"`` or ``"multiplicative"``).
    predicted : dict of str to float
        Predicted final entropy per task, in nats.
    floors : dict of str to float
        The floors that were imposed (empty without ``entropy_floor``).
    score_objective : float or None
        With ``entropy_weight``: the objective without the entropy term.
    entropy_objective : float or None
        With ``entropy_weight``: the entropy term, so that
        ``score_objective + entropy_objective == SolveResult.objective``.
    """

    model: str
    predicted: dict[str, float]
    floors: dict[str, float] = field(default_factory=dict)
    score_objective: float | None = None
    entropy_objective: float | None = None


@dataclass(frozen=True)
class SolveResult:
    """A solved order with its value, proof status and context.

    Attributes
    ----------
    order : tuple of str
        Task names, first trained first.
    objective : float
        The order's objective value; :data:`OBJECTIVE_NAMES` says exactly what it is
        for each ``objective_name`` (for the additive model without entropy terms it
        equals :func:`taskorder.evaluate`).
    objective_name : str
        A key of :data:`OBJECTIVE_NAMES`: ``"all_pairs"``, ``"adjacent"``,
        ``"max_min"`` or ``"all_pairs+entropy"``.
    bound : float or None
        An upper bound on the best achievable value (equal to ``objective`` when
        optimal; ``None`` when no bound is known).
    status : str
        ``"optimal"`` (proven), ``"feasible"`` (exact method stopped early; see
        ``bound``) or ``"heuristic"`` (no claim).
    method : str
        The solver that produced the order (``"robust[dp]"`` under noise).
    method_reason : str
        Why that solver was used (relevant for ``method="auto"``).
    elapsed_s : float
        Wall-clock seconds spent in the solver.
    predicted : dict
        Predicted final score per task under ``model`` (relative to the own-stage
        score when own scores are unknown).
    predicted_mean : float
        Weighted mean of ``predicted``.
    baselines : dict
        The same objective for reference orders: ``"rank_rule"`` (least to most
        forgettable) and ``"random_mean"`` (mean over random orders).
    anytime : list of (seconds, value)
        Best value found over time, for anytime solvers.
    extras : dict
        Solver diagnostics only (e.g. ``rounding_error_bound``, ``stop_reason``); they
        never change what ``objective`` means.
    model : str
        The outcome model the order was solved under (:mod:`taskorder.model`).
    robustness : Robustness or None
        Set when the problem was solved under noise (``ProblemSpec.risk``).
    entropy : EntropyOutcome or None
        Set when an entropy matrix was given.
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
    model: str = "additive"
    robustness: Robustness | None = None
    entropy: EntropyOutcome | None = None

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
        return {
            "order": list(self.order),
            "objective": self.objective,
            "objective_name": self.objective_name,
            "model": self.model,
            "status": self.status,
            "bound": _clean(self.bound),
            "gap": _clean(self.gap),
            "method": self.method,
            "method_reason": self.method_reason,
            "elapsed_s": self.elapsed_s,
            "predicted": self.predicted,
            "predicted_mean": self.predicted_mean,
            "baselines": self.baselines,
            "anytime": [list(point) for point in self.anytime],
            "robustness": None if self.robustness is None else _clean(asdict(self.robustness)),
            "entropy": None if self.entropy is None else _clean(asdict(self.entropy)),
            "extras": {k: _clean(v) for k, v in self.extras.items()},
        }
