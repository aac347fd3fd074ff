"""Noise-aware ordering: how sure are we that an order is best, and risk-averse choices.

A measured transfer matrix is an estimate. Given its standard errors (or bootstrap
samples of it, e.g. one matrix per probe repeat), taskorder draws plausible matrices,
solves each one exactly, and scores every order that came out optimal somewhere (plus
the point estimate's optimum) on every draw. From that table:

- ``p_optimal``: the fraction of draws in which an order is optimal (it is computed
  against each draw's own exact optimum, so it is the probability that the order is
  optimal, up to sampling error);
- ``mean``: its expected objective (under Gaussian draws this equals the objective on
  the point estimate, which is used exactly, so ``risk="mean"`` returns the point
  estimate's optimum; with given samples it is the sample mean);
- ``quantile``: the ``q``-quantile of its objective (``risk="quantile"`` picks the order
  whose bad case is best: risk-averse).

The risk-averse choice is made among those candidate orders, not over all ``n!``
orders (a chance-constrained ordering problem is much harder); with a few hundred
draws the candidates cover every order that has a real chance of being optimal.
Draws are Gaussian and independent per entry with the given standard errors.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.objectives import normalize_objective, order_value
from taskorder.result import SolveResult

__all__ = ["sample_matrices", "solve_robust", "RISKS"]

RISKS = ("mean", "quantile", "probability")


def sample_matrices(matrix: TransferMatrix, n_samples: int, *, seed: int = 0) -> list[TransferMatrix]:
    """Draw ``n_samples`` matrices ``bwt + stderr * N(0, 1)`` (and the same for forward).

    Raises
    ------
    InvalidParameterError
        If the matrix has no standard errors or ``n_samples < 2``.

    Examples
    --------
    >>> m = TransferMatrix(["a", "b"], [[0, -1], [0.5, 0]], bwt_stderr=[[0, 0.1], [0.1, 0]])
    >>> draws = sample_matrices(m, 3, seed=0)
    >>> len(draws), bool(draws[0].bwt[0, 1] != -1)
    (3, True)
    """
    if matrix.bwt_stderr is None and matrix.forward_stderr is None:
        raise InvalidParameterError(
            "The 'matrix' parameter of sample_matrices must carry standard errors "
            "(bwt_stderr or forward_stderr). Got a matrix without them."
        )
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise InvalidParameterError(
            f"The 'n_samples' parameter of sample_matrices must be an integer >= 2. Got {n_samples!r}."
        )
    rng = np.random.default_rng(seed)
    n_tasks = matrix.n_tasks
    draws = []
    for _ in range(n_samples):
        changes: dict[str, Any] = {}
        noise = rng.standard_normal((2, n_tasks, n_tasks))
        if matrix.bwt_stderr is not None:
            changes["bwt"] = matrix.bwt + np.nan_to_num(matrix.bwt_stderr) * noise[0]
        if matrix.forward is not None and matrix.forward_stderr is not None:
            changes["forward"] = matrix.forward + np.nan_to_num(matrix.forward_stderr) * noise[1]
        draws.append(matrix.replace(**changes))
    return draws


def solve_robust(
    matrix: TransferMatrix,
    *,
    samples: Sequence[TransferMatrix] | None = None,
    n_samples: int = 200,
    risk: str = "mean",
    quantile: float = 0.1,
    seed: int = 0,
    **solve_kwargs: Any,
) -> SolveResult:
    """Solve under uncertainty and report how confident the answer is.

    Parameters
    ----------
    matrix : TransferMatrix
        The point estimate, with ``bwt_stderr`` unless ``samples`` are given.
    samples : sequence of TransferMatrix, optional
        Plausible matrices (e.g. bootstrap or per-repeat estimates) to use instead of
        Gaussian draws; same tasks in the same order.
    n_samples : int
        Number of Gaussian draws when ``samples`` is not given.
    risk : {"mean", "quantile", "probability"}
        Pick the candidate with the best expected objective, the best ``quantile``
        of the objective, or the highest probability of being optimal.
    quantile : float
        The lower quantile used by ``risk="quantile"`` (e.g. 0.1).
    seed : int
        Seed of the draws and of the solvers.
    **solve_kwargs
        Passed to :func:`taskorder.solve` (``method``, ``objective``, ``first``,
        ``last``, ``before``, ``time_limit``).

    Returns
    -------
    SolveResult
        For the chosen order, evaluated on the point estimate. ``extras`` holds
        ``p_optimal`` (of the chosen order), ``risk``, ``quantile``, ``n_samples`` and
        ``candidates`` (each order with ``p_optimal``, ``mean``, ``quantile_value``,
        ``point_value``), best first.

    Examples
    --------
    >>> m = TransferMatrix(["a", "b", "c"], [[0, -1, 0.2], [0.5, 0, 0.1], [0.3, -0.2, 0]],
    ...                    bwt_stderr=np.full((3, 3), 0.05))
    >>> r = solve_robust(m, n_samples=50, seed=1)
    >>> r.order, r.extras["p_optimal"]
    (('b', 'c', 'a'), 0.94)
    """
    from taskorder.solvers import solve

    if risk not in RISKS:
        raise InvalidParameterError(
            f"The 'risk' parameter of solve_robust must be one of {', '.join(RISKS)}. Got {risk!r}."
        )
    if not 0.0 < quantile < 1.0:
        raise InvalidParameterError(
            f"The 'quantile' parameter of solve_robust must be strictly between 0 and 1. Got {quantile!r}."
        )
    objective = normalize_objective(solve_kwargs.get("objective", "all_pairs"))
    start = time.perf_counter()
    point = solve(matrix, seed=seed, **solve_kwargs)
    gaussian = samples is None
    if gaussian:
        samples = sample_matrices(matrix, n_samples, seed=seed)
    for k, sample in enumerate(samples):
        if sample.tasks != matrix.tasks:
            raise InvalidParameterError(
                f"Sample {k} of 'samples' must have the tasks {list(matrix.tasks)} in that order. "
                f"Got {list(sample.tasks)}."
            )
    sample_orders = [solve(sample, seed=seed, **solve_kwargs).order for sample in samples]
    counts = Counter(sample_orders)
    candidates = list(dict.fromkeys([point.order, *sample_orders]))
    weights = [sample.pair_weights() for sample in samples]
    index = {task: k for k, task in enumerate(matrix.tasks)}
    values = np.array(
        [[order_value(w, [index[t] for t in order], objective) for w in weights] for order in candidates]
    )
    best_per_sample = np.array(
        [order_value(w, [index[t] for t in order], objective) for w, order in zip(weights, sample_orders)]
    )
    p_optimal = (values >= best_per_sample[None, :] - 1e-9 * (1 + np.abs(best_per_sample))).mean(axis=1)
    point_weights = matrix.pair_weights()
    table = [
        {
            "order": list(order),
            "p_optimal": float(p_optimal[c]),
            "optimal_in_draws": counts.get(order, 0),
            "mean": float(values[c].mean()),
            "quantile_value": float(np.quantile(values[c], quantile)),
            "point_value": order_value(point_weights, [index[t] for t in order], objective),
        }
        for c, order in enumerate(candidates)
    ]
    # Under zero-mean Gaussian draws the expected objective of an order is exactly its value on
    # the point estimate (the objectives are linear in the matrix); use it rather than a noisy
    # sample mean. With given samples (e.g. bootstrap), the sample mean is the expectation.
    mean_key = "point_value" if gaussian else "mean"
    key = {"mean": mean_key, "quantile": "quantile_value", "probability": "p_optimal"}[risk]
    table.sort(key=lambda row: (-row[key], -row["point_value"]))
    chosen = table[0]
    order = tuple(chosen["order"])
    result = point
    if order != point.order:
        from taskorder.model import predict

        prediction = predict(matrix, order, objective=objective)
        # optimal for the risk criterion among the candidates, not for the point objective
        result = replace(
            point,
            order=order,
            objective=chosen["point_value"],
            status="heuristic",
            predicted=prediction.scores,
            predicted_mean=prediction.mean,
        )
    extras = {
        **result.extras,
        "risk": risk,
        "quantile": quantile,
        "n_samples": len(samples),
        "p_optimal": chosen["p_optimal"],
        "candidates": table[:20],
    }
    reason = (
        f"{point.method_reason}; chosen among {len(candidates)} candidate orders by "
        f"{'expected objective' if risk == 'mean' else key} over {len(samples)} plausible matrices"
    )
    return replace(
        result,
        method=f"robust[{point.method}]",
        method_reason=reason,
        elapsed_s=time.perf_counter() - start,
        extras=extras,
    )
