"""Best order under any outcome model of :mod:`taskorder.model`, non-linear ones included.

:func:`taskorder.solve` maximises the Linear Ordering objective, which is exactly the
additive model's weighted mean (``"additive"`` with forward transfer,
``"backward_only"`` without). The multiplicative-retention model is not linear in
pairs, so :func:`best_order` searches its predicted weighted mean directly:

``"enumerate"`` (``n <= 8``)
    Every order (constraint-respecting), vectorised; status ``"optimal"`` under the
    model.
``"local_search"``
    Best-improvement insertion moves (take one task out, put it anywhere else) from
    the ``backward_only`` optimum, the rank rule's order and seeded random orders, until no
    move improves or ``time_limit`` passes; status ``"heuristic"``. (The
    multiplicative model ignores forward transfer, so its additive counterpart, whose
    optimum starts the search, is ``"backward_only"``.)

``method="auto"`` enumerates up to 8 tasks and searches locally beyond.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import numpy as np

from taskorder.exceptions import InvalidParameterError, SolverError
from taskorder.matrix import TransferMatrix
from taskorder.model import MODELS, predict, predict_many
from taskorder.objectives import normalize_objective
from taskorder.result import SolveResult

__all__ = ["MAX_ENUMERATE", "best_order", "model_matrix"]

#: Largest task count :func:`best_order` enumerates.
MAX_ENUMERATE = 8


def model_matrix(matrix: TransferMatrix, model: str) -> TransferMatrix:
    """The matrix a linear solver should see for ``model`` (no forward for ``backward_only``)."""
    if model == "backward_only":
        return matrix.replace(forward=None, forward_stderr=None)
    return matrix


def _weighted_means(
    matrix: TransferMatrix, perms: np.ndarray, model: str, objective: str
) -> np.ndarray:
    finals = predict_many(matrix, perms, objective=objective, model=model)
    weights = matrix.weights
    if weights.sum() <= 0:
        return finals.mean(axis=1)
    return finals @ weights / weights.sum()


def _feasible(perms: np.ndarray, edges: list[tuple[int, int]]) -> np.ndarray:
    positions = np.argsort(perms, axis=1)
    ok = np.ones(len(perms), dtype=bool)
    for u, v in edges:
        ok &= positions[:, u] < positions[:, v]
    return ok


def _insertion_neighbours(order: list[int]) -> np.ndarray:
    n_tasks = len(order)
    out = []
    for a in range(n_tasks):
        rest = order[:a] + order[a + 1 :]
        for b in range(n_tasks):
            if b != a:
                out.append(rest[:b] + [order[a]] + rest[b:])
    return np.array(out, dtype=np.intp)


def _local_search(matrix, model, objective, starts, edges, deadline):
    best_order, best_value, moves = None, -np.inf, 0
    for start in starts:
        order = list(start)
        value = float(_weighted_means(matrix, np.array([order]), model, objective)[0])
        while time.perf_counter() < deadline:
            neighbours = _insertion_neighbours(order)
            neighbours = neighbours[_feasible(neighbours, edges)]
            if not len(neighbours):
                break
            values = _weighted_means(matrix, neighbours, model, objective)
            k = int(np.argmax(values))
            if values[k] <= value + 1e-12:
                break
            order, value, moves = neighbours[k].tolist(), float(values[k]), moves + 1
        if value > best_value:
            best_order, best_value = order, value
        if time.perf_counter() >= deadline:
            break
    return best_order, best_value, moves


def best_order(
    matrix: TransferMatrix,
    *,
    model: str = "additive",
    objective: str = "all_pairs",
    method: str = "auto",
    first: str | None = None,
    last: str | None = None,
    before: Sequence[tuple[str, str]] = (),
    time_limit: float | None = None,
    seed: int = 0,
    restarts: int = 8,
) -> SolveResult:
    """The order with the highest predicted weighted mean final score under ``model``.

    Parameters
    ----------
    matrix : TransferMatrix
        Complete; ``"multiplicative"`` also needs positive ``own_scores``.
    model : {"additive", "backward_only", "multiplicative"}
        See :mod:`taskorder.model`. The linear models are solved by
        :func:`taskorder.solve` (``method`` is passed on); ``"multiplicative"`` by
        enumeration or local search (see the module docstring).
    objective : {"all_pairs", "adjacent"}
    method : {"auto", "enumerate", "local_search"} or a :func:`solve` method
    first, last, before
        Order constraints, as in :func:`taskorder.solve`.
    time_limit : float, optional
        Seconds for the local search (default 5).
    seed : int
        Seed of the random restarts and baselines.
    restarts : int, default 8
        Random starting orders of the local search (besides the backward-only optimum
        and the rank rule's order).

    Returns
    -------
    SolveResult
        For ``"multiplicative"``: ``objective`` is the predicted weighted mean final
        score, ``method`` is ``"enumerate"`` or ``"local_search"``, ``extras["model"]``
        names the model, and the baselines are predicted means of the rank rule's
        order and of random orders. For the linear models: :func:`solve`'s result
        with ``extras["model"]`` set.

    Examples
    --------
    >>> m = TransferMatrix(["a", "b", "c"], [[0, -0.3, -0.3], [-0.1, 0, 0], [0, -0.2, 0]],
    ...                    own_scores=[0.6, 0.5, 0.4])
    >>> best_order(m, model="multiplicative").order
    ('b', 'c', 'a')
    >>> best_order(m, model="multiplicative").status
    'optimal'
    """
    from taskorder.solvers import Constraints, solve

    objective = normalize_objective(objective)
    if model not in MODELS:
        raise InvalidParameterError(
            f"The 'model' parameter of best_order must be one of {', '.join(MODELS)}. Got {model!r}."
        )
    if model != "multiplicative":
        result = solve(
            model_matrix(matrix, model),
            method=method,
            objective=objective,
            first=first,
            last=last,
            before=before,
            time_limit=time_limit,
            seed=seed,
        )
        return _with_extras(result, {"model": model})
    if method not in ("auto", "enumerate", "local_search"):
        raise InvalidParameterError(
            "The 'method' parameter of best_order with model='multiplicative' must be 'auto', "
            f"'enumerate' or 'local_search'. Got {method!r}."
        )
    matrix.check_complete()
    predict(matrix, matrix.tasks, model=model)  # validates own scores early
    n_tasks = matrix.n_tasks
    edges = Constraints.from_names(matrix, first=first, last=last, before=before).edges()
    if method == "enumerate" and n_tasks > MAX_ENUMERATE:
        raise InvalidParameterError(
            f"Enumeration accepts at most {MAX_ENUMERATE} tasks. Got {n_tasks}; use "
            "method='local_search' or 'auto'."
        )
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    linear = solve(
        model_matrix(matrix, "backward_only"),
        objective=objective,
        first=first,
        last=last,
        before=before,
        seed=seed,
    )
    rank = solve(matrix, method="rank", objective=objective, first=first, last=last, before=before)
    index = [matrix.order_indices(r.order) for r in (linear, rank)]
    rank_value = float(_weighted_means(matrix, np.array([index[1]]), model, objective)[0])
    if n_tasks <= MAX_ENUMERATE and method != "local_search":
        perms = np.array(list(itertools.permutations(range(n_tasks))), dtype=np.intp)
        perms = perms[_feasible(perms, edges)]
        if not len(perms):
            raise SolverError("No order satisfies the constraints.")
        values = _weighted_means(matrix, perms, model, objective)
        k = int(np.argmax(values))
        order, value, status, used = perms[k].tolist(), float(values[k]), "optimal", "enumerate"
        random_mean = float(values.mean())
        extras = {"orders_enumerated": len(perms)}
    else:
        starts = index + [list(rng.permutation(n_tasks)) for _ in range(restarts)]
        starts = [s for s in starts if _feasible(np.array([s]), edges)[0]] or index
        deadline = start + (5.0 if time_limit is None else time_limit)
        order, value, moves = _local_search(matrix, model, objective, starts, edges, deadline)
        status, used, extras = "heuristic", "local_search", {"moves": moves}
        samples = np.array([rng.permutation(n_tasks) for _ in range(200)])
        samples = samples[_feasible(samples, edges)]
        random_mean = (
            float(_weighted_means(matrix, samples, model, objective).mean())
            if len(samples)
            else float("nan")
        )
    names = tuple(matrix.tasks[t] for t in order)
    prediction = predict(matrix, names, objective=objective, model=model)
    return SolveResult(
        order=names,
        objective=value,
        objective_name=objective,
        bound=value if status == "optimal" else None,
        status=status,
        method=used,
        method_reason=(
            f"model 'multiplicative' is not a linear ordering problem; n = {n_tasks} "
            + (
                f"<= {MAX_ENUMERATE}: every order enumerated"
                if used == "enumerate"
                else "local search"
            )
        ),
        elapsed_s=time.perf_counter() - start,
        predicted=prediction.scores,
        predicted_mean=prediction.mean,
        baselines={"rank_rule": rank_value, "random_mean": random_mean},
        extras={"model": model, "objective_is": "predicted weighted mean final score", **extras},
    )


def _with_extras(result: SolveResult, extras: dict) -> SolveResult:
    from dataclasses import replace

    return replace(result, extras={**result.extras, **extras})
