"""Fill missing transfer entries by a named, documented method, and flag them.

Missing entries stay missing (NaN) unless you impute them on purpose. Imputed
``bwt`` entries are marked in :attr:`TransferMatrix.imputed`; their standard error
is set to NaN (unknown), never to 0.

Methods
-------
``"row_col"`` (row + column effects, least squares)
    Fit ``x[i, j] ~ mu + a_i + b_j`` to the measured off-diagonal entries by least
    squares (with ``sum a = sum b = 0``; minimum-norm when a row or column has no
    measurement) and fill each missing entry with its fitted value. ``a_i`` says how
    forgettable task ``i`` is overall, ``b_j`` how disruptive task ``j`` is. With
    the full matrix measured this is the classic two-way additive fit.
``"row_mean"``
    Fill with the mean of the measured entries of the same row (the task's average
    forgetting); the overall mean when the row has none.
``"zero"``
    Fill with 0 (assume no transfer). Explicit only: never a default.

``forward`` is imputed by the same method when it has missing entries.
"""

from __future__ import annotations

import numpy as np

from taskorder.checks import check_choice
from taskorder.exceptions import InvalidMatrixError
from taskorder.matrix import TransferMatrix

__all__ = ["IMPUTATION_METHODS", "fill_missing", "impute"]

#: Names accepted by :func:`impute`.
IMPUTATION_METHODS = ("row_col", "row_mean", "zero")


def fill_missing(values: np.ndarray, method: str) -> np.ndarray:
    """Return a copy of the square array ``values`` with NaN off-diagonal cells filled.

    Examples
    --------
    >>> x = np.array([[0, 1.0, np.nan], [2.0, 0, 3.0], [np.nan, 4.0, 0]])
    >>> filled = fill_missing(x, "row_mean")
    >>> float(filled[0, 2]), float(filled[2, 0])
    (1.0, 4.0)
    """
    check_choice(method, IMPUTATION_METHODS, "method", "fill_missing")
    n_tasks = values.shape[0]
    off = ~np.eye(n_tasks, dtype=bool)
    known = off & ~np.isnan(values)
    missing = off & np.isnan(values)
    out = np.array(values, dtype=float)
    if not missing.any():
        return out
    if not known.any():
        raise InvalidMatrixError(
            "Cannot impute a matrix with no measured off-diagonal entry; measure some pairs first."
        )
    if method == "zero":
        out[missing] = 0.0
    elif method == "row_mean":
        overall = values[known].mean()
        for i in range(n_tasks):
            row = values[i][known[i]]
            out[i][missing[i]] = row.mean() if row.size else overall
    elif method == "row_col":
        rows, cols = np.nonzero(known)
        design = np.zeros((rows.size, 1 + 2 * n_tasks))
        design[:, 0] = 1.0
        design[np.arange(rows.size), 1 + rows] = 1.0
        design[np.arange(rows.size), 1 + n_tasks + cols] = 1.0
        # Sum-to-zero constraints as heavily weighted extra rows make the fit identifiable.
        constraint = np.zeros((2, 1 + 2 * n_tasks))
        constraint[0, 1 : 1 + n_tasks] = 1e3
        constraint[1, 1 + n_tasks :] = 1e3
        coef = np.linalg.lstsq(
            np.vstack([design, constraint]), np.concatenate([values[known], [0.0, 0.0]]), rcond=None
        )[0]
        mu, a, b = coef[0], coef[1 : 1 + n_tasks], coef[1 + n_tasks :]
        fitted = mu + a[:, None] + b[None, :]
        out[missing] = fitted[missing]
    return out


def impute(matrix: TransferMatrix, method: str = "row_col") -> TransferMatrix:
    """Fill the missing entries of ``matrix`` and mark them in ``imputed``.

    Parameters
    ----------
    matrix : TransferMatrix
    method : {"row_col", "row_mean", "zero"}
        See the module docstring.

    Returns
    -------
    TransferMatrix
        A copy; ``imputed[i, j]`` is True where ``bwt[i, j]`` was filled in (in
        addition to entries already marked); filled standard errors are NaN.

    Raises
    ------
    InvalidParameterError
        Unknown method.
    InvalidMatrixError
        Nothing is measured.

    Examples
    --------
    >>> nan = float("nan")
    >>> m = TransferMatrix(["a", "b", "c"], [[0, -0.2, -0.1], [0.0, 0, nan], [0.1, -0.1, 0]])
    >>> filled = impute(m)
    >>> round(float(filled.bwt[1, 2]), 3), bool(filled.imputed[1, 2]), filled.missing()
    (-0.1, True, [])
    """
    check_choice(method, IMPUTATION_METHODS, "method", "impute")
    off = ~np.eye(matrix.n_tasks, dtype=bool)
    was_missing = np.isnan(matrix.bwt) & off
    changes: dict = {"bwt": fill_missing(matrix.bwt, method)}
    if matrix.forward is not None and np.isnan(matrix.forward[off]).any():
        changes["forward"] = fill_missing(matrix.forward, method)
    if matrix.bwt_stderr is not None:
        stderr = np.array(matrix.bwt_stderr)
        stderr[was_missing] = np.nan
        changes["bwt_stderr"] = stderr
    changes["imputed"] = np.asarray(matrix.imputed) | was_missing
    return matrix.replace(**changes)
