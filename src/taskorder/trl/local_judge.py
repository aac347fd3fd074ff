"""An in-process LLM judge for open-ended tasks: a local model grades with a rubric.

:class:`LocalJudgeReward` is a TRL reward function. For every completion it shows a
local causal LM a short grading prompt (:data:`TEMPLATE`: the request, the reply and
the row's ``rubric``; short, because on a CPU the judge's forward pass over the
prompt is most of a GRPO step's cost), pre-fills the judge's reply with ``"Score: "``
and reads the grade from one batched forward pass:

- ``scoring="expected"`` (default): the judge's probability-weighted grade over the
  digit tokens ``low..high``, renormalised over those tokens, mapped to [0, 1]. It
  is never unparsable and varies smoothly, which a GRPO group needs to have any
  signal. ``None`` when the judge puts less than ``min_mass`` of its probability on
  the grade tokens (it did not understand the format).
- ``scoring="greedy"``: the judge's most likely next token; ``None`` when it is not
  a grade in range (the unparsable reply of a text judge).

An empty completion scores 0 without asking the judge; a row without a rubric gets
``None``. Results are cached per (prompt, completion, rubric).

How much to trust it: a 135M judge (SmolLM2-135M-Instruct, the demo model) reads
length, fluency and topical words, not quality. Open-ended rewards from it measure
"what a small model likes", so order effects on those tasks say how training moves
the policy toward that taste, not toward better writing (see docs/real-lm.md).

Examples
--------
>>> reward = LocalJudgeReward("no/such/model")  # doctest: +SKIP
>>> reward(prompts=["Write a line about rain."], completions=["Soft rain taps."],
...        rubric=["vivid and about rain"])  # doctest: +SKIP
[0.62]
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from taskorder.exceptions import InvalidParameterError, require
from taskorder.rewards._common import RewardFunction

__all__ = ["TEMPLATE", "LocalJudgeReward"]

#: The grading prompt (a user message when the judge's tokenizer has a chat template).
TEMPLATE = (
    "Grade the reply to the request from {low} (bad) to {high} (excellent).\n"
    "Request: {prompt}\nReply: {completion}\nWhat a good reply does: {rubric}"
)


class LocalJudgeReward(RewardFunction):
    """Grade completions with a local model and a rubric (see the module docstring).

    Parameters
    ----------
    model_path : str or Path
        A local ``save_pretrained`` folder (see :func:`taskorder.trl.model_source.resolve_model`).
    low, high : int
        The grade scale, single digits (default 1..5).
    scoring : {"expected", "greedy"}
        How the grade is read from the judge's next-token distribution.
    batch_size : int
        Completions per forward pass.
    min_mass : float
        ``expected`` only: least probability on the grade tokens for a grade.
    max_prompt_tokens : int
        The judge prompt is cut (from the left of the response) to this many tokens.
    """

    columns = ("rubric",)

    def __init__(
        self,
        model_path: str | Path,
        *,
        low: int = 1,
        high: int = 5,
        scoring: str = "expected",
        batch_size: int = 16,
        min_mass: float = 0.05,
        max_prompt_tokens: int = 192,
    ) -> None:
        if not (0 <= low < high <= 9):
            raise InvalidParameterError(
                f"The grade scale of LocalJudgeReward must be single digits with low < high. "
                f"Got low={low}, high={high}."
            )
        if scoring not in ("expected", "greedy"):
            raise InvalidParameterError(
                f"The 'scoring' parameter of LocalJudgeReward must be 'expected' or 'greedy'. "
                f"Got {scoring!r}."
            )
        self.model_path = str(model_path)
        self.low, self.high = int(low), int(high)
        self.scoring = scoring
        self.batch_size = int(batch_size)
        self.min_mass = float(min_mass)
        self.max_prompt_tokens = int(max_prompt_tokens)
        self.__name__ = "local_judge"
        self._cache: dict[str, float | None] = {}
        self._loaded: tuple[Any, Any, Any] | None = None
        self._lock = threading.Lock()

    # pickled into probe worker processes without the model
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_loaded=None, _lock=None, _cache={})
        state.pop("_stats_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any, Any]:
        if self._loaded is None:
            require("transformers", "trl")
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            if not (Path(self.model_path) / "config.json").is_file():
                raise InvalidParameterError(
                    f"{self.model_path}: the judge model is not a model folder (no config.json)."
                )
            tokenizer = AutoTokenizer.from_pretrained(self.model_path)
            tokenizer.padding_side = "left"
            tokenizer.truncation_side = "left"  # keep the "Score: " the grade is read after
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=torch.float32)
            model.eval()
            grade_ids = []
            for grade in range(self.low, self.high + 1):
                ids = tokenizer.encode(str(grade), add_special_tokens=False)
                if len(ids) != 1:
                    raise InvalidParameterError(
                        f"The judge's tokenizer splits the grade {grade} into {len(ids)} tokens; "
                        "LocalJudgeReward needs one token per grade."
                    )
                grade_ids.append(ids[0])
            self._loaded = (model, tokenizer, torch.tensor(grade_ids))
        return self._loaded

    def _judge_text(self, tokenizer: Any, prompt: str, completion: str, rubric: str) -> str:
        question = TEMPLATE.format(
            prompt=prompt, completion=completion, rubric=rubric, low=self.low, high=self.high
        )
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True
            )
        else:
            text = question + "\n"
        return text + "Score: "

    def _grades(self, texts: list[str]) -> list[float | None]:
        import torch

        model, tokenizer, grade_ids = self._load()
        out: list[float | None] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start : start + self.batch_size]
            batch = tokenizer(
                chunk,
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.max_prompt_tokens,
            )
            with torch.no_grad():
                logits = model(**batch).logits[:, -1, :].float()
            probs = torch.softmax(logits, dim=-1)
            on_grades = probs[:, grade_ids]
            scale = torch.arange(self.low, self.high + 1, dtype=torch.float32)
            for row in range(len(chunk)):
                if self.scoring == "greedy":
                    best = int(torch.argmax(probs[row]))
                    hits = (grade_ids == best).nonzero()
                    grade = None if len(hits) == 0 else float(scale[int(hits[0])])
                else:
                    mass = float(on_grades[row].sum())
                    grade = (
                        None
                        if mass < self.min_mass
                        else float((on_grades[row] / mass * scale).sum())
                    )
                out.append(None if grade is None else (grade - self.low) / (self.high - self.low))
        return out

    def score_batch(self, texts: list[str | None], rows: list[dict[str, Any]]):
        """Grade every row in batches (cached; empty completions score 0 unasked)."""
        with self._lock:
            _, tokenizer, _ = self._load()
            results: list[float | None] = [None] * len(texts)
            todo: dict[str, list[int]] = {}
            prompts: dict[str, str] = {}
            for index, (text, row) in enumerate(zip(texts, rows)):
                rubric = row.get("rubric")
                if text is None or not rubric:
                    continue
                if not text.strip():
                    results[index] = 0.0
                    continue
                prompt = str(row.get("prompt") or "")
                key = hashlib.sha256(f"{prompt}\x00{text}\x00{rubric}".encode()).hexdigest()
                if key in self._cache:
                    results[index] = self._cache[key]
                    continue
                todo.setdefault(key, []).append(index)
                prompts[key] = self._judge_text(tokenizer, prompt, text, str(rubric))
            keys = list(todo)
            for key, grade in zip(keys, self._grades([prompts[k] for k in keys])):
                self._cache[key] = grade
                for index in todo[key]:
                    results[index] = grade
            return results
