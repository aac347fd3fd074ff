"""When an anytime search stops, and the curve of its best value over time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

__all__ = ["Budget"]


@dataclass
class Budget:
    """Stopping rule and anytime curve of one search.

    With ``time_limit`` the search runs until that many seconds have passed (or
    ``max_rounds`` rounds, if also given). Without it the search is deterministic: it
    stops after ``patience`` rounds without improvement or ``max_rounds`` rounds in
    all, whichever comes first, so the same seed always gives the same answer.

    Examples
    --------
    >>> budget = Budget(time_limit=None, max_rounds=3, patience=10)
    >>> budget.improved(1.0)
    True
    >>> while not budget.exhausted():
    ...     budget.next_round()
    >>> budget.rounds, budget.stop_reason, [value for _, value in budget.curve]
    (3, 'max_rounds', [1.0])
    """

    time_limit: float | None
    max_rounds: int | None = None
    patience: int = 100
    start: float = field(default_factory=time.perf_counter)
    rounds: int = 0
    rounds_since_improvement: int = 0
    best: float = float("-inf")
    curve: list[tuple[float, float]] = field(default_factory=list)
    stop_reason: str = ""
    target: float = float("inf")
    #: Set from another thread to stop the search at the next check.
    stop_event: threading.Event | None = None
    #: Apply the patience rule even with a time limit (a helper search that should free
    #: its core once it stagnates).
    patience_with_time_limit: bool = False
    #: What the search decided on the way (e.g. which arm ran and why), for the extras.
    notes: dict[str, object] = field(default_factory=dict)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def improved(self, value: float, *, tolerance: float = 1e-9) -> bool:
        """Record ``value``; True (and a curve point) if it beats the best so far."""
        if self.best == float("-inf") or value > self.best + tolerance * max(1.0, abs(self.best)):
            self.best = value
            self.rounds_since_improvement = 0
            self.curve.append((round(self.elapsed(), 6), float(value)))
            return True
        return False

    def next_round(self) -> None:
        self.rounds += 1
        self.rounds_since_improvement += 1

    def exhausted(self) -> bool:
        """True when the search should stop; sets :attr:`stop_reason`."""
        if self.stop_event is not None and self.stop_event.is_set():
            self.stop_reason = "stopped by the caller"
        elif self.best >= self.target - 1e-9 * max(1.0, abs(self.target)):
            self.stop_reason = "reached the upper bound"
        elif self.max_rounds is not None and self.rounds >= self.max_rounds:
            self.stop_reason = "max_rounds"
        elif self.time_limit is not None and self.elapsed() >= self.time_limit:
            self.stop_reason = "time_limit"
        elif (self.time_limit is None or self.patience_with_time_limit) and (
            self.rounds_since_improvement >= self.patience
        ):
            self.stop_reason = f"no improvement in {self.patience} rounds"
        return bool(self.stop_reason)

    def time_left(self) -> float | None:
        if self.time_limit is None:
            return None
        return max(0.0, self.time_limit - self.elapsed())
