"""Machinery shared by the online policies: task list, floor, draw stream, state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from taskorder.checks import check_float, check_int
from taskorder.exceptions import InvalidParameterError
from taskorder.online.signals import TaskSignal

__all__ = ["STATE_FORMAT", "Policy"]

#: Version of the :meth:`Policy.state_dict` layout.
STATE_FORMAT = 1

_DRAW_STREAM = 7301


class Policy:
    """Shared machinery: task list, floor, the draw stream, state (de)serialisation."""

    name: ClassVar[str] = ""
    needs_gradients: ClassVar[bool] = False
    _arrays: ClassVar[tuple[str, ...]] = ()

    def __init__(self, tasks: Sequence[str], *, seed: int = 0, floor: float | None = None):
        owner = f"{type(self).__name__}"
        if isinstance(tasks, str) or not isinstance(tasks, Sequence) or len(tasks) < 1:
            raise InvalidParameterError(
                f"The 'tasks' parameter of {owner} must be a non-empty sequence of task names. "
                f"Got {tasks!r}."
            )
        if not all(isinstance(t, str) and t for t in tasks) or len(set(tasks)) != len(tasks):
            raise InvalidParameterError(
                f"The 'tasks' parameter of {owner} must hold distinct non-empty strings. "
                f"Got {list(tasks)!r}."
            )
        self.seed = check_int(seed, "seed", owner, minimum=0)
        self.tasks = tuple(tasks)
        n = len(self.tasks)
        self.floor = (
            0.2 / n
            if floor is None
            else check_float(floor, "floor", owner, minimum=0, maximum=1 / n)
        )
        self._rng = np.random.default_rng([self.seed, _DRAW_STREAM])
        self.updates_ = 0

    # ------------------------------------------------------------------ contract
    def options(self) -> dict[str, Any]:
        """The options the policy was built with (resolved), as :func:`make_policy` takes them."""
        return {"floor": self.floor}

    def _distribution(self) -> np.ndarray:
        """The policy's preference before the floor is mixed in."""
        raise NotImplementedError

    def _mixture(self) -> np.ndarray:
        share = self._distribution()
        return self.floor + (1.0 - self.floor * len(self.tasks)) * share

    def weights(self) -> dict[str, float]:
        """Mixture of the next batch, in task order; sums to 1, each weight ``>= floor``."""
        mixed = self._mixture()
        mixed = mixed / mixed.sum()
        return {task: float(w) for task, w in zip(self.tasks, mixed)}

    def draw(self, n_groups: int) -> dict[str, int]:
        """Groups per task for a batch of ``n_groups``: multinomial on :meth:`weights`.

        Uses the policy's own seeded stream (saved in :meth:`state_dict`), for samplers
        that let the policy draw.
        """
        n_groups = check_int(n_groups, "n_groups", "draw", minimum=0)
        counts = self._rng.multinomial(n_groups, list(self.weights().values()))
        return {task: int(c) for task, c in zip(self.tasks, counts)}

    def _check_signals(self, signals: Any) -> dict[str, TaskSignal]:
        where = f"{type(self).__name__}.update"
        if not isinstance(signals, Mapping):
            raise InvalidParameterError(
                f"The 'signals' parameter of {where} must be a mapping task -> TaskSignal. "
                f"Got {type(signals).__name__}."
            )
        out = {}
        for task, signal in signals.items():
            if task not in self.tasks or not isinstance(signal, TaskSignal) or signal.task != task:
                raise InvalidParameterError(
                    f"The 'signals' parameter of {where} must map each of {list(self.tasks)} to "
                    f"a TaskSignal of that task. Got {task!r} -> {signal!r}."
                )
            if check_int(signal.groups, f"{task}.groups", where, minimum=0):
                advantage = signal.mean_abs_advantage
                check_float(advantage, f"{task}.mean_abs_advantage", where, minimum=0, maximum=1e6)
                check_float(
                    signal.mean_reward, f"{task}.mean_reward", where, minimum=-1e6, maximum=1e6
                )
                out[task] = signal
        return out

    def update(self, signals: Mapping[str, TaskSignal]) -> None:
        """Read one batch's signals; tasks absent or with ``groups == 0`` were not drawn."""
        drawn = self._check_signals(signals)
        self._update(drawn)
        self.updates_ += 1

    def _update(self, drawn: dict[str, TaskSignal]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """JSON-serialisable state: options, learned values, update count, random state."""
        return {
            "policy": self.name,
            "format": STATE_FORMAT,
            "tasks": list(self.tasks),
            "seed": self.seed,
            "options": self.options(),
            "updates": self.updates_,
            "rng": self._rng.bit_generator.state,
            "values": {key: getattr(self, key).tolist() for key in self._arrays},
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` output of a policy built with the same name, tasks, options."""
        mine = self.state_dict()
        if not isinstance(state, Mapping) or any(
            state.get(key) != mine[key] for key in ("policy", "format", "tasks", "seed", "options")
        ):
            got = (
                {k: state.get(k) for k in ("policy", "tasks", "seed", "options")}
                if isinstance(state, Mapping)
                else state
            )
            raise InvalidParameterError(
                "The 'state' parameter of load_state_dict must come from a policy built the same "
                f"way ({ {k: mine[k] for k in ('policy', 'tasks', 'seed', 'options')} }). "
                f"Got {got!r}."
            )
        for key in self._arrays:
            setattr(self, key, np.array(state["values"][key], dtype=float))
        self.updates_ = int(state["updates"])
        self._rng.bit_generator.state = state["rng"]

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({list(self.tasks)!r}, seed={self.seed}, {options})"


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()
