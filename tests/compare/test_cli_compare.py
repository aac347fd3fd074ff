"""``taskorder compare``: tables, JSON, plot, exit codes."""

import json

from typer.testing import CliRunner

from taskorder.cli import app

runner = CliRunner()
FAST = [
    "--n-structured",
    "1",
    "--n-open",
    "1",
    "--seeds",
    "2",
    "--n-random",
    "1",
    "--stage-steps",
    "3",
]


def test_json_output_and_plot(tmp_path):
    plot = tmp_path / "bars.png"
    result = runner.invoke(
        app, ["compare", *FAST, "--mode", "sampled", "--json", "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "sampled" and data["total_steps"] == 6
    assert {"solver", "joint", "merge_average", "blocks"} <= set(data["methods"])
    assert plot.stat().st_size > 0 and "wrote" in result.stderr


def test_table_output():
    result = runner.invoke(app, ["compare", *FAST, "--reference", "solver"])
    assert result.exit_code == 0, result.stderr
    assert "gain % vs solver" in result.stdout and "specialists" in result.stdout
    assert "probe campaign" in result.stdout


def test_usage_errors_exit_2():
    for args in (
        ["--mode", "fast"],
        ["--seeds", "0"],
        ["--plot", "x.txt"],
        ["--reference", "nonsense"],
        ["--method", "ucb"],
    ):
        result = runner.invoke(app, ["compare", *args])
        assert result.exit_code == 2, args
        assert "Traceback" not in result.stderr


def test_domain_error_exits_1():
    # a known method that is not among those run
    result = runner.invoke(app, ["compare", *FAST, "--method", "joint", "--reference", "blocks"])
    assert result.exit_code == 1
    assert result.stderr.startswith("taskorder: error:") and "reference" in result.stderr
