"""``taskorder compare [CONFIG]``: curriculum vs joint training vs merging at equal steps.

Without CONFIG it runs on the built-in learner (``--n-structured``, ``--n-open``,
``--mode``, ``--world-seed``). With CONFIG (any probe config: built-in, python factory,
or a real-model config whose runner is TRL) it runs on that runner; the solver's and
the rank rule's orders come from the config's probe campaign (measured first with
``taskorder probe run CONFIG``, or probed here into the same folder, resumable).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from taskorder.cli.common import handle_errors, print_json, stderr, stdout
from taskorder.cli.options import CompareMethod, JsonOpt, LearnerMode, ModeOpt

__all__ = ["register"]


@handle_errors
def compare(
    config: Annotated[
        Path | None,
        typer.Argument(help="Probe or real-model config; default: the built-in learner."),
    ] = None,
    methods: Annotated[
        list[CompareMethod] | None,
        typer.Option("--method", help="A method to run (repeat); default: all of them."),
    ] = None,
    n_structured: Annotated[int, typer.Option("--n-structured", min=1, max=4)] = 2,
    n_open: Annotated[int, typer.Option("--n-open", min=1, max=4)] = 2,
    mode: ModeOpt = LearnerMode.exact,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per method.")] = 3,
    n_random: Annotated[int, typer.Option("--n-random", min=0, help="Random orders.")] = 3,
    world_seed: Annotated[int, typer.Option("--world-seed", min=0, help="Learner world seed.")] = 0,
    seed: Annotated[int, typer.Option(min=0, help="Root seed of the comparison.")] = 0,
    stage_steps: Annotated[
        int | None,
        typer.Option("--stage-steps", min=1, help="Steps per task (default: learner's)."),
    ] = None,
    reference: Annotated[
        CompareMethod, typer.Option(help="Method the others are compared with.")
    ] = CompareMethod.joint,
    plot: Annotated[Path | None, typer.Option(help="Write a bar chart (.png/.svg/.pdf).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Train curricula, mixtures, merges and online schedules at equal steps; compare.

    Online methods (sec, tac, worst_task, hybrid) run on the built-in learner; with a
    CONFIG whose runner has no online stages they are skipped with a note.

    \f

    Parameters
    ----------
    config : Path, optional
        Probe or real-model config; its runner is compared and its probe campaign gives the
        planned methods' orders. Without it: the built-in learner.
    methods : list of CompareMethod, optional
        Methods to run (``--method``, repeated), among :data:`taskorder.compare.METHODS`;
        default: all of them.
    n_structured, n_open : int
        Structured and open-ended tasks of the built-in learner (ignored with ``config``).
    mode : LearnerMode
        The built-in learner's training mode (ignored with ``config``).
    seeds : int
        Seeds per method.
    n_random : int
        Random orders compared.
    world_seed : int
        Seed of the built-in learner's world (ignored with ``config``).
    seed : int
        Root seed of the comparison.
    stage_steps : int, optional
        Steps per task; default: the learner's, or with ``config`` the probe plan's.
    reference : CompareMethod
        The method every other one is compared with.
    plot : Path, optional
        Where to write a bar chart (``.png``, ``.svg`` or ``.pdf``).
    as_json : bool
        Print one JSON object instead of tables.
    """
    chosen = [method.value for method in methods or CompareMethod]
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise typer.BadParameter(
            f"expected a .png, .svg or .pdf path; got {plot}", param_hint="'--plot'"
        )
    from taskorder.compare import compare as run_compare

    if config is None:
        from taskorder.learner import make_learner

        runner = make_learner(n_structured, n_open, seed=world_seed, mode=mode.value)
        planned = {"stage_steps": stage_steps}
        header = {"mode": mode.value, "world_seed": world_seed}
        label = mode.value
    else:
        runner, planned, kind = _config_runner(config, chosen, stage_steps)
        header = {"config": str(config)}
        label = f"{kind} runner from {config}"
    report = run_compare(
        runner,
        methods=chosen,
        seeds=seeds,
        n_random=n_random,
        seed=seed,
        reference=reference.value,
        progress=None if as_json else _progress,
        **planned,
    )
    if plot is not None:
        _save_plot(report, plot)
    if as_json:
        print_json({**header, **report.to_dict()})
        return
    _print(report, label)


def _save_plot(report, path: Path) -> None:
    """Write the comparison's bar chart to ``path``."""
    from taskorder.compare.figure import compare_bars
    from taskorder.plot.figures import save

    save(compare_bars(report), path)
    stderr.print(f"wrote {path}")


def _progress(done: int, total: int) -> None:
    stderr.print(f"compare: seed {done}/{total} done")


