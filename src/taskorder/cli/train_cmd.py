"""``taskorder train CONFIG``: GRPO training through a schedule, resumable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from taskorder.cli.common import handle_errors, parse_floors, print_json, stdout
from taskorder.cli.replan_cmd import DesignOpt, FloorOpt, HorizonOpt, print_replan, say_decision

__all__ = ["register"]


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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of tables.")
    ] = False,
    replan: Annotated[
        bool,
        typer.Option(
            "--replan",
            help="Before every stage, re-measure transfer among the remaining tasks from the "
            "current model and re-solve their order (docs/replanning.md).",
        ),
    ] = False,
    horizon: HorizonOpt = 3,
    design: DesignOpt = "full",
    entropy_floor: FloorOpt = None,
) -> None:
    """Train a model with TRL GRPO, stage by stage, in the configured or solved order."""
    floors = parse_floors(entropy_floor)
    if replan:
        _replan(config, horizon, design, floors, resume, dry_run, as_json)
        return
    if floors:
        raise typer.BadParameter("applies with --replan only", param_hint="'--entropy-floor'")
    _train(config, resume, dry_run, as_json)


@handle_errors
def _replan(config_path: Path, horizon: int, design: str, floors: dict, resume: bool,
            dry_run: bool, as_json: bool) -> None:
    from taskorder.trl.config import load_train_config
    from taskorder.trl.pipeline import replan_from_config, replan_plan

    config = load_train_config(config_path)
    if dry_run:
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
        return
    result = replan_from_config(
        config, horizon=horizon, design=design, entropy_floor=floors or None, resume=resume,
        on_decision=None if as_json else say_decision,
    )
    print_replan(result, as_json)


def _progress(message: str) -> None:
    print(f"taskorder: {message}", file=sys.stderr, flush=True)


def _stage_line(record) -> None:
    cells = "  ".join(
        f"{task} {record.scores[task]:.3f}/{record.entropies[task]:.2f}" for task in record.scores
    )
    where = "start" if record.stage < 0 else f"stage {record.stage} ({record.label})"
    _progress(f"{where} done at step {record.step}: score/entropy {cells}")


@handle_errors
def _train(config_path: Path, resume: bool, dry_run: bool, as_json: bool) -> None:
    from taskorder.trl.config import load_train_config
    from taskorder.trl.pipeline import build_schedule, build_tasks

    config = load_train_config(config_path)
    if dry_run:
        tasks = build_tasks(config)
        schedule, solved = build_schedule(config)
        plan = {
            "output_dir": str(config.output_dir),
            "tasks": {
                t.name: {"train_rows": len(t.train_rows), "eval_rows": len(t.eval_rows)}
                for t in tasks
            },
            "schedule": schedule.to_dict(),
            "solved": solved,
        }
        if as_json:
            print_json(plan)
        else:
            stdout.print(f"schedule: {schedule!r}")
            for task in tasks:
                stdout.print(
                    f"{task.name}: {len(task.train_rows)} train rows, {len(task.eval_rows)} held out"
                )
        return

    from taskorder.trl.pipeline import run_training

    result = run_training(config, resume=resume, on_stage_end=_stage_line, on_event=_progress)
    if as_json:
        print_json(result.to_dict())
        return
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
