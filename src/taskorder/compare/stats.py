"""The numbers of a comparison: relative gain, relative performance, significance.

Relative gain (Omni-Thinker's "average relative performance" of one training recipe
over another), in percent, on the mean final score over tasks and seeds::

    gain(A over B) = (mean_score(A) - mean_score(B)) / mean_score(B) * 100

Relative performance to the specialists: for each seed, ``rel_t = score_t /
specialist_t`` (the score of task ``t`` after the method, over the score of the model
trained on ``t`` alone from the same base), averaged over tasks; 1.0 means "as good
as a specialist on every task".

Significance: the methods of one seed share its base state, so seeds are paired; a
difference is called significant when a two-sided *paired t-test* over seeds on the
per-seed mean score gives ``p < alpha`` (0.05). With one seed, or with identical
per-seed differences (e.g. exact mode's deterministic training on identical bases),
no test is possible and ``p`` is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from taskorder.exceptions import InvalidParameterError

__all__ = ["paired_p_value", "relative_gain", "relative_performance"]


def relative_gain(scores_a: Sequence[float], scores_b: Sequence[float]) -> float:
    """``(mean(a) - mean(b)) / mean(b) * 100``: gain of A over B in percent.

    Examples
    --------
    >>> relative_gain([0.6, 0.5], [0.5, 0.5])
    10.0
    """
    a, b = float(np.mean(scores_a)), float(np.mean(scores_b))
    if b == 0:
        raise InvalidParameterError(
            "The reference scores of relative_gain must have a non-zero mean. Got 0."
        )
    return round((a - b) / b * 100.0, 12)


def relative_performance(scores: np.ndarray, specialist: np.ndarray) -> np.ndarray:
    """Per-seed mean over tasks of ``score / specialist`` (both shape ``(seeds, tasks)``).

    A task whose specialist scored 0 (nothing learned in its own stage, common for short
    stages on a small model) has no ratio and is left out of that seed's mean; a seed with
    no such task gives NaN. The trained methods' scores are kept either way.

    Examples
    --------
    >>> relative_performance(np.array([[0.4, 0.9]]), np.array([[0.8, 0.9]])).tolist()
    [0.75]
    >>> relative_performance(np.array([[0.4, 0.9]]), np.array([[0.8, 0.0]])).tolist()
    [0.5]
    """
    scores, specialist = np.asarray(scores, float), np.asarray(specialist, float)
    if scores.shape != specialist.shape or np.any(specialist < 0):
        raise InvalidParameterError(
            "The 'specialist' parameter of relative_performance must have the shape of 'scores' "
            f"{scores.shape} and non-negative entries. Got shape {specialist.shape}."
        )
    positive = specialist > 0
    ratios = np.where(positive, scores / np.where(positive, specialist, 1.0), 0.0)
    counts = positive.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, ratios.sum(axis=1) / counts, np.nan)


def paired_p_value(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided paired t-test p-value of per-seed values ``a`` vs ``b``; NaN if untestable.

    Examples
    --------
    >>> round(paired_p_value([1.0, 2.0, 3.1], [0.0, 1.0, 2.0]), 4)
    0.001
    >>> paired_p_value([1.0], [0.0])
    nan
    """
    from scipy.stats import ttest_rel

    diff = np.asarray(a, float) - np.asarray(b, float)
    if len(diff) < 2 or np.all(diff == diff[0]):
        return math.nan
    return float(ttest_rel(a, b).pvalue)
