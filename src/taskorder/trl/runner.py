"""A probe runner that measures transfer with real GRPO training (TRL).

:class:`TRLProbeRunner` implements the runner protocol of
:mod:`taskorder.runner`, so ``taskorder probe`` (and
:func:`~taskorder.runner.check_runner`) can drive it:

- a *state* is the path of a saved model directory (model + tokenizer); states are
  never modified, every ``train`` call writes a new directory under ``work_dir``;
- ``train(state, task, steps=k, seed=s)`` runs ``k`` GRPO steps on one task (or a
  mixture, through the same schedule sampler as a full run) from ``state``;
- ``evaluate(state, task, seed=s)`` samples the task's held-out prompts and returns
  the mean reward and the mean token entropy.

On CPU the same arguments and seed give bit-identical states and evaluations.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from taskorder.config_file import StrictModel
from taskorder.exceptions import InvalidParameterError, require
from taskorder.trl.data import RLTask, rows_fingerprint
from taskorder.trl.evaluation import EvalConfig

__all__ = ["TRLProbeRunner", "TRLRunnerConfig"]

#: Marker file of a finished state folder.
_DONE = ".taskorder-state-complete"


def _link_or_copy(source: str, target: str) -> None:
    """Hard-link ``source`` to ``target``, or copy it where links are not possible."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


