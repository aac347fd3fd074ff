"""Are a route's wins and losses against a random order larger than seed noise?

``benchmarks/evidence.py`` trains every order of a world with the same 4 truth seeds: seed
index ``s`` is the same starting state and evaluation seed for every order. So a route's
order and the mean random order are paired by seed: ``d_s = value(order, s) - mean over
orders of value(o, s)``. A two-sided one-sample t-test on ``d`` (3 degrees of freedom, 5 %)
says whether the order is above or below the mean random order by more than seed noise.

Computed from the committed raw outputs only (``evidence_<split>_<mode>.jsonl`` for the
truth, the CSV for each route's order); no training. It describes splits that were already
scored; it chose nothing. Run::

    python benchmarks/evidence_noise.py      # the table docs/evidence.md quotes
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
import evidence

#: Two-sided level of the paired test.
ALPHA = 0.05
#: Routes tested: re-planning and the plan made once (``recommend``'s fixed order).
METHODS = ("replan", "recommended")
#: Groups of splits reported together: the pooled held-out splits, then each confirm split.
GROUPS = {
    "held out (1000-1007, 1100-1131)": evidence.HELDOUT,
    "confirm (1200-1231)": (evidence.CONFIRM,),
    "confirm_noisy (2100-2123)": (evidence.CONFIRM_NOISY,),
}


def paired_p(per_seed: np.ndarray, index: int) -> tuple[float, float]:
    """Mean seed-paired difference of order ``index`` to the mean order, and its p-value.

    Examples
    --------
    >>> per_seed = np.array([[0.50, 0.52, 0.51, 0.53], [0.40, 0.41, 0.43, 0.42]])
    >>> diff, p = paired_p(per_seed, 0)
    >>> round(diff, 4), p < 0.05
    (0.05, True)
    """
    d = per_seed[index] - per_seed.mean(axis=0)
    if np.allclose(d, d[0]):  # no seed-to-seed variation: the sign is certain unless 0
        return float(d.mean()), 1.0 if abs(d[0]) < 1e-12 else 0.0
    return float(d.mean()), float(stats.ttest_1samp(d, 0.0).pvalue)


def tally(splits: tuple[str, ...], mode: str, method: str) -> dict | None:
    """Worlds, above / below the mean random order, and how many of each beyond seed noise."""
    out = {"worlds": 0, "above": 0, "above_sig": 0, "below": 0, "below_sig": 0}
    for split in splits:
        if mode not in evidence.split_modes(split):
            continue
        raws = {raw["world"]: raw for raw in evidence._stored(split, mode)}
        for row in evidence.read_rows(evidence.csv_path(split, mode)):
            if row["method"] != method or int(row["world"]) not in raws:
                continue
            raw = raws[int(row["world"])]
            orders = [tuple(order) for order in raw["orders"]]
            index = orders.index(tuple(row["order"].split(" > ")))
            _, p = paired_p(np.array(raw["per_seed"]), index)
            side = "above" if row["beats_random"] == "True" else "below"
            out["worlds"] += 1
            out[side] += 1
            out[side + "_sig"] += p < ALPHA
    return out if out["worlds"] else None


def table() -> list[str]:
    """Markdown table: one row per split group, mode and route."""
    lines = [
        "| splits | mode | route | worlds | above random | of which beyond seed noise "
        "| below random | of which beyond seed noise |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {"replan": "re-planning", "recommended": "plan made once"}
    for group, splits in GROUPS.items():
        for mode in evidence.MODES:
            for method in METHODS:
                t = tally(splits, mode, method)
                if t is None:
                    continue
                lines.append(
                    f"| {group} | {mode} | {names[method]} | {t['worlds']} | {t['above']} "
                    f"| {t['above_sig']} | {t['below']} | {t['below_sig']} |"
                )
    return lines


def main() -> int:
    print(f"# paired t-test over the 4 truth seeds, two-sided, alpha {ALPHA}")
    print("\n".join(table()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
