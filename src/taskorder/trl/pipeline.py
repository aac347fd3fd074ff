"""Train a model through a schedule with GRPO, one checkpoint per stage, resumable.

:func:`run_training` is what ``taskorder train CONFIG`` runs: it loads the tasks,
builds (or solves) the schedule, creates one ``GRPOTrainer`` with every task's rows,
installs the schedule with :func:`~taskorder.trl.apply.apply_schedule` and the
:class:`~taskorder.trl.callback.StageCallback`, and trains. The callback writes a
checkpoint and ``stages.json`` at every stage boundary. After a crash, running the
same config again resumes from the last finished stage's checkpoint: the trainer
restores weights, optimizer, scheduler and random state, and the sampler (a pure
function of the seed) skips exactly the batches already consumed.

Files in ``output_dir``: ``run.json`` (config fingerprint and resolved schedule),
``stages.json`` (the per-stage records, accuracy matrix and GEM metrics),
``checkpoint-<step>/`` (one per finished stage; a loadable model directory) and, with
online stages, ``online_decisions.jsonl`` (every decision and signal; see
:mod:`taskorder.trl.online_mixer`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskorder.exceptions import InvalidParameterError, require
from taskorder.schedule import Schedule
from taskorder.trl.config import TrainConfig
from taskorder.trl.data import RLTask, load_rows, split_rows
from taskorder.trl.evaluation import EvalConfig
from taskorder.trl.results import StageRecord, StageResults

__all__ = [
    "TrainResult",
    "build_probe_runner",
    "build_schedule",
    "build_tasks",
    "replan_from_config",
    "replan_plan",
    "run_training",
]

RESULTS_FILE = "stages.json"
RUN_FILE = "run.json"


@dataclass
class TrainResult:
    """What a scheduled run produced.

    Attributes
    ----------
    output_dir : str
        The run directory.
    schedule : Schedule
        The resolved schedule (stage lengths in steps).
    results : StageResults
        Per-stage scores and entropies (and GEM metrics for sequential schedules).
    checkpoints : list of str
        One checkpoint directory per finished stage, in stage order.
    resumed_from_stage : int or None
        The last stage that was already finished when this call started.
    elapsed_s : float
        Wall-clock seconds of this call.
    """

    output_dir: str
    schedule: Schedule
    results: StageResults
    checkpoints: list[str] = field(default_factory=list)
    resumed_from_stage: int | None = None
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "output_dir": self.output_dir,
            "schedule": self.schedule.to_dict(),
            "steps": list(self.schedule.steps),
            "checkpoints": self.checkpoints,
            "resumed_from_stage": self.resumed_from_stage,
            "elapsed_s": self.elapsed_s,
            **{k: v for k, v in self.results.to_dict().items() if k != "schedule"},
        }


def _judge_reward(config: TrainConfig) -> Any:
    """The :class:`~taskorder.trl.local_judge.LocalJudgeReward` of the config's judge section."""
    from taskorder.trl.local_judge import LocalJudgeReward
    from taskorder.trl.model_source import resolve_model

    judge = config.judge
    folder = resolve_model(judge.model if judge.model is not None else config.model)
    return LocalJudgeReward(
        folder, low=judge.low, high=judge.high, scoring=judge.scoring, batch_size=judge.batch_size
    )


def build_tasks(config: TrainConfig) -> list[RLTask]:
    """Load every task's rows (holding out ``eval_fraction`` where no eval file is given).

    A task whose reward is ``judge`` is scored by the config's local judge (one judge
    object shared by all such tasks).
    """
    from taskorder.trl.reward_specs import resolve_reward

    judge = None
    tasks = []
    for name, spec in config.tasks.items():
        reward: Any = spec.reward
        if reward == "judge":
            judge = judge if judge is not None else _judge_reward(config)
            reward = judge
        else:
            resolve_reward(reward)  # an unknown name fails here, before any model loads
        train = load_rows(spec.train)
        if spec.eval is not None:
            held_out = load_rows(spec.eval)
        else:
            train, held_out = split_rows(train, spec.eval_fraction, seed=config.seed)
        if spec.max_train_rows is not None:
            train = train[: spec.max_train_rows]
        tasks.append(RLTask(name, train, held_out, reward))
    return tasks


