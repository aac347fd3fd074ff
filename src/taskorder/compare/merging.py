"""The model-merging baseline: one specialist per task from a common base, then merge.

Each specialist trains ``stage_steps`` steps on its task from the same base state, so
the merge spends ``n_tasks * stage_steps`` steps in all, like every other schedule.
The specialists' parameters are merged by :func:`taskorder.merge.merge_states`.

A runner's states are turned into named parameter arrays and back by
:func:`state_to_params` / :func:`params_to_state`: the built-in learner's
:class:`~taskorder.learner.LearnerState` is handled here (``weights`` and ``bias``
are merged; ``prompts_seen`` and ``steps`` are the specialists' sums, as every
specialist's training went into the merged model). Other runners opt in by
defining ``state_to_params(state)`` and ``params_to_state(params, like)`` methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from taskorder.checks import check_choice
from taskorder.exceptions import InvalidParameterError

__all__ = [
    "MERGE_VARIANTS",
    "merge_specialists",
    "params_to_state",
    "state_to_params",
    "supports_merging",
]

#: Merge variants of the baseline: name -> keyword arguments of ``merge_states``.
MERGE_VARIANTS: dict[str, dict[str, Any]] = {
    "merge_average": {"method": "average"},
    "merge_task_arithmetic": {"method": "task_arithmetic", "scale": 1.0},
    "merge_ties": {"method": "ties", "scale": 1.0, "density": 0.5},
}


def _is_learner_state(state: Any) -> bool:
    from taskorder.learner import LearnerState

    return isinstance(state, LearnerState)


def supports_merging(runner: Any) -> bool:
    """Whether the merging baseline can run with ``runner`` (built-in learner or opt-in)."""
    from taskorder.learner import BuiltinRunner

    return isinstance(runner, BuiltinRunner) or (
        hasattr(runner, "state_to_params") and hasattr(runner, "params_to_state")
    )


def state_to_params(runner: Any, state: Any) -> dict[str, Any]:
    """Named parameter arrays of ``state`` (what gets merged).

    Raises
    ------
    InvalidParameterError
        If neither the state is a built-in learner state nor the runner defines
        ``state_to_params``.
    """
    if _is_learner_state(state):
        return {"weights": state.weights, "bias": state.bias}
    if hasattr(runner, "state_to_params"):
        return dict(runner.state_to_params(state))
    raise InvalidParameterError(
        f"The 'runner' parameter of compare must define state_to_params / params_to_state to "
        f"run the merging baseline. Got {type(runner).__name__} without them."
    )


def params_to_state(runner: Any, params: Mapping[str, Any], specialists: Sequence[Any]) -> Any:
    """Rebuild a runner state from merged ``params``; ``specialists`` are the merged states.

    Parameters
    ----------
    runner : Runner
        The runner the states belong to; its ``params_to_state(params, like)`` is used unless
        the states are built-in learner states.
    params : mapping of str to array
        The merged parameter arrays (:func:`state_to_params`'s keys).
    specialists : sequence of states
        The states that were merged (non-empty); the first is the template, and for the
        built-in learner ``prompts_seen`` and ``steps`` are their sums.

    Returns
    -------
    state
        A state of ``runner``'s kind holding ``params``.
    """
    if _is_learner_state(specialists[0]):
        from taskorder.learner import LearnerState

        return LearnerState(
            weights=np.asarray(params["weights"], dtype=float),
            bias=np.asarray(params["bias"], dtype=float),
            prompts_seen=np.sum([s.prompts_seen for s in specialists], axis=0),
            steps=int(sum(s.steps for s in specialists)),
        )
    return runner.params_to_state(params, specialists[0])


def merge_specialists(
    runner: Any, base: Any, specialists: Sequence[Any], *, variant: str, seed: int = 0
) -> Any:
    """Merge ``specialists`` (trained from ``base``) with the named :data:`MERGE_VARIANTS` entry.

    Parameters
    ----------
    runner : Runner
        The built-in learner, or a runner with ``state_to_params`` / ``params_to_state``.
    base : state
        The common state every specialist was trained from.
    specialists : sequence of states
        One trained state per task.
    variant : str
        A key of :data:`MERGE_VARIANTS` (``"merge_average"``, ``"merge_task_arithmetic"``,
        ``"merge_ties"``).
    seed : int, default 0
        Seed passed to :func:`taskorder.merge.merge_states`.

    Returns
    -------
    state
        The merged state (:func:`params_to_state`).

    Raises
    ------
    InvalidParameterError
        Unknown ``variant``, or a runner whose states cannot be turned into parameters.

    Examples
    --------
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> base = runner.initial_state(0)
    >>> tuned = [runner.train(base, t, steps=2, seed=0) for t in runner.tasks]
    >>> merged = merge_specialists(runner, base, tuned, variant="merge_average")
    >>> bool(np.allclose(merged.weights, (tuned[0].weights + tuned[1].weights) / 2))
    True
    """
    from taskorder.merge import merge_states

    check_choice(variant, MERGE_VARIANTS, "variant", "merge_specialists")
    merged = merge_states(
        state_to_params(runner, base),
        [state_to_params(runner, s) for s in specialists],
        seed=seed,
        **MERGE_VARIANTS[variant],
    )
    return params_to_state(runner, merged, specialists)
