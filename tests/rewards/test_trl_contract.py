"""Our rewards inside a real TRL GRPOTrainer step (tiny random model, CPU, no downloads)."""

import pytest

from taskorder.rewards import choice_reward, format_reward, math_reward, task_router

pytestmark = [pytest.mark.slow, pytest.mark.trl]


def test_grpo_trainer_calls_our_rewards_and_skips_none(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("trl")
    from datasets import Dataset
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    from trl import GRPOConfig, GRPOTrainer

    words = [
        "what",
        "is",
        "two",
        "plus",
        "two",
        "four",
        "capital",
        "of",
        "france",
        "paris",
        "A",
        "B",
        "answer",
        "boxed",
    ]
    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.train_from_iterator(
        [" ".join(words)], trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>", "</s>"])
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="<unk>", pad_token="<pad>", eos_token="</s>"
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=128,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )
    dataset = Dataset.from_list(
        [
            {"prompt": "what is two plus two", "task": "math", "answer": "4", "options": None},
            {
                "prompt": "capital of france",
                "task": "choice",
                "answer": "B",
                "options": ["lyon", "paris"],
            },
        ]
        * 2
    )
    calls = []

    def spy(prompts, completions, completion_ids, task, answer, trainer_state, **kwargs):
        calls.append(
            {
                "n": len(completions),
                "task": list(task),
                "answer": list(answer),
                "ids": completion_ids is not None,
                "state": trainer_state is not None,
            }
        )
        return [None] * len(completions)  # never applies: TRL must skip it

    spy.__name__ = "spy"
    route = task_router({"math": math_reward, "choice": choice_reward})
    args = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=4,
        max_steps=1,
        learning_rate=1e-4,
        report_to=[],
        use_cpu=True,
        logging_steps=1,
        save_strategy="no",
        bf16=False,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[route, format_reward, spy],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.train()
    assert trainer.reward_func_names == ["task_reward", "format_reward", "spy"]
    assert calls and calls[0]["n"] == 4 and calls[0]["ids"] and calls[0]["state"]
    assert sorted(set(calls[0]["task"])) == ["choice", "math"]
    logged = trainer.state.log_history[0]
    assert "rewards/task_reward/mean" in logged and "rewards/format_reward/mean" in logged
