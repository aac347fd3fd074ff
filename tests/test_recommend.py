"""taskorder.recommend: the route, the separation check, the fallback and the verdict."""

import itertools

import numpy as np
import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.model import predict_many
from taskorder.percentile import order_percentile
from taskorder.recommend import (
    DEFAULT_ROUTE,
    NOISE_CEILING_FLOOR,
    NOT_SEPARABLE_ADVICE,
    REPLAN_ADVICE,
    ROUTES,
    Recommendation,
    recommend,
    verdict,
)


def chain(stderr: float | None = None) -> TransferMatrix:
    """4 tasks where training a later task costs an earlier one a lot, one way round."""
    bwt = np.array(
        [
            [0, -0.30, -0.30, -0.30],
            [-0.01, 0, -0.20, -0.20],
            [-0.01, -0.01, 0, -0.10],
            [-0.01, -0.01, -0.01, 0],
        ]
    )
    se = None if stderr is None else np.full((4, 4), stderr) * (1 - np.eye(4))
    return TransferMatrix(["a", "b", "c", "d"], bwt, own_scores=[0.8, 0.7, 0.6, 0.5], bwt_stderr=se)


def test_default_route_is_a_known_route():
    assert DEFAULT_ROUTE in ROUTES


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_returns_a_permutation_with_a_reason(route):
    rec = recommend(chain(stderr=0.001), route=route)
    assert isinstance(rec, Recommendation)
    assert sorted(rec.order) == ["a", "b", "c", "d"] and rec.reason
    assert rec.requested == route and rec.route == route and rec.separable is True


@pytest.mark.parametrize("route", ["additive", "backward_only", "multiplicative"])
def test_a_clear_matrix_gets_its_model_optimum(route):
    # Forgettable tasks last: d, c, b, a trained in reverse is the worst; a last is best.
    rec = recommend(chain(stderr=0.001), route=route)
    assert rec.order == ("d", "c", "b", "a")
    index = np.array(list(itertools.permutations(range(4))))
    model = "backward_only" if route == "additive" else route
    values = predict_many(chain(), index, model=model).mean(axis=1)
    chosen = predict_many(chain(), [[3, 2, 1, 0]], model=model).mean()
    assert rec.predicted_gain == pytest.approx(chosen - values.mean())
    assert order_percentile(values, chosen) > 95


def test_noise_wider_than_the_gain_says_orders_cannot_be_told_apart():
    clear, noisy = (recommend(chain(stderr=s), route="multiplicative") for s in (0.001, 3.0))
    assert noisy.separable is False and noisy.route == noisy.requested == "multiplicative"
    assert noisy.order == clear.order  # no fallback: the verdict changes the words only
    assert noisy.reason.startswith("ORDER CANNOT BE TOLD APART HERE") and "within" in noisy.reason
    assert noisy.advice == NOT_SEPARABLE_ADVICE and "jointly" in noisy.advice
    assert clear.reason.startswith("ORDER MATTERS HERE") and clear.advice == REPLAN_ADVICE


def test_the_verdict_turns_where_the_spread_of_orders_meets_z_times_probe_noise():
    rec = recommend(chain(stderr=0.05))
    ratio = rec.order_spread / rec.value_sd
    assert recommend(chain(stderr=0.05), z=ratio * 0.99).separable is True
    assert recommend(chain(stderr=0.05), z=ratio * 1.01).separable is False
    assert f"{ratio:.2f} times the probe noise" in rec.reason


def test_spread_and_its_noise_are_the_sd_over_orders_and_over_redrawn_matrices():
    # backward_only is linear in bwt: one order's noise is sqrt(sum of its later-pair
    # variances) / n, and the spread is the sd of the exact predictions over all orders.
    se = 0.05
    rec = recommend(chain(stderr=se), route="backward_only", samples=4000, seed=3)
    index = np.array(list(itertools.permutations(range(4))))
    values = predict_many(chain(), index, model="backward_only").mean(axis=1)
    assert rec.order_spread == pytest.approx(values.std(ddof=1))
    assert rec.value_sd == pytest.approx(se * np.sqrt(6) / 4, rel=0.05)  # 6 later pairs


def test_a_large_gain_with_probe_noise_as_wide_as_the_spread_is_not_separable():
    # The former verdict (gain over its own sd) called this separable; the spread ratio does not.
    rec = recommend(chain(stderr=0.25), route="backward_only")
    assert rec.predicted_gain / rec.gain_sd > 0.5
    assert rec.order_spread < 0.75 * rec.value_sd and rec.separable is False


def test_without_standard_errors_separation_is_not_checked():
    rec = recommend(chain(), route="backward_only")
    assert rec.separable is None and rec.reason.startswith("SEPARABILITY NOT CHECKED")
    assert "2 or more repeats" in rec.advice
    assert rec.to_dict()["gain_sd"] is None


def test_multiplicative_without_own_scores_uses_backward_only():
    matrix = chain().replace(own_scores=None)
    rec = recommend(matrix, route="multiplicative")
    assert rec.route == "backward_only"


def test_same_seed_same_answer():
    assert recommend(chain(0.05), seed=3) == recommend(chain(0.05), seed=3)


@pytest.mark.parametrize(
    "kwargs", [{"route": "magic"}, {"samples": 1}, {"samples": True}, {"z": -1.0}]
)
def test_bad_parameters_are_named(kwargs):
    with pytest.raises(InvalidParameterError, match=next(iter(kwargs))):
        recommend(chain(), **kwargs)


def report(mine, rank_rule, ceiling):
    return {
        "realised": {
            "recommended": {"percentile": mine, "rank": 3},
            "rank_rule": {"percentile": rank_rule, "rank": 1},
        },
        "noise_ceiling": {"ceiling": ceiling},
        "n_orders": 24,
    }


def test_verdict_says_when_it_wins():
    lines = verdict(report(90.0, 80.0, 0.9))
    assert lines[0].startswith("recommended order: realised percentile 90")
    assert "beats a random order" in lines[1] and len(lines) == 2


def test_verdict_blames_noise_below_the_ceiling_floor():
    lines = verdict(report(30.0, 70.0, NOISE_CEILING_FLOOR - 0.1))
    assert "LOSES to the rank rule" in lines[1] and "random" in lines[1]
    assert "seed noise" in lines[2]


def test_verdict_blames_the_model_when_the_ranking_is_reproducible():
    lines = verdict(report(60.0, 70.0, 0.95))
    assert "LOSES to the rank rule" in lines[1] and "random" not in lines[1]
    assert "model error" in lines[2]


def test_verdict_without_a_ceiling_or_recommendation():
    assert "unknown" in verdict(report(10.0, 70.0, float("nan")))[2]
    assert verdict({"realised": {}}) == ["no recommended order in this report"]


def test_verdict_cautions_a_win_under_noise():
    lines = verdict(report(90.0, 80.0, 0.2))
    assert "beats a random order" in lines[1] and "not separable from seed noise" in lines[2]


def test_every_recommendation_advises_replanning():
    assert "--replan" in recommend(chain(0.001)).advice
    assert "--replan" in recommend(chain()).advice


def test_noise_free_probes_are_named_as_such_not_infinite_sd():
    m = TransferMatrix(
        ["a", "b", "c"],
        [[0, -0.3, -0.3], [-0.1, 0, 0], [0, -0.2, 0]],
        own_scores=[0.6, 0.5, 0.4],
        bwt_stderr=np.zeros((3, 3)),
    )
    rec = recommend(m)
    assert rec.separable is True and "inf" not in rec.reason
    assert "no noise" in rec.reason
