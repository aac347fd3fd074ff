"""``taskorder probe calibrated`` on a real-model (TRL) config: the tiny model, GRPO stages."""

import json

import yaml
from typer.testing import CliRunner

from taskorder.cli import app

from .conftest import TINY_EVAL, TINY_GRPO

cli = CliRunner()


def test_calibrated_search_on_a_real_model_config(tmp_path, toy_world, toy_files):
    """Two tasks, one GRPO step per stage: 5 probes, then one curriculum of 2 stages."""
    model_dir, _ = toy_world
    config = {
        "model": str(model_dir),
        "output_dir": "out",
        "tasks": {name: toy_files[name] for name in ("qa", "arithmetic")},
        "grpo": dict(TINY_GRPO),
        "evaluation": dict(TINY_EVAL),
        "probe": {"plan": {"repeats": 1, "steps": 1}},
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = cli.invoke(app, ["probe", "calibrated", str(path), "--curricula", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sorted(data["order"]) == ["arithmetic", "qa"]
    assert data["probes"] == {"ran": 5, "reused": 0}
    assert data["stages"] == {"probes": 4, "curricula": 2}
    (row,) = data["curricula"]
    assert 0.0 <= row["outcome"] <= 1.0 and row["reused"] is False
    probes = tmp_path / "out" / "probes"  # the real-model config's probe folder
    assert json.loads((probes / "calibrated.json").read_text())["order"] == data["order"]
    assert (probes / "campaign.sqlite").is_file()
    again = cli.invoke(app, ["probe", "calibrated", str(path), "--curricula", "1", "--json"])
    assert again.exit_code == 0, again.output
    replay = json.loads(again.stdout)
    assert replay["probes"]["ran"] == 0 and replay["curricula"][0]["reused"] is True
    assert replay["order"] == data["order"]
