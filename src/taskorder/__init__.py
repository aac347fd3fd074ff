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
from taskorder.matrix import SIGN_CONVENTION, TransferMatrix

__version__ = "0.1.0"

__all__ = [
    "SIGN_CONVENTION",
    "TransferMatrix",
    "TaskorderError",
    "InvalidMatrixError",
    "MissingEntriesError",
    "InvalidOrderError",
    "ConstraintError",
    "InvalidParameterError",
    "SolverError",
    "MissingDependencyError",
]
