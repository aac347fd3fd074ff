"""The NumPy ``.npz`` matrix format: exact round trip, every refusal, the CLI, the speed."""

from __future__ import annotations

import io
import json
import random
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import taskorder.io as taskorder_io
from taskorder import TransferMatrix
from taskorder.cli import app
from taskorder.exceptions import InvalidMatrixError, TaskorderError
from taskorder.io import read_matrix, write_matrix

EXAMPLE = Path(__file__).parents[1] / "examples" / "four_domains.csv"
TASKS = np.array(["math", "code", "poetry"])
ZERO = np.zeros((3, 3))


def full_matrix(n_tasks: int = 4, seed: int = 0) -> TransferMatrix:
    """A matrix with every extra, some missing entries and NaN own scores."""
    rng = np.random.default_rng(seed)
    off = ~np.eye(n_tasks, dtype=bool)
    bwt = rng.normal(size=(n_tasks, n_tasks)) / 3
    bwt[0, 1] = bwt[2, 0] = np.nan
    own = rng.random(n_tasks)
    own[1] = np.nan
    return TransferMatrix(
        [f"task {k} é" for k in range(n_tasks)],
        bwt,
        forward=rng.normal(size=(n_tasks, n_tasks)),
        bwt_stderr=np.abs(rng.normal(size=(n_tasks, n_tasks))),
        forward_stderr=np.abs(rng.normal(size=(n_tasks, n_tasks))),
        weights=rng.random(n_tasks) + 0.1,
        own_scores=own,
        imputed=off & (rng.random((n_tasks, n_tasks)) < 0.5),
    )


