"""``taskorder plot ...``: figures as PNG/SVG files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taskorder.cli.common import handle_errors, stderr
from taskorder.cli.options import MatrixArg, Model

__all__ = ["register"]

plot_app = typer.Typer(
    help="Draw figures (PNG or SVG; needs the 'plot' extra).", no_args_is_help=True
)

OutOpt = Annotated[Path, typer.Option("--output", "-o", help="Image file to write (.png or .svg).")]
OrderOpt = Annotated[
    str | None,
    typer.Option(help="Comma-separated training order to draw; 'best' solves for it."),
]


def _order(matrix, order: str | None):
    if order is None:
        return None
    if order == "best":
        from taskorder.solvers import solve

        return list(solve(matrix).order)
    return [name.strip() for name in order.split(",")]


@plot_app.command()
@handle_errors
def heatmap(file: MatrixArg, output: OutOpt, order: OrderOpt = None) -> None:
    """BWT heatmap with task names and the sign convention in the legend.

    \f

    Parameters
    ----------
    file : Path
        Transfer matrix: square CSV, long CSV, JSON or .npz.
    output : Path
        Image file to write (.png or .svg).
    order : str, optional
        Comma-separated training order to draw; 'best' solves for it.
    """
    _draw("heatmap", file, output, order)


@plot_app.command()
@handle_errors
def graph(file: MatrixArg, output: OutOpt, order: OrderOpt = "best") -> None:
    """Transfer graph (edge width = |transfer|, colour = sign) with the order drawn.

    \f

    Parameters
    ----------
    file : Path
        Transfer matrix: square CSV, long CSV, JSON or .npz.
    output : Path
        Image file to write (.png or .svg).
    order : str, optional
        Comma-separated training order to draw; 'best' solves for it.
    """
    _draw("transfer_graph", file, output, order)


def _draw(kind: str, file: Path, output: Path, order: str | None) -> None:
    from taskorder import plot
    from taskorder.io import read_matrix

    matrix = read_matrix(file)
    figure = getattr(plot, kind)(matrix, order=_order(matrix, order))
    path = plot.save(figure, output)
    stderr.print(f"wrote {path}")


JsonArg = Annotated[
    Path, typer.Argument(help="JSON written by taskorder (see the command's help).")
]


@plot_app.command()
@handle_errors
def validation(
    file: JsonArg,
    output: OutOpt,
    model: Annotated[
        Model, typer.Option(help="Outcome model whose predictions go on the x axis.")
    ] = Model.backward_only,
) -> None:
    """Predicted vs observed mean final score over orders, from validate.json.

    \f

    Parameters
    ----------
    file : Path
        JSON written by taskorder (see the command's help).
    output : Path
        Image file to write (.png or .svg).
    model : Model
        Outcome model whose predictions go on the x axis.
    """
    from taskorder import plot

    model_name = model.value
    data = _load_json(file, "orders")
    rows = data["orders"]
    if not rows or model_name not in rows[0].get("predicted", {}):
        known = sorted(rows[0].get("predicted", {})) if rows else []
        raise _bad(file, f"has no predictions for model {model_name!r}; it has {known}")
    labels = [">".join(row["order"]) for row in rows]
    predicted = {label: row["predicted"][model_name]["mean"] for label, row in zip(labels, rows)}
    observed = {label: row["observed_mean"] for label, row in zip(labels, rows)}
    errors = {label: (row.get("observed_se") or 0.0) for label, row in zip(labels, rows)}
    highlight = {}
    for label, row in zip(labels, rows):
        for name in row.get("labels", []):
            if name in ("solver", "rank_rule") or name.startswith("solver"):
                highlight.setdefault(label, name)
    figure = plot.predicted_vs_observed(
        predicted,
        observed,
        observed_err=errors,
        highlight=highlight,
        title=f"Predicted ({model_name}) vs observed mean final score",
    )
    stderr.print(f"wrote {plot.save(figure, output)}")


@plot_app.command()
@handle_errors
def curves(file: JsonArg, output: OutOpt) -> None:
    """Per-task score and entropy across stages, from a training run's stages.json."""
    from taskorder import plot

    data = _load_json(file, "records")
    records = sorted(data["records"], key=lambda record: record["stage"])
    tasks = data.get("tasks") or sorted(records[0]["scores"])
    stages = [record["label"] for record in records]
    scores = {task: [record["scores"][task] for record in records] for task in tasks}
    entropies = {task: [record["entropies"][task] for record in records] for task in tasks}
    stderr.print(f"wrote {plot.save(plot.curves(stages, scores, entropies), output)}")


def _bad(path: Path, problem: str):
    from taskorder.exceptions import InvalidParameterError

    return InvalidParameterError(f"{path}: {problem}.")


def _load_json(path: Path, key: str) -> dict:
    import json

    if not path.is_file():
        raise _bad(path, "no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _bad(path, f"is not valid JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), list) or not data[key]:
        raise _bad(path, f"expected a JSON object with a non-empty {key!r} list")
    return data


def register(app: typer.Typer) -> None:
    app.add_typer(plot_app, name="plot")
