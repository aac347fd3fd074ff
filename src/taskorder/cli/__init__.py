"""The ``taskorder`` command line.

Results go to stdout (a table, or one JSON object with ``--json``); diagnostics go to
stderr. Exit codes: 0 success, 1 bad data or a domain error, 2 bad usage.
Each command group lives in its own module and is registered here.
"""

from __future__ import annotations

import typer

from taskorder.cli import compare_cmd, plot_cmd, probe_cmd, solve_cmd, train_cmd

__all__ = ["app", "main"]

app = typer.Typer(
    name="taskorder",
    help="Choose the order of multi-task RL training stages from measured transfer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
solve_cmd.register(app)
probe_cmd.register(app)
train_cmd.register(app)
plot_cmd.register(app)
compare_cmd.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
