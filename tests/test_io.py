"""Reading and writing matrices, and every kind of malformed file."""

import json

import numpy as np
import pytest

from taskorder import InvalidMatrixError, TransferMatrix, read_matrix, write_matrix
from taskorder import io as taskorder_io

from tests.instances import random_matrix

SQUARE = "task,math,code,poetry\nmath,,0.1,-0.2\ncode,0.05,,-0.3\npoetry,0.0,0.02,\n"


def write(tmp_path, text, name="bwt.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_square_csv(tmp_path):
    m = read_matrix(write(tmp_path, SQUARE))
    assert m.tasks == ("math", "code", "poetry")
    assert m.bwt[0, 2] == -0.2 and m.bwt[1, 0] == 0.05


def test_bom_and_semicolon_with_decimal_comma(tmp_path):
    text = SQUARE.replace(",", ";").replace("0.", "0,").replace("-0,", "-0,")
    m = read_matrix(write(tmp_path, "\ufeff" + text))
    assert m.tasks[0] == "math"
    assert m.bwt[1, 2] == -0.3


def test_empty_off_diagonal_cell_is_missing(tmp_path):
    m = read_matrix(write(tmp_path, SQUARE.replace("math,,0.1", "math,,")))
    assert m.missing() == [("math", "code")]


@pytest.mark.parametrize("fmt, suffix", [("square", ".csv"), ("long", ".csv"), ("json", ".json")])
def test_roundtrip(tmp_path, fmt, suffix):
    m = random_matrix(5, 0)
    if fmt != "square":
        m = m.replace(bwt_stderr=np.full((5, 5), 0.01), forward=np.full((5, 5), 0.2))
    if fmt == "json":
        m = m.replace(weights=np.arange(1, 6), own_scores=np.linspace(0, 1, 5))
    path = write_matrix(m, tmp_path / f"m{suffix}", format=fmt)
    assert read_matrix(path) == m


def test_long_csv_with_missing_pair(tmp_path):
    text = "source,target,value,stderr\na,b,-0.1,0.01\nb,a,0.2,0.02\nb,c,0.1,0.01\nc,a,0,0\nc,b,0.3,0.05\n"
    m = read_matrix(write(tmp_path, text))
    assert m.tasks == ("a", "b", "c")
    assert m.bwt[0, 1] == -0.1 and m.bwt_stderr[2, 1] == 0.05
    assert m.missing() == [("a", "c")]


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("task,a\na,\n", "at least 2 task names"),
        ("task,a,b\na,,1\n", "2 data rows"),
        ("task,a,b\na,,1\nb,1\n", r"row 3 \('b'\) must have 3 cells"),
        ("task,a,b\na,,1\nc,1,\n", "Row 3 is named 'c' where the header has 'b'"),
        ("task,a,a\na,,1\na,1,\n", "unique.*'a'"),
        ("task,a,b\na,,x\nb,1,\n", r"row 2 \('a'\), column 3 \('b'\) must be a number.*'x'"),
        ("task,a,b\na,,nan\nb,1,\n", "finite"),
        ("task,a,b\na,,inf\nb,1,\n", "finite"),
        ("task,a,\na,,1\nb,1,\n", "needs a name"),
        ("source,target,value\na,a,1\n", "itself"),
        ("source,target,value\na,b,1\na,b,2\n", "appears twice"),
        ("source,target,value,colour\na,b,1,red\n", "long CSV header"),
    ],
)
def test_malformed_csv_messages_name_file_and_place(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(InvalidMatrixError, match=match) as info:
        read_matrix(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "data, match",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"tasks": ["a", "b"]}), "'bwt'"),
        (json.dumps({"tasks": ["a", "b"], "bwt": [[0, 1], [1, 0]], "colour": 1}), "'colour'"),
        (json.dumps({"tasks": ["a", "b"], "bwt": [[0, 1], [1]]}), "shape"),
        (json.dumps({"tasks": ["a", "b"], "bwt": [[0, "x"], [1, 0]]}), "bwt"),
    ],
)
def test_malformed_json(tmp_path, data, match):
    path = write(tmp_path, data, name="m.json")
    with pytest.raises(InvalidMatrixError, match=match) as info:
        read_matrix(path)
    assert str(path) in str(info.value)


def test_missing_file_directory_binary_and_huge(tmp_path, monkeypatch):
    with pytest.raises(InvalidMatrixError, match="no such file"):
        read_matrix(tmp_path / "nope.csv")
    with pytest.raises(InvalidMatrixError, match="directory"):
        read_matrix(tmp_path)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(InvalidMatrixError, match="binary"):
        read_matrix(binary)
    latin = tmp_path / "l.csv"
    latin.write_bytes("task,é,b\n".encode("latin-1"))
    with pytest.raises(InvalidMatrixError, match="UTF-8"):
        read_matrix(latin)
    monkeypatch.setattr(taskorder_io, "MAX_FILE_BYTES", 10)
    with pytest.raises(InvalidMatrixError, match="MiB"):
        read_matrix(write(tmp_path, SQUARE))


def test_too_many_tasks(tmp_path, monkeypatch):
    monkeypatch.setattr(taskorder_io, "MAX_TASKS", 2)
    with pytest.raises(InvalidMatrixError, match="at most 2"):
        read_matrix(write(tmp_path, SQUARE))


def test_write_rejects_unknown_format(tmp_path):
    with pytest.raises(InvalidMatrixError, match="'format'"):
        write_matrix(random_matrix(3, 0), tmp_path / "x.csv", format="xml")


def test_single_task_is_rejected():
    with pytest.raises(InvalidMatrixError, match="at least 2"):
        TransferMatrix(["only"], [[0]])
