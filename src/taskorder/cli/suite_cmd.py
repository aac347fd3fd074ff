"""``taskorder suite write``: the offline task suite for small real models, and its config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taskorder.cli.common import handle_errors, stdout
from taskorder.cli.options import SuiteTask

__all__ = ["register"]

suite_app = typer.Typer(help="Write the offline task suite for small real models.")


@suite_app.command("write")
@handle_errors
def write(
    out: Annotated[Path, typer.Argument(help="Folder for the JSONL files and real_lm.yaml.")],
    tasks: Annotated[
        list[SuiteTask] | None,
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
    tasks : list of SuiteTask, optional
        A suite task to include (repeat); default all four.
    model : str
        Model source for the config.
    seed : int
        Seed of the rows.
    """
    from taskorder.trl.suite import write_suite

    chosen = [task.value for task in tasks] if tasks else None
    path = write_suite(out, tasks=chosen, seed=seed, model=model)
    stdout.print(str(path))


def register(app: typer.Typer) -> None:
    """Add the ``suite`` group to ``app``."""
    app.add_typer(suite_app, name="suite")
