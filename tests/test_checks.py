"""taskorder.checks: one wording for every bad argument (issue 14)."""

import math

import numpy as np
import pytest

from taskorder.checks import check_choice, check_float, check_int
from taskorder.exceptions import InvalidParameterError


def test_check_int_accepts_numpy_integers_and_refuses_bools_and_floats():
    assert check_int(np.int64(3), "steps", "train") == 3
    assert type(check_int(np.int64(3), "steps", "train")) is int
    assert check_int(0, "seed", "train", minimum=0) == 0
    assert check_int(5, "horizon", "f", maximum=5) == 5
    with pytest.raises(InvalidParameterError, match=r"an integer in \[2, 5\]. Got 1 instead"):
        check_int(1, "horizon", "f", minimum=2, maximum=5)
    for bad in (True, 2.0, "2", None, -1):
        with pytest.raises(InvalidParameterError, match=r"The 'seed' parameter of train must be"):
            check_int(bad, "seed", "train", minimum=0)


@pytest.mark.parametrize(
    "kwargs, bound",
    [
        ({"minimum": 0, "maximum": 1, "low_open": True}, "in (0, 1]"),
        ({"minimum": 0, "maximum": 1, "high_open": True}, "in [0, 1)"),
        ({"minimum": 0}, ">= 0"),
        ({"minimum": 0, "low_open": True}, "> 0"),
        ({"maximum": 5, "high_open": True}, "< 5"),
        ({}, ""),
    ],
)
def test_check_float_states_the_bounds(kwargs, bound):
    expected = "a finite number" + (f" {bound}" if bound else "") + ". Got nan instead."
    with pytest.raises(InvalidParameterError) as error:
        check_float(math.nan, "share", "plan_hybrid", **kwargs)
    assert str(error.value) == f"The 'share' parameter of plan_hybrid must be {expected}"


def test_check_float_bounds_are_open_or_closed_as_asked():
    assert check_float(0, "z", "f", minimum=0) == 0.0
    assert check_float(np.float32(0.5), "z", "f", minimum=0, maximum=1) == 0.5
    assert type(check_float(np.int64(2), "z", "f")) is float
    for value, kwargs in [
        (0, {"minimum": 0, "low_open": True}),
        (1, {"maximum": 1, "high_open": True}),
        (1.5, {"maximum": 1}),
        (-0.1, {"minimum": 0}),
        (math.inf, {}),
        (True, {}),
        ("0.5", {}),
        (None, {}),
    ]:
        with pytest.raises(InvalidParameterError, match=f"Got {value!r} instead"):
            check_float(value, "z", "f", **kwargs)


def test_check_choice_lists_the_choices_in_order():
    assert check_choice("b", ("a", "b"), "mode", "f") == "b"
    with pytest.raises(InvalidParameterError, match="must be one of 'a', 'b'. Got 1 instead"):
        check_choice(1, ("a", "b"), "mode", "f")
