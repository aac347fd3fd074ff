"""``taskorder solve`` and ``taskorder predict``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from taskorder.cli.common import fail, handle_errors, parse_floors, print_json, stderr, stdout
from taskorder.cli.options import (
    OBJECTIVE_CONTEXT,
    EntropyModel,
    Impute,
    JsonOpt,
    MatrixArg,
    Model,
    Objective,
    ObjectiveOpt,
    Risk,
    SolverMethod,
    objective_name,
    value_of,
)
from taskorder.cli.solve_extras import (
    all_orders_tie,
    print_recommendation,
    print_result,
    progress,
    write_schedule,
)

__all__ = ["register"]


def _pairs(values: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        parts = value.split(":")
        if len(parts) != 2 or not all(part.strip() for part in parts):
            raise typer.BadParameter(
                f"expected EARLIER:LATER (two task names); got {value!r}", param_hint="'--before'"
            )
        pairs.append((parts[0].strip(), parts[1].strip()))
    return pairs


def _one(values: list[str] | None, option: str) -> str | None:
    """The single task given to a non-repeatable option (``--first a --first b`` is refused)."""
    distinct = list(dict.fromkeys(values or []))
    if len(distinct) > 1:
        raise typer.BadParameter(
            f"expected one task; got {len(distinct)}: {', '.join(map(repr, distinct))}. Only one "
            f"task can be {option.removeprefix('--')}; use --before EARLIER:LATER for more constraints",
            param_hint=f"'{option}'",
        )
    return distinct[0] if distinct else None


@dataclass(frozen=True)
class SolveOptions:
    """``taskorder solve``'s options after the usage checks."""

    objective: str
    method: str
    first: str | None
    last: str | None
    before: list[tuple[str, str]]
    time_limit: float | None
    seed: int
    as_json: bool
    model: str | None = None
    impute: str = "none"
    stderr_file: Path | None = None
    risk: str | None = None
    quantile: float | None = None
    samples: int | None = None
    entropy_file: Path | None = None
    entropy_floor: dict[str, float] = field(default_factory=dict)
    entropy_weight: float | None = None
    entropy_model: str | None = None
    schedule_out: Path | None = None
    steps_per_stage: int | None = None
    passes_per_stage: float | None = None
    train_config: Path | None = None