class TRLRunnerConfig(StrictModel):
    """Settings of :class:`TRLProbeRunner`.

    Parameters
    ----------
    model_path : str
        The pretrained starting model directory (the initial state).
    work_dir : str
        Where trained states are written (one directory per ``train`` call).
    grpo : dict
        Extra ``GRPOConfig`` fields (``num_generations``, ``learning_rate``, ...);
        ``output_dir``, ``max_steps``, ``seed`` and ``save_strategy`` are set by the runner.
    evaluation : EvalConfig
        Sampling of held-out prompts; its ``seed`` is replaced by ``evaluate``'s seed.
    dtype : str
        ``auto`` (bf16 on a capable GPU, else float32), ``float32`` or ``bfloat16``.
    lora : dict, optional
        :class:`~taskorder.trl.model_source.LoraSpec` fields: train a LoRA adapter
        (PEFT) and save every state with the adapter merged in.
    """

    model_path: str = Field(description="Pretrained model directory (the initial state).")
    work_dir: str = Field(description="Directory for trained states (one per train call).")
    grpo: dict[str, Any] = Field(
        default_factory=dict, description="Extra GRPOConfig fields for probe training."
    )
    evaluation: EvalConfig = Field(
        default_factory=EvalConfig, description="Sampling and scoring of held-out prompts."
    )
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto", description="Model dtype: auto, float32 or bfloat16."
    )
    lora: dict[str, Any] | None = Field(
        default=None, description="LoraSpec fields (r, alpha, dropout, target_modules)."
    )

    @field_validator("model_path", "work_dir", mode="before")
    @classmethod
    def _path_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, Path) else value

    @field_validator("model_path")
    @classmethod
    def _model_directory(cls, value: str) -> str:
        if not (Path(value) / "config.json").is_file():
            raise ValueError(f"must be a model directory with a config.json. Got {value!r}")
        return value

    @field_validator("grpo")
    @classmethod
    def _grpo_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        from taskorder.trl.grpo_args import check_grpo_settings

        return check_grpo_settings(value)

    @field_validator("lora")
    @classmethod
    def _lora_fields(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        from taskorder.trl.model_source import LoraSpec

        return None if value is None else LoraSpec.model_validate(value).model_dump()


class TRLProbeRunner:
    """Runner protocol implementation around ``trl.GRPOTrainer``.

    Parameters
    ----------
    tasks : sequence of RLTask
        The tasks, each with training rows, held-out rows and a reward.
    config : TRLRunnerConfig
        Model, work directory, GRPO and evaluation settings.

    Examples
    --------
    >>> runner = TRLProbeRunner(tasks, TRLRunnerConfig(model_path=model_path, work_dir=work_dir))  # doctest: +SKIP
    >>> state = runner.train(runner.initial_state(0), "math", steps=8, seed=0)  # doctest: +SKIP
    >>> runner.evaluate(state, "math", seed=0).score  # doctest: +SKIP
    """

    def __init__(self, tasks: Sequence[RLTask], config: TRLRunnerConfig) -> None:
        require("trl", "trl")
        self.config = config
        self._tasks = {task.name: task for task in tasks}
        if len(self._tasks) != len(tasks) or not tasks:
            raise InvalidParameterError(
                "The 'tasks' parameter of TRLProbeRunner needs unique, non-empty task names."
            )
        self._rewards = {name: task.reward_function() for name, task in self._tasks.items()}
        self._cached: tuple[str, Any, Any] | None = None

    # -------------------------------------------------------------- protocol
    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self._tasks)

    def initial_state(self, seed: int) -> str:
        """The pretrained model directory (the seed does not change a pretrained model)."""
        return str(Path(self.config.model_path))

    def config_hash(self) -> str:
        payload = {
            "config": {**self.config.model_dump(), "work_dir": None},
            "tasks": {
                name: [
                    rows_fingerprint(t.train_rows),
                    rows_fingerprint(t.eval_rows),
                    t.reward_name(),
                ]
                for name, t in self._tasks.items()
            },
        }
        return hashlib.sha256(
            json.dumps(payload, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]

    def train(self, state: str, task: str | Mapping[str, float], *, steps: int, seed: int) -> str:
        """Run ``steps`` GRPO steps on ``task`` from ``state``; return the new state's path.

        The same arguments give the same state: a finished one is reused, not retrained.

        Parameters
        ----------
        state : str
            The state to start from (a model directory).
        task : str or mapping of str to float
            One of the runner's tasks, or ``{task: proportion}`` (a mixed stage; the
            proportions are positive and sum to 1).
        steps : int
            GRPO steps of the stage.
        seed : int
            Training seed.

        Returns
        -------
        str
            The new state's path.

        Raises
        ------
        InvalidParameterError
            If a task is unknown or ``state`` is not a model directory.
        """
        from taskorder.schedule import Stage

        return self._train_stage(
            state, Stage(task if isinstance(task, str) else dict(task), steps=steps), seed
        )

    def train_online(
        self,
        state: str,
        tasks: Sequence[str],
        policy: str,
        *,
        steps: int,
        seed: int,
        options: Mapping[str, Any] | None = None,
    ) -> str:
        """One online stage: ``policy`` picks each generation batch's mixture of ``tasks``.

        The stage is ``Stage(list(tasks), steps=steps, online=policy)`` trained through
        the same sampler as ``taskorder train`` (:mod:`taskorder.trl.apply`), so the
        policy reads the GRPO step's own per-task signals; its decisions are logged in
        the trainer's scratch folder. Same arguments, same state (as :meth:`train`).

        Parameters
        ----------
        state : str
            The state to start from.
        tasks : sequence of str
            At least two of the runner's tasks.
        policy : str
            A policy of :mod:`taskorder.online` (``sec``, ``tac`` or ``worst_task``).
        steps : int
            GRPO steps of the stage.
        seed : int
            Training seed (the policy's draws derive from it).
        options : mapping, optional
            The policy's options (:func:`taskorder.online.make_policy`), e.g.
            ``{"anchor": {"task": "math", "share": 0.5}}`` for a hybrid stage.

        Returns
        -------
        str
            The new state's path.
        """
        from taskorder.schedule import Stage

        stage = Stage(list(tasks), steps=steps, online=policy)
        return self._train_stage(state, stage, seed, policy_options={policy: dict(options or {})})

    def _train_stage(
        self, state: str, stage: Any, seed: int, policy_options: Mapping[str, Any] | None = None
    ) -> str:
        from trl import GRPOTrainer

        from taskorder.schedule import Schedule
        from taskorder.trl.apply import apply_schedule
        from taskorder.trl.data import multitask_dataset
        from taskorder.trl.grpo_args import load_policy, make_grpo_config
        from taskorder.trl.grpo_args import quiet_trainer as _quiet
        from taskorder.trl.reward_specs import for_task

        names = self._check_tasks(stage.task_names)
        out = self._new_state_dir(state, stage, seed, policy_options)
        if (out / _DONE).is_file():
            return str(out)  # trained before with the same arguments: the same state
        model, tokenizer = load_policy(self._state_dir(state), dtype=self.config.dtype)
        scratch = Path(self.config.work_dir) / "_trainer"
        peft_config = None
        if self.config.lora is not None:
            from taskorder.trl.model_source import LoraSpec

            peft_config = LoraSpec(**self.config.lora).peft_config()
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=[for_task(name, self._rewards[name]) for name in names],
            args=make_grpo_config(scratch, self.config.grpo, seed=int(seed)),
            train_dataset=multitask_dataset([self._tasks[name] for name in names]),
            processing_class=tokenizer,
            peft_config=peft_config,
        )
        _quiet(trainer)
        apply_schedule(trainer, Schedule([stage]), policy_options=policy_options or None)
        trainer.train()
        trained = trainer.model
        if peft_config is not None:
            trained = trained.merge_and_unload()  # a plain model folder, as without LoRA
        if out.exists():
            shutil.rmtree(out)  # a half-written state of an interrupted call
        trained.save_pretrained(out)
        tokenizer.save_pretrained(out)
        (out / _DONE).write_text("complete\n", encoding="utf-8")
        shutil.rmtree(scratch, ignore_errors=True)
        return str(out)

    def evaluate(self, state: str, task: str, *, seed: int):
        """Score ``state`` on ``task``'s held-out prompts (mean reward, token entropy).

        Parameters
        ----------
        state : str
            The state to score (a model directory; the last one loaded is cached).
        task : str
            One of the runner's tasks.
        seed : int
            Sampling seed (replaces the seed of the runner's evaluation settings).

        Returns
        -------
        taskorder.runner.Evaluation
            As :func:`~taskorder.trl.evaluation.evaluate_policy` returns it.
        """
        from taskorder.trl.evaluation import evaluate_policy

        (name,) = self._check_tasks([task])
        model, tokenizer = self._policy(state)
        config = self.config.evaluation.model_copy(update={"seed": int(seed)})
        return evaluate_policy(
            model, tokenizer, self._tasks[name].eval_rows, self._rewards[name], config, task=name
        )

    def save(self, state: str, path: str | Path) -> None:
        """Copy the state's model directory to ``path`` (a directory).

        Files are hard-linked where the file system allows it (a state folder is
        written once and never changed afterwards), so saving a multi-gigabyte state
        costs no disk; elsewhere they are copied.
        """
        source = self._state_dir(state)
        path = Path(path)
        if path.exists():
            shutil.rmtree(path)
        shutil.copytree(source, path, copy_function=_link_or_copy)

    def load(self, path: str | Path) -> str:
        """The state saved at ``path`` (checked to be a model directory)."""
        return str(self._state_dir(path))

    def __getstate__(self) -> dict[str, Any]:
        # Process-pool executors pickle the runner; the cached model stays behind.
        state = dict(self.__dict__)
        state["_cached"] = None
        return state

    # --------------------------------------------------------------- helpers
    def _check_tasks(self, names: Sequence[str]) -> list[str]:
        unknown = [name for name in names if name not in self._tasks]
        if unknown:
            raise InvalidParameterError(
                f"Unknown tasks {unknown!r} for this TRLProbeRunner. Known tasks: {list(self._tasks)}."
            )
        return list(names)

    @staticmethod
    def _state_dir(state: Any) -> Path:
        path = Path(state)
        if not (path / "config.json").is_file():
            raise InvalidParameterError(
                f"A TRLProbeRunner state is a saved model directory; {str(path)!r} has no config.json."
            )
        return path

    def _new_state_dir(
        self, state: str, stage: Any, seed: int, policy_options: Mapping[str, Any] | None = None
    ) -> Path:
        """The folder of the state that ``train(state, stage, seed)`` makes (one per arguments).

        The same arguments give the same folder, so a repeated call (a shared curriculum
        prefix, a resumed campaign) reuses the finished state instead of training again.
        """
        work = Path(self.config.work_dir)
        work.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(
            json.dumps(
                [str(Path(state).resolve()), stage.to_dict(), seed, self.config_hash()]
                + ([policy_options] if policy_options and any(policy_options.values()) else []),
                sort_keys=True,
            ).encode()
        ).hexdigest()[:16]
        return work / f"state-{key}"

    # ------------------------------------------------------- merging (compare)
    def state_to_params(self, state: str) -> dict[str, Any]:
        """The state's weights as named float32 numpy arrays (for model merging)."""
        from safetensors.numpy import load_file

        folder = self._state_dir(state)
        params: dict[str, Any] = {}
        for shard in sorted(folder.glob("*.safetensors")):
            params.update(load_file(str(shard)))
        if not params:
            raise InvalidParameterError(f"{folder}: no .safetensors weights to merge.")
        return params

    def params_to_state(self, params: Mapping[str, Any], like: str) -> str:
        """A new state folder with ``params`` as weights and ``like``'s config and tokenizer."""
        import numpy as np
        from safetensors.numpy import save_file

        source = self._state_dir(like)
        digest = hashlib.sha256()
        for name in sorted(params):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(params[name]).tobytes())
        out = Path(self.config.work_dir) / f"merged-{digest.hexdigest()[:16]}"
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(source, out, ignore=shutil.ignore_patterns("*.safetensors*"))
        arrays = {
            name: np.ascontiguousarray(value, dtype=np.float32) for name, value in params.items()
        }
        save_file(arrays, str(out / "model.safetensors"), metadata={"format": "pt"})
        return str(out)

    def _policy(self, state: str) -> tuple[Any, Any]:
        from taskorder.trl.grpo_args import load_policy

        path = self._state_dir(state).resolve()
        info = (path / "config.json").stat()
        stamp = f"{path}:{info.st_ino}:{info.st_mtime_ns}"
        if self._cached is None or self._cached[0] != stamp:
            import torch

            device = "cuda" if torch.cuda.is_available() else None
            model, tokenizer = load_policy(path, dtype=self.config.dtype, device=device)
            self._cached = (stamp, model, tokenizer)
        return self._cached[1], self._cached[2]
