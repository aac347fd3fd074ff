"""Build ``GRPOConfig`` objects and load policies, the same way everywhere.

Shared by the probe runner and the training pipeline: user settings are checked
against ``GRPOConfig``'s fields before any model is loaded, the fields the adapter
controls are refused with a message, and CPU/GPU precision is chosen once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taskorder.exceptions import InvalidParameterError, require

__all__ = [
    "RESERVED_GRPO_FIELDS",
    "check_grpo_run",
    "check_grpo_settings",
    "check_model_dir",
    "load_policy",
    "make_grpo_config",
    "quiet_trainer",
]

#: GRPOConfig fields set by taskorder itself (stage lengths, checkpoints, seeds).
RESERVED_GRPO_FIELDS = frozenset(
    {"output_dir", "max_steps", "num_train_epochs", "save_strategy", "seed", "data_seed"}
)


def check_grpo_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse unknown or reserved ``GRPOConfig`` field names; return a plain dict copy."""
    require("trl", "trl")
    from trl import GRPOConfig

    known = {f.name for f in dataclasses.fields(GRPOConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise InvalidParameterError(
            f"Unknown GRPO settings {unknown}; they are not GRPOConfig fields "
            f"(trl.GRPOConfig). Check the spelling."
        )
    reserved = sorted(set(settings) & RESERVED_GRPO_FIELDS)
    if reserved:
        raise InvalidParameterError(
            f"The GRPO settings {reserved} are set by taskorder (from the schedule, the run's "
            "output directory and seed); remove them."
        )
    return dict(settings)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def make_grpo_config(
    output_dir: str | Path,
    settings: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    max_steps: int = -1,
    quiet: bool = True,
):
    """A ``GRPOConfig`` for a scheduled run.

    Parameters
    ----------
    output_dir : str or Path
        Trainer output directory (checkpoints).
    settings : mapping, optional
        Any other ``GRPOConfig`` fields (checked by :func:`check_grpo_settings`).
    seed : int
        The run's seed.
    max_steps : int
        -1 lets :func:`~taskorder.trl.apply.apply_schedule` set it from the schedule.
    quiet : bool
        Default to no progress bar and no external reporting (overridable).

    Notes
    -----
    Without CUDA, ``use_cpu=True`` and ``bf16=False`` are the defaults; with CUDA,
    ``bf16`` defaults to True when the device supports it. Checkpoints are written
    only when :class:`~taskorder.trl.callback.StageCallback` asks (``save_strategy="no"``).
    """
    from trl import GRPOConfig

    values = _checkpointing_by_its_new_name(check_grpo_settings(settings or {}))
    defaults: dict[str, Any] = {"report_to": [], "logging_steps": 1, "save_only_model": False}
    if quiet:
        defaults["disable_tqdm"] = True
    if _cuda():
        import torch

        defaults["bf16"] = bool(torch.cuda.is_bf16_supported())
    else:
        defaults.update(use_cpu=True, bf16=False)
    merged = {**defaults, **values}
    try:
        return GRPOConfig(
            output_dir=str(output_dir),
            seed=int(seed),
            max_steps=int(max_steps),
            save_strategy="no",
            **merged,
        )
    except (ValueError, TypeError) as error:
        raise InvalidParameterError(f"Invalid GRPO settings: {error}") from error


def _checkpointing_by_its_new_name(values: dict[str, Any]) -> dict[str, Any]:
    """Pass ``gradient_checkpointing*`` as ``activation_checkpointing*``.

    transformers 5 renamed the field and warns (FutureWarning) whenever the old name is
    set and the new one is not; TRL's config sets the old one (default True). Giving
    the new name the same value keeps TRL's behaviour without the warning.
    """
    from trl import GRPOConfig

    known = {f.name: f for f in dataclasses.fields(GRPOConfig)}
    values = dict(values)
    for old, new in (
        ("gradient_checkpointing", "activation_checkpointing"),
        ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs"),
    ):
        if new not in known or old not in known or new in values:
            continue
        default = known[old].default
        value = values.pop(old, None if default is dataclasses.MISSING else default)
        if value is not None:
            values[new] = value
    return values


def check_grpo_run(settings: Mapping[str, Any] | None, output_dir: str | Path, *, seed: int = 0):
    """The run's ``GRPOConfig``, refusing what ``GRPOTrainer`` would refuse only later.

    Builds the config exactly as a run does (so ``num_generations`` that does not divide
    the generation batch, or fewer than 2 generations, fail here) and refuses a
    non-positive ``temperature``: GRPO samples ``num_generations`` completions per
    prompt and learns from their differences. Loads no model; meant for ``--dry-run``
    and for checks before a run starts.

    Parameters
    ----------
    settings : mapping or None
        The run's ``GRPOConfig`` fields (checked by :func:`check_grpo_settings`); None
        for none.
    output_dir : str or Path
        Trainer output directory, as the run would use it.
    seed : int, default 0
        The run's seed.

    Returns
    -------
    trl.GRPOConfig
        The config :func:`make_grpo_config` builds for the run.

    Raises
    ------
    InvalidParameterError
        With the setting's name, what is expected and the value received.
    """
    args = make_grpo_config(output_dir, settings, seed=seed)
    temperature = args.temperature
    if not temperature > 0:
        raise InvalidParameterError(
            f"The GRPO setting 'temperature' must be positive: GRPO samples "
            f"num_generations={args.num_generations} completions per prompt and learns from "
            f"their differences, which greedy decoding removes. Got {temperature!r}."
        )
    return args


def check_model_dir(path: str | Path) -> Path:
    """``path`` as a ``Path`` if it is a model directory (has ``config.json``); raise otherwise."""
    path = Path(path)
    if not (path / "config.json").is_file():
        what = "does not exist" if not path.exists() else "has no config.json"
        raise InvalidParameterError(
            f"The model directory {path} {what}; expected a local directory written by "
            "save_pretrained (nothing is downloaded)."
        )
    return path


def load_policy(path: str | Path, *, dtype: str = "auto", device: str | None = None):
    """Load ``(model, tokenizer)`` from a model directory.

    ``dtype="auto"`` means bfloat16 on a bf16-capable GPU, float32 otherwise. A
    tokenizer without a pad token gets its eos token as pad.

    Parameters
    ----------
    path : str or Path
        A local directory written by ``save_pretrained`` (nothing is downloaded).
    dtype : str, default "auto"
        ``"auto"`` or the name of a ``torch`` dtype (``"float32"``, ``"bfloat16"``).
    device : str, optional
        Device the model is moved to; None leaves it where ``from_pretrained`` put it.

    Returns
    -------
    tuple
        ``(model, tokenizer)``: an ``AutoModelForCausalLM`` and its ``AutoTokenizer``.

    Raises
    ------
    InvalidParameterError
        If ``path`` is not a model directory or ``dtype`` is unknown.
    """
    require("transformers", "trl")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = check_model_dir(path)
    if dtype == "auto":
        torch_dtype = (
            torch.bfloat16 if _cuda() and torch.cuda.is_bf16_supported() else torch.float32
        )
    else:
        try:
            torch_dtype = getattr(torch, dtype)
        except AttributeError:
            raise InvalidParameterError(
                f"Unknown dtype {dtype!r}; use auto, float32 or bfloat16."
            ) from None
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch_dtype)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if device is not None:
        model.to(device)
    return model, tokenizer


def quiet_trainer(trainer) -> None:
    """Stop a trainer built with ``disable_tqdm=True`` from printing every log dict."""
    from transformers.trainer_callback import PrinterCallback

    if trainer.args.disable_tqdm:
        trainer.remove_callback(PrinterCallback)
