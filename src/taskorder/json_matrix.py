"""The JSON transfer-matrix format: parsing, validation, and the diagonal rule.

The layout is the object written by :meth:`TransferMatrix.to_dict`; see
:mod:`taskorder.io` for every format and the rule for missing and non-finite values.
Used by :func:`taskorder.io.read_matrix` and :meth:`TransferMatrix.from_dict`.

Parsing goes one way: this module turns text into a mapping (:func:`parse_json`) and a
mapping into validated constructor arguments (:func:`matrix_fields`); it imports neither
:mod:`taskorder.matrix` nor :mod:`taskorder.io`, which build the matrix from those.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidMatrixError

__all__ = ["check_diagonal", "matrix_fields", "parse_json"]


def check_diagonal(prefix: str, tasks: Sequence[str], values: np.ndarray, name: str) -> None:
    """Refuse a diagonal that holds anything but 0 or a missing entry, naming the cells.

    Parameters
    ----------
    prefix : str
        Put before the message, e.g. ``"path: "`` to say which file the matrix came from.
    tasks : sequence of str
        Task names, in row order, used to name the offending cells.
    values : numpy.ndarray
        Square matrix whose diagonal is checked (NaN marks a missing entry).
    name : str
        Name of the matrix in the file (``"bwt"``, ``"forward"``, ...), used in the message.

    Raises
    ------
    InvalidMatrixError
        If a diagonal entry is neither 0 nor missing; the first five are named.
    """
    diagonal = np.diagonal(values)
    bad = [k for k, v in enumerate(diagonal) if not (math.isnan(v) or v == 0.0)]
    if bad:
        shown = ", ".join(f"{name}[{tasks[k]!r}, {tasks[k]!r}] = {diagonal[k]:g}" for k in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise InvalidMatrixError(
            f"{prefix}the diagonal of {name!r} must be empty or 0 (training a task after itself "
            f"has no meaning). Got {shown}{more}."
        )


def parse_json(path: Path, text: str) -> Any:
    """Decode the text of a JSON matrix file (not yet validated); errors name ``path``.

    :meth:`TransferMatrix.from_dict` validates the result.
    """
    try:
        # Integers longer than a float can hold become inf here and are refused, located,
        # by the finite-number check of matrix_fields (int() would raise past 4,300 digits).
        return json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as error:
        raise InvalidMatrixError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    except RecursionError:
        raise InvalidMatrixError(
            f"{path}: the JSON is nested too deeply to be a transfer matrix; expected an object "
            "with 'tasks' (a list of names) and 'bwt' (a list of rows)."
        ) from None


def _json_int(text: str) -> int | float:
    return int(text) if len(text) <= 20 else float(text)


@cache
def _matrix_file_model(max_tasks: int) -> Any:
    """The pydantic model of a JSON matrix file (built once per task limit, on first use)."""
    from pydantic import BaseModel, ConfigDict, Field, FiniteFloat

    Square = list[list[FiniteFloat | None]]

    class MatrixFile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        sign_convention: str | None = None
        note: str | None = None
        tasks: list[str] = Field(min_length=2, max_length=max_tasks)
        bwt: Square
        forward: Square | None = None
        bwt_stderr: Square | None = None
        forward_stderr: Square | None = None
        weights: dict[str, FiniteFloat] | list[FiniteFloat] | None = None
        own_scores: dict[str, FiniteFloat | None] | list[FiniteFloat | None] | None = None
        imputed: list[list[bool]] | None = None

    return MatrixFile


def _validation_message(error: Any) -> str:
    """One readable line from a pydantic ``ValidationError`` (the most specific problem)."""
    problems = error.errors()
    # A union (number or null) reports one error per branch; the number's is the useful one.
    finite = [item for item in problems if item["type"] == "finite_number"]
    first = finite[0] if finite else problems[0]
    parts = [str(part) for part in first["loc"] if part not in ("float", "constrained-float")]
    where = ".".join(part for part in parts if not part.startswith(("function-", "list[", "dict[")))
    if first["type"] == "finite_number":
        got = first["input"]
        if isinstance(got, float) and math.isinf(got):
            got = f"{got} (Infinity, or a number too large for a 64-bit float such as 1e400)"
        return f"field {where!r} must be a finite number (use null for a missing entry). Got {got}."
    return f"field {where!r}: {first['msg']}."


def matrix_fields(data: Any, max_tasks: int) -> dict[str, Any]:
    """Validate a JSON-like mapping; the keyword arguments of :class:`TransferMatrix`.

    Unknown keys are rejected. ``None`` is a missing entry (NaN in the arrays); NaN and
    infinite numbers are refused, as are diagonal values other than 0. Weights that are
    all 0 are refused by :meth:`TransferMatrix.from_dict`, which builds the matrix.

    Parameters
    ----------
    data : mapping
        The object :meth:`TransferMatrix.to_dict` writes.
    max_tasks : int
        Most tasks accepted (:data:`taskorder.matrix.MAX_TASKS`).

    Returns
    -------
    dict
        ``tasks``, ``bwt`` and the optional arrays, weights, own scores and imputed flags.

    Raises
    ------
    InvalidMatrixError
        If a key is unknown, a value has the wrong type or shape, or a rule above is broken.
    """
    from pydantic import ValidationError

    if not isinstance(data, Mapping):
        raise InvalidMatrixError(
            f"expected a JSON object with keys 'tasks' and 'bwt'. Got {type(data).__name__}."
        )
    try:
        parsed = _matrix_file_model(max_tasks).model_validate(data)
    except ValidationError as error:
        raise InvalidMatrixError(_validation_message(error)) from None
    except RecursionError:
        raise InvalidMatrixError(
            "the mapping is nested too deeply to be a transfer matrix."
        ) from None

    tasks = parsed.tasks
    n_tasks = len(tasks)

    def array(values: list[list[float | None]] | None, name: str) -> np.ndarray | None:
        if values is None:
            return None
        lengths = [len(row) for row in values]
        if len(values) != n_tasks or any(length != n_tasks for length in lengths):
            raise InvalidMatrixError(
                f"field {name!r} must have shape ({n_tasks}, {n_tasks}), one row and one column "
                f"per task. Got {len(values)} rows of lengths {lengths}."
            )
        grid = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)
        check_diagonal("", tasks, grid, name)
        return grid

    def vector(values: Any) -> Any:
        if isinstance(values, dict):
            return {k: (np.nan if v is None else v) for k, v in values.items()}
        if isinstance(values, list):
            return [np.nan if v is None else v for v in values]
        return values

    return {
        "tasks": tasks,
        "bwt": array(parsed.bwt, "bwt"),
        "forward": array(parsed.forward, "forward"),
        "bwt_stderr": array(parsed.bwt_stderr, "bwt_stderr"),
        "forward_stderr": array(parsed.forward_stderr, "forward_stderr"),
        "weights": parsed.weights,
        "own_scores": vector(parsed.own_scores),
        "imputed": parsed.imputed,
    }
