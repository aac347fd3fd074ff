"""Online stages in the schedule sampler: one policy decision per generation batch.

An online stage (``Stage(["math", "qa"], steps=8, online="sec")``) leaves the mixture
of each generation batch to a policy of :mod:`taskorder.online.policies` that reads
the per-task signals :class:`~taskorder.trl.panel.TaskPanel` measures. The
:class:`OnlineMixer` is the sampler's half of that loop:

- **When a decision is made.** The trainer's data loader reads ahead: ``Trainer``
  fetches the ``G = gradient_accumulation_steps`` batches of an optimizer step before
  running it, and ``accelerate`` fetches one batch more. Generation batch ``c`` is
  therefore drawn while batch ``c - 1 - d`` is the newest one whose signals are
  complete, with ``d = ceil(G / E)`` (``E`` micro-steps per generation). The mixer
  decides batch ``c`` from the signals of batches ``<= c - 1 - d`` of the same
  stage, never from whatever happens to have arrived: the stream is a function of
  the signals, not of timing. If a needed signal is missing (a deeper read-ahead,
  e.g. ``dataloader_num_workers > 0``), it raises instead of guessing.
- **How tasks are drawn.** Each of the batch's ``B`` prompt slots gets a task drawn
  from the policy's weights with a generator seeded by ``(seed, epoch, batch)``; the
  rows then come from each task's seeded stream, as in fixed stages. Every prompt
  still fills one whole GRPO group.
- **What is logged.** Every decision (stage, batch, weights, counts, tasks of the
  slots, rows) and every signal an online stage receives (without gradients) is
  appended to a JSONL file; :meth:`OnlineMixer.state_dict` holds the decisions, the
  policies' states and the signals not yet read, and is written into each checkpoint
  by :class:`OnlineStateCallback`. A resumed run replays the saved decisions for the
  batches it skips and decides the rest exactly as the uninterrupted run did; a
  decision log given as ``replay`` reproduces the same stream without training.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from transformers import TrainerCallback

from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule

__all__ = ["ONLINE_STATE_FILE", "OnlineMixer", "OnlineStateCallback", "read_decision_log"]

#: File name of the mixer state inside ``checkpoint-<step>/``.
ONLINE_STATE_FILE = "taskorder_online_state.json"
STATE_FORMAT = 1


def read_decision_log(path: str | Path) -> list[dict[str, Any]]:
    """The decision records of a JSONL log written by :class:`OnlineMixer` (signals skipped)."""
    records = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InvalidParameterError(f"{path}: cannot read the decision log ({error}).") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise InvalidParameterError(f"{path}:{number}: not a JSON line.") from None
        if record.get("event") == "decision":
            records.append(record)
    return records


def _signal_to_json(signal: Any) -> dict[str, Any]:
    return {
        "mean_abs_advantage": float(signal.mean_abs_advantage),
        "mean_reward": float(signal.mean_reward),
        "groups": int(signal.groups),
        "gradient": None if signal.gradient is None else np.asarray(signal.gradient).tolist(),
    }


def _signal_from_json(task: str, data: Mapping[str, Any]) -> Any:
    from taskorder.online.policies import TaskSignal

    gradient = data.get("gradient")
    return TaskSignal(
        task,
        float(data["mean_abs_advantage"]),
        float(data["mean_reward"]),
        int(data["groups"]),
        None if gradient is None else np.asarray(gradient, dtype=float),
    )


class OnlineMixer:
    """The policies of a schedule's online stages, their decisions and pending signals.

    Parameters
    ----------
    schedule : Schedule
        The resolved schedule.
    generations_per_stage : sequence of int
        Generation batches of every stage.
    prompts_per_generation : int
        Prompt slots per generation batch.
    delay : int
        Batch ``c`` is decided from signals of batches ``<= c - 1 - delay``.
    seed : int
        Seeds the draws (and, offset by the stage index, each stage's policy).
    policy_options : mapping of str to mapping, optional
        Options per policy name, passed to :func:`~taskorder.online.policies.make_policy`.
    log_path : str or Path, optional
        JSONL file decisions and signals are appended to (``None``: no file); emptied
        when the mixer is built.
    replay : sequence of dict or str or Path, optional
        Decision records (or a JSONL log) to follow instead of asking the policies.

    Raises
    ------
    InvalidParameterError
        Unknown policy or option (the message names it), or a bad delay.
    """

    def __init__(
        self,
        schedule: Schedule,
        generations_per_stage: Sequence[int],
        prompts_per_generation: int,
        *,
        delay: int,
        seed: int = 0,
        policy_options: Mapping[str, Mapping[str, Any]] | None = None,
        log_path: str | Path | None = None,
        replay: Sequence[Mapping[str, Any]] | str | Path | None = None,
    ) -> None:
        from taskorder.online.policies import make_policy

        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            raise InvalidParameterError(
                f"The 'delay' parameter of OnlineMixer must be a non-negative int. Got {delay!r}."
            )
        self.schedule = schedule
        self.prompts_per_generation = int(prompts_per_generation)
        self.delay = delay
        self.seed = int(seed)
        self.epoch = 0
        self.log_path = None if log_path is None else Path(log_path)
        from taskorder.online.policies import POLICIES

        options = dict(policy_options or {})
        unknown = sorted(set(options) - set(POLICIES))
        if unknown:
            raise InvalidParameterError(
                f"The 'policy_options' parameter names unknown policies {unknown}; its keys "
                f"must be among {', '.join(POLICIES)}."
            )
        self.starts: dict[int, tuple[int, int]] = {}  # stage -> (first, end) generation
        self.policies: dict[int, Any] = {}
        first = 0
        for index, (stage, count) in enumerate(zip(schedule.stages, generations_per_stage)):
            if stage.online is not None:
                self.starts[index] = (first, first + int(count))
                self.policies[index] = make_policy(
                    stage.online,
                    list(stage.task_names),
                    seed=self.seed + index,
                    **dict(options.get(stage.online, {})),
                )
            first += int(count)
        self.decisions: dict[int, dict[str, Any]] = {}
        self.pending: dict[int, dict[str, Any]] = {}
        self.applied: dict[int, int] = {
            index: start - 1 for index, (start, _) in self.starts.items()
        }
        self.signal_log: list[dict[str, Any]] = []
        if isinstance(replay, (str, Path)):
            replay = read_decision_log(replay)
        self.replay = {int(r["generation"]): dict(r) for r in (replay or [])}
        self.rewrite_log()  # a new run starts an empty log (a resumed one rewrites it again)

    # ------------------------------------------------------------- queries
    @property
    def needs_gradients(self) -> bool:
        """True when a policy reads per-task gradients (``tac``)."""
        return any(getattr(p, "needs_gradients", False) for p in self.policies.values())

    def needs_gradients_at(self, generation: int) -> bool:
        """True when batch ``generation`` is in a stage whose policy reads gradients."""
        stage = self.stage_of(generation)
        return stage is not None and getattr(self.policies[stage], "needs_gradients", False)

    def stage_of(self, generation: int) -> int | None:
        """The online stage that generation batch ``generation`` belongs to, or ``None``."""
        for index, (start, end) in self.starts.items():
            if start <= generation < end:
                return index
        return None

    # ------------------------------------------------------------- signals
    def receive(self, generation: int, signals: Mapping[str, Any]) -> None:
        """Take the per-task signals of a finished generation batch (ignored outside online stages)."""
        from taskorder.online.policies import Decision

        stage = self.stage_of(generation)
        if stage is None or generation <= self.applied[stage]:
            return
        self.pending[generation] = dict(signals)
        event = {
            "event": "signals",
            "generation": generation,
            "stage": stage,
            "signals": Decision.log_signals(signals),
        }
        self.signal_log.append(event)
        self._append(event)

    def _catch_up(self, stage: int, generation: int) -> None:
        """Feed the policy every signal of its stage up to ``generation - 1 - delay``."""
        start, _ = self.starts[stage]
        needed = generation - 1 - self.delay
        policy = self.policies[stage]
        for batch in range(max(self.applied[stage] + 1, start), needed + 1):
            if batch not in self.pending:
                raise InvalidParameterError(
                    f"The online sampler must decide generation batch {generation} from the "
                    f"signals of batch {batch}, which have not arrived: the data loader reads "
                    f"further ahead than {self.delay + 1} batches. Keep dataloader_num_workers=0 "
                    "and one process, or raise the sampler's signal delay."
                )
            allowed = set(policy.tasks)
            policy.update({t: s for t, s in self.pending.pop(batch).items() if t in allowed})
            self.applied[stage] = batch

    # ------------------------------------------------------------- decisions
    def _rng(self, generation: int) -> np.random.Generator:
        return np.random.default_rng(
            np.random.SeedSequence([self.seed, self.epoch, 7919, generation])
        )

    def draw(self, weights: Mapping[str, float], generation: int) -> list[str]:
        """The task of each prompt slot of batch ``generation``, drawn from ``weights``.

        Tasks are taken in sorted order, so the draw does not depend on the mapping's
        order (the JSONL log stores it sorted).
        """
        tasks = sorted(weights)
        p = np.asarray([weights[t] for t in tasks], dtype=float)
        picks = self._rng(generation).choice(
            len(tasks), size=self.prompts_per_generation, p=p / p.sum()
        )
        return [tasks[int(i)] for i in picks]

    def decide(self, generation: int) -> tuple[list[str], dict[str, Any] | None]:
        """The slot tasks of online batch ``generation`` and the record, if one is new.

        A batch decided before (a resumed run skipping it, or a second pass over the
        sampler) or present in ``replay`` returns its recorded tasks and ``None``.
        """
        if generation in self.decisions:
            return list(self.decisions[generation]["tasks"]), None
        stage = self.stage_of(generation)
        if stage is None:
            raise InvalidParameterError(f"Generation batch {generation} is not in an online stage.")
        if generation in self.replay:
            record = self.replay[generation]
            weights = {str(t): float(w) for t, w in record["weights"].items()}
            tasks = self.draw(weights, generation)
            if list(record["tasks"]) != tasks:
                raise InvalidParameterError(
                    f"The replayed decision of batch {generation} drew {list(record['tasks'])} "
                    f"but its weights draw {tasks} here: the log comes from another seed or "
                    "geometry."
                )
        else:
            self._catch_up(stage, generation)
            weights = self.policies[stage].weights()
            tasks = self.draw(weights, generation)
        start, _ = self.starts[stage]
        record = {
            "event": "decision",
            "generation": generation,
            "stage": stage,
            "batch": generation - start,
            "policy": self.schedule.stages[stage].online,
            "weights": {t: float(w) for t, w in weights.items()},
            "counts": {t: tasks.count(t) for t in weights},
            "tasks": tasks,
        }
        return tasks, record

    def commit(self, record: dict[str, Any], rows: Sequence[int]) -> None:
        """Store a new decision with the rows it drew and append it to the log."""
        record = {**record, "rows": [int(r) for r in rows]}
        self.decisions[int(record["generation"])] = record
        self._append(record)

    def _append(self, record: Mapping[str, Any]) -> None:
        if self.log_path is None:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")

    # ------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs, JSON-serialisable."""
        return {
            "format": STATE_FORMAT,
            "seed": self.seed,
            "epoch": self.epoch,
            "delay": self.delay,
            "schedule": self.schedule.to_dict(),
            "decisions": [self.decisions[g] for g in sorted(self.decisions)],
            "signal_log": list(self.signal_log),
            "applied": {str(k): v for k, v in self.applied.items()},
            "policies": {str(k): p.state_dict() for k, p in self.policies.items()},
            "pending": {
                str(g): {t: _signal_to_json(s) for t, s in signals.items()}
                for g, signals in self.pending.items()
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` of a mixer built for the same schedule, seed and geometry."""
        mine = {
            "format": STATE_FORMAT,
            "seed": self.seed,
            "delay": self.delay,
            "schedule": self.schedule.to_dict(),
        }
        theirs = {key: state.get(key) for key in mine}
        if theirs != mine:
            raise InvalidParameterError(
                f"The online sampler state was written for {theirs}, not for this run {mine}."
            )
        self.epoch = int(state["epoch"])
        self.decisions = {int(r["generation"]): dict(r) for r in state["decisions"]}
        self.signal_log = [dict(e) for e in state["signal_log"]]
        self.applied = {int(k): int(v) for k, v in state["applied"].items()}
        for key, policy_state in state["policies"].items():
            self.policies[int(key)].load_state_dict(policy_state)
        self.pending = {
            int(g): {t: _signal_from_json(t, s) for t, s in signals.items()}
            for g, signals in state["pending"].items()
        }

    def rewrite_log(self) -> None:
        """Rewrite the JSONL log from the state (after a resume, drop what came later)."""
        if self.log_path is None:
            return
        events = [*self.decisions.values(), *self.signal_log]
        events.sort(key=lambda e: (e["generation"], e["event"] == "signals"))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_text(
            "".join(json.dumps(e, sort_keys=True) + "\n" for e in events), encoding="utf-8"
        )


def signal_delay(gradient_accumulation_steps: int, micro_steps_per_generation: int) -> int:
    """``ceil(G / E)``: how many finished batches the data loader's read-ahead hides."""
    return math.ceil(int(gradient_accumulation_steps) / int(micro_steps_per_generation))


class OnlineStateCallback(TrainerCallback):
    """Write the online mixer (and the panel's unfinished generation) into every checkpoint.

    Parameters
    ----------
    mixer : OnlineMixer
        The sampler's mixer.
    panel : TaskPanel
        The panel feeding it (its per-generation accumulators are saved too, for a
        checkpoint in the middle of a generation).
    """

    def __init__(self, mixer: OnlineMixer, panel: Any) -> None:
        self.mixer = mixer
        self.panel = panel

    def on_save(self, args, state, control, **kwargs):
        """Write the mixer and panel state into ``checkpoint-<global_step>`` (main process).

        Parameters
        ----------
        args, state, control
            As ``transformers.TrainerCallback`` passes them.
        """
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        folder.mkdir(parents=True, exist_ok=True)
        payload = {
            "global_step": int(state.global_step),
            "mixer": self.mixer.state_dict(),
            "panel": self.panel.state_dict(),
        }
        if args.process_index == 0:
            (folder / ONLINE_STATE_FILE).write_text(json.dumps(payload), encoding="utf-8")
        return control

    def on_train_begin(self, args, state, control, **kwargs):
        """Resuming: restore the state saved with the checkpoint, and rewrite the log.

        Parameters
        ----------
        args, state, control
            As ``transformers.TrainerCallback`` passes them.

        Raises
        ------
        InvalidParameterError
            If the checkpoint has no online state, or one from another step.
        """
        if state.global_step == 0:
            return control
        folders = [Path(args.output_dir) / f"checkpoint-{state.global_step}"]
        if isinstance(args.resume_from_checkpoint, str):
            folders.insert(0, Path(args.resume_from_checkpoint))
        path = next(
            (f / ONLINE_STATE_FILE for f in folders if (f / ONLINE_STATE_FILE).is_file()), None
        )
        if path is None:
            raise InvalidParameterError(
                f"Resuming an online schedule at step {state.global_step} needs "
                f"{ONLINE_STATE_FILE} in the checkpoint (looked in {[str(f) for f in folders]}); "
                "without it the decisions already made cannot be replayed."
            )
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("global_step") != state.global_step:
            raise InvalidParameterError(
                f"{path} was written at step {payload.get('global_step')}, not at the resumed "
                f"step {state.global_step}."
            )
        self.mixer.load_state_dict(payload["mixer"])
        self.panel.load_state_dict(payload["panel"])
        if args.process_index == 0:
            self.mixer.rewrite_log()
        return control
