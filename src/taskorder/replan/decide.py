"""The two kinds of decision: a probe matrix from the current state, or every remaining order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.matrix import TransferMatrix
from taskorder.replan.settings import ReplanSettings
from taskorder.replan.state import StateRunner, train_once

__all__ = ["Branches", "Probed", "enumerate_remaining", "probe_remaining", "solve_remaining"]


@dataclass(frozen=True)
class Probed:
    """A re-measurement: the remaining tasks' matrices and the first-stage states."""

    matrix: TransferMatrix
    entropy: TransferMatrix
    state_of: Callable[[str], Any]
    stages: int


@dataclass(frozen=True)
class Branches:
    """Every order of the remaining tasks, run: measured values and the best branch."""

    values: dict[tuple[str, ...], float]
    best: tuple[str, ...]
    states: list[Any]
    stages: int
    floor_note: str


def probe_remaining(
    runner: Any,
    state: Any,
    remaining: tuple[str, ...],
    k: int,
    settings: ReplanSettings,
    directory: Path,
    *,
    executor: Any,
    workers: int | None,
) -> Probed:
    """Probe campaign over ``remaining`` from ``state`` (decision ``k``).

    Parameters
    ----------
    runner : Runner
        The run's runner; the campaign wraps it in a :class:`StateRunner` started at ``state``.
    state : Any
        The current training state (saved as ``states/start-<k>.state`` if not yet there).
    remaining : tuple of str
        Tasks still to train: the campaign's tasks.
    k : int
        Index of the decision (the number of stages trained); names folders and seeds.
    settings : ReplanSettings
        ``design``, ``repeats``, ``steps`` and ``seed`` of the campaign.
    directory : Path
        The run's directory; the campaign goes in ``stage-<k>/``.
    executor : Executor or str
        Where probes run (:mod:`taskorder.estimate.executors`).
    workers : int or None
        Workers for an executor given by name.

    Returns
    -------
    Probed
        Backward-transfer matrix (no forward transfer) and entropy matrix of ``remaining``,
        missing entries imputed; the loader of each task's first-stage state; probe stages.
    """
    from taskorder.estimate.campaign import STATE_DIR, run_campaign
    from taskorder.estimate.impute import impute
    from taskorder.estimate.plan import make_plan, probe_key
    from taskorder.estimate.worker import state_path, write_state_atomically
    from taskorder.seeds import derive_seed

    stage_dir = directory / f"stage-{k}"
    start = directory / "states" / f"start-{k}.state"
    if not start.exists():
        write_state_atomically(runner, state, start)
    wrapped = StateRunner(runner, str(start), tag=f"replan/{k}/{','.join(remaining)}")
    pairs = None
    if settings.design == "cheap" and len(remaining) > 2:
        from taskorder.active import initial_pairs

        pairs = [(remaining[i], remaining[j]) for i, j in initial_pairs(len(remaining))]
    plan = make_plan(
        runner.tasks,
        tasks=remaining,
        pairs=pairs,
        repeats=settings.repeats,
        steps=settings.steps,
        seed=derive_seed(settings.seed, "replan", "probe", k),
    )
    result = run_campaign(wrapped, plan, stage_dir, executor=executor, workers=workers)
    sub = result.estimate.matrix.replace(forward=None, forward_stderr=None)
    entropy = result.estimate.entropy
    if sub.missing():
        sub = impute(sub)
    if entropy.missing():
        entropy = impute(entropy)

    def state_of(task: str) -> Any:
        return runner.load(state_path(stage_dir / STATE_DIR, probe_key("first", task)))

    return Probed(sub, entropy, state_of, settings.repeats * (len(remaining) + len(plan.pairs)))


