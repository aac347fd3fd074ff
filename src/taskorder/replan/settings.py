"""The settings of one re-planned run, checked once and passed to every decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from taskorder.checks import check_choice, check_float, check_int
from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix

__all__ = ["DESIGNS", "ReplanSettings"]

#: Second-stage designs of a re-probe: every ordered pair, or the 2m-pair cyclic design
#: (every row and column measured twice, the rest imputed by row and column effects).
DESIGNS = ("full", "cheap")


@dataclass(frozen=True)
class ReplanSettings:
    """What :func:`taskorder.replan.replan_training` was asked to do, validated.

    Built by :meth:`check` (one error per bad argument, naming it); the fields mean what
    the parameters of :func:`~taskorder.replan.replan_training` mean, with ``floors`` the
    checked ``entropy_floor`` (``{}`` when none).

    Examples
    --------
    >>> from taskorder.learner import make_learner
    >>> settings = ReplanSettings.check(make_learner(1, 1), steps=5)
    >>> settings.tasks, settings.horizon, settings.floors
    (('structured_0', 'open_0'), 3, {})
    """

    tasks: tuple[str, ...]
    steps: int = 40
    horizon: int = 3
    design: str = "full"
    repeats: int = 1
    matrix: TransferMatrix | None = None
    floors: dict[str, float] = field(default_factory=dict)
    entropy_model: str = "multiplicative"
    objective: str = "all_pairs"
    method: str = "auto"
    seed: int = 0

    @classmethod
    def check(
        cls,
        runner: Any,
        *,
        tasks: Sequence[str] | None = None,
        entropy_floor: Mapping[str, float] | None = None,
        **values: Any,
    ) -> ReplanSettings:
        """Validate ``replan_training``'s arguments against ``runner``; raise on the first bad one.

        Parameters
        ----------
        runner : Runner
            Supplies the known task names.
        tasks : sequence of str, optional
            Tasks to train (default: all of the runner's).
        entropy_floor : mapping of str to float, optional
            ``{task: minimum final entropy}`` (nats); becomes ``floors``.
        **values
            The other fields (``steps``, ``horizon``, ``design``, ``repeats``, ``matrix``,
            ``entropy_model``, ``objective``, ``method``, ``seed``).

        Returns
        -------
        ReplanSettings

        Raises
        ------
        InvalidParameterError
            For the first bad argument, naming it.
        """
        known = tuple(runner.tasks)
        chosen = known if tasks is None else tuple(tasks)
        unknown = [t for t in chosen if t not in known]
        if unknown or len(set(chosen)) != len(chosen) or len(chosen) < 2:
            raise InvalidParameterError(
                "The 'tasks' parameter of replan_training must name at least 2 distinct tasks "
                f"of the runner {list(known)}. Got {list(chosen)}."
            )
        settings = cls(tasks=chosen, floors=_floors(entropy_floor, chosen), **values)
        for name in ("steps", "repeats"):
            check_int(getattr(settings, name), name, "replan_training")
        check_int(settings.horizon, "horizon", "replan_training", maximum=5)  # horizon! orders
        check_choice(settings.design, DESIGNS, "design", "replan_training")
        matrix = settings.matrix
        if matrix is not None and sorted(matrix.tasks) != sorted(chosen):
            raise InvalidParameterError(
                "The 'matrix' parameter of replan_training must cover exactly the trained "
                f"tasks {sorted(chosen)}. Got {sorted(matrix.tasks)}."
            )
        from taskorder.solvers.entropy import ENTROPY_MODELS

        check_choice(settings.entropy_model, ENTROPY_MODELS, "entropy_model", "replan_training")
        return settings

    def fingerprint_fields(self) -> dict[str, Any]:
        """What identifies the run in its directory (``claim_directory``)."""
        return {
            "tasks": self.tasks,
            "steps": self.steps,
            "horizon": self.horizon,
            "design": self.design,
            "repeats": self.repeats,
            "matrix": None if self.matrix is None else self.matrix.to_dict(),
            "floors": self.floors,
            "entropy_model": self.entropy_model,
            "objective": self.objective,
            "method": self.method,
            "seed": self.seed,
        }


def _floors(entropy_floor: Mapping[str, float] | None, tasks: tuple[str, ...]) -> dict[str, float]:
    if entropy_floor is None:
        return {}
    if not isinstance(entropy_floor, Mapping):
        raise InvalidParameterError(
            "The 'entropy_floor' parameter of replan_training must be a mapping {task: nats}. "
            f"Got {type(entropy_floor).__name__}."
        )
    floors = {}
    for task, value in entropy_floor.items():
        if task not in tasks:
            raise InvalidParameterError(
                f"The 'entropy_floor' parameter of replan_training names unknown task {task!r}. "
                f"Known tasks: {list(tasks)}."
            )
        floors[task] = check_float(value, f"entropy_floor.{task}", "replan_training")  # nats
    return floors
