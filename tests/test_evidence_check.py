"""benchmarks/evidence_check.py: the check-run statistic, seed isolation, the frozen rule."""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from taskorder.exceptions import InvalidParameterError

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def ec():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import evidence_check as module

    return module


def test_check_ratios_pairs_out_a_shared_seed_effect(ec):
    # Order 0 is 0.1 above order 1 under both seeds; seed 1 lifts both by 0.1.
    ratios = ec.check_ratios(np.array([[0.5, 0.6], [0.4, 0.5]]))
    assert ratios["paired"] == math.inf
    assert ratios["seed"] == pytest.approx(0.1 / math.sqrt(2) / 0.05)
    equal = ec.check_ratios(np.array([[0.5, 0.6], [0.5, 0.6]]))
    assert equal["paired"] == 0.0 and equal["spread"] == 0.0


def test_check_ratios_rejects_a_single_seed(ec):
    with pytest.raises(InvalidParameterError, match="per_seed.*check_ratios.*2 seeds"):
        ec.check_ratios(np.ones((3, 1)))


def _world(ec):
    line = (ec.RESULTS / "evidence_dev_noisy.jsonl").read_text(encoding="utf-8").splitlines()[0]
    raw = json.loads(line)
    rows = {}
    for r in ec.read_rows(ec.csv_path("dev_noisy", "noisy")):
        if int(r["world"]) == raw["world"]:
            rows[r["method"]] = r
    return raw, rows


def test_the_check_sees_seeds_0_1_and_the_truth_seeds_2_3_only(ec):
    raw, rows = _world(ec)
    base = ec.world_row(raw, rows, "dev_noisy", "noisy")
    rng = np.random.default_rng(0)
    per_seed = np.array(raw["per_seed"])
    late = per_seed.copy()
    late[:, 2:] = rng.uniform(0, 1, size=late[:, 2:].shape)
    moved = ec.world_row({**raw, "per_seed": late.tolist()}, rows, "dev_noisy", "noisy")
    early = per_seed.copy()
    early[:, :2] = rng.uniform(0, 1, size=early[:, :2].shape)
    other = ec.world_row({**raw, "per_seed": early.tolist()}, rows, "dev_noisy", "noisy")
    checks = [f"{w}:{n}" for w in ec.ORDER_SETS for n in ec.NOISES]
    assert all(moved[k] == base[k] for k in checks)
    assert moved["truth_ratio"] != base["truth_ratio"]
    assert other["truth_ratio"] == base["truth_ratio"]
    assert any(other[k] != base[k] for k in checks)


def test_the_frozen_rule_is_what_the_development_choice_picks(ec):
    rows = ec.read_check_rows(ec.RESULTS / "evidence_check_dev.csv")
    assert {r["split"] for r in rows} == {"dev", "dev_noisy"}
    best = ec.choose(rows)["chosen"]
    assert (best["orders"], best["noise"], best["threshold"]) == ec.CHOSEN
