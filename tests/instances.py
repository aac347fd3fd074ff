"""Tiny instances with hand-checked optima, shared by the tests."""

from __future__ import annotations

import numpy as np

from taskorder import TransferMatrix

# Three tasks, solved by hand over all 6 orders (all_pairs):
# abc: -3+1-1=-3, acb: -3+... see test; best is c,b,a with 4+0+2 = 6.
THREE = TransferMatrix(["a", "b", "c"], [[0, -3, 1], [2, 0, -1], [0, 4, 0]])
THREE_BEST_ALL_PAIRS = (("c", "b", "a"), 6.0)
THREE_BEST_ADJACENT = (("c", "b", "a"), 6.0)


def random_matrix(
    n_tasks: int, seed: int, *, forward: bool = False, integer: bool = False
) -> TransferMatrix:
    """A seeded random transfer matrix (optionally with forward transfer and weights)."""
    rng = np.random.default_rng(seed)
    if integer:
        bwt = rng.integers(-9, 10, size=(n_tasks, n_tasks)).astype(float)
    else:
        bwt = rng.normal(0, 1, size=(n_tasks, n_tasks))
    kwargs = {}
    if forward:
        kwargs["forward"] = rng.normal(0, 0.5, size=(n_tasks, n_tasks))
        kwargs["weights"] = rng.uniform(0.5, 2.0, size=n_tasks)
    return TransferMatrix([f"t{k}" for k in range(n_tasks)], bwt, **kwargs)
