import pickle

import pytest

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import FormatReward, MathReward, completion_text, prompt_text
from taskorder.rewards._common import row_columns


def test_completion_text_handles_both_formats():
    assert completion_text("x") == "x"
    assert completion_text([{"role": "assistant", "content": "x"}]) == "x"
    assert (
        completion_text(
            [
                {"role": "assistant", "content": "a"},
                {"role": "tool", "content": "t"},
                {"role": "assistant", "content": "b"},
            ]
        )
        == "a\nb"
    )
    assert completion_text([]) is None
    assert completion_text(None) is None
    assert completion_text(42) is None


def test_prompt_text_renders_conversations():
    assert prompt_text([{"role": "user", "content": "hi"}]) == "user: hi"
    assert prompt_text(None) is None


def test_column_of_wrong_length_names_the_column():
    with pytest.raises(InvalidParameterError, match="'answer' column .* one value per completion"):
        row_columns({"answer": ["1"]}, ["answer"], 2, "math_reward")


def test_completions_must_be_a_list():
    with pytest.raises(InvalidParameterError, match="'completions' parameter of math_reward"):
        MathReward()(completions="just a string", answer=["1"])


def test_prompts_must_match_completions():
    with pytest.raises(InvalidParameterError, match="'prompts' parameter"):
        MathReward()(prompts=["p"], completions=["1", "2"], answer=["1", "2"])


def test_stats_and_log_metric_are_recorded():
    logged = []
    reward = MathReward()
    out = reward(
        completions=["\\boxed{1}", "\\boxed{2}", None],
        answer=["1", None, "3"],
        log_metric=lambda name, value: logged.append((name, value)),
        trainer_state=object(),
        log_extra=lambda *a: None,
    )
    assert out == [1.0, None, None]
    assert reward.stats_["scored"] == 1 and reward.stats_["skipped"] == 2
    assert logged == [("math_reward/skipped", 2 / 3)]


def test_a_failing_log_metric_does_not_break_the_reward():
    def broken(name, value):
        raise RuntimeError("logger down")

    assert FormatReward()(completions=["x"], log_metric=broken) == [0.0]


def test_rewards_pickle_and_keep_their_name():
    reward = pickle.loads(pickle.dumps(MathReward(name="m")))
    assert reward.__name__ == "m"
    assert reward(completions=["\\boxed{3}"], answer=["3"]) == [1.0]
