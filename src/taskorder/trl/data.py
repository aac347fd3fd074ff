"""Tasks for GRPO: rows, held-out rows and a reward; loading and combining them.

A task's rows are dicts with a ``prompt`` (text, or a list of chat messages) and
whatever columns its reward reads (``answer``, ``options``, ``tests``, ...). The
multi-task training dataset is the union of all tasks' rows with a ``task`` column
added; columns a task lacks are ``None`` in its rows (rewards return ``None`` for
rows they cannot score, and :func:`~taskorder.trl.reward_specs.for_task` only shows
each reward its own task's rows).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskorder.exceptions import InvalidParameterError, require

__all__ = ["RLTask", "load_rows", "multitask_dataset", "rows_fingerprint", "split_rows"]


@dataclass
class RLTask:
    """One RL task: training rows, held-out rows and the reward that scores them.

    Parameters
    ----------
    name : str
        Task name (the value of the ``task`` column).
    train_rows : list of dict
        Training prompts with the reward's columns.
    eval_rows : list of dict
        Held-out prompts, scored by :func:`~taskorder.trl.evaluation.evaluate_policy`.
    reward : callable or str
        A TRL reward function, or a name for :func:`~taskorder.trl.reward_specs.resolve_reward`.
    """

    name: str
    train_rows: list[dict[str, Any]]
    eval_rows: list[dict[str, Any]]
    reward: Callable[..., Any] | str = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidParameterError(f"A task needs a non-empty name. Got {self.name!r}.")
        for label, rows in (("train_rows", self.train_rows), ("eval_rows", self.eval_rows)):
            if not rows:
                raise InvalidParameterError(f"Task {self.name!r} has no {label}.")
            for position, row in enumerate(rows):
                if not isinstance(row, Mapping) or "prompt" not in row:
                    raise InvalidParameterError(
                        f"Every row of task {self.name!r} needs a 'prompt'; {label}[{position}] "
                        f"is {row!r:.100}."
                    )
        self.train_rows = [dict(row) for row in self.train_rows]
        self.eval_rows = [dict(row) for row in self.eval_rows]

    def reward_function(self) -> Callable[..., Any]:
        """The resolved reward callable."""
        from taskorder.trl.reward_specs import resolve_reward

        return resolve_reward(self.reward)

    def reward_name(self) -> str:
        """A stable name of the reward (for config hashes)."""
        if isinstance(self.reward, str):
            return self.reward
        reward = self.reward
        return f"{getattr(reward, '__module__', '?')}.{getattr(reward, '__qualname__', type(reward).__qualname__)}"


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """Read rows from a JSONL, JSON (list of objects) or CSV file, or a ``datasets`` directory.

    A directory is read with ``datasets.load_from_disk`` (a ``Dataset`` or a
    ``DatasetDict``'s ``train`` split).

    Raises
    ------
    InvalidParameterError
        If the file is missing, malformed, empty, or a row has no ``prompt``.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidParameterError(f"{path}: no such file or directory.")
    if path.is_dir():
        rows = _load_from_disk(path)
    elif path.suffix.lower() == ".jsonl":
        rows = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise InvalidParameterError(
                    f"{path}: line {number} is not JSON ({error.msg})."
                ) from None
    elif path.suffix.lower() == ".json":
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise InvalidParameterError(f"{path}: not valid JSON ({error.msg}).") from None
        if not isinstance(rows, list):
            raise InvalidParameterError(f"{path}: expected a JSON list of row objects.")
    elif path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        raise InvalidParameterError(
            f"{path}: expected a .jsonl, .json or .csv file, or a datasets directory saved "
            "with save_to_disk."
        )
    if not rows:
        raise InvalidParameterError(f"{path}: no rows.")
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or "prompt" not in row:
            raise InvalidParameterError(
                f"{path}: row {number} needs a 'prompt' field. Got {row!r:.100}."
            )
    return rows


def _load_from_disk(path: Path) -> list[dict[str, Any]]:
    require("datasets", "trl")
    from datasets import DatasetDict, load_from_disk

    try:
        dataset = load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as error:
        raise InvalidParameterError(f"{path}: not a datasets directory ({error}).") from None
    if isinstance(dataset, DatasetDict):
        if "train" not in dataset:
            raise InvalidParameterError(
                f"{path}: a DatasetDict needs a 'train' split. Got {list(dataset)}."
            )
        dataset = dataset["train"]
    return [dict(row) for row in dataset]


def split_rows(
    rows: Sequence[dict[str, Any]], eval_fraction: float, *, seed: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Hold out ``eval_fraction`` of ``rows`` (at least one row each side), seeded.

    Parameters
    ----------
    rows : sequence of dict
        The rows to split (at least 2); each is copied, never modified.
    eval_fraction : float
        Share of rows held out, in (0, 1); rounded to a count and clipped so that both sides
        keep at least one row.
    seed : int, default 0
        Seed of the shuffle that picks the held-out rows.

    Returns
    -------
    tuple of (list of dict, list of dict)
        ``(train, held_out)``, each in the original row order.

    Raises
    ------
    InvalidParameterError
        If ``eval_fraction`` is not in (0, 1) or ``rows`` has fewer than 2 rows.

    Examples
    --------
    >>> train, held_out = split_rows([{"prompt": str(k)} for k in range(10)], 0.2)
    >>> len(train), len(held_out)
    (8, 2)
    """
    if not 0 < eval_fraction < 1:
        raise InvalidParameterError(
            f"The 'eval_fraction' parameter of split_rows must be in (0, 1). Got {eval_fraction!r}."
        )
    if len(rows) < 2:
        raise InvalidParameterError(
            f"Cannot hold out rows from {len(rows)} row(s); need at least 2."
        )
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = min(len(rows) - 1, max(1, round(eval_fraction * len(rows))))
    held = set(order[:n_eval])
    return (
        [dict(row) for k, row in enumerate(rows) if k not in held],
        [dict(row) for k, row in enumerate(rows) if k in held],
    )


def multitask_dataset(tasks: Mapping[str, RLTask] | Sequence[RLTask], *, task_column: str = "task"):
    """One ``datasets.Dataset`` with every task's training rows and a ``task_column``.

    Raises
    ------
    InvalidParameterError
        If two tasks store different value types in one column.
    """
    require("datasets", "trl")
    from datasets import Dataset

    items = list(tasks.values()) if isinstance(tasks, Mapping) else list(tasks)
    columns: dict[str, None] = {"prompt": None, task_column: None}
    for task in items:
        for row in task.train_rows:
            for name in row:
                columns.setdefault(name)
    rows = [
        {**{name: row.get(name) for name in columns}, task_column: task.name}
        for task in items
        for row in task.train_rows
    ]
    try:
        return Dataset.from_list(rows)
    except Exception as error:  # pyarrow raises several types for mixed columns
        raise InvalidParameterError(
            "The tasks' rows cannot share one table: a column holds different types in "
            f"different tasks ({type(error).__name__}: {error}). Rename the column in one task "
            "or store the values with one type."
        ) from error


def rows_fingerprint(rows: Sequence[Mapping[str, Any]]) -> str:
    """A short stable hash of rows (for config hashes and caches)."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()[:16]
