"""Measure the built-in learner: entropy dynamics, a BWT matrix and probe-campaign timings.

Run: ``PYTHONPATH=src python tests/learner/measure_learner.py``. Not a test (speed
belongs in benchmarks); it prints the numbers quoted in ``docs/learner.md``.
"""

from __future__ import annotations

import time

import numpy as np

from taskorder.learner import make_learner


def campaign(runner, *, seed: int = 0) -> tuple[np.ndarray, float]:
    """Full probe campaign: n first-stage runs, n(n-1) second-stage runs, all tasks evaluated."""
    start = time.perf_counter()
    tasks = runner.tasks
    base = runner.initial_state(seed)
    [runner.evaluate(base, task, seed=seed) for task in tasks]
    first, after_first = {}, {}
    for task in tasks:
        first[task] = runner.train(base, task, seed=seed)
        after_first[task] = [runner.evaluate(first[task], t, seed=seed) for t in tasks]
    n = len(tasks)
    bwt = np.zeros((n, n))
    for i, earlier in enumerate(tasks):
        for j, later in enumerate(tasks):
            if i == j:
                continue
            second = runner.train(first[earlier], later, seed=seed + 1)
            scores = [runner.evaluate(second, t, seed=seed) for t in tasks]
            bwt[i, j] = scores[i].score - after_first[earlier][i].score
    return bwt, time.perf_counter() - start


def entropy_dynamics(runner, *, seed: int = 0) -> list[tuple[str, float, float, float, float]]:
    base = runner.initial_state(seed)
    rows = []
    for task in runner.tasks:
        before = runner.evaluate(base, task, seed=seed)
        after = runner.evaluate(runner.train(base, task, seed=seed), task, seed=seed)
        rows.append((task, before.entropy, after.entropy, before.score, after.score))
    return rows


def main() -> None:
    for mode in ("exact", "sampled"):
        runner = make_learner(2, 2, mode=mode)
        print(f"== mode={mode}: own stage from the pretrained state (entropy nats, score)")
        for task, h0, h1, s0, s1 in entropy_dynamics(runner):
            print(f"  {task:13s} entropy {h0:.2f} -> {h1:.2f}   score {s0:.2f} -> {s1:.2f}")
        bwt, _ = campaign(runner)
        print(f"  BWT (rows: earlier task, columns: later task) {list(runner.tasks)}")
        print("  " + np.array2string(bwt, precision=3, suppress_small=True).replace("\n", "\n  "))
        for n_structured, n_open in ((2, 2), (4, 4)):
            runner = make_learner(n_structured, n_open, mode=mode)
            _, elapsed = campaign(runner)
            print(f"  campaign n={n_structured + n_open}: {elapsed:.2f} s")


if __name__ == "__main__":
    main()
