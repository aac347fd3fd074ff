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
>>> check_choice("ray", ("inprocess", "process", "ray"), "executor", "run_campaign")
'ray'
>>> check_choice("gpu", ("inprocess", "ray"), "executor", "run_campaign")
Traceback (most recent call last):
...
taskorder.exceptions.InvalidParameterError: The 'executor' parameter of run_campaign must be one of 'inprocess', 'ray'. Got 'gpu' instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from taskorder.exceptions import InvalidParameterError

__all__ = ["check_choice", "check_int"]


def check_int(value: Any, parameter: str, owner: str, *, minimum: int = 1) -> int:
    """``value`` if it is an integer ``>= minimum`` (not a bool), else raise naming ``parameter``.

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

    Returns
    -------
    int
        ``value`` as a plain ``int``.

    Raises
    ------
    InvalidParameterError
        If ``value`` is a bool, not an integer, or below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameterError(
            f"The {parameter!r} parameter of {owner} must be an integer >= {minimum}. "
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
