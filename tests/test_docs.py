"""The newcomer path: every command in README and the quickstart runs; the docs site builds."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taskorder.cli import app

ROOT = Path(__file__).parents[1]
PAGES = [
    "README.md",
    "docs/quickstart.md",
    "docs/cli.md",
    "docs/noise-and-entropy.md",
    "docs/replanning.md",
]


def commands(page):
    text = (ROOT / page).read_text()
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            for part in line.split("  #")[0].split("&&"):
                part = part.strip().removeprefix(".venv/bin/")
                if part.startswith("taskorder "):
                    yield part


CASES = {page: list(commands(page)) for page in PAGES}


def test_there_are_commands_to_run():
    assert sum(len(lines) for lines in CASES.values()) >= 8


@pytest.mark.parametrize("page", PAGES)
def test_documented_commands_run_in_order(page, tmp_path, monkeypatch):
    """A page's commands run one after another in one folder, as a reader would run them."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for line in CASES[page]:
        result = CliRunner().invoke(app, shlex.split(line)[1:])
        assert result.exit_code == 0, f"{page}: {line}\n{result.stderr}"
        for written in re.findall(r"-o (\S+)", line):
            assert (tmp_path / written).stat().st_size > 1000


def test_quickstart_python_snippet_runs(tmp_path, monkeypatch):
    text = (ROOT / "docs/quickstart.md").read_text()
    code = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "quickstart", "exec"), {})


def test_example_script_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples/solve_four_domains.py")],
                         capture_output=True, text=True, check=True)
    assert "best order:" in out.stdout and "(optimal)" in out.stdout


def test_docs_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