def build_probe_runner(config: TrainConfig, *, work_dir: str | Path) -> Any:
    """The :class:`~taskorder.trl.runner.TRLProbeRunner` of a real-model config.

    Model (resolved to a local folder), tasks, judge, ``grpo``, evaluation and dtype
    come from ``config``; trained states go under ``work_dir``.
    """
    from taskorder.trl.model_source import resolve_model
    from taskorder.trl.runner import TRLProbeRunner, TRLRunnerConfig

    lora = config.model.lora
    return TRLProbeRunner(
        build_tasks(config),
        TRLRunnerConfig(
            model_path=str(resolve_model(config.model)),
            work_dir=str(work_dir),
            grpo=dict(config.grpo),
            evaluation=config.evaluation.for_run(config.seed),
            dtype=config.dtype,
            lora=None if lora is None else lora.model_dump(),
        ),
    )


def build_schedule(config: TrainConfig) -> tuple[Schedule, dict[str, Any] | None]:
    """The config's schedule; from ``schedule.bwt``, the recommended order.

    With ``schedule.bwt`` and ``solver.method: auto`` (the default) the order is
    :func:`taskorder.recommend.recommend`'s, the one taskorder presents everywhere (the
    route that won on held-out worlds, checked against probe noise; give the probe
    campaign's ``matrix.json`` so it has own scores and standard errors). Any other
    ``solver.method`` solves the linear ordering problem of the matrix with that method.

    Returns the (unresolved) schedule and, from a matrix, the recommendation or the
    solver's result as a dict (else ``None``).
    """
    schedule = config.explicit_schedule()
    if schedule is not None:
        return schedule, None
    spec = config.schedule
    matrix = _config_matrix(config)
    if spec.solver.method == "auto":
        from taskorder.recommend import recommend

        chosen = recommend(matrix, objective=spec.solver.objective, seed=config.seed)
        order, info = chosen.order, {"recommendation": chosen.to_dict()}
    else:
        from taskorder.solvers import solve

        solved = solve(
            matrix,
            method=spec.solver.method,
            objective=spec.solver.objective,
            time_limit=spec.solver.time_limit,
            seed=config.seed,
        )
        order, info = solved.order, solved.to_dict()
    schedule = Schedule.from_order(order, steps=spec.steps_per_stage, passes=spec.passes_per_stage)
    return schedule, info


def _config_matrix(config: TrainConfig) -> Any:
    """``schedule.bwt`` read and checked to cover exactly the config's tasks."""
    from taskorder.io import read_matrix

    bwt = config.require_schedule().bwt
    if not Path(bwt).is_file():
        raise InvalidParameterError(
            f"{bwt}: no such transfer matrix (schedule.bwt). Measure it first with "
            "taskorder probe CONFIG, or give schedule.order."
        )
    matrix = read_matrix(bwt)
    if sorted(matrix.tasks) != sorted(config.tasks):
        raise InvalidParameterError(
            f"The transfer matrix {bwt} has tasks {sorted(matrix.tasks)} but the "
            f"config defines {sorted(config.tasks)}; they must be the same."
        )
    return matrix


def _check_run_file(output_dir: Path, fingerprint: str, resume: bool) -> None:
    run_file = output_dir / RUN_FILE
    if not run_file.exists():
        return
    if not resume:
        raise InvalidParameterError(
            f"{output_dir} already holds a run; use another output_dir, delete it, or resume."
        )
    try:
        previous = json.loads(run_file.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError, AttributeError) as error:
        raise InvalidParameterError(f"{run_file}: unreadable run file ({error}).") from None
    if previous != fingerprint:
        raise InvalidParameterError(
            f"{output_dir} holds a run with different settings (fingerprint {previous}, this "
            f"config {fingerprint}); resuming it would mix two runs. Use another output_dir."
        )


