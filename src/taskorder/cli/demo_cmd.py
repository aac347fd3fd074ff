"""``taskorder demo``: probe -> solve -> validate -> re-plan on the built-in learner."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from taskorder.cli.campaign import run_campaign_from_config
from taskorder.cli.common import handle_errors, print_json, stdout
from taskorder.cli.options import JsonOpt, LearnerMode, ModeOpt, WorkersOpt
from taskorder.cli.tables import print_estimate, print_validation, print_verdict

__all__ = ["register"]


@handle_errors
def demo(
    n_open: Annotated[
        int, typer.Option("--n-open", min=1, max=4, help="Open-ended tasks (plus 2 structured).")
    ] = 2,
    mode: ModeOpt = LearnerMode.exact,
    seeds: Annotated[int, typer.Option(min=2, help="Validation seeds per order.")] = 4,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: a temporary one).")
    ] = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Probe -> solve -> validate on the built-in learner, end to end, and print the tables.

    \f

    Parameters
    ----------
    n_open : int
        Open-ended tasks (plus 2 structured).
    mode : LearnerMode
        Learner training mode.
    seeds : int
        Validation seeds per order.
    out : Path, optional
        Output folder (default: a temporary one).
    workers : int, optional
        Worker processes (or Ray CPUs).
    as_json : bool
        Print one JSON object instead of tables.
    """
    import json
    import tempfile

    from taskorder.estimate.config import build_executor
    from taskorder.estimate.outputs import write_estimate
    from taskorder.estimate.validate import validate as run_validate
    from taskorder.recommend import recommend

    folder = out or Path(tempfile.mkdtemp(prefix="taskorder-demo-"))
    config = _demo_config(folder, n_open, mode.value, workers)
    executor = build_executor(config)
    result, runner = run_campaign_from_config(config, executor, as_json)
    write_estimate(result.estimate, result.directory)
    matrix = result.estimate.matrix
    recommendation = recommend(matrix)
    report = run_validate(
        runner,
        matrix,
        seeds=seeds,
        steps=runner.config.stage_steps,
        all_orders=True,
        executor=build_executor(config),
    )
    (Path(folder) / "validate.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    replanned = _demo_replan(runner, report, Path(folder) / "replan")
    if as_json:
        print_json(
            {
                "probe": result.estimate.to_dict(),
                "recommendation": recommendation.to_dict(),
                "validate": report.to_dict(),
                "replan": replanned,
                "directory": str(folder),
            }
        )
        return
    stdout.print(f"built-in learner, mode {mode.value}: {runner.tasks}; outputs in {folder}")
    stdout.print(
        f"re-planned training (the recommended route for training): "
        f"{' > '.join(replanned['order'])}, realised percentile {replanned['percentile']:.0f} "
        f"(rank {replanned['rank']} of {report.n_orders}; a random order scores 50), "
        f"{replanned['stages']} training stages against {replanned['fixed_stages']} for "
        "probing and then training the fixed order"
    )
    print_verdict(report.to_dict())
    print_estimate(result.estimate, matrix)
    print_validation(report, verdict=False)
    stdout.print(f"probe {result.elapsed_s:.1f} s, validation {report.elapsed_s:.1f} s")


def _demo_config(folder: Path, n_open: int, mode: str, workers: int | None) -> Any:
    """The probe config of the demo: the built-in learner (2 structured tasks), 2 repeats."""
    from taskorder.configs import load_config

    return load_config(
        {
            "output_dir": str(Path(folder).resolve()),
            "runner": {"learner": {"n_structured": 2, "n_open": n_open, "mode": mode}},
            "plan": {"repeats": 2},
            "executor": {
                "kind": "process" if workers and workers > 1 else "inprocess",
                "workers": workers,
            },
        }
    )


def _demo_replan(runner: Any, report: Any, folder: Path) -> dict[str, Any]:
    """Re-plan on the demo's learner; rank the order it trained among the validated ones.

    The trained order is scored by the validation's own runs of that order (same seeds
    as every other order), as ``benchmarks/evidence.py`` scores it.
    """
    from taskorder.percentile import order_percentile, rank_of
    from taskorder.replan import replan_training

    stages = 0

    class Counting:
        tasks = runner.tasks

        def __getattr__(self, name: str) -> Any:
            return getattr(runner, name)

        def train(self, state: Any, task: Any, *, steps: int, seed: int) -> Any:
            nonlocal stages
            stages += 1
            return runner.train(state, task, steps=steps, seed=seed)

    result = replan_training(Counting(), folder, steps=runner.config.stage_steps, seed=0)
    data = report.to_dict()
    observed = {tuple(row["order"]): row["observed_mean"] for row in data["orders"]}
    values = list(observed.values())
    mine = observed[tuple(result.order)]
    n = len(runner.tasks)
    return {
        "order": list(result.order),
        "observed_mean": mine,
        "rank": rank_of(values, mine),
        "percentile": order_percentile(values, mine),
        "stages": stages,
        "fixed_stages": 2 * n * n + n,  # probes (2 repeats of n + n(n-1)) + the n trained
        "directory": str(folder),
    }


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command()(demo)
