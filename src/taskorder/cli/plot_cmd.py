"""``taskorder plot ...``: figures as PNG/SVG files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taskorder.cli.common import handle_errors, stderr

__all__ = ["register"]

plot_app = typer.Typer(help="Draw figures (PNG or SVG; needs the 'plot' extra).", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="Transfer matrix: square CSV, long CSV or JSON.")]
OutOpt = Annotated[Path, typer.Option("--output", "-o", help="Image file to write (.png or .svg).")]
OrderOpt = Annotated[
    str | None,
    typer.Option(help="Comma-separated training order to draw; 'best' solves for it."),
]


@handle_errors
def _order(matrix, order: str | None):
    if order is None:
        return None
    if order == "best":
        from taskorder.solvers import solve

        return list(solve(matrix).order)
    return [name.strip() for name in order.split(",")]


@plot_app.command()
def heatmap(file: FileArg, output: OutOpt, order: OrderOpt = None) -> None:
    """BWT heatmap with task names and the sign convention in the legend."""
    _draw("heatmap", file, output, order)


@plot_app.command()
def graph(file: FileArg, output: OutOpt, order: OrderOpt = "best") -> None:
    """Transfer graph (edge width = |transfer|, colour = sign) with the order drawn."""
    _draw("transfer_graph", file, output, order)


@handle_errors
def _draw(kind: str, file: Path, output: Path, order: str | None) -> None:
    from taskorder import plot
    from taskorder.io import read_matrix

    matrix = read_matrix(file)
    figure = getattr(plot, kind)(matrix, order=_order(matrix, order))
    path = plot.save(figure, output)
    stderr.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(plot_app, name="plot")
