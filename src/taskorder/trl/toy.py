"""A tiny, offline, CPU-sized world for tests, benchmarks and the offline example.

Everything is built locally and seeded: a byte-level BPE tokenizer trained in-process
with ``tokenizers``, a random small Qwen2 causal LM, three synthetic tasks and a short
supervised warm-up so that rewards start neither at zero nor at one.

Tasks (rows carry ``prompt``, ``task`` and the reward's columns):

``arithmetic``
    ``"3+4="`` → ``" 7"``; column ``answer``; reward: the last number equals it.
``qa``
    Distractor QA: ``"Which is a fruit?\\nA) cow\\nB) plum\\nC) saw\\nAnswer:"`` → ``" B"``;
    columns ``options`` and ``answer`` (the label); reward: the picked label.
``describe``
    Open-ended: ``"Describe a cat:"`` → a short phrase; column ``keywords``; reward: a
    rule-based judge stand-in (share of the subject's keywords used, 0 past 24 words).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from taskorder.exceptions import require

__all__ = [
    "TOY_REWARDS",
    "build_toy_model_dir",
    "make_toy_model",
    "supervised_warmup",
    "toy_task_rows",
    "train_toy_tokenizer",
    "write_toy_task_files",
]

_CATEGORIES = {
    "fruit": ["apple", "pear", "plum", "fig", "lime", "kiwi"],
    "animal": ["cat", "dog", "cow", "owl", "fox", "hen"],
    "color": ["red", "blue", "green", "pink", "gray", "teal"],
    "tool": ["saw", "axe", "drill", "file", "hammer", "rake"],
}
_SUBJECTS = {
    "cat": ["fur", "purr", "paws"],
    "dog": ["bark", "tail", "loyal"],
    "sea": ["waves", "salt", "blue"],
    "tree": ["leaves", "roots", "bark"],
    "sun": ["hot", "bright", "sky"],
    "rain": ["wet", "cloud", "drops"],
    "city": ["streets", "cars", "people"],
    "snow": ["cold", "white", "winter"],
}
_FILLERS = ["and", "with", "so", "very", "the", "a", "many"]

#: Reward type of each toy task (names resolved by :func:`taskorder.trl.rewards.resolve_reward`).
TOY_REWARDS = {"arithmetic": "math", "qa": "choice", "describe": "keywords"}


def _arithmetic(rng: random.Random) -> list[dict[str, Any]]:
    pairs = [(a, b) for a in range(10) for b in range(10)]
    rng.shuffle(pairs)
    return [{"prompt": f"{a}+{b}=", "answer": str(a + b), "target": f" {a + b}"} for a, b in pairs]


def _qa(rng: random.Random, n_rows: int) -> list[dict[str, Any]]:
    rows = []
    names = sorted(_CATEGORIES)
    for _ in range(n_rows):
        category = rng.choice(names)
        others = rng.sample([c for c in names if c != category], 2)
        options = [rng.choice(_CATEGORIES[category])] + [rng.choice(_CATEGORIES[c]) for c in others]
        rng.shuffle(options)
        label = "ABC"[[o in _CATEGORIES[category] for o in options].index(True)]
        listing = "\n".join(f"{letter}) {option}" for letter, option in zip("ABC", options))
        rows.append(
            {
                "prompt": f"Which is a {category}?\n{listing}\nAnswer:",
                "options": options,
                "answer": label,
                "target": f" {label}",
            }
        )
    return rows


def _describe(rng: random.Random, n_rows: int) -> list[dict[str, Any]]:
    rows = []
    subjects = sorted(_SUBJECTS)
    for _ in range(n_rows):
        subject = rng.choice(subjects)
        keywords = _SUBJECTS[subject]
        used = rng.sample(keywords, rng.randint(1, len(keywords)))
        words = []
        for word in used:
            words += [rng.choice(_FILLERS), word]
        rows.append(
            {
                "prompt": f"Describe a {subject}:",
                "keywords": list(keywords),
                "target": " " + " ".join(words),
            }
        )
    return rows


def toy_task_rows(
    *, n_train: int = 64, n_eval: int = 16, seed: int = 0
) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Rows of the three toy tasks as ``{task: (train_rows, eval_rows)}``.

    Every row has ``prompt`` and the reward columns; ``target`` is the warm-up answer
    (not used by the rewards). Eval prompts are disjoint from train prompts where the
    task has enough distinct prompts (arithmetic has 100).

    Parameters
    ----------
    n_train : int, default 64
        Training rows per task (arithmetic: at most ``100 - n_eval``).
    n_eval : int, default 16
        Held-out rows per task.
    seed : int, default 0
        Seed of the rows.

    Returns
    -------
    dict of str to (list of dict, list of dict)
        ``{"arithmetic" | "qa" | "describe": (train_rows, eval_rows)}``.

    Examples
    --------
    >>> rows = toy_task_rows(n_train=4, n_eval=2)
    >>> sorted(rows), len(rows["qa"][0]), rows["arithmetic"][0][0]["prompt"]
    (['arithmetic', 'describe', 'qa'], 4, '2+3=')
    """
    rng = random.Random(seed)
    arithmetic = _arithmetic(rng)
    n_arith_train = min(n_train, len(arithmetic) - n_eval)
    tasks = {
        "arithmetic": (arithmetic[:n_arith_train], arithmetic[-n_eval:]),
        "qa": (_qa(rng, n_train), _qa(rng, n_eval)),
        "describe": (_describe(rng, n_train), _describe(rng, n_eval)),
    }
    return tasks


