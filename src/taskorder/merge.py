"""Model merging: combine models trained separately per task from one base.

All methods work on *task vectors* ``tau_t = theta_t - theta_base`` of named parameter
arrays (numpy arrays or torch tensors, e.g. a ``state_dict``) and return
``theta_base + scale * combine(tau_1, ..., tau_T)``:

``"average"``
    Uniform (or weighted) weight averaging: ``combine = sum_t w_t tau_t`` with
    ``w`` summing to 1 and ``scale = 1``, i.e. the average of the models.
``"task_arithmetic"``
    Ilharco et al. (2023): ``combine = sum_t w_t tau_t`` (default ``w_t = 1``), scaled by
    ``scale`` (typically 0.3-1.0).
``"ties"``, ``"dare_ties"``, ``"dare_linear"``
    TIES-merging (Yadav et al., 2023) and DARE (Yu et al., 2024), computed by PEFT's
    ``peft.utils.merge_utils`` (maintained, and the same code PEFT uses to merge LoRA
    adapters), applied here to full parameter tensors. They need torch and peft
    (``pip install 'taskorder[trl]'``); numpy inputs are converted and returned as numpy.
    ``density`` is the fraction of each task vector kept; DARE's random drop is seeded.

Examples
--------
>>> import numpy as np
>>> base = {"w": np.zeros(2)}
>>> tuned = [{"w": np.array([1.0, 0.0])}, {"w": np.array([0.0, 3.0])}]
>>> merge_states(base, tuned, method="average")["w"].tolist()
[0.5, 1.5]
>>> merge_states(base, tuned, method="task_arithmetic", scale=0.5)["w"].tolist()
[0.5, 1.5]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from taskorder.checks import check_choice, check_float
from taskorder.exceptions import InvalidParameterError, require

__all__ = ["MERGE_METHODS", "merge_states"]

MERGE_METHODS = ("average", "task_arithmetic", "ties", "dare_ties", "dare_linear")


def merge_states(
    base: Mapping[str, Any],
    finetuned: Sequence[Mapping[str, Any]],
    *,
    method: str = "average",
    weights: Sequence[float] | None = None,
    scale: float = 1.0,
    density: float = 0.5,
    seed: int = 0,
) -> dict[str, Any]:
    """Merge ``finetuned`` states (same keys and shapes as ``base``) into one state.

    Parameters
    ----------
    base : mapping of str to array
        The common starting point.
    finetuned : sequence of mappings
        One state per task, each trained from ``base``.
    method : {"average", "task_arithmetic", "ties", "dare_ties", "dare_linear"}
    weights : sequence of float, optional
        Per-model weights (default: equal; normalised to sum 1 for ``"average"``).
    scale : float
        Multiplier of the combined task vector (ignored by ``"average"``).
    density : float
        Fraction of each task vector kept by TIES/DARE, in (0, 1].
    seed : int
        Seed of DARE's random drop.

    Returns
    -------
    dict
        The merged state, same array type as the inputs.

    Raises
    ------
    InvalidParameterError
        Unknown method, mismatched keys or shapes, bad weights or density.
    MissingDependencyError
        TIES/DARE without torch and peft.
    """
    check_choice(method, MERGE_METHODS, "method", "merge_states")
    if len(finetuned) < 1:
        raise InvalidParameterError(
            "The 'finetuned' parameter of merge_states needs at least one state."
        )
    density = check_float(density, "density", "merge_states", minimum=0, maximum=1, low_open=True)
    for k, state in enumerate(finetuned):
        if set(state) != set(base):
            raise InvalidParameterError(
                f"State {k} of 'finetuned' must have the same parameter names as 'base'. "
                f"Missing {sorted(set(base) - set(state))[:5]}, extra {sorted(set(state) - set(base))[:5]}."
            )
        for name in base:
            if tuple(state[name].shape) != tuple(base[name].shape):
                raise InvalidParameterError(
                    f"Parameter {name!r} of state {k} has shape {tuple(state[name].shape)}; "
                    f"'base' has {tuple(base[name].shape)}."
                )
    n_models = len(finetuned)
    w = np.ones(n_models) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n_models,) or not np.isfinite(w).all():
        raise InvalidParameterError(
            f"The 'weights' parameter of merge_states must hold {n_models} finite numbers. Got {weights!r}."
        )
    if method == "average":
        w = w / w.sum()
        scale = 1.0
    if method in ("average", "task_arithmetic"):
        return {
            name: base[name]
            + scale * sum(float(w[t]) * (finetuned[t][name] - base[name]) for t in range(n_models))
            for name in base
        }
    return _peft_merge(base, finetuned, method, w, scale, density, seed)


def _peft_merge(base, finetuned, method, w, scale, density, seed) -> dict[str, Any]:
    require("torch", "trl")
    require("peft", "trl")
    import torch
    from peft.utils import merge_utils

    def as_tensor(value: Any) -> torch.Tensor:
        return value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))

    weights = torch.tensor(w, dtype=torch.float64)
    merged: dict[str, Any] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name in sorted(base):
            base_tensor = as_tensor(base[name])
            vectors = [
                as_tensor(state[name]).to(torch.float64) - base_tensor.to(torch.float64)
                for state in finetuned
            ]
            if method == "ties":
                combined = merge_utils.ties(vectors, weights, density)
            elif method == "dare_ties":
                combined = merge_utils.dare_ties(vectors, weights, density)
            else:
                combined = merge_utils.dare_linear(vectors, weights, density)
            value = base_tensor.to(torch.float64) + scale * combined
            if isinstance(base[name], torch.Tensor):
                merged[name] = value.to(base[name].dtype)
            else:
                merged[name] = value.numpy().astype(np.asarray(base[name]).dtype)
    return merged
