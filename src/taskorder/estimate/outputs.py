"""Write a campaign's estimate to its output folder, atomically, in formats ``solve`` reads.

Files (all readable by :func:`taskorder.read_matrix` except ``summary.json``):

``matrix.json``
    The full score matrix: ``bwt``, ``forward``, their standard errors,
    ``own_scores`` and the ``imputed`` mask. ``taskorder solve matrix.json`` uses the
    additive model with forward transfer.
``bwt.csv``, ``bwt_stderr.csv``, ``forward.csv``
    Square CSVs (``taskorder solve bwt.csv --stderr bwt_stderr.csv``). When pairs
    were imputed, ``bwt.csv`` holds the imputed values and ``bwt_measured.csv`` the
    measurements only (empty cells = missing).
``entropy.json``, ``entropy_bwt.csv``
    The entropy transfer matrix (``own_scores`` = entropy after the own stage), as
    ``taskorder solve --entropy`` expects it.
``summary.json``
    Base and own-stage scores and entropies, repeats, standard-error source,
    missing and imputed pairs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from taskorder.estimate.estimates import ProbeEstimate
from taskorder.estimate.impute import impute
from taskorder.io import write_matrix
from taskorder.matrix import TransferMatrix

__all__ = ["final_matrix", "write_estimate"]


def final_matrix(estimate: ProbeEstimate, impute_method: str = "none") -> TransferMatrix:
    """The estimate's score matrix, imputed by ``impute_method`` unless ``"none"``."""
    if impute_method == "none" or not estimate.matrix.missing():
        return estimate.matrix
    return impute(estimate.matrix, impute_method)


def _atomic(path: Path, write: Any) -> Path:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(temporary)
    os.replace(temporary, path)
    return path


def _matrix_file(matrix: TransferMatrix, path: Path) -> Path:
    fmt = "json" if path.suffix == ".json" else "square"
    return _atomic(path, lambda tmp: write_matrix(matrix, tmp, format=fmt))


def write_estimate(
    estimate: ProbeEstimate,
    directory: str | Path,
    *,
    impute_method: str = "none",
    extra: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write every output file; return ``{name: path}``.

    Parameters
    ----------
    estimate : ProbeEstimate
    directory : path
    impute_method : {"none", "row_col", "row_mean", "zero"}
        Fill pairs left out of the plan (see :mod:`taskorder.estimate.impute`).
    extra : dict, optional
        Added to ``summary.json`` (e.g. timings).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    matrix = final_matrix(estimate, impute_method)
    paths = {"matrix": _matrix_file(matrix, directory / "matrix.json")}
    paths["bwt"] = _matrix_file(matrix, directory / "bwt.csv")
    if matrix.imputed.any():
        paths["bwt_measured"] = _matrix_file(estimate.matrix, directory / "bwt_measured.csv")
    if matrix.bwt_stderr is not None:
        paths["bwt_stderr"] = _matrix_file(
            TransferMatrix(matrix.tasks, matrix.bwt_stderr), directory / "bwt_stderr.csv"
        )
    if matrix.forward is not None:
        paths["forward"] = _matrix_file(
            TransferMatrix(matrix.tasks, matrix.forward), directory / "forward.csv"
        )
    entropy = estimate.entropy
    if impute_method != "none" and entropy.missing():
        entropy = impute(entropy, impute_method)
    paths["entropy"] = _matrix_file(entropy, directory / "entropy.json")
    paths["entropy_bwt"] = _matrix_file(entropy, directory / "entropy_bwt.csv")
    summary = estimate.to_dict()
    summary.pop("matrix")
    summary.pop("entropy")
    summary["imputation"] = impute_method
    summary["imputed"] = [
        [matrix.tasks[i], matrix.tasks[j]] for i, j in zip(*matrix.imputed.nonzero())
    ]
    summary.update(extra or {})
    text = json.dumps(summary, indent=2, allow_nan=False) + "\n"
    paths["summary"] = _atomic(
        directory / "summary.json", lambda tmp: tmp.write_text(text, encoding="utf-8")
    )
    return paths
