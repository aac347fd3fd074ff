"""Read and write transfer matrices: labelled square CSV, long CSV, JSON and NumPy ``.npz``.

Formats
-------
*Square CSV*: the header row and the first column hold the task names, in the same
order; cell (row ``i``, column ``j``) is ``bwt[i, j]`` (see
:data:`taskorder.SIGN_CONVENTION`). The top-left cell is free text. Diagonal cells may
be empty or 0; any other diagonal value is refused (the diagonal carries no meaning,
so a value there usually means a shifted or transposed table). An empty off-diagonal
cell is a missing entry. A ``;`` delimiter (with a decimal comma) and a UTF-8
byte-order mark are accepted.

*Long CSV*: a header ``source,target,value`` with optional ``stderr``, ``forward`` and
``forward_stderr`` columns; one row per ordered pair, ``source`` trained first,
``value = bwt[source, target]``. Pairs not listed are missing.

*JSON*: the object written by :meth:`TransferMatrix.to_dict` (keys ``tasks``, ``bwt``
and optionally ``forward``, ``bwt_stderr``, ``forward_stderr``, ``weights``,
``own_scores``, ``imputed``); ``null`` is a missing entry. Diagonal cells must be
``null`` or 0. ``weights`` may not all be 0.

*NPZ*: a NumPy archive as :func:`numpy.savez` writes it (a zip of ``.npy`` arrays), with
the fields of the JSON format as arrays: ``tasks`` (1-D unicode strings) and ``bwt``
(``n x n``) are required; ``forward``, ``bwt_stderr``, ``forward_stderr`` (``n x n``),
``weights``, ``own_scores`` (``n``), ``imputed`` (``n x n`` booleans) and the texts
``sign_convention`` and ``note`` are optional. Numbers may be floats or integers; NaN is
a missing entry (the one format where it is); a diagonal cell must be NaN or 0. Binary,
so reading it costs no parsing: the format for large matrices under a time limit. Files
are read with ``allow_pickle=False``: an object array is refused from its header, before
any of its data is read.

Missing entries and NaN
-----------------------
One rule for every format: a missing entry is written as *nothing* (an empty CSV cell,
JSON ``null``; NaN in ``.npz``, which has no other way). The literals ``nan``/``NaN`` and ``inf``/``Infinity``, and numbers too
large for a 64-bit float (``1e400``), are refused with a message that says where, in
CSV and JSON alike. Every problem with a file raises
:class:`~taskorder.exceptions.InvalidMatrixError` (never another exception), including
JSON nested too deeply and integers with thousands of digits.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from taskorder.exceptions import InvalidMatrixError
from taskorder.json_matrix import check_diagonal, parse_json
from taskorder.matrix import MAX_TASKS, SIGN_CONVENTION, TransferMatrix, first_repeat

__all__ = [
    "MATRIX_FORMATS",
    "MAX_FILE_BYTES",
    "MAX_NPZ_BYTES",
    "MAX_SQUARE_CSV_BYTES",
    "MAX_TASKS",
    "matrix_from_dict",
    "read_lolib",
    "read_matrix",
    "write_matrix",
]

#: Files larger than this are refused before they are read, but for plain square CSV.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: A plain square CSV (comma-separated, names unquoted, decimal numbers or empty cells:
#: what :func:`write_matrix` writes) may be this large; it is read by numpy only. A
#: full-precision matrix of :data:`~taskorder.matrix.MAX_TASKS` tasks (at most 24 bytes a
#: cell) fits, so every square CSV taskorder writes is one taskorder reads.
MAX_SQUARE_CSV_BYTES = 640 * 1024 * 1024
#: An ``.npz`` matrix file may be this large, and so may its arrays together once
#: decompressed. A matrix of :data:`~taskorder.matrix.MAX_TASKS` tasks with every extra
#: (four float squares and the imputed mask: 33 bytes a cell, 787 MiB) fits with room for
#: the names, so every ``.npz`` :func:`write_matrix` writes is one :func:`read_matrix` reads
#: (it refuses to write a larger one).
MAX_NPZ_BYTES = 1024 * 1024 * 1024
#: The values of the ``format`` parameter of :func:`read_matrix` and :func:`write_matrix`.
MATRIX_FORMATS = ("square", "long", "json", "npz")

_LONG_REQUIRED = ("source", "target", "value")
_LONG_OPTIONAL = ("stderr", "forward", "forward_stderr")
_LOLIB_SIZE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = {"nan", "inf", "infinity"}


def matrix_from_dict(data) -> TransferMatrix:
    """Validate a JSON-like mapping and build a matrix (:meth:`TransferMatrix.from_dict`)."""
    return TransferMatrix.from_dict(data)


def read_matrix(path: str | Path, *, format: str | None = None) -> TransferMatrix:
    """Read a transfer matrix from ``path``.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (square or long, detected from the header), ``.json`` or ``.npz``
        file (a file that starts as a zip archive is read as ``.npz`` too).
    format : {"square", "long", "json", "npz"}, optional
        Force a format instead of detecting it.

    Returns
    -------
    TransferMatrix

    Raises
    ------
    InvalidMatrixError
        If the file is missing, empty, too large or malformed; the message names the
        file, the row and column (or the ``.npz`` array), what was expected and what was
        found.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "bwt.csv")
    >>> _ = open(path, "w").write("task,math,poetry\\nmath,,-0.2\\npoetry,0.05,\\n")
    >>> read_matrix(path).bwt.tolist()
    [[0.0, -0.2], [0.05, 0.0]]
    >>> path = write_matrix(read_matrix(path), os.path.join(folder, "bwt.npz"))
    >>> read_matrix(path).bwt.tolist()
    [[0.0, -0.2], [0.05, 0.0]]
    """
    path = Path(path)
    if format is not None and format not in MATRIX_FORMATS:
        raise InvalidMatrixError(_format_message("read_matrix", format))
    if format is None and (path.suffix.lower() == ".npz" or _starts_as_zip(path)):
        format = "npz"
    if format == "npz":
        return _with_path(path, _read_npz, path)
    may_be_square = format in (None, "square") and path.suffix.lower() != ".json"
    text = _read_text(path, MAX_SQUARE_CSV_BYTES if may_be_square else MAX_FILE_BYTES)
    if format is None:
        format = _detect_format(path, text)
    return _with_path(path, _parse_text, path, text, format)


def _parse_text(path: Path, text: str, format: str) -> TransferMatrix:
    """The matrix in ``text`` (read from ``path``) in a text ``format``."""
    fast = _parse_square_fast(path, text) if format == "square" else None
    if fast is not None:
        return fast
    if len(text) > MAX_FILE_BYTES:
        raise InvalidMatrixError(
            f"{path}: the file is {len(text) / 2**20:.1f} MiB; files over "
            f"{MAX_FILE_BYTES // 2**20} MiB are read only as a plain square CSV (comma "
            "delimiter, unquoted task names, decimal numbers or empty cells, as "
            "write_matrix writes it) or as .npz."
        )
    if format == "json":
        return TransferMatrix.from_dict(parse_json(path, text))
    rows, delimiter = _parse_csv(path, text)
    if format == "long":
        return _parse_long(path, rows, delimiter)
    return _parse_square(path, rows, delimiter)


def _with_path(path: Path, read, *args) -> TransferMatrix:
    """``read(*args)``, its :class:`InvalidMatrixError` always starting with ``path``."""
    try:
        return read(*args)
    except InvalidMatrixError as error:
        if str(error).startswith(f"{path}: "):
            raise
        # Raised by TransferMatrix itself: say which file.
        raise type(error)(f"{path}: {error}") from None


def _format_message(owner: str, format: object) -> str:
    names = ", ".join(repr(name) for name in MATRIX_FORMATS[:-1])
    return (
        f"The 'format' parameter of {owner} must be {names} or {MATRIX_FORMATS[-1]!r}. "
        f"Got {format!r}."
    )


def write_matrix(matrix: TransferMatrix, path: str | Path, *, format: str | None = None) -> Path:
    """Write ``matrix`` to ``path`` as square CSV (default for ``.csv``), long CSV, JSON or NPZ.

    Square CSV holds ``bwt`` only; use JSON, NPZ or long CSV to keep the extras.
    Missing entries are written as empty cells (CSV), ``null`` (JSON) or NaN (NPZ).
    NPZ (:func:`numpy.savez`, uncompressed) is the fast one to read back, and exact: the
    floats read back bit for bit.

    Parameters
    ----------
    matrix : TransferMatrix
        The matrix to write.
    path : str or Path
        Destination file; missing parent folders are created and an existing file is
        overwritten.
    format : {"square", "long", "json", "npz"}, optional
        Default: ``"json"`` when ``path`` ends in ``.json`` (any case), ``"npz"`` when it
        ends in ``.npz``, ``"square"`` otherwise.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path` (no ``.npz`` is added to it).

    Raises
    ------
    InvalidMatrixError
        For an unknown ``format``, a JSON or long CSV text larger than
        :data:`MAX_FILE_BYTES` or an NPZ file larger than :data:`MAX_NPZ_BYTES` (which
        :func:`read_matrix` would refuse; nothing is written then). A square CSV is always
        readable (:data:`MAX_SQUARE_CSV_BYTES`).
    """
    path = Path(path)
    if format is None:
        format = {".json": "json", ".npz": "npz"}.get(path.suffix.lower(), "square")
    if format not in MATRIX_FORMATS:
        raise InvalidMatrixError(_format_message("write_matrix", format))
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "json":
        _write_readable(path, json.dumps(matrix.to_dict(), indent=2) + "\n", "JSON")
        return path
    if format == "npz":
        _write_npz(matrix, path)
        return path
    if format == "square":
        path.write_text("".join(_square_lines(matrix)), encoding="utf-8")
        return path

    def cell(value: float) -> str:
        return "" if math.isnan(value) else repr(float(value))

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    extras = [
        name
        for name, array in (
            ("stderr", matrix.bwt_stderr),
            ("forward", matrix.forward),
            ("forward_stderr", matrix.forward_stderr),
        )
        if array is not None
    ]
    writer.writerow([*_LONG_REQUIRED, *extras])
    arrays = {
        "stderr": matrix.bwt_stderr,
        "forward": matrix.forward,
        "forward_stderr": matrix.forward_stderr,
    }
    for i, source in enumerate(matrix.tasks):
        for j, target in enumerate(matrix.tasks):
            if i != j and not math.isnan(matrix.bwt[i, j]):
                extra_cells = [cell(arrays[name][i, j]) for name in extras]
                writer.writerow([source, target, cell(matrix.bwt[i, j]), *extra_cells])
    _write_readable(path, buffer.getvalue(), "long CSV")
    return path


def _write_readable(path: Path, text: str, what: str) -> None:
    """Write ``text`` to ``path`` unless read_matrix would refuse it for its size."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise InvalidMatrixError(
            f"{path}: this matrix as {what} would take {size / 2**20:.1f} MiB, and "
            f"read_matrix accepts {what} files up to {MAX_FILE_BYTES // 2**20} MiB; nothing "
            "was written. Write a square CSV (bwt only, read up to "
            f"{MAX_SQUARE_CSV_BYTES // 2**20} MiB) instead."
        )
    path.write_text(text, encoding="utf-8")


def _square_lines(matrix: TransferMatrix):
    """The lines of a square CSV: names quoted as ``csv`` would, numbers by ``repr``
    (the shortest text that reads back as the same float), empty diagonal and missing."""

    def field(name: str) -> str:
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow([name, ""])
        return out.getvalue()[:-1]

    names = [field(task) for task in matrix.tasks]
    yield ",".join([field("task"), *names]) + "\n"
    for i, row in enumerate(matrix.bwt.tolist()):
        cells = ["" if value != value else repr(value) for value in row]
        cells[i] = ""
        yield names[i] + "," + ",".join(cells) + "\n"


# --------------------------------------------------------------------------- npz
#: The arrays of an ``.npz`` matrix, in the order they are read: the dtype kinds accepted
#: and the number of axes (each of length n, the number of tasks).
_NPZ_ARRAYS = {
    "tasks": ("U", 1),
    "bwt": ("fiu", 2),
    "forward": ("fiu", 2),
    "bwt_stderr": ("fiu", 2),
    "forward_stderr": ("fiu", 2),
    "weights": ("fiu", 1),
    "own_scores": ("fiu", 1),
    "imputed": ("b", 2),
    "sign_convention": ("U", 0),
    "note": ("U", 0),
}
_NPZ_KINDS = {"U": "unicode text", "fiu": "numbers (float or int)", "b": "booleans"}
#: What numpy and zipfile raise on a damaged archive (RuntimeError: an encrypted member,
#: NotImplementedError: an unknown zip version or compression method).
_NPZ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    SyntaxError,
    RuntimeError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
)


def _starts_as_zip(path: Path) -> bool:
    """Whether ``path`` is a file that starts with a zip archive's signature."""
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _write_npz(matrix: TransferMatrix, path: Path) -> None:
    """Write every field of ``matrix`` with :func:`numpy.savez` (uncompressed)."""
    tasks = np.array(matrix.tasks, dtype=str)
    if tasks.tolist() != list(matrix.tasks):  # numpy drops trailing NUL characters
        raise InvalidMatrixError(
            f"{path}: a task name ending in a NUL character cannot be stored in an .npz "
            "file (numpy strips it); nothing was written. Write JSON instead."
        )
    arrays = {"sign_convention": np.array(SIGN_CONVENTION), "tasks": tasks, "bwt": matrix.bwt}
    for name in ("forward", "bwt_stderr", "forward_stderr", "own_scores"):
        if getattr(matrix, name) is not None:
            arrays[name] = getattr(matrix, name)
    arrays["weights"] = matrix.weights
    if matrix.imputed.any():
        arrays["imputed"] = matrix.imputed
    size = sum(array.nbytes + 1024 for array in arrays.values())  # 1 KiB: header, zip entry
    if size > MAX_NPZ_BYTES:
        raise InvalidMatrixError(
            f"{path}: this matrix as .npz would take {size / 2**20:.1f} MiB, and read_matrix "
            f"accepts .npz files up to {MAX_NPZ_BYTES // 2**20} MiB; nothing was written."
        )
    with path.open("wb") as handle:  # a file object: given a name, savez may add ".npz"
        np.savez(handle, **arrays)


def _read_npz(path: Path) -> TransferMatrix:
    """The matrix in the ``.npz`` file ``path`` (see the module docstring)."""
    _check_file(
        path, MAX_NPZ_BYTES, f".npz matrix files up to {MAX_NPZ_BYTES // 2**20} MiB are accepted"
    )
    with path.open("rb") as handle:
        start = handle.read(8)
    if not start.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY")):
        raise InvalidMatrixError(
            f"{path}: expected an .npz archive (a zip of .npy arrays, as numpy.savez writes "
            f"it); the file does not start like a zip archive (first bytes {start!r})."
        )
    try:
        archive = np.load(path, allow_pickle=False)
    except _NPZ_ERRORS as error:
        raise InvalidMatrixError(
            f"{path}: expected an .npz archive (a zip of .npy arrays, as numpy.savez writes "
            f"it); could not open it as one ({_first_line(error)})."
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise InvalidMatrixError(
            f"{path}: expected an .npz archive with arrays 'tasks' and 'bwt'; got a single "
            f".npy array of shape {getattr(archive, 'shape', '?')} (write it with numpy.savez)."
        )
    with archive:
        members = _npz_members(path, archive.zip)
        arrays: dict[str, np.ndarray] = {}
        for name in (name for name in _NPZ_ARRAYS if name in members):
            n_tasks = len(arrays["tasks"]) if arrays else None
            arrays[name] = _npz_array(path, archive, members[name], name, n_tasks)
    return _npz_matrix(path, arrays)


def _npz_members(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The members of an ``.npz`` archive by array name; raise unless they are known
    arrays, each once, ``tasks`` and ``bwt`` among them, small enough together."""
    infos = archive.infolist()
    names = [info.filename.removesuffix(".npy") for info in infos]
    unknown = [
        repr(name) if info.filename.endswith(".npy") else f"{info.filename!r} (not an .npy file)"
        for name, info in zip(names, infos)
        if name not in _NPZ_ARRAYS or not info.filename.endswith(".npy")
    ]
    if unknown:
        raise InvalidMatrixError(
            f"{path}: unknown array(s) {', '.join(unknown)} in the .npz file; the accepted "
            f"arrays are {', '.join(map(repr, _NPZ_ARRAYS))}."
        )
    repeat = first_repeat(names)
    if repeat is not None:
        raise InvalidMatrixError(
            f"{path}: the .npz file holds array {names[repeat[0]]!r} twice; expected each once."
        )
    for name in ("tasks", "bwt"):
        if name not in names:
            raise InvalidMatrixError(
                f"{path}: the .npz file has no array {name!r}; expected at least 'tasks' (task "
                f"names) and 'bwt' (n x n numbers). Got {', '.join(map(repr, names)) or 'none'}."
            )
    total = sum(info.file_size for info in infos)
    if total > MAX_NPZ_BYTES:
        raise InvalidMatrixError(
            f"{path}: the arrays take {total / 2**20:.1f} MiB once decompressed; .npz matrix "
            f"files up to {MAX_NPZ_BYTES // 2**20} MiB are accepted."
        )
    return dict(zip(names, infos))


def _npz_array(path: Path, archive, member: zipfile.ZipInfo, name: str, n_tasks) -> np.ndarray:
    """Array ``name`` of the archive; its header is checked before any data is read.

    Parameters
    ----------
    path : Path
        The file, named in errors.
    archive : numpy.lib.npyio.NpzFile
        The open archive (``allow_pickle=False``).
    member : zipfile.ZipInfo
        The archive member holding the array.
    name : str
        The array's name, a key of ``_NPZ_ARRAYS``.
    n_tasks : int or None
        The number of tasks; None while reading ``tasks`` (2 to ``MAX_TASKS`` names).
    """
    kinds, n_axes = _NPZ_ARRAYS[name]
    where = f"{path}: array {name!r} of the .npz file"
    try:
        with archive.zip.open(member) as stream:
            version = np.lib.format.read_magic(stream)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f".npy format version {version}; 1.0 or 2.0 expected")
            read_header = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
            shape, _, dtype = read_header(stream)
    except _NPZ_ERRORS as error:
        raise InvalidMatrixError(
            f"{where} is not a readable .npy array ({_first_line(error)})."
        ) from None
    size = "n" if n_tasks is None else str(n_tasks)
    expected = (
        f"shape ({', '.join([size] * n_axes)}{',' if n_axes == 1 else ''}) of {_NPZ_KINDS[kinds]}"
    )
    if name == "tasks":
        expected += f", n = 2 to {MAX_TASKS} task names"
    if dtype.hasobject or dtype.kind not in kinds or dtype.fields is not None:
        why = " (Python objects: unpickling them is refused)" if dtype.hasobject else ""
        raise InvalidMatrixError(f"{where} must have {expected}. Got dtype {dtype}{why}.")
    n_expected = n_tasks if n_tasks is not None else (shape[:1] or (0,))[0]
    if shape != (n_expected,) * n_axes or (name == "tasks" and not 2 <= n_expected <= MAX_TASKS):
        raise InvalidMatrixError(f"{where} must have {expected}. Got shape {shape}.")
    try:
        return archive[name]
    except _NPZ_ERRORS as error:
        raise InvalidMatrixError(f"{where} could not be read ({_first_line(error)}).") from None


def _npz_matrix(path: Path, arrays: dict[str, np.ndarray]) -> TransferMatrix:
    """Build the matrix from the checked arrays of an ``.npz`` file (no lists in between)."""
    tasks = arrays["tasks"].tolist()
    _check_names(path, tasks, "array 'tasks'")
    for name in ("bwt", "forward", "bwt_stderr", "forward_stderr"):
        if name in arrays:
            check_diagonal(f"{path}: ", tasks, arrays[name], name)
    extras = ("forward", "bwt_stderr", "forward_stderr", "weights", "own_scores", "imputed")
    matrix = TransferMatrix(tasks, arrays["bwt"], **{name: arrays.get(name) for name in extras})
    if not matrix.weights.any():
        raise InvalidMatrixError(
            f"{path}: array 'weights' must give at least one task a positive weight; with "
            "every weight 0 every order has the same objective."
        )
    return matrix


def _first_line(error: BaseException) -> str:
    """The first line of ``error``'s message, or its type's name when it has none."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# --------------------------------------------------------------------------- reading
def _read_text(path: Path, limit: int | None = None) -> str:
    """The text of ``path`` if it is at most ``limit`` bytes (default MAX_FILE_BYTES)."""
    _check_file(
        path,
        MAX_FILE_BYTES if limit is None else limit,
        f"matrix files up to {MAX_FILE_BYTES // 2**20} MiB are accepted (plain square CSV up "
        f"to {MAX_SQUARE_CSV_BYTES // 2**20} MiB, .npz up to {MAX_NPZ_BYTES // 2**20} MiB)",
    )
    data = path.read_bytes()
    if b"\x00" in data:
        raise InvalidMatrixError(
            f"{path}: expected a text file (CSV or JSON), got binary data (an .npz file must "
            "be named *.npz or read with format='npz')."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidMatrixError(
            f"{path}: expected UTF-8 text, got an undecodable byte at offset {error.start}."
        ) from None
    if not text.strip():
        raise InvalidMatrixError(f"{path}: the file is empty; expected a transfer matrix.")
    return text


def _check_file(path: Path, limit: int, accepted: str) -> None:
    """Raise unless ``path`` is a file of at most ``limit`` bytes (``accepted`` says so)."""
    if not path.exists():
        raise InvalidMatrixError(f"{path}: no such file.")
    if path.is_dir():
        raise InvalidMatrixError(f"{path}: expected a file, got a directory.")
    size = path.stat().st_size
    if size > limit:
        raise InvalidMatrixError(f"{path}: the file is {size / 2**20:.1f} MiB; {accepted}.")


def _detect_format(path: Path, text: str) -> str:
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        return "json"
    first_line = text.lstrip().splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    header = [cell.strip().lower() for cell in first_line.split(delimiter)]
    if tuple(header[:3]) == _LONG_REQUIRED:
        return "long"
    return "square"


def _parse_csv(path: Path, text: str) -> tuple[list[list[str]], str]:
    first_line = text.lstrip().splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise InvalidMatrixError(f"{path}: not a readable CSV file ({error}).") from None
    rows = [[cell.strip() for cell in row] for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise InvalidMatrixError(f"{path}: expected a header row of task names; found no values.")
    return rows, delimiter


def _number(path: Path, text: str, where: str, delimiter: str) -> float:
    if text == "":
        return math.nan
    candidate = text.replace(",", ".") if delimiter == ";" else text
    # Plain decimal notation only: float() would also take "1_000", "nan" and non-ASCII digits.
    value = float(candidate) if _DECIMAL.fullmatch(candidate) else None
    if value is None and candidate.lstrip("+-").lower() not in _NON_FINITE:
        raise InvalidMatrixError(
            f"{path}: {where} must be a number (or empty for a missing entry). Got {text!r}."
        )
    if value is None or math.isinf(value):
        raise InvalidMatrixError(
            f"{path}: {where} must be a finite number; leave the cell empty for a missing "
            f"entry. Got {text!r}."
        )
    return value


def _parse_square(path: Path, rows: list[list[str]], delimiter: str) -> TransferMatrix:
    header = rows[0][1:]
    n_tasks = len(header)
    if n_tasks > MAX_TASKS:
        raise InvalidMatrixError(f"{path}: {n_tasks} tasks; at most {MAX_TASKS} are accepted.")
    if n_tasks < 2:
        raise InvalidMatrixError(
            f"{path}: expected a header row with at least 2 task names after the first cell "
            f"(a square matrix of 2 or more tasks). Got {n_tasks} task name(s)."
        )
    _check_names(path, header, "header row")
    body = rows[1:]
    if len(body) != n_tasks:
        raise InvalidMatrixError(
            f"{path}: expected a square matrix with {n_tasks} data rows to match the "
            f"{n_tasks} task names in the header. Got {len(body)} data rows."
        )
    row_names = [row[0] for row in body]
    _check_names(path, row_names, "first column")
    if row_names != header:
        mismatch = next(k for k, (a, b) in enumerate(zip(row_names, header)) if a != b)
        raise InvalidMatrixError(
            f"{path}: row names must equal the header's task names in the same order. "
            f"Row {mismatch + 2} is named {row_names[mismatch]!r} where the header has "
            f"{header[mismatch]!r}."
        )
    values = np.full((n_tasks, n_tasks), np.nan)
    for i, row in enumerate(body):
        if len(row) != n_tasks + 1:
            raise InvalidMatrixError(
                f"{path}: row {i + 2} ({row[0]!r}) must have {n_tasks + 1} cells (name + "
                f"{n_tasks} values). Got {len(row)}."
            )
        for j, text in enumerate(row[1:]):
            where = f"row {i + 2} ({row[0]!r}), column {j + 2} ({header[j]!r})"
            values[i, j] = _number(path, text, where, delimiter)
    check_diagonal(f"{path}: ", header, values, "bwt")
    np.fill_diagonal(values, np.nan)
    return TransferMatrix(header, values)


#: What the numeric cells of a plain square CSV may contain for the numpy fast path.
_PLAIN_NUMERIC = re.compile(r"[0-9eE+\-.,]*")


def _parse_square_fast(path: Path, text: str) -> TransferMatrix | None:
    """Numpy parsing of a plain square CSV (``,`` delimiter, no quotes, decimal numbers
    or empty cells), or None for anything else, invalid input included.

    ``None`` sends the file to the general parser, which raises the located errors, so
    both paths accept the same files and refuse them with the same messages. Blocks of
    rows are parsed by ``np.loadtxt`` (C); no whitespace is let through (numpy's parsers
    read some blank cells as numbers). ``benchmarks/portfolio.py --read`` measures it.
    """
    if '"' in text or "\r" in text.rstrip("\r\n").replace("\r\n", "\n"):
        return None
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    if len(lines) < 3 or any(not line.strip(" \t,") for line in lines):
        return None
    header = [cell.strip() for cell in lines[0].split(",")][1:]
    n_tasks = len(header)
    parts = [line.partition(",") for line in lines[1:]]
    del lines
    if not 2 <= n_tasks <= MAX_TASKS or len(parts) != n_tasks:
        return None
    if [name.strip() for name, _, _ in parts] != header:
        return None
    if any(cells.count(",") != n_tasks - 1 for _, _, cells in parts):
        return None
    values = np.empty((n_tasks, n_tasks))
    block = max(1, 2**20 // n_tasks)  # about a million cells per C call
    try:
        for first in range(0, n_tasks, block):
            rows = [cells for _, _, cells in parts[first : first + block]]
            if not all(_PLAIN_NUMERIC.fullmatch(cells) for cells in rows):
                return None
            # empty cells spelled "nan" (a literal "nan" was refused by the check above)
            rows = [
                ("," + cells + ",").replace(",,", ",nan,").replace(",,", ",nan,")[1:-1]
                for cells in rows
            ]
            chunk = np.loadtxt(rows, delimiter=",", dtype=np.float64, comments=None, ndmin=2)
            if chunk.shape != (len(rows), n_tasks) or np.isinf(chunk).any():
                return None
            values[first : first + len(rows)] = chunk
        _check_names(path, header, "header row")
        check_diagonal(f"{path}: ", header, values, "bwt")
    except (ValueError, InvalidMatrixError):
        return None
    np.fill_diagonal(values, np.nan)
    return TransferMatrix(header, values)


def _check_names(path: Path, names: list[str], where: str) -> None:
    for position, name in enumerate(names):
        if not name:
            raise InvalidMatrixError(
                f"{path}: every task in the {where} needs a name. Position {position + 1} is empty."
            )
    repeat = first_repeat(names)
    if repeat is not None:
        first, second = repeat
        raise InvalidMatrixError(
            f"{path}: task names in the {where} must be unique. {names[first]!r} appears at "
            f"positions {first + 1} and {second + 1}."
        )


def _parse_long(path: Path, rows: list[list[str]], delimiter: str) -> TransferMatrix:
    header = [cell.lower() for cell in rows[0]]
    unknown = [name for name in header if name not in _LONG_REQUIRED + _LONG_OPTIONAL]
    absent = [name for name in _LONG_REQUIRED if name not in header]
    if unknown or absent or len(set(header)) != len(header):
        raise InvalidMatrixError(
            f"{path}: a long CSV header must be source,target,value optionally followed by "
            f"{','.join(_LONG_OPTIONAL)}, each once. Got {','.join(rows[0])}"
            + (f" (no {' or '.join(repr(name) for name in absent)} column)." if absent else ".")
        )
    tasks: dict[str, int] = {}
    records = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InvalidMatrixError(
                f"{path}: row {line} must have {len(header)} cells. Got {len(row)}."
            )
        record = dict(zip(header, row))
        source, target = record["source"], record["target"]
        if not source or not target:
            raise InvalidMatrixError(f"{path}: row {line} needs both a source and a target task.")
        if source == target:
            raise InvalidMatrixError(
                f"{path}: row {line} pairs task {source!r} with itself; expected two different tasks."
            )
        for task in (source, target):
            tasks.setdefault(task, len(tasks))
        records.append((line, record))
    n_tasks = len(tasks)
    if n_tasks < 2:
        raise InvalidMatrixError(f"{path}: expected rows for at least 2 tasks. Got {n_tasks}.")
    if n_tasks > MAX_TASKS:
        raise InvalidMatrixError(f"{path}: {n_tasks} tasks; at most {MAX_TASKS} are accepted.")
    arrays = {name: np.full((n_tasks, n_tasks), np.nan) for name in ("value", *_LONG_OPTIONAL)}
    seen: dict[tuple[int, int], int] = {}
    for line, record in records:
        i, j = tasks[record["source"]], tasks[record["target"]]
        if (i, j) in seen:
            raise InvalidMatrixError(
                f"{path}: the pair {record['source']}->{record['target']} appears twice, in rows "
                f"{seen[(i, j)]} and {line}."
            )
        seen[(i, j)] = line
        for name in (name for name in header if name not in ("source", "target")):
            arrays[name][i, j] = _number(
                path, record[name], f"row {line}, column {name!r}", delimiter
            )
    names = list(tasks)
    return TransferMatrix(
        names,
        arrays["value"],
        bwt_stderr=arrays["stderr"] if "stderr" in header else None,
        forward=arrays["forward"] if "forward" in header else None,
        forward_stderr=arrays["forward_stderr"] if "forward_stderr" in header else None,
    )


def read_lolib(path: str | Path) -> TransferMatrix:
    """Read a LOLIB instance (Optsicom normal form) as a transfer matrix.

    The file holds ``n`` and then ``n * n`` numbers row by row; its objective (the sum
    above the diagonal after permuting) is our ``all_pairs`` objective with
    ``bwt = A`` (unit weights, no forward transfer). Tasks are named ``"0"`` … ``"n-1"``.
    A Heidelberg-style title line before ``n`` is skipped.
    """
    path = Path(path)
    tokens = _read_text(path).split()
    while tokens and not _LOLIB_SIZE.fullmatch(tokens[0]):
        tokens.pop(0)
    if not tokens:
        raise InvalidMatrixError(f"{path}: expected n followed by n*n numbers; found no numbers.")
    n_tasks = int(tokens[0]) if len(tokens[0]) <= 9 else MAX_TASKS + 1
    if n_tasks < 2 or n_tasks > MAX_TASKS or len(tokens) < 1 + n_tasks * n_tasks:
        expected = "" if n_tasks > MAX_TASKS else f" = {n_tasks * n_tasks}"
        raise InvalidMatrixError(
            f"{path}: expected n (2..{MAX_TASKS}) followed by n*n{expected} numbers. "
            f"Got n = {tokens[0][:12]} and {len(tokens) - 1} numbers."
        )
    try:
        values = np.array(tokens[1 : 1 + n_tasks * n_tasks], dtype=float).reshape(n_tasks, n_tasks)
    except ValueError as error:
        raise InvalidMatrixError(f"{path}: the matrix holds a non-number ({error}).") from None
    if not np.isfinite(values).all():
        k = int(np.flatnonzero(~np.isfinite(values))[0])
        raise InvalidMatrixError(
            f"{path}: the matrix must hold finite numbers. Got {tokens[1 + k]!r} at row "
            f"{k // n_tasks + 1}, column {k % n_tasks + 1}."
        )
    return TransferMatrix([str(k) for k in range(n_tasks)], values)
