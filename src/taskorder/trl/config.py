"""The ``taskorder train`` configuration file (YAML or TOML), validated by pydantic.

Unknown keys are refused everywhere; relative paths are relative to the file.

.. code-block:: yaml

    model: models/qwen2.5-0.5b-instruct      # a local model directory
    output_dir: runs/curriculum               # checkpoints, stages.json, run.json
    seed: 0
    tasks:
      math:   {train: data/math.jsonl, eval: data/math_eval.jsonl, reward: math}
      quiz:   {train: data/quiz.csv, eval_fraction: 0.1, reward: choice}
    schedule:                                 # exactly one of stages / order / bwt
      bwt: probes/matrix.json                 # the recommended order of a probed matrix
      steps_per_stage: 50                     # or passes_per_stage
      solver: {method: auto, objective: all_pairs}
    # or explicit stages, an online one among them:
    #   stages: [{task: math, steps: 40}, {online: sec, tasks: [math, quiz], steps: 80}]
    grpo: {num_generations: 8, learning_rate: 1.0e-6, max_completion_length: 256}
    evaluation: {n_samples: 4, max_prompts: 64, max_new_tokens: 256}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from taskorder.config_file import StrictModel, read_mapping, validate_config
from taskorder.estimate.config import ExecutorSection, PlanSection, ValidateSection
from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule, Stage
from taskorder.trl.evaluation import EvalConfig
from taskorder.trl.model_source import ModelSpec

__all__ = [
    "EvaluationSpec",
    "JudgeSpec",
    "ProbeSpec",
    "ScheduleSpec",
    "StageSpec",
    "TaskFileSpec",
    "TrainConfig",
    "load_train_config",
]


class TaskFileSpec(StrictModel):
    """One task: its data files and reward."""

    train: Path = Field(
        description="Training rows: .jsonl, .json, .csv or a save_to_disk directory."
    )
    eval: Path | None = Field(
        default=None, description="Held-out rows; default: hold out eval_fraction."
    )
    eval_fraction: float = Field(
        default=0.1, gt=0, lt=1, description="Share held out when eval is unset."
    )
    reward: str = Field(
        min_length=1,
        description="Reward name (math, choice, code, format, keywords) or module:attribute.",
    )
    max_train_rows: int | None = Field(
        default=None, ge=1, description="Use at most this many training rows."
    )

    @field_validator("reward")
    @classmethod
    def _known_reward(cls, value: str) -> str:
        """A reward name is checked here, before any model or data is loaded."""
        from taskorder.trl.reward_specs import REWARD_NAMES

        if value == "judge" or value in REWARD_NAMES or ":" in value:
            return value
        raise ValueError(
            f"Unknown reward {value!r}. Use one of {', '.join(REWARD_NAMES)}, judge (the local "
            "judge section), or 'package.module:attribute'"
        )


class StageSpec(StrictModel):
    """One stage: ``task``, ``mix`` or ``online`` with ``tasks``; and ``steps`` or ``passes``."""

    task: str | None = Field(default=None, description="The stage's one task.")
    mix: dict[str, float] | None = Field(
        default=None, description="{task: proportion}, summing to 1."
    )
    online: str | None = Field(
        default=None,
        description="Online policy (sec, tac, worst_task) choosing each batch's mixture.",
    )
    tasks: list[str] | None = Field(
        default=None, min_length=2, description="The task set of an online stage."
    )
    steps: int | None = Field(default=None, ge=1, description="Length in optimizer steps.")
    passes: float | None = Field(
        default=None, gt=0, description="Length in passes over the stage's rows."
    )
    name: str | None = Field(default=None, description="Label in logs.")

    @model_validator(mode="after")
    def _one_of_each(self) -> StageSpec:
        if self.online is not None or self.tasks is not None:
            if self.online is None or self.tasks is None or self.task or self.mix:
                raise ValueError(
                    "an online stage gives 'online' (sec, tac or worst_task) and 'tasks' "
                    "(a list), and neither 'task' nor 'mix'"
                )
            from taskorder.online.policies import POLICIES

            if self.online not in POLICIES:
                raise ValueError(
                    f"unknown online policy {self.online!r}; use one of {', '.join(POLICIES)}"
                )
        elif (self.task is None) == (self.mix is None):
            raise ValueError("give exactly one of 'task' (one name) or 'mix' ({task: proportion})")
        if (self.steps is None) == (self.passes is None):
            raise ValueError("give exactly one of 'steps' or 'passes'")
        return self

    def to_stage(self) -> Stage:
        tasks: Any = self.tasks if self.online else self.task or dict(self.mix or {})
        return Stage(
            tasks, steps=self.steps, passes=self.passes, name=self.name, online=self.online
        )


class SolverSpec(StrictModel):
    """How the order is solved from a transfer matrix."""

    method: str = Field(default="auto", description="auto, dp, brute, rank, ...")
    objective: Literal["all_pairs", "adjacent"] = Field(
        default="all_pairs", description="Objective of the solver."
    )
    time_limit: float | None = Field(default=None, gt=0, description="Seconds the solver may use.")


class ScheduleSpec(StrictModel):
    """The schedule: explicit ``stages``, a fixed ``order``, or a ``bwt`` matrix to solve."""

    stages: list[StageSpec] | None = Field(
        default=None, min_length=1, description="Explicit stages."
    )
    order: list[str] | None = Field(
        default=None, min_length=1, description="Task names, first trained first."
    )
    bwt: Path | None = Field(
        default=None, description="Transfer matrix file (bwt.csv) to solve the order from."
    )
    steps_per_stage: int | None = Field(
        default=None, ge=1, description="Stage length with order/bwt."
    )
    passes_per_stage: float | None = Field(
        default=None, gt=0, description="Stage length in passes with order/bwt."
    )
    solver: SolverSpec = Field(
        default_factory=SolverSpec, description="Solver settings (with bwt)."
    )
    policy_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options of the online policies by name, e.g. {tac: {transfer: 2.0}}.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> ScheduleSpec:
        given = [name for name in ("stages", "order", "bwt") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of 'stages', 'order' or 'bwt'; got {given or 'none'}"
            )
        lengths = [
            n for n in ("steps_per_stage", "passes_per_stage") if getattr(self, n) is not None
        ]
        if self.stages is not None and lengths:
            raise ValueError(
                f"{lengths[0]} applies to 'order' or 'bwt'; explicit stages carry their own length"
            )
        if self.stages is None and len(lengths) != 1:
            raise ValueError(
                "with 'order' or 'bwt', give exactly one of 'steps_per_stage' or 'passes_per_stage'"
            )
        return self


class EvaluationSpec(EvalConfig):
    """The ``evaluation`` section: :class:`~taskorder.trl.evaluation.EvalConfig`'s settings,
    the seed defaulting to the config's, and whether training evaluates the start."""

    seed: int | None = Field(  # type: ignore[assignment]
        default=None, ge=0, description="Seed of evaluation sampling; default: the config's seed."
    )
    evaluate_at_start: bool = Field(
        default=True, description="Evaluate the starting model (baseline)."
    )

    def for_run(self, seed: int) -> EvalConfig:
        """The evaluation settings of a run whose seed is ``seed`` (unless this one sets it)."""
        values = self.model_dump(exclude={"evaluate_at_start", "seed"})
        return EvalConfig(**values, seed=seed if self.seed is None else self.seed)


