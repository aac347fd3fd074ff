"""Calibrated outcome model: learn from a few complete curricula, with the probes as prior.

Pairwise probes can rank complete curricula poorly (``taskorder validate`` measures it).
A few short, complete curricula are direct evidence. This module fits an outcome model
on *precedence features* and searches orders with Bayesian optimisation.

Model
-----
For an order ``p`` let ``z_ij(p) = +1`` if ``i`` is trained before ``j`` and ``-1``
otherwise (one feature per unordered pair ``i < j``). The measured outcome (the mean
final score over tasks) is modelled as::

    y(p) = c + sum_{i<j} beta_ij z_ij(p) + noise,     beta_ij = a * b_ij + delta_ij

where ``b_ij = (W[i, j] - W[j, i]) / (2 n)`` is what the probe matrix predicts (the
additive model written in these features), ``a ~ N(1, prior_scale_sd^2)`` rescales the
probes, and ``delta_ij ~ N(0, prior_pair_sd^2)`` lets the data correct single pairs. The
model is linear-Gaussian, so its posterior is exact, and the posterior mean of
``y`` is again a Linear Ordering objective: its best order is found *exactly* by
:func:`taskorder.solve` on ``W'[i, j] = beta_ij = -W'[j, i]``.

Order search
------------
:func:`calibrated_search` runs curricula one at a time: it draws Thompson samples of
``beta``, solves each exactly (the acquisition's candidates), picks the candidate with
the highest expected improvement over the best outcome seen, runs it, updates the
posterior, and finally recommends the order that maximises the posterior mean.

On a runner
-----------
:func:`run_calibrated` does the whole job on any runner (built-in learner, TRL, a
python factory): the cheap probe design (every task's first stage and ``2 n`` second
stages, :func:`taskorder.active.initial_pairs`) through the campaign path
(:func:`taskorder.estimate.run_campaign`, resumable, sharing its store with
``taskorder probe CONFIG``), the unmeasured pairs imputed into the prior, then
``n_curricula`` complete curricula (:func:`taskorder.estimate.run_curricula`, recorded
so a rerun replays them) chosen by :func:`calibrated_search`. From the command line:
``taskorder probe calibrated CONFIG --curricula K``.
"""

from taskorder.calibrate.model import (
    CalibratedSearch,
    PrecedenceModel,
    calibrated_search,
    precedence_features,
)
from taskorder.calibrate.on_runner import (
    CURRICULA_LOG,
    RESULT_NAME,
    CalibratedRun,
    run_calibrated,
)

__all__ = [
    "CURRICULA_LOG",
    "RESULT_NAME",
    "CalibratedRun",
    "CalibratedSearch",
    "PrecedenceModel",
    "calibrated_search",
    "precedence_features",
    "run_calibrated",
]
