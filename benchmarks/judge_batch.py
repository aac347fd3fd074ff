"""Local judge: one ``generate`` per completion vs left-padded batches (TransformersBackend).

Run: python benchmarks/judge_batch.py [--completions 16] [--max-new-tokens 16] [--repeats 3]
[--layers 30]

The model has SmolLM2-135M's architecture (30 layers, width 576, 9 heads / 3 KV heads,
49,152-token vocabulary) with random weights, so nothing is downloaded; a random model
never stops early, so every reply runs to ``max_new_tokens`` (the slow case). The
tokenizer is trained in-process. Each completion is judged with the real pointwise
prompt of :class:`taskorder.rewards.Judge`, completions of 20-120 words. Reported:
seconds per batch for ``backend(prompt)`` in a loop and for ``backend.batch(prompts)``
(batch_size 16 and 64), each the median of ``--repeats`` runs with the spread (min-max),
and whether both ways gave the same replies. Raw rows go to ``judge_batch.csv`` here.
``--layers`` shrinks the depth (same width) for a quick run on a busy CPU.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import time
from pathlib import Path


def build(seed: int, layers: int = 30):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from taskorder.rewards.judge.core import POINTWISE_TEMPLATE

    words = POINTWISE_TEMPLATE.replace("{", " ").replace("}", " ").split()
    corpus = [" ".join(words)] + [f"word{i} Score: {i % 10}" for i in range(2000)]
    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.train_from_iterator(
        corpus, trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>", "</s>"])
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="<unk>", pad_token="<pad>", eos_token="</s>"
    )
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=49152,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=layers,
        num_attention_heads=9,
        num_key_value_heads=3,
        max_position_embeddings=8192,
        rope_theta=100000.0,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return LlamaForCausalLM(config).eval(), tokenizer


def prompts_for(judge, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        completion = " ".join(f"word{rng.randrange(2000)}" for _ in range(rng.randint(20, 120)))
        texts.append(judge.pointwise_prompt(f"Question {i}", completion, "Correct and brief."))
    return texts


def timed(function, repeats: int):
    seconds, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completions", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layers", type=int, default=30)
    args = parser.parse_args()

    import torch

    from taskorder.rewards import Judge, TransformersBackend

    torch.set_num_threads(args.threads)
    model, tokenizer = build(args.seed, args.layers)
    prompts = prompts_for(Judge(lambda prompt: ""), args.completions, args.seed)
    rows = []
    loop = TransformersBackend(model, tokenizer, max_new_tokens=args.max_new_tokens)
    seconds, reference = timed(lambda: [loop(prompt) for prompt in prompts], args.repeats)
    rows.append(("one generate per completion", 1, seconds, True))
    for batch_size in (16, 64):
        backend = TransformersBackend(
            model, tokenizer, max_new_tokens=args.max_new_tokens, batch_size=batch_size
        )
        seconds, replies = timed(lambda backend=backend: backend.batch(prompts), args.repeats)
        rows.append(
            (f"batch(prompts), batch_size={batch_size}", batch_size, seconds, replies == reference)
        )
    out = Path(__file__).with_name("judge_batch.csv")
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "way",
                "batch_size",
                "completions",
                "max_new_tokens",
                "layers",
                "threads",
                "repeat",
                "seconds",
                "same_replies",
            ]
        )
        for way, size, seconds, same in rows:
            for repeat, value in enumerate(seconds):
                writer.writerow(
                    [
                        way,
                        size,
                        args.completions,
                        args.max_new_tokens,
                        args.layers,
                        args.threads,
                        repeat,
                        f"{value:.3f}",
                        same,
                    ]
                )
    print(
        f"{args.completions} completions, {args.max_new_tokens} new tokens, {args.layers} layers, "
        f"{args.threads} threads"
    )
    for way, _, seconds, same in rows:
        print(
            f"{way:40s} median {statistics.median(seconds):6.2f} s "
            f"(min {min(seconds):.2f}, max {max(seconds):.2f}); same replies: {same}"
        )
    print(f"raw: {out}")


if __name__ == "__main__":
    main()
