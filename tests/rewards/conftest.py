"""Shared fixtures for the reward tests."""

import sys
from pathlib import Path

import pytest

# The hand-written cases live next to the tests (``cases.py``); make them importable
# under --import-mode=importlib, which does not put test directories on sys.path.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def conversational():
    """Turn a plain completion into TRL's conversational format."""

    def wrap(text):
        return [{"role": "assistant", "content": text}]

    return wrap
