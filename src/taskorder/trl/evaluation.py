"""Evaluate a policy on one task's held-out prompts: reward score and token entropy.

The score is the mean reward of sampled completions (the task's own TRL reward
function); the entropy is the mean, over every sampled completion token, of the
entropy (nats) of the policy's next-token distribution at sampling temperature,
the quantity TRL logs globally as ``entropy`` during training, here per task.

Sampling runs under ``torch.random.fork_rng`` with its own seed, so evaluating in
the middle of a run never changes the training run's random stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import Field, model_validator

from taskorder.config_file import StrictModel
from taskorder.exceptions import InvalidParameterError

__all__ = ["EvalConfig", "evaluate_policy"]


class EvalConfig(StrictModel):
    """How held-out prompts are sampled and scored at evaluation time.

    The one evaluation settings model: the ``evaluation`` section of a real-model config
    (:class:`~taskorder.trl.config.EvaluationSpec` adds the training-only
    ``evaluate_at_start``), the TRL runner and the stage callback all take it.

    Parameters
    ----------
    n_samples : int
        Completions sampled per prompt.
    max_prompts : int or None
        Evaluate at most this many held-out prompts per task (the first ones).
    max_new_tokens : int
        Completion length limit; match GRPO's ``max_completion_length``.
    temperature : float
        Sampling temperature; 0 means greedy (then ``n_samples`` must be 1).
    top_p : float
        Nucleus sampling mass.
    batch_size : int
        Prompts per ``generate`` call.
    seed : int
        Seed of the sampling (the training random stream is left untouched).

    Examples
    --------
    >>> EvalConfig(n_samples=2).max_new_tokens
    32
    >>> EvalConfig(temperature=0.0, n_samples=4)
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Invalid EvalConfig: temperature=0 (greedy decoding) gives the same completion every time; set n_samples=1 or a positive temperature. Got n_samples=4.
    """

    n_samples: int = Field(default=4, ge=1, description="Completions sampled per held-out prompt.")
    max_prompts: int | None = Field(
        default=64, ge=1, description="Held-out prompts per task (None: all of them)."
    )
    max_new_tokens: int = Field(
        default=32, ge=1, description="Completion length limit; match max_completion_length."
    )
    temperature: float = Field(
        default=1.0, ge=0, description="Sampling temperature; 0 = greedy (needs n_samples=1)."
    )
    top_p: float = Field(default=1.0, gt=0, le=1, description="Nucleus sampling mass in (0, 1].")
    batch_size: int = Field(default=16, ge=1, description="Prompts per generate call.")
    seed: int = Field(default=0, ge=0, description="Seed of evaluation sampling.")

    @model_validator(mode="after")
    def _greedy_needs_one_sample(self) -> EvalConfig:
        if self.temperature == 0 and self.n_samples != 1:
            raise ValueError(
                "temperature=0 (greedy decoding) gives the same completion every time; set "
                f"n_samples=1 or a positive temperature. Got n_samples={self.n_samples}"
            )
        return self


def _is_conversational(prompt: Any) -> bool:
    return isinstance(prompt, Sequence) and not isinstance(prompt, str)


def _prompt_text(tokenizer: Any, prompt: Any) -> str:
    if _is_conversational(prompt):
        return tokenizer.apply_chat_template(
            list(prompt), tokenize=False, add_generation_prompt=True
        )
    return str(prompt)


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        for name in row:
            if name != "prompt":
                names.setdefault(name)
    return list(names)


def _generate(model, tokenizer, texts: list[str], config: EvalConfig):
    """Sample ``n_samples`` completions per text; return (ids per completion, entropy sum, tokens)."""
    from transformers import GenerationConfig

    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tokenizer.padding_side = side
    device = next(model.parameters()).device
    batch = {key: value.to(device) for key, value in batch.items()}
    greedy = config.temperature == 0
    # A fresh GenerationConfig, like GRPOTrainer's: the model's own sampling defaults
    # (top_k, repetition_penalty, ...) would make evaluation sample another policy.
    generation = GenerationConfig(
        do_sample=not greedy,
        temperature=1.0 if greedy else float(config.temperature),
        top_p=1.0 if greedy else float(config.top_p),
        top_k=0,
        max_new_tokens=config.max_new_tokens,
        num_return_sequences=config.n_samples,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        use_cache=True,
    )
    sequences = model.generate(**batch, generation_config=generation)
    prompt_mask = batch["attention_mask"].repeat_interleave(config.n_samples, dim=0)
    completions = sequences[:, prompt_mask.shape[1] :]
    eos = completions == tokenizer.eos_token_id
    # Keep tokens up to and including the first eos (TRL's completion mask).
    mask = ~((eos.cumsum(dim=1) - eos.long()) > 0)
    entropy = _entropy_sum(
        model, sequences, prompt_mask, mask, 1.0 if greedy else config.temperature
    )
    ids = [row[m].tolist() for row, m in zip(completions, mask)]
    return ids, entropy, int(mask.sum())


def _entropy_sum(model, sequences, prompt_mask, completion_mask, temperature: float, rows: int = 4):
    """Sum over completion tokens of the entropy of ``softmax(logits / temperature)``.

    One extra forward pass over the sampled sequences, a few rows at a time and keeping
    only the completion positions' logits (what TRL does for its ``entropy`` metric), so
    memory stays ``rows * completion_length * vocab`` whatever the batch size.
    """
    import torch

    attention = torch.cat([prompt_mask, completion_mask.long()], dim=1)
    positions = (attention.cumsum(dim=1) - 1).clamp(min=0)
    n_completion = completion_mask.shape[1]
    total = 0.0
    for start in range(0, sequences.shape[0], rows):
        part = slice(start, start + rows)
        logits = model(
            input_ids=sequences[part],
            attention_mask=attention[part],
            position_ids=positions[part],
            logits_to_keep=n_completion + 1,
            use_cache=False,
        ).logits[:, :-1, :]
        log_probs = torch.log_softmax(logits.float() / float(temperature), dim=-1)
        entropy = -(log_probs.exp() * log_probs).sum(dim=-1)
        total += float((torch.nan_to_num(entropy) * completion_mask[part]).sum())
    return total


def _score(
    reward: Callable[..., Any],
    tokenizer: Any,
    chunk: Sequence[Mapping[str, Any]],
    ids: list[list[int]],
    names: list[str],
    n_samples: int,
) -> list[float]:
    """The rewards of the scored completions (``n_samples`` per row of ``chunk``, in order).

    ``reward`` is called as TRL calls it: prompts, completions (a message list for a
    conversational prompt, text otherwise), completion ids and the rows' other
    ``names`` columns; ``None`` values (rows it does not score) are dropped.
    """
    repeated = [row for row in chunk for _ in range(n_samples)]
    decoded = tokenizer.batch_decode(ids, skip_special_tokens=True)
    completions: list[Any] = [
        [{"role": "assistant", "content": text}] if _is_conversational(row["prompt"]) else text
        for text, row in zip(decoded, repeated)
    ]
    columns = {name: [row.get(name) for row in repeated] for name in names}
    scored = reward(
        prompts=[row["prompt"] for row in repeated],
        completions=completions,
        completion_ids=ids,
        **columns,
    )
    return [float(value) for value in scored if value is not None]


def evaluate_policy(
    model: Any,
    tokenizer: Any,
    rows: Sequence[Mapping[str, Any]],
    reward: Callable[..., Any],
    config: EvalConfig | None = None,
    *,
    task: str = "task",
):
    """Score ``model`` on held-out ``rows`` with ``reward``; measure its token entropy.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A causal LM; it is put in eval mode and its mode restored afterwards.
    tokenizer : transformers.PreTrainedTokenizerBase
        Its tokenizer (conversational prompts use its chat template).
    rows : sequence of mapping
        Held-out rows with a ``prompt`` (text or messages) and the reward's columns.
    reward : callable
        A TRL reward function for this task.
    config : EvalConfig, optional
        Sampling settings.
    task : str
        The task's name, for error messages.

    Returns
    -------
    taskorder.runner.Evaluation
        ``score`` (mean reward of the scored completions), ``entropy`` (mean token
        entropy in nats), ``score_stderr`` and ``n_samples`` (completions scored).

    Raises
    ------
    InvalidParameterError
        If there is no row, or the reward scores none of the completions.
    """
    import torch

    from taskorder.runner import Evaluation

    config = config or EvalConfig()
    rows = list(rows)[: config.max_prompts] if config.max_prompts else list(rows)
    if not rows:
        raise InvalidParameterError(f"Task {task!r} has no held-out prompt to evaluate.")
    names = _columns(rows)
    rewards: list[float] = []
    entropy_sum, n_tokens = 0.0, 0
    was_training = model.training
    model.eval()
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(config.seed)
            for start in range(0, len(rows), config.batch_size):
                chunk = rows[start : start + config.batch_size]
                texts = [_prompt_text(tokenizer, row["prompt"]) for row in chunk]
                ids, batch_entropy, batch_tokens = _generate(model, tokenizer, texts, config)
                entropy_sum += batch_entropy
                n_tokens += batch_tokens
                rewards.extend(_score(reward, tokenizer, chunk, ids, names, config.n_samples))
    finally:
        model.train(was_training)
    if not rewards:
        raise InvalidParameterError(
            f"The reward of task {task!r} returned None for every evaluation completion; check "
            "that the held-out rows carry the columns it reads."
        )
    mean = sum(rewards) / len(rewards)
    variance = sum((value - mean) ** 2 for value in rewards) / max(1, len(rewards) - 1)
    return Evaluation(
        score=float(mean),
        entropy=float(entropy_sum / max(1, n_tokens)),
        score_stderr=float(math.sqrt(variance / len(rewards))),
        n_samples=len(rewards),
    )
