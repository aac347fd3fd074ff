"""Numeric and symbolic equivalence of two final answers (math-verify, else sympy).

``math-verify`` (Hugging Face's maintained answer checker: LaTeX and plain
expressions, sets, intervals, percentages, equations such as ``x=3``) is used when
it is installed; otherwise a smaller sympy-based checker handles numbers,
fractions, ``\\frac``/``\\sqrt``/``\\pi`` and polynomial-style expressions.

math-verify bounds its work with ``signal.alarm``, which only works in the main
thread. Called from any other thread, its timeouts are switched off, so both
backends first refuse answers that could make sympy run for a long time (too long,
power towers, huge exponents, factorials): such an answer never matches.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from functools import lru_cache

__all__ = ["EQUIVALENCE_BACKENDS", "answers_match", "equivalence_backend", "is_risky_answer"]

#: The ``backend`` choices of :func:`answers_match` (and ``MathReward``).
EQUIVALENCE_BACKENDS = ("auto", "math-verify", "sympy")

_RISKY = re.compile(
    r"(\^|\*\*)\s*[{(]?[^{}()]*(\^|\*\*)"  # a power inside an exponent (power tower)
    r"|(\^|\*\*)\s*[{(]?\s*\d{4,}"  # an exponent with four or more digits
    r"|!"  # factorials
    r"|\d{200,}"  # enormous literals
)


def is_risky_answer(answer: str, max_chars: int = 300) -> bool:
    """Whether checking ``answer`` symbolically could take unbounded time or memory.

    Examples
    --------
    >>> is_risky_answer("9^{9^{9}}"), is_risky_answer("2^{10}"), is_risky_answer("10^{1000}")
    (True, False, True)
    """
    return len(answer) > max_chars or bool(_RISKY.search(answer))


def equivalence_backend() -> str:
    """Return ``"math-verify"`` when that package is importable, else ``"sympy"``.

    Examples
    --------
    >>> equivalence_backend() in {"math-verify", "sympy"}
    True
    """
    return "math-verify" if importlib.util.find_spec("math_verify") else "sympy"


def _normalise(answer: str) -> str:
    text = answer.strip().strip("$").strip()
    text = re.sub(r"\\(?:text|mathrm|textbf|mathbf)\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\[,;!: ]|\\left|\\right|\s+", "", text)
    return text.rstrip(".").lower()


def answers_match(
    predicted: str,
    gold: str,
    *,
    timeout_seconds: int = 2,
    backend: str = "auto",
    max_chars: int = 300,
) -> bool:
    """Whether ``predicted`` equals ``gold`` as a number or expression.

    Parameters
    ----------
    predicted, gold : str
        Final answers (already extracted), plain or LaTeX, e.g. ``"\\frac{1}{2}"``.
    timeout_seconds : int, default 2
        Per-operation limit for math-verify in the main thread (ignored elsewhere).
    backend : {"auto", "math-verify", "sympy"}, default "auto"
        ``"auto"`` picks math-verify when installed.
    max_chars : int, default 300
        Longer answers are refused (see :func:`is_risky_answer`).

    Returns
    -------
    bool
        ``True`` when the two are equal; ``False`` when they differ or cannot be parsed.

    Examples
    --------
    >>> answers_match("0.5", "\\\\frac{1}{2}")
    True
    >>> answers_match("(x+1)^2", "x^2+2x+1")
    True
    >>> answers_match("3", "4")
    False
    """
    from taskorder.checks import check_choice

    check_choice(backend, EQUIVALENCE_BACKENDS, "backend", "answers_match")
    if _normalise(predicted) == _normalise(gold) != "":
        return True
    if is_risky_answer(predicted, max_chars) or is_risky_answer(gold, max_chars):
        return False
    if backend == "auto":
        backend = equivalence_backend()
    if backend == "math-verify":
        return _math_verify_match(predicted, gold, timeout_seconds)
    return _sympy_match(predicted, gold)


def _math_verify_match(predicted: str, gold: str, timeout_seconds: int) -> bool:
    from taskorder.exceptions import require

    require("math_verify", "trl")
    from math_verify import parse, verify

    in_main = threading.current_thread() is threading.main_thread()
    limit = max(1, int(timeout_seconds)) if in_main else None
    try:
        gold_parsed = parse(_boxed(gold), parsing_timeout=limit)
        predicted_parsed = parse(_boxed(predicted), parsing_timeout=limit)
        if not gold_parsed or not predicted_parsed:
            return False
        return bool(verify(gold_parsed, predicted_parsed, timeout_seconds=limit))
    except Exception:
        return False


def _boxed(answer: str) -> str:
    return "\\boxed{" + answer.strip().strip("$").strip() + "}"


# -- sympy fallback -------------------------------------------------------------------

_LATEX_RULES = (
    (r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))"),
    (r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)"),
    (r"\\(?:cdot|times)", "*"),
    (r"\\pi", "pi"),
    (r"\\(sin|cos|tan|log|ln|exp)", r"\1"),
    (r"\^\{([^{}]*)\}", r"^(\1)"),
)
_FINAL_RULES = ((r"[{}]", ""), (r"(?<=\d),(?=\d{3}\b)", ""), (r"%$", "/100"))
_SAFE_TEXT = re.compile(r"^[0-9a-z+\-*/^().\s]*$")
_ALLOWED_NAMES = {"sqrt", "pi", "sin", "cos", "tan", "log", "ln", "exp"}


@lru_cache(maxsize=4096)
def _sympy_expression(answer: str):
    """Parse an answer into a sympy expression, or ``None``; refuses anything unusual."""
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    text = _normalise(answer)
    text = text.split("=")[-1]  # "x=3" -> "3"
    for _ in range(3):  # nested \frac / \sqrt unwrap from the inside out
        for pattern, replacement in _LATEX_RULES:
            text = re.sub(pattern, replacement, text)
    for pattern, replacement in _FINAL_RULES:
        text = re.sub(pattern, replacement, text)
    if not text or not _SAFE_TEXT.match(text) or re.search(r"\.(?!\d)|(?<!\d)\.", text):
        return None
    names = set(re.findall(r"[a-z]+", text))
    if any(len(name) > 1 and name not in _ALLOWED_NAMES for name in names):
        return None
    transformations = standard_transformations + (implicit_multiplication_application, convert_xor)
    try:
        return parse_expr(text, transformations=transformations, evaluate=True)
    except Exception:
        return None


def _sympy_match(predicted: str, gold: str) -> bool:
    import sympy

    left, right = _sympy_expression(predicted), _sympy_expression(gold)
    if left is None or right is None:
        return False
    try:
        difference = sympy.simplify(left - right)
        if difference == 0:
            return True
        if difference.free_symbols:
            return False
        return abs(complex(difference.evalf())) <= 1e-6 * max(1.0, abs(complex(right.evalf())))
    except Exception:
        return False