def run_training(
    config: TrainConfig,
    *,
    resume: bool = True,
    on_stage_end: Callable[[StageRecord], None] | None = None,
    on_event: Callable[[str], None] | None = None,
) -> TrainResult:
    """Run (or resume) the scheduled GRPO training described by ``config``.

    Loads the tasks, builds or solves the schedule, then calls :func:`train_schedule`.

    Parameters
    ----------
    config : TrainConfig
        A validated config (:func:`~taskorder.trl.config.load_train_config`).
    resume : bool, default True
        Continue from the last finished stage in ``output_dir``; with ``False`` an
        existing run directory is an error.
    on_stage_end : callable, optional
        Called with each new :class:`StageRecord` (including the starting model's).
    on_event : callable, optional
        Called with one-line progress messages.

    Returns
    -------
    TrainResult

    Raises
    ------
    InvalidParameterError
        Bad data, schedule or settings, or an ``output_dir`` holding another run.
    """
    fingerprint = config.fingerprint()
    _check_run_file(Path(config.output_dir), fingerprint, resume)
    tasks = build_tasks(config)
    schedule, solved = build_schedule(config)
    from taskorder.trl.model_source import resolve_model

    return train_schedule(
        resolve_model(config.model),
        tasks,
        schedule,
        config.output_dir,
        grpo=config.grpo,
        policy_options=config.require_schedule().policy_options,
        evaluation=config.evaluation.for_run(config.seed),
        evaluate_at_start=config.evaluation.evaluate_at_start,
        seed=config.seed,
        dtype=config.dtype,
        resume=resume,
        fingerprint=fingerprint,
        solved=solved,
        on_stage_end=on_stage_end,
        on_event=on_event,
    )


