"""Re-planning during training: re-measure from the current model, re-solve what is left.

A plan made once, from probes of the *pretrained* model, assumes that transfer does not
depend on what was trained before. It does: on the built-in learner a task trained late
learns less, and the pairwise model's fidelity is far below its noise ceiling
(docs/estimator.md). :func:`replan_training` trains one stage at a time and, before
every stage, decides again from measurements of the *current* model:

1. **Probe matrix** (while more than ``horizon`` tasks are left): run a probe campaign
   over the remaining tasks, starting from the current state (first stages and
   ``design`` second stages, through the normal store and executors, so it resumes and
   runs in parallel), solve the remaining order exactly, and train its first task. The
   chosen task's first-stage probe *is* that stage: its saved state is loaded, nothing is
   trained twice.
2. **Enumerate** (when ``horizon`` or fewer tasks are left): run every order of the
   remaining tasks from the current state (prefix-shared: 15 stages for 3 tasks) and keep
   the one with the best measured mean final score over *all* tasks, finished ones
   included. The winning branch's states are the training, so nothing is retrained.

Why re-measure rather than update the old matrix with the scores seen so far: under any
pairwise model (additive, multiplicative, backward-only), a finished stage reveals pairs
that involve finished tasks, and those pairs contribute the same amount to every order of
the remaining tasks. Re-solving with them cannot change the remaining order; only new
measurements among the remaining tasks, or of the finished tasks' fate under each
remaining order (the enumeration), can. Every decision is logged with its reason
(:class:`Decision`).

Measured on the built-in learner (5 tasks, 6 worlds, ``benchmarks/replan.py``): see
docs/replanning.md.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix

__all__ = ["DESIGNS", "Decision", "ReplanResult", "StateRunner", "replan_training"]

#: Second-stage designs of a re-probe: every ordered pair, or the 2m-pair cyclic design
#: (every row and column measured twice, the rest imputed by row and column effects).
DESIGNS = ("full", "cheap")

DECISIONS_FILE = "decisions.json"
RUN_FILE = "run.json"
#: Where the trained model is saved (``runner.save``: a file, or a model folder for TRL).
FINAL_STATE = "final.state"


@dataclass(frozen=True)
class Decision:
    """One re-planning decision, taken before training stage ``stage``.

    Attributes
    ----------
    stage : int
        The stage this decision chose (0 = first stage).
    how : {"given", "probe_matrix", "enumerate", "last"}
        ``given``: solved from the matrix passed in; ``probe_matrix``: solved from a
        matrix re-measured at the current state; ``enumerate``: every remaining order
        run; ``last``: one task left.
    remaining : tuple of str
        Tasks not yet trained when deciding.
    previous_plan : tuple of str or None
        The previous decision's order of these tasks (``None`` for the first decision).
    plan : tuple of str
        The new order of the remaining tasks; ``plan[0]`` is trained next.
    changed : bool
        ``plan`` differs from ``previous_plan``.
    value : float or None
        The new plan's value under the new evidence (the objective of the re-measured
        matrix, or the measured mean final score for ``enumerate``).
    previous_value : float or None
        The previous plan's value under the same evidence.
    probe_stages : int
        Training stages run to take this decision (probes or enumerated branches).
    reason : str
        One sentence: what was measured and why this plan.
    """

    stage: int
    how: str
    remaining: tuple[str, ...]
    previous_plan: tuple[str, ...] | None
    plan: tuple[str, ...]
    changed: bool
    value: float | None
    previous_value: float | None
    probe_stages: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReplanResult:
    """What :func:`replan_training` did.

    Attributes
    ----------
    tasks : tuple of str
        Column order of ``scores`` and ``entropy``.
    order : tuple of str
        The order actually trained.
    initial_plan : tuple of str
        The first decision's full order: what a run without re-planning would train.
    decisions : list of Decision
        One per stage.
    scores, entropy : ndarray, shape (n + 1, n)
        Every task at the start (row 0) and after every trained stage.
    probe_stages : int
        Training stages run for decisions (the trained stages reused from probes count
        here, not again).
    directory : str
        Campaign stores, states and ``decisions.json``.
    final_path : str
        The trained model, saved with ``runner.save`` (``directory/final.state``; a model
        folder for TRL: load it with ``from_pretrained``).
    final_state : object
        The trained model as the runner's state (not serialised by :meth:`to_dict`).
    elapsed_s : float
    """

    tasks: tuple[str, ...]
    order: tuple[str, ...]
    initial_plan: tuple[str, ...]
    decisions: list[Decision]
    scores: np.ndarray
    entropy: np.ndarray
    probe_stages: int
    directory: str
    final_path: str = ""
    final_state: Any = field(default=None, repr=False)
    elapsed_s: float = 0.0

    @property
    def final(self) -> dict[str, float]:
        """Every task's score after the last stage."""
        return dict(zip(self.tasks, self.scores[-1].tolist()))

    @property
    def changed(self) -> bool:
        """True when the trained order differs from the initial plan."""
        return self.order != self.initial_plan

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": list(self.tasks),
            "order": list(self.order),
            "initial_plan": list(self.initial_plan),
            "changed": self.changed,
            "final": self.final,
            "mean_final": float(np.mean(self.scores[-1])),
            "scores": self.scores.tolist(),
            "entropy": self.entropy.tolist(),
            "probe_stages": self.probe_stages,
            "decisions": [d.to_dict() for d in self.decisions],
            "directory": self.directory,
            "final_path": self.final_path,
            "elapsed_s": self.elapsed_s,
        }


