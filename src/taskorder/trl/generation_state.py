"""Save and restore GRPO's place inside a generation with every checkpoint.

``GRPOTrainer`` generates once per ``E = steps_per_generation * num_iterations``
micro-steps and serves the other ``E - 1`` micro-steps from a buffer. Which of the
two it does is decided by its micro-step counter ``_step`` (``_step % E == 0``
generates), and ``_step`` and the buffer are not part of a checkpoint (trl 1.16).
A run resumed from a checkpoint in the middle of a generation (an odd step with
``num_iterations=2`` or ``steps_per_generation=2``) therefore starts with
``_step = 0``: it regenerates on the first step, then serves the *previous*
generation's buffer when the next one is due, and every later stage starts one
step late.

:class:`GenerationStateCallback` (installed by
:func:`~taskorder.trl.apply.apply_schedule`) writes ``_step`` and, in the middle of
a generation, the buffered inputs into each checkpoint (one file per process), and
restores both when training resumes, so the resumed run replays the uninterrupted
one. A checkpoint without the file (written elsewhere, or by an older version)
still resumes on schedule: ``_step`` is set to ``global_step *
gradient_accumulation_steps`` (what it is after that many optimizer steps, since a
scheduled epoch has no partial accumulation) and the in-progress generation is
sampled again from the same prompts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import TrainerCallback

__all__ = ["GENERATION_STATE_FILE", "GenerationStateCallback", "generation_state_path"]

#: File name (per process) of the generation state inside ``checkpoint-<step>/``.
GENERATION_STATE_FILE = "taskorder_generation_state-{rank}.pt"


def generation_state_path(checkpoint: str | Path, rank: int = 0) -> Path:
    """Where process ``rank``'s generation state lives inside ``checkpoint``."""
    return Path(checkpoint) / GENERATION_STATE_FILE.format(rank=rank)


def _micro_steps_per_generation(trainer: Any) -> int:
    return int(trainer.args.steps_per_generation) * int(trainer.num_iterations)


class GenerationStateCallback(TrainerCallback):
    """Keep ``GRPOTrainer``'s micro-step counter and generation buffer across resumes.

    Parameters
    ----------
    trainer : trl.GRPOTrainer
        The trainer whose private ``_step`` and ``_buffered_inputs`` are saved and
        restored (the only two names this class touches).

    Notes
    -----
    The state is written in ``on_save`` into ``<output_dir>/checkpoint-<global_step>``,
    the folder ``Trainer._save_checkpoint`` has just written, and read in
    ``on_train_begin`` from ``<output_dir>/checkpoint-<global_step>`` (or
    ``args.resume_from_checkpoint``), the checkpoint training resumes from. A run
    resumed from a checkpoint elsewhere falls back to the derived counter (on schedule,
    but the in-progress generation is sampled again).
    """

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer

    def on_save(self, args, state, control, **kwargs):
        """Write ``_step`` (and, mid-generation, the buffered inputs) into the new checkpoint.

        Parameters
        ----------
        args, state, control
            As ``transformers.TrainerCallback`` passes them; ``args.output_dir``,
            ``args.process_index`` and ``state.global_step`` name the file.
        **kwargs
            Ignored.
        """
        import torch

        trainer = self.trainer
        step = int(getattr(trainer, "_step", 0))
        mid_generation = step % _micro_steps_per_generation(trainer) != 0
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        folder.mkdir(parents=True, exist_ok=True)
        payload = {
            "global_step": int(state.global_step),
            "step": step,
            "world_size": int(args.world_size),
            "buffered_inputs": getattr(trainer, "_buffered_inputs", None)
            if mid_generation
            else None,
        }
        torch.save(payload, generation_state_path(folder, args.process_index))
        return control

    def on_train_begin(self, args, state, control, **kwargs):
        """On a resume, restore ``_step`` and the buffer (or derive ``_step`` without a file).

        Parameters
        ----------
        args, state, control
            As ``transformers.TrainerCallback`` passes them; nothing happens when
            ``state.global_step`` is 0 (a fresh run).
        **kwargs
            Ignored.
        """
        if state.global_step == 0:
            return control
        trainer = self.trainer
        step = int(state.global_step) * int(args.gradient_accumulation_steps)
        buffered = None
        payload = self._load(args, state)
        if payload is not None:
            step, buffered = int(payload["step"]), payload["buffered_inputs"]
        trainer._step = step
        trainer._buffered_inputs = buffered
        return control

    @staticmethod
    def _load(args, state) -> dict[str, Any] | None:
        import torch

        folders = [Path(args.output_dir) / f"checkpoint-{state.global_step}"]
        if isinstance(args.resume_from_checkpoint, str):
            folders.append(Path(args.resume_from_checkpoint))
        paths = [generation_state_path(f, args.process_index) for f in folders]
        path = next((p for p in paths if p.is_file()), None)
        if path is None:
            return None
        payload = torch.load(path, map_location=args.device, weights_only=True)
        if payload.get("global_step") != state.global_step or payload.get("world_size") != int(
            args.world_size
        ):
            return None
        return payload