def train_schedule(
    model_path: str | Path,
    tasks: Sequence[RLTask],
    schedule: Schedule,
    output_dir: str | Path,
    *,
    grpo: Mapping[str, Any] | None = None,
    policy_options: Mapping[str, Mapping[str, Any]] | None = None,
    evaluation: Any = None,
    evaluate_at_start: bool = True,
    seed: int = 0,
    dtype: str = "auto",
    resume: bool = True,
    fingerprint: str | None = None,
    solved: dict[str, Any] | None = None,
    on_stage_end: Callable[[StageRecord], None] | None = None,
    on_event: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train ``model_path`` on ``tasks`` through ``schedule`` with GRPO (resumable).

    One ``GRPOTrainer`` sees every task's rows; :func:`~taskorder.trl.apply.apply_schedule`
    orders them and a :class:`~taskorder.trl.callback.StageCallback` evaluates, logs
    and checkpoints each stage into ``output_dir``.

    Parameters
    ----------
    model_path : str or Path
        Starting model directory.
    tasks : sequence of RLTask
        Every task with training rows, held-out rows and reward.
    schedule : Schedule
        Stages in order (lengths in steps or passes).
    output_dir : str or Path
        Run directory (see the module docstring).
    grpo : mapping, optional
        Extra ``GRPOConfig`` fields.
    policy_options : mapping, optional
        Options of the online stages' policies, by policy name.
    evaluation : EvalConfig, optional
        Held-out evaluation settings.
    evaluate_at_start : bool
        Evaluate the starting model (baseline row, needed for FWT).
    seed : int
        Seed of data order, sampling and training.
    dtype : str
        ``auto``, ``float32`` or ``bfloat16``.
    resume : bool
        Continue from the last finished stage found in ``output_dir``.
    fingerprint : str, optional
        Identifies the settings; a resumed run must have the same (default: derived
        from the arguments).
    solved : dict, optional
        The solver's result, recorded in ``run.json``.
    on_stage_end, on_event : callable, optional
        Progress hooks (see :func:`run_training`).

    Returns
    -------
    TrainResult
    """
    require("trl", "trl")
    from taskorder.trl.apply import apply_schedule

    started = time.perf_counter()
    output_dir = Path(output_dir)
    evaluation = evaluation or EvalConfig(seed=seed)
    if fingerprint is None:
        fingerprint = _settings_fingerprint(
            model_path,
            tasks,
            schedule,
            grpo=grpo,
            policy_options=policy_options,
            evaluation=evaluation,
            seed=seed,
            dtype=dtype,
        )
    _check_run_file(output_dir, fingerprint, resume)
    rewards = {task.name: task.reward_function() for task in tasks}
    trainer = _grpo_trainer(
        model_path, tasks, rewards, output_dir, grpo=grpo, seed=seed, dtype=dtype
    )
    resolved = apply_schedule(trainer, schedule, policy_options=policy_options).schedule
    _write_run_file(output_dir, fingerprint, resolved, solved)
    results, resumed_from = _train_stages(
        trainer,
        resolved,
        {task.name: (task.eval_rows, rewards[task.name]) for task in tasks},
        output_dir,
        evaluation=evaluation,
        evaluate_at_start=evaluate_at_start,
        resume=resume,
        on_stage_end=on_stage_end,
        on_event=on_event,
    )
    return TrainResult(
        output_dir=str(output_dir),
        schedule=resolved,
        results=results,
        checkpoints=_stage_checkpoints(output_dir, resolved),
        resumed_from_stage=resumed_from,
        elapsed_s=time.perf_counter() - started,
    )


def _settings_fingerprint(
    model_path: str | Path,
    tasks: Sequence[RLTask],
    schedule: Schedule,
    *,
    grpo: Mapping[str, Any] | None,
    policy_options: Mapping[str, Mapping[str, Any]] | None,
    evaluation: Any,
    seed: int,
    dtype: str,
) -> str:
    """16 hex digits identifying the settings of :func:`train_schedule` (model, schedule,
    GRPO fields, policy options, evaluation, seed, dtype, each task's rows and reward)."""
    from taskorder.trl.data import rows_fingerprint

    payload = [
        str(model_path),
        schedule.to_dict(),
        dict(grpo or {}),
        {k: dict(v) for k, v in (policy_options or {}).items()},
        evaluation.model_dump(),
        seed,
        dtype,
        {t.name: [rows_fingerprint(t.train_rows), t.reward_name()] for t in tasks},
    ]
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _grpo_trainer(
    model_path: str | Path,
    tasks: Sequence[RLTask],
    rewards: Mapping[str, Any],
    output_dir: Path,
    *,
    grpo: Mapping[str, Any] | None,
    seed: int,
    dtype: str,
) -> Any:
    """One quiet ``GRPOTrainer`` over every task's rows, one reward function per task."""
    from trl import GRPOTrainer

    from taskorder.trl.data import multitask_dataset
    from taskorder.trl.grpo_args import load_policy, make_grpo_config, quiet_trainer
    from taskorder.trl.reward_specs import for_task

    model, tokenizer = load_policy(model_path, dtype=dtype)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[for_task(name, reward) for name, reward in rewards.items()],
        args=make_grpo_config(output_dir, grpo, seed=seed),
        train_dataset=multitask_dataset(tasks),
        processing_class=tokenizer,
    )
    quiet_trainer(trainer)
    return trainer


def _write_run_file(
    output_dir: Path, fingerprint: str, resolved: Schedule, solved: dict[str, Any] | None
) -> None:
    """Create ``output_dir`` and write ``run.json`` (fingerprint, resolved schedule, solver)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    run_info = {"fingerprint": fingerprint, "schedule": resolved.to_dict(), "solved": solved}
    (output_dir / RUN_FILE).write_text(json.dumps(run_info, indent=2) + "\n", encoding="utf-8")


def _train_stages(
    trainer: Any,
    resolved: Schedule,
    eval_tasks: Mapping[str, tuple[Any, Any]],
    output_dir: Path,
    *,
    evaluation: Any,
    evaluate_at_start: bool,
    resume: bool,
    on_stage_end: Callable[[StageRecord], None] | None,
    on_event: Callable[[str], None] | None,
) -> tuple[StageResults, int | None]:
    """Attach the :class:`~taskorder.trl.callback.StageCallback`, train the stages not yet
    finished in ``output_dir`` and save ``stages.json``.

    Returns the results and the last stage already finished when training started (None
    when it started from the beginning).
    """
    from taskorder.trl.callback import last_stage_checkpoint

    say = on_event or (lambda message: None)
    found = last_stage_checkpoint(output_dir, resolved) if resume else None
    results_path = output_dir / RESULTS_FILE
    callback = _stage_callback(
        resolved,
        eval_tasks,
        results_path,
        evaluation=evaluation,
        evaluate_at_start=evaluate_at_start,
        resuming=found is not None,
        on_stage_end=on_stage_end,
    ).attach(trainer)
    resumed_from = _train_unfinished_stages(trainer, resolved, found, say)
    results = callback.results
    results.save(results_path)
    return results, resumed_from


def _stage_callback(
    resolved: Schedule,
    eval_tasks: Mapping[str, tuple[Any, Any]],
    results_path: Path,
    *,
    evaluation: Any,
    evaluate_at_start: bool,
    resuming: bool,
    on_stage_end: Callable[[StageRecord], None] | None,
) -> Any:
    """The run's :class:`~taskorder.trl.callback.StageCallback` (not yet attached); when
    ``resuming``, it continues the records already in ``results_path``."""
    from taskorder.trl.callback import StageCallback, StageCallbackConfig

    previous = StageResults.load(results_path) if resuming and results_path.exists() else None
    return StageCallback(
        resolved,
        dict(eval_tasks),
        StageCallbackConfig(
            evaluation=evaluation,
            evaluate_at_start=evaluate_at_start,
            results_path=str(results_path),
        ),
        results=None
        if previous is None
        else StageResults(resolved, previous.tasks, previous.records),
        on_stage_end=on_stage_end,
    )


def _train_unfinished_stages(
    trainer: Any,
    resolved: Schedule,
    found: tuple[int, Path] | None,
    say: Callable[[str], None],
) -> int | None:
    """Train from the start or from ``found`` (last finished stage, its checkpoint), unless
    every stage is finished; return that stage's index (None from the start)."""
    resumed_from = None
    if found is not None:
        resumed_from, checkpoint = found
        say(
            f"resuming after stage {resumed_from} ({resolved[resumed_from].label}) from {checkpoint}"
        )
    else:
        say(f"training {len(resolved)} stages, {resolved.total_steps} steps: {resolved!r}")
    if found is None or resumed_from < len(resolved) - 1:
        trainer.train(resume_from_checkpoint=None if found is None else str(found[1]))
    return resumed_from


def _stage_checkpoints(output_dir: Path, resolved: Schedule) -> list[str]:
    """The checkpoint directories of the finished stages, in stage order."""
    return [
        str(output_dir / f"checkpoint-{end}")
        for end in resolved.boundaries
        if (output_dir / f"checkpoint-{end}").is_dir()
    ]


def _replan_inputs(config: TrainConfig) -> tuple[Any, int]:
    """The given matrix (or ``None``) and the stage length; refuses schedules it cannot re-plan."""
    spec = config.require_schedule()
    if spec.stages is not None or spec.steps_per_stage is None:
        raise InvalidParameterError(
            "--replan needs 'schedule.order' or 'schedule.bwt' with 'steps_per_stage' (one task "
            "per stage, a fixed number of steps). Got "
            + ("explicit 'stages'." if spec.stages is not None else "'passes_per_stage'.")
        )
    matrix = None
    if spec.bwt is not None:
        matrix = _config_matrix(config).replace(forward=None, forward_stderr=None)
    return matrix, spec.steps_per_stage


def replan_plan(config: TrainConfig, *, horizon: int = 3, design: str = "full") -> dict[str, Any]:
    """What ``train CONFIG --replan --dry-run`` prints: tasks, settings and the stage budget.

    Loads the tasks' rows (to count them) but no model.

    Parameters
    ----------
    config : TrainConfig
        A validated config whose schedule is ``schedule.order`` or ``schedule.bwt`` with
        ``steps_per_stage``.
    horizon : int, default 3
        As in :func:`taskorder.replan.replan_training`.
    design : {"full", "cheap"}
        As in :func:`taskorder.replan.replan_training`.

    Returns
    -------
    dict
        ``output_dir``, ``tasks`` (train and eval row counts), ``steps_per_stage``,
        ``horizon``, ``design``, ``first_decision``, ``training_stages``
        (:func:`taskorder.replan.replan_cost`) and ``grpo_steps``.

    Raises
    ------
    InvalidParameterError
        When the schedule cannot be re-planned (see :func:`replan_from_config`).
    """
    from taskorder.replan import replan_cost

    matrix, steps = _replan_inputs(config)
    tasks = build_tasks(config)
    stages = replan_cost(
        len(tasks), horizon=horizon, design=design, given_matrix=matrix is not None
    )
    return {
        "output_dir": str(Path(config.output_dir) / "replan"),
        "tasks": {
            t.name: {"train_rows": len(t.train_rows), "eval_rows": len(t.eval_rows)} for t in tasks
        },
        "steps_per_stage": steps,
        "horizon": horizon,
        "design": design,
        "first_decision": "solve the given matrix"
        if matrix is not None
        else "probe campaign at the starting model",
        "training_stages": stages,
        "grpo_steps": stages * steps,
    }


def replan_from_config(
    config: TrainConfig,
    *,
    horizon: int = 3,
    design: str = "full",
    entropy_floor: Mapping[str, float] | None = None,
    resume: bool = True,
    on_decision: Callable[[Any], None] | None = None,
) -> Any:
    """``taskorder train CONFIG --replan``: GRPO stage by stage, re-planning before each.

    Builds a :class:`~taskorder.trl.runner.TRLProbeRunner` from the config (model, tasks,
    ``grpo``, evaluation, dtype) and runs :func:`taskorder.replan.replan_training` in
    ``output_dir/replan``. Every stage and probe is ``schedule.steps_per_stage`` GRPO
    steps, started from the previous stage's saved model (a new trainer per stage: the
    optimizer state does not carry over, as in every probe). With ``schedule.bwt`` the
    first decision solves that matrix instead of probing the starting model. A rerun
    resumes; with ``resume=False`` an existing run directory is an error.

    Parameters
    ----------
    config : TrainConfig
        A validated config whose schedule is ``schedule.order`` or ``schedule.bwt`` with
        ``steps_per_stage``; its ``schedule.solver`` gives the objective and method of
        the probe decisions and ``seed`` the run's seed.
    horizon : int, default 3
        Enumerate every remaining order once this many tasks or fewer are left (as in
        :func:`taskorder.replan.replan_training`).
    design : {"full", "cheap"}
        Second-stage probes of a re-measurement (as in
        :func:`taskorder.replan.replan_training`).
    entropy_floor : mapping of str to float, optional
        ``{task: minimum final entropy}`` (nats), passed to
        :func:`taskorder.replan.replan_training`.
    resume : bool, default True
        Continue a run found in ``output_dir/replan``; with ``False`` one is an error.
    on_decision : callable, optional
        Called with each decision as it is taken.

    Returns
    -------
    ReplanResult

    Raises
    ------
    InvalidParameterError
        When the schedule is explicit stages or is measured in passes (re-planning
        needs one task per stage and a fixed step count), or ``resume=False`` finds a run.
    """
    from taskorder.replan import replan_training
    from taskorder.replan.state import RUN_FILE

    matrix, steps = _replan_inputs(config)
    output_dir = Path(config.output_dir)
    if not resume and (output_dir / "replan" / RUN_FILE).exists():
        raise InvalidParameterError(
            f"{output_dir / 'replan'} already holds a re-planning run; use another output_dir, "
            "delete it, or resume."
        )
    runner = build_probe_runner(config, work_dir=output_dir / "replan" / "work")
    return replan_training(
        runner,
        output_dir / "replan",
        tasks=list(config.tasks),
        steps=steps,
        horizon=horizon,
        design=design,
        matrix=matrix,
        entropy_floor=entropy_floor,
        objective=config.schedule.solver.objective,
        method=config.schedule.solver.method,
        seed=config.seed,
        on_decision=on_decision,
    )
