"""Online mixture policies: which tasks the next generation batch draws from.

A policy sees, after every generation batch, one :class:`TaskSignal` per task (the
mean ``|advantage|`` of its completions, its mean reward, how many of its groups the
batch held, optionally its share of the policy gradient) and answers with the mixture
of the next batch. The contract, for every policy (:class:`OnlinePolicy`):

- ``weights()`` sums to 1 and gives every task at least ``floor`` (default
  ``0.2 / n_tasks``: a fifth of the batch stays uniform, so no task is starved and
  every signal keeps being measured);
- ``update(signals)`` is deterministic: the same signals give the same next weights;
- ``state_dict()`` is JSON-serialisable and carries everything, the random state of
  :meth:`~SECPolicy.draw` included, so ``load_state_dict`` resumes the exact stream.

The policies
------------
``"sec"`` (:class:`SECPolicy`, Self-Evolving Curriculum, Chen et al. 2025, arXiv
2505.14970): a non-stationary bandit with one arm per task. A drawn task's value
moves by TD(0), ``Q_t <- alpha * r_t + (1 - alpha) * Q_t`` with ``r_t`` its mean
``|advantage|`` (0 when every group is flat: nothing to learn there, or everything
already learnt); the mixture is Boltzmann, ``softmax(Q / tau)``.

``"tac"`` (:class:`TACPolicy`, Transfer-Aware Curriculum, Yang et al. 2026, arXiv
2606.25178): the same bandit over the score ``Q_t * (1 + transfer * c_t)``, where
``c_t`` is the running (TD(0), rate ``alpha``) mean cosine between task ``t``'s
gradient and the other drawn tasks' gradients in the batch: a task whose step also
helps the others gains weight. ``transfer=0`` is SEC.

``"worst_task"`` (:class:`WorstTaskPolicy`, in the spirit of MT-GRPO, arXiv
2602.05547): the running reward of each task (rate ``alpha``) drives exponentiated
gradient steps ``w_t <- w_t * exp(-eta * (R_t - mean R))``, then a fixed share
``floor`` per task: weight flows to the task that is behind.

Defaults are stated on each class with where they come from; see ``docs/online.md``
for the benchmark that chose those the papers did not fix.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from taskorder.exceptions import InvalidParameterError

__all__ = [
    "POLICIES",
    "Decision",
    "OnlinePolicy",
    "SECPolicy",
    "TACPolicy",
    "TaskSignal",
    "WorstTaskPolicy",
    "make_policy",
]

#: Policy names :func:`make_policy` accepts.
POLICIES = ("sec", "tac", "worst_task")

#: Version of the :meth:`~SECPolicy.state_dict` layout.
STATE_FORMAT = 1

_DRAW_STREAM, _SKETCH_STREAM = 7301, 7302


@dataclass(frozen=True, eq=False)
class TaskSignal:
    """One task's training signal from one generation batch.

    Attributes
    ----------
    task : str
        Task name.
    mean_abs_advantage : float
        Mean ``|group-normalised advantage|`` over the task's completions in the batch
        (0 if every group was flat).
    mean_reward : float
        Mean reward of those completions.
    groups : int
        Groups (prompts) of this task in the batch; 0 means the task was not drawn and
        its other fields are ignored.
    gradient : ndarray or None
        The task's part of the policy gradient, flattened (only :class:`TACPolicy` reads it).

    Examples
    --------
    >>> TaskSignal("math", mean_abs_advantage=0.6, mean_reward=0.4, groups=3).groups
    3
    """

    task: str
    mean_abs_advantage: float
    mean_reward: float
    groups: int
    gradient: np.ndarray | None = None


@dataclass(frozen=True)
class Decision:
    """One logged decision: the mixture a batch was drawn with and what it drew.

    Attributes
    ----------
    batch : int
        Index of the generation batch within its stage (0-based).
    weights : dict of str to float
        The policy's mixture for that batch.
    counts : dict of str to float
        Groups drawn per task (expected counts where the batch is its expectation).
    signals : dict of str to dict
        What the batch then told the policy, per task: ``mean_abs_advantage``,
        ``mean_reward``, ``groups`` (gradients are not logged). Feeding these back
        through :meth:`as_signals` replays a policy that reads no gradient.

    Examples
    --------
    >>> d = Decision(0, {"a": 0.5, "b": 0.5}, {"a": 3, "b": 5})
    >>> Decision.from_dict(d.to_dict()) == d
    True
    """

    batch: int
    weights: dict[str, float]
    counts: dict[str, float] = field(default_factory=dict)
    signals: dict[str, dict[str, float]] = field(default_factory=dict)

    @staticmethod
    def log_signals(signals: Mapping[str, TaskSignal]) -> dict[str, dict[str, float]]:
        """The loggable part of ``signals`` (everything but the gradients)."""
        return {
            task: {
                "mean_abs_advantage": float(s.mean_abs_advantage),
                "mean_reward": float(s.mean_reward),
                "groups": int(s.groups),
            }
            for task, s in signals.items()
        }

    def as_signals(self) -> dict[str, TaskSignal]:
        """The logged signals as :class:`TaskSignal` objects (without gradients)."""
        return {
            task: TaskSignal(task, v["mean_abs_advantage"], v["mean_reward"], int(v["groups"]))
            for task, v in self.signals.items()
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "batch": self.batch,
            "weights": dict(self.weights),
            "counts": dict(self.counts),
            "signals": {task: dict(v) for task, v in self.signals.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """Inverse of :meth:`to_dict`."""
        return cls(
            int(data["batch"]),
            dict(data["weights"]),
            dict(data.get("counts", {})),
            {task: dict(v) for task, v in data.get("signals", {}).items()},
        )


@runtime_checkable
class OnlinePolicy(Protocol):
    """What a sampler needs from an online policy."""

    name: str
    tasks: tuple[str, ...]

    def weights(self) -> dict[str, float]:
        """Mixture of the next batch: sums to 1, every weight at least the floor."""
        ...

    def update(self, signals: Mapping[str, TaskSignal]) -> None:
        """Read one batch's signals (tasks missing from ``signals`` count as not drawn)."""
        ...

    def state_dict(self) -> dict:
        """JSON-serialisable state, random state included."""
        ...

    def load_state_dict(self, state: dict) -> None:
        """Restore a state written by :meth:`state_dict` of an identically built policy."""
        ...


