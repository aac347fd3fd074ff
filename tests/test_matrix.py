import math

import networkx as nx
import numpy as np
import pytest

from taskorder import InvalidMatrixError, InvalidOrderError, MissingEntriesError, TransferMatrix
from tests.instances import THREE


def test_sign_convention_forgettability_and_pair_weights():
    m = TransferMatrix(
        ["math", "poetry"],
        [[0, -0.2], [0.05, 0]],
        forward=[[0, 0.1], [-0.3, 0]],
        weights=[2.0, 1.0],
    )
    # math loses 0.2 when poetry is trained after it
    assert m.forgettability().tolist() == [0.2, -0.05]
    W = m.pair_weights()
    # W[i, j] = w_i bwt[i, j] + w_j forward[i, j]
    assert W[0, 1] == pytest.approx(2 * -0.2 + 1 * 0.1)
    assert W[1, 0] == pytest.approx(1 * 0.05 + 2 * -0.3)
    assert W[0, 0] == 0 and W[1, 1] == 0


def test_diagonal_is_ignored_and_stored_as_zero():
    m = TransferMatrix(["a", "b"], [[np.nan, 1], [2, 7]])
    assert m.bwt.tolist() == [[0, 1], [2, 0]]


@pytest.mark.parametrize(
    "tasks, bwt, match",
    [
        (["a"], [[0]], "at least 2 tasks"),
        (["a", "a"], [[0, 1], [1, 0]], "unique"),
        (["a", ""], [[0, 1], [1, 0]], "non-empty"),
        (["a", "b"], [[0, 1, 2], [1, 0, 2]], r"shape \(2, 2\)"),
        (["a", "b"], [[0, np.inf], [1, 0]], "finite"),
        (["a", "b"], [[0, "x"], [1, 0]], "numbers"),
    ],
)
def test_bad_matrices_are_rejected_with_a_clear_message(tasks, bwt, match):
    with pytest.raises(InvalidMatrixError, match=match):
        TransferMatrix(tasks, bwt)


def test_errors_are_also_builtin_value_errors():
    with pytest.raises(ValueError):
        TransferMatrix(["a"], [[0]])


def test_missing_entries_are_reported_not_zeroed():
    m = TransferMatrix(["a", "b", "c"], [[0, np.nan, 1], [1, 0, 1], [1, 1, 0]])
    assert m.missing() == [("a", "b")]
    assert math.isnan(m.bwt[0, 1])
    with pytest.raises(MissingEntriesError, match="a->b"):
        m.check_complete()


def test_order_indices_checks_permutations():
    assert THREE.order_indices(["c", "a", "b"]) == [2, 0, 1]
    with pytest.raises(InvalidOrderError, match="unknown"):
        THREE.order_indices(["a", "b", "x"])
    with pytest.raises(InvalidOrderError, match="repeats"):
        THREE.order_indices(["a", "a", "b"])
    with pytest.raises(InvalidOrderError, match="leaves out"):
        THREE.order_indices(["a", "b"])


def test_dict_roundtrip_keeps_everything():
    m = TransferMatrix(
        ["a", "b", "c"],
        [[0, np.nan, 1], [1, 0, 1], [1, 1, 0]],
        forward=np.ones((3, 3)),
        bwt_stderr=np.full((3, 3), 0.1),
        weights={"a": 2.0},
        own_scores=[0.5, 0.6, 0.7],
    )
    again = TransferMatrix.from_dict(m.to_dict())
    assert again == m
    assert again.weights.tolist() == [2.0, 1.0, 1.0]


def test_networkx_edges_follow_training_order():
    graph = THREE.to_networkx()
    assert isinstance(graph, nx.DiGraph)
    assert graph.number_of_edges() == 6
    # edge a -> b: a trained before b, bwt[a, b] = -3
    assert graph.edges["a", "b"]["bwt"] == -3
    assert graph.edges["c", "b"]["weight"] == 4


def test_subset_keeps_values():
    sub = THREE.subset(["c", "a"])
    assert sub.tasks == ("c", "a")
    assert sub.bwt.tolist() == [[0, 0], [1, 0]]


def test_ragged_imputed_mask_is_an_invalid_matrix_error():
    """Issue 15: a ragged 'imputed' raised numpy's ValueError."""
    with pytest.raises(InvalidMatrixError, match=r"'imputed' mask must be 2 rows of 2.*\[1, 2\]"):
        TransferMatrix(["a", "b"], [[0, 1], [1, 0]], imputed=[[True], [False, True]])


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_own_score_is_refused(bad):
    """Issue 15: own_scores of 1e400 (inf) were accepted."""
    with pytest.raises(InvalidMatrixError, match=r"'own_scores'.*finite.*task 'b'"):
        TransferMatrix(["a", "b"], [[0, 1], [1, 0]], own_scores=[0.5, bad])
    assert np.isnan(
        TransferMatrix(["a", "b"], [[0, 1], [1, 0]], own_scores=[0.5, np.nan]).own_scores[1]
    )


@pytest.mark.parametrize("field", ["bwt", "forward", "bwt_stderr", "weights", "own_scores"])
def test_values_that_would_overflow_are_refused(field):
    """Issue 15: 1.7e308 everywhere overflowed to "No order satisfies the constraints"."""
    from taskorder.matrix import MAX_ABS_VALUE

    square = [[0, 1.7e308], [1.7e308, 0]]
    value = {"weights": [1.0, 1.7e308], "own_scores": [0.0, -1.7e308]}.get(field, square)
    with pytest.raises(InvalidMatrixError, match=f"'{field}' values must be at most 1e\\+100"):
        TransferMatrix(
            ["a", "b"],
            [[0, 1], [1, 0]] if field != "bwt" else square,
            **({} if field == "bwt" else {field: value}),
        )
    ok = TransferMatrix(["a", "b"], [[0, MAX_ABS_VALUE], [-MAX_ABS_VALUE, 0]])
    assert ok.bwt[0, 1] == MAX_ABS_VALUE
