"""Iterated local search for the ``adjacent`` objective (a longest Hamiltonian path).

Neighbourhood: *or-opt* moves. A segment of 1 to 3 consecutive tasks is cut out (its
two outer arcs are replaced by the arc that closes the gap) and put back, in the same
direction, between two other consecutive tasks or at either end. For one segment the
gain of every place is one vectorised expression over the order's arcs, so a sweep
over all segments costs O(n^2). Tasks whose arcs changed go back on a queue ("don't
look bits"), so a descent after a small perturbation touches few segments.

Second neighbourhood, up to :data:`EXCHANGE_MAX_TASKS` tasks: *segment exchange*, the
asymmetric 3-opt move that keeps every direction (``A B C D -> A C B D`` for any two
adjacent segments ``B`` and ``C``). With one of its three cuts fixed, the gain separates
into a term of each free cut plus one table lookup, so the best exchange through a cut,
in any of the three roles, is one vectorised O(n^2) expression. Cuts work like don't-look
bits: the first descent queues them all, a descent after a kick only the cuts next to
the kicked tasks, and every applied exchange queues the cuts next to its three new arcs.
Or-opt descents and exchange descents alternate until neither improves. Measured by
``benchmarks/path_exchange.py`` against LKH: on generated n = 200-1,000 in 10 s, or-opt
alone ended about 5 % below the best path of the run, with exchanges about 0.6 %.

Perturbation: a *double bridge* (``A B C D -> A C B D``), the classic kick for
asymmetric paths because it keeps every segment's direction; kicks that would break a
precedence constraint are redrawn. Acceptance: better or equal to the current order;
after ``patience`` rounds without a new best the search restarts from the best.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from taskorder.solvers.heuristics.budget import Budget
from taskorder.solvers.problem import Problem

__all__ = ["EXCHANGE_MAX_TASKS", "PathState", "search_path"]

_SEGMENT_LENGTHS = (1, 2, 3)
#: Up to this many tasks the search also descends with segment exchanges (O(n^2) per
#: cut, so a first descent through all cuts is O(n^3), seconds at n = 1,000). Chosen on
#: the development instances of ``benchmarks/path_exchange.py`` (results/path_exchange.txt):
#: better at n = 200, 500 and 1,000, worse at 2,000 (the first descent through all cuts
#: takes most of a 10 s limit), so or-opt alone above.
EXCHANGE_MAX_TASKS = 1000


class PathState:
    """An order, its path value and the constraint lists, with or-opt moves.

    Examples
    --------
    >>> W = np.array([[0., 5, 0], [0, 0, 0], [0, 0, 0]])
    >>> state = PathState(W, [1, 2, 0], edges=[])
    >>> state.value, state.descend() > 0, state.value
    (0.0, True, 5.0)
    """

    def __init__(self, weights: np.ndarray, order, edges) -> None:
        self.weights = np.asarray(weights, dtype=float)
        self.n_tasks = self.weights.shape[0]
        self.predecessors: list[list[int]] = [[] for _ in range(self.n_tasks)]
        self.successors: list[list[int]] = [[] for _ in range(self.n_tasks)]
        for u, v in edges:
            self.predecessors[v].append(u)
            self.successors[u].append(v)
        self.constrained = bool(len(edges))
        self.set_order(order)

    def set_order(self, order) -> None:
        self.order = np.array(order, dtype=np.intp)
        self.position = np.empty(self.n_tasks, dtype=np.intp)
        self.position[self.order] = np.arange(self.n_tasks)
        self.value = self.exact_value()

    def exact_value(self) -> float:
        return float(self.weights[self.order[:-1], self.order[1:]].sum())

    def feasible(self, order: np.ndarray) -> bool:
        if not self.constrained:
            return True
        position = np.empty(self.n_tasks, dtype=np.intp)
        position[order] = np.arange(self.n_tasks)
        return all(
            position[u] < position[v] for u, succ in enumerate(self.successors) for v in succ
        )

    def _window(self, start: int, stop: int) -> tuple[int, int]:
        """Lowest and highest gap (insert after position ``gap - 1``) allowed for a segment."""
        low, high = 0, self.n_tasks
        if self.constrained:
            inside = set(self.order[start:stop].tolist())
            for task in inside:
                for u in self.predecessors[task]:
                    if u not in inside:
                        low = max(low, int(self.position[u]) + 1)
                for v in self.successors[task]:
                    if v not in inside:
                        high = min(high, int(self.position[v]))
        return low, high

    def best_segment_move(self, start: int, length: int) -> tuple[float, int]:
        """Best gain and gap for moving ``order[start:start+length]``; gap ``g`` means
        "between the tasks now at positions ``g - 1`` and ``g``" (0: front, n: end)."""
        n_tasks, order, weights = self.n_tasks, self.order, self.weights
        stop = start + length
        first, last = order[start], order[stop - 1]
        removal = 0.0
        if start > 0:
            removal -= weights[order[start - 1], first]
        if stop < n_tasks:
            removal -= weights[last, order[stop]]
        if 0 < start and stop < n_tasks:
            removal += weights[order[start - 1], order[stop]]
        gaps = np.full(n_tasks + 1, -np.inf)
        arcs = weights[order[:-1], order[1:]]
        gaps[1:n_tasks] = weights[order[:-1], first] + weights[last, order[1:]] - arcs
        gaps[0] = weights[last, order[0]]
        gaps[n_tasks] = weights[order[-1], first]
        gaps[start : stop + 1] = -np.inf  # gaps touching the segment: no move
        low, high = self._window(start, stop)
        gaps[:low] = -np.inf
        gaps[high + 1 :] = -np.inf
        gap = int(np.argmax(gaps))
        return float(removal + gaps[gap]), gap

    def move_segment(self, start: int, length: int, gap: int) -> None:
        """Move ``order[start:start+length]`` to ``gap``; :attr:`value` is not updated.

        Parameters
        ----------
        start : int
            Position of the segment's first task.
        length : int
            Number of tasks in the segment.
        gap : int
            Where to put it, counted in the current order as in
            :meth:`best_segment_move` (0: front, ``n_tasks``: end); must not touch the
            segment.
        """
        segment = self.order[start : start + length]
        rest = np.concatenate([self.order[:start], self.order[start + length :]])
        cut = gap if gap <= start else gap - length
        self.order = np.concatenate([rest[:cut], segment, rest[cut:]])
        self.position[self.order] = np.arange(self.n_tasks)

    def descend(self, queue_tasks=None, budget: Budget | None = None) -> float:
        """First-improvement or-opt descent; returns the total gain. Stops early when
        ``budget``'s time is up (checked every 32 tasks: a full queue at n = 1,000 takes
        about 0.2 s even when nothing improves)."""
        total, popped = 0.0, 0
        queue = deque(self.order.tolist() if queue_tasks is None else queue_tasks)
        queued = np.zeros(self.n_tasks, dtype=bool)
        queued[list(queue)] = True
        tolerance = 1e-12 * max(1.0, abs(self.value))
        while queue:
            popped += 1
            if budget is not None and popped % 32 == 0 and budget.time_left() == 0.0:
                break
            task = queue.popleft()
            queued[task] = False
            for length in _SEGMENT_LENGTHS:
                start = int(self.position[task])
                if start + length > self.n_tasks:
                    break
                gain, gap = self.best_segment_move(start, length)
                if gain > tolerance:
                    touched = self._touched(start, length, gap)
                    self.move_segment(start, length, gap)
                    self.value += gain
                    total += gain
                    fresh = [t for t in touched if not queued[t]]
                    queued[fresh] = True
                    queue.extend(fresh)
                    break
        return total

    def exchange(self, budget: Budget | None = None, cuts=None) -> tuple[float, list[int]]:
        """Segment-exchange descent (``A B C D -> A C B D``) around ``cuts``.

        A *cut* ``p`` is the arc after position ``p`` (``-1``: before the first task).
        Each cut on the queue gets its best exchange in which it is the first, second or
        third cut; an improving one is applied and the cuts next to its three new arcs
        are queued again. ``cuts=None`` queues every cut.

        Parameters
        ----------
        budget : Budget, optional
            Stops early when its time is up (checked per cut).
        cuts : iterable of int, optional
            Cuts to look at first (default: all).

        Returns
        -------
        (gain, tasks)
            The total gain and the tasks whose arcs changed.
        """
        n_tasks, total, moved = self.n_tasks, 0.0, set()
        if n_tasks < 3:
            return total, []
        tolerance = 1e-12 * max(1.0, abs(self.value))
        queue = deque(range(-1, n_tasks) if cuts is None else sorted(set(cuts)))
        queued = set(queue)
        table, arcs = self._exchange_tables()
        while queue:
            if budget is not None and budget.time_left() == 0.0:
                break
            cut = queue.popleft()
            queued.discard(cut)
            gain, (first, last_b, last_c) = max(
                self._best_exchange(table, arcs, cut, role) for role in range(3)
            )
            if gain <= tolerance:
                continue
            candidate = _swap_blocks(self.order, first, last_b, last_c)
            if not self.feasible(candidate):
                continue
            self.set_order(candidate)
            total += gain
            table, arcs = self._exchange_tables()
            for new_cut in (first, first + last_c - last_b, last_c):  # the three new arcs
                for near in (new_cut - 1, new_cut, new_cut + 1):
                    if -1 <= near < n_tasks:
                        if 0 <= near:
                            moved.add(int(candidate[near]))
                        if near not in queued:
                            queue.append(near)
                            queued.add(near)
        return total, sorted(moved)

    def _exchange_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Shifted by one, padded with zeros: ``table[x + 1, y + 1] = W[o_x, o_y]`` and
        ``arcs[x + 1] = W[o_x, o_{x+1}]``; index 0 is "no task before the first
        position" and index n + 1 "none after the last", so every range of
        :meth:`_best_exchange` is a slice and missing ends need no special case."""
        n_tasks = self.n_tasks
        table = np.zeros((n_tasks + 2, n_tasks + 2))
        table[1:-1, 1:-1] = self.weights[np.ix_(self.order, self.order)]
        arcs = np.zeros(n_tasks + 2)
        arcs[1:n_tasks] = table[np.arange(1, n_tasks), np.arange(2, n_tasks + 1)]
        if getattr(self, "_below", None) is None:  # -inf strictly below the diagonal
            self._below = np.triu(np.zeros((n_tasks, n_tasks))) + np.tril(
                np.full((n_tasks, n_tasks), -np.inf), -1
            )
        return table, arcs

    def _best_exchange(self, table, arcs, cut: int, role: int) -> tuple[float, tuple]:
        """Best exchange in which ``cut`` is the first (``role`` 0), second (1) or third
        (2) cut: ``(gain, (first cut, last of B, last of C))``, or ``(-inf, ...)``.

        With cuts ``i < j < k`` (B = positions i+1..j, C = j+1..k) the gain is
        ``W[a, c1] - W[a, b1] + W[c, b1] - W[b, c1] + W[b, d1] - W[c, d1]`` for ``a = o_i``,
        ``b1 = o_{i+1}``, ``b = o_j``, ``c1 = o_{j+1}``, ``c = o_k``, ``d1 = o_{k+1}``.
        With one cut fixed, it is a term of each free cut plus one table lookup: one
        vectorised O(n^2) expression over slices of the shifted tables.
        """
        n, p = self.n_tasks, cut
        if not ((-1, 0, 1)[role] <= p <= n - (3, 2, 1)[role]):  # no room for B and C
            return -np.inf, (0, 0, 0)
        if role == 0:  # p = i; rows j = p+1 .. n-2, columns k = p+2 .. n-1
            by_row = table[p + 1, p + 3 : n + 1] - arcs[p + 2 : n]
            by_column = table[p + 3 : n + 1, p + 2] - arcs[p + 3 : n + 1]
            both = table[p + 2 : n, p + 4 : n + 2]
            first_row, first_column, below = p + 1, p + 2, True
        elif role == 1:  # p = j; rows i = -1 .. p-1, columns k = p+1 .. n-1
            by_row = table[0 : p + 1, p + 2] - arcs[0 : p + 1]
            by_column = table[p + 1, p + 3 : n + 2] - arcs[p + 2 : n + 1]
            both = table[p + 2 : n + 1, 1 : p + 2].T
            first_row, first_column, below = -1, p + 1, False
        else:  # p = k; rows i = -1 .. p-2, columns j = 0 .. p-1
            by_row = table[p + 1, 1 : p + 1] - arcs[0:p]
            by_column = table[1 : p + 1, p + 2] - arcs[1 : p + 1]
            both = table[0:p, 2 : p + 2]
            first_row, first_column, below = -1, 0, True
        gains = by_row[:, None] + by_column[None, :]
        gains += both
        if below:  # the second free cut must come after the first
            gains += self._below[: gains.shape[0], : gains.shape[1]]
        best = int(np.argmax(gains))
        row, column = divmod(best, gains.shape[1])
        gain = float(gains[row, column]) - float(arcs[p + 1])
        if not np.isfinite(gain):
            return -np.inf, (0, 0, 0)
        r, c = first_row + row, first_column + column
        return gain, ((p, r, c), (r, p, c), (r, c, p))[role]

    def _touched(self, start: int, length: int, gap: int) -> list[int]:
        spots = {start - 1, start, start + length - 1, start + length, gap - 1, gap}
        return [int(self.order[s]) for s in spots if 0 <= s < self.n_tasks]

    def double_bridge(self, rng: np.random.Generator, attempts: int = 20) -> list[int] | None:
        """Apply a feasible ``A B C D -> A C B D`` kick; return the tasks at the cuts."""
        if self.n_tasks < 4:
            return None
        for _ in range(attempts):
            i, j, k = np.sort(rng.choice(np.arange(1, self.n_tasks), size=3, replace=False))
            candidate = _swap_blocks(self.order, i - 1, j - 1, k - 1)
            if self.feasible(candidate):
                self.set_order(candidate)
                cuts = {i - 1, i, j - 1, j, k - 1, k}
                return [int(self.order[c]) for c in cuts if 0 <= c < self.n_tasks]
        return None


