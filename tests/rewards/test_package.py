import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = [
    "taskorder.rewards",
    "taskorder.rewards._common",
    "taskorder.rewards._equivalence",
    "taskorder.rewards._isolation",
    "taskorder.rewards.math_reward",
    "taskorder.rewards.choice",
    "taskorder.rewards.format_reward",
    "taskorder.rewards.code_reward",
    "taskorder.rewards.sandbox",
    "taskorder.rewards.router",
    "taskorder.rewards.judge.backends",
    "taskorder.rewards.judge.cache",
    "taskorder.rewards.judge.core",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all(name):
    module = importlib.import_module(name)
    assert all(hasattr(module, symbol) for symbol in module.__all__)


def test_import_does_not_pull_heavy_dependencies():
    code = (
        "import sys, taskorder.rewards\n"
        "heavy = [m for m in ('torch', 'transformers', 'trl', 'math_verify', 'sympy', 'tokenizers')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": ":".join(sys.path)},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_sandbox_child_module_is_inert_on_import():
    module = importlib.import_module("taskorder.rewards._sandbox_child")
    assert callable(module.main)  # importing it ran nothing (no payload.json read)
