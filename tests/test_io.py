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
    monkeypatch.setattr(taskorder_io, "MAX_SQUARE_CSV_BYTES", 10)
    with pytest.raises(InvalidMatrixError, match="MiB"):
        read_matrix(write(tmp_path, SQUARE))


def test_plain_square_csv_over_the_general_cap_is_read_by_numpy(tmp_path, monkeypatch):
    """Past MAX_FILE_BYTES only the numpy path reads a square CSV: a plain file is read,
    one the general parser would need (quoted names) is refused, naming the rule; JSON
    past the cap is refused before it is parsed."""
    m = random_matrix(6, 0)
    plain = write_matrix(m, tmp_path / "plain.csv")
    monkeypatch.setattr(taskorder_io, "MAX_FILE_BYTES", 100)
    np.testing.assert_array_equal(read_matrix(plain).bwt, m.bwt)
    quoted = write(tmp_path, SQUARE.replace("math", '"math"') + " " * 100, name="quoted.csv")
    with pytest.raises(InvalidMatrixError, match="read only as a plain square CSV"):
        read_matrix(quoted)
    with pytest.raises(InvalidMatrixError, match="MiB"):
        read_matrix(write(tmp_path, json.dumps(m.to_dict()), name="m.json"))
    with pytest.raises(InvalidMatrixError, match="read only as a plain square CSV"):
        read_matrix(write(tmp_path, json.dumps(m.to_dict()), name="json_inside.csv"))


def test_what_write_matrix_writes_reads_back_exactly(tmp_path, monkeypatch):
    """Full-precision floats round-trip through a square CSV (shortest repr, numpy
    reading), names needing quotes included; JSON or long CSV that read_matrix would
    refuse for its size is not written (the error says so and points to square CSV)."""
    rng = np.random.default_rng(3)
    values = rng.normal(size=(40, 40)) * 10.0 ** rng.integers(-8, 8, size=(40, 40))
    values[3, 5] = np.nan
    m = TransferMatrix([f"t{i}" for i in range(40)], values)
    path = write_matrix(m, tmp_path / "full.csv")
    np.testing.assert_array_equal(read_matrix(path).bwt, m.bwt)
    assert taskorder_io._parse_square_fast(path, path.read_text()) is not None
    odd = TransferMatrix(["a,b", 'say "hi"', "c"], values[:3, :3])
    back = read_matrix(write_matrix(odd, tmp_path / "odd.csv"))
    assert back.tasks == odd.tasks
    np.testing.assert_array_equal(back.bwt, odd.bwt)
    monkeypatch.setattr(taskorder_io, "MAX_FILE_BYTES", 1000)
    for name in ("m.json", "m_long.csv"):
        target = tmp_path / name
        fmt = "long" if name.endswith("long.csv") else None
        with pytest.raises(InvalidMatrixError, match="nothing was written"):
            write_matrix(m, target, format=fmt)
        assert not target.exists()


@pytest.mark.slow
def test_a_2000_task_full_precision_square_csv_reads_back(tmp_path):
    """About 83 MB of full-precision floats (over MAX_FILE_BYTES): written, read exactly."""
    values = np.random.default_rng(0).normal(size=(2000, 2000)) / 7.0
    m = TransferMatrix([f"task{i}" for i in range(2000)], values)
    path = write_matrix(m, tmp_path / "big.csv")
    assert path.stat().st_size > taskorder_io.MAX_FILE_BYTES
    np.testing.assert_array_equal(read_matrix(path).bwt, m.bwt)


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


# ---------------------------------------------------------- issue 15: readers and inputs
TWO = {"tasks": ["a", "b"], "bwt": [[None, 1.0], [2.0, None]]}


def json_text(**changes):
    return json.dumps({**TWO, **changes})


