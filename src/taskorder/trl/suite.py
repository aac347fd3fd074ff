"""A task suite for small real language models, generated offline (no downloads).

Four tasks sized so that a 135M instruct model (SmolLM2-135M-Instruct) starts above
zero and below its ceiling and can move within 10-20 GRPO steps. Prompts are chat
messages (the model's chat template applies); every row carries ``task`` and its
reward's columns.

==============  ==========  ===========================================  ================
task            kind        prompt                                       reward
==============  ==========  ===========================================  ================
``arithmetic``  structured  "What is 7 + 5? Reply with only the number."  ``math`` (0/1)
``choice``      structured  "Which of these is a fruit? A) ... D) ..."   ``choice`` (0/1)
``poem``        open        "Write a two-line poem about the sea."       ``judge`` (rubric)
``advice``      open        "Give one short piece of advice to ..."      ``judge`` (rubric)
==============  ==========  ===========================================  ================

Train and held-out prompts are disjoint (operands, items and subjects are split
before prompts are drawn). :func:`write_suite` writes ``<task>.train.jsonl`` and
``<task>.eval.jsonl`` files and a config that ``taskorder probe``, ``train`` and
``compare`` read.

Examples
--------
>>> rows = suite_rows("arithmetic", "train", seed=0)
>>> rows[0]["prompt"][0]["role"], sorted(rows[0])
('user', ['answer', 'prompt', 'task'])
>>> sorted(SUITE_REWARDS.items())
[('advice', 'judge'), ('arithmetic', 'math'), ('choice', 'choice'), ('poem', 'judge')]
"""

from __future__ import annotations

import json
import random
from functools import partial
from pathlib import Path
from typing import Any

from taskorder.exceptions import InvalidParameterError

__all__ = ["SUITE_KINDS", "SUITE_REWARDS", "suite_config", "suite_rows", "write_suite"]

#: Reward name of each suite task.
SUITE_REWARDS = {"arithmetic": "math", "choice": "choice", "poem": "judge", "advice": "judge"}
#: ``structured`` (verifiable reward) or ``open`` (judged) for each task.
SUITE_KINDS = {"arithmetic": "structured", "choice": "structured", "poem": "open", "advice": "open"}

# No word may belong to two categories, even by another meaning (no "orange" colour
# beside the fruits, no "plane" vehicle beside the tools): one right option per row.
_CATEGORIES = {
    "fruit": ["apple", "pear", "banana", "grape", "cherry", "lemon", "peach", "plum", "mango"],
    "animal": ["horse", "tiger", "rabbit", "sheep", "eagle", "whale", "mouse", "zebra", "goat"],
    "colour": ["red", "blue", "green", "yellow", "purple", "grey", "pink", "brown", "white"],
    "tool": ["hammer", "saw", "wrench", "drill", "shovel", "rake", "chisel", "pliers", "axe"],
    "vehicle": ["car", "bus", "train", "bicycle", "truck", "boat", "taxi", "tram", "scooter"],
}
_POEM_SUBJECTS = [
    "the sea",
    "a cat",
    "rain",
    "the moon",
    "a forest",
    "winter",
    "a city at night",
    "the sun",
    "a river",
    "autumn leaves",
    "a mountain",
    "the wind",
    "a garden",
    "snow",
    "the stars",
    "a candle",
    "an old house",
    "a bird",
    "the desert",
    "morning coffee",
    "a storm",
    "spring",
    "a lighthouse",
    "a train",
    "the ocean floor",
    "a clock",
    "a bridge",
    "fog",
    "a library",
    "a field of wheat",
    "a campfire",
    "the first day of school",
]
_ADVICE_SITUATIONS = [
    "is starting a new job",
    "cannot sleep at night",
    "wants to learn to cook",
    "feels nervous before an exam",
    "is moving to a new city",
    "wants to save money",
    "has too much work",
    "wants to get fit",
    "argued with a friend",
    "is learning a language",
    "wants to read more books",
    "is bored on a rainy day",
    "forgets things often",
    "is giving a speech tomorrow",
    "wants to drink more water",
    "spends too long on the phone",
    "is adopting a dog",
    "wants to wake up earlier",
    "is planning a trip",
    "feels lonely",
    "wants to write a story",
    "is painting a room",
    "starts university next week",
    "wants to grow vegetables",
    "has a job interview",
    "is hosting a dinner",
    "lost their keys again",
    "wants to be more patient",
    "is learning to drive",
    "wants to keep a diary",
    "is buying a first bicycle",
    "finds it hard to focus",
]


def _chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _split(items: list[Any], split: str, seed: int) -> list[Any]:
    """The train or eval part (three quarters / one quarter) of a fixed shuffle."""
    shuffled = list(items)
    random.Random(f"taskorder-suite-{seed}").shuffle(shuffled)
    cut = (3 * len(shuffled)) // 4
    return shuffled[:cut] if split == "train" else shuffled[cut:]


def _arithmetic(split: str, seed: int, n_rows: int) -> list[dict[str, Any]]:
    pairs = _split([(a, b) for a in range(10) for b in range(10)], split, seed)
    rng = random.Random(f"arithmetic-{split}-{seed}")
    rows = []
    for _ in range(n_rows):
        a, b = rng.choice(pairs)
        rows.append(
            {
                "prompt": _chat(f"What is {a} + {b}? Reply with only the number."),
                "answer": str(a + b),
            }
        )
    return rows


