"""MkDocs hooks: the CLI reference page is generated from the command line itself.

``<!-- cli-reference -->`` in ``cli-reference.md`` is replaced by one section per command
and sub-command (usage, help text, arguments, options), so the page cannot drift from the
code. The build then checks the page against a second, independent list of commands (the
typer apps' registrations, not the click objects the page was made from): a command or
option missing from the page is a warning, which fails ``mkdocs build --strict``.

This file is excluded from the site (``exclude_docs`` in mkdocs.yml).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- cli-reference -->"
PAGE = "cli-reference.md"

log = logging.getLogger("mkdocs.hooks.cli_reference")


def walk_commands(app: Any) -> Iterator[tuple[list[str], Any, Any]]:
    """Yield ``(path, command, context)`` for the root command and every sub-command.

    Typer ships its own copy of click, so the objects are recognised by what they do
    (a group has ``list_commands`` / ``get_command``), never by ``isinstance`` on click.
    """
    import typer

    def walk(command: Any, path: list[str], parent: Any) -> Iterator[tuple[list[str], Any, Any]]:
        context = command.context_class(command, info_name=path[-1], parent=parent)
        yield path, command, context
        if callable(getattr(command, "list_commands", None)):
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                if sub is not None and not getattr(sub, "hidden", False):
                    yield from walk(sub, [*path, name], context)

    yield from walk(typer.main.get_command(app), [app.info.name or "taskorder"], None)


def registered_commands(app: Any, prefix: tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """Every command path the typer app registers -> its parameter names, without click.

    Read from ``registered_commands`` / ``registered_groups`` and the callbacks'
    signatures, so a walk that stops early (the old ``isinstance(command, click.Group)``
    check saw no group at all) cannot hide a command from the check.
    """
    import inspect

    from typer.main import get_command_name

    prefix = prefix or (app.info.name or "taskorder",)
    callback = app.registered_callback.callback if app.registered_callback else app.info.callback
    found = {" ".join(prefix): list(inspect.signature(callback).parameters) if callback else []}
    for info in app.registered_commands:
        if info.hidden:
            continue
        name = info.name or get_command_name(info.callback.__name__)
        found[" ".join((*prefix, name))] = list(inspect.signature(info.callback).parameters)
    for group in app.registered_groups:
        sub = group.typer_instance
        name = group.name or sub.info.name
        if not (group.hidden or sub.info.hidden):
            found.update(registered_commands(sub, (*prefix, name)))
    return found


def _cell(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _code_cell(text: str) -> str:
    return f"`{' '.join(text.split())}`"


def _usage(path: list[str], command: Any) -> str:
    arguments = [p for p in command.params if getattr(p, "param_type_name", "") == "argument"]
    pieces = [*path, "[OPTIONS]"]
    for argument in arguments:
        name = (argument.name or "").upper()
        name = f"{name}..." if getattr(argument, "nargs", 1) == -1 else name
        pieces.append(name if argument.required else f"[{name}]")
    if callable(getattr(command, "list_commands", None)):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _section(path: list[str], command: Any, context: Any) -> str:
    lines = [f"## `{' '.join(path)}`", "", "```text", _usage(path, command), "```", ""]
    # Like click's --help: the text after a form feed (\f) is for the code's readers only.
    text, cut, _ = (command.help or "").partition("\f")
    text = text.rstrip() if cut else text
    lines += [html.escape(text, quote=False).replace("\b\n", ""), ""]
    visible = [p for p in command.params if not getattr(p, "hidden", False)]
    for kind, title in (("argument", "Arguments"), ("option", "Options")):
        records = [
            p.get_help_record(context) for p in visible if getattr(p, "param_type_name", "") == kind
        ]
        records = [record for record in records if record]
        if records:
            lines += [f"| {title.lower()[:-1]} | meaning |", "|---|---|"]
            lines += [f"| {_code_cell(names)} | {_cell(text)} |" for names, text in records]
            lines.append("")
    if callable(getattr(command, "list_commands", None)):
        lines += ["| command | what it does |", "|---|---|"]
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is not None and not getattr(sub, "hidden", False):
                anchor = "-".join([*path, name]).lower()
                lines.append(
                    f"| [`{name}`](#{anchor}) | {_cell(sub.get_short_help_str(limit=90))} |"
                )
        lines.append("")
    return "\n".join(lines)


def cli_reference(app: Any = None) -> str:
    """The Markdown of every command's section, root first, sub-commands in registration order."""
    if app is None:
        from taskorder.cli import app
    sections = [_section(path, command, context) for path, command, context in walk_commands(app)]
    sections.append("Every command also takes `--help`.\n")
    return "\n".join(sections)


def missing_from_reference(markdown: str, app: Any = None) -> list[str]:
    """Commands (``taskorder probe run``) and options (``taskorder solve --seed``) absent from ``markdown``."""
    if app is None:
        from taskorder.cli import app
    sections = {}
    for block in ("\n" + markdown).split("\n## `")[1:]:
        name, _, body = block.partition("`")
        sections[name] = body
    options = {" ".join(path): command for path, command, _ in walk_commands(app)}
    missing = []
    for path, parameters in registered_commands(app).items():
        if path not in sections:
            missing.append(path)
            continue
        command = options.get(path)
        params = {p.name: p for p in command.params} if command is not None else {}
        for parameter in parameters:
            param = params.get(parameter)
            if param is None or getattr(param, "hidden", False):
                continue
            shown = (
                param.opts[0] if getattr(param, "param_type_name", "") == "option" else param.name
            )
            if shown not in sections[path]:
                missing.append(f"{path} {shown}")
    return missing


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        log.warning("%s has no %s marker: the CLI reference would be empty.", PAGE, MARKER)
        return markdown
    markdown = markdown.replace(MARKER, cli_reference())
    for missing in missing_from_reference(markdown):
        log.warning("The CLI reference page does not document '%s'.", missing)
    return markdown


def on_files(files, config):
    if files.get_file_from_path(PAGE) is None:
        log.warning("docs/%s is missing: the CLI reference is not published.", PAGE)
    return files
