"""The transfer graph of :mod:`taskorder.plot`: arc diagram, or a circle for many tasks."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.plot.figures import MAX_INCHES, _label, _pyplot, _tick_labels
from taskorder.plot.fonts import text_fonts

__all__ = ["transfer_graph"]

#: Most tasks drawn as an arc diagram with every pair; more go on a circle, strongest pairs only.
ARC_MAX = 10


def transfer_graph(
    matrix: TransferMatrix,
    *,
    order: Sequence[str] | None = None,
    seed: int = 0,
    max_edges: int | None = None,
):
    """The transfer graph: an arrow ``i -> j`` per pair, width = ``|W[i, j]|``, colour = sign.

    Up to ``ARC_MAX`` tasks, with ``order``, the tasks are laid out left to right in
    training order (an arc diagram) and the chosen order is drawn as a thick black path;
    without it, on a circle. With more tasks the tasks go on a circle (clockwise from the
    top, in training order when given) with their names outside it, and only the
    ``max_edges`` strongest pairs are drawn (default ``3 * n_tasks``; the title says how
    many of how many). The figure is at most ``MAX_INCHES`` on a side. ``seed`` is kept
    for compatibility; the layouts are deterministic.

    Parameters
    ----------
    matrix : TransferMatrix
        Edge weights are its pair weights ``W`` (see :meth:`TransferMatrix.to_networkx`).
    order : sequence of str, optional
        Every task once, first trained first: sets the layout and, up to ``ARC_MAX``
        tasks, is drawn as a path.
    seed : int
        Unused (kept for compatibility).
    max_edges : int, optional
        Most pairs drawn, strongest first (default: all up to ``ARC_MAX`` tasks,
        ``3 * n_tasks`` beyond).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameterError
        If ``max_edges`` is negative.
    InvalidOrderError
        If ``order`` is not a permutation of the tasks.
    """
    if max_edges is not None and max_edges < 0:
        raise InvalidParameterError(
            f"The 'max_edges' parameter of transfer_graph must be >= 0. Got {max_edges!r}."
        )
    plt = _pyplot()
    import networkx as nx

    if order is not None:
        matrix.order_indices(order)
    tasks = list(order) if order is not None else list(matrix.tasks)
    graph = matrix.to_networkx()
    n_tasks = matrix.n_tasks
    many = n_tasks > ARC_MAX
    edges = _strongest_edges(
        graph, max_edges if max_edges is not None else (3 * n_tasks if many else None)
    )
    with text_fonts(tasks):
        if many:
            figure, ax = plt.subplots(figsize=(10.0, 10.0))
            position, rad, node_size = _circle(tasks), 0.1, float(np.clip(6000 / n_tasks, 40, 500))
        else:
            figure, ax = plt.subplots(figsize=(min(MAX_INCHES, max(7.0, 1.6 * n_tasks)), 5.5))
            position = (
                {task: (float(k), 0.0) for k, task in enumerate(order)}
                if order is not None
                else nx.circular_layout(graph)
            )
            # arc diagram: an arrow i -> j with i earlier bends above the line, against the order below
            rad, node_size = (-0.45 if order is not None else 0.15), 500.0
        _draw_edges(nx, graph, position, ax, edges, rad, node_size)
        if order is not None and len(order) > 1:
            _draw_order(nx, graph, position, ax, order, many, node_size)
        nx.draw_networkx_nodes(
            graph, position, ax=ax, node_color="#f2f2f2", edgecolors="black", node_size=node_size
        )
        if many:
            _circle_labels(ax, tasks, order is not None)
        else:
            _row_labels(ax, graph, position, order)
        _graph_legend_and_title(ax, order, many, len(edges), graph.number_of_edges())
        ax.axis("off")
        figure.tight_layout()
    return figure


def _draw_order(nx, graph, position, ax, order, many: bool, node_size: float) -> None:
    """The chosen order as a dashed black path."""
    nx.draw_networkx_edges(
        graph,
        position,
        ax=ax,
        edgelist=list(itertools.pairwise(order)),
        width=2.5 if not many else 1.5,
        edge_color="black",
        style="dashed",
        arrows=True,
        arrowsize=18 if not many else 10,
        node_size=node_size,
    )


def _row_labels(ax, graph, position, order) -> None:
    """Names under the nodes (numbered in training order when given)."""
    for task in graph.nodes:
        rank = order.index(task) if order is not None else 0
        label = f"{rank + 1}. {_label(task)}" if order is not None else _label(task)
        # in a row, every other name goes lower, so long names do not overlap
        below = -22 - (14 if order is not None and len(order) > 5 and rank % 2 else 0)
        ax.annotate(
            label,
            position[task],
            xytext=(0, below),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=9,
            bbox={"fc": "white", "ec": "none", "alpha": 0.8},
        )
    ax.margins(0.12, 0.25)


def _strongest_edges(graph, limit: int | None) -> list[tuple[str, str]]:
    edges = [edge for edge in graph.edges if graph.edges[edge]["weight"] != 0 or limit is None]
    if limit is not None and len(edges) > limit:
        edges = sorted(edges, key=lambda edge: -abs(graph.edges[edge]["weight"]))[:limit]
    return edges


def _draw_edges(nx, graph, position, ax, edges, rad: float, node_size: float) -> None:
    if not edges:
        return
    weights = np.array([graph.edges[edge]["weight"] for edge in edges])
    largest = float(np.abs(weights).max()) or 1.0
    nx.draw_networkx_edges(
        graph,
        position,
        ax=ax,
        edgelist=edges,
        width=[0.5 + 4.5 * abs(w) / largest for w in weights],
        edge_color=["#2166ac" if w >= 0 else "#b2182b" for w in weights],
        connectionstyle=f"arc3,rad={rad}",
        arrows=True,
        arrowsize=12 if node_size >= 200 else 8,
        node_size=node_size,
        alpha=0.7,
    )


def _circle(tasks: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Tasks on the unit circle, clockwise from the top."""
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(tasks)) / len(tasks)
    return {task: (float(np.cos(a)), float(np.sin(a))) for task, a in zip(tasks, angles)}


