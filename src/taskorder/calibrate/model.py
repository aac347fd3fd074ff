"""The precedence model and :func:`calibrated_search` (see :mod:`taskorder.calibrate`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.solvers.problem import ProblemSpec

__all__ = ["CalibratedSearch", "PrecedenceModel", "calibrated_search", "precedence_features"]


def precedence_features(order: Sequence[int], n_tasks: int) -> np.ndarray:
    """``z_ij`` for ``i < j`` (row-major), +1 if ``i`` comes before ``j``, else -1.

    Examples
    --------
    >>> precedence_features([2, 0, 1], 3).tolist()
    [1.0, -1.0, -1.0]
    """
    position = np.empty(n_tasks, dtype=int)
    position[list(order)] = np.arange(n_tasks)
    i, j = np.triu_indices(n_tasks, k=1)
    return np.where(position[i] < position[j], 1.0, -1.0)


class PrecedenceModel:
    """Bayesian linear model of curriculum outcomes with the probe matrix as prior.

    Parameters
    ----------
    prior : TransferMatrix
        The probe-derived matrix (its ``pair_weights`` give ``b_ij``).
    prior_scale_sd : float
        Prior standard deviation of the probe scale ``a`` (mean 1).
    prior_pair_sd : float, optional
        Prior standard deviation of each pair correction ``delta_ij``; default: the
        spread of ``b``.
    noise_sd : float, optional
        Standard deviation of one observed outcome; default estimated from repeats
        (or 10 % of the prior spread when there are none).
    """

    def __init__(
        self,
        prior: TransferMatrix,
        *,
        prior_scale_sd: float = 1.0,
        prior_pair_sd: float | None = None,
        noise_sd: float | None = None,
    ) -> None:
        self.prior = prior
        self.prior_scale_sd = prior_scale_sd
        self.prior_pair_sd = prior_pair_sd
        self.noise_sd = noise_sd

    def _probe_beta(self) -> np.ndarray:
        weights = self.prior.pair_weights()
        n = self.prior.n_tasks
        i, j = np.triu_indices(n, k=1)
        return (weights[i, j] - weights[j, i]) / (2.0 * n)

    def fit(
        self,
        orders: Sequence[Sequence[int]],
        outcomes: Sequence[float],
        outcome_sd: Sequence[float] | None = None,
    ) -> PrecedenceModel:
        """Posterior given observed ``outcomes`` of ``orders`` (task indices); returns self.

        Parameters
        ----------
        orders : sequence of sequences of int
            Each observed curriculum as task indices.
        outcomes : sequence of float
            Its measured mean final score.
        outcome_sd : sequence of float, optional
            Standard error of each outcome (default: ``noise_sd`` for all).
        """
        n = self.prior.n_tasks
        b = self._probe_beta()
        n_pairs = b.size
        y = np.asarray(outcomes, float)
        if len(orders) != y.size:
            raise InvalidParameterError(
                f"fit needs one outcome per order. Got {len(orders)} orders and {y.size} outcomes."
            )
        pair_sd = self.prior_pair_sd or max(float(np.std(b)), float(np.abs(b).max()) / 2, 1e-9)
        # parameters: [c, a, delta_1..delta_P]; prior means [mean(y) or 0, 1, 0...]
        prior_mean = np.concatenate([[float(y.mean()) if y.size else 0.0, 1.0], np.zeros(n_pairs)])
        intercept_var = max(float(np.var(y)) * 10, 1.0) if y.size else 1.0
        prior_var = np.concatenate(
            [[intercept_var, self.prior_scale_sd**2], np.full(n_pairs, pair_sd**2)]
        )
        if outcome_sd is not None:
            noise_var = np.maximum(np.asarray(outcome_sd, float) ** 2, 1e-12)
        else:
            sd = self.noise_sd if self.noise_sd is not None else 0.1 * pair_sd * np.sqrt(n_pairs)
            noise_var = np.full(y.size, sd**2)
        x = np.array([self._design(precedence_features(o, n), b) for o in orders])
        x = x.reshape(y.size, 2 + n_pairs)
        precision = np.diag(1.0 / prior_var)
        shift = prior_mean / prior_var
        if y.size:
            precision = precision + x.T @ (x / noise_var[:, None])
            shift = shift + x.T @ (y / noise_var)
        self.cov_ = np.linalg.inv(precision)
        self.mean_ = self.cov_ @ shift
        self.b_ = b
        self.n_tasks_ = n
        return self

    @staticmethod
    def _design(z: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([[1.0, float(z @ b)], z])

    def beta(self, params: np.ndarray) -> np.ndarray:
        """Pair effects ``beta = a b + delta`` for a parameter vector."""
        return params[1] * self.b_ + params[2:]

    def predict(self, order: Sequence[int]) -> tuple[float, float]:
        """Posterior mean and standard deviation of the outcome of ``order``."""
        x = self._design(precedence_features(order, self.n_tasks_), self.b_)
        return float(x @ self.mean_), float(np.sqrt(max(x @ self.cov_ @ x, 0.0)))

    def sample_params(self, rng: np.random.Generator) -> np.ndarray:
        chol = np.linalg.cholesky(self.cov_ + 1e-15 * np.eye(self.cov_.shape[0]))
        return self.mean_ + chol @ rng.standard_normal(self.mean_.size)

    def as_matrix(self, params: np.ndarray | None = None) -> TransferMatrix:
        """A matrix whose all-pairs objective is ``sum beta_ij z_ij`` (for exact solving)."""
        beta = self.beta(self.mean_ if params is None else params)
        n = self.n_tasks_
        weights = np.zeros((n, n))
        i, j = np.triu_indices(n, k=1)
        weights[i, j], weights[j, i] = beta, -beta
        return TransferMatrix(self.prior.tasks, weights)


@dataclass
class CalibratedSearch:
    """History and recommendation of :func:`calibrated_search`."""

    order: tuple[str, ...]
    predicted: float
    predicted_sd: float
    observed: list[dict[str, Any]] = field(default_factory=list)
    model: PrecedenceModel | None = None

    @property
    def best_observed(self) -> tuple[str, ...]:
        """The curriculum with the best measured outcome."""
        return tuple(max(self.observed, key=lambda row: row["outcome"])["order"])


def calibrated_search(
    prior: TransferMatrix,
    run: Callable[[tuple[str, ...]], tuple[float, float]],
    *,
    n_curricula: int,
    n_candidates: int = 16,
    seed: int = 0,
    start: Sequence[Sequence[str]] = (),
    spec: ProblemSpec | None = None,
    prior_scale_sd: float = 1.0,
    prior_pair_sd: float | None = None,
    noise_sd: float | None = None,
) -> CalibratedSearch:
    """Bayesian optimisation over orders with exact solving of the acquisition.

    Parameters
    ----------
    prior : TransferMatrix
        Probe-derived matrix (the prior).
    run : callable
        ``run(order) -> (mean outcome, its standard error)``: train one complete
        curriculum (e.g. a few seeds) and measure the mean final score.
    n_curricula : int
        How many curricula to run (the budget beyond the probes).
    n_candidates : int
        Thompson samples per step; each is solved exactly and scored by expected
        improvement.
    seed : int
        Seed of the Thompson samples and of the solver.
    start : sequence of orders
        Curricula to run first (default: the prior's best order).
    spec : ProblemSpec, optional
        Order constraints (``first``, ``last``, ``before``) every candidate and the
        recommendation respect; the model is linear in pairwise precedences (the
        all-pairs objective), so other fields are refused.
    prior_scale_sd, prior_pair_sd, noise_sd : float, optional
        The :class:`PrecedenceModel`'s prior and noise settings.

    Returns
    -------
    CalibratedSearch
        The recommended order (posterior-mean optimum), its predicted outcome, and every
        observed curriculum with the recommendation after it (``recommended``) and the
        best curriculum measured so far (``best_observed``).
    """
    from taskorder.active import constraint_spec
    from taskorder.solvers import solve

    if n_curricula < 1:
        raise InvalidParameterError(
            f"The 'n_curricula' parameter of calibrated_search must be at least 1. "
            f"Got {n_curricula}."
        )
    spec = constraint_spec(spec, "calibrated_search")
    settings = {
        "prior_scale_sd": prior_scale_sd,
        "prior_pair_sd": prior_pair_sd,
        "noise_sd": noise_sd,
    }
    rng = np.random.default_rng(seed)
    tasks = prior.tasks
    index = {t: k for k, t in enumerate(tasks)}
    orders: list[list[int]] = []
    outcomes: list[float] = []
    errors: list[float] = []
    observed: list[dict[str, Any]] = []
    queue = [tuple(o) for o in start] or [solve(prior, spec, seed=seed).order]
    model = PrecedenceModel(prior, **settings).fit([], [])
    for step in range(n_curricula):
        if queue:
            order = tuple(queue.pop(0))
        else:
            order = _most_promising(
                model,
                max(outcomes),
                [model.sample_params(rng) for _ in range(n_candidates)],
                lambda matrix: solve(matrix, spec, seed=seed).order,
            )
        value, stderr = run(order)
        orders.append([index[t] for t in order])
        outcomes.append(float(value))
        errors.append(float(stderr))
        model = PrecedenceModel(prior, **settings).fit(
            orders, outcomes, outcome_sd=[max(e, 1e-6) for e in errors] if any(errors) else None
        )
        recommended = solve(model.as_matrix(), spec, seed=seed).order
        # the first curriculum with the highest outcome so far (an earlier one wins ties)
        best_observed = [tasks[k] for k in orders[int(np.argmax(outcomes))]]
        observed.append(
            {"step": step, "order": list(order), "outcome": float(value), "stderr": float(stderr)}
            | {"recommended": list(recommended), "best_observed": best_observed}
        )
    best = solve(model.as_matrix(), spec, seed=seed).order
    return CalibratedSearch(best, *model.predict([index[t] for t in best]), observed, model)


def _most_promising(
    model: PrecedenceModel,
    best_seen: float,
    draws: list[np.ndarray],
    solve_order: Callable[[TransferMatrix], tuple[str, ...]],
) -> tuple[str, ...]:
    """The candidate order (each draw's optimum and the posterior mean's) of highest
    expected improvement over ``best_seen``."""
    from scipy.stats import norm

    index = {t: k for k, t in enumerate(model.prior.tasks)}
    candidates = {solve_order(model.as_matrix(params)) for params in draws}
    candidates.add(solve_order(model.as_matrix()))
    scored = []
    for candidate in sorted(candidates):
        mu, sd = model.predict([index[t] for t in candidate])
        gap = mu - best_seen
        ei = gap * norm.cdf(gap / sd) + sd * norm.pdf(gap / sd) if sd > 0 else max(gap, 0.0)
        scored.append((ei, candidate))
    return max(scored)[1]
