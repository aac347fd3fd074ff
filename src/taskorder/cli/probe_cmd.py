"""The ``taskorder probe`` group: ``run`` (default), ``status``, ``replan``, ``calibrated``.

``taskorder probe CONFIG`` is short for ``taskorder probe run CONFIG``: run or resume the
campaign of CONFIG and write the matrix. ``probe status CONFIG|DIR`` shows a campaign's
progress. ``probe replan CONFIG`` trains task by task, re-measuring and re-solving before
every stage (``train --replan`` does the same on a TRL config). ``probe calibrated CONFIG
--curricula K`` runs cheap probes, then K complete curricula chosen by calibrated search.

Examples
--------
>>> from typer.testing import CliRunner
>>> from taskorder.cli import app
>>> result = CliRunner().invoke(app, ["probe", "calibrated", "--help"])
>>> result.exit_code, "--curricula" in result.stdout
(0, True)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from taskorder.cli.campaign import (
    interrupted_message,
    run_campaign_from_config,
    sigterm_interrupts,
)
from taskorder.cli.common import fail, handle_errors, parse_floors, print_json, stderr, stdout
from taskorder.cli.options import (
    AddressOpt,
    ConfigArg,
    Design,
    DesignOpt,
    ExecutorOpt,
    FloorOpt,
    HorizonOpt,
    JsonOpt,
    QuietOpt,
    WorkersOpt,
    executor_kind,
)
from taskorder.cli.tables import print_calibrated, print_estimate, print_replan, say_decision

__all__ = ["register"]


class _DefaultRunGroup(TyperGroup):
    """A group whose first argument, when it is not a subcommand, goes to ``run``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


