"""A second memetic search in another process, so that a timed search uses both cores.

The memetic search (:mod:`.memetic`) is numpy on small arrays: one Python thread, one
core. Where ``method="auto"`` sends a problem to the local search alone (more than 100
tasks, no exact solver on the other core), :func:`~.local_search.solve_local` starts a
second, independently seeded memetic search in a child process (a fresh ``python``
that imports this module; no ``fork`` of the caller and no ``__main__`` guard needed in the caller's
script) with the same starts and the same wall-clock deadline, and keeps the better of
the two answers. The child gets the problem through a pipe and never outlives the
deadline by more than :data:`GRACE_SECONDS` (it is killed then).

Only timed runs use it (untimed runs stay reproducible in one process), and only where
at least 2 cores are available to this process and at least :data:`MIN_SECONDS` are
left when the memetic search starts (Python start-up and imports cost the child about
0.3-0.5 s). ``benchmarks/lolib_quality.py`` measures it against one process.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
from pathlib import Path

import numpy as np

from taskorder.seeds import derive_seed
from taskorder.solvers.problem import Problem

__all__ = ["MIN_SECONDS", "MIN_TASKS", "SecondSearch", "cores"]

#: From this many tasks a timed local search starts the second search: above 100 tasks
#: ``auto`` runs the local search alone, so the second core is otherwise idle.
MIN_TASKS = 101
#: Seconds that must be left when the memetic search starts.
MIN_SECONDS = 2.0
#: How long after the deadline the parent waits for the child's answer before killing it.
GRACE_SECONDS = 0.25


def cores() -> int:
    """Cores this process may run on (``os.sched_getaffinity`` where it exists)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class SecondSearch:
    """Start a memetic search for ``problem`` in a child process, until ``deadline``.

    Parameters
    ----------
    problem : Problem
        An ``all_pairs`` problem.
    starts : list of list of int
        Orders that honour the constraints (the parent's starts).
    seed : int
        The run's seed; the child's is derived from it.
    deadline : float
        ``time.time()`` at which the child must have answered.
    """

    def __init__(self, problem: Problem, starts: list[list[int]], seed: int, deadline: float):
        import subprocess  # here, not at import: `import taskorder` does not need it

        self.deadline = deadline
        payload = pickle.dumps(
            (problem, [list(map(int, s)) for s in starts], derive_seed(seed, "second"), deadline)
        )
        source = str(Path(__file__).resolve().parents[3])  # where this taskorder lives
        path = os.environ.get("PYTHONPATH")
        env = dict(os.environ, PYTHONPATH=source if not path else source + os.pathsep + path)
        self._process = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import _run_child; _run_child()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._answer: bytes | None = None
        self._thread = threading.Thread(target=self._talk, args=(payload,), daemon=True)
        self._thread.start()

    def _talk(self, payload: bytes) -> None:
        """Send the problem and read the answer (in a thread: pipes in both directions)."""
        try:
            out, _ = self._process.communicate(payload)
        except (OSError, ValueError):  # the child was killed or died
            return
        if self._process.returncode == 0 and out:
            self._answer = out

    def result(self) -> tuple[list[int], float, int] | None:
        """``(order, value, rounds)`` of the child, or None if it did not answer in time."""
        self._thread.join(max(0.0, self.deadline - time.time()) + GRACE_SECONDS)
        if self._answer is None:
            self.stop()
            return None
        order, value, rounds = pickle.loads(self._answer)  # our own child's answer
        return [int(t) for t in order], float(value), int(rounds)

    def stop(self) -> None:
        """Kill the child if it is still running."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _run_child() -> None:
    """The child: read the problem from stdin, search until the deadline, print the answer."""
    from taskorder.solvers.heuristics.budget import Budget
    from taskorder.solvers.heuristics.memetic import memetic_linear_ordering

    problem, starts, seed, deadline = pickle.loads(sys.stdin.buffer.read())
    budget = Budget(time_limit=max(0.0, deadline - time.time() - 0.05))
    order, value = memetic_linear_ordering(problem, starts, budget, np.random.default_rng(seed))
    sys.stdout.buffer.write(pickle.dumps(([int(t) for t in order], value, budget.rounds)))
