"""recommend's run-time verdict against the committed evidence (benchmarks/results/evidence_*).

The threshold must be the one the development-world rule picks, and every number the
run-time advice quotes must be the one the committed CSVs give.
"""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from taskorder.recommend import NOT_SEPARABLE_ADVICE, REPLAN_ADVICE, SEPARATION_Z

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def evidence():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import evidence as module

    return module


def _rows(evidence, splits, mode, method):
    rows = [r for s in splits for r in evidence.read_rows(evidence.csv_path(s, mode))]
    return [r for r in rows if r["method"] == method]


def test_the_first_verdict_choice_is_reproduced(evidence):
    choice = evidence.verdict_choice(("dev",))
    assert (choice["chosen"]["feature"], choice["chosen"]["threshold"]) == ("gain_z", 0.5)
    assert choice["route"] == "replan" and choice["not_separable_order"] == "multiplicative"


def test_separation_z_is_what_the_noisy_development_rule_picks(evidence):
    choice = evidence.noisy_verdict_choice()
    assert choice["sizes"] == {"dev": 100, "dev_noisy": 24}
    assert (choice["chosen"]["feature"], choice["chosen"]["threshold"]) == (
        "spread_z",
        SEPARATION_Z,
    )
    assert choice["route"] == "replan" and choice["not_separable_order"] == "multiplicative"
    incumbent = next(
        t for t in choice["table"] if (t["feature"], t["threshold"]) == ("gain_z", 0.5)
    )
    assert choice["chosen"]["right"] > incumbent["right"]


def test_the_recommended_rows_carry_the_current_verdict(evidence):
    for raw in evidence._stored("dev_noisy", "noisy"):
        features = evidence.verdict_features(raw)
        row = next(
            r
            for r in _rows(evidence, ("dev_noisy",), "noisy", "recommended")
            if int(r["world"]) == raw["world"]
        )
        assert row["separable"] == str(features["spread_z"] > SEPARATION_Z)


def test_the_verdict_rule_breaks_ties_as_written(evidence, monkeypatch):
    rows = [
        {"gain_z": g, "spread_z": g, "truth_ratio": t, "fixed_wins": w, "fixed_pct": 60.0,
         "replan_wins": w, "replan_pct": 70.0, "multiplicative_pct": 60.0, "rank_rule_pct": 40.0,
         "multiplicative_wins": w, "rank_rule_wins": False}
        for g, t, w in [(0.2, 1.0, False), (5.0, 9.0, True), (0.9, 1.5, False)]
    ]  # fmt: skip
    monkeypatch.setattr(evidence, "verdict_rows", lambda split: rows)
    choice = evidence.verdict_choice(("any",))
    # thresholds 1-8 all get 3 right (2 noisy worlds called not separable); nearest 3 wins
    assert choice["chosen"]["right"] == 3 and choice["chosen"]["threshold"] == 3.0
    assert choice["chosen"]["feature"] == "gain_z"


def _check_quoted(evidence, splits, text):
    """``text`` quotes re-planning's and the fixed order's medians and worlds above random
    per mode, how many instances the tool called separable, and joint training's wins."""
    for k, mode in enumerate(("exact", "sampled")):
        for method in ("replan", "recommended"):
            rows = _rows(evidence, splits, mode, method)
            median = np.median([float(r["percentile"]) for r in rows])
            wins = sum(r["beats_random"] == "True" for r in rows)
            assert f"{median:.1f}" in text, (splits, mode, method)
            pattern = {
                "replan": r"above the mean random order in (\d+) and (\d+) of",
                "recommended": r"fixed order [\d.]+ and [\d.]+ \((\d+) and (\d+) of",
            }[method]
            assert int(re.search(pattern, text).group(k + 1)) == wins, (splits, mode, method)
    recs = [r for m in ("exact", "sampled") for r in _rows(evidence, splits, m, "recommended")]
    separable = sum(r["separable"] == "True" for r in recs)
    assert f"called {separable} of the {len(recs)} separable" in text, splits
    joint = [r for m in ("exact", "sampled") for r in _rows(evidence, splits, m, "joint")]
    joint_wins = sum(float(r["value"]) > float(r["best_value"]) for r in joint)
    assert f"beat every order in {joint_wins} of {len(joint)}" in text, splits


def test_separable_advice_quotes_the_held_out_and_confirm_numbers(evidence):
    held, confirm = REPLAN_ADVICE.split("On the confirm split")
    confirm, noisy = confirm.split("In a noisy regime")
    _check_quoted(evidence, evidence.HELDOUT, held)
    _check_quoted(evidence, (evidence.CONFIRM,), confirm)
    rows = evidence.read_rows(evidence.csv_path(evidence.CONFIRM_NOISY, "noisy"))
    recs = {r["world"]: r for r in rows if r["method"] == "recommended"}
    low = sum(float(r["spread"]) <= evidence.TRUTH_K * float(r["seed_se"]) for r in recs.values())
    sep = [w for w, r in recs.items() if r["separable"] == "True"]
    assert (
        f"{len(recs)} new worlds" in noisy and f"not separable from seed noise in {low})" in noisy
    )
    assert f"called {len(sep)} of the {len(recs)} separable" in noisy
    for method, words in (("replan", "re-planning was above the mean random order in"),
                          ("recommended", "the fixed order in")):  # fmt: skip
        mine = [r for r in rows if r["method"] == method and r["world"] in sep]
        wins = sum(r["beats_random"] == "True" for r in mine)
        median = np.median([float(r["percentile"]) for r in mine])
        assert f"{words} {wins} of {len(sep)}" in noisy, method
        assert f"{median:.1f})" in noisy, method


def test_not_separable_advice_on_the_noisy_confirm_split(evidence):
    rows = evidence.read_rows(evidence.csv_path(evidence.CONFIRM_NOISY, "noisy"))
    called = [r for r in rows if r["method"] == "recommended" and r["separable"] == "False"]
    low = sum(float(r["spread"]) <= evidence.TRUTH_K * float(r["seed_se"]) for r in called)
    assert f"{len(called)} of 24 noisy confirm instances" in NOT_SEPARABLE_ADVICE
    assert f"in those {len(called)} orders were truly not separable from seed noise in {low}" in (
        NOT_SEPARABLE_ADVICE
    )


def test_not_separable_advice_counts_the_instances_that_got_it(evidence):
    for splits, words in (
        (("dev",), "development"),
        (("dev_noisy",), "noisy development"),
        (evidence.HELDOUT, "held-out"),
        ((evidence.CONFIRM,), "confirm"),
    ):
        recs = [
            r
            for s in splits
            for m in evidence.split_modes(s)
            for r in _rows(evidence, (s,), m, "recommended")
        ]
        called = sum(r["separable"] == "False" for r in recs)
        assert f"{called} of {len(recs)} {words}" in NOT_SEPARABLE_ADVICE


def test_separable_advice_quotes_the_losses_against_seed_noise(evidence):
    import evidence_noise

    t = evidence_noise.tally((*evidence.HELDOUT, evidence.CONFIRM), "sampled", "replan")
    assert f"({t['below']} of {t['worlds']} held-out and confirm worlds)" in REPLAN_ADVICE
    assert t["below_sig"] == 0 and "none of the losses was beyond seed noise" in REPLAN_ADVICE


def test_the_order_test_record_is_what_the_8_seed_truth_gives(evidence):
    import evidence_ftest

    from taskorder.recommend import ORDER_TEST_RECORD

    assert ORDER_TEST_RECORD == evidence_ftest.record_text()
