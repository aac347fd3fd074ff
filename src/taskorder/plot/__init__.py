"""Plots (matplotlib, the ``plot`` extra): heatmap, transfer graph, validation, training curves.

Every function takes data, draws on a new figure (or the ``ax`` given), and returns the
``matplotlib.figure.Figure``; :func:`save` writes PNG or SVG by file suffix. Matplotlib
is imported inside the functions, so ``import taskorder.plot`` costs nothing.
"""

from taskorder.plot.figures import (
    curves,
    heatmap,
    predicted_vs_observed,
    save,
    transfer_graph,
)

__all__ = ["heatmap", "transfer_graph", "predicted_vs_observed", "curves", "save"]
