"""Shared CLI plumbing: consoles, error translation, JSON output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from taskorder.exceptions import TaskorderError

__all__ = ["fail", "handle_errors", "print_json", "stderr", "stdout"]

stdout = Console(soft_wrap=True, markup=False)
stderr = Console(stderr=True, soft_wrap=True, markup=False)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``taskorder: error: message`` on stderr and return the Exit to raise."""
    print(f"taskorder: error: {message}", file=sys.stderr)
    return typer.Exit(code)


def handle_errors(command: F) -> F:
    """Turn library errors into one stderr line and exit code 1 (never a traceback).

    Put it on each command function, under its ``@app.command``: ``functools.wraps``
    keeps the signature, annotations and docstring that typer reads, so the command's
    options and ``--help`` are the function's own. Usage errors (``typer.BadParameter``)
    and ``typer.Exit`` pass through.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except TaskorderError as error:
            raise fail(str(error)) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except OSError as error:
            raise fail(
                f"{getattr(error, 'filename', '') or ''} {error.strerror or error}".strip()
            ) from None
        except Exception as error:
            raise fail(
                f"internal error ({type(error).__name__}: {error}); please report it"
            ) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """Print exactly one JSON object on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")


def parse_floors(items: list[str] | None) -> dict[str, float]:
    """``["open_0=0.8", ...]`` from repeated ``--entropy-floor TASK=VALUE`` options."""
    floors = {}
    for item in items or []:
        task, sep, value = item.partition("=")
        try:
            floors[task.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not task.strip():
            raise typer.BadParameter(
                f"expected TASK=VALUE; got {item!r}", param_hint="'--entropy-floor'"
            )
    return floors
