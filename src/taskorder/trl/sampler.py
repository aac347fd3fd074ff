"""A train sampler that feeds a multi-task dataset stage by stage.

GRPO's own sampler (``trl.trainer.utils.RepeatSampler``) defines a contract that the
rest of ``GRPOTrainer`` relies on. With ``B = generation_batch_size // num_generations``
unique prompts per generation and ``E = steps_per_generation * num_iterations``
micro-steps per generation, the index stream is a sequence of *generation chunks*:

- each chunk holds ``B`` prompt indices, each index repeated ``num_generations`` times
  in a row (one GRPO group: rewards are normalised within it);
- each chunk is repeated ``E`` times in a row (the dataloader reads one generation
  batch per micro-step; ``GRPOTrainer._prepare_inputs`` only generates on the first
  of the ``E`` copies and reuses the buffered completions for the others);
- the order is a pure function of the seed (and epoch), so every rank computes the
  same stream and ``accelerate`` shards it consistently.

:class:`ScheduleSampler` keeps that contract and chooses *which* prompts fill each
chunk from the schedule: chunk ``c`` belongs to the stage that trains the optimizer
steps it feeds. One optimizer step consumes ``gradient_accumulation_steps``
dataloader batches, so a stage of ``S`` steps is exactly ``S * G / E`` chunks. The
dataloader's read-ahead therefore cannot shift a stage boundary: the boundary is a
position in the index stream, not an event.

Within a task, rows are drawn without replacement in a seeded order and reshuffled
when exhausted; a task seen again in a later stage continues its stream. A mixed
stage splits its ``S * G / E * B`` prompt slots between tasks by largest remainder,
and spreads them over the stage's chunks by deficit round-robin, so every chunk
prefix stays within one prompt of the stated proportions.

An *online* stage (``Stage([...], online="sec")``) has no fixed mixture: every
generation chunk's prompt slots are drawn from the weights its policy gives at that
moment (see :mod:`taskorder.trl.online_mixer` for when that is, what the policy may
have read by then, and how decisions are logged, checkpointed and replayed). Chunks
are therefore produced lazily, in order; the task streams are shared with the fixed
stages, so a fixed stage after an online one continues each task's stream where the
online stage left it.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Sampler

from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule, Stage  # noqa: F401  (Stage: doctest)

__all__ = ["BatchGeometry", "ScheduleSampler", "split_counts"]


@dataclass(frozen=True)
class BatchGeometry:
    """How a GRPO-style trainer turns sampler indices into optimizer steps.

    Attributes
    ----------
    num_generations : int
        Completions per prompt (GRPO group size); each index repeats this many times.
    prompts_per_generation : int
        Unique prompts per generation batch, over all processes
        (``generation_batch_size // num_generations``).
    micro_steps_per_generation : int
        Dataloader batches consumed per generation
        (``steps_per_generation * num_iterations``); each chunk repeats this many times.
    gradient_accumulation_steps : int
        Dataloader batches per optimizer step.
    """

    num_generations: int
    prompts_per_generation: int
    micro_steps_per_generation: int
    gradient_accumulation_steps: int

    def __post_init__(self) -> None:
        for name in (
            "num_generations",
            "prompts_per_generation",
            "micro_steps_per_generation",
            "gradient_accumulation_steps",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidParameterError(
                    f"The {name!r} field of BatchGeometry must be a positive integer. Got {value!r}."
                )

    @classmethod
    def from_trainer(cls, trainer) -> BatchGeometry:
        """Read the geometry of a ``GRPOTrainer`` (or a trainer with the same fields)."""
        return cls._of(trainer.args, trainer.num_generations, trainer.num_iterations)

    @classmethod
    def from_config(cls, args) -> BatchGeometry:
        """The geometry a ``GRPOTrainer`` built from the ``GRPOConfig`` ``args`` will have."""
        return cls._of(args, args.num_generations, args.num_iterations)

    @classmethod
    def _of(cls, args, num_generations, num_iterations) -> BatchGeometry:
        num_generations = int(num_generations)
        return cls(
            num_generations=num_generations,
            prompts_per_generation=int(args.generation_batch_size) // num_generations,
            micro_steps_per_generation=int(args.steps_per_generation) * int(num_iterations),
            gradient_accumulation_steps=int(args.gradient_accumulation_steps),
        )

    @property
    def step_multiple(self) -> int:
        """Stage lengths (optimizer steps) must be multiples of this."""
        e, g = self.micro_steps_per_generation, self.gradient_accumulation_steps
        return e // math.gcd(e, g)

    @property
    def prompts_per_step(self) -> float:
        """Unique prompts one optimizer step consumes (may be fractional)."""
        return (
            self.prompts_per_generation
            * self.gradient_accumulation_steps
            / self.micro_steps_per_generation
        )

    def generations_for(self, steps: int) -> int:
        """Generation chunks in ``steps`` optimizer steps; raises if not whole."""
        micro_steps = steps * self.gradient_accumulation_steps
        if micro_steps % self.micro_steps_per_generation:
            raise InvalidParameterError(
                f"A stage of {steps} optimizer steps is {micro_steps} micro-steps, which is not a "
                f"whole number of generations ({self.micro_steps_per_generation} micro-steps "
                f"each). Make stage lengths multiples of {self.step_multiple}."
            )
        return micro_steps // self.micro_steps_per_generation


def split_counts(total: int, mixture: dict[str, float]) -> dict[str, int]:
    """Split ``total`` slots between tasks by largest remainder (ties: mixture order).

    Examples
    --------
    >>> split_counts(10, {"a": 0.5, "b": 0.25, "c": 0.25})
    {'a': 5, 'b': 3, 'c': 2}
    """
    exact = {task: total * proportion for task, proportion in mixture.items()}
    counts = {task: math.floor(value + 1e-9) for task, value in exact.items()}
    left = total - sum(counts.values())
    order = sorted(mixture, key=lambda task: -(exact[task] - counts[task]))
    for task in order[:left]:
        counts[task] += 1
    return counts


def _interleave(counts: dict[str, int]) -> list[str]:
    """Deficit round-robin: a sequence of task labels whose every prefix tracks the counts."""
    total = sum(counts.values())
    assigned = dict.fromkeys(counts, 0)
    labels = []
    for slot in range(total):
        best = max(
            (task for task in counts if assigned[task] < counts[task]),
            key=lambda task: counts[task] * (slot + 1) / total - assigned[task],
        )
        assigned[best] += 1
        labels.append(best)
    return labels


class _TaskStream:
    """Rows of one task, drawn without replacement and reshuffled when exhausted."""

    def __init__(self, rows: np.ndarray, rng: np.random.Generator | None) -> None:
        self.rows, self.rng = rows, rng
        self.order = self._new_order()
        self.position = 0

    def _new_order(self) -> np.ndarray:
        return self.rows if self.rng is None else self.rng.permutation(self.rows)

    def take(self, n: int) -> list[int]:
        taken: list[int] = []
        while len(taken) < n:
            if self.position == len(self.order):
                self.order, self.position = self._new_order(), 0
            end = min(len(self.order), self.position + n - len(taken))
            taken.extend(int(i) for i in self.order[self.position : end])
            self.position = end
        return taken


class ScheduleSampler(Sampler[int]):
    """Yield dataset indices stage by stage, honouring GRPO's ``RepeatSampler`` contract.

    Parameters
    ----------
    task_of_row : sequence of str
        The task of every dataset row (the dataset's task column), in row order.
    schedule : Schedule
        A resolved schedule (every stage length in steps; see :meth:`Schedule.resolve`).
    geometry : BatchGeometry
        The trainer's batch geometry (:meth:`BatchGeometry.from_trainer`).
    seed : int, default 0
        Seeds the order of rows within each task; the same on every rank.
    shuffle : bool, default True
        Draw each task's rows in a seeded random order; ``False`` keeps dataset order.
    policy_options : mapping of str to mapping, optional
        Options of the online policies, by policy name (``{"tac": {"transfer": 2.0}}``).
    decision_log : str or Path, optional
        JSONL file every online decision and signal is appended to.
    replay : sequence of dict, str or Path, optional
        Online decisions to follow (a decision log, or its records) instead of asking
        the policies.
    signal_delay : int, optional
        Decide online batch ``c`` from the signals of batches ``<= c - 1 - signal_delay``;
        default ``ceil(gradient_accumulation_steps / micro_steps_per_generation)``,
        what ``Trainer``'s read-ahead requires.

    Attributes
    ----------
    online : OnlineMixer or None
        The online stages' policies and decisions (``None`` without online stages);
        :meth:`receive` hands it the training signals.

    Raises
    ------
    InvalidParameterError
        If the schedule is not resolved, a stage is not a whole number of generations,
        a scheduled task has no row, or an online policy or option is unknown.

    Examples
    --------
    >>> geometry = BatchGeometry(2, 2, 1, 1)
    >>> schedule = Schedule([Stage("a", steps=1), Stage(["a", "b"], steps=2, online="sec")])
    >>> sampler = ScheduleSampler(["a", "b", "a", "b"], schedule, geometry, seed=0)
    >>> stream = list(sampler)
    >>> len(stream), stream[:4]  # each prompt fills one group of num_generations=2
    (12, [0, 0, 2, 2])
    >>> [d["counts"] for d in sampler.online.decisions.values()]  # before any signal: uniform
    [{'a': 0, 'b': 2}, {'a': 2, 'b': 0}]
    """

    def __init__(
        self,
        task_of_row: Sequence[str],
        schedule: Schedule,
        geometry: BatchGeometry,
        *,
        seed: int = 0,
        shuffle: bool = True,
        policy_options: Mapping[str, Mapping[str, Any]] | None = None,
        decision_log: str | Path | None = None,
        replay: Sequence[Mapping[str, Any]] | str | Path | None = None,
        signal_delay: int | None = None,
    ) -> None:
        self.schedule = schedule
        self.geometry = geometry
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.epoch = 0
        tasks = np.asarray(list(task_of_row), dtype=object)
        self.n_rows = len(tasks)
        self.task_rows = {task: np.flatnonzero(tasks == task) for task in schedule.tasks}
        empty = [task for task, rows in self.task_rows.items() if len(rows) == 0]
        if empty:
            present = sorted({str(task) for task in tasks.tolist()})
            raise InvalidParameterError(
                f"The schedule trains tasks {empty} but the dataset has no row for them. "
                f"Tasks in the dataset: {present}."
            )
        self.generations_per_stage = tuple(geometry.generations_for(s) for s in schedule.steps)
        self._plan: list[list[int]] | None = None
        self._plan_epoch: int | None = None
        self.online = None
        if schedule.is_online:
            from taskorder.trl.online_mixer import OnlineMixer
            from taskorder.trl.online_mixer import signal_delay as default_delay

            self.online = OnlineMixer(
                schedule,
                self.generations_per_stage,
                geometry.prompts_per_generation,
                delay=default_delay(
                    geometry.gradient_accumulation_steps, geometry.micro_steps_per_generation
                )
                if signal_delay is None
                else signal_delay,
                seed=self.seed,
                policy_options=policy_options,
                log_path=decision_log,
                replay=replay,
            )

    # --------------------------------------------------------------- planning
    def _rng(self, task: str) -> np.random.Generator | None:
        if not self.shuffle:
            return None
        key = zlib.crc32(task.encode("utf-8"))
        return np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, key]))

    def plan(self) -> list[list[int]]:
        """The unique prompt indices of every generation chunk, in training order.

        Raises
        ------
        InvalidParameterError
            For an online schedule, whose chunks depend on training signals: iterate
            the sampler instead (or give it a ``replay`` log).
        """
        if self.online is not None:
            raise InvalidParameterError(
                "An online schedule has no plan before training: its chunks depend on the "
                "training signals. Iterate the sampler, or build it with replay=<decision log>."
            )
        if self._plan is not None and self._plan_epoch == self.epoch:
            return self._plan
        self._plan, self._plan_epoch = list(self._chunks()), self.epoch
        return self._plan

    def _chunks(self) -> Iterator[list[int]]:
        """Every generation chunk's prompt indices, produced in order (lazily)."""
        streams = {
            task: _TaskStream(rows, self._rng(task)) for task, rows in self.task_rows.items()
        }
        per_chunk = self.geometry.prompts_per_generation
        generation = 0
        for stage, n_chunks in zip(self.schedule.stages, self.generations_per_stage):
            if stage.online is not None:
                for _ in range(n_chunks):
                    yield self._online_chunk(generation, streams)
                    generation += 1
                continue
            labels = _interleave(split_counts(n_chunks * per_chunk, stage.mixture))
            for k in range(0, len(labels), per_chunk):
                yield [streams[label].take(1)[0] for label in labels[k : k + per_chunk]]
                generation += 1

    def _online_chunk(self, generation: int, streams: dict[str, _TaskStream]) -> list[int]:
        tasks, record = self.online.decide(generation)
        rows = [streams[task].take(1)[0] for task in tasks]
        if record is not None:
            self.online.commit(record, rows)
        elif rows != list(self.online.decisions[generation]["rows"]):
            raise InvalidParameterError(
                f"Replaying online batch {generation} drew rows {rows}, but the recorded "
                f"decision has {self.online.decisions[generation]['rows']}: the dataset or "
                "seed differs from the run that recorded it."
            )
        return rows

    def receive(self, generation: int, signals: Mapping[str, Any]) -> None:
        """Hand the per-task signals of a finished generation to the online policies."""
        if self.online is not None:
            self.online.receive(generation, signals)

    def stage_of_chunk(self, chunk: int) -> int:
        """The stage index that generation chunk ``chunk`` belongs to."""
        end = 0
        for index, n_chunks in enumerate(self.generations_per_stage):
            end += n_chunks
            if chunk < end:
                return index
        raise IndexError(f"chunk {chunk} is past the schedule's {end} generations")

    # ---------------------------------------------------------- Sampler API
    def __iter__(self) -> Iterator[int]:
        repeats = self.geometry.micro_steps_per_generation
        group = self.geometry.num_generations
        chunks = self._chunks() if self.online is not None else self.plan()
        for chunk in chunks:
            for _ in range(repeats):
                for index in chunk:
                    for _ in range(group):
                        yield index

    def __len__(self) -> int:
        g = self.geometry
        return (
            sum(self.generations_per_stage)
            * g.prompts_per_generation
            * g.num_generations
            * g.micro_steps_per_generation
        )

    def set_epoch(self, epoch: int) -> None:
        """Reseed the row order for ``epoch`` (called by ``Trainer`` before each epoch)."""
        self.epoch = int(epoch)
        if self.online is not None:
            self.online.epoch = self.epoch
