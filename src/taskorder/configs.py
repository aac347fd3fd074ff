"""Config files to runs: which file kind is which config, and the runner it names.

One config file describes a run for every command. Two kinds exist:

- a **probe config** (:mod:`taskorder.estimate.config`): a ``[runner]`` section
  (the built-in learner or a ``python`` factory), ``[plan]``, ``[executor]``,
  ``[validate]``;
- a **real-model config** (:mod:`taskorder.trl.config`): top-level ``model`` and
  ``tasks`` (what ``taskorder train`` reads); its probe view has a runner of kind
  ``trl``.

:func:`load_config` reads either kind and returns the probe view
(:class:`~taskorder.estimate.config.ProbeConfig`); :func:`build_runner` builds the
runner it names. This module sits above both :mod:`taskorder.estimate` and
:mod:`taskorder.trl`, so neither imports the other to route a file.

Examples
--------
>>> config = load_config({"plan": {"repeats": 3}, "runner": {"learner": {"n_open": 1}}})
>>> config.plan.repeats, config.executor.kind
(3, 'inprocess')
>>> runner = build_runner(config)
>>> runner.tasks
('structured_0', 'structured_1', 'open_0')
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from taskorder.config_file import read_mapping, validate_config
from taskorder.estimate.config import ProbeConfig, RunnerSection
from taskorder.estimate.store import CampaignMismatchError
from taskorder.exceptions import InvalidParameterError

__all__ = ["build_runner", "campaign_folder", "is_real_model_config", "load_config"]

#: The runner protocol's calls a factory's result must have (see taskorder.runner).
_RUNNER_CALLS = ("tasks", "initial_state", "train", "evaluate", "save", "load", "config_hash")


def is_real_model_config(data: dict[str, Any]) -> bool:
    """Whether a config mapping is a real-model config (top-level ``model`` or ``tasks``)."""
    return "model" in data or "tasks" in data


def load_config(source: str | Path | dict[str, Any]) -> ProbeConfig:
    """Read and validate a config: a ``.toml``/``.yaml``/``.yml``/``.json`` path or a dict.

    A real-model config (top-level ``model`` and ``tasks``) gives its probe view, a
    runner of kind ``trl``; anything else is a probe config.

    Raises
    ------
    InvalidParameterError
        Unreadable file, unknown format, unknown keys or out-of-range values (the
        message names the file and the field).

    Examples
    --------
    >>> load_config({"plan": {"repeat": 3}})
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: probe configuration: invalid config: plan.repeat: unknown key (accepted: pairs, repeats, seed, steps, tasks).
    """
    where, base = "probe configuration", Path(".")
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        where, base = str(path), path.parent
        data = read_mapping(path)
        if is_real_model_config(data):
            return _real_model_config(path)
    config = validate_config(ProbeConfig, data, where)
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


def campaign_folder(target: str | Path) -> Path:
    """The campaign folder of ``target``: a config file's output folder, or ``target``.

    Raises
    ------
    CampaignMismatchError
        ``target`` does not exist.
    """
    target = Path(target)
    if not target.exists():
        raise CampaignMismatchError(f"{target}: no such configuration file or campaign folder.")
    return load_config(target).output_path if target.is_file() else target


def build_runner(config: ProbeConfig) -> Any:
    """The runner a configuration names: the built-in learner, a TRL runner or a factory's.

    Raises
    ------
    InvalidParameterError
        A ``python`` factory that cannot be imported, refuses the options, or returns
        something without the runner protocol's calls.
    """
    if config.runner.kind == "builtin":
        from taskorder.learner import BuiltinRunner, make_config

        return BuiltinRunner(make_config(**config.runner.learner))
    if config.runner.kind == "trl":
        from taskorder.trl.pipeline import build_probe_runner

        return build_probe_runner(config._real, work_dir=config.output_path / "trl-states")
    return _factory_runner(config.runner)


def _factory_runner(section: RunnerSection) -> Any:
    module_name, _, attribute = str(section.factory).partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise InvalidParameterError(
            f"The runner factory {section.factory!r} cannot be imported ({error})."
        ) from None
    try:
        runner = factory(**section.options)
    except TypeError as error:
        raise InvalidParameterError(
            f"The runner factory {section.factory!r} does not accept the options "
            f"{sorted(section.options)} ({error})."
        ) from None
    missing = [name for name in _RUNNER_CALLS if not hasattr(runner, name)]
    if missing:
        raise InvalidParameterError(
            f"The runner factory {section.factory!r} must return a runner (see "
            f"taskorder.runner); its {type(runner).__name__} has no {missing}."
        )
    return runner
