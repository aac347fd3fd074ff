"""``taskorder probe``, ``taskorder probe status``, ``taskorder validate``, ``taskorder demo``.

``taskorder probe CONFIG`` is short for ``taskorder probe run CONFIG``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from taskorder.cli.common import fail, handle_errors, print_json, stderr, stdout
from taskorder.cli.options import (
    AddressOpt,
    ConfigArg,
    ExecutorOpt,
    JsonOpt,
    LearnerMode,
    ModeOpt,
    WorkersOpt,
    executor_kind,
)

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


# --------------------------------------------------------------------------- tables
def _fmt(value: float, digits: str = "+.3f") -> str:
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, digits)
    )


def _matrix_table(matrix: Any, title: str) -> Table:
    table = Table(title=title)
    table.add_column("earlier \\ later")
    for task in matrix.tasks:
        table.add_column(task, justify="right")
    for i, task in enumerate(matrix.tasks):
        cells = []
        for j in range(matrix.n_tasks):
            if i == j:
                cells.append("")
                continue
            value = matrix.bwt[i, j]
            se = None if matrix.bwt_stderr is None else matrix.bwt_stderr[i, j]
            text = "missing" if math.isnan(value) else _fmt(float(value))
            if not math.isnan(value) and se is not None and not math.isnan(se):
                text += f" ± {se:.3f}"
            if matrix.imputed[i, j]:
                text += " (imputed)"
            cells.append(text)
        table.add_row(task, *cells)
    return table


def _stage_table(estimate: Any) -> Table:
    table = Table(title="Own stage, from the starting state (mean over repeats)")
    for name in (
        "task",
        "score: base",
        "score: after own stage",
        "entropy: base",
        "entropy change",
    ):
        table.add_column(name, justify="left" if name == "task" else "right")
    for k, task in enumerate(estimate.matrix.tasks):
        table.add_row(
            task,
            _fmt(estimate.base_scores[task], ".3f"),
            _fmt(float(estimate.matrix.own_scores[k]), ".3f"),
            _fmt(estimate.base_entropy[task], ".3f"),
            _fmt(estimate.own_entropy_change[task]),
        )
    return table


def _print_estimate(estimate: Any, matrix: Any) -> None:
    stdout.print(
        _matrix_table(
            matrix, "BWT: bwt[i, j] = change of task i's score from training j after i (± stderr)"
        )
    )
    stdout.print(_stage_table(estimate))
    stdout.print(f"standard errors from: {estimate.stderr_source} ({estimate.n_repeats} repeat(s))")


def _print_verdict(data: dict[str, Any]) -> None:
    """The recommended order first: its realised percentile and, if it loses, why."""
    rec = data.get("recommendation") or {}
    if rec.get("order"):
        stdout.print(f"recommended order: {' > '.join(rec['order'])} (route {rec['route']})")
        stdout.print(f"  why: {rec['reason']}")
        if rec.get("advice"):
            stdout.print(f"  advice: {rec['advice']}")
    for line in data.get("verdict") or []:
        stdout.print(line)


def _print_validation(report: Any, *, verdict: bool = True) -> None:
    data = report.to_dict()
    if verdict:
        _print_verdict(data)
    _print_fidelity(report, data)
    _print_realised_ranks(report, data)
    if "random_mean" in data["realised"]:
        stdout.print(
            f"random orders' mean percentile: {_fmt(data['realised']['random_mean']['percentile'], '.0f')}"
        )
    if data["gains"]:
        gains = data["gains"]
        stdout.print(
            f"recommended order minus {gains['reference']} (observed mean final score): "
            f"{_fmt(gains['recommended_minus_reference'], '+.4f')} ± {_fmt(gains['se'], '.4f')}"
        )
    assumptions = data.get("assumptions") or {}
    if assumptions:
        drift = ", ".join(f"{t} {_fmt(v)}" for t, v in assumptions["own_stage_drift"].items())
        stdout.print(
            f"own-stage assumption: score right after its own stage in a curriculum minus the "
            f"probed own score, mean per task: {drift} (mean |.| {_fmt(assumptions['own_stage_mae'], '.3f')})"
        )
        losses = ", ".join(f"{m} {_fmt(v, '.3f')}" for m, v in assumptions["loss_mae"].items())
        stdout.print(f"change after the own stage, mean absolute prediction error: {losses}")
    for note in data["notes"]:
        stderr.print(f"note: {note}")


def _print_fidelity(report: Any, data: dict[str, Any]) -> None:
    """Table: how well each outcome model ranks the orders, against the noise ceiling."""
    ceiling = data["noise_ceiling"]
    table = Table(title=f"Fidelity over {report.n_orders} orders x {report.seeds} seeds")
    for name in ("model", "Spearman", "Kendall", "MAE per task"):
        table.add_column(name, justify="left" if name == "model" else "right")
    for model, stats in data["models"].items():
        if "skipped" in stats:
            table.add_row(model, "skipped", "", "")
            continue
        table.add_row(
            model, _fmt(stats["spearman"]), _fmt(stats["kendall"]), _fmt(stats["mae"], ".4f")
        )
    table.add_row("noise ceiling", _fmt(ceiling["ceiling"]), "", "")
    stdout.print(table)
    stdout.print(
        f"noise ceiling: split-half Spearman {_fmt(ceiling['r_half'])}, Spearman-Brown "
        f"reliability {_fmt(ceiling['reliability'])}, ceiling sqrt(rel) = {_fmt(ceiling['ceiling'])}"
    )


def _print_realised_ranks(report: Any, data: dict[str, Any]) -> None:
    """Table: where the recommended, solver, rank-rule and best-per-model orders landed."""
    ranks = Table(
        title="Realised rank among the evaluated orders (percentile: strictly worse + half ties; "
        "random = 50)"
    )
    for name in ("order of", "order", "observed mean final score", "rank", "percentile"):
        ranks.add_column(name, justify="left" if name.startswith("order") else "right")
    rows = {label: row for row in data["orders"] for label in row["labels"]}
    labels = ("recommended", "solver", "rank_rule", *(f"best:{m}" for m in data["models"]))
    for label in (*labels, "random_0"):
        if label in rows and label in data["realised"]:
            real = data["realised"][label]
            ranks.add_row(
                label,
                " > ".join(rows[label]["order"]),
                _fmt(real["observed_mean"], ".4f"),
                f"{real['rank']}/{report.n_orders}",
                _fmt(real["percentile"], ".0f"),
            )
    stdout.print(ranks)


# --------------------------------------------------------------------------- probe run
def _progress_bar(enabled: bool, label: str = "probing"):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[key]}"),
        console=stderr,
        disable=not enabled,
        transient=False,
    )


def _run_campaign_from_config(config: Any, executor: Any, quiet: bool) -> tuple[Any, Any]:
    from taskorder.configs import build_runner
    from taskorder.estimate.campaign import run_campaign
    from taskorder.estimate.config import build_plan

    runner = build_runner(config)
    plan = build_plan(config, runner)
    with _progress_bar(not quiet) as bar:
        task_id = bar.add_task("probe", total=len(plan.probes()), key="")

        def report(progress: Any) -> None:
            bar.update(task_id, completed=progress.done, key=progress.key or "")
            if progress.note:
                bar.console.print(f"note: {progress.note}", markup=False, highlight=False)

        with _sigterm_interrupts():
            result = run_campaign(
                runner, plan, config.output_path, executor=executor, progress=report
            )
    return result, runner


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Treat SIGTERM (``kill``, a batch scheduler's stop) like Ctrl-C while probing, so the
    campaign sets its in-flight probes back to pending and releases its lock."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@probe_app.command("run")
def probe_run(
    config: ConfigArg,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    address: AddressOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
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
        No progress bar.
    budget : int, optional
        Active probing: at most this many second-stage probes, chosen by their value to the decision
        (see docs/active-probing.md).
    batch_size : int, optional
        Probes per active round.
    as_json : bool
        Print one JSON object instead of tables.
    """
    kind = executor_kind(executor, workers)
    if budget is not None:
        _probe_active(config, kind, workers, address, budget, batch_size, as_json)
        return
    _probe_run(config, kind, workers, address, quiet, as_json)


