"""The probe-campaign configuration (TOML, YAML or JSON): its settings models.

:func:`taskorder.configs.load_config` reads the file (a probe config as below, or a
real-model config, whose probe view has a runner of kind ``trl``) and
:func:`taskorder.configs.build_runner` builds the runner it names;
:func:`build_plan` and :func:`build_executor` here build the rest.

Example (TOML)::

    output_dir = "runs/four-tasks"      # relative to this file; default "probe-out"
    impute = "none"                     # or "row_col", "row_mean", "zero"

    [runner]
    kind = "builtin"                    # the numpy learner; or "python" (see below)
    [runner.learner]                    # any taskorder.learner.LearnerConfig field
    n_structured = 2
    n_open = 2
    mode = "exact"

    [plan]
    tasks = ["structured_0", "open_0", "open_1"]   # optional subset (default: all)
    pairs = [["structured_0", "open_0"]]           # optional subset (default: all)
    repeats = 2
    steps = 40                          # default: the learner's stage_steps
    seed = 0

    [executor]
    kind = "process"                    # "inprocess" (default), "process", "ray"
    workers = 2
    # address = "auto"                  # ray only

    [validate]
    seeds = 4
    n_random = 10
    all_orders = true                   # n <= 6
    models = ["backward_only", "additive", "multiplicative"]

A ``python`` runner names a factory, ``factory = "package.module:function"``, called
with ``options`` (a table) to build any object that implements the runner protocol
(``plan.steps`` is then required). Unknown keys anywhere are errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from taskorder.config_file import StrictModel
from taskorder.estimate.executors import Executor, make_executor
from taskorder.estimate.plan import ProbePlan, make_plan
from taskorder.model import MODELS

__all__ = [
    "ExecutorSection",
    "PlanSection",
    "ProbeConfig",
    "RunnerSection",
    "ValidateSection",
    "build_executor",
    "build_plan",
]


class RunnerSection(StrictModel):
    """Which runner to probe."""

    kind: Literal["builtin", "python", "trl"] = Field(
        "builtin", description="Runner kind (trl: a real-model config, see taskorder.trl.config)."
    )
    learner: dict[str, Any] = Field(
        default_factory=dict, description="LearnerConfig fields (builtin only)."
    )
    factory: str | None = Field(
        None, description="'module:function' returning a runner (python only)."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the factory (python only)."
    )

    @field_validator("learner")
    @classmethod
    def _check_learner(cls, value: dict[str, Any]) -> dict[str, Any]:
        from taskorder.learner.config import LearnerConfig

        LearnerConfig.from_value(value)  # a bad field is named with its key path now
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> RunnerSection:
        if self.kind == "builtin" and (self.factory is not None or self.options):
            raise ValueError(
                "'factory' and 'options' apply to kind='python'; remove them or set kind."
            )
        if self.kind == "python":
            if self.learner:
                raise ValueError(
                    "'learner' applies to kind='builtin'; use 'options' for a python runner."
                )
            if not self.factory or ":" not in self.factory:
                raise ValueError("kind='python' needs factory = 'package.module:function'.")
        return self


class PlanSection(StrictModel):
    """Which probes to run."""

    tasks: list[str] | None = Field(None, min_length=2, description="Task subset (default all).")
    pairs: list[tuple[str, str]] | None = Field(
        None, description="Ordered (earlier, later) pairs to measure (default all)."
    )
    repeats: int = Field(2, ge=1, le=1000, description="Independent repeats (>= 2 for stderr).")
    steps: int | None = Field(None, ge=1, le=10_000_000, description="Steps per stage.")
    seed: int = Field(0, ge=0, description="Campaign seed.")


class ExecutorSection(StrictModel):
    """Where probes run."""

    kind: Literal["inprocess", "process", "ray"] = "inprocess"
    workers: int | None = Field(None, ge=1, le=100_000, description="Processes / Ray CPUs.")
    address: str | None = Field(None, description="Ray cluster address (ray only).")

    @model_validator(mode="after")
    def _check_address(self) -> ExecutorSection:
        if self.address is not None and self.kind != "ray":
            raise ValueError("'address' applies to kind='ray' only.")
        return self


class ValidateSection(StrictModel):
    """How ``taskorder validate`` checks the matrix."""

    seeds: int = Field(4, ge=1, le=10_000, description="Seeds per order.")
    n_random: int = Field(10, ge=0, le=100_000, description="Random orders.")
    all_orders: bool = Field(False, description="Run all n! orders (n <= 6).")
    models: list[Literal["additive", "backward_only", "multiplicative"]] = Field(
        default_factory=lambda: list(MODELS)
    )
    objective: Literal["all_pairs", "adjacent"] = "all_pairs"
    seed: int = Field(0, ge=0, description="Root seed of the curricula.")


class ProbeConfig(StrictModel):
    """A whole probe-campaign configuration file."""

    output_dir: str = Field("probe-out", description="Output folder, relative to the file.")
    impute: Literal["none", "row_col", "row_mean", "zero"] = Field(
        "none",
        description="How to fill pairs left out of the plan (see taskorder.estimate.impute).",
    )
    runner: RunnerSection = Field(default_factory=RunnerSection)
    plan: PlanSection = Field(default_factory=PlanSection)
    executor: ExecutorSection = Field(default_factory=ExecutorSection)
    validate_: ValidateSection = Field(default_factory=ValidateSection, alias="validate")

    @model_validator(mode="after")
    def _check_steps(self) -> ProbeConfig:
        if self.runner.kind == "python" and self.plan.steps is None:
            raise ValueError(
                "plan.steps is required with a python runner (set the steps per stage)."
            )
        return self

    # Folder the config file lives in (relative paths resolve against it).
    _base_dir: Path = PrivateAttr(default=Path("."))
    # The real-model config behind a runner of kind "trl".
    _real: Any = PrivateAttr(default=None)

    @property
    def output_path(self) -> Path:
        """``output_dir`` resolved against the config file's folder."""
        path = Path(os.path.expanduser(self.output_dir))
        return path if path.is_absolute() else self._base_dir / path


def build_plan(config: ProbeConfig, runner: Any) -> ProbePlan:
    """The probe plan of ``config`` for ``runner``."""
    steps = config.plan.steps
    if steps is None:
        steps = int(getattr(getattr(runner, "config", None), "stage_steps", 40))
    return make_plan(
        runner.tasks,
        tasks=config.plan.tasks,
        pairs=config.plan.pairs,
        repeats=config.plan.repeats,
        steps=steps,
        seed=config.plan.seed,
    )


def build_executor(
    config: ProbeConfig,
    *,
    kind: str | None = None,
    workers: int | None = None,
    address: str | None = None,
) -> Executor:
    """The executor of ``config``, with command-line overrides.

    Parameters
    ----------
    config : ProbeConfig
        Its ``executor`` section gives the defaults.
    kind : {"inprocess", "process", "ray"}, optional
        Overrides ``executor.kind``.
    workers : int, optional
        Overrides ``executor.workers``.
    address : str, optional
        Ray cluster address; overrides ``executor.address`` (used only for ``"ray"``).

    Returns
    -------
    Executor
    """
    section = config.executor
    kind = kind or section.kind
    return make_executor(
        kind,
        workers=workers or section.workers,
        address=address or (section.address if kind == "ray" else None),
    )
