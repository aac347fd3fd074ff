"""Run complete curricula (every task once, in a given order) and record what happened.

One curriculum run is an order and a seed: start from ``initial_state``, train each
task for ``steps`` steps in turn, and evaluate every task at the start and after
every stage. Orders that share a prefix share its states: the runs of one seed are
a depth-first walk over the prefix tree of the orders, so all ``n!`` orders of 5
tasks cost 325 stages instead of 600. A stage's training seed is derived from the
seed index and the prefix, so an order's result does not depend on which other
orders are run, nor on the executor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from taskorder.estimate.executors import Executor, make_executor
from taskorder.metrics import GEMMetrics, gem_metrics
from taskorder.seeds import derive_seed

__all__ = ["CurriculumRun", "run_curricula"]


@dataclass(frozen=True)
class CurriculumRun:
    """One order trained with one seed.

    Attributes
    ----------
    order : tuple of str
        Training order.
    seed_index : int
        Which validation seed.
    tasks : tuple of str
        Column order of ``scores`` and ``entropy``.
    scores, entropy : ndarray, shape (n + 1, n)
        Row 0: every task at the starting state; row ``k``: after stage ``k``.
    """

    order: tuple[str, ...]
    seed_index: int
    tasks: tuple[str, ...]
    scores: np.ndarray
    entropy: np.ndarray

    @property
    def final(self) -> dict[str, float]:
        """Every task's score after the last stage."""
        return dict(zip(self.tasks, self.scores[-1].tolist()))

    def accuracy_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """GEM's ``R`` (stages x tasks, both in training order) and the baseline scores."""
        idx = [self.tasks.index(task) for task in self.order]
        return self.scores[1:, idx], self.scores[0, idx]

    def gem(self) -> GEMMetrics:
        """ACC, BWT, FWT of this run (:func:`taskorder.gem_metrics`)."""
        accuracy, baseline = self.accuracy_matrix()
        return gem_metrics(accuracy, baseline)


def _walk_seed(
    runner: Any,
    orders: list[tuple[str, ...]],
    tasks: tuple[str, ...],
    seed_index: int,
    steps: int,
    seed: int,
) -> dict[tuple[str, ...], tuple[list[list[float]], list[list[float]]]]:
    """All orders for one seed; returns ``{order: (score rows, entropy rows)}``."""
    eval_seed = derive_seed(seed, "validate", "eval", seed_index)

    def measure(state: Any) -> tuple[list[float], list[float]]:
        results = [runner.evaluate(state, task, seed=eval_seed) for task in tasks]
        return [float(r.score) for r in results], [float(r.entropy) for r in results]

    out: dict[tuple[str, ...], tuple[list[list[float]], list[list[float]]]] = {}

    def visit(
        prefix: tuple[str, ...], state: Any, rows: list, group: list[tuple[str, ...]]
    ) -> None:
        if len(prefix) == len(tasks):
            out[prefix] = ([r[0] for r in rows], [r[1] for r in rows])
            return
        following: dict[str, list[tuple[str, ...]]] = {}
        for order in group:
            following.setdefault(order[len(prefix)], []).append(order)
        for task, subgroup in following.items():
            path = (*prefix, task)
            train_seed = derive_seed(seed, "validate", "train", seed_index, "/".join(path))
            trained = runner.train(state, task, steps=steps, seed=train_seed)
            visit(path, trained, [*rows, measure(trained)], subgroup)

    base = runner.initial_state(derive_seed(seed, "validate", "init", seed_index))
    visit((), base, [measure(base)], sorted(set(orders)))
    return out


def run_curricula(
    runner: Any,
    orders: Sequence[Sequence[str]],
    *,
    seeds: int = 4,
    steps: int = 40,
    seed: int = 0,
    executor: Executor | str = "inprocess",
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[CurriculumRun]:
    """Train every order with ``seeds`` seeds; return one :class:`CurriculumRun` per pair.

    Parameters
    ----------
    runner : Runner
    orders : sequence of sequences of str
        Each a permutation of the same task set (a subset of ``runner.tasks``).
    seeds : int, default 4
        Seeds per order (seed ``s`` uses its own initial state, training and
        evaluation seeds, derived from ``seed``).
    steps : int, default 40
        Training steps of every stage (use the probe campaign's).
    seed : int, default 0
        Root seed.
    executor, workers
        Where the seeds run (one job per seed); see :mod:`taskorder.estimate.executors`.
    progress : callable, optional
        Called with ``(seeds done, seeds)`` after each seed finishes.

    Returns
    -------
    list of CurriculumRun
        Sorted by order, then seed.

    Examples
    --------
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> runs = run_curricula(runner, [runner.tasks, runner.tasks[::-1]], seeds=2, steps=5)
    >>> len(runs), runs[0].scores.shape
    (4, (3, 2))
    """
    orders = [tuple(order) for order in orders]
    if not orders:
        return []
    tasks = tuple(sorted(orders[0], key=list(runner.tasks).index))
    if isinstance(executor, str):
        executor = make_executor(executor, workers=workers)
    results: dict[int, Any] = {}
    pending, in_flight = list(range(seeds)), {}
    with executor.started(runner):
        while pending or in_flight:
            while pending and len(in_flight) < executor.max_in_flight:
                s = pending.pop(0)
                in_flight[executor.submit(_walk_seed, orders, tasks, s, steps, seed)] = s
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in finished:
                results[in_flight.pop(future)] = future.result()
                if progress:
                    progress(len(results), seeds)
    runs = []
    for order in sorted(set(orders)):
        for s in range(seeds):
            scores, entropy = results[s][order]
            runs.append(CurriculumRun(order, s, tasks, np.array(scores), np.array(entropy)))
    return runs
