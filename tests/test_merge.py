"""Merging gives the stated parameter combination."""

import numpy as np
import pytest

from taskorder import InvalidParameterError
from taskorder.merge import merge_states

BASE = {"w": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([0.5, -0.5])}
A = {"w": BASE["w"] + [[1.0, 0.0], [0.0, -2.0]], "b": BASE["b"] + [0.2, 0.0]}
B = {"w": BASE["w"] + [[-1.0, 4.0], [0.0, 2.0]], "b": BASE["b"] + [0.0, 0.6]}


def test_average_is_the_mean_of_the_models():
    merged = merge_states(BASE, [A, B], method="average")
    for name in BASE:
        np.testing.assert_allclose(merged[name], (A[name] + B[name]) / 2)
    weighted = merge_states(BASE, [A, B], method="average", weights=[3, 1])
    np.testing.assert_allclose(weighted["w"], 0.75 * A["w"] + 0.25 * B["w"])


def test_task_arithmetic_is_base_plus_scaled_sum_of_task_vectors():
    merged = merge_states(BASE, [A, B], method="task_arithmetic", scale=0.4)
    for name in BASE:
        np.testing.assert_allclose(
            merged[name], BASE[name] + 0.4 * ((A[name] - BASE[name]) + (B[name] - BASE[name]))
        )


def test_ties_trims_elects_sign_and_averages_agreeing_entries():
    pytest.importorskip("peft")
    merged = merge_states(BASE, [A, B], method="ties", density=1.0)
    # task vectors for w: A=[[1,0],[0,-2]], B=[[-1,4],[0,2]]; majority sign by total mass:
    # [0,0]: 1 vs -1 -> sum 0 -> sign +, keeps A's 1 -> 1; [0,1]: only B 4 -> 4;
    # [1,1]: -2 vs 2 -> sum 0 -> +, keeps B's 2 -> 2
    np.testing.assert_allclose(merged["w"] - BASE["w"], [[1.0, 4.0], [0.0, 2.0]])
    np.testing.assert_allclose(merged["b"] - BASE["b"], [0.2, 0.6])
    assert merged["w"].dtype == BASE["w"].dtype


def test_dare_is_seeded_and_rescales():
    pytest.importorskip("peft")
    big_base = {"w": np.zeros(20000)}
    tuned = [{"w": np.ones(20000)}]
    one = merge_states(big_base, tuned, method="dare_linear", density=0.25, seed=3)
    two = merge_states(big_base, tuned, method="dare_linear", density=0.25, seed=3)
    np.testing.assert_array_equal(one["w"], two["w"])
    kept = one["w"] != 0
    assert 0.2 < kept.mean() < 0.3
    np.testing.assert_allclose(one["w"][kept], 4.0)  # survivors rescaled by 1/density


def test_torch_state_dicts_keep_their_type():
    torch = pytest.importorskip("torch")
    base = {k: torch.tensor(v) for k, v in BASE.items()}
    a = {k: torch.tensor(v) for k, v in A.items()}
    merged = merge_states(base, [a], method="task_arithmetic", scale=1.0)
    assert isinstance(merged["w"], torch.Tensor)
    torch.testing.assert_close(merged["w"], a["w"])


def test_bad_inputs():
    with pytest.raises(InvalidParameterError, match="'method'"):
        merge_states(BASE, [A], method="soup")
    with pytest.raises(InvalidParameterError, match="same parameter names"):
        merge_states(BASE, [{"w": A["w"]}])
    with pytest.raises(InvalidParameterError, match="shape"):
        merge_states(BASE, [{"w": np.zeros(3), "b": A["b"]}])
    with pytest.raises(InvalidParameterError, match="'density'"):
        merge_states(BASE, [A], method="ties", density=0)
    with pytest.raises(InvalidParameterError, match="'weights'"):
        merge_states(BASE, [A, B], weights=[1])