# long: the signature declares the command's 23 typer options; the body maps them onto one
# problem specification, solves it and hands the outcome to _print_solution
@handle_errors
def solve(
    file: MatrixArg,
    objective: ObjectiveOpt = Objective["all-pairs"],
    method: Annotated[
        SolverMethod,
        typer.Option(
            help="Solver: auto chooses by size and objective (multiplicative all-pairs: "
            "auto, dp, local, rank)."
        ),
    ] = SolverMethod.auto,
    first: Annotated[
        list[str] | None,
        typer.Option(metavar="TASK", help="Task that must be trained first (give once)."),
    ] = None,
    last: Annotated[
        list[str] | None,
        typer.Option(metavar="TASK", help="Task that must be trained last (give once)."),
    ] = None,
    before: Annotated[
        list[str] | None, typer.Option(help="EARLIER:LATER precedence; repeat as needed.")
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            min=0.001,
            help="Wall-clock seconds for the whole command, reading the input included.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for randomised solvers and baselines.")] = 0,
    impute: Annotated[
        Impute,
        typer.Option(
            help="Fill missing entries of FILE (and --entropy FILE) before solving: none (refuse "
            "them, default), row_col (row + column effects), row_mean, or zero. See "
            "taskorder.estimate.impute.",
        ),
    ] = Impute.none,
    stderr_file: Annotated[
        Path | None,
        typer.Option(
            "--stderr", help="Matrix file of standard errors of bwt, any format (if FILE has none)."
        ),
    ] = None,
    risk: Annotated[
        Risk | None,
        typer.Option(
            help="With standard errors: mean (default), quantile (risk-averse) or probability."
        ),
    ] = None,
    quantile: Annotated[
        float | None,
        typer.Option(min=0.001, max=0.999, help="Quantile for --risk quantile (default 0.1)."),
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(
            min=2,
            help="Plausible matrices drawn from the errors (default 200; for more than "
            "20 tasks the confidence is computed only when this or --risk is given).",
        ),
    ] = None,
    entropy_file: Annotated[
        Path | None,
        typer.Option("--entropy", help="Entropy transfer matrix (JSON with own_scores)."),
    ] = None,
    entropy_floor: Annotated[
        list[str] | None,
        typer.Option(
            "--entropy-floor", help="TASK=VALUE: minimum predicted final entropy; repeatable."
        ),
    ] = None,
    entropy_weight: Annotated[
        float | None,
        typer.Option("--entropy-weight", min=0.0, help="Objective bonus per nat of entropy."),
    ] = None,
    entropy_model: Annotated[
        EntropyModel | None,
        typer.Option(
            "--entropy-model",
            help="With --entropy: how final entropies are predicted: additive (default), or "
            "multiplicative (never negative; floors only).",
        ),
    ] = None,
    model: Annotated[
        Model | None,
        typer.Option(
            help="Outcome model: additive (default), backward_only (published) or "
            "multiplicative. Given explicitly, the recommended order for that model "
            "is shown first."
        ),
    ] = None,
    schedule_out: Annotated[
        Path | None,
        typer.Option(
            "--schedule-out",
            help="Also write the order as a YAML `schedule:` section for `taskorder train` "
            "(with --train-config: that whole config with this schedule).",
        ),
    ] = None,
    steps_per_stage: Annotated[
        int | None,
        typer.Option("--steps-per-stage", min=1, help="GRPO steps per stage in --schedule-out."),
    ] = None,
    passes_per_stage: Annotated[
        float | None,
        typer.Option(
            "--passes-per-stage",
            help="Passes over each task's data per stage in --schedule-out (> 0).",
        ),
    ] = None,
    train_config: Annotated[
        Path | None,
        typer.Option(
            "--train-config", help="A train config (YAML/TOML) to copy into --schedule-out."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find the best training order for a transfer matrix.

    The options build one problem specification (taskorder.solvers.ProblemSpec:
    objective, constraints, outcome model, entropy terms, noise) solved by one call to
    taskorder.solve. With --risk or --samples the answer comes with its confidence: the
    probability that the order is optimal over plausible matrices drawn from the standard
    errors (in FILE or --stderr). For a probed matrix (one with own-stage scores) or an
    explicit --model, the recommended order (taskorder.recommend) is shown first, with
    its reason. A solve that runs longer than a second shows that it is working on stderr.

    \f

    Parameters
    ----------
    file : Path
        Transfer matrix: square CSV, long CSV, JSON or .npz.
    objective : Objective
        all-pairs (every later stage acts), adjacent (only the next one), or max-min (maximise the
        worst task's predicted final score).
    method : SolverMethod
        auto, or a solver in taskorder.solvers.SOLVERS (multiplicative all-pairs: auto, dp,
        local, rank).
    first : list of str, optional
        Task that must be trained first (give once).
    last : list of str, optional
        Task that must be trained last (give once).
    before : list of str, optional
        EARLIER:LATER precedence; repeat as needed.
    time_limit : float, optional
        Wall-clock seconds for the whole command, reading the input included.
    seed : int
        Seed for randomised solvers and baselines.
    impute : Impute
        Fill missing entries of FILE (and --entropy FILE) before solving: none (refuse them,
        default), row_col (row + column effects), row_mean, or zero. See taskorder.estimate.impute.
    stderr_file : Path, optional
        Matrix file of standard errors of bwt, any format (if FILE has none).
    risk : Risk, optional
        With standard errors: mean (default), quantile (risk-averse) or probability.
    quantile : float, optional
        Quantile for --risk quantile (default 0.1).
    samples : int, optional
        Plausible matrices drawn from the errors (default 200; for more than 20 tasks the confidence
        is computed only when this or --risk is given).
    entropy_file : Path, optional
        Entropy transfer matrix (JSON with own_scores).
    entropy_floor : list of str, optional
        TASK=VALUE: minimum predicted final entropy; repeatable.
    entropy_weight : float, optional
        Objective bonus per nat of entropy.
    entropy_model : EntropyModel, optional
        With --entropy: how final entropies are predicted: additive (default), or multiplicative
        (never negative; floors only).
    model : Model, optional
        Outcome model: additive (default), backward_only (published) or multiplicative. Given
        explicitly, the recommended order for that model is shown first.
    schedule_out : Path, optional
        Also write the order as a YAML `schedule:` section for `taskorder train` (with
        --train-config: that whole config with this schedule).
    steps_per_stage : int, optional
        GRPO steps per stage in --schedule-out.
    passes_per_stage : float, optional
        Passes over each task's data per stage in --schedule-out (> 0).
    train_config : Path, optional
        A train config (YAML/TOML) to copy into --schedule-out.
    as_json : bool
        Print one JSON object instead of tables.
    """
    started = time.monotonic()  # --time-limit counts from here: reading the file included
    from taskorder.io import read_matrix
    from taskorder.solvers import solve as run_solve

    options = SolveOptions(
        objective=objective_name(objective),
        method=method.value,
        first=_one(first, "--first"),
        last=_one(last, "--last"),
        before=_pairs(before or []),
        time_limit=time_limit,
        seed=seed,
        as_json=as_json,
        model=value_of(model),
        impute=impute.value,
        stderr_file=stderr_file,
        risk=value_of(risk),
        quantile=quantile,
        samples=samples,
        entropy_file=entropy_file,
        entropy_floor=parse_floors(entropy_floor),
        entropy_weight=entropy_weight,
        entropy_model=value_of(entropy_model),
        schedule_out=schedule_out,
        steps_per_stage=steps_per_stage,
        passes_per_stage=passes_per_stage,
        train_config=train_config,
    )
    _check_usage(options)
    matrix = _read_input(file, options)
    entropy = None
    if options.entropy_file is not None:
        entropy = _imputed(read_matrix(options.entropy_file), options.entropy_file, options.impute)
    spec = _spec(file, matrix, entropy, options)
    with progress(
        f"solving the order of {matrix.n_tasks} tasks"
        + ("" if options.time_limit is None else f" (time limit {options.time_limit:g} s)"),
        enabled=not options.as_json,
    ):
        recommendation = _recommendation(matrix, spec, options)
        result = run_solve(
            matrix,
            spec,
            method=options.method,
            time_limit=_time_left(options.time_limit, started),
            seed=options.seed,
        )
    if options.schedule_out is not None:
        written = write_schedule(
            options.schedule_out,
            result.order,
            steps_per_stage=options.steps_per_stage,
            passes_per_stage=options.passes_per_stage,
            source=str(file),
            train_config=options.train_config,
        )
        if not options.as_json:
            stderr.print(f"wrote the schedule to {written}")
    _print_solution(file, matrix, spec, result, recommendation, entropy, options.as_json)


def _time_left(time_limit: float | None, started: float) -> float | None:
    """What is left of ``--time-limit`` after reading (at least 0.05 s, for a first answer).

    When reading alone used the limit up, a note on stderr says the answer will come late.
    """
    if time_limit is None:
        return None
    spent = time.monotonic() - started
    if spent >= time_limit:
        stderr.print(
            f"note: reading the input took {spent:.2f} s of the {time_limit:g} s time limit; "
            "the solver gets 0.05 s for a first answer, so the command ends after the limit "
            "(.npz is the fastest matrix format to read: taskorder.write_matrix(m, 'm.npz'))"
        )
    return max(time_limit - spent, 0.05)


def _check_usage(options: SolveOptions) -> None:
    """Refuse option combinations that would be ignored (the choices are checked by typer)."""

    def refuse(message: str, option: str) -> None:
        raise typer.BadParameter(message, param_hint=f"'{option}'")

    if options.quantile is not None and options.risk != "quantile":
        refuse("applies with --risk quantile only", "--quantile")
    if options.entropy_file is None:
        if options.entropy_floor or options.entropy_weight:
            refuse("needs --entropy FILE", "--entropy-floor/--entropy-weight")
        if options.entropy_model is not None:
            refuse(
                "needs --entropy FILE (it says how that file's entropies combine)",
                "--entropy-model",
            )
    if options.schedule_out is None:
        for value, option in (
            (options.steps_per_stage, "--steps-per-stage"),
            (options.passes_per_stage, "--passes-per-stage"),
            (options.train_config, "--train-config"),
        ):
            if value is not None:
                refuse("applies with --schedule-out only", option)
    elif options.passes_per_stage is not None and not 0 < options.passes_per_stage < math.inf:
        refuse(
            f"expected a positive number of passes; got {options.passes_per_stage:g}",
            "--passes-per-stage",
        )
    elif options.steps_per_stage is not None and options.passes_per_stage is not None:
        refuse(
            "give one stage length: --steps-per-stage or --passes-per-stage", "--passes-per-stage"
        )
    elif (
        options.train_config is None
        and options.steps_per_stage is None
        and options.passes_per_stage is None
    ):
        refuse(
            "needs a stage length: --steps-per-stage N or --passes-per-stage X "
            "(or --train-config whose schedule has one)",
            "--schedule-out",
        )


def _print_solution(
    file: Path, matrix, spec, result, recommendation, entropy, as_json: bool
) -> None:
    """The solution as one JSON object, or the recommendation (if any) and the result tables."""
    ties = all_orders_tie(matrix, entropy)
    if as_json:
        data = result.to_dict()
        if ties:
            data["all_orders_tie"] = True
        if recommendation is not None:
            data["recommendation"] = recommendation.to_dict()
        print_json(data)
        return
    if recommendation is not None:
        print_recommendation(recommendation)
    print_result(
        file,
        matrix,
        result,
        spec.objective,
        ties=ties,
        after_recommendation=recommendation is not None,
    )


def _spec(file: Path, matrix, entropy, options: SolveOptions):
    """The one problem specification the options ask for (usage errors exit 2)."""
    from taskorder.exceptions import InvalidParameterError
    from taskorder.solvers import ProblemSpec

    has_errors = matrix.bwt_stderr is not None or matrix.forward_stderr is not None
    noisy = options.risk is not None or options.samples is not None
    if noisy and not has_errors:
        option = "--risk" if options.risk else "--samples"
        raise typer.BadParameter(
            f"needs standard errors, and {file} has none (no bwt_stderr or forward_stderr); "
            "pass --stderr FILE or use a matrix file with standard errors",
            param_hint=f"'{option}'",
        )
    if has_errors and not noisy:
        stderr.print(
            f"note: the matrix has standard errors ({'--stderr' if options.stderr_file else file.name}); "
            "the confidence over plausible matrices is skipped unless asked: pass --risk mean "
            "(or --samples N) to compute it"
        )
    try:
        return ProblemSpec(
            objective=options.objective,
            first=options.first,
            last=options.last,
            before=options.before,
            model=options.model or "additive",
            entropy=entropy,
            entropy_floor=options.entropy_floor or None,
            entropy_weight=options.entropy_weight,
            entropy_model=options.entropy_model or "additive",
            risk=options.risk or ("mean" if noisy else None),
            quantile=0.1 if options.quantile is None else options.quantile,
            n_samples=options.samples or 200,
        )
    except InvalidParameterError as error:
        raise fail(f"these options do not combine: {error}", 2) from None


def _recommendation(matrix, spec, options: SolveOptions):
    """The recommended order (issue 13) for a probed matrix or an explicit --model, or None.

    A plain matrix without own-stage scores (e.g. a LOLIB instance) and no --model gets
    the optimum of the requested problem only. The recommendation covers unconstrained
    all-pairs / adjacent orders without entropy terms; other problems get a note.
    """
    probed = matrix.own_scores is not None or options.model is not None
    if not probed:
        return None
    if spec.objective == "max_min" or spec.constrained or spec.entropy is not None:
        stderr.print(
            "note: no recommended order is shown: the recommendation covers unconstrained "
            "all-pairs or adjacent orders without entropy terms; the order below is the "
            "optimum of the problem you asked for"
        )
        return None
    from taskorder.recommend import recommend

    return recommend(matrix, route=options.model, objective=spec.objective, seed=options.seed)


def _read_input(file: Path, options: SolveOptions):
    from taskorder.io import read_matrix

    matrix = read_matrix(file)
    if options.stderr_file is not None:
        matrix = _with_stderr(matrix, options.stderr_file)
    return _imputed(matrix, file, options.impute)


def _imputed(matrix, file: Path, method: str):
    """``matrix`` with its missing entries filled by ``method`` (``"none"``: as it is)."""
    n_missing = len(matrix.missing())
    if method == "none" or not n_missing:
        return matrix
    from taskorder.estimate.impute import impute

    filled = impute(matrix, method)
    stderr.print(
        f"note: imputed {n_missing} missing entries of {file.name} ({method}); "
        "measured entries are unchanged"
    )
    return filled


def _with_stderr(matrix, path: Path):
    from taskorder.exceptions import InvalidMatrixError
    from taskorder.io import read_matrix

    errors = read_matrix(path)
    if errors.tasks != matrix.tasks:
        raise InvalidMatrixError(
            f"{path}: the standard-error matrix must list the same tasks in the same order as the "
            f"transfer matrix {list(matrix.tasks)}. Got {list(errors.tasks)}."
        )
    return matrix.replace(bwt_stderr=errors.bwt)


@handle_errors
def predict(
    file: MatrixArg,
    order: Annotated[str, typer.Option(help="Comma-separated task names, first trained first.")],
    objective: ObjectiveOpt = Objective["all-pairs"],
    as_json: JsonOpt = False,
) -> None:
    """Predict every task's final score for a given order.

    \f

    Parameters
    ----------
    file : Path
        Transfer matrix: square CSV, long CSV, JSON or .npz.
    order : str
        Comma-separated task names, first trained first.
    objective : Objective
        all-pairs (every later stage acts), adjacent (only the next one), or max-min (maximise the
        worst task's predicted final score).
    as_json : bool
        Print one JSON object instead of tables.
    """
    from taskorder.io import read_matrix
    from taskorder.model import predict as run_predict
    from taskorder.objectives import evaluate

    names = [name.strip() for name in order.split(",")]
    objective_key = objective_name(objective)
    matrix = read_matrix(file)
    if objective_key == "max_min":  # the all-pairs model's final scores, judged by the worst one
        prediction = run_predict(matrix, names, objective="all_pairs")
        value = min(prediction.scores.values())
    else:
        prediction = run_predict(matrix, names, objective=objective_key)
        value = evaluate(matrix, names, objective=objective_key)
    if as_json:
        print_json({**prediction.to_dict(), "objective": value, "objective_name": objective_key})
        return
    table = Table(title=f"Predicted outcome ({objective_key})")
    table.add_column("#", justify="right")
    table.add_column("task")
    table.add_column("predicted", justify="right")
    for position, task in enumerate(prediction.order, start=1):
        table.add_row(str(position), task, f"{prediction.scores[task]:.4g}")
    stdout.print(table)
    stdout.print(f"objective: {value:.6g}   weighted mean: {prediction.mean:.6g}")


def register(app: typer.Typer) -> None:
    app.command(context_settings=OBJECTIVE_CONTEXT)(solve)
    app.command(context_settings=OBJECTIVE_CONTEXT)(predict)