def savez(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


# ------------------------------------------------------------------------ round trip
def test_round_trip_with_every_extra_is_bit_identical(tmp_path):
    matrix = full_matrix()
    path = write_matrix(matrix, tmp_path / "m.npz")
    back = read_matrix(path)
    assert back == matrix
    assert back.tasks == matrix.tasks
    for name in ("bwt", "forward", "bwt_stderr", "forward_stderr", "weights", "own_scores"):
        assert getattr(back, name).tobytes() == getattr(matrix, name).tobytes(), name
    assert np.array_equal(back.imputed, matrix.imputed)
    assert back.missing() == matrix.missing() and len(matrix.missing()) == 2


def test_written_arrays_are_the_fields_uncompressed(tmp_path):
    path = write_matrix(full_matrix(), tmp_path / "m.npz")
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert all(info.compress_type == zipfile.ZIP_STORED for info in infos)
    names = sorted(info.filename.removesuffix(".npy") for info in infos)
    assert names == sorted(
        ["sign_convention", "tasks", "bwt", "forward", "bwt_stderr", "forward_stderr"]
        + ["weights", "own_scores", "imputed"]
    )
    plain = write_matrix(TransferMatrix(["a", "b"], [[0, 1], [2, 0]]), tmp_path / "plain.npz")
    assert sorted(np.load(plain).files) == ["bwt", "sign_convention", "tasks", "weights"]


def test_suffix_any_case_forced_format_and_zip_signature(tmp_path):
    matrix = full_matrix()
    upper = write_matrix(matrix, tmp_path / "m.NPZ")
    assert read_matrix(upper) == matrix
    forced = write_matrix(matrix, tmp_path / "m.bin", format="npz")
    assert forced == tmp_path / "m.bin" and not (tmp_path / "m.bin.npz").exists()
    assert read_matrix(forced, format="npz") == matrix
    assert read_matrix(forced) == matrix  # no suffix: a zip archive is read as .npz


def test_numpy_written_file_with_ints_nan_diagonal_and_missing(tmp_path):
    bwt = np.array([[np.nan, 1.5, np.nan], [2.0, 0.0, -1.0], [3.0, 4.0, np.nan]])
    matrix = read_matrix(savez(tmp_path / "m.npz", tasks=TASKS, bwt=bwt))
    assert matrix.missing() == [("math", "poetry")]
    assert np.diagonal(matrix.bwt).tolist() == [0.0, 0.0, 0.0]
    ints = np.array([[0, 1, 2], [3, 0, 4], [5, 6, 0]], dtype=np.int32)
    weights = np.array([1, 2, 3], dtype=np.uint8)
    matrix = read_matrix(savez(tmp_path / "i.npz", tasks=TASKS, bwt=ints, weights=weights))
    assert matrix.bwt.dtype == np.float64 and matrix.bwt[2, 1] == 6.0
    assert matrix.weights.tolist() == [1.0, 2.0, 3.0]


def test_compressed_npz_is_read_too(tmp_path):
    matrix = full_matrix()
    path = tmp_path / "c.npz"
    np.savez_compressed(path, tasks=np.array(matrix.tasks), bwt=matrix.bwt)
    assert read_matrix(path).bwt.tobytes() == matrix.bwt.tobytes()


# ------------------------------------------------------------------------ refusals
BAD_ARRAYS = [
    ("missing tasks", {"bwt": ZERO}, "'tasks'", "no array"),
    ("missing bwt", {"tasks": TASKS}, "'bwt'", "no array"),
    ("unknown array", {"tasks": TASKS, "bwt": ZERO, "extra": ZERO}, "'extra'", "'bwt_stderr'"),
    ("bwt shape", {"tasks": TASKS, "bwt": np.zeros((3, 2))}, "'bwt'", "Got shape (3, 2)"),
    ("bwt 1-D", {"tasks": TASKS, "bwt": np.zeros(9)}, "'bwt'", "shape (3, 3)"),
    ("bwt text", {"tasks": TASKS, "bwt": np.full((3, 3), "x")}, "'bwt'", "dtype <U1"),
    ("bwt complex", {"tasks": TASKS, "bwt": ZERO + 0j}, "'bwt'", "dtype complex128"),
    ("bwt bool", {"tasks": TASKS, "bwt": ZERO > 0}, "'bwt'", "dtype bool"),
    ("bwt inf", {"tasks": TASKS, "bwt": np.where(np.eye(3) > 0, 0, np.inf)}, "'bwt'", "inf"),
    ("bwt diagonal", {"tasks": TASKS, "bwt": np.eye(3)}, "'bwt'", "diagonal"),
    ("forward diagonal", {"tasks": TASKS, "bwt": ZERO, "forward": np.eye(3)}, "'forward'", "= 1"),
    (
        "forward shape",
        {"tasks": TASKS, "bwt": ZERO, "forward": np.zeros((2, 2))},
        "'forward'",
        "(3, 3)",
    ),
    ("tasks 2-D", {"tasks": TASKS.reshape(3, 1), "bwt": ZERO}, "'tasks'", "Got shape (3, 1)"),
    ("tasks numbers", {"tasks": np.arange(3), "bwt": ZERO}, "'tasks'", "dtype int64"),
    ("tasks bytes", {"tasks": TASKS.astype("S"), "bwt": ZERO}, "'tasks'", "dtype |S6"),
    ("one task", {"tasks": TASKS[:1], "bwt": ZERO[:1, :1]}, "'tasks'", "Got shape (1,)"),
    ("tasks repeat", {"tasks": np.array(["a", "b", "a"]), "bwt": ZERO}, "'tasks'", "unique"),
    ("tasks empty", {"tasks": np.array(["a", "", "c"]), "bwt": ZERO}, "'tasks'", "Position 2"),
    ("weights shape", {"tasks": TASKS, "bwt": ZERO, "weights": np.ones(4)}, "'weights'", "(4,)"),
    (
        "weights zero",
        {"tasks": TASKS, "bwt": ZERO, "weights": np.zeros(3)},
        "'weights'",
        "positive",
    ),
    (
        "weights negative",
        {"tasks": TASKS, "bwt": ZERO, "weights": -np.ones(3)},
        "'weights'",
        "non-negative",
    ),
    (
        "own inf",
        {"tasks": TASKS, "bwt": ZERO, "own_scores": np.full(3, np.inf)},
        "'own_scores'",
        "inf",
    ),
    ("imputed floats", {"tasks": TASKS, "bwt": ZERO, "imputed": ZERO}, "'imputed'", "booleans"),
    (
        "stderr negative",
        {"tasks": TASKS, "bwt": ZERO, "bwt_stderr": -1 + np.eye(3)},
        "'bwt_stderr'",
        "non-negative",
    ),
    ("note number", {"tasks": TASKS, "bwt": ZERO, "note": np.array(1.0)}, "'note'", "unicode"),
]


@pytest.mark.parametrize(
    "arrays, array, fragment",
    [case[1:] for case in BAD_ARRAYS],
    ids=[case[0] for case in BAD_ARRAYS],
)
def test_each_problem_names_the_file_and_the_array(tmp_path, arrays, array, fragment):
    path = savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InvalidMatrixError) as caught:
        read_matrix(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert array in message and fragment in message, message


def test_a_zip_member_that_is_not_an_npy_array_is_unknown(tmp_path):
    path = savez(tmp_path / "m.npz", tasks=TASKS, bwt=ZERO)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InvalidMatrixError, match="'readme.txt' \\(not an .npy file\\)"):
        read_matrix(path)