def _config_runner(
    config_path: Path, methods: list[str], stage_steps: int | None
) -> tuple[Any, dict[str, Any], str]:
    """CONFIG's runner, what the comparison plans from (the probe campaign's matrix and cost
    when a planned method runs; the stage length), and the runner's kind."""
    from taskorder.configs import build_runner, load_config
    from taskorder.estimate import run_campaign
    from taskorder.estimate.config import build_plan

    config = load_config(config_path)
    runner = build_runner(config)
    plan = build_plan(config, runner)
    matrix, probe_steps = None, None
    if {"solver", "rank_rule", "refresh", "hybrid"} & set(methods):
        stderr.print(f"probe campaign in {config.output_path} (resumes; reused when complete)")
        matrix = run_campaign(runner, plan, config.output_path).estimate.matrix
        probe_steps = sum(p.steps for p in plan.probes() if p.kind != "base")
    planned = {
        "stage_steps": stage_steps or plan.probes()[-1].steps,
        "matrix": matrix,
        "probe_steps": probe_steps,
    }
    return runner, planned, config.runner.kind


def _cost(result) -> str:
    """Probe steps plus online overhead in step equivalents, compactly."""
    if not result.cost_steps:
        return "0"
    return f"{result.cost_steps:.0f}" if not result.overhead_steps else f"{result.cost_steps:.1f}"


def _p(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def _print(report, mode: str) -> None:
    """The report as tables for people: scores, per-task scores, the solver's comparisons,
    the probe campaign, whether planning was worth its probes, notes."""
    tasks = report.tasks
    stdout.print(
        f"{mode if ' ' in mode else f'built-in learner ({mode})'}, tasks {', '.join(tasks)}; every method "
        f"{report.stage_steps * len(tasks)} steps, {report.seeds} seeds; "
        f"test: {report.test}, p < 0.05"
    )
    _print_scores(report)
    _print_task_scores(report)
    _print_solver_comparisons(report)
    if report.probe:
        probe = report.probe
        stdout.print(
            f"probe campaign (the planned methods' cost): {probe['probes']} probes, "
            f"{probe['training_steps']} training steps, {probe['elapsed_s']:.1f} s; "
            f"recommended order (solver) {' > '.join(probe['orders']['solver'])} "
            f"[{probe.get('recommendation', {}).get('reason', '')}]; "
            f"rank rule {' > '.join(probe['orders']['rank_rule'])}"
        )
    _print_planning(report)
    for note in report.notes:
        stdout.print(f"note: {note}")
    stdout.print(f"elapsed {report.elapsed_s:.1f} s")


def _print_scores(report) -> None:
    """Mean score, spread, relative performance, gain and test vs the reference, cost."""
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=f"mean final score over tasks and seeds (std over seeds); gain % vs {report.reference}; "
        "rel/spec: score / specialist score, averaged over tasks",
    )
    columns = ("method", "mean", "std", "rel/spec", "gain %", "p", "sig", "cost")
    for column in columns:
        left = column == "method"
        table.add_column(column, justify="left" if left else "right", no_wrap=True)
    for name, result in report.methods.items():
        item = report.comparison(name, report.reference)
        gain = (
            ("", "", "")
            if item is None
            else (f"{item.gain_pct:+.1f}", _p(item.p_value), "*" if item.significant else "")
        )
        table.add_row(
            name,
            f"{result.mean:.4f}",
            f"{result.std:.4f}",
            f"{result.relative.mean():.3f}",
            *gain,
            _cost(result),
        )
    stdout.print(table)
    stdout.print(
        "cost: training steps beyond the equal budget: the probe campaign's for methods "
        "planned from the matrix, plus online overhead in step equivalents (policy work / "
        "time per step)"
    )


def _print_task_scores(report) -> None:
    """Final score per task and method, and the specialists'."""
    table = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, title="final score per task (mean over seeds)"
    )
    table.add_column("method", no_wrap=True)
    for task in report.tasks:
        table.add_column(task, justify="right", no_wrap=True)
    for name, result in report.methods.items():
        table.add_row(name, *(f"{v:.3f}" for v in result.scores.mean(axis=0)))
    table.add_row("specialists", *(f"{v:.3f}" for v in report.specialist.mean(axis=0)))
    stdout.print(table)


def _print_solver_comparisons(report) -> None:
    """The recommended order against every method other than the reference (if it ran)."""
    solver_rows = [
        c for c in report.comparisons if c.method == "solver" and c.reference != report.reference
    ]
    if not solver_rows:
        return
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title="recommended order (solver) vs each other method",
    )
    for column in ("other method", "gain %", "p", "sig."):
        table.add_column(column, justify="right")
    for c in solver_rows:
        table.add_row(
            c.reference, f"{c.gain_pct:+.1f}", _p(c.p_value), "*" if c.significant else ""
        )
    stdout.print(table)


def _print_planning(report) -> None:
    """Each probed method against the best online method (if both ran)."""
    if not report.planning:
        return
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title="is offline planning worth its probes? (vs the best online method, "
        "equal training steps)",
    )
    for column in ("method", "best online", "gain %", "p", "probes (runs)", "worth it"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for item in report.planning:
        p = math.nan if item["p_value"] is None else item["p_value"]
        table.add_row(
            item["method"],
            item["best_online"],
            f"{item['gain_pct']:+.1f}",
            _p(p),
            f"{item['probe_cost_runs']:.1f}",
            "yes" if item["worth_probes"] else "no",
        )
    stdout.print(table)


def register(app: typer.Typer) -> None:
    """Add ``compare`` to ``app``."""
    app.command()(compare)
