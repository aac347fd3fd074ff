"""Estimating transfer: probe campaigns, their store and executors, and validation.

Importing this package is light (no torch, no ray); trainer-specific runners live in
their own subpackages and import their heavy dependencies when used.

- The runner protocol every trainer implements lives in :mod:`taskorder.runner`.
- :func:`make_plan` / :func:`run_campaign`: measure the transfer matrix with short
  probe runs (:mod:`~taskorder.estimate.plan`, :mod:`~taskorder.estimate.campaign`),
  recorded in a resumable SQLite store (:mod:`~taskorder.estimate.store`), run
  in-process, in a process pool or on Ray (:mod:`~taskorder.estimate.executors`).
- :func:`impute`: fill unmeasured pairs by a named method, flagged as imputed.
- :func:`validate`: train complete curricula and measure how well the matrix
  predicts them, against the noise ceiling.
"""

from taskorder.estimate.campaign import (
    CampaignResult,
    ProbeFailedError,
    Progress,
    load_estimate,
    run_campaign,
)
from taskorder.estimate.curricula import CurriculumRun, run_curricula
from taskorder.estimate.estimates import ProbeEstimate, estimate_from_evaluations
from taskorder.estimate.executors import EXECUTORS, make_executor
from taskorder.estimate.impute import IMPUTATION_METHODS, impute
from taskorder.estimate.lock import CampaignLockedError
from taskorder.estimate.plan import Probe, ProbePlan, make_plan
from taskorder.estimate.repair import UnreadableStateError
from taskorder.estimate.store import CampaignMismatchError, CampaignStore
from taskorder.estimate.store_errors import CampaignStoreError
from taskorder.estimate.validate import ValidationReport, noise_ceiling, validate

__all__ = [
    "EXECUTORS",
    "IMPUTATION_METHODS",
    "CampaignLockedError",
    "CampaignMismatchError",
    "CampaignResult",
    "CampaignStore",
    "CampaignStoreError",
    "CurriculumRun",
    "Probe",
    "ProbeEstimate",
    "ProbeFailedError",
    "ProbePlan",
    "Progress",
    "UnreadableStateError",
    "ValidationReport",
    "estimate_from_evaluations",
    "impute",
    "load_estimate",
    "make_executor",
    "make_plan",
    "noise_ceiling",
    "run_campaign",
    "run_curricula",
    "validate",
]
