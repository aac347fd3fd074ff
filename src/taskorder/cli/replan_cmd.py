"""Re-planning from the command line: ``taskorder probe replan CONFIG`` and ``train --replan``.

Both print one line per decision on stderr as it is taken, then a table of decisions
and the final scores (or one JSON object with ``--json``), and write ``replan.json`` into
the run directory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from taskorder.cli.common import handle_errors, parse_floors, print_json, stdout
from taskorder.cli.options import (
    ConfigArg,
    Design,
    DesignOpt,
    ExecutorOpt,
    FloorOpt,
    HorizonOpt,
    JsonOpt,
    WorkersOpt,
    executor_kind,
)

__all__ = [
    "print_replan",
    "register_probe",
    "say_decision",
]


def say_decision(decision: Any) -> None:
    """One stderr line per decision (progress while training runs)."""
    mark = " (changed)" if decision.changed else ""
    print(
        f"taskorder: stage {decision.stage}: {decision.how}{mark}: train {decision.plan[0]}; "
        f"{decision.reason}",
        file=sys.stderr,
        flush=True,
    )


def print_replan(result: Any, as_json: bool) -> None:
    """Write ``replan.json`` into the run's directory and print the decisions (table or JSON)."""
    data = result.to_dict()
    out = Path(result.directory)
    (out / "replan.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if as_json:
        print_json(data)
        return
    table = Table(title="Re-planning decisions")
    for column in ("stage", "how", "trained", "plan (remaining tasks)", "changed", "probes"):
        table.add_column(column)
    for d in result.decisions:
        table.add_row(
            str(d.stage),
            d.how,
            d.plan[0],
            " > ".join(d.plan),
            "yes" if d.changed else "",
            str(d.probe_stages),
        )
    stdout.print(table)
    stdout.print(f"initial plan: {' > '.join(result.initial_plan)}")
    stdout.print(f"trained:      {' > '.join(result.order)}")
    finals = "  ".join(f"{task} {score:.3f}" for task, score in result.final.items())
    stdout.print(f"final scores: {finals}  (mean {data['mean_final']:.4f})")
    entropies = "  ".join(
        f"{task} {value:.3f}" for task, value in zip(result.tasks, result.entropy[-1])
    )
    stdout.print(f"final entropy: {entropies}  (nats)")
    stdout.print(f"trained model: {result.final_path}")
    stdout.print(
        f"{result.probe_stages} probe stages, {result.elapsed_s:.1f} s; wrote {out / 'replan.json'}"
    )


def probe_replan(
    config: ConfigArg,
    horizon: HorizonOpt = 3,
    design: DesignOpt = Design.full,
    entropy_floor: FloorOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Run directory (default: OUTPUT_DIR/replan of the config)."),
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train CONFIG's runner task by task, re-measuring and re-solving before every stage.

    Everything goes to the run directory (default OUTPUT_DIR/replan): probe campaigns
    (stage-<k>/, resumable), decisions.json, replan.json and the trained model
    (final.state). Rerunning the same command resumes. See docs/replanning.md.

    \f

    Parameters
    ----------
    config : Path
        Campaign configuration (.toml, .yaml or .json).
    horizon : int
        Enumerate every remaining order once this many tasks are left (1: never).
    design : Design
        Second-stage probes of each re-measurement: 'full' (all pairs) or 'cheap' (2 per task, rest
        imputed).
    entropy_floor : list of str, optional
        TASK=VALUE: the task's final entropy (nats) must not end below VALUE; repeatable. Enforced
        on measured entropies for the enumerated last stages.
    out : Path, optional
        Run directory (default: OUTPUT_DIR/replan of the config).
    executor : Executor, optional
        inprocess, process or ray (overrides the config).
    workers : int, optional
        Worker processes (or Ray CPUs).
    as_json : bool
        Print one JSON object instead of tables.
    """
    floors = parse_floors(entropy_floor)
    kind = executor_kind(executor, workers)
    _probe_replan(config, horizon, design.value, floors, out, kind, workers, as_json)


@handle_errors
def _probe_replan(config_path, horizon, design, floors, out, kind, workers, as_json) -> None:
    from taskorder.configs import build_runner, load_config
    from taskorder.estimate.config import build_executor, build_plan
    from taskorder.replan import replan_training

    config = load_config(config_path)
    chosen = build_executor(config, kind=kind, workers=workers)
    runner = build_runner(config)
    plan = build_plan(config, runner)
    result = replan_training(
        runner,
        out or config.output_path / "replan",
        tasks=plan.tasks,
        steps=plan.steps,
        horizon=horizon,
        design=design,
        repeats=plan.repeats,
        entropy_floor=floors or None,
        seed=config.plan.seed,
        executor=chosen,
        on_decision=None if as_json else say_decision,
    )
    print_replan(result, as_json)


def register_probe(probe_app: typer.Typer) -> None:
    """Add ``replan`` to the ``probe`` group."""
    probe_app.command("replan")(probe_replan)