def solve_remaining(
    sub: TransferMatrix,
    entropy: TransferMatrix | None,
    remaining: tuple[str, ...],
    settings: ReplanSettings,
) -> tuple[Any, str]:
    """Solve ``sub`` with the floors of the remaining tasks; drop a floor no order can reach.

    Parameters
    ----------
    sub : TransferMatrix
        Matrix of the remaining tasks.
    entropy : TransferMatrix or None
        Entropy matrix of the same tasks; without it the floors are not applied.
    remaining : tuple of str
        Tasks still to train; only their floors apply.
    settings : ReplanSettings
        ``floors``, ``entropy_model``, ``method``, ``objective`` and ``seed`` of the solve.

    Returns
    -------
    tuple of (SolveResult, str)
        The solve, and a note for the decision's reason (floors kept, dropped or not
        applied; ``""`` without floors).
    """
    from taskorder.exceptions import ConstraintError
    from taskorder.solvers import solve

    floors, model, seed = settings.floors, settings.entropy_model, settings.seed
    method, objective = settings.method, settings.objective

    active = {t: v for t, v in floors.items() if t in remaining}
    if not active:
        return solve(sub, method=method, objective=objective, seed=seed), ""
    if entropy is None:
        return (
            solve(sub, method=method, objective=objective, seed=seed),
            "; entropy floors not applied (the given matrix has no entropy matrix)",
        )
    from taskorder.solvers.entropy import entropy_floors

    dropped = []
    for task in list(active):  # a floor no order can reach on its own
        try:
            entropy_floors(entropy, {task: active[task]}, model=model)
        except ConstraintError as error:
            dropped.append(f"{task} ({error})")
            del active[task]
    while True:  # floors reachable one by one may still exclude each other
        try:
            solved = solve(
                sub,
                method=method,
                objective=objective,
                seed=seed,
                entropy=entropy,
                entropy_floor=active or None,
                entropy_model=model,
            )
            break
        except ConstraintError as error:
            task = next(iter(active))
            dropped.append(f"{task} ({error})")
            del active[task]
    note = f"; entropy floors {active} kept in the prediction" if active else ""
    if dropped:
        note += "; dropped unreachable floors: " + "; ".join(dropped)
    return solved, note


def enumerate_remaining(
    runner: Any,
    state: Any,
    remaining: tuple[str, ...],
    k: int,
    settings: ReplanSettings,
    eval_seed: int,
    folder: Path,
) -> Branches:
    """Run every order of ``remaining`` from ``state``; keep the best branch's states.

    Every branch state is saved in ``folder``, so a rerun after a crash trains none again.

    Parameters
    ----------
    runner : Runner
        The run's runner.
    state : Any
        The current training state, root of every branch.
    remaining : tuple of str
        Tasks still to train; every order of them is run.
    k : int
        Index of the decision; part of every branch's training seed.
    settings : ReplanSettings
        ``tasks`` (all evaluated at the end of a branch), ``floors``, ``steps`` and ``seed``.
    eval_seed : int
        Seed of the evaluations that score each finished branch.
    folder : Path
        Where the branch states are saved.

    Returns
    -------
    Branches
        Mean final score of every order, the best order (among those whose measured
        entropies meet the floors, when any do), its states stage by stage, the number of
        stages trained and a note on the floors.
    """
    from taskorder.seeds import derive_seed

    tasks, floors, seed = settings.tasks, settings.floors, settings.seed

    values: dict[tuple[str, ...], float] = {}
    slack: dict[tuple[str, ...], float] = {}
    paths: dict[tuple[str, ...], Any] = {}
    stages = 0

    def visit(prefix: tuple[str, ...], current: Any) -> None:
        nonlocal stages
        if len(prefix) == len(remaining):
            results = {t: runner.evaluate(current, t, seed=eval_seed) for t in tasks}
            values[prefix] = float(np.mean([r.score for r in results.values()]))
            slack[prefix] = min((results[t].entropy - v for t, v in floors.items()), default=0.0)
            return
        for task in remaining:
            if task in prefix:
                continue
            branch = (*prefix, task)
            stages += 1
            new = train_once(
                runner,
                folder / ("__".join(branch) + ".state"),
                current,
                task,
                settings.steps,
                derive_seed(seed, "replan", "branch", k, "/".join(branch)),
            )
            paths[branch] = new
            visit(branch, new)

    visit((), state)
    feasible = [order for order in sorted(values) if slack[order] >= 0]
    floor_note = ""
    if feasible:
        best = max(feasible, key=lambda order: values[order])
        if floors and len(feasible) < len(values):
            floor_note = (
                f" among the {len(feasible)} orders whose measured final entropies meet the "
                f"floors {floors}"
            )
    else:
        best = max(sorted(values), key=lambda order: (slack[order], values[order]))
        floor_note = (
            f"; no order meets the entropy floors {floors}: kept the closest (short by "
            f"{-slack[best]:.4f} nats)"
        )
    return Branches(
        values, best, [paths[best[: i + 1]] for i in range(len(best))], stages, floor_note
    )
