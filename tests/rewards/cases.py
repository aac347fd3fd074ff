"""Hand-written completions with their known rewards, shared by the reward tests.

Each entry is ``(completion, gold, expected_reward)``.
"""

MATH_CASES = [
    # boxed answers, plain and LaTeX
    ("First 2+2=4, so the result is \\boxed{4}.", "4", 1.0),
    ("Half of one is \\boxed{\\frac{1}{2}}", "0.5", 1.0),
    ("The probability is \\boxed{0.75}", "\\frac{3}{4}", 1.0),
    ("Expanding gives \\boxed{x^2 + 2x + 1}", "(x+1)^2", 1.0),
    ("So \\boxed{\\frac{\\sqrt{2}}{2}}", "1/\\sqrt{2}", 1.0),
    ("Total: \\boxed{1,000}", "1000", 1.0),
    ("\\boxed{5}", "4", 0.0),
    ("\\boxed{x^2 + 1}", "(x+1)^2", 0.0),
    # "the answer is X"
    ("Adding them up, the answer is 42.", "42", 1.0),
    ("The final answer is 3/4.", "0.75", 1.0),
    ("Answer: 17", "18", 0.0),
    # last number fallback
    ("We had 3 apples, bought 5 more, now 8", "8", 1.0),
    ("We had 3 apples, bought 5 more, now 9", "8", 0.0),
    # answer tags take precedence over numbers in the reasoning
    ("<think>maybe 7, or 9</think><answer>9</answer>", "9", 1.0),
    # nothing answer-like at all
    ("I cannot solve this.", "3", 0.0),
    # power towers are refused quickly, never equal
    ("\\boxed{9^{9^{9}}}", "1", 0.0),
]

CHOICE_OPTIONS = ["Lille", "Lyon", "Paris", "Nice"]  # correct: C (Paris)
CHOICE_CASES = [
    ("C", "C", 1.0),
    ("(C)", "C", 1.0),
    ("C.", "C", 1.0),
    ("Paris", "C", 1.0),
    ("  paris. ", "C", 1.0),
    ("Let me think. Lyon is large, but the capital is Paris.\nAnswer: C", "C", 1.0),
    ("<think>It is Paris.</think><answer>C</answer>", "C", 1.0),
    ("C. Paris", "C", 1.0),
    ("\\boxed{C}", "C", 1.0),
    ("Paris", "Paris", 1.0),  # the answer column may hold the option text
    ("B", "C", 0.0),
    ("Lyon", "C", 0.0),
    ("C or B", "C", 0.0),  # two picks: not strict
    ("The answer is probably C", "C", 0.0),  # hedged: not an exact option
    ("C. Nice", "C", 0.0),  # label and text disagree
    ("E", "C", 0.0),  # no such option
    ("c", "C", 0.0),  # a lowercase letter is not a label
    ("", "C", 0.0),
]

FORMAT_CASES = [
    ("<think>2+2 is 4</think>\n<answer>4</answer>", 1.0),
    ("  <think>\nsteps\n</think>\n\n<answer>\n4\n</answer>\n", 1.0),
    ("<answer>4</answer>", 0.0),
    ("<think>steps</think>", 0.0),
    ("<think>steps</think><answer></answer>", 0.0),
    ("<think>steps</think><answer>4</answer> trailing words", 0.0),
    ("preamble <think>steps</think><answer>4</answer>", 0.0),
    ("<think>a<think>b</think></think><answer>4</answer>", 0.0),
    ("<think>a</think><answer>4</answer><answer>5</answer>", 0.0),
    ("<answer>4</answer><think>a</think>", 0.0),
]

ADD_TESTS = ["assert add(2, 3) == 5", "assert add(-1, 1) == 0", "assert add(10, 5) == 15"]
CODE_CASES = [
    ("```python\ndef add(a, b):\n    return a + b\n```", ADD_TESTS, 1.0),
    ("Sure!\n```py\ndef add(a, b):\n    return a + b\n```\nHope it helps.", ADD_TESTS, 1.0),
    ("def add(a, b):\n    return a + b", ADD_TESTS, 1.0),  # no fence: the whole text
    ("```python\ndef add(a, b):\n    return a * b if a == 10 else a + b\n```", ADD_TESTS, 2 / 3),
    ("```python\ndef add(a, b):\n    return a - b\n```", ADD_TESTS, 0.0),
    ("```python\ndef add(a, b) return a + b\n```", ADD_TESTS, 0.0),  # syntax error
    ("I don't know how.", ADD_TESTS, 0.0),
    ("```javascript\nfunction add(a, b) { return a + b }\n```", ADD_TESTS, 0.0),
]
