"""Blocks of ``benchmarks/report.py`` for the online schedules (docs/online.md, docs/real-lm.md).

- ``online-heldout``: ``benchmarks/online.py``'s held-out tables (both modes), rendered by
  that script's own summary functions from ``results/online_heldout_*.csv``;
- ``real-lm-online``: SEC, TAC and worst-task on SmolLM2 beside the CPU run's compare methods,
  from ``results/real_lm_cpu/online.json`` (``benchmarks/real_lm_online.py``).
"""

from __future__ import annotations

import itertools
import json
import math
import statistics

import online
from report_common import MODES, RESULTS, heldout_rows, read_csv, registry, spread, world_list

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


# ------------------------------------------------------------ docs/online.md prose blocks

ONLINE_POLICIES = ("sec", "tac", "worst_task")


def _g(x: float) -> str:
    return f"{x:g}"


def _options_text(options: dict) -> str:
    return ", ".join(f"{k} {_g(v)}" for k, v in options.items())


def _dev_rows() -> list[dict]:
    return [r for m in MODES for r in read_csv(RESULTS / f"online_dev_{m}.csv")]


def _dev_grid_text(policy: str, options: list[dict]) -> str:
    """The options a policy ran on the dev worlds, as the page writes a grid."""
    if policy == "sec":
        alphas = sorted({o["alpha"] for o in options})
        taus = sorted({o["tau"] for o in options})
        return f"alpha {', '.join(map(_g, alphas))} x tau {', '.join(map(_g, taus))}"
    if policy == "tac":
        groups: dict[tuple, list[float]] = {}
        for o in options:
            groups.setdefault((o["alpha"], o["tau"]), []).append(o["transfer"])
        if len({tuple(sorted(xs)) for xs in groups.values()}) == 1:
            xs = next(iter(groups.values()))
            return f"transfer {', '.join(map(_g, sorted(xs)))} at " + " and at ".join(
                f"(alpha {_g(a)}, tau {_g(t)})" for a, t in sorted(groups)
            )
        return " and ".join(
            f"transfer {', '.join(map(_g, sorted(xs)))} at (alpha {_g(a)}, tau {_g(t)})"
            for (a, t), xs in sorted(groups.items())
        )
    keys = sorted({k for o in options for k in o})
    return "; ".join(
        f"{k} {', '.join(map(_g, sorted({o[k] for o in options if k in o})))}" for k in keys
    )


