"""``taskorder validate CONFIG``: train complete curricula, compare predicted with observed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taskorder.cli.campaign import progress_bar
from taskorder.cli.common import fail, handle_errors, print_json, stdout
from taskorder.cli.options import (
    AddressOpt,
    ConfigArg,
    ExecutorOpt,
    JsonOpt,
    WorkersOpt,
    executor_kind,
)
from taskorder.cli.tables import print_validation

__all__ = ["register"]


@handle_errors
def validate(
    config: ConfigArg,
    seeds: Annotated[int | None, typer.Option(min=1, help="Seeds per order.")] = None,
    n_random: Annotated[
        int | None, typer.Option("--n-random", min=0, help="Random orders.")
    ] = None,
    all_orders: Annotated[
        bool | None,
        typer.Option("--all-orders/--no-all-orders", help="Run all n! orders (n <= 6)."),
    ] = None,
    matrix_file: Annotated[
        Path | None, typer.Option("--matrix", help="Matrix to validate (default: the campaign's).")
    ] = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    address: AddressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train complete curricula and compare predicted with observed outcomes (needs a finished probe).

    \f

    Parameters
    ----------
    config : Path
        Campaign configuration (.toml, .yaml or .json).
    seeds : int, optional
        Seeds per order.
    n_random : int, optional
        Random orders.
    all_orders : bool, optional
        Run all n! orders (n <= 6).
    matrix_file : Path, optional
        Matrix to validate (default: the campaign's).
    workers : int, optional
        Worker processes (or Ray CPUs).
    executor : Executor, optional
        inprocess, process or ray (overrides the config).
    address : str, optional
        Ray cluster address.
    as_json : bool
        Print one JSON object instead of tables.
    """
    import json

    from taskorder.configs import build_runner, load_config
    from taskorder.estimate.config import build_executor, build_plan
    from taskorder.estimate.validate import validate as run_validate

    kind = executor_kind(executor, workers)
    overrides = {"seeds": seeds, "n_random": n_random, "all_orders": all_orders}
    loaded = load_config(config)
    runner = build_runner(loaded)
    plan = build_plan(loaded, runner)
    matrix = _matrix(loaded, config, plan, matrix_file)
    settings = loaded.validate_.model_copy(
        update={k: v for k, v in overrides.items() if v is not None}
    )
    with progress_bar(not as_json, "validating (seeds)") as bar:
        task_id = bar.add_task("validate", total=settings.seeds, key="")
        report = run_validate(
            runner,
            matrix,
            seeds=settings.seeds,
            steps=plan.steps,
            n_random=settings.n_random,
            all_orders=settings.all_orders,
            models=settings.models,
            objective=settings.objective,
            seed=settings.seed,
            executor=build_executor(loaded, kind=kind, workers=workers, address=address),
            progress=lambda done, total: bar.update(task_id, completed=done),
        )
    path = loaded.output_path / "validate.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    if as_json:
        print_json(report.to_dict())
        return
    print_validation(report)
    stdout.print(f"wrote {path}")


def _matrix(config, config_path: Path, plan, matrix_file: Path | None):
    """The matrix to validate: ``--matrix``, or the finished campaign's (imputed as configured)."""
    from taskorder.estimate.campaign import load_estimate
    from taskorder.estimate.outputs import final_matrix
    from taskorder.io import read_matrix

    if matrix_file is not None:
        return read_matrix(matrix_file)
    estimate = load_estimate(config.output_path, plan)
    matrix = final_matrix(estimate, config.impute)
    if matrix.missing():
        raise fail(
            f"the campaign in {config.output_path} is not finished or has unmeasured pairs "
            f"({len(matrix.missing())} missing); run 'taskorder probe {config_path}' first "
            "or set impute in the config"
        )
    return matrix


def register(app: typer.Typer) -> None:
    """Add ``validate`` to ``app``."""
    app.command()(validate)
