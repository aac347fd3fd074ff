"""From probe evaluations to transfer matrices with standard errors.

For repeat ``r`` (see :mod:`taskorder.estimate.plan` for the probes)::

    bwt_r[i, j]     = score_i(theta_ij) - score_i(theta_i)
    forward_r[i, j] = score_j(theta_i)  - score_j(base)
    own_r[i]        = score_i(theta_i)

Each entry is the mean over the repeats in which both of its probes finished.
Its standard error is

- with 2 or more such repeats: the sample standard deviation over repeats divided
  by ``sqrt(repeats)``. It includes every source of noise (initial state, training
  sampling, evaluation sampling); ``stderr_source = "repeats"``.
- with 1 repeat: ``sqrt(se_a**2 + se_b**2)`` from the runner's evaluation standard
  errors, which covers evaluation sampling only (0 for an exact evaluation) and
  *understates* the real noise; ``stderr_source = "evaluation"``. Within a repeat
  all evaluations share one seed (common random numbers), under which this formula
  is an upper bound for the evaluation part.

The same formulas applied to entropies give the *entropy transfer* matrix
(``entropy.bwt[i, j]``: change of task ``i``'s policy entropy caused by training
``j`` after ``i``), and ``own_entropy_change[i] = H_i(theta_i) - H_i(base)``.
Entries whose probes are not in the plan or not finished are NaN (missing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taskorder.estimate.plan import ProbePlan, probe_key
from taskorder.matrix import TransferMatrix

__all__ = ["ProbeEstimate", "estimate_from_evaluations"]

Evaluations = Mapping[str, Mapping[str, Mapping[str, float]]]


@dataclass(frozen=True)
class ProbeEstimate:
    """Everything a probe campaign measured.

    Attributes
    ----------
    matrix : TransferMatrix
        Score transfer: ``bwt``, ``forward``, their standard errors and
        ``own_scores`` (score after the task's own stage, from the base state).
    entropy : TransferMatrix
        Entropy transfer, same layout; its ``own_scores`` hold the own-stage entropies.
    base_scores, base_entropy : dict
        Each task at the starting state (mean over repeats).
    own_score_change, own_entropy_change : dict
        ``score_i(theta_i) - score_i(base)`` and the same for entropy.
    n_repeats : int
        Repeats in the plan.
    stderr_source : {"repeats", "evaluation", "mixed", "none"}
        How the standard errors were obtained (see the module docstring).
    missing : list of (str, str)
        ``bwt`` pairs with no measurement.
    """

    matrix: TransferMatrix
    entropy: TransferMatrix
    base_scores: dict[str, float]
    base_entropy: dict[str, float]
    own_score_change: dict[str, float]
    own_entropy_change: dict[str, float]
    n_repeats: int
    stderr_source: str
    missing: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (NaN becomes ``None``)."""

        def clean(values: dict[str, float]) -> dict[str, float | None]:
            return {k: (None if math.isnan(v) else v) for k, v in values.items()}

        return {
            "tasks": list(self.matrix.tasks),
            "n_repeats": self.n_repeats,
            "stderr_source": self.stderr_source,
            "missing": [list(pair) for pair in self.missing],
            "base_scores": clean(self.base_scores),
            "base_entropy": clean(self.base_entropy),
            "own_score_change": clean(self.own_score_change),
            "own_entropy_change": clean(self.own_entropy_change),
            "matrix": self.matrix.to_dict(),
            "entropy": self.entropy.to_dict(),
        }


def _combine(samples: list[tuple[float, float, float, float]]) -> tuple[float, float, int]:
    """Mean and stderr of ``a - b`` from ``(a, se_a, b, se_b)`` samples; returns (mean, se, k)."""
    if not samples:
        return math.nan, math.nan, 0
    diffs = np.array([a - b for a, _, b, _ in samples])
    if len(samples) >= 2:
        return float(diffs.mean()), float(diffs.std(ddof=1) / math.sqrt(len(diffs))), len(diffs)
    _, se_a, _, se_b = samples[0]
    return float(diffs[0]), float(math.hypot(se_a, se_b)), 1


def _lookup(evaluations: Evaluations, key: str, task: str, name: str) -> tuple[float, float] | None:
    """``(value, stderr)`` of ``task`` in probe ``key`` (stderr 0 for entropies), or None."""
    probe = evaluations.get(key)
    if probe is None or task not in probe:
        return None
    entry = probe[task]
    return float(entry[name]), float(entry["score_stderr"]) if name == "score" else 0.0


def _quantity(plan: ProbePlan, evaluations: Evaluations, name: str) -> dict[str, np.ndarray]:
    """Means, stderrs and counts of ``bwt``/``forward``, and own/base values, for one quantity."""
    tasks = plan.tasks
    n_tasks = len(tasks)
    index = {task: k for k, task in enumerate(tasks)}
    bwt = [[[] for _ in tasks] for _ in tasks]
    forward = [[[] for _ in tasks] for _ in tasks]
    own: list[list[float]] = [[] for _ in tasks]
    base: list[list[float]] = [[] for _ in tasks]
    for r in range(plan.repeats):
        for i, task in enumerate(tasks):
            at_base = _lookup(evaluations, probe_key("base", repeat=r), task, name)
            at_own = _lookup(evaluations, probe_key("first", task, repeat=r), task, name)
            if at_base:
                base[i].append(at_base[0])
            if at_own:
                own[i].append(at_own[0])
            for j, other in enumerate(tasks):
                after = _lookup(evaluations, probe_key("first", task, repeat=r), other, name)
                before = _lookup(evaluations, probe_key("base", repeat=r), other, name)
                if i != j and after and before:
                    forward[i][j].append((*after, *before))
        for earlier, later in plan.pairs:
            after = _lookup(
                evaluations, probe_key("second", earlier, later, repeat=r), earlier, name
            )
            before = _lookup(evaluations, probe_key("first", earlier, repeat=r), earlier, name)
            if after and before:
                bwt[index[earlier]][index[later]].append((*after, *before))
    out: dict[str, np.ndarray] = {}
    for label, cells in (("bwt", bwt), ("forward", forward)):
        mean = np.full((n_tasks, n_tasks), np.nan)
        stderr = np.full((n_tasks, n_tasks), np.nan)
        counts = np.zeros((n_tasks, n_tasks), dtype=int)
        for i in range(n_tasks):
            for j in range(n_tasks):
                if i != j:
                    mean[i, j], stderr[i, j], counts[i, j] = _combine(cells[i][j])
        out[label], out[label + "_stderr"], out[label + "_counts"] = mean, stderr, counts
    out["own"] = np.array([np.mean(v) if v else np.nan for v in own])
    out["base"] = np.array([np.mean(v) if v else np.nan for v in base])
    return out


def estimate_from_evaluations(plan: ProbePlan, evaluations: Evaluations) -> ProbeEstimate:
    """Build a :class:`ProbeEstimate` from finished probes' evaluations.

    Parameters
    ----------
    plan : ProbePlan
    evaluations : mapping
        ``{probe key: {task: {"score", "entropy", "score_stderr", ...}}}``, e.g.
        :meth:`CampaignStore.evaluations`. Probes absent from it count as unfinished.

    Returns
    -------
    ProbeEstimate

    Examples
    --------
    >>> from taskorder.estimate.plan import make_plan
    >>> plan = make_plan(["a", "b"], pairs=[("a", "b")])
    >>> def ev(sa, sb):
    ...     return {"a": {"score": sa, "entropy": 1.0, "score_stderr": 0.0},
    ...             "b": {"score": sb, "entropy": 1.0, "score_stderr": 0.0}}
    >>> est = estimate_from_evaluations(plan, {"base/r0": ev(0.5, 0.5), "first/a/r0": ev(0.8, 0.6),
    ...     "first/b/r0": ev(0.4, 0.9), "second/a/b/r0": ev(0.7, 0.9)})
    >>> round(float(est.matrix.bwt[0, 1]), 3), round(float(est.matrix.forward[0, 1]), 3)
    (-0.1, 0.1)
    >>> est.missing
    [('b', 'a')]
    """
    tasks = plan.tasks
    n_tasks = len(tasks)
    quantities = {name: _quantity(plan, evaluations, name) for name in ("score", "entropy")}
    score, entropy = quantities["score"], quantities["entropy"]

    def matrix(q: dict[str, Any]) -> TransferMatrix:
        return TransferMatrix(
            tasks,
            q["bwt"],
            forward=q["forward"],
            bwt_stderr=q["bwt_stderr"],
            forward_stderr=q["forward_stderr"],
            own_scores=q["own"],
        )

    off = ~np.eye(n_tasks, dtype=bool)
    counts = np.concatenate([score["bwt_counts"][off], score["forward_counts"][off]])
    measured = counts[counts > 0]
    if measured.size == 0:
        source = "none"
    elif (measured >= 2).all():
        source = "repeats"
    elif (measured == 1).all():
        source = "evaluation"
    else:
        source = "mixed"
    score_matrix = matrix(score)
    missing = [(tasks[i], tasks[j]) for i, j in np.argwhere(np.isnan(score["bwt"]) & off)]
    return ProbeEstimate(
        matrix=score_matrix,
        entropy=matrix(entropy),
        base_scores=dict(zip(tasks, score["base"].tolist())),
        base_entropy=dict(zip(tasks, entropy["base"].tolist())),
        own_score_change=dict(zip(tasks, (score["own"] - score["base"]).tolist())),
        own_entropy_change=dict(zip(tasks, (entropy["own"] - entropy["base"]).tolist())),
        n_repeats=plan.repeats,
        stderr_source=source,
        missing=missing,
    )
