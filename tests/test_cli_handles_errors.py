"""Every CLI command turns library errors into one stderr line (never a traceback).

A command does that by carrying :func:`taskorder.cli.common.handle_errors`; this test walks
the Typer app, groups included, so a new command cannot forget it.
"""

from __future__ import annotations

import typer

from taskorder.cli import app
from taskorder.cli.common import handle_errors


def _commands(group: typer.Typer, prefix: str = ""):
    for info in group.registered_commands:
        name = info.name or info.callback.__name__.replace("_", "-")
        yield f"{prefix}{name}", info.callback
    for sub in group.registered_groups:
        yield from _commands(sub.typer_instance, f"{prefix}{sub.name} ")


def test_every_command_is_wrapped_by_handle_errors():
    commands = dict(_commands(app))
    assert len(commands) >= 15, sorted(commands)
    marker = handle_errors(lambda: None).__code__
    unwrapped = sorted(name for name, cb in commands.items() if cb.__code__ is not marker)
    assert not unwrapped, f"commands without @handle_errors: {unwrapped}"