def test_an_array_stored_twice_is_refused(tmp_path):
    path = savez(tmp_path / "m.npz", tasks=TASKS, bwt=ZERO)
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("bwt.npy", b"")
    with pytest.raises(InvalidMatrixError, match="array 'bwt' twice"):
        read_matrix(path)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"task,a,b\na,,1\nb,2,\n", "does not start like a zip archive (first bytes b'task,a,b'"),
        (b"", "does not start like a zip archive (first bytes b'')"),
        (b"PK\x03\x04 and then nothing", "could not open it as one"),
    ],
    ids=["csv text", "empty", "broken zip"],
)
def test_a_file_that_is_not_an_npz_archive(tmp_path, content, fragment):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    with pytest.raises(InvalidMatrixError, match=f"^{path}: expected an .npz archive") as caught:
        read_matrix(path)
    assert fragment in str(caught.value)


def test_truncated_and_corrupted_files(tmp_path):
    data = write_matrix(full_matrix(), tmp_path / "m.npz").read_bytes()
    truncated = tmp_path / "t.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidMatrixError, match=f"^{truncated}: expected an .npz archive"):
        read_matrix(truncated)
    position = data.index(b"\x93NUMPY", data.index(b"bwt.npy")) + 200  # inside bwt's data
    corrupted = tmp_path / "c.npz"
    corrupted.write_bytes(data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :])
    with pytest.raises(InvalidMatrixError, match=f"^{corrupted}: array 'bwt'.*CRC"):
        read_matrix(corrupted)


def test_a_single_npy_array_is_not_a_matrix(tmp_path):
    path = tmp_path / "m.npz"
    with path.open("wb") as handle:
        np.save(handle, ZERO)
    with pytest.raises(InvalidMatrixError, match="got a single .npy array of shape \\(3, 3\\)"):
        read_matrix(path)


_UNPICKLED: list[str] = []


def _unpickle_marker(text: str) -> str:
    _UNPICKLED.append(text)
    return text


class _Payload:
    def __reduce__(self):
        return _unpickle_marker, ("unpickled",)


def test_an_object_array_is_refused_without_unpickling(tmp_path):
    tasks = np.array([_Payload(), "code", "poetry"], dtype=object)
    path = savez(tmp_path / "pickle.npz", tasks=tasks, bwt=ZERO)
    with pytest.raises(InvalidMatrixError) as caught:
        read_matrix(path)
    assert str(path) in str(caught.value) and "'tasks'" in str(caught.value)
    assert "dtype object" in str(caught.value)
    assert _UNPICKLED == []
    np.load(path, allow_pickle=True)["tasks"]  # the payload is real: numpy would unpickle it
    assert _UNPICKLED == ["unpickled"]


def test_size_limits_on_the_file_and_on_the_decompressed_arrays(tmp_path, monkeypatch):
    path = write_matrix(full_matrix(), tmp_path / "m.npz")
    monkeypatch.setattr(taskorder_io, "MAX_NPZ_BYTES", path.stat().st_size - 1)
    with pytest.raises(InvalidMatrixError, match=f"^{path}: the file is .* MiB; .npz matrix"):
        read_matrix(path)
    bomb = tmp_path / "bomb.npz"
    names = np.array([f"t{k}" for k in range(100)])
    np.savez_compressed(bomb, tasks=names, bwt=np.zeros((100, 100)))  # 80 kB, 1 kB compressed
    monkeypatch.setattr(taskorder_io, "MAX_NPZ_BYTES", bomb.stat().st_size + 10)
    with pytest.raises(InvalidMatrixError, match="once decompressed"):
        read_matrix(bomb)


def test_write_refuses_a_file_read_would_refuse(tmp_path, monkeypatch):
    monkeypatch.setattr(taskorder_io, "MAX_NPZ_BYTES", 1000)
    target = tmp_path / "m.npz"
    with pytest.raises(InvalidMatrixError, match="nothing was written"):
        write_matrix(full_matrix(), target)
    assert not target.exists()


def test_a_task_name_numpy_cannot_store_is_refused(tmp_path):
    target = tmp_path / "m.npz"
    with pytest.raises(InvalidMatrixError, match="NUL"):
        write_matrix(TransferMatrix(["a\x00", "b"], [[0, 1], [2, 0]]), target)
    assert not target.exists()


