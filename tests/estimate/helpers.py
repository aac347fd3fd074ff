"""Runners for the estimate tests: the built-in learner, slowed down or made to fail."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from taskorder.learner import make_learner

#: Small and fast: 1 structured + 2 open tasks, sampled mode (evaluation noise too).
SMALL = {"n_structured": 1, "n_open": 2, "mode": "sampled"}


def small_learner(**options: Any):
    return make_learner(**{**SMALL, **options})


class WrappedRunner:
    """Delegates everything to a built-in learner; subclasses change ``train``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def tasks(self):
        return self.inner.tasks

    def initial_state(self, seed):
        return self.inner.initial_state(seed)

    def train(self, state, task, *, steps, seed):
        return self.inner.train(state, task, steps=steps, seed=seed)

    def evaluate(self, state, task, *, seed):
        return self.inner.evaluate(state, task, seed=seed)

    def save(self, state, path):
        self.inner.save(state, path)

    def load(self, path):
        return self.inner.load(path)

    def config_hash(self):
        return self.inner.config_hash()


class SlowRunner(WrappedRunner):
    """Sleeps ``delay`` seconds in every ``train`` (so a kill lands mid-campaign)."""

    def __init__(self, inner: Any, delay: float) -> None:
        super().__init__(inner)
        self.delay = delay

    def train(self, state, task, *, steps, seed):
        time.sleep(self.delay)
        return super().train(state, task, steps=steps, seed=seed)


class FailingRunner(WrappedRunner):
    """Raises in ``train`` on ``task`` while the file ``switch`` exists."""

    def __init__(self, inner: Any, task: str, switch: str) -> None:
        super().__init__(inner)
        self.task, self.switch = task, switch

    def train(self, state, task, *, steps, seed):
        if task == self.task and Path(self.switch).exists():
            raise RuntimeError(f"simulated failure on {task}")
        return super().train(state, task, steps=steps, seed=seed)


def make_slow(delay: float = 0.05, **options: Any) -> SlowRunner:
    """Factory for ``runner.kind = "python"`` configs."""
    return SlowRunner(small_learner(**options), delay)


class AdditiveToyRunner:
    """A runner whose outcomes follow the additive model exactly (for plumbing tests).

    The state is the tuple of tasks trained so far. A task's score is its base score
    plus forward transfer from every task trained before it; once trained, its own
    score plus forward transfer from earlier tasks plus backward transfer from later
    ones. Entropy is 1 minus the score. Deterministic; seeds are ignored.
    """

    def __init__(self, bwt, forward, own, base, names=None):
        import numpy as np

        self.bwt, self.forward = np.asarray(bwt, float), np.asarray(forward, float)
        self.own, self.base = np.asarray(own, float), np.asarray(base, float)
        self.names = tuple(names or (f"t{k}" for k in range(len(own))))

    @property
    def tasks(self):
        return self.names

    def config_hash(self):
        import hashlib

        return hashlib.sha256(
            repr((self.bwt.tolist(), self.forward.tolist())).encode()
        ).hexdigest()[:16]

    def initial_state(self, seed):
        return ()

    def train(self, state, task, *, steps, seed):
        if not isinstance(task, str):  # a mixed stage counts as its largest part
            task = max(task, key=task.get)
        if task not in self.names:
            raise ValueError(f"unknown task {task!r}")
        return (*state, task)

    def score(self, state, task):
        i = self.names.index(task)
        trained = [self.names.index(t) for t in state]
        if i not in trained:
            return self.base[i] + sum(self.forward[j, i] for j in trained)
        k = trained.index(i)
        return (
            self.own[i]
            + sum(self.forward[j, i] for j in trained[:k])
            + sum(self.bwt[i, j] for j in trained[k + 1 :])
        )

    def evaluate(self, state, task, *, seed):
        from taskorder.runner import Evaluation

        score = float(self.score(state, task))
        return Evaluation(score, abs(1.0 - score), 0.0, 0)

    def save(self, state, path):
        import json

        Path(path).write_text(json.dumps(list(state)))

    def load(self, path):
        import json

        return tuple(json.loads(Path(path).read_text()))
