"""The figure functions behind :mod:`taskorder.plot`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError, require
from taskorder.matrix import TransferMatrix

__all__ = ["heatmap", "transfer_graph", "predicted_vs_observed", "curves", "save"]


def _pyplot():
    require("matplotlib", "plot")
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure: Any, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``figure`` to ``path`` (``.png`` or ``.svg``) and close it."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InvalidParameterError(
            f"The 'path' parameter of save must end in .png, .svg or .pdf. Got {path.name!r}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")
    _pyplot().close(figure)
    return path


def heatmap(matrix: TransferMatrix, *, order: Sequence[str] | None = None, annotate: bool | None = None):
    """BWT heatmap: rows = task trained earlier, columns = task trained later.

    Diverging colours centred on 0 (red = forgetting, blue = positive transfer);
    missing entries are grey and imputed ones are marked ``*``. With ``order``, rows and
    columns follow the training order.

    Examples
    --------
    >>> m = TransferMatrix(["math", "poetry"], [[0, -0.2], [0.05, 0]])
    >>> fig = heatmap(m)
    >>> fig.axes[0].get_title()
    'Backward transfer bwt[i, j]'
    """
    plt = _pyplot()
    tasks = list(order) if order is not None else list(matrix.tasks)
    idx = matrix.order_indices(tasks)
    values = matrix.bwt[np.ix_(idx, idx)].copy()
    np.fill_diagonal(values, np.nan)
    n_tasks = len(tasks)
    size = max(4.0, 0.55 * n_tasks + 2.5)
    figure, ax = plt.subplots(figsize=(size + 1.2, size))
    finite = values[np.isfinite(values)]
    limit = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
    cmap = plt.get_cmap("RdBu").with_extremes(bad="#dddddd")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-limit, vmax=limit)
    colorbar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("change in row task's score when the column task is trained after it\n"
                       "(negative = forgetting)")
    ax.set_xticks(range(n_tasks), tasks, rotation=45, ha="right")
    ax.set_yticks(range(n_tasks), tasks)
    ax.set_xlabel("trained later (j)")
    ax.set_ylabel("trained earlier (i)")
    ax.set_title("Backward transfer bwt[i, j]")
    if annotate if annotate is not None else n_tasks <= 12:
        imputed = matrix.imputed[np.ix_(idx, idx)]
        for i in range(n_tasks):
            for j in range(n_tasks):
                if i != j and np.isfinite(values[i, j]):
                    mark = "*" if imputed[i, j] else ""
                    colour = "white" if abs(values[i, j]) > 0.6 * limit else "black"
                    ax.text(j, i, f"{values[i, j]:.2g}{mark}", ha="center", va="center",
                            fontsize=8, color=colour)
    figure.tight_layout()
    return figure


def transfer_graph(matrix: TransferMatrix, *, order: Sequence[str] | None = None, seed: int = 0):
    """The transfer graph: an arrow ``i -> j`` per pair, width = ``|W[i, j]|``, colour = sign.

    With ``order`` the tasks are laid out left to right in training order and the chosen
    order is drawn as a thick black path; otherwise a seeded spring layout is used.
    """
    plt = _pyplot()
    import networkx as nx

    graph = matrix.to_networkx()
    n_tasks = matrix.n_tasks
    figure, ax = plt.subplots(figsize=(max(7.0, 1.6 * n_tasks), 5.5))
    if order is not None:
        matrix.order_indices(order)
        # arc diagram: tasks left to right in training order; an arrow i -> j with i earlier
        # bends above the line, one against the order bends below
        position = {task: (float(k), 0.0) for k, task in enumerate(order)}
        rad = -0.45
    else:
        position = nx.circular_layout(graph)
        rad = 0.15
    weights = np.array([graph.edges[e]["weight"] for e in graph.edges])
    largest = float(np.abs(weights).max()) if weights.size and np.abs(weights).max() > 0 else 1.0
    edges = list(graph.edges)
    nx.draw_networkx_edges(
        graph, position, ax=ax, edgelist=edges,
        width=[0.5 + 4.5 * abs(w) / largest for w in weights],
        edge_color=["#2166ac" if w >= 0 else "#b2182b" for w in weights],
        connectionstyle=f"arc3,rad={rad}", arrows=True, arrowsize=12, node_size=500, alpha=0.7,
    )
    if order is not None and len(order) > 1:
        path = list(zip(order[:-1], order[1:]))
        nx.draw_networkx_edges(graph, position, ax=ax, edgelist=path, width=2.5, edge_color="black",
                               style="dashed", arrows=True, arrowsize=18, node_size=500)
    nx.draw_networkx_nodes(graph, position, ax=ax, node_color="#f2f2f2", edgecolors="black",
                           node_size=500)
    for k, task in enumerate(graph.nodes):
        x, y = position[task]
        label = f"{order.index(task) + 1}. {task}" if order is not None else task
        ax.annotate(label, (x, y), xytext=(0, -22), textcoords="offset points", ha="center",
                    va="top", fontsize=9, bbox={"fc": "white", "ec": "none", "alpha": 0.8})
    ax.margins(0.12, 0.25)
    from matplotlib.lines import Line2D

    ax.legend(
        handles=[
            Line2D([], [], color="#2166ac", lw=3, label="i -> j helps (W[i, j] > 0)"),
            Line2D([], [], color="#b2182b", lw=3, label="i -> j hurts (W[i, j] < 0)"),
            *([Line2D([], [], color="black", lw=2.5, ls="--", label="chosen order")] if order else []),
        ],
        loc="lower center", bbox_to_anchor=(0.5, -0.15), ncol=3, fontsize=8, frameon=False,
    )
    subtitle = "\nabove the line: pairs in training order (collected); below: against it" if order else ""
    ax.set_title("Transfer graph (arrow i -> j: i trained before j; width = |transfer|)" + subtitle)
    ax.axis("off")
    figure.tight_layout()
    return figure


def predicted_vs_observed(
    predicted: Mapping[str, float] | Sequence[float],
    observed: Mapping[str, float] | Sequence[float],
    *,
    observed_err: Mapping[str, float] | Sequence[float] | None = None,
    highlight: Mapping[str, str] | None = None,
    title: str = "Predicted vs observed outcome per order",
):
    """Scatter of predicted vs observed outcome, one point per order (or per task).

    ``predicted`` and ``observed`` are mappings label -> value (same labels) or equal-length
    sequences; ``observed_err`` draws error bars (e.g. seed standard errors);
    ``highlight`` maps a label to a legend name (e.g. ``{"a>b>c": "solver"}``). The title
    shows Spearman's rho.
    """
    plt = _pyplot()
    from scipy.stats import spearmanr

    labels, x, y, err = _paired(predicted, observed, observed_err)
    figure, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.errorbar(x, y, yerr=err, fmt="o", color="#4d4d4d", alpha=0.6, ms=4, lw=0.8, label="orders")
    for label, name in (highlight or {}).items():
        if label in labels:
            k = labels.index(label)
            ax.plot(x[k], y[k], "o", ms=10, label=name)
    rho = spearmanr(x, y).statistic if len(x) > 2 else float("nan")
    ax.set_xlabel("predicted")
    ax.set_ylabel("observed")
    ax.set_title(f"{title}\nSpearman rho = {rho:.2f} (n = {len(x)})")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def _paired(predicted, observed, observed_err):
    if isinstance(predicted, Mapping) != isinstance(observed, Mapping):
        raise InvalidParameterError("'predicted' and 'observed' must both be mappings or both sequences.")
    if isinstance(predicted, Mapping):
        labels = [label for label in predicted if label in observed]
        if len(labels) != len(predicted) or len(labels) != len(observed):
            raise InvalidParameterError(
                "'predicted' and 'observed' must have the same labels. "
                f"Got {sorted(predicted)} and {sorted(observed)}."
            )
        x = np.array([predicted[k] for k in labels], float)
        y = np.array([observed[k] for k in labels], float)
        err = None if observed_err is None else np.array([observed_err[k] for k in labels], float)
    else:
        x, y = np.asarray(predicted, float), np.asarray(observed, float)
        if x.shape != y.shape:
            raise InvalidParameterError(
                f"'predicted' and 'observed' must have equal lengths. Got {x.size} and {y.size}."
            )
        labels = [str(k) for k in range(x.size)]
        err = None if observed_err is None else np.asarray(observed_err, float)
    return labels, x, y, err


def curves(
    stages: Sequence[str],
    scores: Mapping[str, Sequence[float]],
    entropies: Mapping[str, Sequence[float]] | None = None,
):
    """Per-task score (and entropy) across training stages.

    ``stages`` labels the x axis (e.g. ``["base", "math", "poetry"]``); ``scores[task]`` and
    ``entropies[task]`` hold one value per stage. Entropy goes on a second panel, so the
    structured-lowers / open-ended-raises pattern is visible.
    """
    plt = _pyplot()
    n_panels = 1 if entropies is None else 2
    figure, axes = plt.subplots(1, n_panels, figsize=(5.5 * n_panels, 4), squeeze=False)
    panels = [("score", scores)] + ([("mean token entropy (nats)", entropies)] if entropies else [])
    for ax, (label, series) in zip(axes[0], panels):
        for task, values in series.items():
            if len(values) != len(stages):
                raise InvalidParameterError(
                    f"Each series must have one value per stage ({len(stages)}). "
                    f"Task {task!r} has {len(values)}."
                )
            ax.plot(range(len(stages)), values, marker="o", label=task)
        ax.set_xticks(range(len(stages)), [f"after {s}" if k else s for k, s in enumerate(stages)],
                      rotation=30, ha="right")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0][0].set_title("Per-task score across stages")
    if entropies:
        axes[0][1].set_title("Per-task entropy across stages")
    axes[0][-1].legend(fontsize=8)
    figure.tight_layout()
    return figure
