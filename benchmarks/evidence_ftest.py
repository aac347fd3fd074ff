"""A check run with a significance test: does it tell whether order matters?

``benchmarks/evidence_check.py`` found that a 2-seed check of a few curricula is no more
reliable than the probe-only verdict; judging checks with more seeds needed a truth with
more seeds than the check. This script trains every order of the stored evidence worlds
with **8** truth seeds (``evidence.truth``, the same seeding, so seeds 0-3 reproduce the
stored ``per_seed`` exactly; asserted), and scores one rule with no free parameter.

Run (resumable per split and mode; ``--score`` needs no training)::

    python benchmarks/evidence_ftest.py --run confirm_noisy      # each split, each mode
    python benchmarks/evidence_ftest.py --score > benchmarks/results/evidence_ftest.txt

The rule and the scoring (written down and committed before any 8-seed truth was run)
-------------------------------------------------------------------------------------
- *Check* (what a user trains): the recommended fixed order (the CSV's ``recommended``
  row), its reverse and one other order drawn at random (seeded by the world:
  ``evidence_check.check_orders(..., "three")``), each with **seeds 0-3**. Cost:
  ``3 x 4 x n`` training stages.
- *Test*: two-way analysis of variance without replication (orders x seeds; the same
  seed index is the same starting state and evaluation seed for every order), F = mean
  square of orders over the residual mean square, ``(k-1, (k-1)(s-1))`` degrees of
  freedom. **Order matters** when p < :data:`ALPHA` = 0.05, else **cannot tell**. The
  level is the textbook one, not chosen on any world, so no split is a development split
  for this rule and every split is reported.
- *Second check, added after the first 36 worlds were scored (no parameter to tune; both
  are reported)*: what ``taskorder validate`` trains by default, so that the tool can run
  the test itself: the recommended order, the rank rule's, each outcome model's best (the
  CSV's ``best:*`` rows) and 10 random orders (seeded by the world), each with seeds 0-3,
  the same ANOVA over all of them. Cost: up to ``15 x 4 x n`` stages.
- *The tool's current rule on the same data, for comparison*: ``validate``'s noise ceiling
  (split-half reliability of the ranking over the validate orders and seeds 0-3) below
  ``taskorder.recommend.NOISE_CEILING_FLOOR`` = 0.5 means *cannot tell*.
- *Truth* (**seeds 4-7** only, never seen by the check): orders are **not separable**
  when the sd of the order values (means over seeds 4-7) is at most ``TRUTH_K`` = 2
  standard errors of one order's 4-seed mean (median over orders): ``evidence.py``'s
  rule on the held-back seeds.
- *Right*: *order matters* and re-planning (the route the tool advises then; its order
  from the CSV) beats the mean random order on seeds 4-7, or *cannot tell* and the truth
  is not separable. The probe-only verdict (the CSV's ``separable``, current rule) is
  scored the same way on the same truth.

Raw output: ``benchmarks/results/evidence_truth8_<split>_<mode>.jsonl`` (per world: the
orders and their 8-seed ``per_seed``).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import evidence
from evidence_check import check_orders

from taskorder.estimate.validate import noise_ceiling, order_test
from taskorder.percentile import order_percentile
from taskorder.recommend import NOISE_CEILING_FLOOR
from taskorder.seeds import derive_seed

RESULTS = Path(__file__).parent / "results"
ALPHA = 0.05
SEEDS = 8
CHECK_SEEDS = (0, 1, 2, 3)
TRUTH_SEEDS = (4, 5, 6, 7)
SPLITS = tuple(evidence.SPLITS)


def truth_path(split: str, mode: str) -> Path:
    """``evidence_truth8_<split>_<mode>.jsonl`` (mode left out when the split names it)."""
    name = evidence.result_name(split, mode)
    return RESULTS / f"evidence_truth8_{name}.jsonl"


def _p(per_seed: np.ndarray) -> float:
    """The p-value of :func:`taskorder.estimate.validate.order_test` (what validate runs)."""
    return float(order_test(per_seed)["p"])


def run_split(split: str, modes: tuple[str, ...], budget: float) -> None:
    """Train the 8-seed truth of every stored world of ``split`` not yet in its file."""
    start = time.time()
    for mode in modes:
        path = truth_path(split, mode)
        done = evidence.worlds_in(path)
        for raw in evidence._stored(split, mode):
            if raw["world"] in done:
                continue
            if time.time() - start > budget:
                print(f"time budget reached; rerun to resume ({split} {mode})")
                return
            t0 = time.time()
            runner = evidence.learner(raw["world"], mode)
            root = derive_seed(raw["world"], "evidence", "truth")
            orders, per_seed = evidence.truth(runner, runner.config.stage_steps, SEEDS, root)
            assert [list(o) for o in orders] == raw["orders"]
            assert np.array_equal(per_seed[:, :4], np.array(raw["per_seed"])), raw["world"]
            record = {"world": raw["world"], "orders": raw["orders"], "per_seed": per_seed.tolist()}
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            print(f"{split} {mode} world {raw['world']}: {time.time() - t0:.1f} s", flush=True)


def validate_orders(orders: list[tuple], rows: dict[str, dict], world: int) -> list[int]:
    """Indices of what ``validate`` trains: the CSV's planned orders and 10 random ones."""
    picked = []
    for method in ("recommended", "rank_rule", *(f"best:{m}" for m in evidence.MODELS)):
        if method in rows:
            index = orders.index(tuple(rows[method]["order"].split(" > ")))
            picked += [index] if index not in picked else []
    rng = np.random.default_rng(derive_seed(world, "evidence_ftest", "random"))
    for index in rng.permutation(len(orders))[:10]:
        picked += [int(index)] if int(index) not in picked else []
    return picked


