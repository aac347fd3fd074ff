"""Bar chart of a comparison: mean final score per method, with every seed as a dot."""

from __future__ import annotations

from typing import Any

import numpy as np

from taskorder.compare.core import CompareReport

__all__ = ["compare_bars"]

_COLOURS = {
    "curriculum": "#4C72B0",
    "planned": "#8172B3",
    "mixture": "#DD8452",
    "online": "#C44E52",
    "merge": "#55A868",
}


def compare_bars(report: CompareReport) -> Any:
    """Bars: mean final score (over tasks and seeds) per method; error bars: std over
    seeds; dots: the per-seed means. Colour by kind (curriculum, planned, mixture, online,
    merge).

    Examples
    --------
    >>> from taskorder.compare import compare
    >>> from taskorder.learner import make_learner
    >>> report = compare(make_learner(1, 1), methods=["joint", "interleaved"], seeds=2, stage_steps=2)
    >>> compare_bars(report).axes[0].get_ylabel()
    'mean final score'
    """
    from taskorder.plot.figures import _pyplot

    plt = _pyplot()
    names = list(report.methods)
    results = [report.methods[name] for name in names]
    figure, axis = plt.subplots(figsize=(max(5.0, 0.7 * len(names) + 1.5), 3.8))
    x = np.arange(len(names))
    axis.bar(
        x,
        [r.mean for r in results],
        yerr=[r.std for r in results],
        color=[_COLOURS[r.kind] for r in results],
        capsize=3,
        alpha=0.85,
    )
    for k, result in enumerate(results):
        means = result.seed_means
        axis.scatter(np.full(len(means), x[k]), means, s=10, color="black", zorder=3)
    axis.set_xticks(x, names, rotation=45, ha="right")
    axis.set_ylabel("mean final score")
    # a bar's length is its value, so the axis starts at 0 (lower only for negative scores)
    lowest = min([0.0, *(float(np.min(r.seed_means)) for r in results)])
    axis.set_ylim(1.1 * lowest, None)
    axis.set_title(
        f"{len(report.tasks)} tasks; every method {report.stage_steps * len(report.tasks)} training steps; "
        f"{report.seeds} seeds"
    )
    kinds = [kind for kind in _COLOURS if any(r.kind == kind for r in results)]
    handles = [plt.Rectangle((0, 0), 1, 1, color=_COLOURS[kind]) for kind in kinds]
    axis.legend(handles, kinds, fontsize=8, frameon=False)
    figure.tight_layout()
    return figure