@pytest.mark.parametrize(
    "text, match",
    [
        ("[" * 100_000, "nested too deeply"),
        (
            '{"tasks": ["a", "b"], "bwt": [[null, ' + "9" * 5000 + "], [2, null]]}",
            r"'bwt\.0\.1' must be a finite number.*too large",
        ),
        (
            json_text(own_scores={"a": 1.0, "b": 2.0}).replace("2.0}", "1e400}"),
            r"'own_scores\.b' must be a finite number.*1e400",
        ),
        (json_text(own_scores=[1.0, 2.0]).replace("2.0]", "-1e400]"), r"'own_scores\.1'.*finite"),
        (json_text(imputed=[[True], [False, True]]), r"'imputed'.*lengths \[1, 2\]"),
        (
            json_text().replace("1.0", "NaN"),
            r"'bwt\.0\.1' must be a finite number.*null for a missing",
        ),
        (json_text().replace("1.0", "Infinity"), r"'bwt\.0\.1' must be a finite number"),
        (json_text(weights=[0, 0]), "at least one task a positive weight"),
        (json_text(weights={"a": 0.0, "b": 0.0}), "at least one task a positive weight"),
    ],
)
def test_json_reader_refuses_with_taskorder_errors(tmp_path, text, match):
    """Issue 15: each of these raised RecursionError/ValueError or was accepted before."""
    path = write(tmp_path, text, name="m.json")
    with pytest.raises(InvalidMatrixError, match=match) as info:
        read_matrix(path)
    assert str(path) in str(info.value)


def test_json_weights_zero_for_some_tasks_only_is_fine(tmp_path):
    m = read_matrix(write(tmp_path, json_text(weights={"a": 0.0}), name="m.json"))
    assert m.weights.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "text, name, match",
    [
        ("task,a,b\na,0.5,1\nb,2,\n", "bwt.csv", r"diagonal of 'bwt'.*bwt\['a', 'a'\] = 0\.5"),
        ("task,a,b\na,,1\nb,2,-3\n", "bwt.csv", r"bwt\['b', 'b'\] = -3"),
        (json_text(bwt=[[0.1, 1], [2, 0]]), "m.json", r"diagonal of 'bwt'.*bwt\['a', 'a'\] = 0\.1"),
        (json_text(forward=[[0, 1], [2, 7]]), "m.json", r"diagonal of 'forward'.*\['b', 'b'\] = 7"),
    ],
)
def test_nonzero_diagonal_is_refused_naming_the_cells(tmp_path, text, name, match):
    """Issue 15: a non-zero diagonal used to be silently replaced by 0."""
    with pytest.raises(InvalidMatrixError, match=match):
        read_matrix(write(tmp_path, text, name=name))


def test_zero_or_empty_diagonal_is_accepted(tmp_path):
    m = read_matrix(write(tmp_path, "task,a,b\na,0,1\nb,2,0.0\n"))
    assert m.bwt.tolist() == [[0.0, 1.0], [2.0, 0.0]]
    m = read_matrix(write(tmp_path, json_text(bwt=[[0, 1], [2, None]]), name="m.json"))
    assert m.bwt.tolist() == [[0.0, 1.0], [2.0, 0.0]]


@pytest.mark.parametrize(
    "csv_text, json_bwt",
    [
        ("task,a,b\na,,nan\nb,2,\n", "NaN"),
        ("task,a,b\na,,NaN\nb,2,\n", "NaN"),
        ("task,a,b\na,,inf\nb,2,\n", "Infinity"),
        ("task,a,b\na,,1e400\nb,2,\n", "1e400"),
    ],
)
def test_nan_and_infinity_follow_one_rule_in_csv_and_json(tmp_path, csv_text, json_bwt):
    """Issue 15: JSON NaN was read as missing while CSV nan was refused; now both refuse."""
    with pytest.raises(InvalidMatrixError, match="empty for a missing entry"):
        read_matrix(write(tmp_path, csv_text))
    json_path = write(tmp_path, json_text().replace("1.0", json_bwt), name="m.json")
    with pytest.raises(InvalidMatrixError, match="null for a missing entry"):
        read_matrix(json_path)
    # ... and a missing entry is written as nothing in both.
    assert read_matrix(write(tmp_path, "task,a,b\na,,\nb,2,\n")).missing() == [("a", "b")]
    assert read_matrix(
        write(tmp_path, json_text(bwt=[[None, None], [2, None]]), name="n.json")
    ).missing() == [("a", "b")]


