"""Read LOLIB (Linear Ordering Problem library) instances and their best-known values.

The files are in the Optsicom "normal form" layout: the first token is ``n``, then
``n * n`` integers row by row (see ``README.md`` in the data folder). Their objective,
the sum above the diagonal after permuting rows and columns, is taskorder's
``all_pairs`` objective with ``W`` = the file matrix (``W[i, j]``: ``i`` before ``j``).

The data folder is ``$TASKORDER_LOLIB`` if set, else ``../shared/benchmarks/lolib``
relative to the repository root.

Examples
--------
>>> from pathlib import Path
>>> weights = read_lolib(Path(__file__).parents[1] / "tests/data/lolib/pal11")
>>> weights.shape
(11, 11)
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LolibInstance", "best_known", "instances", "lolib_root", "read_lolib"]

_REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LolibInstance:
    """One LOLIB instance: where it lives and what is known about its optimum."""

    name: str
    family: str
    n_tasks: int
    path: Path
    best_known: int | None
    proven_optimal: bool
    upper_bound: int | None

    def weights(self) -> np.ndarray:
        """The instance matrix as floats (``W[i, j]``: gain of ``i`` before ``j``)."""
        return read_lolib(self.path)


def lolib_root() -> Path:
    """The LOLIB data folder: ``$TASKORDER_LOLIB`` or ``<repo>/../shared/benchmarks/lolib``."""
    env = os.environ.get("TASKORDER_LOLIB")
    root = Path(env) if env else _REPO_ROOT.parent / "shared" / "benchmarks" / "lolib"
    if not root.is_dir():
        raise FileNotFoundError(
            f"LOLIB data folder not found at {root}. Set TASKORDER_LOLIB to the folder that "
            "holds IO/, RandA1/, ... and best_known.csv."
        )
    return root


def read_lolib(path: str | os.PathLike) -> np.ndarray:
    """Read one normal-form LOLIB file into an ``(n, n)`` float array with a zero diagonal.

    Only the first ``1 + n * n`` tokens are read, so trailing text is ignored.
    """
    tokens = Path(path).read_text().split()
    if not tokens:
        raise ValueError(f"LOLIB file {path} is empty.")
    n_tasks = int(tokens[0])
    values = tokens[1 : 1 + n_tasks * n_tasks]
    if len(values) != n_tasks * n_tasks:
        raise ValueError(
            f"LOLIB file {path} declares n = {n_tasks} and must hold {n_tasks * n_tasks} "
            f"numbers after it. Got {len(values)}."
        )
    weights = np.array(values, dtype=float).reshape(n_tasks, n_tasks)
    np.fill_diagonal(weights, 0.0)
    return weights


def best_known(root: Path | None = None) -> dict[str, LolibInstance]:
    """Every instance listed in ``best_known.csv`` whose file is present, by name."""
    root = lolib_root() if root is None else root
    out: dict[str, LolibInstance] = {}
    with open(root / "best_known.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["file"] or not (root / row["file"]).is_file():
                continue

            def number(text: str) -> int | None:
                return int(text) if text.strip() else None

            out[row["instance"]] = LolibInstance(
                name=row["instance"],
                family=row["family"],
                n_tasks=int(row["n"]),
                path=root / row["file"],
                best_known=number(row["best_known"]),
                proven_optimal=row["proven_optimal"] == "yes",
                upper_bound=number(row["upper_bound"]),
            )
    return out


def instances(family: str, root: Path | None = None) -> list[LolibInstance]:
    """Instances of one family (``"IO"``, ``"RandA1"``, ``"xLOLIB"``, ...), sorted by n, name."""
    found = [inst for inst in best_known(root).values() if inst.family == family]
    return sorted(found, key=lambda inst: (inst.n_tasks, inst.name))
