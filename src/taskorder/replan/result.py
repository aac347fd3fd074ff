"""What re-planning records: one :class:`Decision` per stage and the :class:`ReplanResult`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["Decision", "ReplanResult"]


@dataclass(frozen=True)
class Decision:
    """One re-planning decision, taken before training stage ``stage``.

    Attributes
    ----------
    stage : int
        The stage this decision chose (0 = first stage).
    how : {"given", "probe_matrix", "enumerate", "last"}
        ``given``: solved from the matrix passed in; ``probe_matrix``: solved from a
        matrix re-measured at the current state; ``enumerate``: every remaining order
        run; ``last``: one task left.
    remaining : tuple of str
        Tasks not yet trained when deciding.
    previous_plan : tuple of str or None
        The previous decision's order of these tasks (``None`` for the first decision).
    plan : tuple of str
        The new order of the remaining tasks; ``plan[0]`` is trained next.
    changed : bool
        ``plan`` differs from ``previous_plan``.
    value : float or None
        The new plan's value under the new evidence (the objective of the re-measured
        matrix, or the measured mean final score for ``enumerate``).
    previous_value : float or None
        The previous plan's value under the same evidence.
    probe_stages : int
        Training stages run to take this decision (probes or enumerated branches).
    reason : str
        One sentence: what was measured and why this plan.
    """

    stage: int
    how: str
    remaining: tuple[str, ...]
    previous_plan: tuple[str, ...] | None
    plan: tuple[str, ...]
    changed: bool
    value: float | None
    previous_value: float | None
    probe_stages: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReplanResult:
    """What :func:`replan_training` did.

    Attributes
    ----------
    tasks : tuple of str
        Column order of ``scores`` and ``entropy``.
    order : tuple of str
        The order actually trained.
    initial_plan : tuple of str
        The first decision's full order: what a run without re-planning would train.
    decisions : list of Decision
        One per stage.
    scores, entropy : ndarray, shape (n + 1, n)
        Every task at the start (row 0) and after every trained stage.
    probe_stages : int
        Training stages run for decisions (the trained stages reused from probes count
        here, not again).
    directory : str
        Campaign stores, states and ``decisions.json``.
    final_path : str
        The trained model, saved with ``runner.save`` (``directory/final.state``; a model
        folder for TRL: load it with ``from_pretrained``).
    final_state : object
        The trained model as the runner's state (not serialised by :meth:`to_dict`).
    elapsed_s : float
    """

    tasks: tuple[str, ...]
    order: tuple[str, ...]
    initial_plan: tuple[str, ...]
    decisions: list[Decision]
    scores: np.ndarray
    entropy: np.ndarray
    probe_stages: int
    directory: str
    final_path: str = ""
    final_state: Any = field(default=None, repr=False)
    elapsed_s: float = 0.0

    @property
    def final(self) -> dict[str, float]:
        """Every task's score after the last stage."""
        return dict(zip(self.tasks, self.scores[-1].tolist()))

    @property
    def changed(self) -> bool:
        """True when the trained order differs from the initial plan."""
        return self.order != self.initial_plan

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": list(self.tasks),
            "order": list(self.order),
            "initial_plan": list(self.initial_plan),
            "changed": self.changed,
            "final": self.final,
            "mean_final": float(np.mean(self.scores[-1])),
            "scores": self.scores.tolist(),
            "entropy": self.entropy.tolist(),
            "probe_stages": self.probe_stages,
            "decisions": [d.to_dict() for d in self.decisions],
            "directory": self.directory,
            "final_path": self.final_path,
            "elapsed_s": self.elapsed_s,
        }
