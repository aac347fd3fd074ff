import threading
import time

import pytest
from cases import MATH_CASES

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import MathReward, answers_match, extract_final_answer, math_reward


@pytest.mark.parametrize(("completion", "gold", "expected"), MATH_CASES)
def test_math_reward_on_hand_written_completions(completion, gold, expected):
    assert math_reward(completions=[completion], answer=[gold]) == [expected]


def test_conversational_completions(conversational):
    assert math_reward(completions=[conversational("\\boxed{7}")], answer=["7"]) == [1.0]


def test_rows_without_answer_are_not_applicable():
    assert math_reward(completions=["\\boxed{1}", "\\boxed{1}"], answer=[None, " "]) == [None, None]
    assert math_reward(completions=["\\boxed{1}"]) == [None]  # no answer column at all


def test_numeric_gold_is_accepted():
    assert math_reward(completions=["\\boxed{12}"], answer=[12]) == [1.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed{1} then \\boxed{2}", "2"),
        ("\\boxed{unbalanced", None),
        ("So the answer is $x^2$.", "x^2"),
        ("The final answer is 3.5. Done.", "3.5"),
        ("It costs -12 dollars", "-12"),
        ("no digits here", None),
    ],
)
def test_extract_final_answer(text, expected):
    assert extract_final_answer(text) == expected


def test_sympy_backend_agrees_on_core_cases():
    assert answers_match("0.5", "\\frac{1}{2}", backend="sympy")
    assert answers_match("(x+1)^2", "x^2+2x+1", backend="sympy")
    assert answers_match("\\frac{\\sqrt{2}}{2}", "1/sqrt(2)", backend="sympy")
    assert not answers_match("3", "4", backend="sympy")
    assert not answers_match("__import__('os')", "1", backend="sympy")  # refused, not evaluated


def test_math_verify_is_used_when_installed():
    pytest.importorskip("math_verify")
    from taskorder.rewards import equivalence_backend

    assert equivalence_backend() == "math-verify"
    assert answers_match("50\\%", "50", backend="math-verify")  # percentages: math-verify only


def test_works_from_a_worker_thread():
    """math-verify's signal.alarm timeouts fail outside the main thread; we must not."""
    results, errors = [], []

    def work():
        try:
            results.append(
                math_reward(completions=["\\boxed{0.25}", "\\boxed{3}"], answer=["1/4", "4"])
            )
            started = time.monotonic()
            results.append(answers_match("9^{9^{9}}", "1"))
            results.append(time.monotonic() - started)
        except Exception as error:
            errors.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert not errors
    assert results[0] == [1.0, 0.0]
    assert results[1] is False and results[2] < 1.0


def test_power_tower_is_refused_quickly_in_the_main_thread():
    started = time.monotonic()
    assert math_reward(completions=["\\boxed{9^{9^{9}}}"], answer=["1"]) == [0.0]
    assert time.monotonic() - started < 1.0


def test_invalid_parameters_name_themselves():
    with pytest.raises(InvalidParameterError, match="'timeout_seconds' parameter of MathReward"):
        MathReward(timeout_seconds=0.5)
    with pytest.raises(InvalidParameterError, match="'backend' parameter of MathReward"):
        MathReward(backend="wolfram")