@block("online-dev")
def online_dev() -> str:
    """docs/online.md: how the online defaults were chosen (development worlds only)."""
    rows = _dev_rows()
    if not rows:
        return "(not run: `python benchmarks/online.py --split dev --mode exact`)"
    worlds = {m: sorted({int(r["world"]) for r in rows if r["mode"] == m}) for m in MODES}
    pairs = sum(len(w) for w in worlds.values())
    seeds = sorted({r["seeds"] for r in rows})
    scope = (
        f"Development worlds {world_list(worlds['exact'])}, both modes"
        if worlds["exact"] == worlds["sampled"]
        else f"Development worlds {world_list(worlds['exact'])} (exact) and "
        f"{world_list(worlds['sampled'])} (sampled)"
    )
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["policy"], row["options"]), []).append(row)

    def stats(policy: str, options: str) -> tuple[float, list[float], float]:
        mine = groups[(policy, options)]
        gains = [float(r["gain_vs_joint_pct"]) for r in mine]
        worst = [online._worst_gain(r) for r in mine]
        return statistics.mean(gains), gains, statistics.mean(worst)

    def row(policy: str, label: str, grid: str, options: str) -> str:
        mean, gains, worst = stats(policy, options)
        return (
            f"| {label} | {grid} | {_options_text(json.loads(options))} | {mean:+.2f}; "
            f"{spread(gains, 2, sign=True)} | {worst:+.2f} |"
        )

    chosen = online.dev_choice()
    by_policy = {p: [json.loads(o) for (q, o) in groups if q == p] for p in ONLINE_POLICIES}
    sec_alpha = json.loads(chosen["sec"][0])["alpha"]
    sec_at = {  # tau -> options string, at the chosen step size
        json.loads(o)["tau"]: o
        for (p, o) in groups
        if p == "sec" and json.loads(o)["alpha"] == sec_alpha
    }
    greediest = sec_at[min(sec_at)]
    lines = [
        (
            f"{scope}, {pairs} world-mode pairs, {'/'.join(seeds)} seeds each: one online stage of `n x 40` steps against joint "
            "training (one stage, equal mixture, same steps) from the same starting states. "
            "Gain = `(score - joint) / joint` in percent; sec and tac are chosen on the mean "
            "score over tasks, `worst_task` on the worst task's score (its aim). Raw rows: "
            "`benchmarks/results/online_dev_{exact,sampled}.csv`; full grid in "
            "`benchmarks/results/online_summary.md`."
        ),
        "",
        (
            "| policy | grid | chosen default | mean score vs joint %: mean; min / median / max "
            "over world-mode pairs | worst task vs joint %: mean |"
        ),
        "|---|---|---|---|---:|",
        row("sec", "`sec`", _dev_grid_text("sec", by_policy["sec"]), chosen["sec"][0]),
        row("sec", "`sec` (greediest tried)", "", greediest),
        row("tac", "`tac`", _dev_grid_text("tac", by_policy["tac"]), chosen["tac"][0]),
        row(
            "worst_task",
            "`worst_task`",
            _dev_grid_text("worst_task", by_policy["worst_task"]),
            chosen["worst_task"][0],
        ),
    ]
    means = {key: stats(*key)[0] for key in groups}
    taus = sorted(sec_at)
    curve = [means[("sec", sec_at[t])] for t in taus]  # gain from greediest to most uniform
    monotone = all(a < b for a, b in itertools.pairwise(curve))
    if all(m < 0 for m in means.values()):
        opening = (
            "on this learner every departure from the uniform mixture costs mean score (all "
            f"{len(means)} settings are below joint on average)"
        )
    else:
        better = sum(m >= 0 for m in means.values())
        opening = f"{better} of the {len(means)} settings match or beat joint on average"
    trend = (
        f"at alpha {_g(sec_alpha)}, SEC's mean gain falls {'monotonically ' if monotone else ''}"
        f"from {curve[-1]:+.1f} % at tau {_g(taus[-1])} to {curve[0]:+.1f} % at tau "
        f"{_g(taus[0])}"
    )
    least = all(
        json.loads(chosen[p][0])["tau"] == max(o["tau"] for o in by_policy[p])
        for p in ("sec", "tac")
    )
    top_tau = taus[-1]
    alphas = {
        json.loads(o)["alpha"]: means[("sec", o)]
        for (p, o) in groups
        if p == "sec" and json.loads(o)["tau"] == top_tau
    }
    step_text = ""
    if len(alphas) == 2:
        (a1, m1), (a2, m2) = sorted(alphas.items())
        step_text = (
            f" At tau {_g(top_tau)} SEC's two step sizes differ by {abs(m1 - m2):.2f} points "
            f"({m1:+.2f} % at alpha {_g(a1)} vs {m2:+.2f} % at alpha {_g(a2)})."
        )
    worst_opts = chosen["worst_task"][0]
    w_mean, _, w_worst = stats("worst_task", worst_opts)
    lines += [
        "",
        (
            f"What the grid says, before any held-out number: {opening}, and "
            + (
                "the more a bandit concentrates the more it costs"
                if monotone
                else "concentration does not cost mean score monotonically"
            )
            + f" ({trend}). "
            + (
                "The chosen `sec` and `tac` defaults are the least concentrated of their "
                "grids (the largest tau), i.e. the bandit costs least where it acts least."
                if least
                else "The chosen `sec` and `tac` defaults are not both the least concentrated "
                "of their grids."
            )
            + step_text
            + " TAC's second grid was added after the first 14 exact worlds had shown SEC best "
            "at its most uniform setting (so that TAC, which is SEC plus the transfer term, is "
            f"compared at SEC's temperature); the choice then used all {pairs} world-mode "
            f"pairs. `worst_task` does what it is for: {w_worst:+.0f} % on the worst task's "
            f"score at a cost of {w_mean:+.1f} % on the mean (mean over world-mode pairs)."
        ),
    ]
    return "\n".join(lines) + "\n"


def _heldout(mode: str) -> list[dict]:
    return read_csv(RESULTS / f"online_heldout_{mode}.csv")


def _method_rows(rows: list[dict], method: str) -> list[dict]:
    return [r for r in rows if r["method"] == method]


def _median(rows: list[dict], method: str, field: str) -> float:
    return statistics.median(float(r[field]) for r in _method_rows(rows, method))


