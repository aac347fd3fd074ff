import random
from string import ascii_uppercase

import pytest
from cases import CHOICE_CASES, CHOICE_OPTIONS
from hypothesis import given, settings
from hypothesis import strategies as st

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import ChoiceReward, choice_reward, make_choice_prompt, parse_choice


@pytest.mark.parametrize(("completion", "answer", "expected"), CHOICE_CASES)
def test_choice_reward_on_hand_written_completions(completion, answer, expected):
    assert choice_reward(completions=[completion], options=[CHOICE_OPTIONS], answer=[answer]) == [
        expected
    ]


def test_conversational_completion(conversational):
    assert choice_reward(
        completions=[conversational("C")], options=[CHOICE_OPTIONS], answer=["C"]
    ) == [1.0]


def test_rows_missing_columns_or_naming_no_option_are_not_applicable():
    out = choice_reward(
        completions=["C", "C", "C", "C"],
        options=[None, CHOICE_OPTIONS, ["only one"], CHOICE_OPTIONS],
        answer=["C", None, "A", "Marseille"],
    )
    assert out == [None, None, None, None]


def test_prompt_is_seeded_and_places_the_answer_under_its_label():
    first = make_choice_prompt("Capital of France?", "Paris", ["Lyon", "Nice", "Lille"], seed=3)
    again = make_choice_prompt("Capital of France?", "Paris", ["Lyon", "Nice", "Lille"], seed=3)
    assert first == again
    assert first.options[first.index] == "Paris"
    assert f"{first.label}. Paris" in first.text
    orders = {make_choice_prompt("q", "a", ["b", "c", "d"], seed=s).options for s in range(30)}
    assert len(orders) > 5  # the seed really shuffles


@settings(max_examples=50, deadline=None)
@given(
    answer=st.text(min_size=1, max_size=12).filter(str.strip),
    distractors=st.lists(
        st.text(min_size=1, max_size=12).filter(str.strip), min_size=1, max_size=6
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_correct_label_always_scores_one(answer, distractors, seed):
    try:
        prompt = make_choice_prompt("q", answer, distractors, seed=seed)
    except InvalidParameterError:
        return  # duplicates after normalisation: refused by design
    assert prompt.options[prompt.index] == answer
    assert choice_reward(
        completions=[prompt.label], options=[list(prompt.options)], answer=[prompt.label]
    ) == [1.0]


def test_random_guesser_earns_one_over_k_and_zero_when_chance_corrected():
    rng = random.Random(0)
    corrected = ChoiceReward(chance_corrected=True)
    n_rows, k = 4000, 4
    options = [CHOICE_OPTIONS] * n_rows
    guesses = [rng.choice(ascii_uppercase[:k]) for _ in range(n_rows)]
    plain = choice_reward(completions=guesses, options=options, answer=["C"] * n_rows)
    rescaled = corrected(completions=guesses, options=options, answer=["C"] * n_rows)
    assert abs(sum(plain) / n_rows - 1 / k) < 0.03
    assert abs(sum(rescaled) / n_rows) < 0.05
    assert set(rescaled) == {1.0, -1 / (k - 1)}


def test_parse_choice_rejects_ambiguity():
    options = ["red", "Red ", "blue"]  # two options equal after normalisation
    assert parse_choice("red", options) is None
    assert parse_choice("C", options) == 2


@pytest.mark.parametrize(
    ("distractors", "match"),
    [([], "1 to 25 wrong answers"), (["Paris"], "must all differ"), (["x"] * 26, "1 to 25")],
)
def test_bad_prompts_are_refused(distractors, match):
    with pytest.raises(InvalidParameterError, match=match):
        make_choice_prompt("q", "Paris", distractors, seed=0)
