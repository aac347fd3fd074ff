"""Gains, relative performance and the test, against hand-computed values."""

import math

import numpy as np
import pytest

from taskorder.compare import paired_p_value, relative_gain, relative_performance
from taskorder.exceptions import InvalidParameterError


def test_relative_gain_hand_computed():
    # A: per-seed mean scores 0.50, 0.70 -> 0.60; B: 0.40, 0.60 -> 0.50; (0.6-0.5)/0.5 = 20 %
    assert relative_gain([0.5, 0.7], [0.4, 0.6]) == pytest.approx(20.0)
    assert relative_gain([0.4, 0.6], [0.5, 0.7]) == pytest.approx(-100 / 6)
    with pytest.raises(InvalidParameterError, match="non-zero"):
        relative_gain([1.0], [0.0])


def test_relative_performance_hand_computed():
    scores = np.array([[0.3, 0.8], [0.6, 0.4]])
    specialist = np.array([[0.6, 0.8], [0.6, 0.8]])
    # seed 0: (0.5 + 1.0) / 2 = 0.75; seed 1: (1.0 + 0.5) / 2 = 0.75
    np.testing.assert_allclose(relative_performance(scores, specialist), [0.75, 0.75])
    # a specialist that learned nothing (score 0) has no ratio: its task is left out
    zero = np.array([[0.6, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(relative_performance(scores, zero), [0.5, np.nan])
    with pytest.raises(InvalidParameterError, match="non-negative"):
        relative_performance(scores, -np.ones((2, 2)))
    with pytest.raises(InvalidParameterError, match="shape"):
        relative_performance(scores, np.ones((2, 3)))


def test_paired_p_value():
    # differences 1.0, 1.0, 1.1: t = mean / (sd / sqrt 3) = 1.0333 / 0.0333 = 31.0, df 2
    assert paired_p_value([1.0, 2.0, 3.1], [0.0, 1.0, 2.0]) == pytest.approx(0.001039, abs=1e-5)
    assert paired_p_value([0.1, 0.9, 0.2], [0.2, 0.1, 0.8]) > 0.05
    assert math.isnan(paired_p_value([1.0], [0.0]))
    assert math.isnan(paired_p_value([1.0, 2.0], [0.5, 1.5]))