@dataclass
class StateRunner:
    """A runner whose starting state is a saved state of another runner.

    Probe campaigns start from ``runner.initial_state``; wrapping lets the same campaign
    machinery (store, executors, resume) probe from the middle of a training run.
    ``config_hash`` includes ``tag``, so each starting point has its own probe cache.
    Picklable when ``runner`` is.

    Examples
    --------
    >>> import tempfile
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> state = runner.train(runner.initial_state(0), "open_0", steps=5, seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     runner.save(state, folder + "/s")
    ...     wrapped = StateRunner(runner, folder + "/s", tag="after-open_0")
    ...     wrapped.initial_state(seed=3) == state
    True
    """

    runner: Any
    path: str
    tag: str

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.runner.tasks

    def initial_state(self, seed: int) -> Any:
        return self.runner.load(self.path)

    def train(self, state: Any, task: Any, *, steps: int, seed: int) -> Any:
        return self.runner.train(state, task, steps=steps, seed=seed)

    def evaluate(self, state: Any, task: str, *, seed: int) -> Any:
        return self.runner.evaluate(state, task, seed=seed)

    def save(self, state: Any, path: str | Path) -> None:
        self.runner.save(state, path)

    def load(self, path: str | Path) -> Any:
        return self.runner.load(path)

    def config_hash(self) -> str:
        text = f"{self.runner.config_hash()}|{self.tag}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _trained(runner: Any, path: Path, state: Any, task: str, steps: int, seed: int) -> Any:
    """``runner.train`` once: the result is saved at ``path`` and loaded on a rerun."""
    from taskorder.estimate.worker import write_state_atomically

    if path.exists():
        return runner.load(path)
    new = runner.train(state, task, steps=steps, seed=seed)
    write_state_atomically(runner, new, path)
    return new


