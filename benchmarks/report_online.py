"""Blocks of ``benchmarks/report.py`` for the online schedules (docs/online.md, docs/real-lm.md).

- ``online-heldout``: ``benchmarks/online.py``'s held-out tables (both modes), rendered by
  that script's own summary functions from ``results/online_heldout_*.csv``;
- ``real-lm-online``: SEC, TAC and worst-task on SmolLM2 beside the CPU run's compare methods,
  from ``results/real_lm_cpu/online.json`` (``benchmarks/real_lm_online.py``).
"""

from __future__ import annotations

import json
import math

import online
from report_common import RESULTS, registry

BLOCKS, block = registry()


@block("online-heldout")
def online_heldout() -> str:
    parts = []
    for mode in ("exact", "sampled"):
        lines = online._heldout_section(mode)
        parts.append(
            "\n".join(
                line.replace("## ", "### ", 1) if line.startswith("## ") else line for line in lines
            ).strip()
        )
    return "\n\n".join(parts) + "\n"


@block("real-lm-online")
def real_lm_online() -> str:
    data = json.loads((RESULTS / "real_lm_cpu" / "online.json").read_text(encoding="utf-8"))
    summary = data["summary"]
    seeds = sorted({r["seed"] for r in data["runs"]})
    header = (
        "| method | mean final score over tasks (mean of seeds) | seed means | minus joint, "
        "paired: mean ± se | probe stages before training |"
    )
    rows = [header, "|---|---|---|---|---|"]
    for row in sorted(summary["rows"], key=lambda r: -r["mean"]):
        se = row["minus_joint_se"]
        diff = (
            "—"
            if row["method"] == "joint"
            else (f"{row['minus_joint']:+.3f}" + ("" if math.isnan(se) else f" ± {se:.3f}"))
        )
        rows.append(
            f"| {row['method']} | {row['mean']:.3f} | "
            f"{', '.join(f'{x:.3f}' for x in row['seed_means'])} | {diff} | "
            f"{row['probe_stages']} |"
        )
    return (
        f"{len(seeds)} seed(s) per online method ({', '.join(map(str, seeds))}), "
        f"{summary['total_steps']} GRPO steps per method ({summary['stage_steps']} per task), "
        "the same base states and evaluation seeds as the CPU run's `compare` (paired by "
        "seed); statistic: mean over seeds, and the paired difference to joint training with "
        "its standard error.\n\n" + "\n".join(rows) + "\n"
    )


@block("readme-online")
def readme_online() -> str:
    import statistics

    parts = {}
    for mode in ("exact", "sampled"):
        rows = online._read(RESULTS / f"online_heldout_{mode}.csv")
        worlds = sorted({int(r["world"]) for r in rows})

        def median_gain(method: str, rows=rows) -> float:
            return statistics.median(
                float(r["gain_vs_joint_pct"]) for r in rows if r["method"] == method
            )

        worth = {
            m: sum(r["worth_probes"] == "True" for r in rows if r["method"] == m)
            for m in ("solver", "hybrid")
        }
        worst = {
            m: statistics.median(float(r["worst_task"]) for r in rows if r["method"] == m)
            for m in ("joint", "worst_task")
        }
        parts[mode] = (
            f"{mode} ({len(worlds)} worlds): `sec` {median_gain('sec'):+.1f} %, `tac` "
            f"{median_gain('tac'):+.1f} %, the planned order (`solver`) "
            f"{median_gain('solver'):+.1f} %, `hybrid` {median_gain('hybrid'):+.1f} % against "
            f"joint training (median); the planned order was worth its probes against the best "
            f"online method in {worth['solver']} of {len(worlds)} worlds, the hybrid in "
            f"{worth['hybrid']}; `worst_task` lifted the worst task's median score from "
            f"{worst['joint']:.3f} to {worst['worst_task']:.3f}"
        )
    return (
        "- **Against the online schedulers** ([online](docs/online.md)): SEC, TAC and a "
        "worst-task bandit decide each batch's mixture during training, at no probe cost. On "
        f"the held-out learner worlds, {parts['exact']}; {parts['sampled']}.\n"
    )