def _cost_runs(rows: list[dict], method: str) -> float:
    """Median cost of a method in training runs beyond the equal budget (compare's column)."""
    return statistics.median(
        float(r["cost_steps"]) / float(r["total_steps"]) for r in _method_rows(rows, method)
    )


def _sig(rows: list[dict], method: str, field: str = "joint") -> tuple[list[dict], list[dict]]:
    """Worlds where ``method`` is significantly (p < 0.05) better / worse than joint or the
    best online method (``field`` = "best_online")."""
    gain, p = (
        ("gain_vs_joint_pct", "p_vs_joint")
        if field == "joint"
        else ("gain_vs_best_online_pct", "p_vs_best_online")
    )
    sig = [r for r in _method_rows(rows, method) if r[p] != "" and float(r[p]) < 0.05]
    return [r for r in sig if float(r[gain]) > 0], [r for r in sig if float(r[gain]) < 0]


def _range(values: list[float], form: str = ".2f", unit: str = "") -> str:
    """'a-b' (sorted) or 'a' when the values round alike: one number per mode, pooled."""
    texts = sorted({f"{v:{form}}" for v in values}, key=float)
    return f"{texts[0]}-{texts[-1]}{unit}" if len(texts) > 1 else f"{texts[0]}{unit}"


def _overhead_ratio(mode: str) -> float:
    rows = [r for r in read_csv(RESULTS / "online_overhead.csv") if r["mode"] == mode]
    return statistics.median(float(r["ratio"]) for r in rows)


@block("online-overhead")
def online_overhead() -> str:
    """docs/online.md: TAC's wall-time overhead (``online.py --overhead``)."""
    rows = read_csv(RESULTS / "online_overhead.csv")
    if not rows:
        return "(not run: `python benchmarks/online.py --overhead`)"
    ratio, share, worlds = {}, {}, set()
    for mode in MODES:
        mine = [r for r in rows if r["mode"] == mode]
        worlds |= {int(r["world"]) for r in mine}
        ratio[mode] = spread((r["ratio"] for r in mine), 3)
        share[mode] = 100 * statistics.median(
            float(r["alignment_s"]) / float(r["tac_s"]) for r in mine
        )
    held = {m: _heldout(m) for m in MODES}
    cost = {
        method: _range([_cost_runs(held[m], method) for m in MODES])
        for method in ("tac", "sec", "worst_task")
    }
    return (
        "**TAC's overhead** (`--overhead`): the same online stage with `tac(transfer=0)` "
        "(SEC's decisions plus the per-task gradients and their cosines) and with `sec`, "
        f"{online.OVERHEAD_REPEATS} interleaved timings per world, ratio of medians, min / "
        f"median / max over the {len(worlds)} held-out worlds: exact {ratio['exact']}, sampled "
        f"{ratio['sampled']}; the alignment bookkeeping is {share['exact']:.1f} % / "
        f"{share['sampled']:.1f} % of the TAC stage's time (median). The learner's step is tiny "
        "(8 x 8 + 8 parameters), so this per-batch cost weighs more here than the paper's < 1 % "
        "on an LLM; ratios below 1 are timing noise of the shared machine. In `compare`'s cost "
        f"column (median over worlds, exact / sampled pooled) the overhead is {cost['tac']} runs "
        f"for `tac`, {cost['sec']} for `sec`, {cost['worst_task']} for `worst_task`.\n"
    )


def _refresh_moves(mode: str) -> list[tuple[int, float, float]]:
    rows = _heldout(mode)
    score = {(int(r["world"]), r["method"]): float(r["score"]) for r in rows}
    worlds = sorted({w for w, _ in score})
    return [
        (w, score[(w, "solver")], score[(w, "refresh")])
        for w in worlds
        if score.get((w, "refresh")) != score.get((w, "solver"))
    ]


