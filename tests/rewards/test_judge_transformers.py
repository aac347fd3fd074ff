"""The transformers judge backend, end to end on a tiny random model (no downloads).

Marked slow: importing torch and transformers alone takes 10-20 s on a small CPU box.
The imports happen inside the fixture so that deselecting these tests skips them.
"""

import pytest

from taskorder.rewards import Judge, JudgeReward, TransformersBackend

pytestmark = pytest.mark.slow

CORPUS = [
    "Score: 1 2 3 4 5 6 7 8 9 10",
    "You are grading a response against a rubric.",
    "Question Response Rubric Grade the response on an integer scale",
    "Winner: A B tie",
]


@pytest.fixture(scope="module")
def tiny_model():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.train_from_iterator(
        CORPUS, trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>", "</s>"])
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="<unk>", pad_token="<pad>", eos_token="</s>"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return LlamaForCausalLM(config).eval(), tokenizer


def test_local_model_generates_and_garbage_is_skipped(tiny_model):
    model, tokenizer = tiny_model
    backend = TransformersBackend(model, tokenizer, max_new_tokens=6)
    reply = backend("Grade the response")
    assert isinstance(reply, str)
    assert backend("Grade the response") == reply  # greedy: deterministic
    judge = Judge(backend)
    reward = JudgeReward(judge)
    out = reward(prompts=["Question"], completions=["Response"], rubric=["Rubric"])
    # A random model cannot write a valid "Score: N" line (or, rarely, it might):
    assert out[0] is None or 0.0 <= out[0] <= 1.0
    assert judge.stats_["backend_errors"] == 0
    assert judge.stats_["requests"] == 1


def test_model_loaded_from_a_path(tiny_model, tmp_path):
    model, tokenizer = tiny_model
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    backend = TransformersBackend(str(tmp_path), max_new_tokens=4)
    assert str(tmp_path) in backend.backend_id
    assert isinstance(backend("Score:"), str)


def test_generation_failure_becomes_none(tiny_model, monkeypatch):
    model, tokenizer = tiny_model

    def out_of_memory(**kwargs):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(model, "generate", out_of_memory)
    judge = Judge(TransformersBackend(model, tokenizer, max_new_tokens=4))
    assert JudgeReward(judge)(prompts=["q"], completions=["a"], rubric=["r"]) == [None]
    assert judge.stats_["backend_errors"] == 1


def counting_generate(model, monkeypatch):
    """Count the model's real ``generate`` calls and the batch size of each."""
    sizes, real = [], model.generate

    def generate(**kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        return real(**kwargs)

    monkeypatch.setattr(model, "generate", generate)
    return sizes


PROMPTS = [
    "Score:",
    "Grade the response on an integer scale",
    "Winner: A B tie Question",
    "Response",
    "You are grading a response against a rubric. Score: 1 2 3",
]


def test_a_batch_gives_the_replies_one_at_a_time_would(tiny_model, monkeypatch):
    model, tokenizer = tiny_model
    backend = TransformersBackend(model, tokenizer, max_new_tokens=6, batch_size=4)
    alone = [backend(prompt) for prompt in PROMPTS]
    sizes = counting_generate(model, monkeypatch)
    padding_side = tokenizer.padding_side
    assert backend.batch(PROMPTS) == alone  # left padding changes nothing (greedy)
    assert sizes == [4, 1] and tokenizer.padding_side == padding_side


def test_judge_reward_generates_a_batch_together(tiny_model, monkeypatch):
    model, tokenizer = tiny_model
    judge = Judge(TransformersBackend(model, tokenizer, max_new_tokens=4, batch_size=8))
    sizes = counting_generate(model, monkeypatch)
    n = 12
    out = JudgeReward(judge)(
        prompts=[f"Question {i}" for i in range(n)],
        completions=["Response"] * (n - 1) + ["  "],
        rubric=["Rubric"] * n,
    )
    assert sizes == [8, 3]  # 11 prompts in two generates; the blank one is not asked
    assert out[-1] == 0.0
    # a random model's reply is not a "Score: N" line: None, counted, never an exception
    assert all(value is None or 0.0 <= value <= 1.0 for value in out[:-1])
    assert judge.stats_["unparsable"] == sum(value is None for value in out)
    assert judge.stats_["backend_errors"] == 0
