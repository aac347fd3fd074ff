"""Option and argument types shared by the CLI commands, declared once.

Each name is an ``Annotated`` type that a command's signature uses directly, e.g.
``as_json: JsonOpt = False``; the help text and checks therefore read the same in every
command.

Examples
--------
>>> from taskorder.cli.options import executor_kind
>>> executor_kind(None, 4)
'process'
>>> executor_kind("ray", None)
'ray'
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "AddressOpt",
    "ConfigArg",
    "DesignOpt",
    "ExecutorOpt",
    "FloorOpt",
    "HorizonOpt",
    "JsonOpt",
    "MatrixArg",
    "WorkersOpt",
    "executor_kind",
]

ConfigArg = Annotated[Path, typer.Argument(help="Campaign configuration (.toml, .yaml or .json).")]
MatrixArg = Annotated[Path, typer.Argument(help="Transfer matrix: square CSV, long CSV or JSON.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="Worker processes (or Ray CPUs).")
]
ExecutorOpt = Annotated[
    str | None, typer.Option("--executor", help="inprocess, process or ray (overrides the config).")
]
AddressOpt = Annotated[str | None, typer.Option("--address", help="Ray cluster address.")]
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
    str,
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


def executor_kind(executor: str | None, workers: int | None) -> str | None:
    """The executor a command runs: ``--executor`` checked, or ``process`` for ``--workers > 1``."""
    from taskorder.estimate.executors import EXECUTORS

    if executor is not None and executor not in EXECUTORS:
        raise typer.BadParameter(
            f"expected one of {', '.join(EXECUTORS)}; got {executor!r}", param_hint="'--executor'"
        )
    if executor is None and workers is not None and workers > 1:
        return "process"
    return executor
