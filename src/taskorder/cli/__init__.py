"""The ``taskorder`` command line.

Results go to stdout (a table, or one JSON object with ``--json``); diagnostics go to
stderr. Exit codes: 0 success, 1 bad data or a domain error, 2 bad usage.
Each command group (``probe``, ``plot``, ``model``, ``suite``) and each top-level command
(``solve`` with ``predict``, ``validate``, ``demo``, ``train``, ``compare``) lives in its
own ``*_cmd`` module and is registered here. Option types are declared once in
``options``; what several commands print is in ``tables``; running a probe campaign
(progress bar, interruption) is in ``campaign``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from taskorder.cli import (
    compare_cmd,
    demo_cmd,
    model_cmd,
    plot_cmd,
    probe_cmd,
    solve_cmd,
    suite_cmd,
    train_cmd,
    validate_cmd,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="taskorder",
    help="Choose the order of multi-task RL training stages from measured transfer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        from taskorder import __version__

        try:
            installed = version("taskorder")
        except PackageNotFoundError:  # running from a source tree
            installed = __version__
        print(f"taskorder {installed}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Choose the order of multi-task RL training stages from measured transfer."""


solve_cmd.register(app)
validate_cmd.register(app)
demo_cmd.register(app)
probe_cmd.register(app)
train_cmd.register(app)
plot_cmd.register(app)
compare_cmd.register(app)
model_cmd.register(app)
suite_cmd.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
