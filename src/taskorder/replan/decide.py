"""The two kinds of decision: a probe matrix from the current state, or every remaining order."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.replan.state import StateRunner, train_once

__all__ = ["check_floors", "enumerate_remaining", "probe_remaining", "solve_remaining"]


def probe_remaining(runner, state, remaining, directory, k, steps, design, repeats, seed, executor,
           workers):
    """Probe campaign over ``remaining`` from ``state``; (matrix, state loader, stages run)."""
    from taskorder.estimate.campaign import STATE_DIR, run_campaign
    from taskorder.estimate.impute import impute
    from taskorder.estimate.plan import derive_seed, make_plan
    from taskorder.estimate.worker import state_path, write_state_atomically

    stage_dir = directory / f"stage-{k}"
    start = directory / "states" / f"start-{k}.state"
    if not start.exists():
        write_state_atomically(runner, state, start)
    wrapped = StateRunner(runner, str(start), tag=f"replan/{k}/{','.join(remaining)}")
    pairs = None
    if design == "cheap" and len(remaining) > 2:
        from taskorder.active import initial_pairs

        pairs = [(remaining[i], remaining[j]) for i, j in initial_pairs(len(remaining))]
    plan = make_plan(runner.tasks, tasks=remaining, pairs=pairs, repeats=repeats, steps=steps,
                     seed=derive_seed(seed, "replan", "probe", k))
    result = run_campaign(wrapped, plan, stage_dir, executor=executor, workers=workers)
    sub = result.estimate.matrix.replace(forward=None, forward_stderr=None)
    entropy = result.estimate.entropy
    if sub.missing():
        sub = impute(sub)
    if entropy.missing():
        entropy = impute(entropy)
    stages = repeats * (len(remaining) + len(plan.pairs))

    def state_of(task: str) -> Any:
        return runner.load(state_path(stage_dir / STATE_DIR, f"first/{task}/r0"))

    return sub, entropy, state_of, stages


def check_floors(entropy_floor: Mapping[str, float] | None, tasks: tuple[str, ...]) -> dict[str, float]:
    if entropy_floor is None:
        return {}
    if not isinstance(entropy_floor, Mapping):
        raise InvalidParameterError(
            "The 'entropy_floor' parameter of replan_training must be a mapping {task: nats}. "
            f"Got {type(entropy_floor).__name__}."
        )
    floors = {}
    for task, value in entropy_floor.items():
        if task not in tasks:
            raise InvalidParameterError(
                f"The 'entropy_floor' parameter of replan_training names unknown task {task!r}. "
                f"Known tasks: {list(tasks)}."
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise InvalidParameterError(
                f"The 'entropy_floor' of {task!r} must be a finite number of nats. Got {value!r}."
            )
        floors[task] = float(value)
    return floors


def solve_remaining(sub, entropy, floors, remaining, method, objective, seed, model):
    """Solve ``sub`` with the floors of the remaining tasks; drop a floor no order can reach."""
    from taskorder.exceptions import ConstraintError
    from taskorder.solvers import solve

    active = {t: v for t, v in floors.items() if t in remaining}
    if not active:
        return solve(sub, method=method, objective=objective, seed=seed), ""
    if entropy is None:
        return (
            solve(sub, method=method, objective=objective, seed=seed),
            "; entropy floors not applied (the given matrix has no entropy matrix)",
        )
    from taskorder.entropy import entropy_floors

    dropped = []
    for task in list(active):  # a floor no order can reach on its own
        try:
            entropy_floors(entropy, {task: active[task]}, model=model)
        except ConstraintError as error:
            dropped.append(f"{task} ({error})")
            del active[task]
    while True:  # floors reachable one by one may still exclude each other
        try:
            solved = solve(sub, method=method, objective=objective, seed=seed, entropy=entropy,
                           entropy_floor=active or None, entropy_model=model)
            break
        except ConstraintError as error:
            task = next(iter(active))
            dropped.append(f"{task} ({error})")
            del active[task]
    note = f"; entropy floors {active} kept in the prediction" if active else ""
    if dropped:
        note += "; dropped unreachable floors: " + "; ".join(dropped)
    return solved, note


def enumerate_remaining(runner, state, remaining, tasks, steps, seed, k, eval_seed, floors,
               folder: Path) -> dict[str, Any]:
    """Run every order of ``remaining`` from ``state``; keep the best branch's states.

    Every branch state is saved in ``folder``, so a rerun after a crash trains none again.
    """
    from taskorder.estimate.plan import derive_seed

    values: dict[tuple[str, ...], float] = {}
    slack: dict[tuple[str, ...], float] = {}
    paths: dict[tuple[str, ...], Any] = {}
    stages = 0

    def visit(prefix: tuple[str, ...], current: Any) -> None:
        nonlocal stages
        if len(prefix) == len(remaining):
            results = {t: runner.evaluate(current, t, seed=eval_seed) for t in tasks}
            values[prefix] = float(np.mean([r.score for r in results.values()]))
            slack[prefix] = min(
                (results[t].entropy - v for t, v in floors.items()), default=0.0
            )
            return
        for task in remaining:
            if task in prefix:
                continue
            branch = (*prefix, task)
            stages += 1
            new = train_once(runner, folder / ("__".join(branch) + ".state"), current, task, steps,
                           derive_seed(seed, "replan", "branch", k, "/".join(branch)))
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
    return {
        "values": values,
        "best": best,
        "states": [paths[best[: i + 1]] for i in range(len(best))],
        "stages": stages,
        "floor_note": floor_note,
    }
