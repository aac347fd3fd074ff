"""Scale float weights to integers for the exact solvers, and bound the rounding error.

MIP and CP-SAT proofs are exact only on integer data: CP-SAT needs integer
coefficients, and a MIP proves "no order beats this one by 1 or more" only when every
order's value is an integer. :func:`integer_weights` therefore multiplies the data by a
*scale* and rounds. The scale is chosen so that

- integer data (LOLIB files, counts) is kept as is (scale 1, no error);
- decimal data with few digits (``0.02``, ``-0.125``) is scaled by a power of ten
  that makes it integral (no error beyond float noise);
- anything else is scaled so the largest magnitude becomes ``max_abs`` and rounded.

The rounding changes the value of *every* order by at most ``rounding_error_bound``
(in the original units), so an order that is optimal for the rounded data is within
``2 * rounding_error_bound`` of the true optimum, and ``rounded optimum / scale +
rounding_error_bound`` is a valid upper bound on the true optimum. Solvers record both
numbers in ``Solution.extras``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_MAX_ABS", "IntegerWeights", "integer_weights"]

#: Default largest integer magnitude after scaling. LOLIB's input-output matrices reach
#: about 1e7 and HiGHS proves them exactly; rounding then loses at most 5e-8 of the
#: largest entry per entry.
DEFAULT_MAX_ABS = 10_000_000
_LARGEST_EXACT = 2**40


@dataclass(frozen=True)
class IntegerWeights:
    """Integer copies of a problem's data and what the rounding cost.

    Attributes
    ----------
    weights : ndarray of int64
        ``round(scale * W)`` (pair weights).
    bwt, forward, own : ndarray of int64 or None
        The same for the ``max_min`` arrays (``None`` for other objectives).
    scale : float
        Multiplier applied before rounding.
    rounding_error_bound : float
        Largest change rounding can make to any order's objective, in original units.
    """

    weights: np.ndarray
    scale: float
    rounding_error_bound: float
    bwt: np.ndarray | None = None
    forward: np.ndarray | None = None
    own: np.ndarray | None = None

    @property
    def exact(self) -> bool:
        """True when rounding changed nothing but float noise."""
        return self.rounding_error_bound == 0.0


def _choose_scale(arrays: list[np.ndarray], max_abs: float) -> float:
    largest = max(float(np.abs(a).max()) if a.size else 0.0 for a in arrays)
    if largest == 0.0:
        return 1.0
    for power in range(10):
        scale = 10.0**power
        if largest * scale > max(max_abs, _LARGEST_EXACT if power == 0 else max_abs):
            break
        if all(np.allclose(a * scale, np.round(a * scale), rtol=0.0, atol=1e-9) for a in arrays):
            return scale
    return max_abs / largest


def _round(array: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    scaled = array * scale
    rounded = np.round(scaled)
    error = np.abs(scaled - rounded) / scale
    error[error < 1e-9 / scale] = 0.0  # float noise of an exactly representable decimal
    return rounded.astype(np.int64), error


def integer_weights(problem, *, max_abs: float = DEFAULT_MAX_ABS) -> IntegerWeights:
    """Scale ``problem``'s data to integers and bound the effect on the objective.

    Parameters
    ----------
    problem : Problem
        Its ``weights`` (and for ``max_min`` its ``bwt``, ``forward``, ``own``) are scaled.
    max_abs : float
        Largest integer magnitude wanted when the data is not already integral or decimal.

    Returns
    -------
    IntegerWeights

    Examples
    --------
    >>> import numpy as np
    >>> from taskorder.solvers.problem import Constraints, Problem
    >>> free = Constraints(2, predecessors=(0, 0))
    >>> p = Problem(np.array([[0, 0.25], [-0.5, 0]]), "all_pairs", free)
    >>> iw = integer_weights(p)
    >>> iw.weights.tolist(), iw.scale, iw.rounding_error_bound
    ([[0, 25], [-50, 0]], 100.0, 0.0)
    >>> p = Problem(np.array([[0, 1 / 3], [0, 0]]), "all_pairs", free)
    >>> iw = integer_weights(p, max_abs=1000)
    >>> iw.weights.tolist(), iw.scale, round(iw.rounding_error_bound, 12)
    ([[0, 1000], [0, 0]], 3000.0, 0.0)
    """
    n_tasks = problem.n_tasks
    off_diagonal = ~np.eye(n_tasks, dtype=bool)
    weights = np.where(off_diagonal, problem.weights, 0.0)
    if problem.objective == "max_min":
        arrays = [
            np.where(off_diagonal, problem.bwt, 0.0),
            np.where(off_diagonal, problem.forward, 0.0),
            np.asarray(problem.own, dtype=float),
        ]
        scale = _choose_scale(arrays, max_abs)
        (bwt, e_bwt), (forward, e_fwd), (own, e_own) = (_round(a, scale) for a in arrays)
        weights_int, _ = _round(weights, scale)
        # final_i changes by at most |e_own_i| + sum_j max(|e_bwt[i, j]|, |e_fwd[j, i]|)
        per_task = e_own + np.maximum(e_bwt, e_fwd.T).sum(axis=1)
        return IntegerWeights(
            weights_int, scale, float(per_task.max()), bwt=bwt, forward=forward, own=own
        )
    scale = _choose_scale([weights], max_abs)
    weights_int, error = _round(weights, scale)
    if problem.objective == "all_pairs":
        bound = float(np.triu(np.maximum(error, error.T), k=1).sum())
    else:  # a path uses n - 1 arcs
        bound = float(np.sort(error[off_diagonal])[::-1][: n_tasks - 1].sum())
    return IntegerWeights(weights_int, scale, bound)