probe_app = typer.Typer(
    cls=_DefaultRunGroup,
    name="probe",
    help="Measure the transfer matrix with probe runs: 'taskorder probe CONFIG' runs or "
    "resumes a campaign; 'taskorder probe status CONFIG|DIR' shows its progress.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


# --------------------------------------------------------------------------- run
@probe_app.command("run")
@handle_errors
def probe_run(
    config: ConfigArg,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    address: AddressOpt = None,
    quiet: QuietOpt = False,
    budget: Annotated[
        int | None,
        typer.Option(
            "--budget",
            min=2,
            help="Active probing: at most this many second-stage probes, chosen by their value "
            "to the decision (see docs/active-probing.md).",
        ),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Probes per active round.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run or resume the probe campaign of CONFIG; write bwt.csv, matrix.json, ... to its output_dir.

    \f

    Parameters
    ----------
    config : Path
        Campaign configuration (.toml, .yaml or .json).
    workers : int, optional
        Worker processes (or Ray CPUs).
    executor : Executor, optional
        inprocess, process or ray (overrides the config).
    address : str, optional
        Ray cluster address.
    quiet : bool
        No progress output on stderr (the progress bar).
    budget : int, optional
        Active probing: at most this many second-stage probes, chosen by their value to the decision
        (see docs/active-probing.md).
    batch_size : int, optional
        Probes per active round.
    as_json : bool
        Print one JSON object instead of tables.
    """
    from taskorder.configs import load_config
    from taskorder.estimate.config import build_executor

    loaded = load_config(config)
    kind = executor_kind(executor, workers)
    chosen = build_executor(loaded, kind=kind, workers=workers, address=address)
    if budget is not None:
        summary = _active_campaign(loaded, config, chosen, budget, batch_size)
        if as_json:
            print_json(summary)
        else:
            _print_active(summary, loaded.output_path)
        return
    try:
        result, _ = run_campaign_from_config(loaded, chosen, quiet or as_json)
    except KeyboardInterrupt:
        raise fail(interrupted_message(loaded, config), 130) from None
    _report_campaign(result, loaded.impute, as_json)


def _active_campaign(config, config_path, executor, budget, batch_size) -> dict[str, Any]:
    """Run active probing; write matrix.json, bwt.csv and active.json; return the summary."""
    import json

    from taskorder.active import active_campaign
    from taskorder.configs import build_runner
    from taskorder.estimate.config import build_plan
    from taskorder.io import write_matrix

    runner = build_runner(config)
    plan = build_plan(config, runner)
    try:
        with sigterm_interrupts():
            result = active_campaign(
                runner,
                config.output_path,
                budget=budget,
                batch_size=batch_size,
                steps=plan.steps,
                repeats=plan.repeats,
                seed=config.plan.seed,
                executor=executor,
            )
    except KeyboardInterrupt:
        raise fail(interrupted_message(config, config_path), 130) from None
    out = config.output_path
    write_matrix(result.matrix, out / "matrix.json")
    write_matrix(result.matrix, out / "bwt.csv")
    summary = {
        "order": list(result.order),
        "p_optimal": result.p_optimal,
        "probes": result.n_probes,
        "full_design": len(runner.tasks) * (len(runner.tasks) - 1),
        "stopped_because": result.stopped_because,
        "measured": [[runner.tasks[i], runner.tasks[j]] for i, j in result.measured],
        "history": result.history,
    }
    (out / "active.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _print_active(summary: dict[str, Any], out: Path) -> None:
    """What active probing measured and chose, for people."""
    stdout.print(
        f"active probing: {summary['probes']} of {summary['full_design']} second-stage probes; "
        f"stopped: {summary['stopped_because']}"
    )
    stdout.print(
        f"best order: {' > '.join(summary['order'])} "
        f"(optimal in {summary['p_optimal']:.0%} of posterior draws)"
    )
    stdout.print(
        f"wrote {out / 'matrix.json'} (unmeasured entries imputed and flagged), {out / 'active.json'}"
    )


def _report_campaign(result, impute: str, as_json: bool) -> None:
    """Write a finished campaign's estimate (bwt.csv, matrix.json, ...) and print it."""
    from taskorder.estimate.outputs import final_matrix, write_estimate

    estimate = result.estimate
    extra = {
        "campaign": {
            "ran": result.ran,
            "reused": result.reused,
            "elapsed_s": result.elapsed_s,
            "executor": result.executor,
        }
    }
    paths = write_estimate(estimate, result.directory, impute_method=impute, extra=extra)
    matrix = final_matrix(estimate, impute)
    if as_json:
        print_json({**estimate.to_dict(), **extra, "files": {k: str(v) for k, v in paths.items()}})
        return
    print_estimate(estimate, matrix)
    stdout.print(
        f"probes run now: {result.ran}, reused from the store: {result.reused}, "
        f"{result.elapsed_s:.1f} s ({result.executor})"
    )
    if matrix.missing():
        stderr.print(
            f"warning: {len(matrix.missing())} pair(s) not measured (missing, not zero); set "
            "impute = 'row_col' in the config to fill them for solving."
        )
    stdout.print(
        f"wrote {paths['bwt']} and {paths['matrix']} (solve with: taskorder solve {paths['matrix']})"
    )


# --------------------------------------------------------------------------- status
@probe_app.command("status")
@handle_errors
def probe_status(
    target: Annotated[Path, typer.Argument(help="Campaign configuration or its output folder.")],
    as_json: JsonOpt = False,
) -> None:
    """Show the progress of a campaign: probes per status, attempts, timings, failures."""
    from taskorder.configs import campaign_folder
    from taskorder.estimate.status import campaign_status

    status = campaign_status(campaign_folder(target))
    if as_json:
        print_json(status)
        return
    table = Table(title=f"Probe campaign in {status['directory']}")
    for name in ("kind", "done", "running", "pending", "failed", "mean s/probe"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    for kind, row in status["by_kind"].items():
        mean = row["mean_seconds"]
        table.add_row(
            kind,
            *(str(row[s]) for s in ("done", "running", "pending", "failed")),
            "—" if mean is None else f"{mean:.3g}",
        )
    stdout.print(table)
    stdout.print(
        f"{status['done']}/{status['total']} probes done ({status['percent']:.0f} %); "
        f"attempts {status['attempts']}, results recorded {status['runs']}; "
        f"probes started more than once: {status['restarted']}; "
        f"estimated remaining serial time: {status['remaining_serial_s']:.3g} s"
    )
    holder = status["coordinator"]
    if holder is not None:
        checked = "" if holder.get("verified", True) else " (on another host: not checked)"
        stdout.print(f"running: process {holder.get('pid')} on host {holder.get('host')}{checked}")
    elif status["done"] < status["total"]:
        stdout.print("not running; rerun 'taskorder probe CONFIG' to resume")
    if status["interrupted"]:
        stdout.print(
            f"{status['interrupted']} probe(s) were interrupted (counted as pending): the next "
            "run starts them again"
        )
    for failure in status["failures"][:5]:
        stdout.print(f"failed: {failure['key']}: {failure['error']}")


# --------------------------------------------------------------------------- replan
@probe_app.command("replan")
@handle_errors
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
    from taskorder.configs import build_runner, load_config
    from taskorder.estimate.config import build_executor, build_plan
    from taskorder.replan import replan_training

    floors = parse_floors(entropy_floor)
    kind = executor_kind(executor, workers)
    loaded = load_config(config)
    chosen = build_executor(loaded, kind=kind, workers=workers)
    runner = build_runner(loaded)
    plan = build_plan(loaded, runner)
    result = replan_training(
        runner,
        out or loaded.output_path / "replan",
        tasks=plan.tasks,
        steps=plan.steps,
        horizon=horizon,
        design=design.value,
        repeats=plan.repeats,
        entropy_floor=floors or None,
        seed=loaded.plan.seed,
        executor=chosen,
        on_decision=None if as_json else say_decision,
    )
    print_replan(result, as_json)


# --------------------------------------------------------------------------- calibrated
CurriculaOpt = Annotated[
    int,
    typer.Option(
        "--curricula",
        min=1,
        max=1000,
        help="Complete curricula to train after the cheap probes (the search's budget).",
    ),
]

SeedsOpt = Annotated[
    int,
    typer.Option(
        "--seeds",
        min=1,
        max=1000,
        help="Seeds per curriculum (its outcome is their mean; 2+ give a standard error).",
    ),
]

CandidatesOpt = Annotated[
    int, typer.Option("--candidates", min=1, max=10_000, help="Thompson samples per search step.")
]


@probe_app.command("calibrated")
@handle_errors
def probe_calibrated(
    config: ConfigArg,
    curricula: CurriculaOpt,
    seeds: SeedsOpt = 1,
    candidates: CandidatesOpt = 16,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    address: AddressOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Cheap probes (3n stages) + K curricula chosen by calibrated search; recommend an order.

    The probes use CONFIG's plan (tasks, repeats, steps, seed) with the cheap pair
    design in place of plan.pairs; pairs it leaves out are imputed by the config's
    impute method (row_col when it is 'none'). Writes calibrated.json and
    calibrated_curricula.jsonl to OUTPUT_DIR; rerunning resumes. See docs/calibrated.md.

    \f

    Parameters
    ----------
    config : Path
        Campaign configuration (.toml, .yaml or .json): built-in, python or real-model.
    curricula : int
        Complete curricula to train after the cheap probes.
    seeds : int
        Seeds per curriculum.
    candidates : int
        Thompson samples per search step.
    workers : int, optional
        Worker processes (or Ray CPUs).
    executor : Executor, optional
        inprocess, process or ray (overrides the config).
    address : str, optional
        Ray cluster address.
    quiet : bool
        No progress output on stderr (the progress lines).
    as_json : bool
        Print one JSON object instead of tables.
    """
    from taskorder.calibrate import run_calibrated
    from taskorder.configs import build_runner, load_config
    from taskorder.estimate.config import build_executor, build_plan

    kind = executor_kind(executor, workers)
    loaded = load_config(config)
    chosen = build_executor(loaded, kind=kind, workers=workers, address=address)
    runner = build_runner(loaded)
    plan = build_plan(loaded, runner)
    try:
        result = run_calibrated(
            runner,
            loaded.output_path,
            n_curricula=curricula,
            steps=plan.steps,
            tasks=plan.tasks,
            repeats=plan.repeats,
            seed=loaded.plan.seed,
            curriculum_seeds=seeds,
            impute_method="row_col" if loaded.impute == "none" else loaded.impute,
            n_candidates=candidates,
            executor=chosen,
            on_event=None if quiet or as_json else _say,
        )
    except KeyboardInterrupt:
        raise fail(
            f"interrupted. Finished probes and curricula are recorded in {loaded.output_path}; "
            f"rerun 'taskorder probe calibrated {config}' to resume.",
            130,
        ) from None
    if as_json:
        print_json({**result.to_dict(), "file": str(result.path)})
        return
    print_calibrated(result)


def _say(message: str) -> None:
    print(f"taskorder: {message}", file=sys.stderr, flush=True)


def register(app: typer.Typer) -> None:
    """Add the ``probe`` group to ``app``."""
    app.add_typer(probe_app, name="probe")