def _swap_blocks(order: np.ndarray, first: int, last_b: int, last_c: int) -> np.ndarray:
    """``A B C D -> A C B D`` with ``B = order[first+1 .. last_b]`` and
    ``C = order[last_b+1 .. last_c]`` (a segment exchange, or a double-bridge kick)."""
    return np.concatenate(
        [
            order[: first + 1],
            order[last_b + 1 : last_c + 1],
            order[first + 1 : last_b + 1],
            order[last_c + 1 :],
        ]
    )


def _cuts_around(state: PathState, tasks) -> list[int]:
    """The cuts (arcs) on either side of each of ``tasks``."""
    positions = state.position[np.asarray(tasks, dtype=np.intp)]
    return np.concatenate([positions - 1, positions]).tolist()


def _descend(state: PathState, budget: Budget, exchange: bool, queue=None) -> None:
    """Or-opt descent (from the ``queue`` tasks), then, with ``exchange``, exchange sweeps
    and or-opt descents in turn until neither improves or the time is up."""
    state.descend(queue, budget)
    if not exchange:
        return
    cuts = None if queue is None else _cuts_around(state, queue)
    while budget.time_left() != 0.0:
        gain, moved = state.exchange(budget, cuts)
        if gain <= 0.0 or state.descend(moved, budget) <= 0.0:
            return
        cuts = _cuts_around(state, moved)