class JudgeSpec(StrictModel):
    """The local LLM judge that the ``judge`` reward asks (see :mod:`taskorder.trl.local_judge`)."""

    model: ModelSpec | None = Field(
        default=None, description="Judge model source; default: the config's model."
    )
    low: int = Field(default=1, ge=0, le=8, description="Lowest grade (one digit).")
    high: int = Field(default=5, ge=1, le=9, description="Highest grade (one digit).")
    scoring: Literal["expected", "greedy"] = Field(
        default="expected", description="Grade read from the judge's next-token distribution."
    )
    batch_size: int = Field(default=16, ge=1, description="Completions per judge forward pass.")


class ProbeSpec(StrictModel):
    """The probe campaign of a real-model config (``taskorder probe CONFIG``)."""

    output_dir: Path | None = Field(
        default=None, description="Campaign folder; default <output_dir>/probes."
    )
    impute: Literal["none", "row_col", "row_mean", "zero"] = "none"
    plan: PlanSection = Field(default_factory=PlanSection)
    executor: ExecutorSection = Field(default_factory=ExecutorSection)
    validate_: ValidateSection = Field(default_factory=ValidateSection, alias="validate")


class TrainConfig(StrictModel):
    """A real-model config: ``taskorder train``, and ``probe``/``validate``/``compare`` on it.

    ``model``, ``tasks``, ``judge``, ``grpo``, ``evaluation``, ``dtype`` and ``seed``
    describe the model and its tasks for every command; ``probe`` configures the
    probe campaign and ``schedule`` the training (required by ``taskorder train``).
    """

    model: ModelSpec = Field(
        description="Model source: a folder, a .gguf file, a demo name (smollm2) or {hub: id}."
    )
    output_dir: Path = Field(description="Run directory: checkpoints, stages.json, run.json.")
    tasks: dict[str, TaskFileSpec] = Field(
        min_length=1, description="Task name to its data and reward."
    )
    schedule: ScheduleSpec | None = Field(
        default=None, description="The training schedule (required by taskorder train)."
    )
    judge: JudgeSpec | None = Field(
        default=None, description="Local LLM judge for tasks whose reward is 'judge'."
    )
    probe: ProbeSpec = Field(default_factory=ProbeSpec, description="Probe campaign settings.")
    grpo: dict[str, Any] = Field(default_factory=dict, description="Extra trl.GRPOConfig fields.")
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    seed: int = Field(default=0, ge=0, description="Seed of data order, sampling and training.")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto", description="Model dtype."
    )

    @model_validator(mode="after")
    def _known_tasks(self) -> TrainConfig:
        judged = sorted(name for name, task in self.tasks.items() if task.reward == "judge")
        if judged and self.judge is None:
            raise ValueError(
                f"tasks {judged} use the 'judge' reward; add a 'judge' section "
                "(judge: {model: smollm2}) naming the local judge model"
            )
        spec = self.schedule
        if spec is None:
            return self
        named: list[str] = list(spec.order or [])
        for stage in spec.stages or []:
            named += [stage.task] if stage.task else list(stage.mix or stage.tasks or {})
        unknown = sorted(set(named) - set(self.tasks))
        if unknown:
            raise ValueError(
                f"the schedule names tasks {unknown} that are not under 'tasks' ({sorted(self.tasks)})"
            )
        if spec.order is not None and sorted(spec.order) != sorted(self.tasks):
            raise ValueError(
                f"'order' must list every task once; got {spec.order} for tasks {sorted(self.tasks)}"
            )
        return self

    @field_validator("grpo")
    @classmethod
    def _grpo_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        from taskorder.trl.grpo_args import check_grpo_settings

        return check_grpo_settings(value)

    def require_schedule(self) -> ScheduleSpec:
        """The ``schedule`` section, or one clear error when the config has none."""
        if self.schedule is None:
            raise InvalidParameterError(
                "This config has no 'schedule' section; taskorder train needs one "
                "(schedule: {order: [...], steps_per_stage: N} or {bwt: probes/matrix.json, ...})."
            )
        return self.schedule

    @property
    def probe_dir(self) -> Path:
        """The probe campaign folder (``probe.output_dir``, default ``<output_dir>/probes``)."""
        return self.probe.output_dir or self.output_dir / "probes"

    def explicit_schedule(self) -> Schedule | None:
        """The schedule when given by ``stages`` or ``order``; ``None`` when it must be solved."""
        spec = self.require_schedule()
        if spec.stages is not None:
            return Schedule(stage.to_stage() for stage in spec.stages)
        if spec.order is not None:
            return Schedule.from_order(
                spec.order, steps=spec.steps_per_stage, passes=spec.passes_per_stage
            )
        return None

    def fingerprint(self) -> str:
        """A stable hash of the settings that change results (resume refuses a different one)."""
        import hashlib

        unset = {"evaluation": {"seed"}} if self.evaluation.seed is None else {}
        data = self.model_dump(mode="json", exclude={"probe": True, **unset})
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    def fix(value: Any) -> Any:
        if isinstance(value, str) and value and not Path(value).is_absolute():
            return str(base / value)
        return value

    data = dict(data)
    if "output_dir" in data:
        data["output_dir"] = fix(data["output_dir"])
    for section in (data, data.get("judge")):
        if isinstance(section, dict) and "model" in section:
            try:
                section["model"] = ModelSpec.parse(section["model"]).with_base(base)
            except (TypeError, ValueError):  # InvalidParameterError is a ValueError
                pass  # reported by the schema with the key's name
    if isinstance(data.get("probe"), dict) and "output_dir" in data["probe"]:
        data["probe"] = {**data["probe"], "output_dir": fix(data["probe"]["output_dir"])}
    if isinstance(data.get("tasks"), dict):
        data["tasks"] = {
            name: (
                {**spec, **{k: fix(spec[k]) for k in ("train", "eval") if k in spec}}
                if isinstance(spec, dict)
                else spec
            )
            for name, spec in data["tasks"].items()
        }
    if isinstance(data.get("judge"), dict):
        data["judge"] = dict(data["judge"])
    if isinstance(data.get("schedule"), dict) and "bwt" in data["schedule"]:
        data["schedule"] = {**data["schedule"], "bwt": fix(data["schedule"]["bwt"])}
    return data


def load_train_config(path: str | Path) -> TrainConfig:
    """Read and validate a real-model config (``.yaml``, ``.yml``, ``.toml`` or ``.json``).

    Raises
    ------
    InvalidParameterError
        If the file is missing, unreadable, or invalid; the message names the key.
    """
    path = Path(path)
    data = read_mapping(path)
    return validate_config(TrainConfig, _resolve_paths(data, path.parent), str(path))