@block("online-findings")
def online_findings() -> str:
    """docs/online.md: which method wins where, from ``online_heldout_<mode>.csv``."""
    held = {m: _heldout(m) for m in MODES}
    if not all(held.values()):
        return "(not run: `python benchmarks/online.py --split heldout --mode exact`)"
    worlds = {m: len({r["world"] for r in held[m]}) for m in MODES}

    def med(method: str, field: str = "gain_vs_joint_pct") -> dict[str, float]:
        return {m: _median(held[m], method, field) for m in MODES}

    def pair(values: dict[str, float], form: str = "+.1f", unit: str = " %") -> str:
        return (
            f"{values['exact']:{form}}{unit} (exact) and {values['sampled']:{form}}{unit} (sampled)"
        )

    def slash(values: dict[str, float], form: str = "+.1f") -> str:
        return f"{values['exact']:{form}} / {values['sampled']:{form}} %"

    sec, tac, solver, hybrid = med("sec"), med("tac"), med("solver"), med("hybrid")
    worst_gain = med("worst_task")
    sec_min = {
        m: min(float(r["gain_vs_joint_pct"]) for r in _method_rows(held[m], "sec")) for m in MODES
    }
    sec_sig = {m: _sig(held[m], "sec") for m in MODES}
    sec_worse = [abs(float(r["gain_vs_joint_pct"])) for m in MODES for r in sec_sig[m][1]]
    top2 = all(
        {"joint", "sec"}
        == set(
            sorted({r["method"] for r in held[m]}, key=lambda x: -_median(held[m], x, "score"))[:2]
        )
        for m in MODES
    )
    bullets = [
        "- **Mean score: uniform mixing or SEC.** "
        + (
            "Joint training and `sec` have the two highest median scores in both modes: "
            if top2
            else "Joint training and `sec` do not hold the two highest median scores in both "
            "modes: "
        )
        + f"`sec` is {pair(sec)} from joint at the median, never more than "
        f"{-sec_min['exact']:.1f} % (exact) / {-sec_min['sampled']:.1f} % (sampled) below it, "
        "significantly better in "
        f"{len(sec_sig['exact'][0])} exact and {len(sec_sig['sampled'][0])} sampled worlds, "
        f"significantly worse in {len(sec_sig['exact'][1])} exact and "
        f"{len(sec_sig['sampled'][1])} sampled ones"
        + (f" (by at most {max(sec_worse):.1f} %)" if sec_worse else "")
        + ". Its chosen temperature is the least concentrated of its grid: the bandit matches "
        "joint by staying close to it."
    ]
    tac_behind = all(tac[m] < sec[m] for m in MODES)
    extra = [100 * (_overhead_ratio(m) - 1) for m in MODES]
    bullets.append(
        "- **TAC adds nothing here.** "
        + (
            "The transfer term does not beat SEC in either mode "
            if tac_behind
            else "The transfer term beats SEC in at least one mode "
        )
        + f"({tac['exact']:+.1f} vs {sec['exact']:+.1f} % exact, {tac['sampled']:+.1f} vs "
        f"{sec['sampled']:+.1f} % sampled at the median) and costs {_range(extra, '.0f')} % more "
        "wall time per stage (median ratio, exact / sampled). The paper's gain (+2.8 points "
        "over a learnability bandit on six LLM domains) is not reproduced on this learner, "
        "which says nothing about LLMs either way."
    )
    worst = {
        m: (_median(held[m], "worst_task", "worst_task"), _median(held[m], "joint", "worst_task"))
        for m in MODES
    }
    lift = {m: 100 * (w / j - 1) for m, (w, j) in worst.items()}
    bullets.append(
        "- **The worst task: `worst_task`.** It lifts the worst task's median score by "
        f"{lift['exact']:.0f} % (exact, {worst['exact'][0]:.4f} vs {worst['exact'][1]:.4f}) and "
        f"{lift['sampled']:.0f} % (sampled, {worst['sampled'][0]:.4f} vs "
        f"{worst['sampled'][1]:.4f}) over joint, at {slash(worst_gain)} of mean score "
        "(median): MT-GRPO's trade-off, reproduced in kind."
    )
    solver_rows = [r for m in MODES for r in _method_rows(held[m], "solver")]
    below_best = all(float(r["gain_vs_best_online_pct"]) < 0 for r in solver_rows)
    solver_worth = sum(r["worth_probes"] == "True" for r in solver_rows)
    cost = _range([_cost_runs(held[m], "solver") for m in MODES], "g")
    bullets.append(
        "- **The planned curriculum does not pay for its probes here.** `solver` is "
        f"{_range([-solver[m] for m in MODES], '.1f', ' %')} below joint at the median, "
        + (
            "below the best online method in every world, "
            if below_best
            else "not below the best online method in every world, "
        )
        + f"and costs {cost} training runs of probes (median): worth it in {solver_worth} of "
        f"{len(solver_rows)} world-mode pairs. This matches the evidence benchmark's finding "
        "that on this learner joint training beats the orders ([compare.md](compare.md))."
    )
    moves = {m: _refresh_moves(m) for m in MODES}
    ups = [(m, w, a, b) for m in MODES for w, a, b in moves[m] if b > a]
    downs = [(m, w, a, b) for m in MODES for w, a, b in moves[m] if b < a]

    def moved(items: list) -> str:
        return " and ".join(f"from {a:.3f} to {b:.3f} ({m}, world {w})" for m, w, a, b in items)

    acted = _range([len(moves[m]) for m in MODES], "g")
    if ups and downs:
        where = (
            f"Where it acted the mean score moved {moved(ups)}, but also {moved(downs)}: the "
            "BWT-based prediction of what a refresh wins back is not reliable on this learner."
        )
        head = "**`refresh` rarely acts, and then both ways.**"
    else:
        where = f"Where it acted the mean score moved {moved(ups or downs) or 'nowhere'}."
        head = "**`refresh` rarely acts.**"
    bullets.append(
        f"- {head} It planned refresh stages in {acted} of {worlds['exact']} worlds per mode; "
        "in the others the solver's order left nothing the linear model predicts worth "
        f"refreshing (see Refresh stages above), so it equals `solver`. {where}"
    )
    best = {m: online.best_counts(held[m]).get("hybrid", 0) for m in MODES}
    h_sig = {m: _sig(held[m], "hybrid", "best_online") for m in MODES}
    h_worth = {
        m: sum(r["worth_probes"] == "True" for r in _method_rows(held[m], "hybrid")) for m in MODES
    }
    minority = all(2 * h_worth[m] < worlds[m] for m in MODES) and solver_worth == 0
    bullets.append(
        "- **The hybrid is the planned method that can pay.** Keeping the planned order but "
        "letting a bandit mix in earlier tasks (rehearsal) "
        + (
            "recovers most of the curriculum's loss: "
            if all(hybrid[m] > solver[m] for m in MODES)
            else "changes the curriculum's loss: "
        )
        + f"{pair(hybrid)} from joint at the median instead of {slash(solver)}, best of all "
        f"methods in {best['exact']} exact and {best['sampled']} sampled worlds, and "
        f"significantly better than the best online method in {h_worth['exact']} of "
        f"{worlds['exact']} exact and {h_worth['sampled']} of {worlds['sampled']} sampled worlds "
        f"(significantly worse in {len(h_sig['exact'][1])} and {len(h_sig['sampled'][1])})."
        + (
            " So on this learner offline planning is worth its probes only in the hybrid form "
            "and only in a minority of worlds, and never as a plain curriculum."
            if minority
            else ""
        )
    )
    return "\n".join(bullets) + "\n"


