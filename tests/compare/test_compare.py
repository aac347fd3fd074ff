"""compare(): equal steps, paired seeds, gains as documented, determinism, errors."""

import json
import math

import numpy as np
import pytest

from taskorder.compare import compare, relative_gain
from taskorder.exceptions import InvalidParameterError
from taskorder.learner import make_learner

FAST = (
    "solver",
    "rank_rule",
    "random",
    "joint",
    "interleaved",
    "blocks",
    "merge_average",
    "merge_task_arithmetic",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    runner = make_learner(1, 2, mode="sampled")
    return compare(
        runner,
        methods=FAST,
        seeds=2,
        n_random=2,
        stage_steps=6,
        probe_dir=tmp_path_factory.mktemp("probe"),
    )


def test_every_method_spends_the_same_steps(report):
    names = {
        "solver",
        "rank_rule",
        "random_0",
        "random_1",
        "joint",
        "interleaved",
        "blocks",
        "merge_average",
        "merge_task_arithmetic",
    }
    assert set(report.methods) == names
    assert {m.total_steps for m in report.methods.values()} == {3 * 6}
    assert all(m.scores.shape == (2, 3) for m in report.methods.values())


def test_probe_overhead_is_reported_separately(report):
    # 3 first-stage probes + 6 second-stage probes of 6 steps each
    assert report.probe["training_steps"] == 9 * 6
    assert sorted(report.probe["orders"]["solver"]) == sorted(report.tasks)


def test_gains_and_relative_performance_follow_the_documented_formulas(report):
    joint = report.methods["joint"]
    for item in report.comparisons:
        a, b = report.methods[item.method], report.methods[item.reference]
        expected = (a.seed_means.mean() - b.seed_means.mean()) / b.seed_means.mean() * 100
        assert item.gain_pct == pytest.approx(expected)
        assert item.significant == (not math.isnan(item.p_value) and item.p_value < 0.05)
    blocks = report.methods["blocks"]
    assert report.comparison("blocks", "joint").gain_pct == pytest.approx(
        relative_gain(blocks.seed_means, joint.seed_means)
    )
    np.testing.assert_allclose(blocks.relative, (blocks.scores / report.specialist).mean(axis=1))


def test_same_seed_same_report_and_json_is_strict(report, tmp_path):
    again = compare(
        make_learner(1, 2, mode="sampled"),
        methods=FAST,
        seeds=2,
        n_random=2,
        stage_steps=6,
        probe_dir=tmp_path,
    )
    for name, result in report.methods.items():
        np.testing.assert_array_equal(result.scores, again.methods[name].scores)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["total_steps"] == 18 and data["reference"] == "joint"


def test_equal_orders_give_equal_results():
    # with one structured and one open task the solver's order equals some random order
    runner = make_learner(1, 1, mode="sampled")
    report = compare(
        runner, methods=["solver", "random", "joint"], seeds=1, n_random=8, stage_steps=3
    )
    solver = report.probe["orders"]["solver"]
    same = [
        k
        for k, m in report.methods.items()
        if m.kind == "curriculum" and m.description == " > ".join(solver)
    ]
    assert len(same) >= 2
    for name in same:
        np.testing.assert_array_equal(report.methods[name].scores, report.methods["solver"].scores)
    assert any("one seed" in note for note in report.notes)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"methods": ["joint", "magic"]}, "methods"),
        ({"seeds": 0}, "seeds"),
        ({"methods": ["interleaved"]}, "reference"),
        ({"stage_steps": 0}, "stage_steps"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        compare(make_learner(1, 1), **kwargs)


class _Wrapped:
    """A runner the merging baseline does not support (not a BuiltinRunner, no opt-in)."""

    def __init__(self):
        self._inner = make_learner(1, 1, mode="exact")

    def __getattr__(self, name):
        if name in ("state_to_params", "params_to_state", "config"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    @property
    def tasks(self):
        return self._inner.tasks


def test_unsupported_merging_and_blocks_are_skipped_with_notes():
    report = compare(
        _Wrapped(),
        methods=["joint", "blocks", "merge_average"],
        seeds=1,
        stage_steps=2,
        groups=None,
    )
    assert "merge_average" not in report.methods
    assert any("merging skipped" in note for note in report.notes)
    assert report.methods["joint"].total_steps == 4


def test_explicit_groups_make_the_blocks():
    runner = make_learner(1, 2, mode="exact")
    groups = [("open_0",), ("structured_0", "open_1")]
    report = compare(runner, methods=["joint", "blocks"], seeds=1, stage_steps=2, groups=groups)
    assert report.methods["blocks"].description == "{open_0} then {structured_0, open_1}"
    assert report.methods["blocks"].total_steps == 6


def test_the_solver_curriculum_is_the_recommended_order(report):
    recommendation = report.probe["recommendation"]
    assert tuple(recommendation["order"]) == tuple(report.probe["orders"]["solver"])
    assert recommendation["route"] in ("additive", "backward_only", "multiplicative", "rank_rule")
    assert recommendation["reason"]