def search_path(
    problem: Problem, starts: list[list[int]], budget: Budget, rng: np.random.Generator
) -> tuple[list[int], float]:
    """Iterated or-opt search for the ``adjacent`` objective until ``budget`` is spent.

    Parameters
    ----------
    problem : Problem
        An ``adjacent`` problem.
    starts : list of list of int
        Orders that honour the constraints; each is descended and the best is where the
        kicks begin.
    budget : Budget
        Stopping rule; one round is one double-bridge kick and descent. Receives the
        anytime curve. The search also stops when no feasible kick is found (or there
        are fewer than 4 tasks).
    rng : numpy.random.Generator
        Source of the kicks.

    Returns
    -------
    (order, value)
        The best order found and its path value.
    """
    state = PathState(problem.weights, starts[0], problem.constraints.edges())
    exchange = problem.n_tasks <= EXCHANGE_MAX_TASKS
    best_order, best_value = None, -np.inf
    for start in starts:
        state.set_order(start)
        _descend(state, budget, exchange)
        if state.value > best_value:
            best_order, best_value = state.order.copy(), state.exact_value()
    budget.improved(best_value)
    state.set_order(best_order)
    current = best_value
    while not budget.exhausted():
        budget.next_round()
        saved = state.order.copy()
        touched = state.double_bridge(rng)
        if touched is None:
            break
        _descend(state, budget, exchange, touched)
        value = state.exact_value()
        if value > best_value + 1e-12 * max(1.0, abs(best_value)):
            best_order, best_value = state.order.copy(), value
            budget.improved(best_value)
        if value >= current - 1e-12 * max(1.0, abs(current)):
            current = value
        else:
            state.set_order(saved)
        if budget.rounds_since_improvement and budget.rounds_since_improvement % 50 == 0:
            state.set_order(best_order)
            current = best_value
    return best_order.tolist(), best_value