@block("compare-online")
def compare_online() -> str:
    """docs/compare.md: the online benchmark's medians and cost column, in brief."""
    held = {m: _heldout(m) for m in MODES}
    if not all(held.values()):
        return "(not run: `python benchmarks/online.py --split heldout --mode exact`)"
    worlds = {m: sorted({int(r["world"]) for r in held[m]}) for m in MODES}
    seeds = sorted({r["seeds"] for m in MODES for r in held[m]})
    evidence_worlds = {int(r["world"]) for m in MODES for r in heldout_rows(m)}
    common = sorted(evidence_worlds & set(worlds["exact"]))
    shared = f"; {world_list(common)} are also among the worlds above" if common else ""
    solver_cost = [
        float(r["cost_steps"]) / float(r["total_steps"])
        for m in MODES
        for r in _method_rows(held[m], "solver")
    ]
    lines = [
        (
            "`benchmarks/online.py` runs `compare` with "
            + ", ".join(f"`{m}`" for m in online.HELDOUT_METHODS[:-1])
            + f" and `{online.HELDOUT_METHODS[-1]}` on {len(worlds['exact'])} held-out worlds "
            f"({world_list(worlds['exact'])}{shared}), both modes, {'/'.join(seeds)} seeds, the "
            "planned methods' matrix from a 2-repeat probe campaign (their cost: "
            f"{_range([min(solver_cost), max(solver_cost)], 'g')} training runs, median "
            f"{statistics.median(solver_cost):g}). Medians over worlds of the gain over joint "
            "(full tables, spread and the per-world verdicts in [online.md](online.md)):"
        ),
        "",
        "| method | exact | sampled | cost (training runs beyond the budget, median) |",
        "|---|---:|---:|---:|",
    ]
    for method in online.HELDOUT_METHODS:
        if method == "joint":
            continue
        cells = []
        for m in MODES:
            text = f"{_median(held[m], method, 'gain_vs_joint_pct'):+.1f} %"
            if method == "worst_task":
                lift = 100 * (
                    _median(held[m], method, "worst_task") / _median(held[m], "joint", "worst_task")
                    - 1
                )
                text += f" (worst task {lift:+.0f} %)"
            cells.append(text)
        costs = [_cost_runs(held[m], method) for m in MODES]
        form = ".3g" if method in online.HELDOUT_METHODS[:3] else ".2f"
        cost = " / ".join(dict.fromkeys(f"{c:{form}}" for c in costs))
        lines.append(f"| `{method}` | {cells[0]} | {cells[1]} | {cost} |")
    plain = [
        r for m in MODES for meth in ("solver", "refresh") for r in _method_rows(held[m], meth)
    ]
    plain_worth = sum(r["worth_probes"] == "True" for r in plain)
    pairs = sum(len(worlds[m]) for m in MODES)
    h_worth = {
        m: sum(r["worth_probes"] == "True" for r in _method_rows(held[m], "hybrid")) for m in MODES
    }
    h_worse = {m: len(_sig(held[m], "hybrid", "best_online")[1]) for m in MODES}
    lines += [
        "",
        (
            "The plain planned curriculum (`solver`, `refresh`) was worth its probes against the "
            f"best online method in {plain_worth} of {pairs} world-mode pairs each; the hybrid "
            f"in {h_worth['exact']} of {len(worlds['exact'])} exact and {h_worth['sampled']} of "
            f"{len(worlds['sampled'])} sampled worlds (significantly worse in "
            f"{h_worse['exact']} and {h_worse['sampled']})."
        ),
    ]
    return "\n".join(lines) + "\n"


