"""Plots (matplotlib, the ``plot`` extra): heatmap, transfer graph, validation, training curves.

Every function takes data, draws on a new figure, and returns the
``matplotlib.figure.Figure``; :func:`save` writes PNG, SVG or PDF by file suffix.
Matplotlib is imported inside the functions, so ``import taskorder.plot`` costs nothing.

Figures stay bounded with many tasks (at most 12 inches, 2400 pixels a side; see
:mod:`taskorder.plot.figures` and :mod:`taskorder.plot.graph`). Task names in any script are drawn with an installed font
that has their characters; when none has them, one :class:`MissingGlyphWarning` says so
and which font to install.
"""

from taskorder.plot.figures import (
    curves,
    heatmap,
    predicted_vs_observed,
    save,
)
from taskorder.plot.fonts import MissingGlyphWarning
from taskorder.plot.graph import transfer_graph

__all__ = [
    "MissingGlyphWarning",
    "curves",
    "heatmap",
    "predicted_vs_observed",
    "save",
    "transfer_graph",
]
