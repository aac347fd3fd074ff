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
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples/solve_four_domains.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "best order:" in out.stdout and "(optimal)" in out.stdout


def test_docs_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    site = tmp_path / "site"
    assert not list(site.rglob("*.py")), "build hooks are published"
    nav = (site / "index.html").read_text()
    assert 'href="solvers/"' in nav and 'href="real-lm/"' in nav
    reference = (site / "cli-reference/index.html").read_text()
    for path in _hooks().registered_commands(app):
        assert f'id="{path.replace(" ", "-")}"' in reference, path
    api = (site / "api/index.html").read_text()
    assert re.findall(r":(?:class|func|meth|mod|data|attr|exc):<code>", api) == []
    assert 'class="autorefs autorefs-internal"' in api


def _hooks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs/hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_lists_every_command_and_option():
    """Generated from the code: every registered command has a section, every option a row."""
    hooks = _hooks()
    reference = hooks.cli_reference()
    commands = hooks.registered_commands(app)
    assert {"taskorder solve", "taskorder probe run", "taskorder plot graph"} <= set(commands)
    for path in commands:
        assert f"## `{path}`" in reference, path
    assert hooks.missing_from_reference(reference) == []
    solve = reference.split("## `taskorder solve`")[1].split("\n## ")[0]
    for option in ("--objective", "--entropy-model", "--risk", "--json", "--time-limit"):
        assert f"`{option}" in solve


def test_cli_reference_check_names_what_is_missing(caplog):
    """A command or option missing from the page is a warning, which fails `mkdocs build --strict`."""
    hooks = _hooks()
    reference = hooks.cli_reference()
    without_status = re.sub(
        r"## `taskorder probe status`.*?(?=\n## )", "", reference, flags=re.DOTALL
    )
    without_seed = reference.replace("`--seed <int>`", "`--sead <int>`")
    assert hooks.missing_from_reference(without_status) == ["taskorder probe status"]
    assert "taskorder solve --seed" in hooks.missing_from_reference(without_seed)

    class Page:
        class file:
            src_uri = "cli-reference.md"

    hooks.cli_reference = lambda: without_status
    with caplog.at_level("WARNING"):
        hooks.on_page_markdown(f"# CLI reference\n\n{hooks.MARKER}\n", Page, None, None)
        hooks.on_page_markdown("# CLI reference\n", Page, None, None)
    messages = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any("'taskorder probe status'" in message for message in messages)
    assert any("marker" in message for message in messages)


def test_cli_page_lists_every_solve_option_and_links_the_reference():
    import typer

    text = (ROOT / "docs/cli.md").read_text()
    solve = text.split("## `taskorder solve FILE`")[1].split("\n## ")[0]
    group = typer.main.get_command(app)
    command = group.get_command(group.context_class(group, info_name="taskorder"), "solve")
    options = [p.opts[0] for p in command.params if p.param_type_name == "option"]
    missing = [option for option in options if f"`{option}" not in solve]
    assert missing == []
    documented = set(re.findall(r"^\| `(--[a-z-]+)", solve, flags=re.MULTILINE))
    assert documented <= set(options)
    assert "(cli-reference.md)" in text


def test_concepts_describes_every_objective():
    from taskorder.solvers.problem import SOLVER_OBJECTIVES

    text = (ROOT / "docs/concepts.md").read_text()
    section = text.split("## Objectives")[1].split("\n## ")[0]
    words = {2: "two", 3: "three", 4: "four"}
    assert f"{words[len(SOLVER_OBJECTIVES)]} objectives are offered" in section
    for name in SOLVER_OBJECTIVES:
        assert f"- **`{name}`**" in section, name


def test_example_probe_config_writes_outside_examples():
    from taskorder.configs import load_config

    config = load_config(ROOT / "examples/probe_small.toml")
    output = config.output_path.resolve()
    assert output.is_relative_to(ROOT / "runs"), output
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(output / "matrix.json")], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


def test_griffe_extension_turns_sphinx_roles_into_references():
    pytest.importorskip("griffe")
    import griffe

    spec = __import__("importlib.util").util.spec_from_file_location(
        "roles", ROOT / "docs/griffe_sphinx_roles.py"
    )
    roles = __import__("importlib.util").util.module_from_spec(spec)
    spec.loader.exec_module(roles)
    loader = griffe.GriffeLoader(
        search_paths=[str(ROOT / "src")], extensions=griffe.load_extensions(roles.SphinxRoles)
    )
    package = loader.load("taskorder")
    loader.resolve_aliases(implicit=False, external=False)
    text = package["solvers.solve"].docstring.value
    assert ":func:`" not in text and ":class:`" not in text and ":mod:`" not in text
    assert (
        '<autoref identifier="taskorder.objectives" optional><code>taskorder.objectives</code></autoref>'
        in text
    )
