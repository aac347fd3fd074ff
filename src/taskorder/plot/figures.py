"""The figure functions behind :mod:`taskorder.plot`.

Figures stay readable and bounded as the number of tasks grows: no side is longer than
``MAX_INCHES`` (``MAX_PIXELS`` once saved), tick labels shrink and then thin out, per-cell
values stop past ``ANNOTATE_MAX`` tasks, the transfer graph (:mod:`taskorder.plot.graph`)
switches to a circular layout with the strongest pairs only, and task names longer than
``LABEL_CHARS`` are shortened with an ellipsis. Names in any script are drawn with a font
that has their glyphs (:mod:`taskorder.plot.fonts`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError, require
from taskorder.matrix import TransferMatrix
from taskorder.plot.fonts import quiet_glyph_warnings, text_fonts

__all__ = ["curves", "heatmap", "predicted_vs_observed", "save"]

#: Longest side of a figure, in inches (1800 px at the default 150 dpi).
MAX_INCHES = 12.0
#: Longest side of a saved image, in pixels: ``save`` lowers the dpi to stay under it.
MAX_PIXELS = 2400
#: Most tasks for which the heatmap writes each cell's value (unreadable and slow past it).
ANNOTATE_MAX = 25
#: Task names longer than this are shortened on figures.
LABEL_CHARS = 24
#: Smallest tick-label font size (points); denser axes label every k-th task.
MIN_FONT = 5.0


def _pyplot():
    require("matplotlib", "plot")
    import matplotlib

    if matplotlib.get_backend().lower() not in (
        "agg",
        "svg",
        "pdf",
        "module://matplotlib_inline.backend_inline",
    ):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure: Any, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``figure`` to ``path`` (``.png``, ``.svg`` or ``.pdf``) and close it.

    The dpi is lowered when needed so that no side of the image exceeds ``MAX_PIXELS``.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure to write; it is closed afterwards.
    path : str or Path
        Output file; its suffix picks the format. Missing parent folders are created.
    dpi : int, default 150
        Resolution, lowered to keep the longest side under ``MAX_PIXELS``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidParameterError
        If the suffix is not ``.png``, ``.svg`` or ``.pdf``.
    """
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InvalidParameterError(
            f"The 'path' parameter of save must end in .png, .svg or .pdf. Got {path.name!r}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    dpi = min(dpi, MAX_PIXELS / max(figure.get_size_inches()))
    with quiet_glyph_warnings():
        figure.savefig(path, dpi=dpi, bbox_inches="tight")
    _pyplot().close(figure)
    return path


def _label(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "\u2026"


def _tick_labels(names: Sequence[str], length_pt: float) -> tuple[list[int], list[str], float]:
    """Positions and labels of the names to show along an axis ``length_pt`` points long,
    and their font size: 9 pt when all fit, smaller down to ``MIN_FONT``, then every k-th."""
    per_name = length_pt / max(len(names), 1)
    size = float(np.clip(0.8 * per_name, MIN_FONT, 9.0))
    step = max(1, math.ceil(size / per_name))
    positions = list(range(0, len(names), step))
    return positions, [_label(names[k]) for k in positions], size


def heatmap(
    matrix: TransferMatrix, *, order: Sequence[str] | None = None, annotate: bool | None = None
):
    """BWT heatmap: rows = task trained earlier, columns = task trained later.

    Diverging colours centred on 0 (red = forgetting, blue = positive transfer);
    missing entries are grey and imputed ones are marked ``*``. With ``order``, rows and
    columns follow the training order. ``annotate`` writes each value in its cell (default:
    up to 12 tasks; never past ``ANNOTATE_MAX``). The figure is at most ``MAX_INCHES`` on a
    side; past about 40 tasks only every k-th task is named on the axes.

    Parameters
    ----------
    matrix : TransferMatrix
    order : sequence of str, optional
        Every task once, first trained first; default the matrix's task order.
    annotate : bool, optional
        Write each value in its cell (default: when there are at most 12 tasks). Past
        ``ANNOTATE_MAX`` tasks values are never written (``True`` then warns).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidOrderError
        If ``order`` is not a permutation of the tasks.

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
    if annotate and n_tasks > ANNOTATE_MAX:
        warnings.warn(
            f"heatmap writes cell values for at most {ANNOTATE_MAX} tasks; "
            f"this matrix has {n_tasks}, so the values are left out.",
            stacklevel=2,
        )
    annotate = (n_tasks <= 12 if annotate is None else annotate) and n_tasks <= ANNOTATE_MAX
    size = min(MAX_INCHES - 1.2, max(4.0, 0.55 * n_tasks + 2.5))
    with text_fonts(tasks):
        figure, ax = plt.subplots(figsize=(size + 1.2, size))
        limit = _draw_cells(figure, ax, values, plt)
        positions, labels, font = _tick_labels(tasks, 0.75 * size * 72)
        ax.set_xticks(
            positions,
            labels,
            rotation=45 if font >= 7 else 90,
            ha="right" if font >= 7 else "center",
            fontsize=font,
        )
        ax.set_yticks(positions, labels, fontsize=font)
        if font < 7:
            ax.tick_params(length=2)
        ax.set_xlabel("trained later (j)")
        ax.set_ylabel("trained earlier (i)")
        ax.set_title("Backward transfer bwt[i, j]")
        if annotate:
            _annotate_cells(ax, values, matrix.imputed[np.ix_(idx, idx)], limit)
        figure.tight_layout()
    return figure


def _draw_cells(figure, ax, values: np.ndarray, plt) -> float:
    finite = values[np.isfinite(values)]
    limit = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
    cmap = plt.get_cmap("RdBu").with_extremes(bad="#dddddd")
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest"
    )
    colorbar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label(
        "change in row task's score when the column task is trained after it\n"
        "(negative = forgetting)"
    )
    return limit


def _annotate_cells(ax, values: np.ndarray, imputed: np.ndarray, limit: float) -> None:
    n_tasks = values.shape[0]
    for i in range(n_tasks):
        for j in range(n_tasks):
            if i != j and np.isfinite(values[i, j]):
                mark = "*" if imputed[i, j] else ""
                colour = "white" if abs(values[i, j]) > 0.6 * limit else "black"
                ax.text(
                    j,
                    i,
                    f"{values[i, j]:.2g}{mark}",
                    ha="center",
                    va="center",
                    fontsize=8 if n_tasks <= 12 else 6,
                    color=colour,
                )


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
    shows Spearman's rho; a dashed ``y = x`` line marks perfect calibration (both axes are
    the same score).

    Parameters
    ----------
    predicted : mapping of str to float, or sequence of float
        Predicted outcome per label (or per position).
    observed : mapping of str to float, or sequence of float
        Observed outcome, same labels (or same length) as ``predicted``.
    observed_err : mapping or sequence of float, optional
        Error bar half-widths of ``observed``, indexed like it.
    highlight : mapping of str to str, optional
        Label -> legend name of points to draw large and name in the legend.
    title : str
        First line of the title (the second gives Spearman's rho and ``n``).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameterError
        If one of ``predicted`` / ``observed`` is a mapping and the other not, or their
        labels or lengths differ.
    """
    plt = _pyplot()
    from scipy.stats import spearmanr

    labels, x, y, err = _paired(predicted, observed, observed_err)
    with text_fonts([title, *(highlight or {}).values()]):
        figure, ax = plt.subplots(figsize=(5.5, 4.5))
        ax.errorbar(
            x, y, yerr=err, fmt="o", color="#4d4d4d", alpha=0.6, ms=4, lw=0.8, label="orders"
        )
        for label, name in (highlight or {}).items():
            if label in labels:
                k = labels.index(label)
                ax.plot(x[k], y[k], "o", ms=10, label=name)
        both = np.concatenate([x, y])
        both = both[np.isfinite(both)]
        if both.size:
            low, high = float(both.min()), float(both.max())
            pad = 0.05 * (high - low) or 0.05
            ax.plot(
                [low - pad, high + pad],
                [low - pad, high + pad],
                ls="--",
                lw=1,
                color="#888888",
                zorder=0,
                label="y = x",
            )
        rho = spearmanr(x, y).statistic if len(x) > 2 else float("nan")
        ax.set_xlabel("predicted")
        ax.set_ylabel("observed")
        ax.set_title(f"{title}\nSpearman rho = {rho:.2f} (n = {len(x)})")
        ax.legend(fontsize=8)
        figure.tight_layout()
    return figure


def _paired(predicted, observed, observed_err):
    if isinstance(predicted, Mapping) != isinstance(observed, Mapping):
        raise InvalidParameterError(
            "'predicted' and 'observed' must both be mappings or both sequences."
        )
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

    Parameters
    ----------
    stages : sequence of str
        One label per training stage, in order.
    scores : mapping of str to sequence of float
        Per task, its score after each stage (``len(stages)`` values).
    entropies : mapping of str to sequence of float, optional
        Per task, its entropy after each stage; drawn on a second panel.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameterError
        If a task's series does not have one value per stage.
    """
    plt = _pyplot()
    with text_fonts([*stages, *scores]):
        return _curves(plt, stages, scores, entropies)


def _curves(plt, stages, scores, entropies):
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
            ax.plot(range(len(stages)), values, marker="o", label=_label(task))
        ax.set_xticks(
            range(len(stages)),
            [f"after {_label(s)}" if k else _label(s) for k, s in enumerate(stages)],
            rotation=30,
            ha="right",
        )
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0][0].set_title("Per-task score across stages")
    if entropies:
        axes[0][1].set_title("Per-task entropy across stages")
    axes[0][-1].legend(fontsize=8)
    figure.tight_layout()
    return figure
