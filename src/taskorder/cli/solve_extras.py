"""Helpers of ``taskorder solve``: progress on stderr, ties, and the schedule file it writes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.cli.common import stderr, stdout
from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix

__all__ = [
    "PROGRESS_DELAY_S",
    "all_orders_tie",
    "print_recommendation",
    "print_result",
    "progress",
    "schedule_document",
    "write_schedule",
]

#: Seconds a solve may run before ``taskorder solve`` shows that it is working.
PROGRESS_DELAY_S = 1.0


@contextlib.contextmanager
def progress(message: str, *, enabled: bool, delay: float | None = None) -> Iterator[None]:
    """Show ``message`` on stderr if the block runs longer than ``delay`` seconds.

    On a terminal a spinner shows until the block ends (and is then erased); otherwise
    one line is printed, so logs show why nothing happened for a while. Nothing is
    ever written to stdout.

    Parameters
    ----------
    message : str
        What is running, e.g. ``"solving the order of 12 tasks"``.
    enabled : bool
        ``False`` (``--json``) shows nothing.
    delay : float, optional
        Seconds before anything shows; default :data:`PROGRESS_DELAY_S`.
    """
    if not enabled:
        yield
        return
    lock = threading.Lock()
    state: dict[str, Any] = {"done": False, "status": None}

    def show() -> None:
        with lock:
            if state["done"]:
                return
            if stderr.is_terminal:
                state["status"] = stderr.status(f"{message} ...", spinner="dots")
                state["status"].start()
            else:
                stderr.print(f"taskorder: {message} ...")

    timer = threading.Timer(PROGRESS_DELAY_S if delay is None else delay, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            timer.cancel()
            if state["status"] is not None:
                state["status"].stop()


def all_orders_tie(matrix: TransferMatrix, entropy: TransferMatrix | None = None) -> bool:
    """True when every order has the same predicted outcome: no transfer was measured.

    That is the case when every off-diagonal ``bwt`` and ``forward`` entry is 0 and so
    are their standard errors (each plausible matrix is then all-zero too), and the same
    holds for the entropy matrix if one is used. Any objective and outcome model then
    gives every order the same value, so "optimal" and a confidence of 1 say nothing.
    """
    for candidate in (matrix, entropy):
        if candidate is None:
            continue
        for array in (
            candidate.bwt,
            candidate.forward,
            candidate.bwt_stderr,
            candidate.forward_stderr,
        ):
            if array is not None and np.any(np.nan_to_num(array, nan=1.0) != 0.0):
                return False
    return True


# long: the signature is 9 lines after formatting; the body prints the order table and the
# summary lines in the order people read them
def print_result(
    file: Path,
    matrix: TransferMatrix,
    result: Any,
    objective: str,
    *,
    ties: bool,
    after_recommendation: bool = False,
) -> None:
    """Print ``result`` for people: the order table and a summary (stdout).

    Parameters
    ----------
    file : Path
        The matrix file (named in the title).
    matrix : TransferMatrix
    result : SolveResult
    objective : str
        The objective asked for (``result.objective_name`` says what the value is).
    ties : bool
        Every order has the same value (see :func:`all_orders_tie`).
    after_recommendation : bool
        A recommended order was printed above; the title then says that this table is
        the optimum of the requested problem.
    """
    from rich.table import Table

    relative = matrix.own_scores is None
    title = f"Training order for {file.name}"
    if after_recommendation:
        title = (
            f"Optimum of the requested problem ({objective}, {result.model} model) for {file.name}"
        )
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("task")
    table.add_column("predicted change" if relative else "predicted final score", justify="right")
    entropies = None if result.entropy is None else result.entropy.predicted
    if entropies:
        table.add_column("predicted entropy (nats)", justify="right")
    for position, task in enumerate(result.order, start=1):
        score = f"{result.predicted[task]:+.4g}" if relative else f"{result.predicted[task]:.4g}"
        table.add_row(
            str(position), task, score, *([f"{entropies[task]:.3g}"] if entropies else [])
        )
    stdout.print(table)
    if ties:
        stdout.print(
            f"all orders tie: every transfer entry of {file.name} is 0, so every order (that meets "
            f"the constraints) has objective {result.objective:.6g}; the order above is one of them, "
            "not a better one. Measure transfer (e.g. more probe steps) to tell orders apart."
        )
    else:
        gap = "" if result.gap in (None, 0.0) else f", gap {100 * result.gap:.3g} %"
        bound = "none" if result.bound is None else f"{result.bound:.6g}"
        model = "" if result.model == "additive" else f", {result.model} model"
        stdout.print(
            f"objective ({result.objective_name}{model}): {result.objective:.6g}   "
            f"status: {result.status}   bound: {bound}{gap}"
        )
        if result.entropy is not None and result.entropy.entropy_objective is not None:
            stdout.print(
                f"  = score {result.entropy.score_objective:.6g} + entropy term "
                f"{result.entropy.entropy_objective:.6g}"
            )
    label = "predicted mean change" if relative else "predicted mean final score"
    stdout.print(f"{label}: {result.predicted_mean:.4g}")
    stdout.print(f"method: {result.method} ({result.method_reason}), {result.elapsed_s:.3g} s")
    if result.robustness is not None and not ties:
        robust = result.robustness
        stdout.print(
            f"confidence: P(this order is optimal) = {robust.p_optimal:.2f} over "
            f"{robust.n_samples} plausible matrices (risk: {robust.risk}); "
            f"{len(robust.candidates)} candidate orders"
        )
    for name, label in (("rank_rule", "the rank rule"), ("random_mean", "a random order (mean)")):
        stdout.print(
            f"gain over {label}: {result.gain_over(name):+.6g} "
            f"(its objective {result.baselines[name]:.6g})"
        )


def print_recommendation(recommendation: Any) -> None:
    """Print the recommended order (:func:`taskorder.recommend.recommend`) first (stdout).

    Parameters
    ----------
    recommendation : Recommendation
        Its order, route, reason and advice are printed.
    """
    stdout.print(
        f"Recommended order (route {recommendation.route}): " + " -> ".join(recommendation.order)
    )
    stdout.print(f"  why: {recommendation.reason}")
    stdout.print(f"  advice: {recommendation.advice}")
    stdout.print("")


def schedule_document(
    order: Sequence[str], *, steps_per_stage: int | None, passes_per_stage: float | None
) -> dict[str, Any]:
    """The ``schedule:`` section of a ``taskorder train`` config for ``order``.

    Parameters
    ----------
    order : sequence of str
        The training order, first trained first.
    steps_per_stage : int or None
        GRPO steps per stage.
    passes_per_stage : float or None
        Passes over each task's data per stage (give this or ``steps_per_stage``).

    Returns
    -------
    dict
        ``{"order": [...], "steps_per_stage" or "passes_per_stage": ...}``, checked by
        :class:`taskorder.trl.config.ScheduleSpec`.

    Raises
    ------
    InvalidParameterError
        Unless exactly one stage length is given, or if it is not positive.
    """
    from pydantic import ValidationError

    from taskorder.trl.config import ScheduleSpec

    section: dict[str, Any] = {"order": list(order)}
    if steps_per_stage is not None:
        section["steps_per_stage"] = steps_per_stage
    if passes_per_stage is not None:
        section["passes_per_stage"] = passes_per_stage
    try:
        ScheduleSpec.model_validate(section)
    except ValidationError as error:
        message = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidParameterError(
            f"The schedule file needs a stage length: {message} "
            "(taskorder solve --steps-per-stage N or --passes-per-stage X)."
        ) from None
    return section


def write_schedule(
    path: Path,
    order: Sequence[str],
    *,
    steps_per_stage: int | None,
    passes_per_stage: float | None,
    source: str,
    train_config: Path | None = None,
) -> Path:
    """Write ``order`` as YAML: a ``schedule:`` section, or a whole train config.

    With ``train_config`` the file is that config with its ``schedule`` replaced (its
    stage length kept unless one is given), so ``taskorder train PATH`` runs it as is;
    it must then sit in the same folder, where the config's relative paths still hold.
    Without it the file holds the ``schedule:`` section alone, to paste into a config.

    Parameters
    ----------
    path : Path
        Output file (``.yaml`` or ``.yml``); missing parent folders are created.
    order : sequence of str
        The training order, first trained first.
    steps_per_stage : int or None
        GRPO steps per stage.
    passes_per_stage : float or None
        Passes over each task's data per stage.
    source : str
        Where the order came from (the matrix file), named in the file's header comment.
    train_config : Path, optional
        A train config (YAML or TOML) to copy with this schedule.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidParameterError
        If the path is not ``.yaml``/``.yml``, no stage length is known, or the train
        config is unreadable, elsewhere, the same file, or trains other tasks.
    """
    import yaml

    if path.suffix.lower() not in {".yaml", ".yml"}:
        raise InvalidParameterError(
            f"The '--schedule-out' path must end in .yaml or .yml. Got {str(path)!r}."
        )
    header = [f"# Training order solved by `taskorder solve` from {source}."]
    if train_config is None:
        section = schedule_document(
            order, steps_per_stage=steps_per_stage, passes_per_stage=passes_per_stage
        )
        header.append("# Paste this section into a `taskorder train` config in place of its own.")
        document: dict[str, Any] = {"schedule": section}
    else:
        _check_beside(path, train_config)
        document = _with_schedule(train_config, order, steps_per_stage, passes_per_stage)
        header.append(f"# {train_config.name} with this schedule; run: taskorder train {path.name}")
    text = "\n".join(header) + "\n" + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _check_beside(path: Path, train_config: Path) -> None:
    """The written config must sit beside ``train_config`` (relative paths) but not replace it."""
    if path.resolve() == train_config.resolve():
        raise InvalidParameterError(
            f"The '--schedule-out' path {str(path)!r} is the --train-config itself; choose "
            "another name so the original config is kept."
        )
    if path.resolve().parent != train_config.resolve().parent:
        raise InvalidParameterError(
            f"The '--schedule-out' path must be in the folder of --train-config "
            f"({train_config.resolve().parent}), where the config's relative paths (model, "
            f"data) still point to the same files. Got {str(path)!r}."
        )


def _with_schedule(
    train_config: Path, order: Sequence[str], steps: int | None, passes: float | None
) -> dict[str, Any]:
    from taskorder.config_file import read_mapping

    if not train_config.is_file():
        raise InvalidParameterError(f"{train_config}: no such train config (--train-config).")
    data = read_mapping(train_config)
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), dict):
        raise InvalidParameterError(
            f"{train_config}: expected a `taskorder train` config with a 'tasks' mapping."
        )
    tasks = sorted(str(task) for task in data["tasks"])
    if tasks != sorted(order):
        raise InvalidParameterError(
            f"{train_config}: the config trains tasks {tasks}; the solved matrix has "
            f"{sorted(order)}. Expected the same tasks."
        )
    old = data.get("schedule") if isinstance(data.get("schedule"), dict) else {}
    if steps is None and passes is None:
        steps, passes = old.get("steps_per_stage"), old.get("passes_per_stage")
    schedule = schedule_document(order, steps_per_stage=steps, passes_per_stage=passes)
    return {**data, "schedule": schedule}
