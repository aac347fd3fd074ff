"""``taskorder train CONFIG``: GRPO training through a schedule, resumable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from taskorder.cli.common import handle_errors, parse_floors, print_json, stdout
from taskorder.cli.options import Design, DesignOpt, FloorOpt, HorizonOpt, JsonOpt
from taskorder.cli.tables import print_replan, say_decision
from taskorder.exceptions import InvalidParameterError

__all__ = ["register"]


@handle_errors
def train(
    config: Annotated[
        Path, typer.Argument(help="Run config (.yaml, .yml or .toml); see docs/trl.md.")
    ],
    resume: Annotated[
        bool,
        typer.Option(
            "--resume/--no-resume",
            help="Continue from the last finished stage in output_dir (default), or refuse an existing run.",
        ),
    ] = True,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Validate the config, load data, print the schedule; no training."
        ),
    ] = False,
    as_json: JsonOpt = False,
    replan: Annotated[
        bool,
        typer.Option(
            "--replan",
            help="Before every stage, re-measure transfer among the remaining tasks from the "
            "current model and re-solve their order (docs/replanning.md).",
        ),
    ] = False,
    horizon: HorizonOpt = 3,
    design: DesignOpt = Design.full,
    entropy_floor: FloorOpt = None,
) -> None:
    """Train a model with TRL GRPO, stage by stage, in the configured or solved order.

    \f

    Parameters
    ----------
    config : Path
        Run config (``.yaml``, ``.yml`` or ``.toml``).
    resume : bool
        Continue from the last finished stage in ``output_dir``; False refuses an existing run.
    dry_run : bool
        Validate the config, load data and print the schedule without training.
    as_json : bool
        Print one JSON object instead of tables.
    replan : bool
        Re-measure and re-solve the remaining order before every stage.
    horizon : int
        With ``replan``: enumerate every remaining order once this many tasks are left.
    design : Design
        With ``replan``: second-stage probe design.
    entropy_floor : list of str, optional
        ``TASK=NATS`` entropy floors (``--replan`` only).
    """
    from taskorder.trl.config import load_train_config

    floors = parse_floors(entropy_floor)
    if floors and not replan:
        raise typer.BadParameter("applies with --replan only", param_hint="'--entropy-floor'")
    loaded = load_train_config(config)
    if dry_run:
        if replan:
            _print_replan_dry_run(loaded, horizon, design.value, as_json)
        else:
            _print_dry_run(loaded, as_json)
        return
    if not replan:
        _train_schedule(loaded, resume, as_json)
        return

    from taskorder.trl.pipeline import replan_from_config

    _quiet_libraries()
    result = replan_from_config(
        loaded,
        horizon=horizon,
        design=design.value,
        entropy_floor=floors or None,
        resume=resume,
        on_decision=None if as_json else say_decision,
    )
    print_replan(result, as_json)


def _train_schedule(config, resume: bool, as_json: bool) -> None:
    """Train through the config's (or the solved) schedule, progress on stderr; print it."""
    from taskorder.trl.pipeline import run_training
    from taskorder.trl.progress import report_steps

    check_settings(config)
    _quiet_libraries()
    with report_steps(_progress, min_interval_s=STEP_LINE_EVERY_S):
        result = run_training(config, resume=resume, on_stage_end=_stage_line, on_event=_progress)
    if as_json:
        print_json(result.to_dict())
        return
    _print_training(result)


#: Least seconds between two per-step progress lines (stage ends are always shown).
STEP_LINE_EVERY_S = 10.0

#: FutureWarnings TRL 1.16 triggers on every generation by calling transformers 5's
#: deprecated ``gradient_checkpointing*`` model methods (trl.models.utils.
#: disable_gradient_checkpointing); nothing in the user's settings causes them. The
#: GRPOConfig field's own warning is avoided at its source (grpo_args passes
#: ``activation_checkpointing``).
_TRL_DEPRECATION_MESSAGE = (
    r"`(is_gradient_checkpointing|gradient_checkpointing_enable|gradient_checkpointing_disable)`"
    r" is deprecated"
)


def _quiet_libraries() -> None:
    """No library progress bars (weights loading, shard writing) and no TRL-internal deprecations."""
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=_TRL_DEPRECATION_MESSAGE, category=FutureWarning)


def _progress(message: str) -> None:
    print(f"taskorder: {message}", file=sys.stderr, flush=True)


def _stage_line(record) -> None:
    cells = "  ".join(
        f"{task} {record.scores[task]:.3f}/{record.entropies[task]:.2f}" for task in record.scores
    )
    where = "start" if record.stage < 0 else f"stage {record.stage} ({record.label})"
    _progress(f"{where} done at step {record.step}: score/entropy {cells}")