@block("real-lm-online-findings")
def real_lm_online_findings() -> str:
    """docs/real-lm.md: what the online run on SmolLM2 says (seed swings, probe cost)."""
    data = json.loads((RESULTS / "real_lm_cpu" / "online.json").read_text(encoding="utf-8"))
    summary = data["summary"]
    rows = summary["rows"]
    seeds = {len(r["seed_means"]) for r in rows}
    swing_row = max(rows, key=lambda r: max(r["seed_means"]) - min(r["seed_means"]))
    swing = max(swing_row["seed_means"]) - min(swing_row["seed_means"])
    runs = [r for r in data["runs"] if r["method"] == swing_row["method"]]
    through = ""
    if len(runs) == 2:
        a, b = (r["scores"] for r in runs)
        task = max(a, key=lambda t: abs(a[t] - b[t]))
        through = f", for {swing_row['method']} mostly through {task}'s score"
    gaps = [abs(r["minus_joint"]) for r in rows if r["method"] != "joint"]
    separable = [
        r["method"]
        for r in rows
        if r["method"] != "joint"
        and not math.isnan(r["minus_joint_se"])
        and abs(r["minus_joint"]) > 2 * r["minus_joint_se"]
    ]
    n_tasks = len(data["runs"][0]["scores"])
    design = n_tasks + n_tasks * (n_tasks - 1)
    probes = summary["probe_stages_of_planning"]
    ratio = probes * summary["stage_steps"] / summary["total_steps"]
    seed_text = "/".join(str(s) for s in sorted(seeds))
    return (
        f"The seed-to-seed swings (a method's {seed_text} seeds differ by up to {swing:.2f}"
        f"{through}) are "
        + (
            "larger than every paired difference between a method and joint training "
            f"(at most {max(gaps):.3f})"
            if swing > max(gaps)
            else f"smaller than the largest paired difference to joint training ({max(gaps):.3f})"
        )
        + f": at this size, with {seed_text} seeds, "
        + (
            "no method (fixed order, joint, or online bandit) is separable from joint training "
            "(no paired difference beyond 2 standard errors)"
            if not separable
            else f"only {', '.join(separable)} differ from joint by more than 2 standard errors"
        )
        + f". The planned order paid {probes} probe stages ({probes // design} repeats of "
        f"`n + n(n-1)`, {summary['stage_steps']} steps each: {ratio:g} times the training "
        "itself) for a difference the seeds cannot resolve; the online methods paid none.\n"
    )
