"""Option and argument types shared by the CLI commands, declared once.

Each name is an ``Annotated`` type that a command's signature uses directly, e.g.
``as_json: JsonOpt = False``; the help text and checks therefore read the same in every
command.

An option that takes one of a fixed set of strings is typed by a ``str``-valued
:class:`enum.StrEnum` made from the library's own tuple of names (``RISKS``,
``IMPUTATION_METHODS``, ``EXECUTORS``, ...), so there is one list: ``--help`` shows the
choices and a value outside them exits 2 before the command runs. Members are strings
(``Risk.mean == "mean"``); commands pass ``member.value`` on to the library.

Examples
--------
>>> from taskorder.cli.options import Executor, Objective, executor_kind, objective_name
>>> executor_kind(None, 4)
'process'
>>> executor_kind(Executor.ray, None)
'ray'
>>> [member.value for member in Objective]
['all-pairs', 'adjacent', 'max-min']
>>> objective_name(Objective["max-min"])
'max_min'
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from taskorder.compare import METHODS as COMPARE_METHODS
from taskorder.estimate.executors import EXECUTORS
from taskorder.estimate.impute import IMPUTATION_METHODS
from taskorder.model import MODELS
from taskorder.replan.settings import DESIGNS
from taskorder.solvers import SOLVERS
from taskorder.solvers.problem import ENTROPY_MODELS, RISKS, SOLVER_OBJECTIVES
from taskorder.trl.suite import SUITE_REWARDS

__all__ = [
    "LEARNER_MODES",
    "OBJECTIVE_CONTEXT",
    "AddressOpt",
    "CompareMethod",
    "ConfigArg",
    "Design",
    "DesignOpt",
    "EntropyModel",
    "Executor",
    "ExecutorOpt",
    "FloorOpt",
    "HorizonOpt",
    "Impute",
    "JsonOpt",
    "LearnerMode",
    "MatrixArg",
    "ModeOpt",
    "Model",
    "Objective",
    "ObjectiveOpt",
    "QuietOpt",
    "Risk",
    "SolverMethod",
    "SuiteTask",
    "WorkersOpt",
    "executor_kind",
    "objective_name",
    "value_of",
]


def _choices(name: str, values: Iterable[str]) -> type[enum.StrEnum]:
    """A ``str``-valued Enum called ``name`` whose members are ``values``, in order."""
    return enum.StrEnum(name, [(value, value) for value in values], module=__name__)


#: The built-in learner's training modes (``LearnerConfig.mode``; a test keeps them equal:
#: importing the learner here would load pydantic for every command).
LEARNER_MODES = ("exact", "sampled")

# The CLI spells the solver objectives with hyphens (all-pairs, max-min).
Objective = _choices("Objective", (name.replace("_", "-") for name in SOLVER_OBJECTIVES))
SolverMethod = _choices("SolverMethod", ("auto", *SOLVERS))
Impute = _choices("Impute", ("none", *IMPUTATION_METHODS))
Risk = _choices("Risk", RISKS)
EntropyModel = _choices("EntropyModel", ENTROPY_MODELS)
Model = _choices("Model", MODELS)
Executor = _choices("Executor", EXECUTORS)
Design = _choices("Design", DESIGNS)
LearnerMode = _choices("LearnerMode", LEARNER_MODES)
CompareMethod = _choices("CompareMethod", COMPARE_METHODS)
SuiteTask = _choices("SuiteTask", SUITE_REWARDS)


def _objective_spelling(token: str) -> str:
    """``all_pairs`` / ``max_min`` (the library's spelling) read as ``all-pairs`` / ``max-min``."""
    hyphens = token.replace("_", "-")
    return hyphens if hyphens.casefold() in {member.value for member in Objective} else token


#: ``context_settings`` of a command with ``--objective``: it also accepts the library's
#: underscore spelling, as the command line always has.
OBJECTIVE_CONTEXT = {"token_normalize_func": _objective_spelling}


def objective_name(objective: Objective) -> str:
    """The library's name (``all_pairs``) of an ``--objective`` choice (``all-pairs``)."""
    return objective.value.replace("-", "_")


def value_of(member: enum.Enum | None) -> str | None:
    """``member.value``, or None for an option left out."""
    return None if member is None else member.value


ConfigArg = Annotated[Path, typer.Argument(help="Campaign configuration (.toml, .yaml or .json).")]
MatrixArg = Annotated[
    Path, typer.Argument(help="Transfer matrix: square CSV, long CSV, JSON or .npz.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress output on stderr.")]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="Worker processes (or Ray CPUs).")
]
ExecutorOpt = Annotated[
    Executor | None, typer.Option("--executor", help="How probes run (overrides the config).")
]
AddressOpt = Annotated[str | None, typer.Option("--address", help="Ray cluster address.")]
ObjectiveOpt = Annotated[
    Objective,
    typer.Option(
        "--objective",
        case_sensitive=False,
        help="all-pairs (every later stage acts), adjacent (only the next one), or max-min "
        "(maximise the worst task's predicted final score).",
    ),
]
ModeOpt = Annotated[LearnerMode, typer.Option("--mode", help="Learner training mode.")]
HorizonOpt = Annotated[
    int,
    typer.Option(
        "--horizon",
        min=1,
        max=5,
        help="Enumerate every remaining order once this many tasks are left (1: never).",
    ),
]
DesignOpt = Annotated[
    Design,
    typer.Option(
        "--design",
        help="Second-stage probes of each re-measurement: 'full' (all pairs) or 'cheap' "
        "(2 per task, rest imputed).",
    ),
]
FloorOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--entropy-floor",
        help="TASK=VALUE: the task's final entropy (nats) must not end below VALUE; repeatable. "
        "Enforced on measured entropies for the enumerated last stages.",
    ),
]


def executor_kind(executor: Executor | None, workers: int | None) -> str | None:
    """The executor a command runs: ``--executor``, or ``process`` for ``--workers > 1``."""
    if executor is None and workers is not None and workers > 1:
        return "process"
    return value_of(executor)