def check_settings(config):
    """Refuse a missing model folder, bad GRPO settings or bad evaluation settings.

    Cheap (no data, no model): run before every training. ``num_generations`` must
    divide the generation batch and ``temperature`` be positive, as the trainer will
    see them. Returns the run's ``GRPOConfig``.

    Raises
    ------
    InvalidParameterError
        The first problem found, naming the setting.
    """
    from taskorder.trl.grpo_args import check_grpo_run, check_model_dir

    # A folder is checked here; a GGUF file, demo name or Hub id is resolved (converted,
    # installed or downloaded) only when training starts.
    model = config.model
    if getattr(model, "kind", "path") == "path":
        check_model_dir(getattr(model, "path", model))
    args = check_grpo_run(config.grpo, config.output_dir, seed=config.seed)
    return args


def check_run(config, tasks, schedule):
    """Refuse, before any model is loaded, what training would refuse only once it starts.

    :func:`check_settings`, then every task's reward and that every stage is a whole
    number of generations. Returns the schedule resolved against the batch geometry.

    Parameters
    ----------
    config : TrainConfig
        The loaded run config.
    tasks : list of RLTask
        The config's tasks with their rows (:func:`taskorder.trl.pipeline.build_tasks`).
    schedule : Schedule
        The unresolved schedule (:func:`taskorder.trl.pipeline.build_schedule`).

    Returns
    -------
    Schedule
        ``schedule`` resolved to optimizer steps per stage.

    Raises
    ------
    InvalidParameterError
        The first problem found, naming the setting.
    """
    from taskorder.trl.sampler import BatchGeometry

    args = check_settings(config)
    for task in tasks:
        try:
            task.reward_function()
        except InvalidParameterError as error:
            raise InvalidParameterError(f"tasks.{task.name}.reward: {error}") from None
    geometry = BatchGeometry.from_config(args)
    sizes = {task.name: len(task.train_rows) for task in tasks}
    return schedule.resolve(sizes, geometry.prompts_per_step, step_multiple=geometry.step_multiple)


def _print_replan_dry_run(config, horizon: int, design: str, as_json: bool) -> None:
    """What ``train --replan`` would do: tasks, stage length, first decision, budget."""
    from taskorder.trl.pipeline import replan_plan

    plan = replan_plan(config, horizon=horizon, design=design)
    if as_json:
        print_json(plan)
        return
    stdout.print(
        f"re-planning {len(plan['tasks'])} tasks, {plan['steps_per_stage']} GRPO steps per "
        f"stage, horizon {horizon}, {design} design; first decision: {plan['first_decision']}"
    )
    stdout.print(
        f"budget: {plan['training_stages']} training stages ({plan['grpo_steps']} GRPO steps) "
        f"into {plan['output_dir']}"
    )


def _print_dry_run(config, as_json: bool) -> None:
    """Load the data, resolve the schedule and print the plan; nothing is trained."""
    from taskorder.trl.pipeline import build_schedule, build_tasks

    tasks = build_tasks(config)
    schedule, solved = build_schedule(config)
    resolved = check_run(config, tasks, schedule)
    plan = {
        "output_dir": str(config.output_dir),
        "tasks": {
            t.name: {"train_rows": len(t.train_rows), "eval_rows": len(t.eval_rows)} for t in tasks
        },
        "schedule": schedule.to_dict(),
        "steps": list(resolved.steps),
        "solved": solved,
    }
    if as_json:
        print_json(plan)
        return
    stdout.print(f"schedule: {schedule!r}")
    stdout.print(f"optimizer steps per stage: {list(resolved.steps)}")
    for task in tasks:
        stdout.print(
            f"{task.name}: {len(task.train_rows)} train rows, {len(task.eval_rows)} held out"
        )


def _print_training(result) -> None:
    """The per-stage score / entropy table, GEM metrics and checkpoints of a finished run."""
    results = result.results
    table = Table(title=f"Per-stage score / entropy ({result.output_dir})")
    table.add_column("stage")
    table.add_column("step", justify="right")
    for task in results.tasks:
        table.add_column(task, justify="right")
    for record in results.records:
        name = "start" if record.stage < 0 else f"{record.stage}: {record.label}"
        table.add_row(
            name,
            str(record.step),
            *(f"{record.scores[t]:.3f} / {record.entropies[t]:.2f}" for t in results.tasks),
        )
    stdout.print(table)
    data = results.to_dict()
    if "gem" in data:
        gem = data["gem"]
        fwt = "n/a" if gem["fwt"] is None else f"{gem['fwt']:+.4f}"
        stdout.print(f"ACC {gem['acc']:.4f}   BWT {gem['bwt']:+.4f}   FWT {fwt}")
    resumed = (
        ""
        if result.resumed_from_stage is None
        else f", resumed after stage {result.resumed_from_stage}"
    )
    stdout.print(f"{len(result.checkpoints)} stage checkpoints, {result.elapsed_s:.1f} s{resumed}")


def register(app: typer.Typer) -> None:
    app.command()(train)
