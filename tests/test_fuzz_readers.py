"""Fuzz the matrix readers: any input gives a matrix or a TaskorderError, nothing else.

Seeded random mutations of valid files in each format (square CSV, long CSV, JSON with
every optional field, LOLIB), plus random text. Issue 15 found RecursionError, ValueError and
KeyError escaping ``read_matrix``; this test fails on any exception that is not a
:class:`~taskorder.exceptions.TaskorderError`.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from taskorder import TaskorderError, TransferMatrix, read_matrix, write_matrix
from taskorder.io import read_lolib

#: Pieces that broke (or nearly broke) a reader before: numbers, JSON syntax, CSV syntax.
TOKENS = (
    "",
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-Infinity",
    "Infinity",
    "1e400",
    "-1e400",
    "9" * 5000,
    "1" + "0" * 400,
    "1e-400",
    "null",
    "true",
    "0",
    "-0.0",
    "0.5",
    "1,5",
    "[",
    "]",
    "{",
    "}",
    "[[",
    "]]",
    "[" * 3000,
    '{"a":' * 2000,
    ",",
    ";",
    ":",
    "\n",
    "\r\n",
    "\r",
    '"',
    "'",
    "\t",
    " ",
    "\ufeff",
    "\u00e9",
    "\u2028",
    "source",
    "target",
    "value",
    "stderr",
    "forward",
    "forward_stderr",
    "task",
    '"tasks"',
    '"bwt"',
    '"imputed"',
    '"own_scores"',
    '"weights"',
    '"forward"',
    '"bwt_stderr"',
    "[true, false]",
    "[1]",
    "[]",
    "{}",
    '"x"',
)


def _bases(folder) -> dict[str, str]:
    n_tasks = 3
    rng = np.random.default_rng(0)
    off = ~np.eye(n_tasks, dtype=bool)
    matrix = TransferMatrix(
        ["math", "code", "poetry"],
        rng.normal(size=(n_tasks, n_tasks)),
        forward=rng.normal(size=(n_tasks, n_tasks)),
        bwt_stderr=np.abs(rng.normal(size=(n_tasks, n_tasks))),
        forward_stderr=np.abs(rng.normal(size=(n_tasks, n_tasks))),
        weights=[1.0, 2.0, 0.5],
        own_scores=[0.5, 0.25, 0.75],
        imputed=off & (rng.random((n_tasks, n_tasks)) < 0.5),
    )
    texts = {}
    for fmt, suffix in (("square", ".csv"), ("long", ".csv"), ("json", ".json")):
        path = write_matrix(matrix, folder / f"base_{fmt}{suffix}", format=fmt)
        texts[fmt] = path.read_text(encoding="utf-8")
    texts["lolib"] = "t3 a title line\n3\n0 1 -2\n3 0 4.5\n5 -6 0\n"
    return texts


def _mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(text) + 1)
        choice = rng.random()
        if choice < 0.45:
            text = text[:position] + rng.choice(TOKENS) + text[position:]
        elif choice < 0.7:
            text = text[:position] + text[position + rng.randint(1, 12) :]
        elif choice < 0.85:
            text = text[:position] + chr(rng.randrange(1, 0x3000)) + text[position:]
        else:  # duplicate a slice (rows, brackets, keys)
            end = min(len(text), position + rng.randint(1, 40))
            text = text[:end] + text[position:end] + text[end:]
    return text


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 12)))


def _fuzz(tmp_path, fmt: str, n_inputs: int, seed: int) -> dict[str, int]:
    """Read ``n_inputs`` mutated files of ``fmt``; return counts of what happened."""
    rng = random.Random(seed)
    base = _bases(tmp_path)[fmt]
    suffix = {"json": ".json", "lolib": ""}.get(fmt, ".csv")
    outcomes = {"matrix": 0, "TaskorderError": 0}
    escaped = []
    for k in range(n_inputs):
        text = _random_text(rng) if k % 10 == 0 else _mutate(base, rng)
        # A fresh file each time: rewriting one file in place is slow on ext4 (flush on truncate).
        path = tmp_path / f"fuzz{k}{suffix}"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        # Alternate detection and a forced format, so a CSV also meets the other CSV parser.
        forced = None if k % 2 == 0 else rng.choice(("square", "long", "json", fmt))
        try:
            if fmt == "lolib":
                read_lolib(path)
            else:
                read_matrix(path, format=None if forced == "lolib" else forced)
        except TaskorderError:
            outcomes["TaskorderError"] += 1
        except BaseException as error:
            escaped.append((type(error).__name__, str(error)[:80], text[:120]))
        else:
            outcomes["matrix"] += 1
        path.unlink()
    assert not escaped, f"{len(escaped)} inputs raised a non-TaskorderError, e.g. {escaped[:3]}"
    return outcomes


@pytest.mark.parametrize("fmt", ["square", "long", "json", "lolib"])
def test_readers_raise_only_taskorder_errors(tmp_path, fmt):
    outcomes = _fuzz(tmp_path, fmt, n_inputs=2000, seed=15)
    # The mutations must exercise both outcomes, or the fuzzer tests nothing.
    assert outcomes["matrix"] > 20 and outcomes["TaskorderError"] > 200, outcomes


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["square", "long", "json", "lolib"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_readers_raise_only_taskorder_errors_more_seeds(tmp_path, fmt, seed):
    _fuzz(tmp_path, fmt, n_inputs=10_000, seed=seed)
