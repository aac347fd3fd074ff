"""Argument checks shared by the whole package: one wording for every bad value.

Every public function checks its arguments with these, so an error always names the
parameter, its owner (the function or class), what was expected and what was received.

Examples
--------
>>> check_int(3, "steps", "train")
3
>>> check_int(0, "steps", "train")
Traceback (most recent call last):
...
taskorder.exceptions.InvalidParameterError: The 'steps' parameter of train must be an integer >= 1. Got 0 instead.
>>> check_int(6, "horizon", "replan_training", maximum=5)
Traceback (most recent call last):
...
taskorder.exceptions.InvalidParameterError: The 'horizon' parameter of replan_training must be an integer in [1, 5]. Got 6 instead.
>>> check_choice("ray", ("inprocess", "process", "ray"), "executor", "run_campaign")
'ray'
>>> check_choice("gpu", ("inprocess", "ray"), "executor", "run_campaign")
Traceback (most recent call last):
...
taskorder.exceptions.InvalidParameterError: The 'executor' parameter of run_campaign must be one of 'inprocess', 'ray'. Got 'gpu' instead.
>>> check_float(0.5, "density", "merge_states", minimum=0, maximum=1, low_open=True)
0.5
>>> check_float(0, "density", "merge_states", minimum=0, maximum=1, low_open=True)
Traceback (most recent call last):
...
taskorder.exceptions.InvalidParameterError: The 'density' parameter of merge_states must be a finite number in (0, 1]. Got 0 instead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from taskorder.exceptions import InvalidParameterError

__all__ = ["check_choice", "check_float", "check_int"]


def check_int(
    value: Any, parameter: str, owner: str, *, minimum: int = 1, maximum: int | None = None
) -> int:
    """``value`` if it is an integer in ``[minimum, maximum]`` (not a bool), else raise.

    Parameters
    ----------
    value : Any
        The argument to check.
    parameter : str
        Its parameter name, quoted in the error message.
    owner : str
        The function or command that received it, named in the error message.
    minimum : int, default 1
        Smallest accepted value.
    maximum : int, optional
        Largest accepted value (None: no limit).

    Returns
    -------
    int
        ``value`` as a plain ``int`` (a NumPy integer is accepted).

    Raises
    ------
    InvalidParameterError
        If ``value`` is a bool, not an integer, or outside ``[minimum, maximum]``.
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or value < minimum or (maximum is not None and value > maximum):
        expected = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise InvalidParameterError(
            f"The {parameter!r} parameter of {owner} must be an integer {expected}. "
            f"Got {value!r} instead."
        )
    return int(value)


def check_choice(value: Any, choices: Iterable[str], parameter: str, owner: str) -> str:
    """``value`` if it is one of ``choices``, else raise listing them.

    Parameters
    ----------
    value : Any
        The argument to check.
    choices : iterable of str
        The accepted values, listed in the error message in this order.
    parameter : str
        Its parameter name, quoted in the error message.
    owner : str
        The function or command that received it, named in the error message.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    InvalidParameterError
        If ``value`` is not a string among ``choices``.
    """
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise InvalidParameterError(
            f"The {parameter!r} parameter of {owner} must be one of "
            f"{', '.join(map(repr, choices))}. Got {value!r} instead."
        )
    return value


def check_float(
    value: Any,
    parameter: str,
    owner: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float if it is a finite real number within the bounds, else raise.

    Parameters
    ----------
    value : Any
        The argument to check: an int or float (a NumPy number too; not a bool).
    parameter : str
        Its parameter name, quoted in the error message.
    owner : str
        The function or command that received it, named in the error message.
    minimum, maximum : float, optional
        Smallest and largest accepted values (None: unbounded on that side).
    low_open, high_open : bool, default False
        Exclude ``minimum`` (``value > minimum``) or ``maximum`` (``value < maximum``).

    Returns
    -------
    float
        ``value`` as a plain ``float``.

    Raises
    ------
    InvalidParameterError
        If ``value`` is not a real number, not finite, or outside the bounds; the message
        states the bounds (``in (0, 1]``, ``>= 0``, ...).
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    number = float(value) if ok else math.nan
    ok = ok and math.isfinite(number)
    if ok and minimum is not None:
        ok = number > minimum if low_open else number >= minimum
    if ok and maximum is not None:
        ok = number < maximum if high_open else number <= maximum
    if not ok:
        raise InvalidParameterError(
            f"The {parameter!r} parameter of {owner} must be a finite number"
            f"{_bounds(minimum, maximum, low_open, high_open)}. Got {value!r} instead."
        )
    return number


def _bounds(minimum: float | None, maximum: float | None, low_open: bool, high_open: bool) -> str:
    """`` in (0, 1]``, `` >= 0``, `` < 5`` or nothing: the accepted range, as words."""
    if minimum is not None and maximum is not None:
        return f" in {'(' if low_open else '['}{minimum:g}, {maximum:g}{')' if high_open else ']'}"
    if minimum is not None:
        return f" {'>' if low_open else '>='} {minimum:g}"
    if maximum is not None:
        return f" {'<' if high_open else '<='} {maximum:g}"
    return ""