def world_row(record: dict, rows: dict[str, dict], raw: dict) -> dict:
    """The check's p-value and call, the truth on seeds 4-7, and how the routes did there."""
    per_seed = np.array(record["per_seed"])
    orders = [tuple(o) for o in record["orders"]]
    values, truth_ratio = evidence.truth_values(per_seed[:, list(TRUTH_SEEDS)])
    recommended = tuple(rows["recommended"]["order"].split(" > "))
    checked = check_orders(raw, recommended, "three")
    p = _p(per_seed[np.ix_(checked, list(CHECK_SEEDS))])
    wide = validate_orders(orders, rows, record["world"])
    p_wide = _p(per_seed[np.ix_(wide, list(CHECK_SEEDS))])
    replan = values[orders.index(tuple(rows["replan"]["order"].split(" > ")))]
    ceiling = noise_ceiling(per_seed[np.ix_(wide, list(CHECK_SEEDS))], seed=record["world"])
    return {
        "ceiling_matters": not ceiling["ceiling"] < NOISE_CEILING_FLOOR,
        "p": p,
        "matters": p < ALPHA,
        "p_validate": p_wide,
        "validate_matters": p_wide < ALPHA,
        "validate_stages": len(wide) * len(CHECK_SEEDS) * len(orders[0]),
        "probe_separable": rows["recommended"]["separable"] == "True",
        "truth_ratio": truth_ratio,
        "truth_not_separable": truth_ratio <= evidence.TRUTH_K,
        "replan_wins": bool(replan > values.mean() + 1e-12),
        "replan_pct": order_percentile(values, replan),
        "stages": len(checked) * len(CHECK_SEEDS) * len(orders[0]),
    }


def split_rows(split: str, mode: str) -> list[dict]:
    """:func:`world_row` for every world of ``split`` and ``mode`` with an 8-seed truth."""
    path = truth_path(split, mode)
    if not path.exists():
        return []
    by_world: dict[int, dict[str, dict]] = {}
    for r in evidence.read_rows(evidence.csv_path(split, mode)):
        by_world.setdefault(int(r["world"]), {})[r["method"]] = r
    raws = {raw["world"]: raw for raw in evidence._stored(split, mode)}
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        rows = by_world.get(record["world"], {})
        if "replan" in rows and "recommended" in rows:
            out.append(world_row(record, rows, raws[record["world"]]))
    return out


