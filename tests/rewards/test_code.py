import pytest
from cases import ADD_TESTS, CODE_CASES

from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import CodeReward, SandboxLimits, code_reward, extract_code, run_python_tests


def test_code_reward_on_hand_written_completions():
    completions = [completion for completion, _, _ in CODE_CASES]
    tests = [tests for _, tests, _ in CODE_CASES]
    expected = [reward for _, _, reward in CODE_CASES]
    assert code_reward(completions=completions, tests=tests) == pytest.approx(expected)


def test_all_or_nothing(conversational):
    reward = CodeReward(all_or_nothing=True)
    partly = "```python\ndef add(a, b):\n    return a * b if a == 10 else a + b\n```"
    right = "```python\ndef add(a, b):\n    return a + b\n```"
    assert reward(completions=[conversational(partly), right], tests=[ADD_TESTS, ADD_TESTS]) == [
        0.0,
        1.0,
    ]


def test_rows_without_tests_are_not_applicable():
    assert code_reward(completions=["x = 1", "x = 1"], tests=[None, []]) == [None, None]


def test_a_single_string_is_one_test_program():
    program = "assert add(1, 1) == 2\nassert add(2, 2) == 4"
    assert code_reward(completions=["def add(a, b): return a + b"], tests=[program]) == [1.0]


def test_last_python_block_wins():
    text = "```python\ndef f(): return 1\n```\nBetter:\n```python\ndef f(): return 2\n```"
    assert extract_code(text) == "def f(): return 2\n"
    assert extract_code("```\nprint(1)\n```") == "print(1)\n"
    assert extract_code("   ") is None


def test_per_test_timeout_keeps_partial_credit():
    code = "def f(x):\n    while x == 2:\n        pass\n    return x"
    tests = ["assert f(1) == 1", "assert f(2) == 2", "assert f(3) == 3"]
    limits = SandboxLimits(timeout=10, per_test_timeout=0.5)
    result = run_python_tests(code, tests, limits=limits)
    assert result.passed == (True, False, True) and result.status == "completed"


def test_exceptions_and_exits_in_tests_fail_only_that_test():
    code = "import sys\ndef f(x):\n    if x == 2:\n        sys.exit(0)\n    return x"
    result = run_python_tests(code, ["assert f(1) == 1", "f(2)", "assert f(3) == 3"])
    assert result.passed == (True, False, True)


def test_stdout_of_the_code_is_discarded_not_parsed():
    code = "print('0 1\\n1 1\\ndone 2')\ndef f(): return 0"
    assert run_python_tests(code, ["assert f() == 1"]).passed == (False,)


def test_common_imports_work_in_the_sandbox():
    code = (
        "from typing import List\nfrom collections import namedtuple, Counter\n"
        "import dataclasses, enum, itertools, functools, heapq, math, re, json, random\n"
        "P = namedtuple('P', 'a b')\nclass Colour(enum.Enum):\n    RED = 1\n"
        "@dataclasses.dataclass\nclass D:\n    x: int\n"
        "def f(xs: List[int]) -> int:\n    return sum(xs)"
    )
    tests = [
        "assert f([1, 2]) == 3",
        "assert P(1, 2).b == 2",
        "assert D(3).x == 3",
        "open('scratch.txt', 'w').write('ok'); assert open('scratch.txt').read() == 'ok'",
    ]
    assert run_python_tests(code, tests).passed == (True, True, True, True)


def test_environment_is_stripped(monkeypatch):
    monkeypatch.setenv("TASKORDER_SECRET_TOKEN", "hunter2")
    tests = [
        "import os; assert 'TASKORDER_SECRET_TOKEN' not in os.environ",
        "import os; assert os.getcwd() == os.environ['HOME']",
    ]
    assert run_python_tests("", tests).passed == (True, True)


def test_parallel_batch_gives_each_row_its_own_result():
    reward = CodeReward(max_workers=2)
    right = "def add(a, b): return a + b"
    wrong = "def add(a, b): return None"
    completions = [right, wrong] * 3
    assert reward(completions=completions, tests=[ADD_TESTS] * 6) == [1.0, 0.0] * 3
    assert reward.stats_["status_completed"] == 6


def test_invalid_parameters_name_themselves():
    with pytest.raises(InvalidParameterError, match="'max_workers' parameter of CodeReward"):
        CodeReward(max_workers=0)
    with pytest.raises(InvalidParameterError, match="'limits' parameter of CodeReward"):
        CodeReward(limits={"timeout": 1})
    with pytest.raises(
        InvalidParameterError, match="'per_test_timeout' parameter of SandboxLimits"
    ):
        SandboxLimits(per_test_timeout=-1)
    with pytest.raises(InvalidParameterError, match="'tests' parameter of run_python_tests"):
        run_python_tests("x = 1", "assert x == 1")
