"""Continual-learning metrics of Lopez-Paz & Ranzato (GEM, NeurIPS 2017).

The accuracy matrix ``R`` has one row per finished training stage and one column per
task, both in training order: ``R[k, i]`` is the score of the task trained at stage
``i`` measured right after stage ``k``. ``baseline[i]`` (b̄ in the paper) is that task's
score at the initial model (the paper uses random initialisation; for LLM post-training
the base model plays that role).

With ``T`` stages:

- ``ACC = (1/T) * sum_i R[T-1, i]``
- ``BWT = (1/(T-1)) * sum_{i < T-1} (R[T-1, i] - R[i, i])``
- ``FWT = (1/(T-1)) * sum_{i >= 1} (R[i-1, i] - baseline[i])``

Chaudhry et al. (2018) add, after stage ``k`` (rows ``0..k``):

- forgetting of task ``j < k``: ``f_j = max_{l < k} R[l, j] - R[k, j]`` (the best it
  ever was minus what is left), and ``F_k`` their mean;
- intransigence of task ``k``: ``I_k = a*_k - R[k, k]``, with ``a*_k`` the score a
  reference model reaches on task ``k`` (trained on it alone, or jointly): how much
  the earlier stages keep the model from learning it.

References
----------
D. Lopez-Paz and M. Ranzato, "Gradient Episodic Memory for Continual Learning",
NeurIPS 2017, section 2.
A. Chaudhry, P. K. Dokania, T. Ajanthan and P. H. S. Torr, "Riemannian Walk for
Incremental Learning: Understanding Forgetting and Intransigence", ECCV 2018, section 4.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError

__all__ = ["GEMMetrics", "forgetting", "gem_metrics", "intransigence"]


@dataclass(frozen=True)
class GEMMetrics:
    """ACC, BWT and FWT of one training run (FWT is ``None`` without a baseline)."""

    acc: float
    bwt: float
    fwt: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gem_metrics(accuracy: Any, baseline: Any = None) -> GEMMetrics:
    """Compute GEM's ACC, BWT and FWT from an accuracy matrix.

    Parameters
    ----------
    accuracy : array-like, shape (T, T)
        ``accuracy[k, i]``: score of the ``i``-th trained task after stage ``k``.
    baseline : array-like, shape (T,), optional
        Score of each task (in training order) before any stage; needed for FWT.

    Returns
    -------
    GEMMetrics

    Raises
    ------
    InvalidParameterError
        If ``accuracy`` is not a finite square matrix with at least 2 stages, or
        ``baseline`` does not have one finite value per task.

    Examples
    --------
    >>> R = [[0.8, 0.1], [0.6, 0.9]]
    >>> m = gem_metrics(R, baseline=[0.0, 0.05])
    >>> round(m.acc, 6), round(m.bwt, 6), round(m.fwt, 6)
    (0.75, -0.2, 0.05)
    """
    R = np.asarray(accuracy, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 2:
        raise InvalidParameterError(
            "The 'accuracy' parameter of gem_metrics must be a square (T, T) matrix with "
            f"T >= 2 (rows: stages, columns: tasks in training order). Got shape {R.shape}."
        )
    if not np.isfinite(R).all():
        raise InvalidParameterError("The 'accuracy' matrix of gem_metrics must be finite.")
    n_stages = R.shape[0]
    acc = float(R[-1].mean())
    bwt = float(np.mean([R[-1, i] - R[i, i] for i in range(n_stages - 1)]))
    fwt = None
    if baseline is not None:
        b = np.asarray(baseline, dtype=float).reshape(-1)
        if b.shape != (n_stages,) or not np.isfinite(b).all():
            raise InvalidParameterError(
                f"The 'baseline' parameter of gem_metrics must hold {n_stages} finite scores, one "
                f"per task. Got {b.tolist()}."
            )
        fwt = float(np.mean([R[i - 1, i] - b[i] for i in range(1, n_stages)]))
    return GEMMetrics(acc=acc, bwt=bwt, fwt=fwt)


def _history(accuracy: Any, owner: str) -> np.ndarray:
    R = np.asarray(accuracy, dtype=float)
    if R.ndim != 2 or R.shape[0] < 1 or R.shape[0] > R.shape[1] or not np.isfinite(R).all():
        raise InvalidParameterError(
            f"The 'accuracy' parameter of {owner} must be a finite (K, T) matrix with "
            f"1 <= K <= T (rows: stages so far, columns: tasks in training order). Got shape "
            f"{R.shape}."
        )
    return R


def forgetting(accuracy: Any) -> np.ndarray:
    """Chaudhry et al.'s forgetting of every earlier task after the last stage so far.

    Parameters
    ----------
    accuracy : array-like, shape (K, T)
        The first ``K`` rows of GEM's ``R`` (``K <= T`` stages so far).

    Returns
    -------
    ndarray, shape (K - 1,)
        ``f_j = max_{j <= l < K-1} R[l, j] - R[K-1, j]`` for the tasks ``j < K - 1``
        (empty after the first stage): the best task ``j`` was since it was trained,
        minus its score now. Its mean is ``F_{K-1}``.

    Examples
    --------
    >>> forgetting([[0.8, 0.1, 0.0], [0.6, 0.9, 0.2], [0.7, 0.5, 0.9]])
    array([0.1, 0.4])
    >>> forgetting([[0.2, 0.95, 0.1], [0.9, 0.3, 0.1], [0.9, 0.3, 0.8]])  # 0.95: before training
    array([0., 0.])
    """
    R = _history(accuracy, "forgetting")
    k = R.shape[0] - 1
    return np.array([round(float(R[j:k, j].max() - R[k, j]), 12) for j in range(k)])


def intransigence(accuracy: Any, reference: Any) -> np.ndarray:
    """Chaudhry et al.'s intransigence ``I_k = a*_k - R[k, k]`` of every stage so far.

    Parameters
    ----------
    accuracy : array-like, shape (K, T)
        The first ``K`` rows of GEM's ``R``.
    reference : array-like, shape (T,)
        ``a*``: each task's score under a reference model (trained on that task
        alone, e.g. the single-task probes, or on all tasks jointly).

    Returns
    -------
    ndarray, shape (K,)

    Examples
    --------
    >>> intransigence([[0.8, 0.1], [0.6, 0.7]], reference=[0.9, 0.9])
    array([0.1, 0.2])
    """
    R = _history(accuracy, "intransigence")
    a = np.asarray(reference, dtype=float).reshape(-1)
    if a.shape != (R.shape[1],) or not np.isfinite(a).all():
        raise InvalidParameterError(
            f"The 'reference' parameter of intransigence must hold {R.shape[1]} finite scores, "
            f"one per task. Got {a.tolist()}."
        )
    k = R.shape[0]
    return np.round(a[:k] - np.diag(R[:, :k]), 12)
