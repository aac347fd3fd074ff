"""The one percentile of an order among orders, used by validate, compare and every benchmark.

Definition (mid-rank percentile)
--------------------------------
For an order with observed value ``x`` among ``N`` evaluated orders (the order itself
included) with values ``v_1 .. v_N``::

    percentile(x) = 100 * (#{k : v_k < x} + 0.5 * #{k : v_k == x}) / N

that is, the share of all orders strictly worse plus half the share that tie with
it (the order itself counts as one tie). Properties that make it the right yardstick:

- it is symmetric: the best of ``N`` distinct orders scores ``100 - 50 / N``, the
  worst ``50 / N``; neither end is special-cased;
- the mean percentile of all orders is exactly 50, so **a random order scores 50 in
  expectation** and "beats random" means "above 50";
- ties are split evenly, so orders that training cannot tell apart score the same.

Values are compared with a relative tolerance of ``1e-12`` so that float noise in a
recomputed mean does not break a tie.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from taskorder.exceptions import InvalidParameterError

__all__ = ["TIE_TOLERANCE", "order_percentile", "rank_of"]

#: Values closer than this (relative to the largest magnitude) count as ties.
TIE_TOLERANCE = 1e-12


def _split(values: Sequence[float] | np.ndarray, value: float) -> tuple[int, int, int]:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise InvalidParameterError(
            "The 'values' parameter of order_percentile must be a non-empty 1-D sequence of "
            f"order values. Got shape {array.shape}."
        )
    if not np.isfinite(array).all() or not np.isfinite(value):
        raise InvalidParameterError(
            "The 'values' and 'value' parameters of order_percentile must be finite numbers."
        )
    tolerance = TIE_TOLERANCE * max(1.0, float(np.abs(array).max()), abs(value))
    lower = int((array < value - tolerance).sum())
    higher = int((array > value + tolerance).sum())
    return lower, array.size - lower - higher, higher


def order_percentile(values: Sequence[float] | np.ndarray, value: float) -> float:
    """Mid-rank percentile of ``value`` among ``values`` (see the module docstring).

    Parameters
    ----------
    values : sequence of float
        The observed value (e.g. mean final score) of every evaluated order; it should
        contain ``value`` itself when ``value`` is one of those orders.
    value : float
        The value of the order to place.

    Returns
    -------
    float
        In ``[0, 100]``; 100 = better than everything, 50 = the expected score of a
        random order.

    Raises
    ------
    InvalidParameterError
        Empty or non-finite input.

    Examples
    --------
    >>> order_percentile([1.0, 2.0, 3.0, 4.0], 4.0)  # best of 4
    87.5
    >>> order_percentile([1.0, 2.0, 3.0, 4.0], 1.0)  # worst of 4
    12.5
    >>> order_percentile([1.0, 2.0, 2.0, 4.0], 2.0)  # one strictly worse, two ties
    50.0
    >>> values = [0.3, 0.1, 0.7, 0.5]
    >>> sum(order_percentile(values, v) for v in values) / len(values)  # random: 50
    50.0
    >>> order_percentile([1.0, 2.0], 5.0)  # a value outside the set (e.g. joint training)
    100.0
    """
    lower, ties, _ = _split(values, value)
    size = np.asarray(values).size
    return 100.0 * (lower + 0.5 * ties) / size


def rank_of(values: Sequence[float] | np.ndarray, value: float) -> int:
    """Rank of ``value`` among ``values``: 1 + the number strictly better (1 = best).

    Examples
    --------
    >>> rank_of([1.0, 2.0, 3.0, 4.0], 3.0)
    2
    >>> rank_of([1.0, 4.0, 4.0], 4.0)
    1
    """
    return 1 + _split(values, value)[2]
