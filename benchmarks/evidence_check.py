"""How reliable is a cheap *check run* (a few whole curricula, 2 seeds) at telling whether
order matters? Scored on the stored ground truth of ``benchmarks/evidence.py``; no training.

Run::

    python benchmarks/evidence_check.py --choose   # development splits only: the choice table
    python benchmarks/evidence_check.py --score    # held-out splits with the frozen rule

The rule family and the scoring (written down before any split was scored)
--------------------------------------------------------------------------
Every evidence world stores ``per_seed`` (each order's mean final score under 4 truth
seeds; the same seed index is the same starting state and evaluation seed for every
order). The check is simulated from **seeds 0-1**; its ground truth uses **seeds 2-3**
only, so the check never sees the seeds it is judged by.

- *Check*: train the orders of one :data:`ORDER_SETS` entry with 2 seeds (``reverse``: the
  recommended order and its reverse; ``random``: the recommended order and one other order
  drawn at random, seeded by the world; ``three``: recommended, reverse and that random
  order). Cost: ``len(orders) x 2 seeds x n`` training stages.
- *Statistic* (:data:`NOISES`): the sd of the checked orders' 2-seed means over one
  standard error of an order's 2-seed mean, the noise from ``paired`` (order x seed
  interaction, :func:`check_ratios`), ``seed`` (pooled sd
  within orders, unpaired) or ``probe`` (the probe-propagated sd of one run's outcome,
  :func:`evidence.run_noise`, median over the checked orders, over sqrt(2)).
- *Call*: **order matters** when the statistic is above the threshold
  (:data:`THRESHOLDS`), else **cannot tell**.
- *Truth (seeds 2-3)*: orders are **not separable** when the sd of the order values (mean
  of seeds 2-3) is at most ``TRUTH_K`` = 2 standard errors of one order's 2-seed mean
  (median over orders), the rule of :func:`evidence.verdict_choice` applied to the two
  held-back seeds. Why: it is the same criterion the probe-only verdict was chosen and
  scored by, computed without the check's seeds; with 2 seeds a standard error is sd/sqrt(2),
  so the bar is 1.4 single-run sds (a little more lenient than the 4-seed truth's 1) and
  the sd of 2-seed means already carries noise of about one standard error, so a world
  with no order effect sits near 1, well under 2.
- *Right*: a call of *order matters* is right when the route the tool advises then
  (re-planning, :func:`evidence.verdict_choice`'s route; its order from the CSV) beats the
  mean random order on seeds 2-3; *cannot tell* is right when the truth is not separable.
  The probe-only verdict (the CSV's ``separable`` for the recommended row, current rule)
  is scored the same way on the same truth.
- *Choice* (:func:`choose`): development splits only (dev 0-49 exact and sampled,
  dev_noisy). Most right calls; ties to fewer orders (cheaper), then the noise listed
  first in :data:`NOISES`, then the threshold nearest ``TRUTH_K``. The choice is frozen in
  :data:`CHOSEN` and only then scored once on the held-out splits (:data:`HELDOUT_SPLITS`).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np
from evidence import (
    HELDOUT,
    NOISY_DEV,
    TRUTH_K,
    _stored,
    csv_path,
    read_rows,
    run_noise,
    spans,
    split_modes,
    truth_values,
)

from taskorder.exceptions import InvalidParameterError
from taskorder.percentile import order_percentile
from taskorder.seeds import derive_seed

RESULTS = Path(__file__).parent / "results"
ORDER_SETS = ("reverse", "random", "three")
NOISES = ("paired", "seed", "probe")
THRESHOLDS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
CHECK_SEEDS = (0, 1)
TRUTH_SEEDS = (2, 3)
HELDOUT_SPLITS = (*HELDOUT, "confirm", "confirm_noisy")
#: The rule picked by :func:`choose` on the development splits (order set, noise,
#: threshold); frozen from ``--choose`` on the development splits before ``--score`` ran.
CHOSEN: tuple[str, str, float] | None = ("three", "seed", 0.5)


def check_ratios(per_seed: np.ndarray) -> dict[str, float]:
    """How far apart a few trained orders are, against two estimates of seed noise.

    A *check run* trains a few whole curricula (say the recommended order and its
    reverse) with a few seeds, the same seed index meaning the same starting state and
    evaluation seed for every order. ``spread`` is the sd (over orders) of the orders'
    seed means; each ratio divides it by the standard error of one order's seed mean:

    - ``seed``: from the sd over seeds within each order, pooled over orders (unpaired);
    - ``paired``: from the order x seed interaction (the residual of a two-way fit), so
      that an effect shared by all orders of one seed (its starting state) is not noise.

    Orders that cannot be told apart give ratios near 1; the truth in
    ``docs/evidence.md`` calls orders not separable at a spread of at most 2 standard
    errors.

    Parameters
    ----------
    per_seed : ndarray, shape (n_orders, n_seeds)
        Observed mean final score of every checked order under every seed (2 or more
        orders, 2 or more seeds).

    Returns
    -------
    dict
        ``spread``, ``seed_se``, ``paired_se``, and the ratios ``seed`` and ``paired``
        (``inf`` when the spread is positive and the noise 0; 0 when both are 0).

    Examples
    --------
    >>> ratios = check_ratios(np.array([[0.50, 0.60], [0.40, 0.50]]))
    >>> round(ratios["spread"], 4), ratios["paired"], round(ratios["seed"], 2)
    (0.0707, inf, 1.41)
    """
    per_seed = np.asarray(per_seed, dtype=float)
    if per_seed.ndim != 2 or per_seed.shape[0] < 2 or per_seed.shape[1] < 2:
        raise InvalidParameterError(
            "The 'per_seed' parameter of check_ratios must be a 2-D array with at least 2 "
            f"orders (rows) and 2 seeds (columns). Got shape {per_seed.shape}."
        )
    k, s = per_seed.shape
    spread = float(per_seed.mean(axis=1).std(ddof=1))
    seed_se = math.sqrt(float(per_seed.var(axis=1, ddof=1).mean()) / s)
    residual = (
        per_seed - per_seed.mean(axis=1, keepdims=True) - per_seed.mean(axis=0) + per_seed.mean()
    )
    paired_se = math.sqrt(float((residual**2).sum()) / ((k - 1) * (s - 1)) / s)

    def ratio(noise: float) -> float:
        tol = 1e-12 * max(1.0, float(np.abs(per_seed).max()))
        if noise > tol:
            return spread / noise
        return math.inf if spread > tol else 0.0

    return {
        "spread": spread,
        "seed_se": seed_se,
        "paired_se": paired_se,
        "seed": ratio(seed_se),
        "paired": ratio(paired_se),
    }


def check_orders(raw: dict, recommended: tuple[str, ...], which: str) -> list[int]:
    """Indices (into ``raw["orders"]``) of the orders a check of kind ``which`` trains."""
    orders = [tuple(o) for o in raw["orders"]]
    first = orders.index(recommended)
    reverse = orders.index(tuple(reversed(recommended)))
    rng = np.random.default_rng(derive_seed(raw["world"], "evidence_check", "random"))
    others = [k for k in range(len(orders)) if k != first]
    other = int(others[rng.integers(len(others))])
    return {
        "reverse": [first, reverse],
        "random": [first, other],
        "three": [first, reverse, other] if other != reverse else [first, reverse],
    }[which]


def world_row(raw: dict, rows: dict[str, dict], split: str, mode: str) -> dict:
    """Every candidate's statistic in one world, its truth (seeds 2-3) and the routes' values."""
    from taskorder.matrix import TransferMatrix

    per_seed = np.array(raw["per_seed"])
    orders = [tuple(o) for o in raw["orders"]]
    values, truth_ratio = truth_values(per_seed[:, list(TRUTH_SEEDS)])
    matrix = TransferMatrix.from_dict(raw["matrix"])
    perms = np.array([[matrix.tasks.index(t) for t in o] for o in orders])
    run_sd = run_noise(matrix, perms)
    recommended = tuple(rows["recommended"]["order"].split(" > "))
    n = len(orders[0])
    out = {
        "split": split,
        "mode": mode,
        "world": raw["world"],
        "n": n,
        "probe_stages": int(rows["recommended"]["stages"]) - n,
        "probe_separable": rows["recommended"]["separable"] == "True",
        "truth_ratio": truth_ratio,
        "truth_not_separable": truth_ratio <= TRUTH_K,
    }
    for name, order in (
        ("replan", rows["replan"]["order"]),
        ("fixed", rows["recommended"]["order"]),
    ):
        value = values[orders.index(tuple(order.split(" > ")))]
        out[f"{name}_pct"] = order_percentile(values, value)
        out[f"{name}_wins"] = bool(value > values.mean() + 1e-12)
    for which in ORDER_SETS:
        ks = check_orders(raw, recommended, which)
        seen = per_seed[np.ix_(ks, list(CHECK_SEEDS))]
        ratios = check_ratios(seen)
        probe_se = float(np.median(run_sd[ks])) / math.sqrt(len(CHECK_SEEDS))
        ratios["probe"] = ratios["spread"] / probe_se if probe_se > 0 else math.inf
        for noise in NOISES:
            out[f"{which}:{noise}"] = ratios[noise]
        best = ks[int(np.argmax(seen.mean(axis=1)))]
        out[f"{which}:best_pct"] = order_percentile(values, values[best])
        out[f"{which}:best_wins"] = bool(values[best] > values.mean() + 1e-12)
        out[f"{which}:stages"] = len(ks) * len(CHECK_SEEDS) * n
    return out


def split_rows(split: str) -> list[dict]:
    """:func:`world_row` for every stored world of ``split`` (every mode it runs in)."""
    out = []
    for mode in split_modes(split):
        by_world: dict[int, dict[str, dict]] = {}
        for r in read_rows(csv_path(split, mode)):
            by_world.setdefault(int(r["world"]), {})[r["method"]] = r
        for raw in _stored(split, mode):
            rows = by_world.get(raw["world"], {})
            if "replan" in rows and "recommended" in rows:
                out.append(world_row(raw, rows, split, mode))
    return out


def right(row: dict, separable: bool) -> bool:
    """The call is right: separable and re-planning above random, or not and truth agrees."""
    return row["replan_wins"] if separable else row["truth_not_separable"]


def choose(rows: list[dict]) -> dict:
    """Score every candidate on ``rows`` (development only) and pick by the written rule."""
    table = []
    for which in ORDER_SETS:
        for noise in NOISES:
            for threshold in THRESHOLDS:
                calls = [r[f"{which}:{noise}"] > threshold for r in rows]
                table.append(
                    {
                        "orders": which,
                        "noise": noise,
                        "threshold": threshold,
                        "separable": sum(calls),
                        "right": sum(right(r, c) for r, c in zip(rows, calls)),
                        "right_by_split": {
                            s: sum(right(r, c) for r, c in zip(rows, calls) if r["split"] == s)
                            for s in NOISY_DEV
                        },
                    }
                )
    best = max(
        table,
        key=lambda t: (
            t["right"],
            -ORDER_SETS.index(t["orders"]),  # fewer orders first (cheaper), then as listed
            -NOISES.index(t["noise"]),
            -abs(t["threshold"] - TRUTH_K),
        ),
    )
    probe = {
        s: sum(right(r, r["probe_separable"]) for r in rows if r["split"] == s) for s in NOISY_DEV
    }
    return {"table": table, "chosen": best, "instances": len(rows), "probe_right": probe}


def _spread(values: list[float], digits: int) -> str:
    if not values:
        return "—"
    return f"{min(values):.{digits}f} / {np.median(values):.{digits}f} / {max(values):.{digits}f}"


def summary(rows: list[dict], rule: tuple[str, str, float]) -> dict:
    """Per call of the check (and of the probe-only verdict): counts, right, percentiles."""
    which, noise, threshold = rule
    out = {"worlds": len(rows)}
    for name, calls in (
        ("check", [r[f"{which}:{noise}"] > threshold for r in rows]),
        ("probe", [r["probe_separable"] for r in rows]),
    ):
        sep = [r for r, c in zip(rows, calls) if c]
        not_sep = [r for r, c in zip(rows, calls) if not c]
        out[name] = {
            "separable": len(sep),
            "right_separable": sum(r["replan_wins"] for r in sep),
            "replan_pct": _spread([r["replan_pct"] for r in sep], 1),
            "fixed_pct": _spread([r["fixed_pct"] for r in sep], 1),
            "fixed_wins": sum(r["fixed_wins"] for r in sep),
            "not_separable": len(not_sep),
            "right_not_separable": sum(r["truth_not_separable"] for r in not_sep),
            "not_separable_ratio": _spread([r["truth_ratio"] for r in not_sep], 2),
            "right": sum(right(r, c) for r, c in zip(rows, calls)),
        }
    best = [r for r in rows if r[f"{which}:{noise}"] > threshold]
    out["check"]["best_pct"] = _spread([r[f"{which}:best_pct"] for r in best], 1)
    out["check"]["best_wins"] = sum(r[f"{which}:best_wins"] for r in best)
    out["truth_not_separable"] = sum(r["truth_not_separable"] for r in rows)
    out["check_stages"] = _spread([r[f"{which}:stages"] for r in rows], 0)
    out["probe_stages"] = _spread([r["probe_stages"] for r in rows], 0)
    return out


def write_rows(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )


def read_check_rows(path: Path) -> list[dict]:
    """The per-world rows :func:`write_rows` wrote, typed back."""
    out = []
    for r in read_rows(path):
        typed: dict = {}
        for k, v in r.items():
            if v in ("True", "False"):
                typed[k] = v == "True"
            elif k in ("split", "mode"):
                typed[k] = v
            else:
                typed[k] = float(v)
        out.append(typed)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--choose", action="store_true", help="development splits: choice table")
    parser.add_argument("--score", action="store_true", help="held-out splits, frozen rule")
    args = parser.parse_args()
    if args.choose:
        rows = [r for split in NOISY_DEV for r in split_rows(split)]
        write_rows(rows, RESULTS / "evidence_check_dev.csv")
        choice = choose(rows)
        probe = choice["probe_right"]
        lines = [f"development instances: {choice['instances']}; probe-only verdict right: "
                 f"{sum(probe.values())} ({probe['dev']} + {probe['dev_noisy']}); truth not "
                 f"separable (seeds 2-3): {sum(r['truth_not_separable'] for r in rows)}",
                 "orders noise threshold separable right (dev + dev_noisy)"]  # fmt: skip
        for t in choice["table"]:
            by = t["right_by_split"]
            lines.append(f"{t['orders']} {t['noise']} {t['threshold']:g} {t['separable']} "
                         f"{t['right']} ({by['dev']} + {by['dev_noisy']})")  # fmt: skip
        c = choice["chosen"]
        lines.append(f"chosen: {c['orders']} {c['noise']} {c['threshold']:g} ({c['right']} right)")
        text = "\n".join(lines)
        (RESULTS / "evidence_check_dev.txt").write_text(text + "\n", encoding="utf-8")
        print(text)
    if args.score:
        if CHOSEN is None:
            parser.error("no rule frozen yet: run --choose and set CHOSEN first")
        rows = [r for split in HELDOUT_SPLITS for r in split_rows(split)]
        write_rows(rows, RESULTS / "evidence_check.csv")
        lines = [f"frozen rule: {CHOSEN}"]
        for split in HELDOUT_SPLITS:
            for mode in split_modes(split):
                mine = [r for r in rows if r["split"] == split and r["mode"] == mode]
                if mine:
                    worlds = spans(sorted(int(r["world"]) for r in mine))
                    lines.append(f"{split} {mode} ({worlds}): {summary(mine, CHOSEN)}")
        text = "\n".join(lines)
        (RESULTS / "evidence_check.txt").write_text(text + "\n", encoding="utf-8")
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
