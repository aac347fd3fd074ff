"""Calibrated search from the command line: ``taskorder probe calibrated CONFIG --curricula K``.

Runs :func:`taskorder.calibrate.run_calibrated` on the runner of any campaign
configuration (the built-in learner, a python factory, or a real-model TRL config):
the cheap probe design into the config's ``output_dir`` (the same resumable store as
``taskorder probe CONFIG``), the other pairs imputed into a prior, then K complete
curricula chosen by Bayesian optimisation. Progress lines go to stderr; the
recommended order, its predicted mean final score ± sd and the curricula trained go to
stdout (a table, or one JSON object with ``--json``); ``calibrated.json`` is written to
the output folder. Rerunning the same command resumes: finished probes and trained
curricula are reused.

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
from typing import Annotated, Any

import typer
from rich.table import Table

from taskorder.cli.common import fail, handle_errors, print_json, stdout
from taskorder.cli.options import (
    AddressOpt,
    ConfigArg,
    ExecutorOpt,
    JsonOpt,
    WorkersOpt,
    executor_kind,
)

__all__ = ["print_calibrated", "register_probe"]


def print_calibrated(result: Any) -> None:
    """The recommendation, then a table of the curricula trained, then what was spent."""
    search = result.search
    stdout.print(f"recommended order: {' > '.join(search.order)}")
    stdout.print(
        f"  predicted mean final score {search.predicted:.4f} ± {search.predicted_sd:.4f} "
        "(posterior of the precedence model: probes as prior, curricula as data)"
    )
    table = Table(title="Curricula trained (chosen by expected improvement)")
    for column in ("#", "order", "mean final score", "± stderr", "seeds", "recorded"):
        table.add_column(column, justify="left" if column in ("order", "recorded") else "right")
    for k, row in enumerate(result.curricula, start=1):
        table.add_row(
            str(k),
            " > ".join(row["order"]),
            f"{row['outcome']:.4f}",
            f"{row['stderr']:.4f}" if len(row["per_seed"]) > 1 else "—",
            str(len(row["per_seed"])),
            "yes" if row["reused"] else "",
        )
    stdout.print(table)
    stdout.print(f"best curriculum measured: {' > '.join(search.best_observed)}")
    stages = result.stages
    stdout.print(
        f"training stages: {stages['probes']} probe + {stages['curricula']} curricula; "
        f"probes run now {result.campaign.ran}, reused {result.campaign.reused}"
    )
    stdout.print(f"wrote {result.path}")


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
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress lines on stderr.")]


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
        No progress lines on stderr.
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


def register_probe(probe_app: typer.Typer) -> None:
    """Add ``calibrated`` to the ``probe`` group."""
    probe_app.command("calibrated")(probe_calibrated)