def _choice(split: str, seed: int, n_rows: int) -> list[dict[str, Any]]:
    from taskorder.rewards.choice import make_choice_prompt

    rng = random.Random(f"choice-{split}-{seed}")
    items = {name: _split(words, split, seed) for name, words in _CATEGORIES.items()}
    rows = []
    for _ in range(n_rows):
        category = rng.choice(sorted(items))
        answer = rng.choice(items[category])
        others = [c for c in sorted(items) if c != category]
        distractors = [rng.choice(_CATEGORIES[c]) for c in rng.sample(others, 3)]
        made = make_choice_prompt(
            f"Which of these is a {category}?", answer, distractors, seed=rng.randrange(2**31)
        )
        rows.append(
            {"prompt": _chat(made.text), "options": list(made.options), "answer": made.label}
        )
    return rows


def _judged(
    task: str, items: list[str], prompt: str, rubric: str, split: str, seed: int, n_rows: int
) -> list[dict[str, Any]]:
    """Rows of an open-ended task: ``prompt`` and ``rubric`` filled with one item each."""
    chosen = _split(items, split, seed)
    rng = random.Random(f"{task}-{split}-{seed}")
    rows = []
    for _ in range(n_rows):
        item = rng.choice(chosen)
        rows.append({"prompt": _chat(prompt.format(item)), "rubric": rubric.format(item)})
    return rows


_poem = partial(
    _judged,
    "poem",
    _POEM_SUBJECTS,
    "Write a two-line poem about {}.",
    "A two-line poem about {}: vivid images, some rhythm, no explanation around it.",
)
_advice = partial(
    _judged,
    "advice",
    _ADVICE_SITUATIONS,
    "Give one short piece of advice to someone who {}.",
    "Practical, kind and specific advice for someone who {}, in one or two sentences.",
)

_BUILDERS = {"arithmetic": _arithmetic, "choice": _choice, "poem": _poem, "advice": _advice}


def suite_rows(
    task: str, split: str, *, seed: int = 0, n_rows: int | None = None
) -> list[dict[str, Any]]:
    """Rows of one suite task (``split`` is ``"train"`` or ``"eval"``).

    Parameters
    ----------
    task : str
        A key of :data:`SUITE_REWARDS`.
    split : {"train", "eval"}
        Training or held-out prompts (disjoint operands / items / subjects).
    seed : int
        Seed of the split and of the drawing.
    n_rows : int, optional
        Rows to draw; default 256 for train, 48 for eval.

    Raises
    ------
    InvalidParameterError
        For an unknown task or split.
    """
    if task not in _BUILDERS:
        raise InvalidParameterError(
            f"Unknown suite task {task!r}. Known: {', '.join(sorted(_BUILDERS))}."
        )
    if split not in ("train", "eval"):
        raise InvalidParameterError(f"The 'split' must be 'train' or 'eval'. Got {split!r}.")
    count = n_rows if n_rows is not None else (256 if split == "train" else 48)
    return [{**row, "task": task} for row in _BUILDERS[task](split, seed, count)]


def suite_config(
    tasks: list[str], *, model: str = "smollm2", output_dir: str = "out"
) -> dict[str, Any]:
    """A config (as a dict) for the suite files written by :func:`write_suite`.

    Probe, train and compare all read it: ``model``, ``tasks``, ``judge``, ``grpo``
    and ``evaluation`` describe the model and tasks; ``probe`` the campaign;
    ``schedule`` the training (the recommended order of the probe campaign's
    ``matrix.json``).

    Parameters
    ----------
    tasks : list of str
        Suite task names (keys of :data:`SUITE_REWARDS`); each reads
        ``<name>.train.jsonl`` and ``<name>.eval.jsonl`` with the suite's reward.
    model : str, default "smollm2"
        The model source of the policy and of the judge (see
        :mod:`taskorder.trl.model_source`).
    output_dir : str, default "out"
        The run directory; ``schedule.bwt`` points to ``<output_dir>/probes/matrix.json``.

    Returns
    -------
    dict
        The config, ready to dump as YAML.
    """
    return {
        "model": model,
        "output_dir": output_dir,
        "seed": 0,
        "tasks": {
            name: {
                "train": f"{name}.train.jsonl",
                "eval": f"{name}.eval.jsonl",
                "reward": SUITE_REWARDS[name],
            }
            for name in tasks
        },
        "judge": {"model": model, "low": 1, "high": 5},
        "grpo": {
            "num_generations": 4,
            "per_device_train_batch_size": 8,
            "max_completion_length": 24,
            "learning_rate": 2.0e-5,
            "lr_scheduler_type": "constant",
            "beta": 0.0,
            "temperature": 1.0,
        },
        "evaluation": {
            "n_samples": 2,
            "max_prompts": 24,
            "max_new_tokens": 24,
            "temperature": 1.0,
        },
        "probe": {"plan": {"steps": 6, "repeats": 2, "seed": 0}},
        "schedule": {"bwt": f"{output_dir}/probes/matrix.json", "steps_per_stage": 6},
    }


def write_suite(
    out: str | Path,
    *,
    tasks: list[str] | None = None,
    seed: int = 0,
    model: str = "smollm2",
    n_train: int = 256,
    n_eval: int = 48,
) -> Path:
    """Write the suite's JSONL files and ``real_lm.yaml`` into ``out``; return the config path.

    Parameters
    ----------
    out : str or Path
        Folder to write into (created).
    tasks : list of str, optional
        Subset of the suite (default: all four).
    seed : int
        Seed of the rows.
    model : str
        The config's model source (see :mod:`taskorder.trl.model_source`).
    n_train, n_eval : int
        Rows per task and split.
    """
    import yaml

    names = list(tasks or SUITE_REWARDS)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        for split, count in (("train", n_train), ("eval", n_eval)):
            rows = suite_rows(name, split, seed=seed, n_rows=count)
            with (out / f"{name}.{split}.jsonl").open("w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps(row) + "\n")
    config = suite_config(names, model=model)
    path = out / "real_lm.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
