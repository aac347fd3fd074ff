"""The Schedule/Stage type (plain Python, no torch)."""

import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule, Stage


def test_single_and_mixed_stages():
    stage = Stage({"a": 0.25, "b": 0.75}, steps=4)
    assert stage.is_mixed and stage.task_names == ("a", "b") and stage.label == "mix(a+b)"
    assert Stage("a", steps=2) == Stage({"a": 1.0}, steps=2)
    assert hash(Schedule([Stage("a", steps=2)])) == hash(Schedule([Stage({"a": 1}, steps=2)]))


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"tasks": {"a": 0.5, "b": 0.4}, "steps": 1}, "sum to 1"),
        (
            {"tasks": {"a": -1.0, "b": 2.0}, "steps": 1},
            "'tasks.a' parameter of Stage must be a finite number > 0",
        ),
        ({"tasks": "a"}, "exactly one length"),
        ({"tasks": "a", "steps": 1, "passes": 1.0}, "exactly one length"),
        ({"tasks": "a", "steps": 0}, "The 'steps' parameter of Stage must be an integer >= 1"),
        ({"tasks": "a", "passes": 0.0}, "'passes' parameter of Stage must be a finite number > 0"),
        ({"tasks": "", "steps": 1}, "non-empty"),
        ({"tasks": {}, "steps": 1}, "at least one task"),
    ],
)
def test_stage_rejects_bad_input(kwargs, text):
    with pytest.raises(InvalidParameterError, match=text):
        Stage(**kwargs)


def test_boundaries_stage_lookup_and_tail():
    schedule = Schedule(
        [Stage("a", steps=3), Stage({"a": 0.5, "b": 0.5}, steps=2), Stage("b", steps=1)]
    )
    assert schedule.boundaries == (3, 5, 6) and schedule.total_steps == 6
    assert [schedule.stage_index_at(s) for s in range(6)] == [0, 0, 0, 1, 1, 2]
    assert schedule.tasks == ("a", "b")
    assert schedule.tail(1).steps == (2, 1)
    with pytest.raises(InvalidParameterError):
        schedule.stage_index_at(6)


def test_resolve_passes_and_step_multiples():
    schedule = Schedule([Stage("a", passes=1.0), Stage("b", steps=4)])
    with pytest.raises(InvalidParameterError, match="resolve"):
        _ = schedule.total_steps
    resolved = schedule.resolve({"a": 10, "b": 3}, prompts_per_step=3, step_multiple=2)
    assert resolved.steps == (4, 4)  # ceil(10 / 3) = 4, already a multiple of 2
    with pytest.raises(InvalidParameterError, match="multiples of 3"):
        schedule.resolve({"a": 10, "b": 3}, prompts_per_step=3, step_multiple=3)
    with pytest.raises(InvalidParameterError, match="lacks tasks"):
        schedule.resolve({"a": 10}, prompts_per_step=3)
    with pytest.raises(InvalidParameterError, match="'prompts_per_step' .* finite number > 0"):
        schedule.resolve({"a": 10, "b": 3}, prompts_per_step=0)
    with pytest.raises(InvalidParameterError, match="'step_multiple' .* integer >= 1. Got 0"):
        schedule.resolve({"a": 10, "b": 3}, prompts_per_step=3, step_multiple=0)


def test_round_trip_and_from_order():
    schedule = Schedule([Stage("a", steps=3, name="warm"), Stage({"a": 0.5, "b": 0.5}, passes=2.0)])
    assert Schedule.from_dict(schedule.to_dict()) == schedule
    assert Schedule.from_order(["b", "a"], steps=5).tasks == ("b", "a")
    with pytest.raises(InvalidParameterError, match="keys"):
        Schedule.from_dict([{"task": "a", "steps": 1, "lenght": 2}])
    with pytest.raises(InvalidParameterError, match="sequence of task names"):
        Schedule.from_order("ab", steps=1)
