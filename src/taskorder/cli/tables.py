"""What the probe, validate, demo and train commands print: the tables and summaries.

Shared by the commands that show the same results (``probe run`` and ``demo`` show a
probed matrix; ``validate`` and ``demo`` a validation; ``probe replan`` and ``train
--replan`` the re-planning decisions), so each reads the same everywhere.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from taskorder.cli.common import print_json, stderr, stdout

__all__ = [
    "fmt",
    "print_calibrated",
    "print_estimate",
    "print_replan",
    "print_validation",
    "print_verdict",
    "say_decision",
]


def fmt(value: float, digits: str = "+.3f") -> str:
    """``value`` formatted with ``digits``; ``—`` for None or NaN."""
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
            text = "missing" if math.isnan(value) else fmt(float(value))
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
            fmt(estimate.base_scores[task], ".3f"),
            fmt(float(estimate.matrix.own_scores[k]), ".3f"),
            fmt(estimate.base_entropy[task], ".3f"),
            fmt(estimate.own_entropy_change[task]),
        )
    return table


def print_estimate(estimate: Any, matrix: Any) -> None:
    """The probed matrix (± stderr, imputed entries flagged) and the own-stage table."""
    stdout.print(
        _matrix_table(
            matrix, "BWT: bwt[i, j] = change of task i's score from training j after i (± stderr)"
        )
    )
    stdout.print(_stage_table(estimate))
    stdout.print(f"standard errors from: {estimate.stderr_source} ({estimate.n_repeats} repeat(s))")


def print_verdict(data: dict[str, Any]) -> None:
    """The recommended order first: its realised percentile and, if it loses, why."""
    rec = data.get("recommendation") or {}
    if rec.get("order"):
        stdout.print(f"recommended order: {' > '.join(rec['order'])} (route {rec['route']})")
        stdout.print(f"  why: {rec['reason']}")
        if rec.get("advice"):
            stdout.print(f"  advice: {rec['advice']}")
    for line in data.get("verdict") or []:
        stdout.print(line)


def print_validation(report: Any, *, verdict: bool = True) -> None:
    """A validation report: verdict, model fidelity, realised ranks, gains, assumptions."""
    data = report.to_dict()
    if verdict:
        print_verdict(data)
    _print_fidelity(report, data)
    _print_realised_ranks(report, data)
    if "random_mean" in data["realised"]:
        stdout.print(
            f"random orders' mean percentile: {fmt(data['realised']['random_mean']['percentile'], '.0f')}"
        )
    if data["gains"]:
        gains = data["gains"]
        stdout.print(
            f"recommended order minus {gains['reference']} (observed mean final score): "
            f"{fmt(gains['recommended_minus_reference'], '+.4f')} ± {fmt(gains['se'], '.4f')}"
        )
    assumptions = data.get("assumptions") or {}
    if assumptions:
        drift = ", ".join(f"{t} {fmt(v)}" for t, v in assumptions["own_stage_drift"].items())
        stdout.print(
            f"own-stage assumption: score right after its own stage in a curriculum minus the "
            f"probed own score, mean per task: {drift} (mean |.| {fmt(assumptions['own_stage_mae'], '.3f')})"
        )
        losses = ", ".join(f"{m} {fmt(v, '.3f')}" for m, v in assumptions["loss_mae"].items())
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
            model, fmt(stats["spearman"]), fmt(stats["kendall"]), fmt(stats["mae"], ".4f")
        )
    table.add_row("noise ceiling", fmt(ceiling["ceiling"]), "", "")
    stdout.print(table)
    stdout.print(
        f"noise ceiling: split-half Spearman {fmt(ceiling['r_half'])}, Spearman-Brown "
        f"reliability {fmt(ceiling['reliability'])}, ceiling sqrt(rel) = {fmt(ceiling['ceiling'])}"
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
                fmt(real["observed_mean"], ".4f"),
                f"{real['rank']}/{report.n_orders}",
                fmt(real["percentile"], ".0f"),
            )
    stdout.print(ranks)


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