@handle_errors
def _probe_active(config_path, kind, workers, address, budget, batch_size, as_json) -> None:
    import json

    from taskorder.active import active_campaign
    from taskorder.configs import build_runner, load_config
    from taskorder.estimate.config import build_executor, build_plan
    from taskorder.io import write_matrix

    config = load_config(config_path)
    executor = build_executor(config, kind=kind, workers=workers, address=address)
    runner = build_runner(config)
    plan = build_plan(config, runner)
    try:
        with _sigterm_interrupts():
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
        raise fail(_interrupted_message(config, config_path), 130) from None
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
    if as_json:
        print_json(summary)
        return
    stdout.print(
        f"active probing: {result.n_probes} of {summary['full_design']} second-stage probes; "
        f"stopped: {result.stopped_because}"
    )
    stdout.print(
        f"best order: {' > '.join(result.order)} (optimal in {result.p_optimal:.0%} of posterior draws)"
    )
    stdout.print(
        f"wrote {out / 'matrix.json'} (unmeasured entries imputed and flagged), {out / 'active.json'}"
    )


@handle_errors
def _probe_run(config_path, kind, workers, address, quiet, as_json) -> None:
    from taskorder.configs import load_config
    from taskorder.estimate.config import build_executor
    from taskorder.estimate.outputs import final_matrix, write_estimate

    config = load_config(config_path)
    executor = build_executor(config, kind=kind, workers=workers, address=address)
    try:
        result, _ = _run_campaign_from_config(config, executor, quiet or as_json)
    except KeyboardInterrupt:
        raise fail(_interrupted_message(config, config_path), 130) from None
    estimate = result.estimate
    extra = {
        "campaign": {
            "ran": result.ran,
            "reused": result.reused,
            "elapsed_s": result.elapsed_s,
            "executor": result.executor,
        }
    }
    paths = write_estimate(estimate, result.directory, impute_method=config.impute, extra=extra)
    matrix = final_matrix(estimate, config.impute)
    if as_json:
        print_json({**estimate.to_dict(), **extra, "files": {k: str(v) for k, v in paths.items()}})
        return
    _print_estimate(estimate, matrix)
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


