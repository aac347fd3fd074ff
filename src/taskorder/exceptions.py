"""The exceptions taskorder raises, grouped by meaning.

Every error is a :class:`TaskorderError` and also inherits the builtin that fits
it, so ``except ValueError`` keeps working for callers who do not know taskorder.

- :class:`InvalidMatrixError` (``ValueError``): a transfer matrix or its file is malformed.
- :class:`MissingEntriesError` (``InvalidMatrixError``): some pairs were never measured.
- :class:`InvalidOrderError` (``ValueError``): an order is not a permutation of the tasks.
- :class:`ConstraintError` (``ValueError``): order constraints are malformed or contradictory.
- :class:`InvalidParameterError` (``ValueError``): a function argument is out of range.
- :class:`SolverError` (``RuntimeError``): a solver failed to produce an answer.
- :class:`MissingDependencyError` (``ImportError``): an optional extra is not installed.
"""

from __future__ import annotations

__all__ = [
    "ConstraintError",
    "InvalidMatrixError",
    "InvalidOrderError",
    "InvalidParameterError",
    "MissingDependencyError",
    "MissingEntriesError",
    "SolverError",
    "TaskorderError",
    "require",
]


class TaskorderError(Exception):
    """Base class of every error raised by taskorder."""


class InvalidMatrixError(TaskorderError, ValueError):
    """A transfer matrix, or the file it was read from, is malformed."""


class MissingEntriesError(InvalidMatrixError):
    """Some off-diagonal entries of a transfer matrix are missing (never measured)."""


class InvalidOrderError(TaskorderError, ValueError):
    """An order is not a permutation of the matrix's tasks."""


class ConstraintError(TaskorderError, ValueError):
    """Order constraints name unknown tasks, contradict each other or cannot be honoured."""


class InvalidParameterError(TaskorderError, ValueError):
    """A function argument is outside its allowed range."""


class SolverError(TaskorderError, RuntimeError):
    """A solver failed to produce an order."""


class MissingDependencyError(TaskorderError, ImportError):
    """An optional dependency (an extra) is needed but not installed."""


def require(module: str, extra: str) -> None:
    """Raise :class:`MissingDependencyError` unless ``module`` can be imported.

    Parameters
    ----------
    module : str
        Importable module name, e.g. ``"torch"``.
    extra : str
        The taskorder extra that installs it, e.g. ``"trl"``.

    Examples
    --------
    >>> require("numpy", "core")
    >>> require("no_such_module_xyz", "trl")
    Traceback (most recent call last):
    ...
    taskorder.exceptions.MissingDependencyError: This feature needs the 'no_such_module_xyz' package. Install it with: pip install 'taskorder[trl]'
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(
            f"This feature needs the {module!r} package. "
            f"Install it with: pip install 'taskorder[{extra}]'"
        )
