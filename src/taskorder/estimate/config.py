"""The probe-campaign configuration file (TOML or YAML), validated by pydantic.

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

import importlib
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from taskorder.config_file import describe_validation_error, read_mapping
from taskorder.estimate.executors import Executor, make_executor
from taskorder.estimate.plan import ProbePlan, make_plan
from taskorder.exceptions import InvalidParameterError
from taskorder.model import MODELS

__all__ = [
    "ExecutorSection",
    "PlanSection",
    "ProbeConfig",
    "RunnerSection",
    "ValidateSection",
    "build_executor",
    "build_plan",
    "build_runner",
    "load_config",
]

_STRICT = ConfigDict(extra="forbid")


class RunnerSection(BaseModel):
    """Which runner to probe."""

    model_config = _STRICT
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


class PlanSection(BaseModel):
    """Which probes to run."""

    model_config = _STRICT
    tasks: list[str] | None = Field(None, min_length=2, description="Task subset (default all).")
    pairs: list[tuple[str, str]] | None = Field(
        None, description="Ordered (earlier, later) pairs to measure (default all)."
    )
    repeats: int = Field(2, ge=1, le=1000, description="Independent repeats (>= 2 for stderr).")
    steps: int | None = Field(None, ge=1, le=10_000_000, description="Steps per stage.")
    seed: int = Field(0, ge=0, description="Campaign seed.")


class ExecutorSection(BaseModel):
    """Where probes run."""

    model_config = _STRICT
    kind: Literal["inprocess", "process", "ray"] = "inprocess"
    workers: int | None = Field(None, ge=1, le=100_000, description="Processes / Ray CPUs.")
    address: str | None = Field(None, description="Ray cluster address (ray only).")

    @model_validator(mode="after")
    def _check_address(self) -> ExecutorSection:
        if self.address is not None and self.kind != "ray":
            raise ValueError("'address' applies to kind='ray' only.")
        return self


class ValidateSection(BaseModel):
    """How ``taskorder validate`` checks the matrix."""

    model_config = _STRICT
    seeds: int = Field(4, ge=1, le=10_000, description="Seeds per order.")
    n_random: int = Field(10, ge=0, le=100_000, description="Random orders.")
    all_orders: bool = Field(False, description="Run all n! orders (n <= 6).")
    models: list[Literal["additive", "backward_only", "multiplicative"]] = Field(
        default_factory=lambda: list(MODELS)
    )
    objective: Literal["all_pairs", "adjacent"] = "all_pairs"
    seed: int = Field(0, ge=0, description="Root seed of the curricula.")


class ProbeConfig(BaseModel):
    """A whole probe-campaign configuration file."""

    model_config = _STRICT
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


def load_config(source: str | Path | dict[str, Any]) -> ProbeConfig:
    """Read and validate a configuration (a ``.toml``/``.yaml``/``.yml``/``.json`` path or a dict).

    Raises
    ------
    InvalidParameterError
        Unreadable file, unknown format, unknown keys or out-of-range values (the
        message names the file and the field).

    Examples
    --------
    >>> config = load_config({"plan": {"repeats": 3}, "runner": {"learner": {"n_open": 1}}})
    >>> config.plan.repeats, config.executor.kind
    (3, 'inprocess')
    >>> load_config({"plan": {"repeat": 3}})
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Invalid probe configuration: plan.repeat: Extra inputs are not permitted.
    """
    where, base = "probe configuration", Path(".")
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        where, base = str(path), path.parent
        data = read_mapping(path)
        if "model" in data or "tasks" in data:
            return _real_model_config(path)
    try:
        config = ProbeConfig.model_validate(data)
    except ValidationError as error:
        label = (
            "Invalid probe configuration" if where == "probe configuration" else f"{where}: invalid"
        )
        raise InvalidParameterError(f"{label}: {describe_validation_error(error)}.") from None
    if config.runner.kind == "trl":
        raise InvalidParameterError(
            f"{where}: runner kind 'trl' is set by a real-model config (top-level 'model' and "
            "'tasks', the file taskorder train reads), not by a [runner] section."
        )
    config._base_dir = base
    return config


def _real_model_config(path: Path) -> ProbeConfig:
    """The probe view of a real-model config (model + tasks): runner kind ``trl``."""
    from taskorder.trl.config import load_train_config

    real = load_train_config(path)
    probe = real.probe
    if probe.plan.steps is None:
        raise InvalidParameterError(
            f"{path}: invalid config: probe.plan.steps is required for a real model "
            "(GRPO steps per probe stage)."
        )
    named = [*(probe.plan.tasks or []), *(t for pair in probe.plan.pairs or [] for t in pair)]
    unknown = sorted(set(named) - set(real.tasks))
    if unknown:
        raise InvalidParameterError(
            f"{path}: invalid config: probe.plan names tasks {unknown} that are not under "
            f"'tasks' ({sorted(real.tasks)})."
        )
    config = ProbeConfig(
        output_dir=str(real.probe_dir),
        impute=probe.impute,
        runner=RunnerSection(kind="trl"),
        plan=probe.plan,
        executor=probe.executor,
        validate=probe.validate_,
    )
    config._base_dir = Path(".")
    config._real = real
    return config


def build_runner(config: ProbeConfig) -> Any:
    """The runner a configuration names (builtin learner, or a python factory's result)."""
    if config.runner.kind == "builtin":
        from taskorder.learner import BuiltinRunner, make_config

        return BuiltinRunner(make_config(**config.runner.learner))
    if config.runner.kind == "trl":
        from taskorder.trl.pipeline import build_probe_runner

        return build_probe_runner(config._real, work_dir=config.output_path / "trl-states")
    module_name, _, attribute = config.runner.factory.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise InvalidParameterError(
            f"The runner factory {config.runner.factory!r} cannot be imported ({error})."
        ) from None
    try:
        runner = factory(**config.runner.options)
    except TypeError as error:
        raise InvalidParameterError(
            f"The runner factory {config.runner.factory!r} does not accept the options "
            f"{sorted(config.runner.options)} ({error})."
        ) from None
    missing = [
        name
        for name in ("tasks", "initial_state", "train", "evaluate", "save", "load", "config_hash")
        if not hasattr(runner, name)
    ]
    if missing:
        raise InvalidParameterError(
            f"The runner factory {config.runner.factory!r} must return a runner (see "
            f"taskorder.runner); its {type(runner).__name__} has no {missing}."
        )
    return runner


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
