import pytest
from cases import ADD_TESTS

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import (
    choice_reward,
    code_reward,
    format_reward,
    math_reward,
    task_router,
)


def test_rows_are_routed_by_task_and_results_keep_row_order():
    seen = {}

    def spy(name, result):
        def reward(completions, **kwargs):
            seen[name] = (list(completions), kwargs)
            return [result] * len(completions)

        reward.__name__ = name
        return reward

    route = task_router({"a": spy("a", 1.0), "b": spy("b", 2.0)})
    state = object()
    out = route(
        prompts=["p0", "p1", "p2", "p3"],
        completions=["c0", "c1", "c2", "c3"],
        completion_ids=[[0], [1], [2], [3]],
        task=["b", "a", "zzz", "b"],
        answer=["x0", "x1", "x2", "x3"],
        trainer_state=state,
    )
    assert out == [2.0, 1.0, None, 2.0]
    completions, kwargs = seen["b"]
    assert completions == ["c0", "c3"]
    assert kwargs["answer"] == ["x0", "x3"] and kwargs["prompts"] == ["p0", "p3"]
    assert kwargs["completion_ids"] == [[0], [3]]
    assert kwargs["trainer_state"] is state  # TRL extras pass through untouched


def test_real_rewards_through_the_router(conversational):
    route = task_router({"math": math_reward, "choice": choice_reward, "code": code_reward})
    out = route(
        completions=[
            conversational("\\boxed{4}"),
            conversational("B"),
            conversational("```python\ndef add(a, b):\n    return a + b\n```"),
            conversational("\\boxed{5}"),
        ],
        task=["math", "choice", "code", "math"],
        answer=["4", "B", None, "4"],
        options=[None, ["cat", "dog"], None, None],
        tests=[None, None, ADD_TESTS, None],
    )
    assert out == [1.0, 1.0, 1.0, 0.0]


def test_strict_router_refuses_unknown_tasks():
    route = task_router({"math": math_reward}, strict=True)
    with pytest.raises(InvalidParameterError, match=r"tasks \['poetry'\] that have no reward"):
        route(completions=["x"], task=["poetry"])


def test_name_and_bad_arguments():
    assert task_router({"f": format_reward}, name="multi").__name__ == "multi"
    with pytest.raises(InvalidParameterError, match="non-empty mapping"):
        task_router({})
    with pytest.raises(InvalidParameterError, match="not callable"):
        task_router({"math": "math_reward"})
    with pytest.raises(InvalidParameterError, match="needs a 'task' column"):
        task_router({"math": math_reward})(completions=["x"])


def test_a_reward_returning_the_wrong_length_is_caught():
    route = task_router({"a": lambda completions, **kw: [1.0]})
    with pytest.raises(InvalidParameterError, match="returned 1 rewards for 2 rows"):
        route(completions=["x", "y"], task=["a", "a"])
