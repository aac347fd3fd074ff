"""taskorder: choose the order of multi-task RL training stages from measured transfer."""

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
from taskorder.result import SolveResult
from taskorder.solvers import solve

__version__ = "0.1.0"

__all__ = [
    "SIGN_CONVENTION",
    "TransferMatrix",
    "read_matrix",
    "write_matrix",
    "predict",
    "Prediction",
    "evaluate",
    "solve",
    "SolveResult",
    "gem_metrics",
    "GEMMetrics",
    "TaskorderError",
    "InvalidMatrixError",
    "MissingEntriesError",
    "InvalidOrderError",
    "ConstraintError",
    "InvalidParameterError",
    "SolverError",
    "MissingDependencyError",
]
