"""Blocks for re-planning floors, active probing, entropy models and the noise-aware choice.

Each reads the CSV its benchmark wrote under ``benchmarks/results/``; a file that covers
fewer worlds than the evidence split says so in the block.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from report_common import (
    MODES,
    RESULTS,
    evidence_rows,
    read_csv,
    registry,
    reported_splits,
    spread,
    world_list,
)

BLOCKS, block = registry()


def _floor_rows(split: str, mode: str) -> list[dict]:
    return read_csv(RESULTS / f"replan_floors_{split}_{mode}.csv")


def _floor_counts(rows: list[dict], method: str) -> tuple[int, int, int, list[float]]:
    mine = [r for r in rows if r["method"] == method]
    met = sum(r["met"] == "True" for r in mine)
    refused = sum(r["note"] == "refused" for r in mine)
    pct = [float(r["score_pctl"]) for r in mine if r["score_pctl"] != ""]
    return met, len(mine), refused, pct


def _stale(worlds: Iterable, split: str, mode: str, script: str) -> str:
    """A visible note when a result file covers other worlds than the evidence split."""
    want = {int(r["world"]) for r in evidence_rows(split, mode)}
    have = {int(w) for w in worlds}
    missing = sorted(want - have)
    if not missing:
        return ""
    return (f"\n\n(This run covers {len(have & want)} of the {len(want)} {split} worlds; "
            f"missing {world_list(missing)}: `{script}` resumes it.)")


@block("replan-floors")
def replan_floors() -> str:
    from replan import floors_summary

    out = []
    for split in reported_splits():
        for mode in MODES:
            rows = _floor_rows(split, mode)
            if not rows:
                out.append(f"**{split}, {mode}**: not run (`python benchmarks/replan.py --floors "
                           f"--split {split} --mode {mode}`).")
                continue
            text = floors_summary(rows).strip()
            head, rest = text.split("\n", 1)
            out.append(f"**{head}**\n{rest}" + _stale(
                (r["world"] for r in rows), split, mode,
                f"python benchmarks/replan.py --floors --split {split} --mode {mode}"))
    return "\n\n".join(out)


@block("replan-floors-findings")
def replan_floors_findings() -> str:
    lines = []
    for split in reported_splits():
        for mode in MODES:
            rows = _floor_rows(split, mode)
            if not rows:
                continue
            c = {m: _floor_counts(rows, m) for m in (
                "static unconstrained", "static additive", "static multiplicative",
                "replan unconstrained", "replan floored")}
            worlds = len({r["world"] for r in rows})
            lines.append(
                f"- **{split}, {mode}** ({c['replan floored'][1]} floors in {worlds} worlds): "
                f"without a floor the plan made once met {c['static unconstrained'][0]} of "
                f"{c['static unconstrained'][1]} and re-planning {c['replan unconstrained'][0]}; "
                f"re-planning with the floor met {c['replan floored'][0]} of "
                f"{c['replan floored'][1]} (score percentile {spread(c['replan floored'][3])}), "
                f"the static plan under the multiplicative entropy model "
                f"{c['static multiplicative'][0]} ({spread(c['static multiplicative'][3])}), "
                f"under the additive one {c['static additive'][0]} "
                f"({c['static additive'][2]} refused).")
    return "\n".join(lines) or "(not run)"


@block("readme-floors")
def readme_floors() -> str:
    parts = []
    for split in reported_splits():
        for mode in MODES:
            rows = _floor_rows(split, mode)
            if not rows:
                continue
            c = {m: _floor_counts(rows, m) for m in
                 ("replan floored", "static multiplicative", "static additive")}
            worlds = len({r["world"] for r in rows})
            n = c["replan floored"][1]
            parts.append(
                f"{mode} mode ({worlds} worlds, {n} floors): re-planning with the floor met "
                f"{c['replan floored'][0]} of {n} (score percentile median "
                f"{np.median(c['replan floored'][3]):.1f}), the static plan under the "
                f"multiplicative entropy model {c['static multiplicative'][0]} (median "
                f"{np.median(c['static multiplicative'][3]):.1f}), under the additive model "
                f"{c['static additive'][0]}")
    return ("- **Entropy floors** ([re-planning](docs/replanning.md)): with floors fixed in "
            "advance (each open task's median final entropy over all orders, so a random "
            "order meets it half the time), on held-out worlds: " + "; ".join(parts) + ".")


# ------------------------------------------------------------ active probing blocks


def _active_rows(split: str) -> list[dict]:
    return [r for r in read_csv(RESULTS / f"active_probing_{split}.csv")
            if r["setting"] == "default"]


@block("active-probing")
def active_probing() -> str:
    lines = ["Min / median / max over worlds:", "",
             ("| split | mode | worlds | probes used (of n(n-1)) | share of the full design | "
             "stopped before the full design | regret vs full-campaign optimum | = full-campaign "
             "optimum | regret vs realised best | realised percentile | full campaign's "
             "optimum: realised percentile |"), "|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for split in reported_splits():
        rows = _active_rows(split)
        for mode in MODES:
            mine = [r for r in rows if r["mode"] == mode]
            if not mine:
                lines.append(f"| {split} | {mode} | not run | | | | | | | | |")
                continue
            early = sum(int(r["probes"]) < int(r["full"]) for r in mine)
            same = sum(r["exact_full_optimum"] == "True" for r in mine)
            lines.append(
                f"| {split} | {mode} | {world_list(r['world'] for r in mine)} | "
                f"{spread((r['probes'] for r in mine), 0)} | "
                f"{spread((100 * float(r['probe_share']) for r in mine), 0, ' %')} | "
                f"{early} of {len(mine)} | {spread((r['regret_full_pct'] for r in mine), 1, ' %')}"
                f" | {same} of {len(mine)} | {spread((r['regret_real_pct'] for r in mine), 1, ' %')}"
                f" | {spread(r['pctl'] for r in mine)} | {spread(r['full_opt_pctl'] for r in mine)} |")
            notes.append(_stale((r["world"] for r in mine), split, mode,
                                f"python benchmarks/active_probing.py --split {split}").strip())
    return "\n".join(lines) + ("\n\n" + "\n".join(n for n in notes if n) if any(notes) else "")


@block("active-probing-findings")
def active_probing_findings() -> str:
    lines = []
    for split in reported_splits():
        rows = _active_rows(split)
        for mode in MODES:
            mine = [r for r in rows if r["mode"] == mode]
            if not mine:
                continue
            early = [r for r in mine if int(r["probes"]) < int(r["full"])]
            same = sum(r["exact_full_optimum"] == "True" for r in mine)
            saved = ", ".join(str(int(r["full"]) - int(r["probes"])) for r in early)
            lines.append(
                f"- {split}, {mode}: stopped before the full design in {len(early)} of "
                f"{len(mine)} worlds" + (f" (saving {saved} probes)" if early else "")
                + f"; returned the full campaign's optimum in {same} of {len(mine)}; realised "
                f"percentile {spread(r['pctl'] for r in mine)} against "
                f"{spread(r['full_opt_pctl'] for r in mine)} for the full campaign's optimum.")
    return "\n".join(lines) or "(not run)"


@block("readme-active")
def readme_active() -> str:
    parts = []
    for split in reported_splits():
        rows = _active_rows(split)
        for mode in MODES:
            mine = [r for r in rows if r["mode"] == mode]
            if mine:
                share = np.median([100 * float(r["probe_share"]) for r in mine])
                same = sum(r["exact_full_optimum"] == "True" for r in mine)
                parts.append(f"{mode}: median {share:.0f} % of the n(n-1) pairs measured, the "
                             f"full campaign's optimum found in {same} of {len(mine)} worlds")
    return ("- **Fewer probes** ([active probing](docs/active-probing.md)): on the learner's "
            "own probe campaigns of the held-out worlds (n = 3-5): " + "; ".join(parts)
            + ". At this size active probing saves little; larger n is not measured on "
            "campaigns yet.")


# --------------------------------------------------------------- entropy / noise blocks


@block("entropy-models")
def entropy_models() -> str:
    cells: dict[str, dict[str, list[dict]]] = {}
    worlds = set()
    for split in reported_splits():
        for mode in MODES:
            for r in read_csv(RESULTS / f"entropy_models_{split}_{mode}.csv"):
                cells.setdefault(r["model"], {}).setdefault(mode, []).append(r)
                worlds.add(int(r["world"]))
    if not cells:
        return "(not run: `python benchmarks/entropy_models.py --split heldout --mode exact`)"
    n_cells = {m: len(next(iter(cells.values())).get(m, [])) for m in MODES}
    lines = [(f"Held-out worlds {world_list(worlds)}; a cell is one open task of one world "
             f"({n_cells['exact']} cells per mode); min / median / max over cells:"), "",
             ("| model | mode | Spearman (predicted, measured) | MAE (nats) | share of predictions "
             "< 0 |"), "|---|---|---|---|---|"]
    for model, by_mode in cells.items():
        for mode in MODES:
            rows = by_mode.get(mode, [])
            rho = [r["spearman"] for r in rows if r["spearman"] != ""]
            lines.append(f"| {model} | {mode} | {spread(rho, 2)} | "
                         f"{spread((r['mae'] for r in rows), 3)} | "
                         f"{spread((r['negative_share'] for r in rows), 2)} |")
    return "\n".join(lines)


@block("noise-aware")
def noise_aware() -> str:
    lines = [("| split | mode | worlds | P(point order optimal) | risk-averse order differs | "
             "realised mean final score, point order | worst seed, point order |"),
             "|---|---|---|---|---|---|---|"]
    for split in reported_splits():
        for mode in MODES:
            rows = read_csv(RESULTS / f"noise_entropy_{split}_{mode}.csv")
            if not rows:
                lines.append(f"| {split} | {mode} | not run | | | | |")
                continue
            differ = sum(r["same_order"] != "True" for r in rows)
            lines.append(f"| {split} | {mode} | {world_list(r['world'] for r in rows)} | "
                         f"{spread((r['p_optimal_point'] for r in rows), 2)} | {differ} of "
                         f"{len(rows)} | {spread((r['point_mean'] for r in rows), 3)} | "
                         f"{spread((r['point_worst'] for r in rows), 3)} |")
    differing = [r for split in reported_splits() for mode in MODES
                 for r in read_csv(RESULTS / f"noise_entropy_{split}_{mode}.csv")
                 if r["same_order"] != "True"]
    if differing:
        gains = [float(r["quantile_mean"]) - float(r["point_mean"]) for r in differing]
        worst = [float(r["quantile_worst"]) - float(r["point_worst"]) for r in differing]
        lines += ["", (f"Where the two orders differ ({len(differing)} worlds), risk-averse minus "
                  f"point order: mean final score {spread(gains, 3, sign=True)}, worst seed "
                  f"{spread(worst, 3, sign=True)} (min / median / max).")]
    else:
        lines += ["", ("The risk-averse choice was the point order in every world, so there is "
                  "no realised difference to report on this learner.")]
    return "\n".join(lines)


@block("replan-horizons")
def replan_horizons() -> str:
    """docs/replanning.md: horizons, the cheap design and best-of-k random (benchmarks/replan.py)."""
    lines = [("| mode | worlds | method | trained order: percentile | delivered model: percentile "
             "| stages (median) |"), "|---|---|---|---|---|---|"]
    found = False
    for mode in MODES:
        rows = [r for split in reported_splits()
                for r in read_csv(RESULTS / f"replan_horizons_{split}_{mode}.csv")]
        if not rows:
            continue
        found = True
        worlds = world_list(r["world"] for r in rows)
        for name in dict.fromkeys(
                "best of k random" if r["method"].startswith("best of") else r["method"]
                for r in rows):
            mine = [r for r in rows if (r["method"].startswith("best of")
                                        if name == "best of k random" else r["method"] == name)]
            lines.append(f"| {mode} | {worlds} | {name} | {spread(r['pctl'] for r in mine)} | "
                         f"{spread(r['model_pctl'] for r in mine)} | "
                         f"{np.median([float(r['stages']) for r in mine]):.0f} |")
    if not found:
        return "(not run: `python benchmarks/replan.py --split heldout --mode exact`)"
    return ("Min / median / max over held-out worlds. *static*: the backward-only optimum of one "
            "full probe campaign (not the recommended order); *best of k random*: k random "
            "curricula at about re-planning's (h = 3, full) stage budget, the best by the "
            "runner's own evaluation kept.\n\n" + "\n".join(lines))
