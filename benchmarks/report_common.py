"""Helpers shared by the block modules of ``benchmarks/report.py`` (no training, no writing).

One spread (:func:`spread`: min / median / max), one world-list format, and the evidence rows
of ``benchmarks/evidence.py`` (the world rule and the held-out splits live there).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import evidence  # noqa: E402 (importable once HERE is on sys.path)

MODES = ("exact", "sampled")


def registry() -> tuple[dict[str, Callable[[], str]], Callable]:
    """A module's ``BLOCKS`` dict and the ``@block("NAME")`` decorator that fills it."""
    blocks: dict[str, Callable[[], str]] = {}

    def block(name: str):
        def register(func: Callable[[], str]) -> Callable[[], str]:
            if name in blocks:
                raise ValueError(f"block {name!r} is registered twice")
            blocks[name] = func
            return func

        return register

    return blocks, block


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def spread(values: Iterable, digits: int = 1, unit: str = "", sign: bool = False) -> str:
    """'min / median / max' of ``values`` (the one spread used in every table)."""
    data = [float(v) for v in values]
    if not data:
        return "—"
    form = f"{'+' if sign else ''}.{digits}f"
    return " / ".join(f"{x:{form}}{unit}" for x in (min(data), np.median(data), max(data)))


def reported_splits() -> list[str]:
    """The held-out splits of evidence.py (its ``HELDOUT``; else every split but dev)."""
    return list(getattr(evidence, "HELDOUT", [s for s in evidence.SPLITS if s != "dev"]))


def evidence_rows(split: str, mode: str) -> list[dict]:
    return evidence.read_rows(evidence.csv_path(split, mode))


def heldout_rows(mode: str) -> list[dict]:
    """Every held-out split's rows of one mode, pooled."""
    return [r for split in reported_splits() for r in evidence_rows(split, mode)]


def world_list(worlds: Iterable) -> str:
    """'1000-1007' for a run of consecutive seeds, else the seeds separated by commas."""
    worlds = sorted({int(w) for w in worlds})
    if not worlds:
        return "none"
    runs, start = [], worlds[0]
    for prev, cur in zip(worlds, [*worlds[1:], None]):
        if cur != prev + 1:
            runs.append(f"{start}-{prev}" if prev > start else f"{start}")
            start = cur
    return ", ".join(runs)


def heldout_scope() -> str:
    """'8 held-out worlds (1000-1007, n = 3-5)', per mode when the modes cover different worlds."""
    by_mode = {m: {int(r["world"]): r for r in heldout_rows(m)} for m in MODES}
    rows = [r for worlds in by_mode.values() for r in worlds.values()]
    sizes = sorted({int(r["n_structured"]) + int(r["n_open"]) for r in rows}) or [0]
    size_text = f"{sizes[0]}-{sizes[-1]}" if sizes[0] != sizes[-1] else f"{sizes[0]}"
    if len({tuple(sorted(w)) for w in by_mode.values()}) == 1:
        worlds = by_mode[MODES[0]]
        return f"{len(worlds)} held-out worlds ({world_list(worlds)}, n = {size_text})"
    parts = [f"{len(w)} in {m} mode ({world_list(w)})" for m, w in by_mode.items()]
    return f"held-out worlds of n = {size_text}: {' and '.join(parts)}"


def method_cell(rows: list[dict], method: str, wins: bool = True) -> str:
    """'min / median / max percentile (k of N above random)' of one method."""
    mine = [r for r in rows if r["method"] == method]
    if not mine:
        return "not run"
    text = spread(r["percentile"] for r in mine)
    if wins:
        text += f" ({sum(r['beats_random'] == 'True' for r in mine)} of {len(mine)})"
    return text


def median_stages(rows: list[dict], method: str) -> str:
    stages = [float(r["stages"]) for r in rows if r["method"] == method]
    return f"{np.median(stages):.0f}" if stages else "—"


def per_world(rows: list[dict], method: str) -> dict[int, dict]:
    return {int(r["world"]): r for r in rows if r["method"] == method}
