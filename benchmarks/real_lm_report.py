"""Real-LM blocks of ``benchmarks/report.py``: docs/real-lm.md and README's real-LM bullet.

Renders from the committed raw outputs of ``benchmarks/real_lm.py``
(``benchmarks/results/real_lm_<size>/``); nothing is typed by hand. Regenerate with the one
report script::

    python benchmarks/report.py --write     # every block of README and docs, this one included
    python benchmarks/real_lm_report.py     # alias of the same command (kept for old notes)

Statistics: BWT entries and entropy changes are mean ± standard error over probe repeats;
``compare`` rows are the mean final score over seeds, with every seed's mean shown.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _load(folder: Path, name: str):
    path = folder / name
    return json.loads(path.read_text()) if path.is_file() else None


def _f(value, digits=3, sign=False):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def render(folder: Path) -> str:
    sys.path.insert(0, str(HERE.parent / "src"))
    from taskorder.io import read_matrix

    out = [
        (
            f"Raw outputs: `{folder.relative_to(HERE.parent)}/` "
            f"(`python benchmarks/real_lm.py`; this block: `python benchmarks/report.py`)."
        )
    ]
    timings = {}
    for path in sorted(folder.glob("timings_*.json")):
        timings.update(json.loads(path.read_text()))
    if timings:
        parts = [f"{k[:-2]} {v / 60:.1f} min" for k, v in timings.items() if k.endswith("_s")]
        out.append(f"Wall time on {timings.get('cpu_count')} CPU cores: " + ", ".join(parts) + ".")
    judge = _load(folder, "judge_check.json")
    if judge:
        n_good, n_bad = _judge_counts()
        out += [
            "",
            (
                "**The local judge** (SmolLM2-135M-Instruct grading its own kind, 1-5 scale, "
                f"probability-weighted): on {n_good} good and {n_bad} bad hand-written answers, AUC "
                f"{judge['auc_nonempty']:.2f} (0.5 = chance); mean grade good "
                f"{judge['good_mean']:.3f}, bad {judge['bad_mean']:.3f} on [0, 1]."
            ),
        ]
    matrix_path = folder / "matrix.json"
    summary = _load(folder, "probe_summary.json")
    if matrix_path.is_file() and summary:
        matrix = read_matrix(matrix_path)
        tasks = list(matrix.tasks)
        se = (
            matrix.bwt_stderr if matrix.bwt_stderr is not None else np.full_like(matrix.bwt, np.nan)
        )
        out += [
            "",
            (
                f"**BWT matrix** (row: trained first, column: trained after it; change of the "
                f"row task's score; ± standard error over {summary['n_repeats']} repeats):"
            ),
            "",
            "| earlier \\ later | " + " | ".join(tasks) + " |",
            "|---|" + "---|" * len(tasks),
        ]
        for i, a in enumerate(tasks):
            cells = [
                "" if i == j else f"{matrix.bwt[i, j]:+.3f} ± {se[i, j]:.3f}"
                for j in range(len(tasks))
            ]
            out.append(f"| {a} | " + " | ".join(cells) + " |")
        out += [
            "",
            "| task | base score | own-stage gain | base entropy (nats) |",
            "|---|---|---|---|",
        ]
        for t in tasks:
            out.append(
                f"| {t} | {_f(summary['base_scores'].get(t))} | "
                f"{_f(summary['own_score_change'].get(t), sign=True)} | "
                f"{_f(summary['base_entropy'].get(t))} |"
            )
        off = matrix.bwt[~np.eye(len(tasks), dtype=bool)]
        off_se = se[~np.eye(len(tasks), dtype=bool)]
        big = int(np.sum(np.abs(off) > 2 * off_se))
        out += [
            "",
            (
                f"Off-diagonal BWT entries: {len(off)}; beyond 2 standard errors: {big}; "
                f"median |BWT| {np.median(np.abs(off)):.3f} against median standard error "
                f"{np.nanmedian(off_se):.3f}."
            ),
        ]
    dynamics = _load(folder, "entropy_dynamics.json")
    if dynamics:
        out += [
            "",
            (
                "**Entropy after one stage on each task** (change from the starting model, "
                "mean ± standard error over repeats):"
            ),
            "",
            (
                "| trained on | kind | ΔH on its own prompts | ΔH on all prompts | "
                "Δscore on its own prompts |"
            ),
            "|---|---|---|---|---|",
        ]
        for r in dynamics:
            out.append(
                f"| {r['task']} | {r['kind']} | {_f(r['entropy_change_own'], sign=True)} "
                f"± {_f(r['se_own'])} | {_f(r['entropy_change_all'], sign=True)} ± "
                f"{_f(r['se_all'])} | {_f(r['score_change_own'], sign=True)} ± "
                f"{_f(r['se_score'])} |"
            )
    compare = _load(folder, "compare.json")
    if compare:
        ref = compare["reference"]
        gains = {(c["method"], c["reference"]): c for c in compare["comparisons"]}
        out += [
            "",
            (
                f"**compare** at equal training ({compare['total_steps']} GRPO steps per "
                f"method, {compare['seeds']} seeds, paired t-test over seeds; gain vs {ref}):"
            ),
            "",
            "| method | what | mean final score | seed means | gain vs " + ref + " | p |",
            "|---|---|---|---|---|---|",
        ]
        for name, m in compare["methods"].items():
            c = gains.get((name, ref))
            seeds = ", ".join(f"{x:.3f}" for x in m["seed_means"])
            out.append(
                f"| {name} | {m['description']} | {m['mean_score']:.3f} | {seeds} | "
                f"{_f(c['gain_pct'], 1, True) + ' %' if c else ''} | "
                f"{_f(c['p_value']) if c else ''} |"
            )
        rows = compare.get("predicted_vs_observed", [])
        if rows:
            out += [
                "",
                (
                    "**Predicted vs observed** (additive model on the probed matrix, mean "
                    "final score over tasks):"
                ),
                "",
                "| method | order | predicted | observed |",
                "|---|---|---|---|",
            ]
            for r in rows:
                out.append(
                    f"| {r['method']} | {' > '.join(r['order'])} | "
                    f"{r['predicted_mean']:.3f} | {r['observed_mean']:.3f} |"
                )
            distinct = {tuple(r["order"]): r for r in rows}.values()
            if len(distinct) >= 3:
                from scipy.stats import spearmanr

                rho = spearmanr(
                    [r["predicted_mean"] for r in distinct], [r["observed_mean"] for r in distinct]
                ).statistic
                out.append(
                    f"\nSpearman (predicted, observed) over the {len(distinct)} distinct "
                    f"trained orders: {rho:+.2f} (few orders: a weak check)."
                )
        recommendation = (compare.get("probe") or {}).get("recommendation")
        if recommendation:
            out.append(
                f"\nRecommendation: {recommendation.get('route', '')} - "
                f"{recommendation.get('reason', '')}"
            )
    return "\n".join(out) + "\n"


def _judge_counts() -> tuple[int, int]:
    """Good and non-empty bad answers of real_lm.JUDGE_CASES (the AUC's two groups)."""
    from real_lm import JUDGE_CASES

    good = sum(ok for _, _, ok in JUDGE_CASES)
    bad = sum(not ok and bool(answer) for _, answer, ok in JUDGE_CASES)
    return good, bad


def _pm(value: float, se: float, digits: int = 2) -> str:
    return f"{value:+.{digits}f} ± {se:.{digits}f}"


def facts(folder: Path) -> dict[str, str]:
    """The numbers the prose around the tables quotes, as text (one place, from raw outputs)."""
    sys.path.insert(0, str(HERE.parent / "src"))
    from taskorder.io import read_matrix

    summary = _load(folder, "probe_summary.json")
    dynamics = {r["task"]: r for r in _load(folder, "entropy_dynamics.json")}
    compare = _load(folder, "compare.json")
    judge = _load(folder, "judge_check.json")
    timings = {}
    for path in sorted(folder.glob("timings_*.json")):
        timings.update(json.loads(path.read_text()))
    matrix = read_matrix(folder / "matrix.json")
    tasks = list(matrix.tasks)
    off = ~np.eye(len(tasks), dtype=bool)
    bwt, se = matrix.bwt, matrix.bwt_stderr
    i, j = np.unravel_index(np.argmax(np.where(off, np.abs(bwt), -1)), bwt.shape)

    def entropy(kind):
        return ", ".join(
            f"{t} {_pm(r['entropy_change_own'], r['se_own'])}"
            for t, r in dynamics.items()
            if r["kind"] == kind
        )

    ref = compare["reference"]
    gains = {c["method"]: c for c in compare["comparisons"] if c["reference"] == ref}
    route = compare["probe"]["recommendation"]["route"]
    rec = "solver" if "solver" in compare["methods"] else next(iter(compare["methods"]))
    others = [
        f"{name} {m['mean_score']:.3f}"
        for name, m in compare["methods"].items()
        if name not in (rec, ref) and not (name == "rank_rule" and route == "rank_rule")
    ]
    base = [float(v) for v in summary["base_entropy"].values()]
    open_gain = [
        abs(float(summary["own_score_change"][t]))
        for t, r in dynamics.items()
        if r["kind"] == "open"
    ]
    g = gains[rec]
    return {
        "structured_entropy": entropy("structured"),
        "open_entropy": entropy("open"),
        "base_entropy_range": f"{min(base):.1f}-{max(base):.1f} nats",
        "open_own_gain": f"at most {max(open_gain):.3f} in magnitude",
        "largest_bwt": (
            f"{tasks[i]} after {tasks[j]} ({_pm(bwt[i, j], se[i, j], 3)}, the change "
            f"of {tasks[i]}'s score)"
        ),
        "beyond": str(int(np.sum(np.abs(bwt[off]) > 2 * se[off]))),
        "n_off": str(int(off.sum())),
        "route": route,
        "rec_score": f"{compare['methods'][rec]['mean_score']:.3f}",
        "joint_score": f"{compare['methods'][ref]['mean_score']:.3f}",
        "rec_gain": f"{g['gain_pct']:+.1f} %",
        "rec_p": f"{g['p_value']:.2f}",
        "seeds": str(compare["seeds"]),
        "rec_seeds": " and ".join(f"{x:.3f}" for x in compare["methods"][rec]["seed_means"]),
        "others": ", ".join(others),
        "auc": f"{judge['auc_nonempty']:.2f}",
        "verdict": (
            "**At this size order is not separable from seed noise.**"
            if g["p_value"] >= 0.05 or not compare["probe"]["recommendation"]["separable"]
            else "The recommended order's gain over joint training is significant."
        ),
        "n_labelled": str(sum(_judge_counts())),
        "timing": (
            f"probe stages of {compare['stage_steps']} GRPO steps, "
            f"{summary['n_repeats']} repeats, {compare['seeds']} seeds; "
            f"{timings['total_s'] / 60:.0f} minutes on {timings['cpu_count']} CPU cores"
        ),
    }


FOLDER = HERE / "results" / "real_lm_cpu"


def real_lm_findings() -> str:
    f = facts(FOLDER)
    return "\n".join(
        [
            (
                f"- **Does structured training lower policy entropy?** On its own prompts, after one "
                f"stage: {f['structured_entropy']} nats (mean ± standard error over repeats; starting "
                f"entropies {f['base_entropy_range']})."
            ),
            (
                f"- **Does open-ended training raise it?** On its own prompts: {f['open_entropy']}; "
                f"a change within about two standard errors of 0 is not shown. The judged tasks' "
                f"own-stage score changes are {f['open_own_gain']}, so these stages mostly sharpen the "
                "policy toward what it already writes."
            ),
            (
                f"- **Transfer.** The largest entry is {f['largest_bwt']}. {f['beyond']} of "
                f"{f['n_off']} off-diagonal entries lie beyond 2 standard errors."
            ),
            (
                f"- **Does the chosen order beat joint training?** The recommendation took the "
                f"{f['route']} route. Its order scored {f['rec_score']} against {f['joint_score']} for "
                f"joint training at equal steps ({f['rec_gain']}, p = {f['rec_p']} over "
                f"{f['seeds']} seeds); other methods: {f['others']}. The recommended order's seeds "
                f"gave {f['rec_seeds']}: seed noise is as large as the differences between methods."
            ),
        ]
    )


def readme_real_lm() -> str:
    f = facts(FOLDER)
    return (
        "- **A real LM, end to end** ([real language models](docs/real-lm.md)): "
        "SmolLM2-135M-Instruct on the offline suite (2 structured tasks, 2 judged by the same "
        f"model), {f['timing']} (`benchmarks/real_lm.py`). Structured training lowered policy "
        f"entropy on its own prompts ({f['structured_entropy']} nats); open-ended training: "
        f"{f['open_entropy']}. The largest transfer is {f['largest_bwt']}; {f['beyond']} of "
        f"{f['n_off']} BWT entries lie beyond 2 standard errors. The recommended order "
        f"({f['route']} route) scored {f['rec_score']} against {f['joint_score']} for joint "
        f"training ({f['rec_gain']}, p = {f['rec_p']}); {f['others']}; its {f['seeds']} seeds "
        f"gave {f['rec_seeds']}. {f['verdict']} The 135M judge is weak (AUC {f['auc']} on "
        f"{f['n_labelled']} labelled answers), so the open-ended numbers are about its taste."
    )


def compare_trl() -> str:
    """docs/compare.md: the tiny offline model's ``compare`` (``benchmarks/compare_trl.py``)."""
    data = _load(HERE / "results", "compare_trl.json")
    if data is None:
        return "(not run: `python benchmarks/compare_trl.py`)"
    ref, seeds, tasks = data["reference"], data["seeds"], data["tasks"]
    versus = {
        (c["method"], c["reference"]): c for c in data["comparisons"] if c["p_value"] is not None
    }
    probe = data["probe"]
    lines = [
        (
            f"{len(tasks)} tasks, {data['stage_steps']} steps per stage, {data['total_steps']} "
            f"training steps per method, {seeds} seeds; {data['elapsed_s']:.0f} s for `compare` "
            f"on the 2-core machine, including a {probe['probes']}-probe campaign "
            f"({probe['elapsed_s']:.0f} s). Raw output: `benchmarks/results/compare_trl.json`. "
            "Merging was not run, because TRL states are model directories (see above)."
        ),
        "",
        f"| method | order / schedule | mean final score (± sd, {seeds} seeds) | "
        + " | ".join(tasks)
        + f" | vs {ref} |",
        "|---|---|---|" + "---|" * len(tasks) + "---|",
    ]
    for name, m in data["methods"].items():
        score = f"{m['mean_score']:.3f} ± {m['std_score']:.3f}"
        if name == ref:
            name, score, diff = f"**{name}**", f"**{score}**", "reference"
        else:
            c = versus.get((name, ref))
            diff = (
                "-"
                if c is None
                else f"{c['gain_pct']:+.1f} % (p = {c['p_value']:.2f}"
                + (", *)" if c["significant"] else ")")
            )
        per_task = " | ".join(f"{m['per_task_mean'][t]:.3f}" for t in tasks)
        lines.append(f"| {name} | {m['description']} | {score} | {per_task} | {diff} |")
    randoms = [c for (a, b), c in versus.items() if a == "solver" and b.startswith("random")]
    if randoms:
        same = data["methods"]["solver"]["description"] == data["methods"].get("rank_rule", {}).get(
            "description"
        )
        gains = ", ".join(
            f"{c['gain_pct']:+.1f} % over {c['reference']} (p = {c['p_value']:.2f})"
            for c in randoms
        )
        lines += [
            "",
            f"The solver's order{' (here identical to the rank rule' + chr(39) + 's)' if same else ''}"
            f" is {gains}.",
        ]
    return "\n".join(lines) + "\n"


BLOCKS = {
    "compare-trl": compare_trl,
    "real-lm-results": lambda: render(FOLDER).strip(),
    "real-lm-findings": real_lm_findings,
    "readme-real-lm": readme_real_lm,
}


def main(argv=None) -> int:
    """Alias: ``python benchmarks/report.py`` regenerates every block, this page's too."""
    from report import main as report_main

    return report_main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["--check"]))
