"""taskorder: choose the order of multi-task RL training stages from measured transfer.

Every capability and the one way to call it (library; CLI in brackets):

- **Read and write matrices**: :func:`read_matrix`, :func:`write_matrix`,
  :class:`TransferMatrix` (sign convention: :data:`SIGN_CONVENTION`).
- **Estimate** the matrix with probe runs on any runner (built-in learner or TRL):
  :func:`taskorder.estimate.make_plan` + :func:`taskorder.estimate.run_campaign`
  (``taskorder probe CONFIG``; ``probe status``). One config file describes the run
  for every command: :func:`taskorder.configs.load_config` reads it (built-in learner
  or TRL) and :func:`taskorder.configs.build_runner` builds its runner.
- **Solve**: one :class:`ProblemSpec` (objective incl. max-min, constraints, outcome
  model, entropy terms, noise) passed to one :func:`solve` (``taskorder solve FILE``);
  :func:`predict` and :func:`evaluate` score a given order.
- **Recommend**: :func:`recommend` is the order taskorder presents as *the* answer
  (the route that won on held-out worlds, checked against probe noise; docs/evidence.md).
- **Re-plan during training** (the route that won on held-out worlds):
  :func:`taskorder.replan.replan_training` (``taskorder train CONFIG --replan``,
  ``taskorder probe replan CONFIG``).
- **Validate** predicted against observed orders:
  :func:`taskorder.estimate.validate.validate` (``taskorder validate CONFIG``,
  ``taskorder demo``).
- **Compare** curricula with joint, interleaved, merged and online schedules at equal
  steps: :func:`taskorder.compare.compare` (``taskorder compare [CONFIG]``).
- **Online schedules** (SEC, TAC, worst-task bandits; refresh stages; hybrid):
  :mod:`taskorder.online`.
- **Train** a real model with TRL GRPO stage by stage: :mod:`taskorder.trl`
  (``taskorder train CONFIG``; ``taskorder model prepare``, ``taskorder suite write``).
- **Cheaper probing**: :mod:`taskorder.active` (active probing) and
  :func:`taskorder.calibrate.run_calibrated` (cheap probes plus a few curricula;
  ``taskorder probe calibrated CONFIG``).
- **The built-in learner** (a small GRPO-like learner for fast experiments):
  :func:`taskorder.learner.make_learner`.
- **Forgetting metrics**: :func:`gem_metrics`.
- **Your own trainer**: implement the runner protocol (:mod:`taskorder.runner`: six calls);
  every seed is derived by name (:func:`taskorder.seeds.derive_seed`).

Importing :mod:`taskorder` loads numpy only; scipy, torch, TRL, Ray and OR-Tools
load when a capability that needs them runs.
"""

from taskorder.exceptions import (
    ConstraintError,
    InvalidMatrixError,
    InvalidOrderError,
    InvalidParameterError,
    MissingDependencyError,
    MissingEntriesError,
    SolverError,
    TaskorderError,
)
from taskorder.io import read_matrix, write_matrix
from taskorder.matrix import SIGN_CONVENTION, TransferMatrix
from taskorder.metrics import GEMMetrics, gem_metrics
from taskorder.model import Prediction, predict
from taskorder.objectives import evaluate
from taskorder.recommend import Recommendation, recommend
from taskorder.result import SolveResult
from taskorder.solvers import ProblemSpec, solve

__version__ = "0.1.0"

__all__ = [
    "SIGN_CONVENTION",
    "ConstraintError",
    "GEMMetrics",
    "InvalidMatrixError",
    "InvalidOrderError",
    "InvalidParameterError",
    "MissingDependencyError",
    "MissingEntriesError",
    "Prediction",
    "ProblemSpec",
    "Recommendation",
    "SolveResult",
    "SolverError",
    "TaskorderError",
    "TransferMatrix",
    "evaluate",
    "gem_metrics",
    "predict",
    "read_matrix",
    "recommend",
    "solve",
    "write_matrix",
]
