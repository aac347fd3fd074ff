"""``taskorder probe calibrated CONFIG``: output, JSON, resume, shared store, exit codes."""

import json

import pytest
from typer.testing import CliRunner

from taskorder.calibrate import run_calibrated
from taskorder.configs import build_runner, load_config

cli = CliRunner()

CONFIG = """
output_dir = "out"
[runner.learner]
n_structured = 2
n_open = 2
mode = "sampled"
seed = 4
[plan]
steps = 5
repeats = 1
seed = 3
"""


def run(*args):
    from taskorder.cli import app

    return cli.invoke(app, [str(a) for a in args])


@pytest.fixture()
def config(tmp_path):
    path = tmp_path / "campaign.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_prints_the_order_prediction_and_curricula_and_writes_json(config, tmp_path):
    result = run("probe", "calibrated", config, "--curricula", 2)
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    saved = json.loads((out / "calibrated.json").read_text())
    assert f"recommended order: {' > '.join(saved['order'])}" in result.stdout
    assert f"{saved['predicted']:.4f} ± {saved['predicted_sd']:.4f}" in result.stdout
    assert "Curricula trained" in result.stdout and "training stages: 12 probe + 8" in result.stdout
    # progress on stderr: 13 probes (base + 4 first + 8 second), then 2 curricula
    assert result.stderr.count("taskorder: probe ") == 13
    assert "taskorder: curriculum 2/2: " in result.stderr
    assert len(saved["curricula"]) == 2 and saved["probes"] == {"ran": 13, "reused": 0}
    # the same answer as the library on the config's runner, folder, steps and seed
    library = run_calibrated(
        build_runner(load_config(config)), tmp_path / "lib", n_curricula=2, steps=5, seed=3
    )
    assert saved["order"] == list(library.search.order)
    assert saved["predicted"] == pytest.approx(library.search.predicted)
    assert saved["curricula"] == [{**row, "reused": False} for row in library.curricula]


def test_json_rerun_resumes_and_shares_the_probe_store(config, tmp_path):
    first = run("probe", "calibrated", config, "--curricula", 2, "--json")
    assert first.exit_code == 0, first.stderr
    assert first.stderr == ""  # --json: no progress lines
    data = json.loads(first.stdout)
    assert data["file"] == str(tmp_path / "out" / "calibrated.json")
    # the full campaign of `taskorder probe` reuses the cheap probes...
    full = run("probe", config, "--quiet", "--json")
    assert full.exit_code == 0, full.stderr
    campaign = json.loads(full.stdout)["campaign"]
    assert (campaign["ran"], campaign["reused"]) == (4, 13)
    # ...and a rerun of calibrated runs nothing again: probes and curricula are replayed
    again = run("probe", "calibrated", config, "--curricula", 2, "--json")
    assert again.exit_code == 0, again.stderr
    replay = json.loads(again.stdout)
    assert replay["probes"] == {"ran": 0, "reused": 13}
    assert [row["reused"] for row in replay["curricula"]] == [True, True]
    assert replay["order"] == data["order"] and replay["search"] == data["search"]


def test_seeds_per_curriculum_give_a_standard_error(config):
    result = run("probe", "calibrated", config, "--curricula", 1, "--seeds", 2, "--json")
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)["curricula"]
    assert len(row["per_seed"]) == 2 and row["stderr"] > 0


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--curricula", 0], 2, "'--curricula'"),
        ([], 2, "Missing option '--curricula'"),
        (["--curricula", 1, "--executor", "gpu"], 2, "'gpu' is not one of 'inprocess'"),
    ],
)
def test_usage_errors_exit_2(config, tmp_path, args, code, message):
    result = run("probe", "calibrated", config, *args)
    assert result.exit_code == code and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_bad_configs_exit_1_with_one_line(tmp_path):
    missing = run("probe", "calibrated", tmp_path / "none.toml", "--curricula", 1)
    assert missing.exit_code == 1 and "none.toml" in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('output_dir = "out"\n[plan]\nrepeat = 2\n', encoding="utf-8")
    result = run("probe", "calibrated", bad, "--curricula", 1)
    assert result.exit_code == 1
    assert "plan.repeat: unknown key (accepted: " in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_another_runner_configuration_in_the_same_folder_is_refused(config):
    assert run("probe", "calibrated", config, "--curricula", 1, "--quiet").exit_code == 0
    config.write_text(CONFIG.replace("seed = 4", "seed = 5"), encoding="utf-8")
    result = run("probe", "calibrated", config, "--curricula", 1, "--quiet")
    assert result.exit_code == 1 and result.stderr.startswith("taskorder: error: ")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_a_process_pool_gives_the_same_answer(config, tmp_path):
    serial = run("probe", "calibrated", config, "--curricula", 2, "--seeds", 2, "--json")
    assert serial.exit_code == 0, serial.stderr
    pooled_config = tmp_path / "pooled.toml"
    pooled_config.write_text(CONFIG.replace('"out"', '"pooled"'), encoding="utf-8")
    pooled = run(
        "probe",
        "calibrated",
        pooled_config,
        "--curricula",
        2,
        "--seeds",
        2,
        "--workers",
        2,
        "--json",
    )
    assert pooled.exit_code == 0, pooled.stderr
    a, b = json.loads(serial.stdout), json.loads(pooled.stdout)
    assert a["order"] == b["order"] and a["curricula"] == b["curricula"]
    assert a["prior"] == b["prior"]
