"""One config system: the strict base, the loader, the error translator and the router."""

import pytest
from pydantic import Field

from taskorder.config_file import StrictModel, validate_config
from taskorder.configs import campaign_folder, load_config
from taskorder.estimate import CampaignMismatchError
from taskorder.estimate.config import ProbeConfig
from taskorder.exceptions import InvalidParameterError
from taskorder.trl.config import EvaluationSpec
from taskorder.trl.evaluation import EvalConfig


class Section(StrictModel):
    steps: int = Field(1, ge=1)


class Outer(StrictModel):
    section: Section = Field(default_factory=Section)


def test_a_settings_model_built_in_code_names_model_field_expectation_and_value():
    with pytest.raises(
        InvalidParameterError,
        match=r"Invalid Section: steps: .*greater than or equal to 1 \(got 0\)",
    ):
        Section(steps=0)
    with pytest.raises(
        InvalidParameterError, match=r"Invalid Section: step: unknown key \(accepted: steps\)\.$"
    ):
        Section(step=3)
    with pytest.raises(Exception, match="frozen"):
        Section().steps = 2  # values are frozen once validated


def test_a_nested_error_keeps_its_whole_key_path():
    with pytest.raises(InvalidParameterError) as caught:
        validate_config(Outer, {"section": {"steps": 0}}, "run.toml")
    assert str(caught.value).startswith("run.toml: invalid config: section.steps: ")
    assert "Invalid Section" not in str(caught.value)
    with pytest.raises(InvalidParameterError, match=r"^probe configuration: invalid config: "):
        load_config({"plan": {"repeats": 0}, "executor": {"kind": "gpu"}})


def test_the_evaluation_section_is_the_evaluation_settings_model():
    section = EvaluationSpec(n_samples=2, max_new_tokens=8, evaluate_at_start=False)
    assert isinstance(section, EvalConfig)
    run = section.for_run(7)
    assert type(run) is EvalConfig and run.seed == 7
    assert run == EvalConfig(n_samples=2, max_new_tokens=8, seed=7)
    assert EvaluationSpec(seed=3).for_run(7).seed == 3  # a seed set in the file wins
    with pytest.raises(InvalidParameterError, match="n_samples=1"):
        EvaluationSpec(temperature=0.0, n_samples=2)  # the same cross-check everywhere
    assert EvalConfig().max_new_tokens == EvaluationSpec().max_new_tokens == 32


def test_campaign_folder_of_a_config_file_a_folder_and_nothing(tmp_path):
    config = tmp_path / "probe.toml"
    config.write_text('output_dir = "out"\n', encoding="utf-8")
    assert campaign_folder(config) == tmp_path / "out"
    assert campaign_folder(tmp_path) == tmp_path
    with pytest.raises(CampaignMismatchError, match="no such configuration file or campaign"):
        campaign_folder(tmp_path / "missing.toml")
    assert isinstance(load_config(config), ProbeConfig)
