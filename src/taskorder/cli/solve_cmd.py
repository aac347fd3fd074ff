"""``taskorder solve`` and ``taskorder predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from taskorder.cli.common import handle_errors, parse_floors, print_json, stderr, stdout

__all__ = ["register"]

FileArg = Annotated[Path, typer.Argument(help="Transfer matrix: square CSV, long CSV or JSON.")]
ObjectiveOpt = Annotated[
    str,
    typer.Option(
        "--objective",
        help="all-pairs (every later stage acts), adjacent (only the next one), or max-min "
        "(maximise the worst task's predicted final score).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


def _objective(value: str) -> str:
    from taskorder.solvers.problem import SOLVER_OBJECTIVES

    name = value.strip().lower().replace("-", "_")
    if name not in SOLVER_OBJECTIVES:
        raise typer.BadParameter(
            f"expected one of all-pairs, adjacent, max-min; got {value!r}", param_hint="'--objective'"
        )
    return name


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


def solve(
    file: FileArg,
    objective: ObjectiveOpt = "all-pairs",
    method: Annotated[str, typer.Option(help="auto, dp, brute, rank, or another registered solver.")] = "auto",
    first: Annotated[str | None, typer.Option(help="Task that must be trained first.")] = None,
    last: Annotated[str | None, typer.Option(help="Task that must be trained last.")] = None,
    before: Annotated[
        list[str] | None, typer.Option(help="EARLIER:LATER precedence; repeat as needed.")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.001, help="Seconds the solver may use.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for randomised solvers and baselines.")] = 0,
    stderr_file: Annotated[
        Path | None,
        typer.Option("--stderr", help="Square CSV of standard errors of bwt (if FILE has none)."),
    ] = None,
    risk: Annotated[
        str | None,
        typer.Option(help="With standard errors: mean (default), quantile (risk-averse) or probability."),
    ] = None,
    quantile: Annotated[float, typer.Option(min=0.001, max=0.999, help="Quantile for --risk quantile.")] = 0.1,
    samples: Annotated[
        int | None,
        typer.Option(min=2, help="Plausible matrices drawn from the errors (default 200; for more than "
                     "20 tasks the confidence is computed only when this or --risk is given)."),
    ] = None,
    entropy_file: Annotated[
        Path | None, typer.Option("--entropy", help="Entropy transfer matrix (JSON with own_scores).")
    ] = None,
    entropy_floor: Annotated[
        list[str] | None,
        typer.Option("--entropy-floor", help="TASK=VALUE: minimum predicted final entropy; repeatable."),
    ] = None,
    entropy_weight: Annotated[
        float | None, typer.Option("--entropy-weight", min=0.0, help="Objective bonus per nat of entropy.")
    ] = None,
    entropy_model: Annotated[
        str,
        typer.Option(
            "--entropy-model",
            help="How final entropies are predicted: additive, or multiplicative (never negative; "
            "floors only).",
        ),
    ] = "additive",
    model: Annotated[
        str, typer.Option(help="Outcome model: additive, backward_only (published) or multiplicative.")
    ] = "additive",
    as_json: JsonOpt = False,
) -> None:
    """Find the best training order for a transfer matrix.

    When the matrix carries standard errors (or --stderr is given), the answer comes with
    its confidence: the probability that the order is optimal over plausible matrices.
    """
    from taskorder.solvers import SOLVERS

    objective_name = _objective(objective)
    pairs = _pairs(before or [])
    if method != "auto" and method not in SOLVERS:
        raise typer.BadParameter(
            f"expected auto or one of {', '.join(SOLVERS)}; got {method!r}", param_hint="'--method'"
        )
    from taskorder.robust import RISKS

    if risk is not None and risk not in RISKS:
        raise typer.BadParameter(f"expected one of {', '.join(RISKS)}; got {risk!r}", param_hint="'--risk'")
    floors = parse_floors(entropy_floor)
    if (floors or entropy_weight) and entropy_file is None:
        raise typer.BadParameter("needs --entropy FILE", param_hint="'--entropy-floor/--entropy-weight'")
    from taskorder.entropy import ENTROPY_MODELS

    if entropy_model not in ENTROPY_MODELS:
        raise typer.BadParameter(
            f"expected one of {', '.join(ENTROPY_MODELS)}; got {entropy_model!r}",
            param_hint="'--entropy-model'",
        )
    from taskorder.model import MODELS

    if model not in MODELS:
        raise typer.BadParameter(f"expected one of {', '.join(MODELS)}; got {model!r}", param_hint="'--model'")
    if model != "additive" and (floors or entropy_weight or stderr_file):
        raise typer.BadParameter("combine --model only with the default additive model's options",
                                 param_hint="'--model'")
    noise = {
        "model": model,
        "stderr_file": stderr_file, "risk": risk, "quantile": quantile, "samples": samples,
        "entropy_file": entropy_file, "entropy_floor": floors or None, "entropy_weight": entropy_weight,
        "entropy_model": entropy_model,
    }
    _solve(file, objective_name, method, first, last, pairs, time_limit, seed, as_json, noise)


@handle_errors
def _solve(file, objective, method, first, last, pairs, time_limit, seed, as_json, noise) -> None:
    from taskorder.io import read_matrix
    from taskorder.solvers import solve as run_solve

    matrix = read_matrix(file)
    if noise["stderr_file"] is not None:
        matrix = _with_stderr(matrix, noise["stderr_file"])
    kwargs = dict(
        method=method, objective=objective, first=first, last=last, before=pairs,
        time_limit=time_limit, seed=seed,
    )
    if noise["entropy_file"] is not None:
        kwargs.update(
            entropy=read_matrix(noise["entropy_file"]),
            entropy_floor=noise["entropy_floor"],
            entropy_weight=noise["entropy_weight"],
            entropy_model=noise["entropy_model"],
        )
    has_errors = matrix.bwt_stderr is not None or matrix.forward_stderr is not None
    asked = noise["risk"] is not None or noise["samples"] is not None
    if noise["model"] != "additive":
        from taskorder.models_extra import best_order

        result = best_order(matrix, model=noise["model"], **kwargs)
    elif has_errors and (matrix.n_tasks <= 20 or asked):
        from taskorder.robust import solve_robust

        result = solve_robust(
            matrix, risk=noise["risk"] or "mean", quantile=noise["quantile"],
            n_samples=noise["samples"] or 200, **kwargs,
        )
    else:
        if has_errors:
            stderr.print(
                f"note: {matrix.n_tasks} tasks: the confidence over plausible matrices (one exact solve "
                "per draw) is skipped; pass --samples N or --risk to compute it"
            )
        result = run_solve(matrix, **kwargs)
    if as_json:
        print_json(result.to_dict())
        return
    relative = matrix.own_scores is None
    table = Table(title=f"Training order for {file.name}")
    table.add_column("#", justify="right")
    table.add_column("task")
    table.add_column("predicted change" if relative else "predicted final score", justify="right")
    entropies = result.extras.get("predicted_entropy")
    if entropies:
        table.add_column("predicted entropy (nats)", justify="right")
    for position, task in enumerate(result.order, start=1):
        score = f"{result.predicted[task]:+.4g}" if relative else f"{result.predicted[task]:.4g}"
        table.add_row(str(position), task, score, *([f"{entropies[task]:.3g}"] if entropies else []))
    stdout.print(table)
    gap = "" if result.gap in (None, 0.0) else f", gap {100 * result.gap:.3g} %"
    bound = "none" if result.bound is None else f"{result.bound:.6g}"
    stdout.print(
        f"objective ({objective}): {result.objective:.6g}   status: {result.status}   "
        f"bound: {bound}{gap}"
    )
    label = "predicted mean change" if relative else "predicted mean final score"
    stdout.print(f"{label}: {result.predicted_mean:.4g}")
    stdout.print(f"method: {result.method} ({result.method_reason}), {result.elapsed_s:.3g} s")
    if "p_optimal" in result.extras:
        extras = result.extras
        stdout.print(
            f"confidence: P(this order is optimal) = {extras['p_optimal']:.2f} over "
            f"{extras['n_samples']} plausible matrices (risk: {extras['risk']}); "
            f"{len(extras['candidates'])} candidate orders"
        )
    for name, label in (("rank_rule", "the rank rule"), ("random_mean", "a random order (mean)")):
        stdout.print(
            f"gain over {label}: {result.gain_over(name):+.6g} "
            f"(its objective {result.baselines[name]:.6g})"
        )


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


def predict(
    file: FileArg,
    order: Annotated[str, typer.Option(help="Comma-separated task names, first trained first.")],
    objective: ObjectiveOpt = "all-pairs",
    as_json: JsonOpt = False,
) -> None:
    """Predict every task's final score for a given order."""
    objective_name = _objective(objective)
    names = [name.strip() for name in order.split(",")]
    _predict(file, names, objective_name, as_json)


@handle_errors
def _predict(file, names, objective, as_json) -> None:
    from taskorder.io import read_matrix
    from taskorder.model import predict as run_predict
    from taskorder.objectives import evaluate

    matrix = read_matrix(file)
    if objective == "max_min":  # the all-pairs model's final scores, judged by the worst one
        prediction = run_predict(matrix, names, objective="all_pairs")
        value = min(prediction.scores.values())
    else:
        prediction = run_predict(matrix, names, objective=objective)
        value = evaluate(matrix, names, objective=objective)
    if as_json:
        print_json({**prediction.to_dict(), "objective": value, "objective_name": objective})
        return
    table = Table(title=f"Predicted outcome ({objective})")
    table.add_column("#", justify="right")
    table.add_column("task")
    table.add_column("predicted", justify="right")
    for position, task in enumerate(prediction.order, start=1):
        table.add_row(str(position), task, f"{prediction.scores[task]:.4g}")
    stdout.print(table)
    stdout.print(f"objective: {value:.6g}   weighted mean: {prediction.mean:.6g}")


def register(app: typer.Typer) -> None:
    app.command()(solve)
    app.command()(predict)
