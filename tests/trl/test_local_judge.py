"""LocalJudgeReward on a tiny random Qwen2: batched grades, empty completions, rows without rubric."""

import pickle

import pytest
import torch

from taskorder.exceptions import InvalidParameterError
from taskorder.trl.local_judge import LocalJudgeReward

PROMPTS = ["Write a line about rain.", "Give advice to a new cook.", "What is 3 + 4?"]
COMPLETIONS = ["Soft rain taps on the roof", "Taste as you go", "7", "rain rain rain rain", "ok"]
RUBRICS = ["vivid and about rain", "kind and practical", "the right number"]


def _batch(n):
    prompts = [PROMPTS[i % 3] for i in range(n)]
    completions = [COMPLETIONS[i % 5] for i in range(n)]
    rubrics = [RUBRICS[i % 3] for i in range(n)]
    return prompts, completions, rubrics


@pytest.fixture(scope="module")
def judge_dir(toy_world):
    model_dir, _ = toy_world
    return model_dir


def _forwards(reward):
    model, _, _ = reward._load()
    calls = []
    handle = model.register_forward_hook(lambda m, args, out: calls.append(out.logits.shape[0]))
    return calls, handle


@pytest.mark.parametrize("scoring", ["expected", "greedy"])
def test_batched_grades_equal_one_at_a_time(judge_dir, scoring):
    prompts, completions, rubrics = _batch(10)  # 10 distinct triples, then the first again
    prompts, completions, rubrics = (x + x[:1] for x in (prompts, completions, rubrics))
    batched = LocalJudgeReward(judge_dir, scoring=scoring, batch_size=4, min_mass=0.0)
    calls, handle = _forwards(batched)
    together = batched(prompts=prompts, completions=completions, rubric=rubrics)
    handle.remove()
    assert calls == [4, 4, 2]  # each distinct triple judged once
    assert together[-1] == together[0]
    single = LocalJudgeReward(judge_dir, scoring=scoring, batch_size=1, min_mass=0.0)
    alone = [
        single(prompts=[p], completions=[c], rubric=[r])[0]
        for p, c, r in zip(prompts, completions, rubrics)
    ]
    if scoring == "expected":
        assert all(value is not None and 0 <= value <= 1 for value in together)
        assert together == pytest.approx(alone, abs=1e-5)
        assert len({round(v, 6) for v in together}) > 1  # the grades do depend on the text
    else:
        assert together == alone
        assert all(value is None or value in (0.0, 0.25, 0.5, 0.75, 1.0) for value in together)


def test_empty_completion_scores_zero_unasked_and_no_rubric_is_none(judge_dir):
    reward = LocalJudgeReward(judge_dir, min_mass=0.0)
    calls, handle = _forwards(reward)
    assert reward(prompts=["p", "q"], completions=["", "   "], rubric=["r", "r"]) == [0.0, 0.0]
    assert reward(prompts=["p"], completions=["text"], rubric=[None]) == [None]
    assert reward(prompts=["p"], completions=["text"], rubric=[""]) == [None]
    assert calls == []
    first = reward(prompts=["p"], completions=["text"], rubric=["r"])
    assert calls == [1] and first[0] is not None
    assert reward(prompts=["p"], completions=["text"], rubric=["r"]) == first  # cached
    assert calls == [1]
    handle.remove()


def test_min_mass_turns_an_unsure_judge_into_none(judge_dir):
    reward = LocalJudgeReward(judge_dir, min_mass=1.0)  # no judge puts all its mass on digits
    assert reward(prompts=["p"], completions=["text"], rubric=["r"]) == [None]


def test_long_prompts_keep_their_end(judge_dir):
    """The grade is read after 'Score: ', so truncation must cut the start, never the end."""
    reward = LocalJudgeReward(judge_dir, min_mass=0.0, max_prompt_tokens=48)
    completion = "the rain falls " * 60
    (grade,) = reward(prompts=["Write."], completions=[completion], rubric=["about rain"])
    model, tokenizer, grade_ids = reward._load()
    text = reward._judge_text(tokenizer, "Write.", completion, "about rain")
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    assert ids.shape[1] > 48
    with torch.no_grad():
        logits = model(input_ids=ids[:, -48:]).logits[0, -1]
    on_grades = torch.softmax(logits, -1)[grade_ids]
    expected = float((on_grades / on_grades.sum() * torch.arange(1, 6.0)).sum())
    assert grade == pytest.approx((expected - 1) / 4, abs=1e-5)


def test_bad_settings_and_missing_model(tmp_path, judge_dir):
    with pytest.raises(InvalidParameterError, match="single digits with low < high"):
        LocalJudgeReward(judge_dir, low=5, high=5)
    with pytest.raises(InvalidParameterError, match="'expected' or 'greedy'"):
        LocalJudgeReward(judge_dir, scoring="mean")
    reward = LocalJudgeReward(tmp_path)
    with pytest.raises(InvalidParameterError, match="not a model folder"):
        reward(prompts=["p"], completions=["x"], rubric=["r"])


def test_pickles_without_its_model(judge_dir):
    reward = LocalJudgeReward(judge_dir, min_mass=0.0)
    before = reward(prompts=["p"], completions=["text"], rubric=["r"])
    copy = pickle.loads(pickle.dumps(reward))
    assert copy._loaded is None and copy._cache == {}
    assert copy(prompts=["p"], completions=["text"], rubric=["r"]) == pytest.approx(before)
