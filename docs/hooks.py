"""MkDocs hook: fill the CLI reference page from the CLI itself, so it cannot drift."""

from __future__ import annotations

MARKER = "<!-- cli-reference -->"


def cli_reference() -> str:
    import click
    import typer

    from taskorder.cli import app

    root = typer.main.get_command(app)
    sections: list[str] = []

    def walk(command: click.Command, path: list[str]) -> None:
        context = click.Context(command, info_name=" ".join(path))
        sections.append(f"## `{' '.join(path)}`\n\n```text\n{command.get_help(context)}\n```\n")
        if isinstance(command, click.Group):
            for name in sorted(command.list_commands(context)):
                walk(command.get_command(context, name), [*path, name])

    walk(root, ["taskorder"])
    return "\n".join(sections)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - mkdocs API
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
