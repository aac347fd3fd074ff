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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from taskorder.checks import check_choice, check_float, check_int
from taskorder.exceptions import InvalidParameterError
from taskorder.online.base import Policy, _softmax
from taskorder.online.signals import Decision, OnlinePolicy, TaskSignal

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

_SKETCH_STREAM = 7302


class SECPolicy(Policy):
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
        self.alpha = check_float(
            alpha, "alpha", type(self).__name__, minimum=0.0, maximum=1.0, low_open=True
        )
        self.tau = check_float(
            tau, "tau", type(self).__name__, minimum=0.0, maximum=1e6, low_open=True
        )
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
        self.transfer = check_float(transfer, "transfer", "TACPolicy", minimum=0.0, maximum=1e6)
        self.projection_dim = (
            None
            if projection_dim is None
            else check_int(projection_dim, "projection_dim", "TACPolicy")
        )
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
            if (size is not None and vector.size != size) or not np.all(np.isfinite(vector)):
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


class WorstTaskPolicy(Policy):
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
        self.eta = check_float(
            eta, "eta", "WorstTaskPolicy", minimum=0.0, maximum=1e6, low_open=True
        )
        self.alpha = check_float(
            alpha, "alpha", "WorstTaskPolicy", minimum=0.0, maximum=1.0, low_open=True
        )
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


def make_policy(
    name: str,
    tasks: Sequence[str],
    *,
    seed: int = 0,
    anchor: Mapping[str, Any] | None = None,
    **options: Any,
) -> OnlinePolicy:
    """Build the online policy ``name`` over ``tasks``.

    Parameters
    ----------
    name : {"sec", "tac", "worst_task"}
        The policy (see the module docstring).
    tasks : sequence of str
        Task names, in the order weights are reported.
    seed : int
        Seed of the policy's own random stream.
    anchor : mapping, optional
        ``{"task": t, "share": s}``: at least ``s`` of every batch goes to task ``t`` and
        the policy mixes the rest (:class:`taskorder.online.hybrid.AnchoredPolicy`, the
        hybrid's stages); how a stage of a TRL run or a real-model runner is anchored.
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
    taskorder.exceptions.InvalidParameterError: The 'name' parameter of make_policy must be one of 'sec', 'tac', 'worst_task'. Got 'ucb' instead.
    >>> make_policy("sec", ["a"], temperature=1.0)
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: Unknown option 'temperature' for policy 'sec'; it takes ['alpha', 'floor', 'tau'].
    """
    cls = _CLASSES[check_choice(name, POLICIES, "name", "make_policy")]
    allowed = sorted(p for p in inspect.signature(cls).parameters if p not in ("tasks", "seed"))
    for key in options:
        if key not in allowed:
            raise InvalidParameterError(
                f"Unknown option {key!r} for policy {name!r}; it takes {allowed}."
            )
    policy = cls(tasks, seed=seed, **options)
    if anchor is None:
        return policy
    from taskorder.online.hybrid import AnchoredPolicy

    if not isinstance(anchor, Mapping) or set(anchor) != {"task", "share"}:
        raise InvalidParameterError(
            "The 'anchor' option of make_policy must be a mapping with the keys 'task' and "
            f"'share'. Got {anchor!r}."
        )
    return AnchoredPolicy(policy, anchor["task"], anchor["share"])