def _circle_labels(ax, tasks: Sequence[str], numbered: bool) -> None:
    """Names outside the circle, along the radius; every k-th one when they would overlap."""
    names = [f"{k + 1}. {task}" if numbered else task for k, task in enumerate(tasks)]
    positions, labels, font = _tick_labels(names, 2 * np.pi * 0.33 * 10.0 * 72)
    places = list(_circle(tasks).values())
    for k, label in zip(positions, labels):
        x, y = places[k]
        angle = math.degrees(math.atan2(y, x))
        left = x < -1e-9
        ax.text(
            1.06 * x,
            1.06 * y,
            label,
            rotation=angle + 180 if left else angle,
            rotation_mode="anchor",
            ha="right" if left else "left",
            va="center",
            fontsize=font,
        )
    ax.set_xlim(-1.7, 1.7)
    ax.set_ylim(-1.7, 1.7)
    ax.set_aspect("equal")


def _graph_legend_and_title(ax, order, many: bool, shown: int, total: int) -> None:
    from matplotlib.lines import Line2D

    ax.legend(
        handles=[
            Line2D([], [], color="#2166ac", lw=3, label="i -> j helps (W[i, j] > 0)"),
            Line2D([], [], color="#b2182b", lw=3, label="i -> j hurts (W[i, j] < 0)"),
            *(
                [Line2D([], [], color="black", lw=2.5, ls="--", label="chosen order")]
                if order
                else []
            ),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, -0.15 if not many else -0.02),
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    parts = []
    if not many and order:
        parts.append("above the line: pairs in training order (collected); below: against it")
    if shown < total:
        parts.append(f"the {shown} strongest of {total} pairs")
    if many and order:
        parts.append("numbers: training order")
    subtitle = "".join(f"\n{part}" if k == 0 else f"; {part}" for k, part in enumerate(parts))
    ax.set_title("Transfer graph (arrow i -> j: i trained before j; width = |transfer|)" + subtitle)
