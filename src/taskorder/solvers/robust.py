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

It is one part of the problem specification: ``ProblemSpec(risk=..., quantile=...,
n_samples=..., samples=...)`` passed to :func:`taskorder.solve`, which calls
:func:`solve_under_noise`; every objective, outcome model and entropy term combines
with it (each plausible matrix is solved under the same specification, and every
candidate is scored by the same objective on every draw). The result's
:class:`~taskorder.result.Robustness` holds the table.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.result import RobustCandidate, Robustness, SolveResult
from taskorder.solvers.problem import RISKS

if TYPE_CHECKING:
    from taskorder.solvers.problem import ProblemSpec

__all__ = ["RISKS", "sample_matrices", "solve_under_noise"]


def sample_matrices(
    matrix: TransferMatrix, n_samples: int, *, seed: int = 0
) -> list[TransferMatrix]:
    """Draw ``n_samples`` matrices ``bwt + stderr * N(0, 1)`` (and the same for forward).

    Parameters
    ----------
    matrix : TransferMatrix
        The point estimate, with ``bwt_stderr`` and/or ``forward_stderr`` (missing
        standard errors count as 0).
    n_samples : int
        Number of matrices to draw, at least 2.
    seed : int
        Seed of the Gaussian draws.

    Returns
    -------
    list of TransferMatrix
        ``n_samples`` copies of ``matrix`` with perturbed ``bwt`` (and ``forward`` when it
        has standard errors).

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


def _plausible(matrix: TransferMatrix, spec: ProblemSpec, seed: int) -> tuple[list, bool]:
    """The plausible matrices of ``spec`` (given samples or Gaussian draws) and whether drawn."""
    if spec.samples is None:
        if matrix.bwt_stderr is None and matrix.forward_stderr is None:
            raise InvalidParameterError(
                f"ProblemSpec(risk={spec.risk!r}) solves under noise and needs the matrix's "
                "standard errors (bwt_stderr or forward_stderr) or 'samples'. Got a matrix "
                "without standard errors and no samples."
            )
        return sample_matrices(matrix, spec.n_samples, seed=seed), True
    samples = list(spec.samples)
    if len(samples) < 2:
        raise InvalidParameterError(
            f"The 'samples' field of ProblemSpec must hold at least 2 matrices. Got {len(samples)}."
        )
    for k, sample in enumerate(samples):
        if not isinstance(sample, TransferMatrix) or sample.tasks != matrix.tasks:
            got = (
                list(sample.tasks) if isinstance(sample, TransferMatrix) else type(sample).__name__
            )
            raise InvalidParameterError(
                f"Sample {k} of 'samples' must be a TransferMatrix with the tasks "
                f"{list(matrix.tasks)} in that order. Got {got}."
            )
    return samples, False


def solve_under_noise(
    matrix: TransferMatrix,
    spec: ProblemSpec,
    *,
    method: str = "auto",
    time_limit: float | None = None,
    seed: int = 0,
) -> SolveResult:
    """Solve ``spec`` under noise (``spec.risk`` set) and report how sure the answer is.

    The point estimate and every plausible matrix are solved under ``spec`` without its
    noise fields (each solve gets ``time_limit``); each candidate order is scored by the
    spec's objective on every plausible matrix.

    Parameters
    ----------
    matrix : TransferMatrix
        The point estimate, with standard errors unless ``spec.samples`` is given.
    spec : ProblemSpec
        With ``risk`` set.
    method, time_limit, seed
        As in :func:`taskorder.solve`; ``seed`` also seeds the draws.

    Returns
    -------
    SolveResult
        For the chosen order, valued on the point estimate, with ``robustness`` set.
        Its status is the point solve's when the chosen order is the point optimum, else
        ``"heuristic"`` (best for the risk criterion among the candidates only).

    Raises
    ------
    InvalidParameterError
        No standard errors and no samples, or samples with other tasks.

    Examples
    --------
    >>> from taskorder.solvers.problem import ProblemSpec
    >>> m = TransferMatrix(["a", "b", "c"], [[0, -1, 0.2], [0.5, 0, 0.1], [0.3, -0.2, 0]],
    ...                    bwt_stderr=np.full((3, 3), 0.05))
    >>> r = solve_under_noise(m, ProblemSpec(objective="max_min", risk="quantile",
    ...                                      n_samples=30), seed=1)
    >>> r.order, r.objective_name, r.robustness.n_samples
    (('b', 'c', 'a'), 'max_min', 30)
    """
    from taskorder.solvers import solve

    start = time.perf_counter()
    plain = spec.replace(risk=None, samples=None)
    point = solve(matrix, plain, method=method, time_limit=time_limit, seed=seed)
    samples, gaussian = _plausible(matrix, spec, seed)
    sample_orders = [
        solve(sample, plain, method=method, time_limit=time_limit, seed=seed).order
        for sample in samples
    ]
    candidates = list(dict.fromkeys([point.order, *sample_orders]))
    table = _score_candidates(matrix, spec, samples, sample_orders, candidates)
    # The linear objectives are linear in the matrix, so under zero-mean Gaussian draws an
    # order's expected objective is exactly its value on the point estimate; use it rather
    # than a noisy sample mean. Otherwise (max_min, multiplicative, given samples) the
    # sample mean is the expectation.
    linear = spec.objective != "max_min" and spec.model != "multiplicative"
    mean_key = "point_value" if gaussian and linear else "mean"
    key = {"mean": mean_key, "quantile": "quantile_value", "probability": "p_optimal"}[spec.risk]
    table.sort(key=lambda row: (-getattr(row, key), -row.point_value))
    chosen = table[0]
    result = point
    if chosen.order != point.order:
        result = _with_order(point, matrix, spec, chosen)
    robustness = Robustness(
        risk=spec.risk,
        quantile=spec.quantile,
        n_samples=len(samples),
        p_optimal=chosen.p_optimal,
        candidates=tuple(table[:20]),
        gaussian=gaussian,
    )
    what = "expected objective" if spec.risk == "mean" else key
    reason = (
        f"{point.method_reason}; chosen among {len(candidates)} candidate orders by "
        f"{what} over {len(samples)} plausible matrices"
    )
    return replace(
        result,
        method=f"robust[{point.method}]",
        method_reason=reason,
        elapsed_s=time.perf_counter() - start,
        robustness=robustness,
    )


def _score_candidates(
    matrix: TransferMatrix,
    spec: ProblemSpec,
    samples: list[TransferMatrix],
    sample_orders: list[tuple[str, ...]],
    candidates: list[tuple[str, ...]],
) -> list[RobustCandidate]:
    """Score every candidate order on every plausible matrix (in ``candidates`` order)."""
    from taskorder.solvers import prepare

    plain = spec.replace(risk=None, samples=None)
    index = {task: k for k, task in enumerate(matrix.tasks)}
    problems = [prepare(sample, plain).value for sample in samples]
    values = np.array(
        [[p.value([index[t] for t in order]) for p in problems] for order in candidates]
    )
    best = np.array([p.value([index[t] for t in o]) for p, o in zip(problems, sample_orders)])
    p_optimal = (values >= best[None, :] - 1e-9 * (1 + np.abs(best))).mean(axis=1)
    point_problem = prepare(matrix, plain).value
    counts = Counter(sample_orders)
    table = [
        RobustCandidate(
            order=order,
            p_optimal=float(p_optimal[c]),
            optimal_in_draws=counts.get(order, 0),
            mean=float(values[c].mean()),
            quantile_value=float(np.quantile(values[c], spec.quantile)),
            point_value=point_problem.value([index[t] for t in order]),
        )
        for c, order in enumerate(candidates)
    ]
    return table


def _with_order(
    point: SolveResult, matrix: TransferMatrix, spec: ProblemSpec, chosen: RobustCandidate
) -> SolveResult:
    """``point`` re-stated for the chosen order (valued on the point estimate, heuristic)."""
    from taskorder.model import predict

    objective = "all_pairs" if spec.objective == "max_min" else spec.objective
    prediction = predict(matrix, chosen.order, objective=objective, model=spec.model)
    result = replace(
        point,
        order=chosen.order,
        objective=chosen.point_value,
        status="heuristic",
        predicted=prediction.scores,
        predicted_mean=prediction.mean,
    )
    if point.entropy is not None:
        from taskorder.solvers.entropy import entropy_outcome

        plain = spec.replace(risk=None, samples=None)
        result = replace(result, entropy=entropy_outcome(matrix, plain, chosen.order))
    return result
