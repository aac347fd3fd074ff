"""Does probing with more repeats make the probe-only verdict right more often?

The run-time verdict (``taskorder.recommend``) reads the probes' standard errors; with the
default 2 repeats each entry's error rests on one degree of freedom. This script re-probes
every stored evidence world with ``R`` repeats (a full campaign, the same design as
``evidence.py``'s, seeded by world and ``R``), keeps the stored truth, and scores the
verdict's candidate features and thresholds (``evidence.VERDICT_FEATURES`` x
``evidence.NOISY_THRESHOLDS``) by ``evidence.verdict_choice``'s definition of right.

Run::

    python benchmarks/evidence_repeats.py --probe dev --repeats 8     # each split and R
    python benchmarks/evidence_repeats.py --choose > benchmarks/results/evidence_repeats_dev.txt
    python benchmarks/evidence_repeats.py --score > benchmarks/results/evidence_repeats.txt

The rule (written down and committed before any held-out split was re-probed)
-----------------------------------------------------------------------------
- *Choice* on the development splits only (dev 0-49 both modes, dev_noisy), over ``R`` in
  :data:`REPEATS`, every feature and threshold: most right verdicts; ties go to fewer
  repeats (cheaper), then to the feature in the tool (``spread_z``), then to the threshold
  nearest the tool's (``SEPARATION_Z``).
- *Score*: the chosen ``(R, feature, threshold)`` once on every held-out split (heldout,
  fresh, confirm in both modes; confirm_noisy), beside the tool's rule on the stored
  2-repeat matrices, on the same truth.

Raw output: ``benchmarks/results/evidence_repeats<R>_<split>_<mode>.jsonl`` (per world the
re-probed matrix).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import evidence

from taskorder.estimate import make_plan, run_campaign
from taskorder.recommend import SEPARATION_Z
from taskorder.seeds import derive_seed

RESULTS = Path(__file__).parent / "results"
REPEATS = (2, 4, 8)
DEV = evidence.NOISY_DEV
HELD_OUT = (*evidence.HELDOUT, evidence.CONFIRM, evidence.CONFIRM_NOISY)


def matrix_path(repeats: int, split: str, mode: str) -> Path:
    name = evidence.result_name(split, mode)
    return RESULTS / f"evidence_repeats{repeats}_{name}.jsonl"


def probe_split(split: str, repeats: int) -> None:
    """Re-probe every stored world of ``split`` with ``repeats`` repeats (resumable)."""
    for mode in evidence.split_modes(split):
        path = matrix_path(repeats, split, mode)
        done = evidence.worlds_in(path)
        for raw in evidence._stored(split, mode):
            if raw["world"] in done:
                continue
            runner = evidence.learner(raw["world"], mode)
            seed = derive_seed(raw["world"], "evidence", "repeats", repeats)
            plan = make_plan(
                runner.tasks, repeats=repeats, steps=runner.config.stage_steps, seed=seed
            )
            with tempfile.TemporaryDirectory() as folder:
                matrix = run_campaign(runner, plan, Path(folder) / "probe").estimate.matrix
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"world": raw["world"], "matrix": matrix.to_dict()}) + "\n")


def rows(split: str, repeats: int) -> list[dict]:
    """``evidence.verdict_rows`` with the features recomputed from the re-probed matrices."""
    out = []
    for row in evidence.verdict_rows(split):
        if repeats == 2:
            out.append(row)
            continue
        path = matrix_path(repeats, split, row["mode"])
        if not path.exists():
            return []
        matrices = {
            json.loads(x)["world"]: json.loads(x)["matrix"] for x in path.read_text().splitlines()
        }
        raw = next(r for r in evidence._stored(split, row["mode"]) if r["world"] == row["world"])
        features = evidence.verdict_features(dict(raw, matrix=matrices[row["world"]]), repeats)
        out.append({**row, **{k: v for k, v in features.items() if k != "truth_ratio"}})
    return [r for r in out if "replan_wins" in r]


def right(row: dict, feature: str, threshold: float) -> bool:
    if row[feature] > threshold:
        return bool(row["replan_wins"])
    return row["truth_ratio"] <= evidence.TRUTH_K


def choose() -> tuple[list[str], tuple[int, str, float]]:
    """The choice table on the development splits and the chosen (R, feature, threshold)."""
    table = []
    for repeats in REPEATS:
        data = [r for split in DEV for r in rows(split, repeats)]
        if not data:
            continue
        for feature in evidence.VERDICT_FEATURES:
            for threshold in evidence.NOISY_THRESHOLDS:
                n_right = sum(right(r, feature, threshold) for r in data)
                noisy = sum(right(r, feature, threshold) for r in data if r["split"] == "dev_noisy")
                table.append((n_right, repeats, feature, threshold, noisy, len(data)))
    best = max(
        table,
        key=lambda t: (t[0], -t[1], t[2] == "spread_z", -abs(t[3] - SEPARATION_Z)),
    )
    lines = ["repeats feature threshold right_of_n (dev_noisy right)"]
    lines += [f"{t[1]} {t[2]} {t[3]} {t[0]}/{t[5]} ({t[4]})" for t in table]
    lines.append(f"chosen: repeats {best[1]}, {best[2]} > {best[3]}: {best[0]}/{best[5]} right")
    return lines, (best[1], best[2], best[3])


#: The rule :func:`choose` picked on the development splits, frozen before ``--score``.
CHOSEN: tuple[int, str, float] | None = (8, "gain_z", 3.0)


def score_rows() -> list[dict]:
    """Per held-out split and mode: the frozen rule's and the tool's record, same truth."""
    repeats, feature, threshold = CHOSEN
    out = []
    for split in HELD_OUT:
        new, old = rows(split, repeats), rows(split, 2)
        for mode in evidence.split_modes(split):
            a = [r for r in new if r["mode"] == mode]
            b = [r for r in old if r["mode"] == mode]
            if a:
                out.append({
                    "split": split, "mode": mode, "worlds": len(a),
                    "truth_low": sum(r["truth_ratio"] <= evidence.TRUTH_K for r in a),
                    "chosen_said": sum(r[feature] > threshold for r in a),
                    "chosen_right": sum(right(r, feature, threshold) for r in a),
                    "tool_said": sum(r["spread_z"] > SEPARATION_Z for r in b),
                    "tool_right": sum(right(r, "spread_z", SEPARATION_Z) for r in b),
                })  # fmt: skip
    return out


def score() -> list[str]:
    """The frozen rule and the tool's on every held-out split, on the same truth."""
    repeats, feature, threshold = CHOSEN
    lines = [f"# chosen on dev: repeats {repeats}, {feature} > {threshold}; tool: 2 repeats, "
             f"spread_z > {SEPARATION_Z}", "split mode worlds truth_not_separable | chosen: "
             "separable right | tool: separable right"]  # fmt: skip
    for t in score_rows():
        lines.append(
            f"{t['split']} {t['mode']} {t['worlds']} {t['truth_low']} | {t['chosen_said']} "
            f"{t['chosen_right']} | {t['tool_said']} {t['tool_right']}"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", choices=list(evidence.SPLITS))
    parser.add_argument("--repeats", type=int, choices=REPEATS, default=8)
    parser.add_argument("--choose", action="store_true")
    parser.add_argument("--score", action="store_true")
    args = parser.parse_args()
    if args.probe:
        probe_split(args.probe, args.repeats)
    if args.choose:
        print("\n".join(choose()[0]))
    if args.score:
        if CHOSEN is None:
            print("no rule frozen yet: run --choose on the development splits first")
            return 1
        print("\n".join(score()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
