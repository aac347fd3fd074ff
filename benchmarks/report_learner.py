"""Blocks for re-planning floors, active probing, entropy models and the noise-aware choice.

Each reads the CSV its benchmark wrote under ``benchmarks/results/``; a file that covers
fewer worlds than the evidence split says so in the block.
"""

from __future__ import annotations

import numpy as np
from report_common import (
    MODES,
    RESULTS,
    heldout_rows,
    heldout_scope,
    read_csv,
    registry,
    reported_splits,
    spread,
    world_list,
)

BLOCKS, block = registry()


def _floor_rows(mode: str) -> list[dict]:
    """Every held-out split's floor rows of one mode, pooled (as the evidence tables are)."""
    return [
        r
        for split in reported_splits()
        for r in read_csv(RESULTS / f"replan_floors_{split}_{mode}.csv")
    ]


def _coverage(rows: list[dict], mode: str, script: str) -> str:
    """A visible note when a result file covers fewer held-out worlds than the evidence CSVs."""
    want = {int(r["world"]) for r in heldout_rows(mode)}
    have = {int(r["world"]) for r in rows}
    missing = sorted(want - have)
    if not missing:
        return ""
    return (
        f"(Covers {len(have & want)} of the {len(want)} held-out worlds in {mode} mode; "
        f"missing {world_list(missing)}: `{script}` resumes it.)"
    )


def _floor_counts(rows: list[dict], method: str) -> tuple[int, int, int, list[float]]:
    mine = [r for r in rows if r["method"] == method]
    met = sum(r["met"] == "True" for r in mine)
    refused = sum(r["note"] == "refused" for r in mine)
    pct = [float(r["score_pctl"]) for r in mine if r["score_pctl"] != ""]
    return met, len(mine), refused, pct


@block("replan-floors")
def replan_floors() -> str:
    from replan import floors_summary

    out = []
    for mode in MODES:
        rows = _floor_rows(mode)
        if not rows:
            out.append(
                f"**{mode}**: not run (`python benchmarks/replan.py --floors --split "
                f"heldout --mode {mode}`)."
            )
            continue
        worlds = {int(r["world"]) for r in rows}
        floors = {(r["world"], r["task"]) for r in rows}
        rest = floors_summary(rows).strip().split("\n", 1)[1]
        note = _coverage(
            rows, mode, f"python benchmarks/replan.py --floors --split SPLIT --mode {mode}"
        )
        out.append(
            f"**held-out worlds, {mode}: {len(floors)} floors in {len(worlds)} worlds "
            f"({world_list(worlds)}); rule: median over all orders of the task's final "
            f"entropy**\n{rest}" + (f"\n\n{note}" if note else "")
        )
    return "\n\n".join(out)


def _floor_sentence(mode: str) -> str | None:
    rows = _floor_rows(mode)
    if not rows:
        return None
    c = {
        m: _floor_counts(rows, m)
        for m in (
            "static unconstrained",
            "static additive",
            "static multiplicative",
            "replan unconstrained",
            "replan floored",
        )
    }
    worlds = len({r["world"] for r in rows})
    return (
        f"**{mode}** ({c['replan floored'][1]} floors in {worlds} worlds): without a floor the "
        f"plan made once met {c['static unconstrained'][0]} of {c['static unconstrained'][1]} "
        f"and re-planning {c['replan unconstrained'][0]}; re-planning with the floor met "
        f"{c['replan floored'][0]} of {c['replan floored'][1]} (score percentile "
        f"{spread(c['replan floored'][3])}), the static plan under the multiplicative "
        f"entropy model {c['static multiplicative'][0]} "
        f"({spread(c['static multiplicative'][3])}), under the additive one "
        f"{c['static additive'][0]} ({c['static additive'][2]} refused)"
    )


@block("replan-floors-findings")
def replan_floors_findings() -> str:
    lines = [f"- {text}." for mode in MODES if (text := _floor_sentence(mode))]
    return "\n".join(lines) or "(not run)"


