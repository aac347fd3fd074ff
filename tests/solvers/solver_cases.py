"""Instances and oracles for the solver tests (the one data module).

Hand-solved cases live in :data:`HAND_SOLVED`; seeded random matrices come from
:func:`random_matrix`; :func:`brute_force_max_min` is the oracle for ``max_min``
(the built-in brute force handles only the pair objectives).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from taskorder import TransferMatrix

LOLIB_DIR = Path(__file__).parents[1] / "data" / "lolib"

#: (bwt rows, objective, best order, best value), solved by hand.
HAND_SOLVED = [
    # all_pairs: W = bwt; c->b->a collects W[c,b] + W[c,a] + W[b,a] = 4 + 0 + 2 = 6
    ([[0, -3, 1], [2, 0, -1], [0, 4, 0]], "all_pairs", ("c", "b", "a"), 6.0),
    # adjacent: c->b (4) then b->a (2)
    ([[0, -3, 1], [2, 0, -1], [0, 4, 0]], "adjacent", ("c", "b", "a"), 6.0),
]


def read_lolib(name: str) -> np.ndarray:
    """A LOLIB file from tests/data/lolib as an (n, n) float array."""
    tokens = (LOLIB_DIR / name).read_text().split()
    n_tasks = int(tokens[0])
    weights = np.array(tokens[1 : 1 + n_tasks * n_tasks], dtype=float).reshape(n_tasks, n_tasks)
    np.fill_diagonal(weights, 0.0)
    return weights


def lolib_matrix(name: str) -> TransferMatrix:
    """The LOLIB matrix as a TransferMatrix whose pair weights are the file matrix."""
    weights = read_lolib(name)
    return TransferMatrix([f"t{i}" for i in range(weights.shape[0])], weights)


def random_matrix(
    n_tasks: int, seed: int, *, forward: bool = False, own: bool = False, integer: bool = False
) -> TransferMatrix:
    """A seeded random transfer matrix (floats around 0.05, or small integers)."""
    rng = np.random.default_rng(seed)
    if integer:
        bwt = rng.integers(-9, 10, (n_tasks, n_tasks)).astype(float)
    else:
        bwt = rng.normal(0.0, 0.05, (n_tasks, n_tasks))
    extra = {}
    if forward:
        extra["forward"] = rng.normal(0.0, 0.03, (n_tasks, n_tasks))
    if own:
        extra["own_scores"] = rng.uniform(0.3, 0.9, n_tasks)
    return TransferMatrix([f"t{i}" for i in range(n_tasks)], bwt, **extra)


def constraints_for(matrix: TransferMatrix, seed: int) -> dict:
    """Seeded first/last/before constraints that are consistent."""
    rng = np.random.default_rng(seed + 1000)
    tasks = [str(t) for t in rng.permutation(matrix.tasks)]
    return {
        "first": tasks[0],
        "last": tasks[1],
        "before": [(tasks[2], tasks[3]), (tasks[3], tasks[4])],
    }


def honours(order, first=None, last=None, before=()) -> bool:
    order = list(order)
    if first is not None and order[0] != first:
        return False
    if last is not None and order[-1] != last:
        return False
    return all(order.index(a) < order.index(b) for a, b in before)


def brute_force_max_min(matrix: TransferMatrix, first=None, last=None, before=()) -> float:
    """Best worst-task final score over all orders that honour the constraints.

    Final scores follow the additive model (``taskorder.predict``), recomputed here:
    ``own_i + sum_{j after i} bwt[i, j] + sum_{j before i} forward[j, i]``.
    """
    n_tasks = matrix.n_tasks
    own = np.zeros(n_tasks) if matrix.own_scores is None else np.asarray(matrix.own_scores)
    forward = np.zeros((n_tasks, n_tasks)) if matrix.forward is None else np.asarray(matrix.forward)
    best = -np.inf
    for perm in itertools.permutations(range(n_tasks)):
        names = [matrix.tasks[t] for t in perm]
        if not honours(names, first, last, before):
            continue
        position = np.argsort(perm)
        later = position[None, :] > position[:, None]
        final = own + (matrix.bwt * later).sum(axis=1) + (forward * later).sum(axis=0)
        best = max(best, float(final.min()))
    return best