def _interrupted_message(config: Any, config_path: Path) -> str:
    """What an interrupted ``probe run`` says: what is kept, and that a rerun resumes."""
    from taskorder.estimate.store import STORE_NAME

    return (
        f"interrupted. Every probe finished so far is recorded in "
        f"{config.output_path / STORE_NAME}; rerun 'taskorder probe {config_path}' to resume "
        "(finished probes are not run again, the interrupted ones start over)."
    )


# --------------------------------------------------------------------------- status
@probe_app.command("status")
def probe_status(
    target: Annotated[Path, typer.Argument(help="Campaign configuration or its output folder.")],
    as_json: JsonOpt = False,
) -> None:
    """Show the progress of a campaign: probes per status, attempts, timings, failures."""
    _probe_status(target, as_json)


@handle_errors
def _probe_status(target: Path, as_json: bool) -> None:
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


# --------------------------------------------------------------------------- validate
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
    kind = executor_kind(executor, workers)
    overrides = {"seeds": seeds, "n_random": n_random, "all_orders": all_orders}
    _validate(config, overrides, matrix_file, kind, workers, address, as_json)


@handle_errors
def _validate(config_path, overrides, matrix_file, kind, workers, address, as_json) -> None:
    import json

    from taskorder.configs import build_runner, load_config
    from taskorder.estimate.campaign import load_estimate
    from taskorder.estimate.config import build_executor, build_plan
    from taskorder.estimate.outputs import final_matrix
    from taskorder.estimate.validate import validate as run_validate
    from taskorder.io import read_matrix

    config = load_config(config_path)
    runner = build_runner(config)
    plan = build_plan(config, runner)
    if matrix_file is not None:
        matrix = read_matrix(matrix_file)
    else:
        estimate = load_estimate(config.output_path, plan)
        matrix = final_matrix(estimate, config.impute)
        if matrix.missing():
            raise fail(
                f"the campaign in {config.output_path} is not finished or has unmeasured pairs "
                f"({len(matrix.missing())} missing); run 'taskorder probe {config_path}' first "
                "or set impute in the config"
            )
    settings = config.validate_.model_copy(
        update={k: v for k, v in overrides.items() if v is not None}
    )
    with _progress_bar(not as_json, "validating (seeds)") as bar:
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
            executor=build_executor(config, kind=kind, workers=workers, address=address),
            progress=lambda done, total: bar.update(task_id, completed=done),
        )
    path = config.output_path / "validate.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    if as_json:
        print_json(report.to_dict())
        return
    _print_validation(report)
    stdout.print(f"wrote {path}")


# --------------------------------------------------------------------------- demo
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
    _demo(n_open, mode.value, seeds, out, workers, as_json)


@handle_errors
def _demo(n_open, mode, seeds, out, workers, as_json) -> None:
    import tempfile

    from taskorder.configs import load_config
    from taskorder.estimate.config import build_executor
    from taskorder.estimate.outputs import write_estimate
    from taskorder.estimate.validate import validate as run_validate
    from taskorder.recommend import recommend

    folder = out or Path(tempfile.mkdtemp(prefix="taskorder-demo-"))
    config = load_config(
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
    executor = build_executor(config)
    result, runner = _run_campaign_from_config(config, executor, as_json)
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
    import json

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
    stdout.print(f"built-in learner, mode {mode}: {runner.tasks}; outputs in {folder}")
    stdout.print(
        f"re-planned training (the recommended route for training): "
        f"{' > '.join(replanned['order'])}, realised percentile {replanned['percentile']:.0f} "
        f"(rank {replanned['rank']} of {report.n_orders}; a random order scores 50), "
        f"{replanned['stages']} training stages against {replanned['fixed_stages']} for "
        "probing and then training the fixed order"
    )
    _print_verdict(report.to_dict())
    _print_estimate(result.estimate, matrix)
    _print_validation(report, verdict=False)
    stdout.print(f"probe {result.elapsed_s:.1f} s, validation {report.elapsed_s:.1f} s")


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
    """Add ``probe`` (with ``status``), ``validate`` and ``demo`` to ``app``."""
    app.add_typer(probe_app, name="probe")
    app.command()(validate)
    app.command()(demo)
