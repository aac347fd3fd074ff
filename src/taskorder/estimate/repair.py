"""Bringing a campaign's finished probes up to its plan, and unreadable state files.

Two things can leave finished probes short of what the plan needs:

- The task list grew. Base and first-stage probes evaluate every task of the plan
  they ran under, so after adding a task their records lack it, and the forward and
  entropy matrices would have holes. :func:`plan_repairs` finds them; the coordinator
  then evaluates only the new tasks on the probe's state
  (:func:`evaluate_more`): the starting state for a base probe, the saved state for
  a first stage. Each evaluation uses the probe's evaluation seed, so the result is
  the one a campaign over the larger task list from the start would have recorded.
  (Second-stage probes need no new tasks: ``bwt[i, j]`` reads task ``i`` only.)
- A first-stage state file is missing or cannot be loaded. A missing one is rebuilt
  by running the first stage again when something still needs it; an unreadable one
  surfaces as :class:`UnreadableStateError` (naming the file) from the probe that
  loads it, and the coordinator runs the first stage again once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from taskorder.estimate.plan import Probe, ProbePlan
from taskorder.estimate.store import CampaignStore, probe_from_row
from taskorder.estimate.worker import evaluate_tasks, state_path
from taskorder.exceptions import InvalidParameterError, TaskorderError

__all__ = ["StateReader", "UnreadableStateError", "evaluate_more", "plan_repairs"]

# Errors of ``runner.load`` that say nothing about the file (so no rebuild helps).
_NOT_THE_FILE = (MemoryError, ImportError)


class UnreadableStateError(TaskorderError, ValueError):
    """A saved first-stage state cannot be loaded (its file is truncated or damaged)."""


class StateReader:
    """Wraps a runner so that a failing ``load`` names the state file it could not read.

    Every other attribute is the wrapped runner's.

    Parameters
    ----------
    runner : Runner
    """

    def __init__(self, runner: Any) -> None:
        self.runner = runner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runner, name)

    def load(self, path: str | Path) -> Any:
        """``runner.load(path)``; raises :class:`UnreadableStateError` naming ``path``."""
        try:
            return self.runner.load(path)
        except Exception as error:
            if isinstance(error, _NOT_THE_FILE) or "OutOfMemory" in type(error).__name__:
                raise
            raise UnreadableStateError(
                f"{path}: the saved first-stage state cannot be loaded "
                f"({type(error).__name__}: {error}); the file is missing, truncated or damaged."
            ) from error


def evaluate_more(
    runner: Any, probe: Probe, tasks: tuple[str, ...], state_dir: str | Path
) -> dict[str, Any]:
    """Evaluate a finished base or first-stage probe's state on ``tasks``.

    Parameters
    ----------
    runner : Runner
    probe : Probe
        A ``base`` or ``first`` probe (second-stage states are not saved).
    tasks : tuple of str
        Tasks the probe has not evaluated yet.
    state_dir : path
        Folder of state files.

    Returns
    -------
    dict
        ``key``, ``evaluations`` (as :func:`taskorder.estimate.worker.run_probe`) and
        ``eval_s``.

    Raises
    ------
    UnreadableStateError
        A first stage's state file cannot be loaded.
    """
    clock = time.perf_counter()
    if probe.kind == "base":
        state = runner.initial_state(probe.init_seed)
    elif probe.kind == "first":
        state = StateReader(runner).load(state_path(state_dir, probe.key))
    else:
        raise InvalidParameterError(
            f"The 'probe' parameter of evaluate_more must be a base or first-stage probe. "
            f"Got {probe.key!r}."
        )
    evaluations = evaluate_tasks(runner, state, tasks, probe.eval_seed)
    return {"key": probe.key, "evaluations": evaluations, "eval_s": time.perf_counter() - clock}


def plan_repairs(
    store: CampaignStore, plan: ProbePlan, state_dir: str | Path
) -> tuple[list[tuple[Probe, tuple[str, ...]]], list[str]]:
    """Finished probes that fall short of ``plan``; reopen those that must run again.

    A first stage whose state file is missing runs again (it is reopened in the
    store) when an unfinished second stage needs it or when it must evaluate new
    tasks. Other base and first-stage probes that lack some of the plan's tasks are
    returned for :func:`evaluate_more`.

    Parameters
    ----------
    store : CampaignStore
        The campaign's store; first stages that must run again are reopened in it.
    plan : ProbePlan
        The plan being run (its tasks may be more than the finished probes evaluated).
    state_dir : str or Path
        Folder of the saved first-stage states.

    Returns
    -------
    top_ups : list of (Probe, tuple of str)
        Probes to evaluate on more tasks, with those tasks (in plan order).
    reopened : list of str
        Keys of first stages reopened because their state file is missing.
    """
    rows = {row["key"]: row for row in store.probes(p.key for p in plan.probes())}
    evaluated = store.evaluated_tasks()
    needed = {
        row["depends_on"]
        for row in rows.values()
        if row["kind"] == "second" and row["status"] != "done"
    }
    top_ups, reopened = [], []
    for key, row in rows.items():
        if row["status"] != "done" or row["kind"] == "second":
            continue
        lacking = tuple(t for t in plan.tasks if t not in evaluated.get(key, set()))
        lost = row["kind"] == "first" and not state_path(state_dir, key).is_file()
        if lost and (lacking or key in needed):
            reopened.append(key)
        elif lacking:
            top_ups.append((probe_from_row(row), lacking))
    if reopened:
        store.reopen(reopened, "state file missing; rerun to rebuild it")
    return top_ups, reopened
