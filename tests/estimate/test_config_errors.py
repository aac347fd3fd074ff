"""Probe configs: bad files and bad runners get one clear error (never 'internal error')."""

import pytest
from typer.testing import CliRunner

from taskorder.cli import app
from taskorder.configs import build_runner, load_config
from taskorder.exceptions import InvalidParameterError


def test_steps_zero_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "probe.toml"
    path.write_text("[plan]\nsteps = 0\n")
    with pytest.raises(InvalidParameterError, match=r"plan\.steps"):
        load_config(path)


@pytest.mark.parametrize("suffix", [".toml", ".yaml", ".json"])
def test_a_binary_config_gets_one_line_naming_the_file(tmp_path, suffix):
    path = tmp_path / f"probe{suffix}"
    path.write_bytes(b"\xff\xfe\x00\x81binary")
    result = CliRunner().invoke(app, ["probe", "run", str(path)])
    assert result.exit_code == 1
    assert str(path) in result.output and "not a UTF-8 text file" in result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


def not_a_runner():
    return object()


def test_a_factory_returning_something_else_is_refused(tmp_path):
    path = tmp_path / "probe.toml"
    path.write_text(
        '[runner]\nkind = "python"\nfactory = "tests.estimate.test_config_errors:not_a_runner"\n'
        "[plan]\nsteps = 2\n"
    )
    with pytest.raises(InvalidParameterError, match="must return a runner"):
        build_runner(load_config(path))
    result = CliRunner().invoke(app, ["probe", "run", str(path)])
    assert result.exit_code == 1
    assert "must return a runner" in result.output and "internal error" not in result.output


def test_runner_kind_trl_in_a_runner_section_points_to_the_real_model_config(tmp_path):
    path = tmp_path / "probe.toml"
    path.write_text('[runner]\nkind = "trl"\n[plan]\nsteps = 2\n')
    with pytest.raises(InvalidParameterError, match="real-model config"):
        load_config(path)