def right(row: dict, matters: bool) -> bool:
    """Right: says *matters* and re-planning beat random, or *cannot tell* and truth agrees."""
    return row["replan_wins"] if matters else row["truth_not_separable"]


#: The rules scored, as (key in a world row, label): each says *order matters* when True.
RULES = (
    ("matters", "3-order check"),
    ("validate_matters", "validate's order test"),
    ("ceiling_matters", "validate's noise ceiling"),
    ("probe_separable", "probe-only verdict"),
)


def summary(rows: list[dict]) -> dict:
    """Worlds, truly not separable, and per rule: said *matters*, right, right per call."""
    out = {"worlds": len(rows), "truth_low": sum(r["truth_not_separable"] for r in rows)}
    for key, _ in RULES:
        said = [r for r in rows if r[key]]
        out[key] = {
            "said": len(said),
            "right": sum(right(r, r[key]) for r in rows),
            "right_when_matters": sum(right(r, True) for r in said),
            "right_when_cannot_tell": sum(right(r, False) for r in rows if not r[key]),
        }
    out["stages"] = int(np.median([r["stages"] for r in rows]))
    out["validate_stages"] = int(np.median([r["validate_stages"] for r in rows]))
    return out


@functools.cache
def groups() -> tuple[tuple[str, str, list[dict]], ...]:
    """(split, mode, world rows) for every split and mode with an 8-seed truth; read and
    scored once per process (``report.py``'s blocks and the pooled rows all use it)."""
    out = []
    for split in SPLITS:
        for mode in evidence.split_modes(split):
            rows = split_rows(split, mode)
            if rows:
                out.append((split, mode, rows))
    return tuple(out)


def pooled(mode: str) -> dict:
    """:func:`summary` over every split of ``mode`` (no rule here was tuned on any split)."""
    return summary([r for _, m, rows in groups() if m == mode for r in rows])


def record_text() -> str:
    """The sentence ``taskorder.recommend.ORDER_TEST_RECORD`` quotes (tested against it)."""
    noisy, sampled = pooled("noisy"), pooled("sampled")
    return (
        "On the built-in learner (docs/evidence.md), judged by 4 other seeds, this test was "
        f"right in {noisy['validate_matters']['right']} of {noisy['worlds']} noisy-regime "
        f"worlds (the probe-only verdict: {noisy['probe_separable']['right']}) and in "
        f"{sampled['validate_matters']['right']} of {sampled['worlds']} sampled-mode worlds "
        f"(probe-only: {sampled['probe_separable']['right']})."
    )


def score_lines() -> list[str]:
    """The table: per split and mode, each rule's record on the held-back seeds' truth."""
    lines = [
        f"# checks on seeds {CHECK_SEEDS}, truth on seeds {TRUTH_SEEDS} (TRUTH_K "
        f"{evidence.TRUTH_K}); ANOVA at p < {ALPHA}",
        "split mode worlds truth_not_separable | "
        + " | ".join(
            f"{label}: says_matters right (right when matters, right when cannot tell)"
            for _, label in RULES
        )
        + " | stages: 3-order validate (median)",
    ]
    for split, mode, rows in groups():
        t = summary(rows)
        cells = [
            f"{t[k]['said']} {t[k]['right']} ({t[k]['right_when_matters']}, "
            f"{t[k]['right_when_cannot_tell']})"
            for k, _ in RULES
        ]
        lines.append(
            f"{split} {mode} {t['worlds']} {t['truth_low']} | "
            + " | ".join(cells)
            + f" | {t['stages']} {t['validate_stages']}"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", choices=SPLITS, help="train the 8-seed truth of a split")
    parser.add_argument("--mode", choices=evidence.MODES, help="one mode of the split only")
    parser.add_argument("--time-budget", type=float, default=math.inf)
    parser.add_argument("--score", action="store_true", help="print the table (no training)")
    args = parser.parse_args()
    if args.run:
        modes = (args.mode,) if args.mode else evidence.split_modes(args.run)
        run_split(args.run, modes, args.time_budget)
    if args.score:
        print("\n".join(score_lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
