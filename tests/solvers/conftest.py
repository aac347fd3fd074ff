"""Fixtures for the solver tests; makes :mod:`solver_cases` importable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from solver_cases import TransferMatrix


@pytest.fixture
def tmp_matrix_file(tmp_path):
    """Write a matrix to a square CSV and return its path."""
    from taskorder import write_matrix

    def write(matrix: TransferMatrix, name: str = "matrix.csv") -> Path:
        path = tmp_path / name
        write_matrix(matrix, path)
        return path

    return write