def _check_real(owner: str, name: str, value: Any, low: float, high: float, *, open_low: bool):
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value)) and float(value) <= high
    ok = ok and (float(value) > low if open_low else float(value) >= low)
    if not ok:
        bound = f"{'>' if open_low else '>='} {low} and <= {high}"
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be a finite number {bound}. Got {value!r}."
        )
    return float(value)


class _Policy:
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
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InvalidParameterError(
                f"The 'seed' parameter of {owner} must be a non-negative int. Got {seed!r}."
            )
        self.tasks = tuple(tasks)
        self.seed = int(seed)
        n = len(self.tasks)
        self.floor = (
            0.2 / n
            if floor is None
            else _check_real(owner, "floor", floor, 0, 1 / n, open_low=False)
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
        if (
            isinstance(n_groups, bool)
            or not isinstance(n_groups, (int, np.integer))
            or n_groups < 0
        ):
            raise InvalidParameterError(
                f"The 'n_groups' parameter of draw must be a non-negative int. Got {n_groups!r}."
            )
        counts = self._rng.multinomial(int(n_groups), list(self.weights().values()))
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
            groups = signal.groups
            bad_groups = isinstance(groups, bool) or not isinstance(groups, (int, np.integer))
            if bad_groups or groups < 0:
                raise InvalidParameterError(
                    f"The 'groups' of the signal of task {task!r} must be a non-negative int. "
                    f"Got {groups!r}."
                )
            if groups:
                _check_real(
                    where,
                    f"{task}.mean_abs_advantage",
                    signal.mean_abs_advantage,
                    0.0,
                    1e6,
                    open_low=False,
                )
                _check_real(
                    where, f"{task}.mean_reward", signal.mean_reward, -1e6, 1e6, open_low=False
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


class SECPolicy(_Policy):
    """Self-Evolving Curriculum: TD(0) values of mean ``|advantage|``, Boltzmann mixture.

    Parameters
    ----------
    tasks : sequence of str
        The arms.
    seed : int
        Seed of :meth:`draw`'s stream.
    alpha : float, default 0.5
        TD(0) step size in (0, 1].
    tau : float, default 1.0
        Boltzmann temperature (> 0); lower is greedier. Both defaults were chosen on the
        built-in learner's development worlds (``benchmarks/online.py``): lower
        temperatures lost mean score there.
    floor : float, optional
        Least weight of every task, in [0, 1/n_tasks]; default ``0.2 / n_tasks``.

    Examples
    --------
    >>> policy = SECPolicy(["easy", "hard"], tau=0.2)
    >>> policy.weights()
    {'easy': 0.5, 'hard': 0.5}
    >>> policy.update({"easy": TaskSignal("easy", 0.0, 1.0, 4),
    ...                "hard": TaskSignal("hard", 0.8, 0.3, 4)})
    >>> {task: round(w, 3) for task, w in policy.weights().items()}
    {'easy': 0.195, 'hard': 0.805}
    """

    name = "sec"
    _arrays = ("values_",)

    def __init__(self, tasks, *, seed=0, alpha=0.5, tau=1.0, floor=None):
        super().__init__(tasks, seed=seed, floor=floor)
        self.alpha = _check_real(type(self).__name__, "alpha", alpha, 0.0, 1.0, open_low=True)
        self.tau = _check_real(type(self).__name__, "tau", tau, 0.0, 1e6, open_low=True)
        self.values_ = np.zeros(len(self.tasks))

    def options(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "tau": self.tau, **super().options()}

    def _learn_values(self, drawn: dict[str, TaskSignal]) -> None:
        for task, signal in drawn.items():
            i = self.tasks.index(task)
            reward = float(signal.mean_abs_advantage)
            self.values_[i] = self.alpha * reward + (1.0 - self.alpha) * self.values_[i]

    def _update(self, drawn: dict[str, TaskSignal]) -> None:
        self._learn_values(drawn)

    def _scores(self) -> np.ndarray:
        return self.values_

    def _distribution(self) -> np.ndarray:
        return _softmax(self._scores() / self.tau)


class TACPolicy(SECPolicy):
    """Transfer-Aware Curriculum: SEC's bandit over ``Q * (1 + transfer * alignment)``.

    ``alignment`` of a task is the running mean (TD(0), rate ``alpha``) of the cosine
    between its gradient and each other drawn task's gradient in the same batch; tasks
    whose gradient is missing or zero keep their previous alignment.

    Parameters
    ----------
    tasks, seed, floor
        As :class:`SECPolicy`.
    alpha, tau : float, default 1.0, 1.0
        As :class:`SECPolicy` (TD(0) step of both the values and the alignments).
    transfer : float, default 2.0
        Weight of the alignment term (``alpha`` in the paper's score), >= 0; 0 is SEC.
        The three defaults were chosen on the development worlds (``benchmarks/online.py``).
    projection_dim : int, optional
        Sketch gradients longer than this to this many coordinates (a seeded
        count sketch, which keeps inner products in expectation) before the cosines;
        ``None`` uses them whole.

    Examples
    --------
    >>> policy = TACPolicy(["a", "b", "c"], alpha=0.5, tau=0.2, transfer=1.0)
    >>> g = {"a": [1.0, 0.0], "b": [1.0, 0.1], "c": [-1.0, 0.0]}
    >>> policy.update({t: TaskSignal(t, 0.5, 0.5, 2, np.array(v)) for t, v in g.items()})
    >>> policy.alignment_.round(3).tolist()
    [-0.001, 0.0, -0.499]
    >>> w = policy.weights()
    >>> w["c"] < w["a"]
    True
    """

    name = "tac"
    needs_gradients = True
    _arrays = ("values_", "alignment_")

    def __init__(
        self, tasks, *, seed=0, alpha=1.0, tau=1.0, transfer=2.0, projection_dim=None, floor=None
    ):
        super().__init__(tasks, seed=seed, alpha=alpha, tau=tau, floor=floor)
        self.transfer = _check_real("TACPolicy", "transfer", transfer, 0.0, 1e6, open_low=False)
        bad = projection_dim is not None and (
            isinstance(projection_dim, bool)
            or not isinstance(projection_dim, (int, np.integer))
            or projection_dim < 1
        )
        if bad:
            raise InvalidParameterError(
                "The 'projection_dim' parameter of TACPolicy must be None or a positive int. "
                f"Got {projection_dim!r}."
            )
        self.projection_dim = None if projection_dim is None else int(projection_dim)
        self.alignment_ = np.zeros(len(self.tasks))
        self._sketches: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def options(self) -> dict[str, Any]:
        return {
            **super().options(),
            "transfer": self.transfer,
            "projection_dim": self.projection_dim,
        }

    def _project(self, gradient: np.ndarray) -> np.ndarray:
        size = gradient.size
        if self.projection_dim is None or size <= self.projection_dim:
            return gradient
        if size not in self._sketches:
            rng = np.random.default_rng([self.seed, _SKETCH_STREAM, size])
            self._sketches[size] = (
                rng.integers(0, self.projection_dim, size=size),
                rng.choice(np.array([-1.0, 1.0]), size=size),
            )
        buckets, signs = self._sketches[size]
        return np.bincount(buckets, weights=signs * gradient, minlength=self.projection_dim)

    def _gradients(self, drawn: dict[str, TaskSignal]) -> dict[str, np.ndarray]:
        vectors, size = {}, None
        for task, signal in drawn.items():
            if signal.gradient is None:
                continue
            vector = np.asarray(signal.gradient, dtype=float).ravel()
            if size is not None and vector.size != size or not np.all(np.isfinite(vector)):
                raise InvalidParameterError(
                    f"The 'gradient' of every signal passed to TACPolicy.update must be a finite "
                    f"vector of one length. Got {vector.size} values for task {task!r}"
                    f"{'' if size is None else f' against {size}'}."
                )
            size = vector.size
            vector = self._project(vector)
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                vectors[task] = vector / norm
        return vectors

    def _update(self, drawn: dict[str, TaskSignal]) -> None:
        self._learn_values(drawn)
        units = self._gradients(drawn)
        if len(units) < 2:
            return
        names = list(units)
        stacked = np.stack([units[t] for t in names])
        cosines = stacked @ stacked.T
        for row, task in enumerate(names):
            mean = (cosines[row].sum() - cosines[row, row]) / (len(names) - 1)
            i = self.tasks.index(task)
            self.alignment_[i] = self.alpha * mean + (1.0 - self.alpha) * self.alignment_[i]

    def _scores(self) -> np.ndarray:
        return self.values_ * (1.0 + self.transfer * self.alignment_)


class WorstTaskPolicy(_Policy):
    """Multiplicative weights towards the task with the lowest running reward.

    Parameters
    ----------
    tasks, seed, floor
        As :class:`SECPolicy`; ``floor`` is also the fixed share mixed back after every
        step, so a task that caught up regains weight within a few batches.
    eta : float, default 2.0
        Step size of the exponentiated-gradient update (> 0); chosen on the development
        worlds for the worst task's score (``benchmarks/online.py``).
    alpha : float, default 0.3
        Rate of the running reward of a drawn task, in (0, 1] (not tuned).

    Examples
    --------
    >>> policy = WorstTaskPolicy(["ahead", "behind"], eta=2.0)
    >>> policy.update({"ahead": TaskSignal("ahead", 0.5, 0.9, 4),
    ...                "behind": TaskSignal("behind", 0.5, 0.1, 4)})
    >>> w = policy.weights()
    >>> round(w["behind"], 3), round(sum(w.values()), 6)
    (0.766, 1.0)
    """

    name = "worst_task"
    _arrays = ("mixture_", "reward_", "seen_")

    def __init__(self, tasks, *, seed=0, eta=2.0, alpha=0.3, floor=None):
        super().__init__(tasks, seed=seed, floor=floor)
        self.eta = _check_real("WorstTaskPolicy", "eta", eta, 0.0, 1e6, open_low=True)
        self.alpha = _check_real("WorstTaskPolicy", "alpha", alpha, 0.0, 1.0, open_low=True)
        n = len(self.tasks)
        self.mixture_ = np.full(n, 1.0 / n)
        self.reward_ = np.zeros(n)
        self.seen_ = np.zeros(n)

    def options(self) -> dict[str, Any]:
        return {"eta": self.eta, "alpha": self.alpha, **super().options()}

    def _update(self, drawn: dict[str, TaskSignal]) -> None:
        for task, signal in drawn.items():
            i = self.tasks.index(task)
            rate = 1.0 if self.seen_[i] == 0 else self.alpha
            self.reward_[i] = rate * float(signal.mean_reward) + (1 - rate) * self.reward_[i]
            self.seen_[i] = 1.0
        known = self.seen_ > 0
        if not known.any():
            return
        reward = np.where(known, self.reward_, self.reward_[known].mean())
        step = self.mixture_ * np.exp(-self.eta * (reward - reward.mean()))
        step /= step.sum()
        self.mixture_ = self.floor + (1.0 - self.floor * len(self.tasks)) * step

    def _mixture(self) -> np.ndarray:
        return self.mixture_  # the fixed share is already in it


_CLASSES = {"sec": SECPolicy, "tac": TACPolicy, "worst_task": WorstTaskPolicy}


def make_policy(name: str, tasks: Sequence[str], *, seed: int = 0, **options: Any) -> OnlinePolicy:
    """Build the online policy ``name`` over ``tasks``.

    Parameters
    ----------
    name : {"sec", "tac", "worst_task"}
        The policy (see the module docstring).
    tasks : sequence of str
        Task names, in the order weights are reported.
    seed : int
        Seed of the policy's own random stream.
    **options
        The policy's options (:class:`SECPolicy`, :class:`TACPolicy`,
        :class:`WorstTaskPolicy`).

    Raises
    ------
    InvalidParameterError
        Unknown name or option, or an option out of range (the message names it).

    Examples
    --------
    >>> policy = make_policy("sec", ["a", "b"], seed=1, tau=0.5)
    >>> policy.name, policy.tau, sum(policy.weights().values())
    ('sec', 0.5, 1.0)
    >>> make_policy("ucb", ["a"])
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: The 'name' parameter of make_policy must be one of ['sec', 'tac', 'worst_task']. Got 'ucb'.
    >>> make_policy("sec", ["a"], temperature=1.0)
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Unknown option 'temperature' for policy 'sec'; it takes ['alpha', 'floor', 'tau'].
    """
    if name not in _CLASSES:
        raise InvalidParameterError(
            f"The 'name' parameter of make_policy must be one of {list(POLICIES)}. Got {name!r}."
        )
    cls = _CLASSES[name]
    allowed = sorted(p for p in inspect.signature(cls).parameters if p not in ("tasks", "seed"))
    for key in options:
        if key not in allowed:
            raise InvalidParameterError(
                f"Unknown option {key!r} for policy {name!r}; it takes {allowed}."
            )
    return cls(tasks, seed=seed, **options)