def train_toy_tokenizer(texts: list[str], *, vocab_size: int = 384):
    """Train a byte-level BPE tokenizer on ``texts`` and wrap it for transformers.

    Returns a ``PreTrainedTokenizerFast`` with ``<|pad|>`` (pad) and ``<|eos|>``
    (eos) special tokens and left padding.
    """
    require("tokenizers", "trl")
    require("transformers", "trl")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|pad|>", "<|eos|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|eos|>", pad_token="<|pad|>"
    )
    wrapped.padding_side = "left"
    return wrapped


def make_toy_model(tokenizer, *, hidden_size: int = 64, n_layers: int = 2, seed: int = 0):
    """A random small Qwen2 causal LM sized for ``tokenizer`` (float32, CPU).

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        Gives the vocabulary size and the pad and eos tokens (eos also serves as bos).
    hidden_size : int, default 64
        Width of the model (the MLP is twice as wide; 4 attention heads, 2 key/value
        heads, so a multiple of 4).
    n_layers : int, default 2
        Transformer layers.
    seed : int, default 0
        Seed of the random initial weights.

    Returns
    -------
    transformers.PreTrainedModel
        The untrained model, with its generation config's pad and eos tokens set.
    """
    require("torch", "trl")
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=n_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def supervised_warmup(
    model,
    tokenizer,
    pairs: list[tuple[str, str]],
    *,
    steps: int = 150,
    batch_size: int = 32,
    learning_rate: float = 3e-3,
    seed: int = 0,
) -> list[float]:
    """Teach ``model`` the answer format with plain next-token loss on the answers.

    Parameters
    ----------
    pairs : list of (prompt, answer)
        The loss covers the answer tokens and a final eos token only.
    steps, batch_size, learning_rate, seed
        A short AdamW run; returns the loss of every step.
    """
    import torch

    generator = random.Random(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    encoded = []
    for prompt, answer in pairs:
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] + [
            tokenizer.eos_token_id
        ]
        encoded.append((prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids))
    model.train()
    losses = []
    for _ in range(steps):
        batch = [encoded[generator.randrange(len(encoded))] for _ in range(batch_size)]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.full((len(batch), width), tokenizer.pad_token_id)
        labels = torch.full((len(batch), width), -100)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (ids, label) in enumerate(batch):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            labels[row, : len(ids)] = torch.tensor(label)
            mask[row, : len(ids)] = 1
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.eval()
    return losses


def build_toy_model_dir(
    path: str | Path,
    *,
    warmup_steps: int = 150,
    n_train: int = 64,
    n_eval: int = 16,
    hidden_size: int = 64,
    seed: int = 0,
) -> tuple[Path, dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]]:
    """Build tokenizer + model, warm it up on the toy tasks and save both to ``path``.

    Returns the model directory and the task rows (``toy_task_rows`` with the same
    sizes and seed). ``warmup_steps=0`` leaves the model random.

    Parameters
    ----------
    path : str or Path
        The model directory to write (created).
    warmup_steps : int, default 150
        Steps of :func:`supervised_warmup` on the training rows' answers; 0 for none.
    n_train, n_eval : int, default 64 and 16
        Rows per task and split (as in :func:`toy_task_rows`).
    hidden_size : int, default 64
        Width of the model (as in :func:`make_toy_model`).
    seed : int, default 0
        Seed of the rows, the initial weights and the warm-up.

    Returns
    -------
    tuple of (Path, dict)
        The model directory and ``{task: (train_rows, eval_rows)}``.
    """
    rows = toy_task_rows(n_train=n_train, n_eval=n_eval, seed=seed)
    texts = [
        row["prompt"] + row["target"]
        for train, evaluation in rows.values()
        for row in train + evaluation
    ]
    tokenizer = train_toy_tokenizer(texts * 4)
    model = make_toy_model(tokenizer, hidden_size=hidden_size, seed=seed)
    if warmup_steps:
        pairs = [(row["prompt"], row["target"]) for train, _ in rows.values() for row in train]
        supervised_warmup(model, tokenizer, pairs, steps=warmup_steps, seed=seed)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path, rows


def write_toy_task_files(
    rows: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]], directory: str | Path
) -> dict[str, dict[str, str]]:
    """Write each task's rows as ``<task>_train.jsonl`` / ``<task>_eval.jsonl``.

    Returns ``{task: {"train": path, "eval": path, "reward": name}}``, the shape of the
    ``tasks`` section of a ``taskorder train`` config. The warm-up ``target`` is dropped.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec = {}
    for task, (train, evaluation) in rows.items():
        paths = {}
        for split, split_rows in (("train", train), ("eval", evaluation)):
            path = directory / f"{task}_{split}.jsonl"
            lines = [
                json.dumps({k: v for k, v in row.items() if k != "target"}) for row in split_rows
            ]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            paths[split] = str(path)
        spec[task] = {**paths, "reward": TOY_REWARDS[task]}
    return spec
