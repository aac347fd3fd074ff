"""A local search that runs beside an exact solver, on the other core.

The MIP and CP-SAT solvers call into C++ and release the GIL, so a numpy local search
in a Python thread runs in parallel with them. It supplies the exact solver's first
incumbent (a quick descent) and, when a time limit stops the exact solver, the best
order found meanwhile.
"""

from __future__ import annotations

import threading

import numpy as np

from taskorder.solvers.heuristics.budget import Budget
from taskorder.solvers.heuristics.local_search import DEFAULT_PATIENCE, cheap_upper_bound
from taskorder.solvers.problem import Problem

__all__ = ["HELPER_PATIENCE_FACTOR", "HelperSearch"]

#: The helper stops after this many times the usual patience without improvement (with
#: or without a time limit), so that a stagnating search hands its core back to the
#: exact solver: on a loaded 2-core machine a helper that ran to the limit kept IO
#: instances from being proven. It was 3 (180 rounds), which stopped the helper at
#: 0.14 s on LOLIB p50-15 short of the best-known; the memetic search, which now restarts
#: instead of ending, reaches RandB optima within about 1,500 rounds.
HELPER_PATIENCE_FACTOR = 20


class HelperSearch:
    """Start a quick descent now and a longer search in a background thread.

    Parameters
    ----------
    problem : Problem
    time_limit : float, optional
        Seconds the background search may run at most. It also stops on its own after
        ``HELPER_PATIENCE_FACTOR`` times the usual patience without improvement, or when
        :meth:`stop` is called.
    seed : int
    to_limit : bool
        With a time limit, run until it (or :meth:`stop`) instead of stopping on
        patience: the portfolio route (:mod:`taskorder.solvers.portfolio`).

    Examples
    --------
    >>> import numpy as np
    >>> from taskorder.solvers.problem import Constraints, Problem
    >>> W = np.array([[0., 1, 5], [3, 0, 0], [0, 4, 0]])
    >>> helper = HelperSearch(Problem(W, "all_pairs", Constraints(3, predecessors=(0, 0, 0))))
    >>> helper.stop()
    [0, 2, 1]
    """

    def __init__(
        self,
        problem: Problem,
        *,
        time_limit: float | None = None,
        seed: int = 0,
        to_limit: bool = False,
    ) -> None:
        from taskorder.solvers.heuristics.local_search import constructive_starts, quick_descent

        self.problem = problem
        self.first_order = quick_descent(problem, constructive_starts(problem))
        self._stop = threading.Event()
        self.budget = Budget(
            time_limit=time_limit,
            patience=HELPER_PATIENCE_FACTOR * DEFAULT_PATIENCE[problem.objective],
            target=cheap_upper_bound(problem),
            stop_event=self._stop,
            patience_with_time_limit=not (to_limit and time_limit is not None),
        )
        self._result: list[int] | None = None
        self._thread = threading.Thread(target=self._run, args=(seed,), daemon=True)
        self._thread.start()

    def _run(self, seed: int) -> None:
        from taskorder.solvers.heuristics.local_search import search

        try:
            self._result = search(
                self.problem, [self.first_order], self.budget, np.random.default_rng(seed)
            )
        except Exception:
            self._result = None

    def stop(self) -> list[int]:
        """Stop the search and return the better of its best order and the first order."""
        self._stop.set()
        self._thread.join()
        candidates = [self.first_order] + ([self._result] if self._result else [])
        return max(candidates, key=self.problem.value)

    @property
    def curve(self) -> list[tuple[float, float]]:
        return list(self.budget.curve)
