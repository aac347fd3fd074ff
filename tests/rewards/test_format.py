import re

import pytest
from cases import FORMAT_CASES

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import FormatReward, extract_tag, format_reward


@pytest.mark.parametrize(("completion", "expected"), FORMAT_CASES)
def test_default_layout(completion, expected):
    assert format_reward(completions=[completion]) == [expected]


def test_custom_pattern_and_rewards(conversational):
    reward = FormatReward(pattern=r"Final: \d+", match_reward=0.5, miss_reward=-0.5, name="fmt")
    assert reward(completions=["Final: 3", "Final: 3 apples", conversational("Final: 9")]) == [
        0.5,
        -0.5,
        0.5,
    ]
    assert reward.__name__ == "fmt"


def test_compiled_pattern_is_used_as_is():
    reward = FormatReward(pattern=re.compile(r"yes|no", re.IGNORECASE))
    assert reward(completions=["YES", "maybe"]) == [1.0, 0.0]


def test_empty_completion_list_and_missing_text():
    assert format_reward(completions=[]) == []
    assert format_reward(completions=[None]) == [None]


def test_invalid_pattern_is_reported():
    with pytest.raises(InvalidParameterError, match="'pattern' parameter of FormatReward"):
        FormatReward(pattern="(unclosed")
    with pytest.raises(InvalidParameterError, match="string or a compiled"):
        FormatReward(pattern=42)


def test_extract_tag():
    assert extract_tag("<answer>1</answer> <answer> 2 </answer>", "answer") == "2"