def test_unknown_format_lists_npz(tmp_path):
    for call in (
        lambda: read_matrix(EXAMPLE, format="xml"),
        lambda: write_matrix(full_matrix(), tmp_path / "x.csv", format="xml"),
    ):
        with pytest.raises(InvalidMatrixError, match="'json' or 'npz'. Got 'xml'"):
            call()


def test_mutated_files_raise_only_taskorder_errors(tmp_path):
    matrix = full_matrix()
    stored = write_matrix(matrix, tmp_path / "stored.npz").read_bytes()
    np.savez_compressed(tmp_path / "deflated.npz", tasks=np.array(matrix.tasks), bwt=matrix.bwt)
    deflated = (tmp_path / "deflated.npz").read_bytes()
    rng = random.Random(0)
    outcomes = {"matrix": 0, "error": 0}
    for k in range(400):
        mutated = bytearray(stored if k % 2 else deflated)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        if k % 5 == 0:
            mutated = mutated[: rng.randrange(len(mutated))]
        path = tmp_path / f"fuzz{k}.npz"
        path.write_bytes(bytes(mutated))
        try:
            read_matrix(path)
        except TaskorderError:
            outcomes["error"] += 1
        else:
            outcomes["matrix"] += 1
        path.unlink()
    assert outcomes["error"] > 0, outcomes


# ------------------------------------------------------------------------ CLI
runner = CliRunner()


def test_cli_solve_reads_npz_like_the_csv(tmp_path):
    path = write_matrix(read_matrix(EXAMPLE), tmp_path / "four.npz")
    from_csv = runner.invoke(app, ["solve", str(EXAMPLE), "--json"])
    from_npz = runner.invoke(app, ["solve", str(path), "--json"])
    assert from_npz.exit_code == 0, from_npz.stderr
    csv_data, npz_data = json.loads(from_csv.stdout), json.loads(from_npz.stdout)
    assert npz_data["order"] == csv_data["order"]
    assert npz_data["objective"] == csv_data["objective"]


def test_cli_broken_npz_exits_1_with_one_line(tmp_path):
    path = savez(tmp_path / "broken.npz", tasks=TASKS, bwt=np.zeros((3, 2)))
    for command in (["solve", str(path)], ["predict", str(path), "--order", "math,code,poetry"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1, result.stdout
        assert result.stderr.startswith("taskorder: error: ")
        assert result.stderr.count("\n") == 1
        assert str(path) in result.stderr and "'bwt'" in result.stderr
        assert "Traceback" not in result.stdout + result.stderr


# ------------------------------------------------------------------------ speed
@pytest.mark.slow
def test_npz_reads_at_least_ten_times_faster_than_square_csv(tmp_path):
    rng = np.random.default_rng(0)
    matrix = TransferMatrix([f"t{k}" for k in range(2000)], rng.normal(size=(2000, 2000)))
    csv_path = write_matrix(matrix, tmp_path / "m.csv")
    npz_path = write_matrix(matrix, tmp_path / "m.npz")

    def best_of(path: Path, repeats: int) -> float:
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            read_matrix(path)
            times.append(time.perf_counter() - began)
        return min(times)

    csv_s, npz_s = best_of(csv_path, 2), best_of(npz_path, 5)
    assert read_matrix(npz_path).bwt.tobytes() == read_matrix(csv_path).bwt.tobytes()
    assert csv_s >= 10 * npz_s, f"square CSV {csv_s:.3f} s, npz {npz_s:.3f} s"


def test_written_bytes_are_a_plain_numpy_archive(tmp_path):
    """What is written is readable by numpy alone, without taskorder (no pickles)."""
    matrix = full_matrix()
    buffer = io.BytesIO(write_matrix(matrix, tmp_path / "m.npz").read_bytes())
    with np.load(buffer, allow_pickle=False) as archive:
        assert archive["tasks"].tolist() == list(matrix.tasks)
        assert archive["bwt"].tobytes() == matrix.bwt.tobytes()
        assert str(archive["sign_convention"]).startswith("bwt[i, j]")


def test_cli_note_on_a_limit_used_up_by_reading_points_to_npz(tmp_path):
    rng = np.random.default_rng(0)
    matrix = TransferMatrix([f"t{k}" for k in range(40)], rng.normal(size=(40, 40)))
    path = write_matrix(matrix, tmp_path / "m.csv")
    result = runner.invoke(app, ["solve", str(path), "--time-limit", "0.001", "--json"])
    assert result.exit_code == 0, result.stderr
    assert "of the 0.001 s time limit" in result.stderr
    assert ".npz is the fastest matrix format to read" in " ".join(result.stderr.split())