@pytest.mark.parametrize(
    "header", ["source,value", "source,value,stderr", "target,value", "source,target"]
)
def test_long_csv_without_a_required_column(tmp_path, header):
    """Issue 15: a forced long CSV without 'target' raised KeyError."""
    path = write(tmp_path, header + "\na,1,0\nb,2,0\n")
    with pytest.raises(InvalidMatrixError, match=r"long CSV header.*\(no '"):
        read_matrix(path, format="long")


def test_long_csv_columns_in_any_order(tmp_path):
    path = write(tmp_path, "value,target,source\n0.5,b,a\n-1,a,b\n")
    m = read_matrix(path, format="long")
    assert m.tasks == ("a", "b") and m.bwt[0, 1] == 0.5 and m.bwt[1, 0] == -1


@pytest.mark.parametrize("cell", ["1_000", "\u0661", "0x10", "1e"])
def test_csv_numbers_are_plain_decimals(tmp_path, cell):
    """float() also takes '1_000' and non-ASCII digits; a matrix file should not."""
    with pytest.raises(InvalidMatrixError, match=f"must be a number.*{cell!r}"):
        read_matrix(write(tmp_path, f"task,a,b\na,,{cell}\nb,2,\n"))


@pytest.mark.parametrize(
    "text, match",
    [
        ("9" * 5000 + "\n1 2\n", r"expected n \(2\.\.5000\)"),
        ("\u00b2\n0 1\n1 0\n", r"expected n .*Got n = 0"),
        ("2\n0 nan\n1 0\n", r"finite numbers\. Got 'nan' at row 1, column 2"),
        ("2\n0 1\n1e400 0\n", r"Got '1e400' at row 2, column 1"),
    ],
)
def test_lolib_reader_refuses_with_taskorder_errors(tmp_path, text, match):
    """Issue 15 (same holes in the LOLIB reader): huge n raised ValueError, nan was missing."""
    with pytest.raises(InvalidMatrixError, match=match):
        taskorder_io.read_lolib(write(tmp_path, text, name="inst"))


_TRICKY_CELLS = [
    "",
    " ",
    "1",
    "-0.5",
    "+.5",
    "1.",
    "1e5",
    "1E-3",
    "1e400",
    "1e",
    "--1",
    "1.2.3",
    "1 2",
    " 3 ",
    "nan",
    "inf",
    "1_0",
    "e",
    ".",
    "+",
    "0x1",
    "2,5",
]


@pytest.mark.parametrize("seed", range(40))
def test_numpy_fast_path_agrees_with_the_general_parser(tmp_path, seed, monkeypatch):
    """The plain square-CSV fast path gives the general parser's values, or leaves the
    file to it (same message); cells are drawn from numbers and near-misses."""
    rng = np.random.default_rng(seed)
    n_tasks = int(rng.integers(2, 6))
    names = [f"t{i}" for i in range(n_tasks)]
    lines = ["task," + ",".join(names)]
    for i, name in enumerate(names):
        cells = ["" if i == j else f"{rng.normal():.3g}" for j in range(n_tasks)]
        for _ in range(int(rng.integers(0, 3))):
            cells[int(rng.integers(n_tasks))] = str(rng.choice(_TRICKY_CELLS))
        lines.append(name + "," + ",".join(cells))
    path = write(tmp_path, "\n".join(lines) + "\n" * int(rng.integers(0, 2)))
    try:
        fast = ("matrix", read_matrix(path).bwt)
    except InvalidMatrixError as error:
        fast = ("error", str(error))
    monkeypatch.setattr(taskorder_io, "_parse_square_fast", lambda path, text: None)
    try:
        general = ("matrix", read_matrix(path).bwt)
    except InvalidMatrixError as error:
        general = ("error", str(error))
    assert fast[0] == general[0]
    if fast[0] == "matrix":
        np.testing.assert_array_equal(fast[1], general[1])
    else:
        assert fast[1] == general[1]


def test_numpy_fast_path_reads_a_plain_file(tmp_path):
    m = random_matrix(30, 0)
    path = tmp_path / "bwt.csv"
    write_matrix(m, path)
    text = path.read_text()
    fast = taskorder_io._parse_square_fast(path, text)
    assert fast is not None and fast.tasks == m.tasks
    np.testing.assert_array_equal(fast.bwt, read_matrix(path).bwt)
    np.testing.assert_allclose(np.nan_to_num(fast.bwt), np.nan_to_num(m.bwt))
