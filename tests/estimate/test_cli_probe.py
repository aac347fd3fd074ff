"""CLI: probe, probe status, validate, demo; exit codes and streams."""

import json

import pytest
from typer.testing import CliRunner

from taskorder import read_matrix
from taskorder.cli import app

runner = CliRunner()

CONFIG = """
output_dir = "out"
[runner.learner]
n_structured = 1
n_open = 2
mode = "sampled"
[plan]
repeats = 2
steps = 5
[validate]
seeds = 2
n_random = 2
all_orders = true
"""


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    config = folder / "campaign.toml"
    config.write_text(CONFIG)
    result = run("probe", config, "--quiet")
    assert result.exit_code == 0, result.stderr
    return config, folder / "out", result


def test_probe_writes_files_that_solve_and_read_matrix_accept(campaign):
    _config, out, result = campaign
    assert "BWT" in result.stdout and "± " in result.stdout and "entropy change" in result.stdout
    for name in (
        "bwt.csv",
        "bwt_stderr.csv",
        "forward.csv",
        "entropy_bwt.csv",
        "matrix.json",
        "entropy.json",
        "summary.json",
        "campaign.sqlite",
    ):
        assert (out / name).is_file(), name
    matrix = read_matrix(out / "matrix.json")
    assert (
        matrix.forward is not None
        and matrix.bwt_stderr is not None
        and matrix.own_scores is not None
    )
    assert read_matrix(out / "bwt.csv").bwt.tolist() == matrix.bwt.tolist()
    assert read_matrix(out / "entropy.json").own_scores is not None
    solved = run("solve", out / "matrix.json", "--json")
    assert solved.exit_code == 0, solved.stderr
    assert sorted(json.loads(solved.stdout)["order"]) == sorted(matrix.tasks)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stderr_source"] == "repeats" and summary["campaign"]["ran"] == 20


def test_probe_rerun_reuses_everything_and_json_output(campaign):
    config, _out, _ = campaign
    result = run("probe", "run", config, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["campaign"]["ran"] == 0 and data["campaign"]["reused"] == 20
    assert data["missing"] == []


def test_probe_status_from_config_and_folder(campaign):
    config, out, _ = campaign
    for target in (config, out):
        result = run("probe", "status", target, "--json")
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["done"] == data["total"] == 20 and data["runs"] == 20
        assert data["restarted"] == 0 and data["by_kind"]["second"]["done"] == 12
    human = run("probe", "status", out)
    assert "20/20 probes done" in human.stdout


def test_validate_prints_fidelity_ceiling_and_ranks(campaign):
    config, out, _ = campaign
    result = run("validate", config)
    assert result.exit_code == 0, result.stderr
    for text in (
        "Spearman",
        "noise ceiling",
        "multiplicative",
        "backward_only",
        "recommended order:",
        "realised percentile",
        "solver",
        "rank_rule",
        "percentile",
    ):
        assert text in result.stdout
    data = json.loads((out / "validate.json").read_text())
    assert data["n_orders"] == 6 and data["seeds"] == 2


def test_validate_json_with_overrides(campaign):
    config, _, _ = campaign
    result = run("validate", config, "--seeds", "3", "--no-all-orders", "--n-random", "1", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["seeds"] == 3 and data["n_orders"] <= 6


def test_unfinished_campaign_cannot_be_validated(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("runner: {learner: {n_structured: 1, n_open: 1}}\nplan: {steps: 2}\n")
    result = run("validate", config)
    assert result.exit_code == 1
    assert "taskorder probe" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("[plan]\nrepeatz = 2\n", "plan.repeatz"),
        ("[plan]\nrepeats = 0\n", "plan.repeats"),
        ("[runner.learner]\nn_open = 99\n", "n_open"),
        ("[executor]\nkind = 'inprocess'\naddress = 'auto'\n", "address"),
        ("[plan]\ntasks = ['structured_0', 'nope']\n", "nope"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_bad_configs_exit_1_with_one_line(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = run("probe", config, "--quiet")
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_usage_errors_exit_2(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("")
    assert run("probe", config, "--executor", "threads").exit_code == 2
    assert run("probe", config, "--workers", "0").exit_code == 2
    assert run("demo", "--mode", "fast").exit_code == 2


def test_status_of_a_folder_without_a_store_is_a_data_error(tmp_path):
    result = run("probe", "status", tmp_path)
    assert result.exit_code == 1 and "no campaign store" in result.stderr
    result = run("probe", "status", tmp_path / "nothing.toml")
    assert (
        result.exit_code == 1 and "no such configuration file or campaign folder" in result.stderr
    )


def test_another_config_in_the_same_folder_is_refused(campaign, tmp_path):
    _config, out, _ = campaign
    other = tmp_path / "other.toml"
    other.write_text(CONFIG.replace("steps = 5", "steps = 6").replace('"out"', f'"{out}"'))
    result = run("probe", other, "--quiet")
    assert result.exit_code == 1 and "different configuration" in result.stderr


def test_help_lists_the_new_commands():
    result = run("--help")
    for command in ("probe", "validate", "demo"):
        assert command in result.stdout
    assert "status" in run("probe", "--help").stdout


def test_subset_plan_reports_missing_and_imputes_only_on_request(tmp_path):
    config = tmp_path / "c.toml"
    base = CONFIG.replace(
        "repeats = 2",
        "repeats = 1\npairs = [['structured_0', 'open_0'], ['open_0', 'open_1'], ['open_1', 'structured_0']]",
    )
    config.write_text(base)
    result = run("probe", config, "--quiet")
    assert result.exit_code == 0 and "missing" in result.stdout and "not measured" in result.stderr
    assert len(read_matrix(tmp_path / "out" / "matrix.json").missing()) == 3
    config.write_text('impute = "row_col"\n' + base)
    result = run("probe", config, "--quiet")
    assert result.exit_code == 0 and "(imputed)" in result.stdout
    matrix = read_matrix(tmp_path / "out" / "matrix.json")
    assert matrix.missing() == [] and int(matrix.imputed.sum()) == 3
    assert len(read_matrix(tmp_path / "out" / "bwt_measured.csv").missing()) == 3
    assert read_matrix(tmp_path / "out" / "bwt.csv").missing() == []


def test_demo_runs_end_to_end(tmp_path):
    result = run("demo", "--n-open", "1", "--seeds", "2", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"probe", "recommendation", "validate", "replan", "directory"}
    assert data["validate"]["n_orders"] == 6
    replan = data["replan"]
    observed = {tuple(r["order"]): r["observed_mean"] for r in data["validate"]["orders"]}
    assert replan["observed_mean"] == observed[tuple(replan["order"])]
    assert 1 <= replan["rank"] <= 6 and 0 < replan["percentile"] < 100
    assert 0 < replan["stages"] < replan["fixed_stages"] == 21
    assert data["recommendation"]["order"] == data["validate"]["recommendation"]["order"]
    assert data["validate"]["verdict"][0].startswith("recommended order: realised percentile")


def test_demo_shows_the_recommended_order_first(tmp_path):
    result = run("demo", "--n-open", "1", "--seeds", "2", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.index("re-planned training") < result.stdout.index("recommended order:")
    assert "BWT: bwt[i, j]" in result.stdout  # titles are plain text, not escaped markup
    shown = result.stdout[result.stdout.index("recommended order:") :]
    assert shown.index("recommended order:") < shown.index("BWT") < shown.index("Fidelity")
    assert "realised percentile" in shown
    assert (tmp_path / "matrix.json").is_file()