@block("readme-floors")
def readme_floors() -> str:
    parts = [text for mode in MODES if (text := _floor_sentence(mode))]
    return (
        "- **Entropy floors** ([re-planning](docs/replanning.md)): with floors fixed in "
        "advance (each open task's median final entropy over all orders, so a random "
        "order meets it half the time), on held-out worlds: " + "; ".join(parts) + "."
    )


# ------------------------------------------------------------ active probing blocks


def _active_rows(mode: str) -> list[dict]:
    """The shipped-default setting's rows of every held-out split, one mode, pooled."""
    return [
        r
        for split in reported_splits()
        for r in read_csv(RESULTS / f"active_probing_{split}.csv")
        if r["setting"] == "default" and r["mode"] == mode
    ]


@block("active-probing")
def active_probing() -> str:
    lines = [
        "Min / median / max over held-out worlds:",
        "",
        (
            "| mode | worlds | probes used (of n(n-1)) | share of the full design | "
            "stopped before the full design | regret vs full-campaign optimum | = full-campaign "
            "optimum | regret vs realised best | realised percentile | full campaign's "
            "optimum: realised percentile |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for mode in MODES:
        mine = _active_rows(mode)
        if not mine:
            lines.append(f"| {mode} | not run | | | | | | | | |")
            continue
        early = sum(int(r["probes"]) < int(r["full"]) for r in mine)
        same = sum(r["exact_full_optimum"] == "True" for r in mine)
        lines.append(
            f"| {mode} | {world_list(r['world'] for r in mine)} | "
            f"{spread((r['probes'] for r in mine), 0)} | "
            f"{spread((100 * float(r['probe_share']) for r in mine), 0, ' %')} | "
            f"{early} of {len(mine)} | {spread((r['regret_full_pct'] for r in mine), 1, ' %')}"
            f" | {same} of {len(mine)} | {spread((r['regret_real_pct'] for r in mine), 1, ' %')}"
            f" | {spread(r['pctl'] for r in mine)} | {spread(r['full_opt_pctl'] for r in mine)} |"
        )
        notes.append(_coverage(mine, mode, "python benchmarks/active_probing.py --split SPLIT"))
    notes = [n for n in notes if n]
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "")


@block("active-probing-findings")
def active_probing_findings() -> str:
    lines = []
    for mode in MODES:
        mine = _active_rows(mode)
        if not mine:
            continue
        early = [r for r in mine if int(r["probes"]) < int(r["full"])]
        same = sum(r["exact_full_optimum"] == "True" for r in mine)
        saved = spread((int(r["full"]) - int(r["probes"]) for r in early), 0)
        lines.append(
            f"- {mode}: stopped before the full design in {len(early)} of {len(mine)} worlds"
            + (f" (probes saved there, min / median / max: {saved})" if early else "")
            + f"; returned the full campaign's optimum in {same} of {len(mine)}; realised "
            f"percentile {spread(r['pctl'] for r in mine)} against "
            f"{spread(r['full_opt_pctl'] for r in mine)} for the full campaign's optimum."
        )
    return "\n".join(lines) or "(not run)"


@block("readme-active")
def readme_active() -> str:
    parts = []
    for mode in MODES:
        mine = _active_rows(mode)
        if mine:
            share = np.median([100 * float(r["probe_share"]) for r in mine])
            same = sum(r["exact_full_optimum"] == "True" for r in mine)
            parts.append(
                f"{mode}: median {share:.0f} % of the n(n-1) pairs measured, the "
                f"full campaign's optimum found in {same} of {len(mine)} worlds"
            )
    return (
        "- **Fewer probes** ([active probing](docs/active-probing.md)): on the learner's "
        "own probe campaigns of the held-out worlds (n = 3-5): "
        + "; ".join(parts)
        + ". Larger n, where the full design is expensive, is not measured on campaigns "
        "yet."
    )


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
    lines = [
        (
            f"Held-out worlds {world_list(worlds)}; a cell is one open task of one world "
            f"({n_cells['exact']} cells per mode); min / median / max over cells:"
        ),
        "",
        (
            "| model | mode | Spearman (predicted, measured) | MAE (nats) | share of predictions "
            "< 0 |"
        ),
        "|---|---|---|---|---|",
    ]
    for model, by_mode in cells.items():
        for mode in MODES:
            rows = by_mode.get(mode, [])
            rho = [r["spearman"] for r in rows if r["spearman"] != ""]
            lines.append(
                f"| {model} | {mode} | {spread(rho, 2)} | "
                f"{spread((r['mae'] for r in rows), 3)} | "
                f"{spread((r['negative_share'] for r in rows), 2)} |"
            )
    return "\n".join(lines)


@block("noise-aware")
def noise_aware() -> str:
    lines = [
        (
            "| split | mode | worlds | P(point order optimal) | risk-averse order differs | "
            "realised mean final score, point order | worst seed, point order |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for split in reported_splits():
        for mode in MODES:
            rows = read_csv(RESULTS / f"noise_entropy_{split}_{mode}.csv")
            if not rows:
                lines.append(f"| {split} | {mode} | not run | | | | |")
                continue
            differ = sum(r["same_order"] != "True" for r in rows)
            lines.append(
                f"| {split} | {mode} | {world_list(r['world'] for r in rows)} | "
                f"{spread((r['p_optimal_point'] for r in rows), 2)} | {differ} of "
                f"{len(rows)} | {spread((r['point_mean'] for r in rows), 3)} | "
                f"{spread((r['point_worst'] for r in rows), 3)} |"
            )
    differing = [
        r
        for split in reported_splits()
        for mode in MODES
        for r in read_csv(RESULTS / f"noise_entropy_{split}_{mode}.csv")
        if r["same_order"] != "True"
    ]
    if differing:
        gains = [float(r["quantile_mean"]) - float(r["point_mean"]) for r in differing]
        worst = [float(r["quantile_worst"]) - float(r["point_worst"]) for r in differing]
        lines += [
            "",
            (
                f"Where the two orders differ ({len(differing)} worlds), risk-averse minus "
                f"point order: mean final score {spread(gains, 3, sign=True)}, worst seed "
                f"{spread(worst, 3, sign=True)} (min / median / max)."
            ),
        ]
    else:
        lines += [
            "",
            (
                "The risk-averse choice was the point order in every world, so there is "
                "no realised difference to report on this learner."
            ),
        ]
    return "\n".join(lines)


@block("replan-horizons")
def replan_horizons() -> str:
    """docs/replanning.md: horizons, the cheap design and best-of-k random (benchmarks/replan.py)."""
    lines = [
        (
            "| mode | worlds | method | trained order: percentile | delivered model: percentile "
            "| stages (median) |"
        ),
        "|---|---|---|---|---|---|",
    ]
    found, versus = False, []
    for mode in MODES:
        rows = [
            r
            for split in reported_splits()
            for r in read_csv(RESULTS / f"replan_horizons_{split}_{mode}.csv")
        ]
        if not rows:
            continue
        found = True
        medians = {
            key: np.median([float(r["pctl"]) for r in rows if test(r["method"])])
            for key, test in (
                ("replan", lambda m: m == "replan h=3 full"),
                ("random", lambda m: m.startswith("best of")),
            )
        }
        versus.append(f"{mode} {medians['replan']:.1f} vs {medians['random']:.1f}")
        worlds = world_list(r["world"] for r in rows)
        for name in dict.fromkeys(
            "best of k random" if r["method"].startswith("best of") else r["method"] for r in rows
        ):
            mine = [
                r
                for r in rows
                if (
                    r["method"].startswith("best of")
                    if name == "best of k random"
                    else r["method"] == name
                )
            ]
            lines.append(
                f"| {mode} | {worlds} | {name} | {spread(r['pctl'] for r in mine)} | "
                f"{spread(r['model_pctl'] for r in mine)} | "
                f"{np.median([float(r['stages']) for r in mine]):.0f} |"
            )
    if not found:
        return "(not run: `python benchmarks/replan.py --split heldout --mode exact`)"
    lines += [
        "",
        (
            "Median trained-order percentile, re-planning (h = 3, full) vs the best of k "
            "random curricula at about the same number of stages: " + "; ".join(versus) + "."
        ),
    ]
    return (
        "Min / median / max over held-out worlds. *static*: the backward-only optimum of one "
        "full probe campaign (not the recommended order); *best of k random*: k random "
        "curricula at about re-planning's (h = 3, full) stage budget, the best by the "
        "runner's own evaluation kept.\n\n" + "\n".join(lines)
    )


# ------------------------------------------------------------ docs/compare.md: joint vs orders


@block("compare-joint")
def compare_joint() -> str:
    """docs/compare.md: joint training placed among all orders of the held-out evidence worlds."""
    joint = {m: [r for r in heldout_rows(m) if r["method"] == "joint"] for m in MODES}
    if not all(joint.values()):
        return "(not run: `python benchmarks/evidence.py`)"
    recommended = {m: [r for r in heldout_rows(m) if r["method"] == "recommended"] for m in MODES}
    beats = {m: sum(float(r["value"]) > float(r["best_value"]) for r in joint[m]) for m in MODES}

    def row(label: str, cell) -> str:
        return f"| {label} | " + " | ".join(cell(m) for m in MODES) + " |"

    lines = [
        (
            "`benchmarks/evidence.py` trains joint multi-task training (this command's "
            f"reference) from the same starting states as every order of the {heldout_scope()}, "
            "both modes (rules and raw outputs in [evidence.md](evidence.md)), and places it "
            "among **all** orders by the one percentile "
            "(`taskorder.percentile.order_percentile`):"
        ),
        "",
        "| | " + " | ".join(MODES) + " |",
        "|---|" + "---|" * len(MODES),
        row(
            "joint beats every curriculum order",
            lambda m: f"{beats[m]} of {len(joint[m])} worlds",
        ),
        row(
            "joint minus the best order's mean final score (min / median / max)",
            lambda m: spread(
                (float(r["value"]) - float(r["best_value"]) for r in joint[m]), 3, sign=True
            ),
        ),
        row(
            "joint's percentile among all orders (min / median / max)",
            lambda m: spread(r["percentile"] for r in joint[m]),
        ),
        row(
            "recommended order (the `solver` row here): percentile min / median / max",
            lambda m: spread(r["percentile"] for r in recommended[m]),
        ),
    ]
    won, total = sum(beats.values()), sum(len(v) for v in joint.values())
    most = 2 * won > total
    lines += [
        "",
        (
            "**The result, stated as it came out:** on the built-in learner with the GRPO-like "
            "update (clipped ratio, KL to the stage-start policy, Adam reset per stage, groups "
            "whose rewards are all equal giving no signal, mixture batches drawn by proportion), "
            f"joint training beats every curriculum at equal steps in {won} of {total} "
            "held-out instances (world x mode). Mixing is no longer free in this learner's "
            "update (each mixed batch is normalised per group and clipped like any other), "
            + ("yet it wins. " if most else "and it wins in a minority of instances. ")
            + "The order of curricula matters (orders differ by many times their seed noise, "
            "see [evidence.md](evidence.md)), but on this learner the best order is "
            + ("in most worlds still worse than not ordering at all. " if most else "")
            + ("" if most else "usually better than not ordering at all. ")
            + "This is a property of a small shared linear policy, not a statement about LLMs; "
            "the same `compare` on a real runner is the experiment that matters."
        ),
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------- docs/learner.md: does order matter (dev)


def _effect_worlds(mode: str, suffix: str = "") -> list[tuple[str, str, dict]]:
    """(world, mix, learner_effect.world_summary) of one raw CSV, development worlds only."""
    from learner_effect import world_summary

    worlds: dict[tuple[str, str], list[dict]] = {}
    for row in read_csv(RESULTS / f"learner_effect_{mode}{suffix}.csv"):
        worlds.setdefault((row["world"], row["mix"]), []).append(row)
    return [(w, mix, world_summary(rows)) for (w, mix), rows in worlds.items()]


@block("learner-effect")
def learner_effect() -> str:
    """docs/learner.md: order effect vs seed noise on the development worlds 0-49."""
    from learner_effect import summarize

    def table(paths: list, keep=lambda line: True) -> list[str]:
        lines = summarize([p for p in paths if p.exists()]).split("\n")[1:]  # drop the caption
        return lines[:2] + [line for line in lines[2:] if keep(line)]

    grpo = [RESULTS / f"learner_effect_{m}.csv" for m in MODES]
    sgd = [RESULTS / f"learner_effect_{m}_sgd.csv" for m in MODES]
    if not all(p.exists() for p in grpo):
        return "(not run: `python benchmarks/learner_effect.py --mode exact`)"
    stats = {m: _effect_worlds(m) for m in MODES}
    legacy = {m: _effect_worlds(m, "_sgd") for m in MODES}

    def med(mode: str, key: str) -> float:
        return float(np.median([s[key] for _, _, s in stats[mode]]))

    def low(mode: str, key: str) -> float:
        return min(s[key] for _, _, s in stats[mode])

    def wins(worlds: list) -> str:
        return f"{sum(s['joint_minus_best'] > 0 for _, _, s in worlds)}/{len(worlds)}"

    out = [*table(grpo)]
    if all(legacy.values()):
        n = {len(v) for v in legacy.values()}
        out += [
            "",
            f'Legacy `update="sgd"`, same worlds (all {"/".join(map(str, sorted(n)))}):',
            "",
            *table(sgd, keep=lambda line: "| all |" in line),
        ]
    ex, sa = "exact", "sampled"
    pct = " / ".join(dict.fromkeys(f"{med(m, 'joint_percentile'):.0f}th" for m in MODES))
    bullets = [
        (
            "- **Order matters beyond noise in exact mode, barely in sampled mode** (development "
            f"worlds). Exact: the spread over orders is a median {med(ex, 'ratio'):.1f}× the "
            f"seed noise (min {low(ex, 'ratio'):.1f}×; best − worst median "
            f"{med(ex, 'order_range'):.3f}). Sampled: {med(sa, 'ratio'):.1f}× (min "
            f"{low(sa, 'ratio'):.1f}×), so one sampled run of an order is weak evidence about "
            f"it; seed noise (median {med(sa, 'seed_std'):.3f}) is "
            f"{100 * med(sa, 'seed_std') / med(sa, 'order_std'):.0f} % of the spread over orders (median "
            f"{med(sa, 'order_std'):.3f})."
        ),
        (
            f"- **Joint training still beats the best order** in {wins(stats[ex])} worlds "
            f"(exact) and {wins(stats[sa])} (sampled), by a median "
            f"{med(ex, 'joint_minus_best'):+.3f} / {med(sa, 'joint_minus_best'):+.3f}, and sits "
            f"at the {pct} percentile of orders in the median world"
            + (" (exact / sampled)." if "/" in pct else " (both modes).")
        ),
    ]
    if all(legacy.values()):
        bullets[-1] += (
            f" The legacy learner's joint training beat the best order in {wins(legacy[ex])} "
            f"and {wins(legacy[sa])} worlds: with the GRPO update mixing wins in "
            + " and ".join(f"{_win_delta(legacy[m], stats[m])} {m}" for m in MODES)
            + " (the cause is not measured separately: each task gets about n times fewer "
            "prompts per batch, and zero-advantage groups waste part of them). Nothing was "
            "tuned to change this."
        )
    flat = [(w, mix, m) for m in MODES for w, mix, s in stats[m] if s["order_range"] < 5e-4]
    if flat:
        bullets.append(
            "- Some worlds are degenerate: in "
            + ", ".join(f"world {w} ({mix}, {m})" for w, mix, m in flat)
            + " every order ends at the same score (best − worst below 0.0005) because the "
            "open task collapses to one "
            "acceptable answer, and a group of identical answers has equal rewards and gives "
            "no signal."
        )
    return "\n".join([*out, "", "What it shows, whichever way it goes:", "", *bullets]) + "\n"


def _win_delta(before: list, after: list) -> str:
    """'3 fewer worlds in' / 'as many worlds in' / '2 more worlds in' (joint beating every
    order), from the legacy learner's worlds to the GRPO learner's."""
    delta = sum(s["joint_minus_best"] > 0 for _, _, s in after) - sum(
        s["joint_minus_best"] > 0 for _, _, s in before
    )
    if delta == 0:
        return "as many worlds in"
    return f"{abs(delta)} {'more' if delta > 0 else 'fewer'} world{'s' * (abs(delta) != 1)} in"
