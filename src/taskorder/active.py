"""Active probing: measure only the pairs that can still change the best order.

The full probe design costs ``n(n-1)`` second-stage runs. Most of them are not needed:
a BWT matrix is dominated by row effects (how forgettable a task is) and column effects
(how disruptive a task is to what came before), and only pairs whose value could flip
the optimal order matter for the decision.

The loop
--------
1. Start from a small design that sees every row and column twice (pairs ``(i, i+1)``
   and ``(i, i+2)`` modulo ``n``: ``2n`` probes).
2. Fit :class:`PairModel`: ``bwt[i, j] = mu + r_i + c_j + e_ij`` with Gaussian priors,
   the interaction variance ``tau^2`` of ``e_ij`` estimated from the residuals, and each
   measurement's own standard error. Its posterior gives every entry, measured or not,
   a mean and a variance.
3. Draw plausible matrices from the posterior and solve each exactly. From the optimal
   orders: ``p_ij``, the probability that ``i`` comes before ``j``, and the probability that
   the current best order is optimal.
4. Probe next the unmeasured pairs with the largest decision value
   ``p_ij (1 - p_ij) * sd(W_ij - W_ji)``: the orientation of the pair is undecided and
   its value is uncertain. Repeat from 2 in batches.
5. Stop when the best order is optimal in at least ``confidence`` of the draws, or its
   expected regret is within ``tolerance`` of the random-to-optimal gap, or the budget
   is spent.

:func:`active_probe` drives any measuring function, so it works with a probe campaign
(:mod:`taskorder.estimate`) and with a simulated ground truth
(``benchmarks/active_probing.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.solvers.problem import ProblemSpec

__all__ = [
    "ActiveResult",
    "PairModel",
    "active_campaign",
    "active_probe",
    "constraint_spec",
    "initial_pairs",
]

Pair = tuple[int, int]
#: ``measure(pairs) -> {pair: (value, stderr)}`` for pairs of task indices ``(i, j)``.
Measure = Callable[[list[Pair]], dict[Pair, tuple[float, float]]]


def initial_pairs(n_tasks: int, per_row: int = 2) -> list[Pair]:
    """A design that measures every row and every column ``per_row`` times (cyclic shifts).

    Examples
    --------
    >>> initial_pairs(4)
    [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (1, 3), (2, 0), (3, 1)]
    """
    if n_tasks < 2:
        raise InvalidParameterError(f"The 'n_tasks' parameter must be at least 2. Got {n_tasks}.")
    shifts = range(1, min(per_row, n_tasks - 1) + 1)
    return [(i, (i + shift) % n_tasks) for shift in shifts for i in range(n_tasks)]


class PairModel:
    """Bayesian row + column model of a partly measured BWT matrix.

    ``bwt[i, j] = mu + r_i + c_j + e_ij``; ``mu, r, c ~ N(0, prior_sd^2)``;
    ``e_ij ~ N(0, tau^2)``; a measurement ``y_ij ~ N(bwt[i, j], se_ij^2)``.
    ``prior_sd`` defaults to the spread of the measurements; ``tau^2`` is estimated from
    the residuals with a scaled-inverse-chi^2 prior worth ``prior_dof`` residuals of the
    measurements' variance, so that a nearly saturated fit stays humble.

    Parameters
    ----------
    n_tasks : int
    prior_sd : float, optional
    prior_dof : float
        Weight of the prior on the interaction variance, in pseudo-residuals.
    min_tau : float
        Floor on the interaction standard deviation, so the model never claims an
        unmeasured pair is known exactly.
    """

    def __init__(
        self,
        n_tasks: int,
        *,
        prior_sd: float | None = None,
        prior_dof: float = 1.0,
        min_tau: float = 1e-6,
    ) -> None:
        self.n_tasks = n_tasks
        self.prior_sd = prior_sd
        self.prior_dof = prior_dof
        self.min_tau = min_tau

    def _design(self, pairs: Sequence[Pair]) -> np.ndarray:
        n = self.n_tasks
        x = np.zeros((len(pairs), 1 + 2 * n))
        for row, (i, j) in enumerate(pairs):
            x[row, 0] = 1.0
            x[row, 1 + i] = 1.0
            x[row, 1 + n + j] = 1.0
        return x

    def fit(self, observed: dict[Pair, tuple[float, float]]) -> PairModel:
        """Fit the posterior to ``{(i, j): (value, stderr)}``; returns ``self``."""
        if len(observed) < 2:
            raise InvalidParameterError(
                f"PairModel.fit needs at least 2 measured pairs. Got {len(observed)}."
            )
        pairs = list(observed)
        y = np.array([observed[p][0] for p in pairs], float)
        se = np.array([observed[p][1] for p in pairs], float)
        x = self._design(pairs)
        prior_sd = self.prior_sd or max(float(np.std(y)) * 2.0, float(np.abs(y).max()), 1e-9)
        tau = self.min_tau
        for _ in range(20):  # fixed point: tau from residuals given the posterior, and back
            noise = se**2 + tau**2
            precision = x.T @ (x / noise[:, None]) + np.eye(x.shape[1]) / prior_sd**2
            cov = np.linalg.inv(precision)
            mean = cov @ (x.T @ (y / noise))
            residual = y - x @ mean
            leverage = np.einsum("ij,jk,ik->i", x, cov, x)
            dof = max(len(y) - float(np.sum(leverage / noise)), 1.0)
            # scaled-inverse-chi^2 prior on tau^2 (prior_dof pseudo-residuals of size var(y)):
            # a near-saturated fit (few residual dof) cannot claim the interactions are ~0
            sum_sq = max(float(np.sum(residual**2 - se**2)), 0.0)
            prior_sq = self.prior_dof * float(np.var(y))
            new_tau = float(
                np.sqrt(max((sum_sq + prior_sq) / (dof + self.prior_dof), self.min_tau**2))
            )
            if abs(new_tau - tau) <= 1e-6 * max(new_tau, 1e-12):
                tau = new_tau
                break
            tau = new_tau
        self.coef_, self.cov_, self.tau_ = mean, cov, tau
        self.observed_ = dict(observed)
        return self

    def _entries(self) -> tuple[list[Pair], np.ndarray, np.ndarray, np.ndarray]:
        """Off-diagonal pairs, their design rows, and per-entry shrinkage towards data.

        Given the structure ``theta``, a measured entry's true value is
        ``shrink * x theta + (1 - shrink) * y`` plus ``N(0, residual_var)``, with
        ``shrink = se^2 / (se^2 + tau^2)``; an unmeasured entry is ``x theta + N(0, tau^2)``.
        """
        n = self.n_tasks
        pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
        x = self._design(pairs)
        shrink = np.ones(len(pairs))
        data = np.zeros(len(pairs))
        residual_var = np.full(len(pairs), self.tau_**2)
        for k, pair in enumerate(pairs):
            if pair in self.observed_:
                value, se = self.observed_[pair]
                se2, tau2 = max(se, 1e-12) ** 2, self.tau_**2
                shrink[k] = se2 / (se2 + tau2)
                data[k] = value
                residual_var[k] = se2 * tau2 / (se2 + tau2)
        return pairs, x, np.stack([shrink, data, residual_var]), x @ self.coef_

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of every entry (diagonal 0)."""
        n = self.n_tasks
        pairs, x, (shrink, data, residual_var), fitted = self._entries()
        structure_var = np.einsum("ij,jk,ik->i", x, self.cov_, x)
        mean_values = shrink * fitted + (1 - shrink) * data
        sd_values = np.sqrt(shrink**2 * structure_var + residual_var)
        mean, sd = np.zeros((n, n)), np.zeros((n, n))
        for k, (i, j) in enumerate(pairs):
            mean[i, j], sd[i, j] = mean_values[k], sd_values[k]
        return mean, sd

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n_samples`` matrices from the joint posterior, shape ``(n_samples, n, n)``."""
        n = self.n_tasks
        pairs, x, (shrink, data, residual_var), _ = self._entries()
        rows = np.array([p[0] for p in pairs])
        cols = np.array([p[1] for p in pairs])
        chol = np.linalg.cholesky(self.cov_ + 1e-12 * np.eye(self.cov_.shape[0]))
        thetas = self.coef_[None, :] + rng.standard_normal((n_samples, self.coef_.size)) @ chol.T
        structure = thetas @ x.T
        values = shrink * structure + (1 - shrink) * data
        values += rng.standard_normal(values.shape) * np.sqrt(residual_var)
        draws = np.zeros((n_samples, n, n))
        draws[:, rows, cols] = values
        return draws


@dataclass
class ActiveResult:
    """What an active campaign measured and decided."""

    matrix: TransferMatrix
    order: tuple[str, ...]
    p_optimal: float
    measured: list[Pair]
    history: list[dict[str, Any]] = field(default_factory=list)
    stopped_because: str = ""

    @property
    def n_probes(self) -> int:
        return len(self.measured)


# long: the signature is 13 lines (11 parameters, one a line after formatting); the loop
# itself was split into helpers (_settle, _posterior_matrix, ...)
def active_probe(
    tasks: Sequence[str],
    measure: Measure,
    *,
    budget: int | None = None,
    batch_size: int | None = None,
    confidence: float = 0.9,
    tolerance: float = 0.01,
    n_samples: int = 64,
    start: Iterable[Pair] | None = None,
    seed: int = 0,
    template: TransferMatrix | None = None,
    spec: ProblemSpec | None = None,
) -> ActiveResult:
    """Measure pairs in batches until the best order is settled or the budget is spent.

    Parameters
    ----------
    tasks : sequence of str
    measure : callable
        ``measure(pairs) -> {(i, j): (value, stderr)}``, one probe per pair of indices.
    budget : int, optional
        Most second-stage probes in total (default ``n(n-1)``, the full design).
    batch_size : int, optional
        Probes per round (default ``max(2, n // 2)``), e.g. the number of workers.
    confidence : float
        Stop when the best order is optimal in this fraction of posterior draws.
    tolerance : float
        Or stop when its expected regret is at most this fraction of the expected
        random-to-optimal gap (0.01: within 1 % of the optimum's gain over a random order).
    n_samples : int
        Posterior draws per round.
    start : iterable of pairs, optional
        The first design (default :func:`initial_pairs`).
    seed : int
    template : TransferMatrix, optional
        Supplies forward transfer, weights and own scores for the returned matrix.
    spec : ProblemSpec, optional
        Order constraints (``first``, ``last``, ``before``) every solve respects; the
        loop's regret is the all-pairs objective, so other fields are refused.

    Returns
    -------
    ActiveResult
        The posterior-mean matrix (unmeasured entries flagged ``imputed``), the best
        order, its probability of being optimal, the measured pairs and a per-round
        history.
    """
    n = len(tasks)
    all_pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    budget = len(all_pairs) if budget is None else int(budget)
    batch_size = batch_size or max(2, n // 2)
    _check_loop_arguments(budget, batch_size, confidence, n_samples, tolerance)
    spec = constraint_spec(spec, "active_probe")
    rng = np.random.default_rng(seed)
    observed: dict[Pair, tuple[float, float]] = {}
    queue = list(start) if start is not None else initial_pairs(n)
    history: list[dict[str, Any]] = []

    def build(values: np.ndarray) -> TransferMatrix:
        base = template if template is not None else TransferMatrix(tasks, np.zeros((n, n)))
        return base.replace(bwt=values, bwt_stderr=None, imputed=None)

    while True:
        batch = [p for p in queue if p not in observed][: max(0, budget - len(observed))]
        if batch:
            observed.update(measure(batch))
        model = PairModel(n).fit(observed)
        mean, sd = model.posterior()
        draws = model.sample(n_samples, rng)
        best, orders, p_optimal, regret = _settle(mean, draws, build, seed, spec)
        history.append(
            {
                "probes": len(observed),
                "p_optimal": p_optimal,
                "expected_regret": regret,
                "order": list(best.order),
                "tau": model.tau_,
            }
        )
        settled = _settled_because(p_optimal, regret, confidence, tolerance)
        if settled or len(observed) >= budget:
            stopped = settled or "budget spent"
            break
        unmeasured = [p for p in all_pairs if p not in observed]
        candidates = _rank_by_decision_value(tasks, orders, sd, unmeasured)
        if not candidates:
            stopped = "every pair measured"
            break
        queue = candidates[:batch_size]
    return ActiveResult(
        matrix=_posterior_matrix(build(mean), sd, observed),
        order=best.order,
        p_optimal=p_optimal,
        measured=list(observed),
        history=history,
        stopped_because=stopped,
    )


def constraint_spec(spec: ProblemSpec | None, owner: str) -> ProblemSpec:
    """``spec`` (default ``ProblemSpec()``) when it carries order constraints only.

    Active probing and calibrated search score orders by the all-pairs objective of an
    additive model (their regret and their precedence features), so a spec may add
    ``first``, ``last`` and ``before`` and nothing else.

    Raises
    ------
    InvalidParameterError
        Naming ``owner`` and every other field the spec sets.

    Examples
    --------
    >>> constraint_spec(ProblemSpec(first="math"), "active_probe").first
    'math'
    >>> constraint_spec(ProblemSpec(objective="adjacent"), "active_probe")
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: The 'spec' parameter of active_probe must carry order constraints only (first, last, before): orders are scored by the all-pairs objective of the additive model. Got objective='adjacent'.
    """
    if spec is None:
        return ProblemSpec()
    default = ProblemSpec()
    extra = [
        f"{name}={getattr(spec, name)!r}"
        for name in default.__dataclass_fields__
        if name not in ("first", "last", "before")
        and not _same(getattr(spec, name), getattr(default, name))
    ]
    if extra:
        raise InvalidParameterError(
            f"The 'spec' parameter of {owner} must carry order constraints only (first, last, "
            "before): orders are scored by the all-pairs objective of the additive model. "
            f"Got {', '.join(extra)}."
        )
    return spec


def _same(value: Any, default: Any) -> bool:
    return value is default or (isinstance(value, (str, int, float)) and value == default)


def _check_loop_arguments(
    budget: int, batch_size: int, confidence: float, n_samples: int, tolerance: float
) -> None:
    if budget < 2 or batch_size < 1 or not 0 < confidence <= 1 or n_samples < 2 or tolerance < 0:
        raise InvalidParameterError(
            "active_probe needs budget >= 2, batch_size >= 1, 0 < confidence <= 1 and "
            f"n_samples >= 2. Got {budget}, {batch_size}, {confidence}, {n_samples}."
        )


def _settled_because(p_optimal: float, regret: float, confidence: float, tolerance: float) -> str:
    """Why the best order is settled (the stopping rules of the loop), or ``""``."""
    if p_optimal >= confidence:
        return f"best order optimal in {p_optimal:.0%} of posterior draws"
    if regret <= tolerance:
        return f"expected regret {regret:.2%} of the random-to-optimal gap <= {tolerance:.2%}"
    return ""


def _settle(
    mean: np.ndarray,
    draws: np.ndarray,
    build: Callable[[np.ndarray], TransferMatrix],
    seed: int,
    spec: ProblemSpec,
) -> tuple[Any, list[tuple[str, ...]], float, float]:
    """Solve the posterior mean and every draw.

    Returns the mean's :class:`~taskorder.SolveResult`, the optimal order of every draw,
    the share of draws whose optimum is the mean's order, and its expected regret as a
    fraction of the expected random-to-optimal gap.
    """
    from taskorder.objectives import evaluate
    from taskorder.solvers import solve

    best = solve(build(mean), spec, seed=seed)
    solved = [solve(build(d), spec, seed=seed) for d in draws]
    orders = [result.order for result in solved]
    p_optimal = float(np.mean([o == best.order for o in orders]))
    best_values = np.array([evaluate(build(d), best.order) for d in draws])
    optimum = np.array([result.objective for result in solved])
    random_mean = np.array([result.baselines["random_mean"] for result in solved])
    regret = float(np.mean(optimum - best_values) / max(np.mean(optimum - random_mean), 1e-12))
    return best, orders, p_optimal, regret


def _rank_by_decision_value(
    tasks: Sequence[str],
    orders: list[tuple[str, ...]],
    sd: np.ndarray,
    unmeasured: list[Pair],
) -> list[Pair]:
    """``unmeasured`` by decision value ``p_ij (1 - p_ij) * sd(W_ij - W_ji)``, highest first."""
    n = len(tasks)
    position = np.empty((len(orders), n))
    for s, order in enumerate(orders):
        position[s, [tasks.index(t) for t in order]] = np.arange(n)
    before = (position[:, :, None] < position[:, None, :]).mean(axis=0)
    spread = np.sqrt(sd**2 + sd.T**2)
    value = before * (1 - before) * spread
    return sorted(unmeasured, key=lambda p: (-value[p], p))


def _posterior_matrix(
    mean_matrix: TransferMatrix, sd: np.ndarray, observed: dict[Pair, tuple[float, float]]
) -> TransferMatrix:
    """The posterior-mean matrix with its standard deviations, unmeasured entries imputed."""
    n = mean_matrix.n_tasks
    measured_mask = np.zeros((n, n), bool)
    for i, j in observed:
        measured_mask[i, j] = True
    return mean_matrix.replace(
        bwt_stderr=np.where(np.eye(n, dtype=bool), 0.0, sd),
        imputed=~measured_mask & ~np.eye(n, dtype=bool),
    )


def active_campaign(
    runner: Any,
    directory: str | Any,
    *,
    budget: int,
    batch_size: int | None = None,
    steps: int = 40,
    repeats: int = 1,
    seed: int = 0,
    executor: Any = "inprocess",
    workers: int | None = None,
    min_stderr: float = 1e-3,
    **active_kwargs: Any,
) -> ActiveResult:
    """:func:`active_probe` driven by a real probe campaign (store, executors, resume).

    Each round grows the campaign's plan by the chosen pairs and calls
    :func:`taskorder.estimate.run_campaign` on the same ``directory``: finished probes
    are reused from the SQLite store, so an interrupted active campaign resumes where it
    stopped, and a batch runs in parallel on the executor. The first-stage runs of every
    task are part of the first round. ``min_stderr`` floors the standard error of a
    measurement (exact-mode learners report 0).

    Parameters
    ----------
    runner : Runner
        The learner the campaign trains and evaluates (see :mod:`taskorder.runner`);
        its ``tasks`` are the tasks to order.
    directory : str or path
        Campaign directory (SQLite store); reused across rounds and on resume.
    budget : int
        Most second-stage probes in total, as in :func:`active_probe`.
    batch_size : int, optional
        Probes per round, as in :func:`active_probe`.
    steps : int, default 40
        Training steps of every stage, as in :func:`taskorder.estimate.make_plan`.
    repeats : int, default 1
        Independent repeats of every probe, as in :func:`taskorder.estimate.make_plan`.
    seed : int, default 0
        Campaign seed; also seeds the posterior draws and the solves.
    executor : Executor or {"inprocess", "process", "ray"}
        Where probes run, as in :func:`taskorder.estimate.run_campaign`.
    workers : int, optional
        Workers for an executor given by name.
    min_stderr : float, default 1e-3
        Floor on the standard error of every measurement.
    **active_kwargs
        Further keyword arguments of :func:`active_probe` (``confidence``, ``tolerance``,
        ``n_samples``, ``start``, ``template``, ``spec``).

    Returns
    -------
    ActiveResult
        As :func:`active_probe`; ``matrix`` also carries the campaign's forward transfer and
        own-stage scores.
    """
    from taskorder.estimate import make_plan, run_campaign

    tasks = tuple(runner.tasks)
    measured: list[tuple[str, str]] = []
    latest: dict[str, Any] = {}

    def measure(pairs: list[Pair]) -> dict[Pair, tuple[float, float]]:
        measured.extend((tasks[i], tasks[j]) for i, j in pairs)
        plan = make_plan(tasks, pairs=measured, repeats=repeats, steps=steps, seed=seed)
        result = run_campaign(runner, plan, directory, executor=executor, workers=workers)
        latest["estimate"] = result.estimate
        matrix = result.estimate.matrix
        stderr = matrix.bwt_stderr if matrix.bwt_stderr is not None else np.zeros_like(matrix.bwt)
        return {
            (i, j): (float(matrix.bwt[i, j]), max(float(stderr[i, j]), min_stderr))
            for i, j in pairs
        }

    result = active_probe(
        tasks, measure, budget=budget, batch_size=batch_size, seed=seed, **active_kwargs
    )
    estimate = latest["estimate"].matrix
    result.matrix = result.matrix.replace(
        forward=estimate.forward,
        forward_stderr=estimate.forward_stderr,
        own_scores=estimate.own_scores,
    )
    return result