def _fingerprint(runner: Any, settings: dict[str, Any]) -> str:
    text = json.dumps({"runner": runner.config_hash(), **settings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _claim(directory: Path, fingerprint: str) -> None:
    """Refuse a directory that holds a re-planning run with other settings."""
    run_file = directory / RUN_FILE
    if run_file.exists():
        try:
            previous = json.loads(run_file.read_text("utf-8")).get("fingerprint")
        except (OSError, ValueError, AttributeError):
            previous = None
        if previous != fingerprint:
            raise InvalidParameterError(
                f"The 'directory' parameter of replan_training names {directory}, which holds a "
                f"re-planning run with other settings (fingerprint {previous}, these "
                f"{fingerprint}); resuming it would mix two runs. Use another directory."
            )
    run_file.write_text(json.dumps({"fingerprint": fingerprint}) + "\n", "utf-8")


def _arrow(order: Sequence[str]) -> str:
    return " -> ".join(order)


def _check(runner: Any, tasks: Sequence[str] | None, steps: Any, horizon: Any, design: str,
           repeats: Any, matrix: TransferMatrix | None) -> tuple[str, ...]:
    known = tuple(runner.tasks)
    chosen = known if tasks is None else tuple(tasks)
    unknown = [t for t in chosen if t not in known]
    if unknown or len(set(chosen)) != len(chosen) or len(chosen) < 2:
        raise InvalidParameterError(
            "The 'tasks' parameter of replan_training must name at least 2 distinct tasks of "
            f"the runner {list(known)}. Got {list(chosen)}."
        )
    for name, value, low in (("steps", steps, 1), ("horizon", horizon, 1), ("repeats", repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidParameterError(
                f"The '{name}' parameter of replan_training must be an int >= {low}. Got {value!r}."
            )
    if horizon > 5:
        raise InvalidParameterError(
            "The 'horizon' parameter of replan_training enumerates horizon! orders; it must be "
            f"at most 5. Got {horizon}."
        )
    if design not in DESIGNS:
        raise InvalidParameterError(
            f"The 'design' parameter of replan_training must be one of {list(DESIGNS)}. Got {design!r}."
        )
    if matrix is not None and sorted(matrix.tasks) != sorted(chosen):
        raise InvalidParameterError(
            "The 'matrix' parameter of replan_training must cover exactly the trained tasks "
            f"{sorted(chosen)}. Got {sorted(matrix.tasks)}."
        )
    return chosen


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
        Any implementation of the runner protocol (:mod:`taskorder.estimate.runner`).
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
        Entropy model of the ``probe_matrix`` decisions' floors (:mod:`taskorder.entropy`);
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
    from taskorder.estimate.plan import derive_seed

    started = time.perf_counter()
    tasks = _check(runner, tasks, steps, horizon, design, repeats, matrix)
    floors = _check_floors(entropy_floor, tasks)
    if entropy_model not in ("additive", "multiplicative"):
        raise InvalidParameterError(
            "The 'entropy_model' parameter of replan_training must be 'additive' or "
            f"'multiplicative'. Got {entropy_model!r}."
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    settings = {
        "tasks": tasks, "steps": steps, "horizon": horizon, "design": design,
        "repeats": repeats, "matrix": None if matrix is None else matrix.to_dict(),
        "floors": floors, "entropy_model": entropy_model, "objective": objective,
        "method": method, "seed": seed,
    }
    _claim(directory, _fingerprint(runner, settings))
    eval_seed = derive_seed(seed, "replan", "eval")

    def measure(state: Any) -> tuple[list[float], list[float]]:
        results = [runner.evaluate(state, task, seed=eval_seed) for task in tasks]
        return [float(r.score) for r in results], [float(r.entropy) for r in results]

    state = runner.initial_state(derive_seed(seed, "replan", "init"))
    first_scores, first_entropy = measure(state)
    score_rows, entropy_rows = [first_scores], [first_entropy]
    decisions: list[Decision] = []
    trained: list[str] = []
    plan: tuple[str, ...] | None = None
    initial_plan: tuple[str, ...] | None = None
    probe_total = 0

    def record(decision: Decision) -> None:
        decisions.append(decision)
        payload = {"tasks": list(tasks), "decisions": [d.to_dict() for d in decisions]}
        (directory / DECISIONS_FILE).write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
        if on_decision:
            on_decision(decision)

    def finish_stage(new_state: Any, task: str) -> Any:
        trained.append(task)
        scores, entropy = measure(new_state)
        score_rows.append(scores)
        entropy_rows.append(entropy)
        if on_stage_end:
            on_stage_end(len(trained) - 1, task, dict(zip(tasks, scores)))
        return new_state

    while len(trained) < len(tasks):
        k = len(trained)
        remaining = tuple(t for t in tasks if t not in trained)
        previous = None if plan is None else tuple(t for t in plan if t in remaining)
        if len(remaining) == 1:
            record(Decision(k, "last", remaining, previous, remaining, False, None, None, 0,
                            f"{remaining[0]} is the only task left."))
            new = _trained(runner, directory / "states" / f"stage-{k}.state", state,
                           remaining[0], steps, derive_seed(seed, "replan", "train", k))
            state = finish_stage(new, remaining[0])
            plan = remaining
            continue
        if len(remaining) <= horizon:
            branch = _enumerate(runner, state, remaining, tasks, steps, seed, k, eval_seed, floors,
                                directory / f"stage-{k}-branches")
            probe_total += branch["stages"]
            value_of = branch["values"]
            new_plan = branch["best"]
            old_value = None if previous is None else value_of[previous]
            reason = (
                f"ran all {len(value_of)} orders of the last {len(remaining)} tasks from the "
                f"current state ({branch['stages']} stages); best mean final score "
                f"{value_of[new_plan]:.4f} for {_arrow(new_plan)}"
                + branch["floor_note"]
                + ("" if previous is None else
                   f", the previous plan {_arrow(previous)} measured {old_value:.4f}")
                + "."
            )
            record(Decision(k, "enumerate", remaining, previous, new_plan,
                            previous is not None and new_plan != previous,
                            value_of[new_plan], old_value, branch["stages"], reason))
            if initial_plan is None:
                initial_plan = new_plan
            for offset, (task, new_state) in enumerate(zip(new_plan, branch["states"])):
                if offset:
                    record(Decision(k + offset, "enumerate", new_plan[offset:], new_plan[offset:],
                                    new_plan[offset:], False, value_of[new_plan], value_of[new_plan],
                                    0, "continues the enumerated best order."))
                state = finish_stage(new_state, task)
            plan = new_plan
            continue
        entropy = None
        if k == 0 and matrix is not None:
            sub, cost, how = matrix, 0, "given"
            state_of = None
        else:
            sub, entropy, state_of, cost = _probe(runner, state, remaining, directory, k, steps,
                                                  design, repeats, seed, executor, workers)
            how = "probe_matrix"
        from taskorder.objectives import evaluate

        solved, floor_note = _solve_with_floors(sub, entropy, floors, remaining, method,
                                                objective, seed, entropy_model)
        new_plan = tuple(solved.order)
        value = float(solved.objective)
        old_value = None if previous is None else float(evaluate(sub, previous, objective))
        probe_total += cost
        if how == "given":
            reason = f"solved the given matrix: {_arrow(new_plan)} (value {value:+.4f})."
        else:
            where = "the starting model" if k == 0 else f"the state after stage {k - 1}"
            reason = (
                f"re-measured {len(remaining)} tasks from {where} ({cost} probe stages, "
                f"{design} design); optimum {_arrow(new_plan)} value {value:+.4f}"
                + floor_note
                + ("" if previous is None else
                   f"; the previous plan {_arrow(previous)} has {old_value:+.4f} under the new "
                   + ("matrix, kept" if new_plan == previous else "matrix, replaced"))
                + "."
            )
        record(Decision(k, how, remaining, previous, new_plan,
                        previous is not None and new_plan != previous, value, old_value, cost,
                        reason))
        if initial_plan is None:
            initial_plan = new_plan
        nxt = new_plan[0]
        if state_of is None:
            new_state = _trained(runner, directory / "states" / f"stage-{k}.state", state, nxt,
                                 steps, derive_seed(seed, "replan", "train", k))
        else:
            new_state = state_of(nxt)
        state = finish_stage(new_state, nxt)
        plan = new_plan
    assert initial_plan is not None
    from taskorder.estimate.worker import write_state_atomically

    final_path = directory / FINAL_STATE
    write_state_atomically(runner, state, final_path)
    return ReplanResult(
        tasks=tasks,
        order=tuple(trained),
        initial_plan=initial_plan,
        decisions=decisions,
        scores=np.array(score_rows),
        entropy=np.array(entropy_rows),
        probe_stages=probe_total,
        directory=str(directory),
        final_path=str(final_path),
        final_state=state,
        elapsed_s=time.perf_counter() - started,
    )


def _probe(runner, state, remaining, directory, k, steps, design, repeats, seed, executor,
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


def _check_floors(entropy_floor: Mapping[str, float] | None, tasks: tuple[str, ...]) -> dict[str, float]:
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


def _solve_with_floors(sub, entropy, floors, remaining, method, objective, seed, model):
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
    dropped = []
    while True:
        try:
            solved = solve(sub, method=method, objective=objective, seed=seed,
                           entropy=entropy, entropy_floor=active, entropy_model=model)
            break
        except ConstraintError as error:
            culprit = next((t for t in active if repr(t) in str(error) or f"{t}'s" in str(error)), None)
            if culprit is None:
                culprit = next(iter(active))
            dropped.append(f"{culprit} ({error})")
            del active[culprit]
            if not active:
                solved = solve(sub, method=method, objective=objective, seed=seed)
                break
    note = f"; entropy floors {active} kept in the prediction" if active else ""
    if dropped:
        note += "; dropped unreachable floors: " + "; ".join(dropped)
    return solved, note


def _enumerate(runner, state, remaining, tasks, steps, seed, k, eval_seed, floors,
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
            new = _trained(runner, folder / ("__".join(branch) + ".state"), current, task, steps,
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
