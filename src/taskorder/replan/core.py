"""The re-planning loop: decide, train one stage, measure, repeat."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.checks import check_choice
from taskorder.matrix import TransferMatrix
from taskorder.replan.decide import Branches, enumerate_remaining, probe_remaining, solve_remaining
from taskorder.replan.result import Decision, ReplanResult
from taskorder.replan.settings import DESIGNS, ReplanSettings
from taskorder.replan.state import claim_directory, train_once

__all__ = ["replan_cost", "replan_training"]

DECISIONS_FILE = "decisions.json"
#: Where the trained model is saved (``runner.save``: a file, or a model folder for TRL).
FINAL_STATE = "final.state"


def replan_cost(
    n_tasks: int,
    *,
    horizon: int = 3,
    design: str = "full",
    repeats: int = 1,
    given_matrix: bool = False,
) -> int:
    """Training stages a re-planned run of ``n_tasks`` tasks costs, the trained ones included.

    Probe decisions cost ``repeats * (m + pairs)`` stages for ``m`` remaining tasks (pairs:
    ``m (m - 1)`` for ``full``, ``2m`` for ``cheap`` when ``m > 3``); the enumeration of the
    last ``h`` tasks costs ``h + h(h-1) + ... + h!`` stages; a stage that is not a probe or
    a branch (after a given matrix, or the last task when ``horizon`` is 1) costs one.
    Multiply by the cost of one stage to budget a TRL run.

    Parameters
    ----------
    n_tasks : int
        Tasks the run trains.
    horizon, design, repeats
        As in :func:`replan_training`.
    given_matrix : bool, default False
        Whether the first decision solves a given matrix instead of probing.

    Returns
    -------
    int
        Training stages: probe stages, enumerated branches and trained stages.

    Raises
    ------
    InvalidParameterError
        If ``design`` is not one of :data:`~taskorder.replan.settings.DESIGNS`.

    Examples
    --------
    >>> replan_cost(5)  # 25 + 16 probe stages, then 15 branches for the last 3 tasks
    56
    >>> replan_cost(5, design="cheap"), replan_cost(5, given_matrix=True), replan_cost(5, horizon=1)
    (42, 32, 55)
    """
    check_choice(design, DESIGNS, "design", "replan_cost")
    total = 0
    for m in range(n_tasks, 1, -1):
        if m <= horizon:
            total += sum(math.perm(m, k) for k in range(1, m + 1))
            return total
        if m == n_tasks and given_matrix:
            total += 1
            continue
        pairs = 2 * m if design == "cheap" and m > 3 else m * (m - 1)
        total += repeats * (m + pairs)
    return total + 1  # the last task, trained on its own


def _arrow(order: Sequence[str]) -> str:
    return " -> ".join(order)


# long: the signature is 19 lines (17 keyword parameters, one a line after formatting); the
# body is the decide-train-measure loop, its stages in helpers
def replan_training(
    runner: Any,
    directory: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    steps: int = 40,
    horizon: int = 3,
    design: str = "full",
    repeats: int = 1,
    matrix: TransferMatrix | None = None,
    entropy_floor: Mapping[str, float] | None = None,
    entropy_model: str = "multiplicative",
    objective: str = "all_pairs",
    method: str = "auto",
    seed: int = 0,
    executor: Any = "inprocess",
    workers: int | None = None,
    on_decision: Callable[[Decision], None] | None = None,
    on_stage_end: Callable[[int, str, dict[str, float]], None] | None = None,
) -> ReplanResult:
    """Train every task once, re-deciding the order of what is left before each stage.

    See the module docstring for the two kinds of decision. The objective of an
    ``enumerate`` decision is the mean final score over ``tasks``; a ``probe_matrix``
    decision maximises ``objective`` on the re-measured backward-transfer matrix of the
    remaining tasks (forward transfer is left out: it predicts worst, docs/estimator.md).

    Parameters
    ----------
    runner : Runner
        Any implementation of the runner protocol (:mod:`taskorder.runner`).
    directory : str or Path
        Where each decision's probe campaign (``stage-<k>/``), the trained states
        (``states/``) and ``decisions.json`` go. Rerunning with the same arguments
        reuses every finished probe.
    tasks : sequence of str, optional
        Tasks to train (default: all of the runner's).
    steps : int, default 40
        Training steps of every stage and every probe (they must match: the chosen
        probe becomes the trained stage).
    horizon : int, default 3
        Enumerate every remaining order once this many tasks or fewer are left
        (``horizon!`` branches; 1 turns enumeration off).
    design : {"full", "cheap"}
        Second-stage probes of a re-measurement: all ``m (m - 1)`` pairs, or the cyclic
        ``2m`` design with row/column imputation.
    repeats : int, default 1
        Probe repeats of each re-measurement.
    matrix : TransferMatrix, optional
        A matrix already measured at the starting model; the first decision solves it
        instead of probing again.
    entropy_floor : mapping of str to float, optional
        ``{task: minimum final entropy}`` (nats). A ``probe_matrix`` decision passes the
        floors of the remaining tasks to :func:`taskorder.solve` with the entropy matrix
        re-measured at the current state (a floor no remaining order can reach is logged
        and dropped for that decision). An ``enumerate`` decision keeps only orders whose
        *measured* final entropies meet every floor, finished tasks included; since the
        winning branch is the training, the trained model meets the floors whenever any
        order of the last ``horizon`` tasks does (otherwise the order closest to them is
        kept, and the reason says so).
    entropy_model : {"multiplicative", "additive"}
        Entropy model of the ``probe_matrix`` decisions' floors (:mod:`taskorder.solvers.entropy`);
        the multiplicative one met more floors in reality (docs/replanning.md).
    objective, method : str
        Passed to :func:`taskorder.solve` for ``probe_matrix`` decisions.
    seed : int, default 0
        Root seed; every probe, branch and evaluation seed derives from it.
    executor, workers
        Where probe campaigns run (:mod:`taskorder.estimate.executors`).
    on_decision : callable, optional
        Called with each :class:`Decision` as it is taken.
    on_stage_end : callable, optional
        Called with ``(stage, task, {task: score})`` after each trained stage.

    Returns
    -------
    ReplanResult

    Examples
    --------
    >>> import tempfile
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     result = replan_training(runner, folder, steps=10, horizon=2)
    >>> [d.how for d in result.decisions]
    ['probe_matrix', 'enumerate', 'enumerate']
    >>> sorted(result.order) == sorted(runner.tasks), result.scores.shape
    (True, (4, 3))
    """
    from taskorder.estimate.worker import write_state_atomically
    from taskorder.seeds import derive_seed

    started = time.perf_counter()
    settings = ReplanSettings.check(
        runner,
        tasks=tasks,
        entropy_floor=entropy_floor,
        steps=steps,
        horizon=horizon,
        design=design,
        repeats=repeats,
        matrix=matrix,
        entropy_model=entropy_model,
        objective=objective,
        method=method,
        seed=seed,
    )
    tasks = settings.tasks
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    claim_directory(directory, runner, settings.fingerprint_fields())
    run = _Run(
        runner, tasks, directory, derive_seed(seed, "replan", "eval"), on_decision, on_stage_end
    )
    run.start(runner.initial_state(derive_seed(seed, "replan", "init")))
    while len(run.trained) < len(tasks):
        k = len(run.trained)
        remaining = tuple(t for t in tasks if t not in run.trained)
        if len(remaining) == 1:
            run.record(
                Decision(
                    k,
                    "last",
                    remaining,
                    run.previous(remaining),
                    remaining,
                    False,
                    None,
                    None,
                    0,
                    f"{remaining[0]} is the only task left.",
                )
            )
            run.finish_stage(_train_stage(run, settings, k, remaining[0]), remaining[0])
        elif len(remaining) <= horizon:
            branch = enumerate_remaining(
                runner,
                run.state,
                remaining,
                k,
                settings,
                run.eval_seed,
                directory / f"stage-{k}-branches",
            )
            _enumerated(run, k, remaining, branch)
        else:
            _matrix_stage(run, settings, k, remaining, executor=executor, workers=workers)
    final_path = directory / FINAL_STATE
    write_state_atomically(runner, run.state, final_path)
    return _replan_result(run, final_path, started)


class _Run:
    """The mutable record of one re-planned run: state, measurements, decisions."""

    def __init__(self, runner, tasks, directory, eval_seed, on_decision, on_stage_end) -> None:
        self.runner, self.tasks, self.directory = runner, tasks, directory
        self.eval_seed = eval_seed
        self.on_decision, self.on_stage_end = on_decision, on_stage_end
        self.state: Any = None
        self.score_rows: list[list[float]] = []
        self.entropy_rows: list[list[float]] = []
        self.decisions: list[Decision] = []
        self.trained: list[str] = []
        self.plan: tuple[str, ...] | None = None
        self.initial_plan: tuple[str, ...] = ()

    def start(self, state: Any) -> None:
        self.state = state
        self._measure()

    def _measure(self) -> list[float]:
        results = [self.runner.evaluate(self.state, t, seed=self.eval_seed) for t in self.tasks]
        self.score_rows.append([float(r.score) for r in results])
        self.entropy_rows.append([float(r.entropy) for r in results])
        return self.score_rows[-1]

    def previous(self, remaining: tuple[str, ...]) -> tuple[str, ...] | None:
        """The last plan's order of ``remaining`` (``None`` before the first decision)."""
        return None if self.plan is None else tuple(t for t in self.plan if t in remaining)

    def record(self, decision: Decision) -> None:
        self.decisions.append(decision)
        self.plan = decision.plan
        if not self.initial_plan:
            self.initial_plan = decision.plan
        payload = {"tasks": list(self.tasks), "decisions": [d.to_dict() for d in self.decisions]}
        (self.directory / DECISIONS_FILE).write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
        if self.on_decision:
            self.on_decision(decision)

    def finish_stage(self, state: Any, task: str) -> None:
        self.state = state
        self.trained.append(task)
        scores = self._measure()
        if self.on_stage_end:
            self.on_stage_end(len(self.trained) - 1, task, dict(zip(self.tasks, scores)))


def _replan_result(run: _Run, final_path: Path, started: float) -> ReplanResult:
    """The finished run as a :class:`ReplanResult` (``started``: its ``perf_counter``)."""
    return ReplanResult(
        tasks=run.tasks,
        order=tuple(run.trained),
        initial_plan=run.initial_plan,
        decisions=run.decisions,
        scores=np.array(run.score_rows),
        entropy=np.array(run.entropy_rows),
        probe_stages=sum(d.probe_stages for d in run.decisions),
        directory=str(run.directory),
        final_path=str(final_path),
        final_state=run.state,
        elapsed_s=time.perf_counter() - started,
    )


def _train_stage(run: _Run, settings: ReplanSettings, k: int, task: str) -> Any:
    """Train ``task`` as stage ``k`` from the current state (saved; reloaded on a rerun)."""
    from taskorder.seeds import derive_seed

    path = run.directory / "states" / f"stage-{k}.state"
    train_seed = derive_seed(settings.seed, "replan", "train", k)
    return train_once(run.runner, path, run.state, task, settings.steps, train_seed)


def _matrix_stage(
    run: _Run,
    settings: ReplanSettings,
    k: int,
    remaining: tuple[str, ...],
    *,
    executor: Any,
    workers: int | None,
) -> None:
    """Decide stage ``k`` on a matrix and train the plan's first task.

    The matrix is the given one at the first decision, else a probe campaign from the
    current state (whose first-stage states then become the trained stage).
    """
    if k == 0 and settings.matrix is not None:
        sub, entropy, state_of, cost, how = settings.matrix, None, None, 0, "given"
    else:
        probed = probe_remaining(
            run.runner,
            run.state,
            remaining,
            k,
            settings,
            run.directory,
            executor=executor,
            workers=workers,
        )
        sub, entropy, state_of, cost = (
            probed.matrix,
            probed.entropy,
            probed.state_of,
            probed.stages,
        )
        how = "probe_matrix"
    solved, floor_note = solve_remaining(sub, entropy, remaining, settings)
    plan = _matrix_decision(
        run, k, how, remaining, sub, solved, settings.objective, cost, settings.design, floor_note
    )
    if state_of is None:
        state = _train_stage(run, settings, k, plan[0])
    else:
        state = state_of(plan[0])
    run.finish_stage(state, plan[0])


def _enumerated(run: _Run, k: int, remaining: tuple[str, ...], branch: Branches) -> None:
    """Record an ``enumerate`` decision and train the winning branch (its saved states)."""
    previous = run.previous(remaining)
    value_of, plan = branch.values, branch.best
    old_value = None if previous is None else value_of[previous]
    reason = (
        f"ran all {len(value_of)} orders of the last {len(remaining)} tasks from the current "
        f"state ({branch.stages} stages); best mean final score {value_of[plan]:.4f} for "
        f"{_arrow(plan)}"
        + branch.floor_note
        + (
            ""
            if previous is None
            else f", the previous plan {_arrow(previous)} measured {old_value:.4f}"
        )
        + "."
    )
    run.record(
        Decision(
            k,
            "enumerate",
            remaining,
            previous,
            plan,
            previous is not None and plan != previous,
            value_of[plan],
            old_value,
            branch.stages,
            reason,
        )
    )
    for offset, (task, state) in enumerate(zip(plan, branch.states)):
        if offset:
            rest = plan[offset:]
            run.record(
                Decision(
                    k + offset,
                    "enumerate",
                    rest,
                    rest,
                    rest,
                    False,
                    value_of[plan],
                    value_of[plan],
                    0,
                    "continues the enumerated best order.",
                )
            )
        run.finish_stage(state, task)


def _matrix_decision(
    run: _Run,
    k: int,
    how: str,
    remaining: tuple[str, ...],
    sub: TransferMatrix,
    solved: Any,
    objective: str,
    cost: int,
    design: str,
    floor_note: str,
) -> tuple[str, ...]:
    """Record a ``given`` or ``probe_matrix`` decision; return the new plan."""
    from taskorder.objectives import evaluate

    previous = run.previous(remaining)
    plan, value = tuple(solved.order), float(solved.objective)
    old_value = None if previous is None else float(evaluate(sub, previous, objective))
    if how == "given":
        reason = f"solved the given matrix: {_arrow(plan)} (value {value:+.4f})."
    else:
        where = "the starting model" if k == 0 else f"the state after stage {k - 1}"
        reason = (
            f"re-measured {len(remaining)} tasks from {where} ({cost} probe stages, {design} "
            f"design); optimum {_arrow(plan)} value {value:+.4f}"
            + floor_note
            + (
                ""
                if previous is None
                else f"; the previous plan {_arrow(previous)} has {old_value:+.4f} under the new "
                + ("matrix, kept" if plan == previous else "matrix, replaced")
            )
            + "."
        )
    run.record(
        Decision(
            k,
            how,
            remaining,
            previous,
            plan,
            previous is not None and plan != previous,
            value,
            old_value,
            cost,
            reason,
        )
    )
    return plan
